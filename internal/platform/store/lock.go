package store

import (
	"context"
	"database/sql/driver"
	"errors"
	"fmt"
	"os"
	"syscall"
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
// On SQLite it is an exclusive lock (flock) on a file beside the database,
// <file>.<name>.lock, so it serialises every process using that file too:
// a demo load runs many transactions, and SQLite's one writer serialises
// only each of them.
func (db *DB) WithLock(ctx context.Context, name string, fn func() error) error {
	local := db.localLock(name)
	select {
	case local <- struct{}{}:
	case <-ctx.Done():
		return fmt.Errorf("store: lock %s: %w", name, ctx.Err())
	}
	defer func() { <-local }()
	if db.dialect != Postgres {
		unlock, err := lockFile(ctx, db.path+"."+name+".lock")
		if err != nil {
			return fmt.Errorf("store: lock %s: %w", name, err)
		}
		defer unlock()
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

// lockFile takes an exclusive flock on path (created if need be), waiting
// for it as long as ctx allows, and returns its release.
func lockFile(ctx context.Context, path string) (func(), error) {
	f, err := os.OpenFile(path, os.O_RDWR|os.O_CREATE, 0o600)
	if err != nil {
		return nil, err
	}
	for {
		err := syscall.Flock(int(f.Fd()), syscall.LOCK_EX|syscall.LOCK_NB)
		if err == nil {
			return func() {
				_ = syscall.Flock(int(f.Fd()), syscall.LOCK_UN)
				f.Close()
			}, nil
		}
		if !errors.Is(err, syscall.EWOULDBLOCK) {
			f.Close()
			return nil, err
		}
		select {
		case <-ctx.Done():
			f.Close()
			return nil, ctx.Err()
		case <-time.After(20 * time.Millisecond):
		}
	}
}
