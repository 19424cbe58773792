// Package audit keeps Kompas's audit log, a verifiable log in the manner of
// Certificate Transparency and the Go checksum database. Every write, every
// login and every read of personal data appends an event in the same
// transaction as the change it records. Each event carries the hash of the
// one before it (the chain), a dense leaf index (seq) and, when a key is
// configured, an Ed25519 signature over its content and a random nonce.
// Events are the leaves of an RFC 6962 Merkle tree (golang.org/x/mod's
// tlog); Sync keeps the tree's stored hashes, and a Checkpointer signs the
// tree's size and root as a signed note that others keep outside the
// database. Check proves the database still holds every event a checkpoint
// covered, unchanged, and names what is missing, altered or forged.
package audit

import (
	"context"
	"crypto/sha256"
	"database/sql"
	"embed"
	"encoding/hex"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"

	"kompas/internal/platform/store"
)

//go:embed migrations/*.sql
var migrationFiles embed.FS

// Migrations creates the audit table (append-only by trigger on both engines).
var Migrations = store.Embedded("audit", migrationFiles)

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

// Event is one audit entry. At, Seq, PrevHash, Hash, Nonce and Sig are
// filled by Append.
type Event struct {
	ID         int64
	Seq        int64 // leaf index in the Merkle tree: 0, 1, 2, … without gaps
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
	Nonce      string // hex; "" when appended without a key
	Sig        string // base64 key hash and Ed25519 signature; "" when unsigned
}

// genesis is the previous hash of the first event.
const genesis = "0000000000000000000000000000000000000000000000000000000000000000"

// chainLock serialises appends across every app node on PostgreSQL: the
// head is read and the next event written under one transaction-scoped
// advisory lock, so concurrent nodes still build one chain. On SQLite the
// write transaction (BEGIN IMMEDIATE) already serialises writers.
const chainLock = 0x61756474 // "audt"

// Append adds e to the log inside tx, signed with the key set by Configure
// (if any).
func Append(ctx context.Context, tx *store.Tx, e Event) error {
	return appendEvent(ctx, tx, e, configured.Load())
}

func appendEvent(ctx context.Context, tx *store.Tx, e Event, key *Key) error {
	if e.Action == "" || e.ObjectType == "" {
		return errors.New("audit: event needs an action and an object type")
	}
	e.At = store.Now()
	// Sign before taking the chain lock: the signature covers the content
	// and nonce, not the place in the log, so nodes sign in parallel and
	// hold the lock no longer than without a key.
	if key != nil {
		var err error
		if e.Nonce, err = newNonce(); err != nil {
			return err
		}
		if e.Sig, err = key.sign(e); err != nil {
			return err
		}
	}
	if tx.Dialect() == store.Postgres {
		if _, err := tx.Exec(ctx, `SELECT pg_advisory_xact_lock(?)`, chainLock); err != nil {
			return fmt.Errorf("audit: lock chain: %w", err)
		}
	}
	// The head is the newest row by id, the primary key, as before: under
	// the lock ids and seqs grow together, and reading by seq would cost an
	// index and a table lookup on every append. seq is UNIQUE, so two
	// appends can never share a leaf index.
	prev, seq := genesis, int64(-1)
	err := tx.QueryRow(ctx, `SELECT seq, hash FROM audit_events ORDER BY id DESC LIMIT 1`).Scan(&seq, &prev)
	if err != nil && !errors.Is(err, sql.ErrNoRows) {
		return fmt.Errorf("audit: read chain head: %w", err)
	}
	e.Seq = seq + 1
	e.PrevHash = prev
	e.Hash = e.computeHash()
	var actorID, nonce, sig any // NULL when absent
	if e.ActorID != 0 {
		actorID = e.ActorID
	}
	if key != nil {
		nonce, sig = e.Nonce, e.Sig
	}
	_, err = tx.Exec(ctx, `INSERT INTO audit_events
		(seq, at, actor_id, actor, org, action, object_type, object_id, purpose, detail, prev_hash, hash, nonce, sig)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
		e.Seq, store.FormatTime(e.At), actorID, e.Actor, e.Org, e.Action, e.ObjectType, e.ObjectID, e.Purpose, e.Detail, e.PrevHash, e.Hash, nonce, sig)
	if err != nil {
		return fmt.Errorf("audit: append: %w", err)
	}
	return nil
}

// computeHash hashes every field but the id and the hash itself, each
// length-prefixed so no two different events share an encoding. (It is the
// chain hash of the first version; seq, nonce and signature are bound by
// the leaf hash instead, so events written before them still verify.)
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
	Seq    int64 // its leaf index; -1 when it has none
	Reason string
}

func (e *BrokenLinkError) Error() string {
	return fmt.Sprintf("audit: chain broken at event %d: %s", e.ID, e.Reason)
}

// Verify walks the whole chain in leaf order and recomputes every hash. It
// returns the number of events that hold before the first bad one, and a
// *BrokenLinkError naming it (or a *TamperError for other faults Check
// finds without a key or checkpoint). Check does the full verification.
func Verify(ctx context.Context, db store.Querier) (int, error) {
	r, err := Check(ctx, db, CheckOptions{})
	if err != nil {
		return 0, err
	}
	if r.Broken != nil {
		return r.Intact, r.Broken
	}
	return r.Intact, r.Err()
}

// eventColumns are read by every query that returns whole events, in the
// order scanEvent expects.
const eventColumns = `id, seq, at, COALESCE(actor_id, 0), actor, org, action, object_type, object_id, purpose, detail, prev_hash, hash, COALESCE(nonce, ''), COALESCE(sig, '')`

// scanEvent reads one row of eventColumns. at is the stored time text
// (the leaf hashes it as stored); e.At is zero when it does not parse. A
// missing seq (a row not written by Append) reads as -1.
func scanEvent(rows interface{ Scan(...any) error }) (e Event, at string, err error) {
	var seq sql.NullInt64
	err = rows.Scan(&e.ID, &seq, &at, &e.ActorID, &e.Actor, &e.Org, &e.Action, &e.ObjectType, &e.ObjectID, &e.Purpose, &e.Detail, &e.PrevHash, &e.Hash, &e.Nonce, &e.Sig)
	e.Seq = -1
	if seq.Valid {
		e.Seq = seq.Int64
	}
	e.At, _ = store.ParseTime(at)
	return e, at, err
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
	q := `SELECT ` + eventColumns + ` FROM audit_events`
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
		e, _, err := scanEvent(rows)
		if err != nil {
			return nil, fmt.Errorf("audit: list: %w", err)
		}
		out = append(out, e)
	}
	return out, rows.Err()
}
