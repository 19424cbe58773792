// Package store opens Kompas's database, SQLite (the embedded default) or
// PostgreSQL, runs the embedded migrations of every module and offers a small
// context-taking wrapper over database/sql with Transact.
//
// Modules write one set of SQL with `?` placeholders; the store rewrites them
// to `$n` for PostgreSQL. Where the dialects really differ (DDL types,
// full-text search) a module asks Dialect() and the migration runner picks a
// per-dialect file.
package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"net/url"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"sync"
	"time"

	_ "github.com/jackc/pgx/v5/stdlib" // registers the "pgx" driver
	_ "modernc.org/sqlite"             // registers the "sqlite" driver
)

// Dialect names the SQL engine behind a DB.
type Dialect int

const (
	SQLite Dialect = iota
	Postgres
)

func (d Dialect) String() string {
	if d == Postgres {
		return "postgres"
	}
	return "sqlite"
}

// DB is the database handle every module receives. On SQLite writes go
// through a pool of one connection (SQLite has one writer anyway; queuing in
// Go is cheaper than spinning on SQLITE_BUSY) and reads through a separate
// pool; on PostgreSQL both are the same pool.
type DB struct {
	dialect Dialect
	write   *sql.DB
	read    *sql.DB
	display string
	path    string // the SQLite file, for WithLock's lock files

	locksMu sync.Mutex
	locks   map[string]chan struct{} // WithLock's in-process locks
}

// Open connects to url: "sqlite:PATH" (or a bare path ending in .db) or
// "postgres://…"/"postgresql://…".
func Open(ctx context.Context, rawURL string) (*DB, error) {
	switch {
	case strings.HasPrefix(rawURL, "postgres://"), strings.HasPrefix(rawURL, "postgresql://"):
		return openPostgres(ctx, rawURL)
	case strings.HasPrefix(rawURL, "sqlite:"):
		return openSQLite(ctx, strings.TrimPrefix(strings.TrimPrefix(rawURL, "sqlite:"), "//"))
	case strings.HasSuffix(rawURL, ".db"):
		return openSQLite(ctx, rawURL)
	}
	return nil, fmt.Errorf("store: unsupported database URL %q (want sqlite:PATH or postgres://…)", redact(rawURL))
}

func openSQLite(ctx context.Context, path string) (*DB, error) {
	if path == "" {
		return nil, errors.New("store: sqlite URL has no path")
	}
	if dir := filepath.Dir(path); dir != "" {
		if err := os.MkdirAll(dir, 0o750); err != nil {
			return nil, fmt.Errorf("store: create data folder: %w", err)
		}
	}
	pragmas := "_pragma=journal_mode(WAL)&_pragma=foreign_keys(1)&_pragma=busy_timeout(10000)&_pragma=synchronous(NORMAL)&_time_format=sqlite"
	dsn := "file:" + path + "?" + pragmas
	write, err := sql.Open("sqlite", dsn+"&_txlock=immediate")
	if err != nil {
		return nil, fmt.Errorf("store: open sqlite: %w", err)
	}
	write.SetMaxOpenConns(1)
	write.SetMaxIdleConns(1)
	write.SetConnMaxLifetime(0)
	read, err := sql.Open("sqlite", dsn+"&_pragma=query_only(1)")
	if err != nil {
		write.Close()
		return nil, fmt.Errorf("store: open sqlite: %w", err)
	}
	n := max(4, runtime.NumCPU()*2)
	read.SetMaxOpenConns(n)
	read.SetMaxIdleConns(n)
	db := &DB{dialect: SQLite, write: write, read: read, display: "sqlite:" + path, path: path}
	if err := db.Ping(ctx); err != nil {
		db.Close()
		return nil, err
	}
	return db, nil
}

func openPostgres(ctx context.Context, rawURL string) (*DB, error) {
	pool, err := sql.Open("pgx", rawURL)
	if err != nil {
		return nil, fmt.Errorf("store: open postgres: %w", err)
	}
	pool.SetMaxOpenConns(max(8, runtime.NumCPU()*4))
	pool.SetMaxIdleConns(max(8, runtime.NumCPU()*4))
	pool.SetConnMaxIdleTime(5 * time.Minute)
	db := &DB{dialect: Postgres, write: pool, read: pool, display: redact(rawURL)}
	if err := db.Ping(ctx); err != nil {
		db.Close()
		return nil, err
	}
	return db, nil
}

// redact hides a password in a URL so it can be logged.
func redact(raw string) string {
	u, err := url.Parse(raw)
	if err != nil || u.User == nil {
		return raw
	}
	if _, ok := u.User.Password(); ok {
		u.User = url.UserPassword(u.User.Username(), "xxxxx")
	}
	return u.String()
}

// Dialect reports the engine.
func (db *DB) Dialect() Dialect { return db.dialect }

// String is the URL with any password hidden.
func (db *DB) String() string { return db.display }

// Ping checks that the database answers.
func (db *DB) Ping(ctx context.Context) error {
	if err := db.read.PingContext(ctx); err != nil {
		return fmt.Errorf("store: ping %s: %w", db.display, err)
	}
	return nil
}

// Close closes both pools.
func (db *DB) Close() error {
	err := db.write.Close()
	if db.read != db.write {
		err = errors.Join(err, db.read.Close())
	}
	return err
}

// Querier is what DB and Tx share, so read helpers work inside and outside a
// transaction.
type Querier interface {
	Query(ctx context.Context, query string, args ...any) (*sql.Rows, error)
	QueryRow(ctx context.Context, query string, args ...any) *sql.Row
	Exec(ctx context.Context, query string, args ...any) (sql.Result, error)
	Dialect() Dialect
}

// Query runs a read on the read pool.
func (db *DB) Query(ctx context.Context, query string, args ...any) (*sql.Rows, error) {
	return db.read.QueryContext(ctx, db.dialect.Rebind(query), args...)
}

// QueryRow runs a single-row read on the read pool.
func (db *DB) QueryRow(ctx context.Context, query string, args ...any) *sql.Row {
	return db.read.QueryRowContext(ctx, db.dialect.Rebind(query), args...)
}

// Exec runs one statement on the write pool outside a transaction. Writes
// that must be audited go through Transact instead.
func (db *DB) Exec(ctx context.Context, query string, args ...any) (sql.Result, error) {
	return db.write.ExecContext(ctx, db.dialect.Rebind(query), args...)
}

// Tx is a transaction on the write pool.
type Tx struct {
	tx      *sql.Tx
	dialect Dialect
}

// Dialect reports the engine.
func (tx *Tx) Dialect() Dialect { return tx.dialect }

// Query runs a query inside the transaction.
func (tx *Tx) Query(ctx context.Context, query string, args ...any) (*sql.Rows, error) {
	return tx.tx.QueryContext(ctx, tx.dialect.Rebind(query), args...)
}

// QueryRow runs a single-row query inside the transaction.
func (tx *Tx) QueryRow(ctx context.Context, query string, args ...any) *sql.Row {
	return tx.tx.QueryRowContext(ctx, tx.dialect.Rebind(query), args...)
}

// Exec runs a statement inside the transaction.
func (tx *Tx) Exec(ctx context.Context, query string, args ...any) (sql.Result, error) {
	return tx.tx.ExecContext(ctx, tx.dialect.Rebind(query), args...)
}

// Prepare makes a statement to run many times inside the transaction; it
// is closed when the transaction ends. (Bulk writers use it: SQLite and
// PostgreSQL then parse the statement once, not once a row.)
func (tx *Tx) Prepare(ctx context.Context, query string) (*sql.Stmt, error) {
	return tx.tx.PrepareContext(ctx, tx.dialect.Rebind(query))
}

// InsertID runs an INSERT … RETURNING id (both engines accept RETURNING) and
// gives back the new id.
func (tx *Tx) InsertID(ctx context.Context, query string, args ...any) (int64, error) {
	var id int64
	if err := tx.QueryRow(ctx, query, args...).Scan(&id); err != nil {
		return 0, err
	}
	return id, nil
}

// Transact runs fn in a write transaction, committing when fn returns nil and
// rolling back otherwise (and on panic).
func (db *DB) Transact(ctx context.Context, fn func(tx *Tx) error) (err error) {
	sqlTx, err := db.write.BeginTx(ctx, nil)
	if err != nil {
		return fmt.Errorf("store: begin: %w", err)
	}
	tx := &Tx{tx: sqlTx, dialect: db.dialect}
	defer func() {
		if p := recover(); p != nil {
			_ = sqlTx.Rollback()
			panic(p)
		}
		if err != nil {
			_ = sqlTx.Rollback()
		}
	}()
	if err = fn(tx); err != nil {
		return err
	}
	if err = sqlTx.Commit(); err != nil {
		return fmt.Errorf("store: commit: %w", err)
	}
	return nil
}

// Rebind turns `?` placeholders into `$1, $2, …` for PostgreSQL, leaving
// question marks inside quoted strings alone.
func (d Dialect) Rebind(query string) string {
	if d != Postgres || !strings.Contains(query, "?") {
		return query
	}
	var b strings.Builder
	b.Grow(len(query) + 8)
	n := 0
	var quote byte
	for i := 0; i < len(query); i++ {
		c := query[i]
		switch {
		case quote != 0:
			if c == quote {
				quote = 0
			}
		case c == '\'' || c == '"':
			quote = c
		case c == '?':
			n++
			fmt.Fprintf(&b, "$%d", n)
			continue
		}
		b.WriteByte(c)
	}
	return b.String()
}

// IsUniqueViolation reports whether err is a unique-constraint failure on
// either engine.
func IsUniqueViolation(err error) bool {
	if err == nil {
		return false
	}
	s := err.Error()
	return strings.Contains(s, "UNIQUE constraint failed") || strings.Contains(s, "SQLSTATE 23505")
}
