package iati

import (
	"context"

	"kompas/internal/platform/auth"
	"kompas/internal/platform/store"
	"kompas/internal/programmes"
)

// Register is what this module needs of the programme register: its access
// rules, its write path, and reads for the export and the review of
// suggestions. internal/app adapts the register's service to it. The
// register's data types (programmes.Input, Initiative and their parts) are
// what an activity maps to.
type Register interface {
	// MayCreate reports whether p may add initiatives (and so import).
	MayCreate(p *auth.Principal) bool
	// MayEdit reports whether p may change it.
	MayEdit(p *auth.Principal, it *programmes.Initiative) bool
	// Writer is the register's write path inside tx, acting as p.
	Writer(ctx context.Context, tx *store.Tx, p *auth.Principal) (Writer, error)
	// ChangeObjectives adds and removes objectives of initiative id inside
	// tx as an ordinary versioned, audited update; it reports whether
	// anything changed.
	ChangeObjectives(ctx context.Context, tx *store.Tx, p *auth.Principal, id int64, add, remove []int) (bool, error)
	// ExportPage returns up to limit initiatives with an id above afterID,
	// in id order.
	ExportPage(ctx context.Context, afterID int64, limit int) ([]*programmes.Initiative, error)
	// GetMany reads the initiatives with the given ids (those that exist).
	GetMany(ctx context.Context, ids []int64) (map[int64]*programmes.Initiative, error)
}

// Writer writes activities as initiatives inside one transaction.
type Writer interface {
	// Find returns the initiative with the IATI identifier iatiID, or nil.
	Find(ctx context.Context, iatiID string) (*programmes.Initiative, error)
	// Get returns initiative id (fault.ErrNotFound when there is none).
	Get(ctx context.Context, id int64) (*programmes.Initiative, error)
	// Upsert creates the initiative (cur nil) or updates cur, unless
	// nothing would change, deciding everything before it writes. before,
	// when not nil, runs first, in one savepoint with the write, and is
	// undone with it when the register refuses the activity (a 4xx, which
	// names the fields).
	Upsert(ctx context.Context, cur *programmes.Initiative, iatiID string, in programmes.Input, before func(context.Context) error) (Outcome, int64, error)
	// Flush writes what the writer holds back; it runs before the commit.
	Flush(ctx context.Context) error
}

// Outcome is what Upsert did with an activity.
type Outcome int

// Outcomes of Writer.Upsert.
const (
	Created Outcome = iota + 1
	Updated
	Unchanged
)
