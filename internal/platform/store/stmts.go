package store

import (
	"context"
	"database/sql"
)

// Stmts runs statements inside one transaction, preparing each one the
// second time it runs and keeping it for the rest of the transaction. Bulk
// writers use it: with the modernc driver parsing a statement costs more
// than running it, and on PostgreSQL a prepared statement skips the parse.
// A statement run once (a single API write) is not prepared at all, so it
// costs what Tx.Exec costs. The prepared statements close with the
// transaction.
type Stmts struct {
	tx       *Tx
	seen     map[string]bool // run once, unprepared
	prepared map[string]*sql.Stmt
}

// Bounds of a Stmts: statements prepared, and first runs remembered (the
// SQL of multi-row INSERTs varies with the row count).
const (
	maxPrepared = 256
	maxSeen     = 1024
)

// Stmts returns a statement cache for tx.
func (tx *Tx) Stmts() *Stmts {
	return &Stmts{tx: tx, seen: map[string]bool{}, prepared: map[string]*sql.Stmt{}}
}

// Dialect reports the engine (so a Stmts is a Querier).
func (s *Stmts) Dialect() Dialect { return s.tx.dialect }

// stmt returns query prepared, or nil when it is to run unprepared.
func (s *Stmts) stmt(ctx context.Context, query string) (*sql.Stmt, error) {
	if st, ok := s.prepared[query]; ok {
		return st, nil
	}
	if len(s.prepared) >= maxPrepared {
		return nil, nil
	}
	if !s.seen[query] {
		if len(s.seen) < maxSeen {
			s.seen[query] = true
		}
		return nil, nil
	}
	delete(s.seen, query)
	st, err := s.tx.Prepare(ctx, query)
	if err != nil {
		return nil, err
	}
	s.prepared[query] = st
	return st, nil
}

// Exec runs a statement.
func (s *Stmts) Exec(ctx context.Context, query string, args ...any) (sql.Result, error) {
	st, err := s.stmt(ctx, query)
	if err != nil {
		return nil, err
	}
	if st == nil {
		return s.tx.Exec(ctx, query, args...)
	}
	return st.ExecContext(ctx, args...)
}

// Query runs a query.
func (s *Stmts) Query(ctx context.Context, query string, args ...any) (*sql.Rows, error) {
	st, err := s.stmt(ctx, query)
	if err != nil {
		return nil, err
	}
	if st == nil {
		return s.tx.Query(ctx, query, args...)
	}
	return st.QueryContext(ctx, args...)
}

// QueryRow runs a query of one row. A failure to prepare shows as the
// row's error.
func (s *Stmts) QueryRow(ctx context.Context, query string, args ...any) *sql.Row {
	st, err := s.stmt(ctx, query)
	if err != nil || st == nil {
		return s.tx.QueryRow(ctx, query, args...)
	}
	return st.QueryRowContext(ctx, args...)
}
