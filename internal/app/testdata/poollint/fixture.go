// Package poollint is the pool lint's fixture: each "// want" line must be
// found, and nothing else.
package poollint

import (
	"context"

	"kompas/internal/platform/store"
)

type svc struct{ DB *store.DB }

func read(ctx context.Context, q store.Querier) error {
	_, err := q.Exec(ctx, "SELECT 1")
	return err
}

func (s *svc) viaPool(ctx context.Context) error { return read(ctx, s.DB) }

func (s *svc) deeper(ctx context.Context) error { return s.viaPool(ctx) }

func (s *svc) direct(ctx context.Context, tx *store.Tx) error {
	var n int
	return s.DB.QueryRow(ctx, "SELECT 1").Scan(&n) // want direct
}

func (s *svc) passes(ctx context.Context, tx *store.Tx) error {
	return read(ctx, s.DB) // want passes
}

func (s *svc) transitive(ctx context.Context, tx *store.Tx) error {
	return s.deeper(ctx) // want transitive
}

func (s *svc) closure(ctx context.Context) error {
	return s.DB.Transact(ctx, func(tx *store.Tx) error {
		if err := read(ctx, tx); err != nil { // fine: through tx
			return err
		}
		return s.viaPool(ctx) // want closure
	})
}

func (s *svc) fine(ctx context.Context, tx *store.Tx) error { return read(ctx, tx) }

// writer carries its transaction: its methods hold it.
type writer struct {
	s  *svc
	tx *store.Tx
}

func (w *writer) write(ctx context.Context) error {
	return w.s.viaPool(ctx) // want carried
}
