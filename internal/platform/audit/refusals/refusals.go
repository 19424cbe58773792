// Package refusals audits refused requests for personal data. A route
// declared web.Personal reports each 403 and 404 it gives a signed-in
// caller; Recorder.Record appends a "denied" event naming the caller, the
// object type and the id asked for, so that an IDOR probe on return cases
// leaves a trace the privacy officer sees.
//
// A probe must not flood the log: per actor and object type, at most Limit
// refusals a Window are recorded one by one; the rest are counted and
// recorded as one summary event ("90 further refusals suppressed …") on the
// actor's next refusal after the window, or when Flush runs (the audit page
// calls it). The counter is a row in the database, locked while it is
// changed, so the limit holds across nodes.
package refusals

import (
	"context"
	"database/sql"
	"embed"
	"errors"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"kompas/internal/platform/audit"
	"kompas/internal/platform/auth"
	"kompas/internal/platform/store"
	"kompas/internal/platform/web"
)

//go:embed migrations/*.sql
var migrationFiles embed.FS

// Migrations creates the table of rate-limit windows.
var Migrations = store.Embedded("refusals", migrationFiles)

// Defaults of the rate limit.
const (
	DefaultLimit  = 10
	DefaultWindow = time.Minute
)

// Recorder appends refused requests to the audit log.
type Recorder struct {
	DB *store.DB
	// Limit is how many refusals a window records one by one per actor and
	// object type; 0 means DefaultLimit.
	Limit int
	// Window is the length of a window; 0 means DefaultWindow.
	Window time.Duration
	// Now is the clock; nil means store.Now. Tests set it to move time.
	Now func() time.Time
}

// Rate says the limit in words, "10 in a minute", for the audit page.
func (rc *Recorder) Rate() string {
	return fmt.Sprintf("%d in %s", rc.limit(), words(rc.window()))
}

func (rc *Recorder) limit() int {
	if rc != nil && rc.Limit > 0 {
		return rc.Limit
	}
	return DefaultLimit
}

func (rc *Recorder) window() time.Duration {
	if rc != nil && rc.Window > 0 {
		return rc.Window
	}
	return DefaultWindow
}

func (rc *Recorder) now() time.Time {
	if rc.Now != nil {
		return rc.Now().UTC().Truncate(time.Microsecond)
	}
	return store.Now()
}

// Record is the web.Server's OnRefusal hook: it audits ref for the
// signed-in caller of r (a caller who is not signed in got a 401, not a
// refusal). It runs in its own transaction, since the request's failed, and
// goes on when the client has gone. An error is logged; the caller already
// has its answer.
func (rc *Recorder) Record(r *http.Request, ref web.Refusal) {
	p := auth.FromContext(r.Context())
	if p == nil {
		return
	}
	ctx := context.WithoutCancel(r.Context())
	detail := fmt.Sprintf("refused with %d %s: %s %s", ref.Status, http.StatusText(ref.Status), r.Method, clean(r.URL.EscapedPath(), 200))
	if err := rc.record(ctx, p, ref.ObjectType, clean(ref.ObjectID, 64), detail); err != nil {
		web.Logger(ctx).Error("refusal not audited", "object_type", ref.ObjectType, "err", err)
	}
}

// clean makes text from a request fit for the log: valid UTF-8 without NUL
// (PostgreSQL's text takes neither), at most n characters.
func clean(s string, n int) string {
	s = strings.ReplaceAll(strings.ToValidUTF8(s, "?"), "\x00", "?")
	if utf8.RuneCountInString(s) > n {
		s = string([]rune(s)[:n]) + "…"
	}
	return s
}

type window struct {
	actor, org           string
	started, last        time.Time
	recorded, suppressed int
}

func (rc *Recorder) record(ctx context.Context, p *auth.Principal, objectType, objectID, detail string) error {
	now := rc.now()
	return rc.DB.Transact(ctx, func(tx *store.Tx) error {
		if _, err := tx.Exec(ctx, `INSERT INTO audit_refusal_windows (actor_id, object_type, actor, org, started_at, last_at, recorded, suppressed)
			VALUES (?, ?, ?, ?, ?, ?, 0, 0) ON CONFLICT (actor_id, object_type) DO NOTHING`,
			p.UserID, objectType, p.Email, p.OrgSlug, store.FormatTime(now), store.FormatTime(now)); err != nil {
			return fmt.Errorf("refusals: window: %w", err)
		}
		w, err := lockWindow(ctx, tx, p.UserID, objectType)
		if err != nil {
			return err
		}
		event := p.Event(audit.ActionDenied, objectType, objectID, "", detail)
		switch {
		case now.Sub(w.started) >= rc.window():
			if err := rc.summarise(ctx, tx, p.UserID, objectType, w); err != nil {
				return err
			}
			if _, err := tx.Exec(ctx, `UPDATE audit_refusal_windows SET actor = ?, org = ?, started_at = ?, last_at = ?, recorded = 1, suppressed = 0
				WHERE actor_id = ? AND object_type = ?`, p.Email, p.OrgSlug, store.FormatTime(now), store.FormatTime(now), p.UserID, objectType); err != nil {
				return fmt.Errorf("refusals: window: %w", err)
			}
			return audit.Append(ctx, tx, event)
		case w.recorded < rc.limit():
			if _, err := tx.Exec(ctx, `UPDATE audit_refusal_windows SET recorded = recorded + 1, last_at = ? WHERE actor_id = ? AND object_type = ?`,
				store.FormatTime(now), p.UserID, objectType); err != nil {
				return fmt.Errorf("refusals: window: %w", err)
			}
			return audit.Append(ctx, tx, event)
		default:
			_, err := tx.Exec(ctx, `UPDATE audit_refusal_windows SET suppressed = suppressed + 1, last_at = ? WHERE actor_id = ? AND object_type = ?`,
				store.FormatTime(now), p.UserID, objectType)
			if err != nil {
				return fmt.Errorf("refusals: window: %w", err)
			}
			return nil
		}
	})
}

// lockWindow reads a window, locking its row on PostgreSQL (SQLite's one
// writer already serialises the transaction).
func lockWindow(ctx context.Context, tx *store.Tx, actorID int64, objectType string) (window, error) {
	q := `SELECT actor, org, started_at, last_at, recorded, suppressed FROM audit_refusal_windows WHERE actor_id = ? AND object_type = ?`
	if tx.Dialect() == store.Postgres {
		q += ` FOR UPDATE`
	}
	var w window
	var started, last string
	err := tx.QueryRow(ctx, q, actorID, objectType).Scan(&w.actor, &w.org, &started, &last, &w.recorded, &w.suppressed)
	if err != nil {
		return w, fmt.Errorf("refusals: window: %w", err)
	}
	if w.started, err = store.ParseTime(started); err != nil {
		return w, fmt.Errorf("refusals: window: %w", err)
	}
	if w.last, err = store.ParseTime(last); err != nil {
		return w, fmt.Errorf("refusals: window: %w", err)
	}
	return w, nil
}

// summarise appends the summary of w's suppressed refusals, if any.
func (rc *Recorder) summarise(ctx context.Context, tx *store.Tx, actorID int64, objectType string, w window) error {
	if w.suppressed == 0 {
		return nil
	}
	const layout = "2006-01-02 15:04:05"
	detail := fmt.Sprintf("%d further refusals suppressed from %s to %s UTC (at most %d in %s are recorded one by one)",
		w.suppressed, w.started.Format(layout), w.last.Format(layout), rc.limit(), words(rc.window()))
	return audit.Append(ctx, tx, audit.Event{ActorID: actorID, Actor: w.actor, Org: w.org, Action: audit.ActionDenied, ObjectType: objectType, Detail: detail})
}

func words(d time.Duration) string {
	switch {
	case d == time.Minute:
		return "a minute"
	case d%time.Minute == 0:
		return strconv.Itoa(int(d/time.Minute)) + " minutes"
	}
	return d.String()
}

// Flush writes the summary of every window that has ended with refusals
// still only counted, each in its own transaction. It returns how many it
// wrote.
func (rc *Recorder) Flush(ctx context.Context) (int, error) {
	cutoff := store.FormatTime(rc.now().Add(-rc.window()))
	rows, err := rc.DB.Query(ctx, `SELECT actor_id, object_type FROM audit_refusal_windows WHERE suppressed > 0 AND started_at <= ? ORDER BY actor_id, object_type`, cutoff)
	if err != nil {
		return 0, fmt.Errorf("refusals: flush: %w", err)
	}
	type key struct {
		actorID    int64
		objectType string
	}
	var pending []key
	for rows.Next() {
		var k key
		if err := rows.Scan(&k.actorID, &k.objectType); err != nil {
			rows.Close()
			return 0, fmt.Errorf("refusals: flush: %w", err)
		}
		pending = append(pending, k)
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return 0, fmt.Errorf("refusals: flush: %w", err)
	}
	n := 0
	for _, k := range pending {
		err := rc.DB.Transact(ctx, func(tx *store.Tx) error {
			w, err := lockWindow(ctx, tx, k.actorID, k.objectType)
			if errors.Is(err, sql.ErrNoRows) {
				return nil
			}
			if err != nil {
				return err
			}
			// Another node (or the actor's next refusal) may have got here first.
			if w.suppressed == 0 || rc.now().Sub(w.started) < rc.window() {
				return nil
			}
			if err := rc.summarise(ctx, tx, k.actorID, k.objectType, w); err != nil {
				return err
			}
			n++
			_, err = tx.Exec(ctx, `UPDATE audit_refusal_windows SET suppressed = 0 WHERE actor_id = ? AND object_type = ?`, k.actorID, k.objectType)
			return err
		})
		if err != nil {
			return n, fmt.Errorf("refusals: flush: %w", err)
		}
	}
	return n, nil
}

// List returns refused-request events (action denied) newest first,
// filtered as audit.List filters. audit.List has no filter by action.
func List(ctx context.Context, db store.Querier, f audit.Filter) ([]audit.Event, error) {
	where := []string{"action = ?"}
	args := []any{audit.ActionDenied}
	for _, c := range []struct {
		col string
		val string
	}{{"object_type", f.ObjectType}, {"object_id", f.ObjectID}, {"actor", f.Actor}} {
		if c.val != "" {
			where = append(where, c.col+" = ?")
			args = append(args, c.val)
		}
	}
	if f.BeforeID > 0 {
		where = append(where, "id < ?")
		args = append(args, f.BeforeID)
	}
	if f.Limit <= 0 || f.Limit > 500 {
		f.Limit = 100
	}
	rows, err := db.Query(ctx, `SELECT id, at, COALESCE(actor_id, 0), actor, org, action, object_type, object_id, purpose, detail, prev_hash, hash
		FROM audit_events WHERE `+strings.Join(where, " AND ")+` ORDER BY id DESC LIMIT `+strconv.Itoa(f.Limit), args...)
	if err != nil {
		return nil, fmt.Errorf("refusals: list: %w", err)
	}
	defer rows.Close()
	var out []audit.Event
	for rows.Next() {
		var e audit.Event
		var at string
		if err := rows.Scan(&e.ID, &at, &e.ActorID, &e.Actor, &e.Org, &e.Action, &e.ObjectType, &e.ObjectID, &e.Purpose, &e.Detail, &e.PrevHash, &e.Hash); err != nil {
			return nil, fmt.Errorf("refusals: list: %w", err)
		}
		e.At, _ = store.ParseTime(at)
		out = append(out, e)
	}
	return out, rows.Err()
}
