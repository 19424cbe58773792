package store

import (
	"context"
	"database/sql/driver"
	"fmt"
	"time"
)

// WithLock runs fn while holding the lock called name, so that work which
// reads what is there and then adds what is missing (migrations, the demo
// data) is done by one holder at a time.
//
// On PostgreSQL the lock is a session-level advisory lock, held on a
// connection of its own for as long as fn runs, so it serialises every
// process using the database; it is per schema (nodes of two installations
// in one database do not wait for each other). fn uses the pool as usual.
//
// On SQLite it serialises the callers of this DB only. Across processes
// SQLite's one writer already serialises each write transaction
// (BEGIN IMMEDIATE), so fn must check what it writes inside the transaction
// that writes it; it then stays correct however processes interleave.
func (db *DB) WithLock(ctx context.Context, name string, fn func() error) error {
	local := db.localLock(name)
	select {
	case local <- struct{}{}:
	case <-ctx.Done():
		return fmt.Errorf("store: lock %s: %w", name, ctx.Err())
	}
	defer func() { <-local }()
	if db.dialect != Postgres {
		return fn()
	}
	conn, err := db.write.Conn(ctx)
	if err != nil {
		return fmt.Errorf("store: lock %s: %w", name, err)
	}
	defer conn.Close()
	// Two int4 keys: the lock's name and the schema. COALESCE, because
	// pg_advisory_lock is strict: with a NULL key it returns at once
	// without locking anything.
	const key = `hashtext(?), hashtext(COALESCE(current_schema(), ''))`
	if _, err := conn.ExecContext(ctx, Postgres.Rebind(`SELECT pg_advisory_lock(`+key+`)`), "kompas:"+name); err != nil {
		return fmt.Errorf("store: lock %s: %w", name, err)
	}
	defer func() {
		// Unlock even when ctx has ended; if that fails, the connection
		// is discarded rather than returned to the pool still holding the
		// lock (closing the session releases it).
		unlockCtx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 10*time.Second)
		defer cancel()
		if _, err := conn.ExecContext(unlockCtx, Postgres.Rebind(`SELECT pg_advisory_unlock(`+key+`)`), "kompas:"+name); err != nil {
			_ = conn.Raw(func(any) error { return driver.ErrBadConn })
		}
	}()
	return fn()
}

// localLock returns the in-process lock called name: a channel holding one
// token while it is taken, so that waiting for it heeds ctx.
func (db *DB) localLock(name string) chan struct{} {
	db.locksMu.Lock()
	defer db.locksMu.Unlock()
	if db.locks == nil {
		db.locks = map[string]chan struct{}{}
	}
	l, ok := db.locks[name]
	if !ok {
		l = make(chan struct{}, 1)
		db.locks[name] = l
	}
	return l
}
