// Package audit keeps Kompas's append-only, hash-chained audit log. Every
// write, every login and every read of personal data appends an event in the
// same transaction as the change it records; each event carries the hash of
// the one before it, so an edited or removed row breaks the chain and Verify
// names the first broken event.
package audit

import (
	"context"
	"crypto/sha256"
	"database/sql"
	"embed"
	"encoding/hex"
	"errors"
	"fmt"
	"io/fs"
	"strconv"
	"strings"
	"time"

	"kompas/internal/platform/store"
)

//go:embed migrations/*.sql
var migrationFiles embed.FS

// Migrations creates the audit table (append-only by trigger on both engines).
var Migrations = store.Migrations{Module: "audit", FS: mustSub(migrationFiles, "migrations")}

func mustSub(f fs.FS, dir string) fs.FS {
	sub, err := fs.Sub(f, dir)
	if err != nil {
		panic(err)
	}
	return sub
}

// Actions used across modules. Modules may use their own verbs too.
const (
	ActionCreate      = "create"
	ActionUpdate      = "update"
	ActionDelete      = "delete"
	ActionRead        = "read"
	ActionLogin       = "login"
	ActionLoginFailed = "login-failed"
	ActionLogout      = "logout"
	ActionImport      = "import"
	ActionExport      = "export"
	ActionDenied      = "denied" // a refused (403 or 404) request for personal data
)

// Event is one audit entry. At, PrevHash and Hash are filled by Append.
type Event struct {
	ID         int64
	At         time.Time
	ActorID    int64 // 0 when there is no signed-in actor (a failed login, the system)
	Actor      string
	Org        string
	Action     string
	ObjectType string
	ObjectID   string
	Purpose    string
	Detail     string
	PrevHash   string
	Hash       string
}

// genesis is the previous hash of the first event.
const genesis = "0000000000000000000000000000000000000000000000000000000000000000"

// chainLock serialises appends across every app node on PostgreSQL: the
// head is read and the next event written under one transaction-scoped
// advisory lock, so concurrent nodes still build one chain. On SQLite the
// write transaction (BEGIN IMMEDIATE) already serialises writers.
const chainLock = 0x61756474 // "audt"

// Append adds e to the chain inside tx.
func Append(ctx context.Context, tx *store.Tx, e Event) error {
	if e.Action == "" || e.ObjectType == "" {
		return errors.New("audit: event needs an action and an object type")
	}
	if tx.Dialect() == store.Postgres {
		if _, err := tx.Exec(ctx, `SELECT pg_advisory_xact_lock(?)`, chainLock); err != nil {
			return fmt.Errorf("audit: lock chain: %w", err)
		}
	}
	prev := genesis
	err := tx.QueryRow(ctx, `SELECT hash FROM audit_events ORDER BY id DESC LIMIT 1`).Scan(&prev)
	if err != nil && !errors.Is(err, sql.ErrNoRows) {
		return fmt.Errorf("audit: read chain head: %w", err)
	}
	e.At = store.Now()
	e.PrevHash = prev
	e.Hash = e.computeHash()
	var actorID any
	if e.ActorID != 0 {
		actorID = e.ActorID
	}
	_, err = tx.Exec(ctx, `INSERT INTO audit_events
		(at, actor_id, actor, org, action, object_type, object_id, purpose, detail, prev_hash, hash)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
		store.FormatTime(e.At), actorID, e.Actor, e.Org, e.Action, e.ObjectType, e.ObjectID, e.Purpose, e.Detail, e.PrevHash, e.Hash)
	if err != nil {
		return fmt.Errorf("audit: append: %w", err)
	}
	return nil
}

// computeHash hashes every field but the id and the hash itself, each
// length-prefixed so no two different events share an encoding.
func (e Event) computeHash() string {
	h := sha256.New()
	for _, f := range []string{
		e.PrevHash, store.FormatTime(e.At), strconv.FormatInt(e.ActorID, 10), e.Actor, e.Org,
		e.Action, e.ObjectType, e.ObjectID, e.Purpose, e.Detail,
	} {
		fmt.Fprintf(h, "%d:%s;", len(f), f)
	}
	return hex.EncodeToString(h.Sum(nil))
}

// BrokenLinkError names the first event whose hash or link does not hold.
type BrokenLinkError struct {
	ID     int64
	Reason string
}

func (e *BrokenLinkError) Error() string {
	return fmt.Sprintf("audit: chain broken at event %d: %s", e.ID, e.Reason)
}

// Verify walks the whole chain in order and recomputes every hash. It
// returns the number of events checked, and a *BrokenLinkError for the first
// bad one.
func Verify(ctx context.Context, db store.Querier) (int, error) {
	rows, err := db.Query(ctx, `SELECT id, at, COALESCE(actor_id, 0), actor, org, action, object_type, object_id, purpose, detail, prev_hash, hash
		FROM audit_events ORDER BY id`)
	if err != nil {
		return 0, fmt.Errorf("audit: verify: %w", err)
	}
	defer rows.Close()
	prev := genesis
	n := 0
	for rows.Next() {
		var e Event
		var at string
		if err := rows.Scan(&e.ID, &at, &e.ActorID, &e.Actor, &e.Org, &e.Action, &e.ObjectType, &e.ObjectID, &e.Purpose, &e.Detail, &e.PrevHash, &e.Hash); err != nil {
			return n, fmt.Errorf("audit: verify: %w", err)
		}
		e.At, err = store.ParseTime(at)
		if err != nil {
			return n, &BrokenLinkError{ID: e.ID, Reason: "unreadable time " + strconv.Quote(at)}
		}
		if e.PrevHash != prev {
			return n, &BrokenLinkError{ID: e.ID, Reason: "previous hash does not match the event before it (an event was removed or reordered)"}
		}
		if got := e.computeHash(); got != e.Hash {
			return n, &BrokenLinkError{ID: e.ID, Reason: "hash does not match the event's content (the event was altered)"}
		}
		prev = e.Hash
		n++
	}
	if err := rows.Err(); err != nil {
		return n, fmt.Errorf("audit: verify: %w", err)
	}
	return n, nil
}

// Filter selects events for the audit page.
type Filter struct {
	ObjectType, ObjectID, Actor string
	Limit                       int
	BeforeID                    int64
}

// List returns events newest first.
func List(ctx context.Context, db store.Querier, f Filter) ([]Event, error) {
	var where []string
	var args []any
	if f.ObjectType != "" {
		where = append(where, "object_type = ?")
		args = append(args, f.ObjectType)
	}
	if f.ObjectID != "" {
		where = append(where, "object_id = ?")
		args = append(args, f.ObjectID)
	}
	if f.Actor != "" {
		where = append(where, "actor = ?")
		args = append(args, f.Actor)
	}
	if f.BeforeID > 0 {
		where = append(where, "id < ?")
		args = append(args, f.BeforeID)
	}
	if f.Limit <= 0 || f.Limit > 500 {
		f.Limit = 100
	}
	q := `SELECT id, at, COALESCE(actor_id, 0), actor, org, action, object_type, object_id, purpose, detail, prev_hash, hash FROM audit_events`
	if len(where) > 0 {
		q += " WHERE " + strings.Join(where, " AND ")
	}
	q += " ORDER BY id DESC LIMIT " + strconv.Itoa(f.Limit)
	rows, err := db.Query(ctx, q, args...)
	if err != nil {
		return nil, fmt.Errorf("audit: list: %w", err)
	}
	defer rows.Close()
	var out []Event
	for rows.Next() {
		var e Event
		var at string
		if err := rows.Scan(&e.ID, &at, &e.ActorID, &e.Actor, &e.Org, &e.Action, &e.ObjectType, &e.ObjectID, &e.Purpose, &e.Detail, &e.PrevHash, &e.Hash); err != nil {
			return nil, fmt.Errorf("audit: list: %w", err)
		}
		e.At, _ = store.ParseTime(at)
		out = append(out, e)
	}
	return out, rows.Err()
}
