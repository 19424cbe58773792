package store_test

import (
	"context"
	"errors"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"kompas/internal/platform/store"
	"kompas/internal/platform/store/storetest"
)

// handles opens n handles on one fresh database of engine: on PostgreSQL n
// separate pools, as n processes would have; on SQLite one, shared (WithLock
// serialises within a process there).
func handles(t *testing.T, engine string, n int) []*store.DB {
	t.Helper()
	u := storetest.URL(t, engine)
	out := make([]*store.DB, n)
	for i := range out {
		if engine == "sqlite" && i > 0 {
			out[i] = out[0]
			continue
		}
		db, err := store.Open(context.Background(), u)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { db.Close() })
		out[i] = db
	}
	return out
}

func TestWithLockSerialises(t *testing.T) {
	for _, engine := range storetest.Engines {
		t.Run(engine, func(t *testing.T) {
			const holders = 4
			dbs := handles(t, engine, holders)
			var inside, most, runs atomic.Int32
			var wg sync.WaitGroup
			start := make(chan struct{})
			for _, db := range dbs {
				wg.Go(func() {
					<-start
					err := db.WithLock(context.Background(), "test", func() error {
						n := inside.Add(1)
						for {
							m := most.Load()
							if n <= m || most.CompareAndSwap(m, n) {
								break
							}
						}
						time.Sleep(30 * time.Millisecond)
						runs.Add(1)
						inside.Add(-1)
						return nil
					})
					if err != nil {
						t.Error(err)
					}
				})
			}
			close(start)
			wg.Wait()
			if runs.Load() != holders || most.Load() != 1 {
				t.Errorf("%d runs, at most %d at once; want %d runs, one at a time", runs.Load(), most.Load(), holders)
			}
		})
	}
}

func TestWithLockReleases(t *testing.T) {
	for _, engine := range storetest.Engines {
		t.Run(engine, func(t *testing.T) {
			dbs := handles(t, engine, 2)
			ctx := context.Background()
			boom := errors.New("boom")
			if err := dbs[0].WithLock(ctx, "test", func() error { return boom }); !errors.Is(err, boom) {
				t.Errorf("fn's error came back as %v", err)
			}
			func() {
				defer func() { _ = recover() }()
				_ = dbs[0].WithLock(ctx, "test", func() error { panic("boom") })
			}()
			// After an error and a panic the lock is free, for this handle and
			// the other.
			for i, db := range dbs {
				ran := false
				wait, cancel := context.WithTimeout(ctx, 5*time.Second)
				err := db.WithLock(wait, "test", func() error { ran = true; return nil })
				cancel()
				if err != nil || !ran {
					t.Errorf("handle %d: lock not free again: ran=%v %v", i, ran, err)
				}
			}
		})
	}
}

// TestWithLockWaitHeedsContext: a caller waiting for a held lock gives up
// when its context ends; other names are not held.
func TestWithLockWaitHeedsContext(t *testing.T) {
	for _, engine := range storetest.Engines {
		t.Run(engine, func(t *testing.T) {
			dbs := handles(t, engine, 2)
			ctx := context.Background()
			held, release := make(chan struct{}), make(chan struct{})
			done := make(chan error, 1)
			go func() {
				done <- dbs[0].WithLock(ctx, "test", func() error {
					close(held)
					<-release
					return nil
				})
			}()
			<-held
			wait, cancel := context.WithTimeout(ctx, 200*time.Millisecond)
			err := dbs[1].WithLock(wait, "test", func() error { t.Error("ran while the lock was held"); return nil })
			cancel()
			if !errors.Is(err, context.DeadlineExceeded) {
				t.Errorf("waiting for a held lock: %v, want the deadline", err)
			}
			other := false
			if err := dbs[1].WithLock(ctx, "other", func() error { other = true; return nil }); err != nil || !other {
				t.Errorf("another lock name: ran=%v %v", other, err)
			}
			close(release)
			if err := <-done; err != nil {
				t.Error(err)
			}
		})
	}
}

// TestWithLockPerSchema: two installations in one PostgreSQL database (two
// schemas) do not wait for each other.
func TestWithLockPerSchema(t *testing.T) {
	a, b := storetest.Open(t, "postgres"), storetest.Open(t, "postgres")
	ctx := context.Background()
	err := a.WithLock(ctx, "test", func() error {
		wait, cancel := context.WithTimeout(ctx, 5*time.Second)
		defer cancel()
		ran := false
		err := b.WithLock(wait, "test", func() error { ran = true; return nil })
		if err != nil || !ran {
			t.Errorf("the other schema's lock: ran=%v %v", ran, err)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
}
