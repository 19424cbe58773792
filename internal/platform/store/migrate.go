package store

import (
	"context"
	"fmt"
	"io/fs"
	"sort"
	"strconv"
	"strings"
	"time"
)

// Migrations is one module's embedded migration folder. Files are named
// NNNN_what.sql for SQL both engines accept, or NNNN_what.sqlite.sql and
// NNNN_what.postgres.sql where they differ. Migrations are forward-only; each
// runs in its own transaction and is recorded in schema_migrations.
type Migrations struct {
	Module string
	FS     fs.FS
}

type migration struct {
	version int
	name    string
	sql     string
}

const migrationsTable = `CREATE TABLE IF NOT EXISTS schema_migrations (
	module TEXT NOT NULL,
	version INTEGER NOT NULL,
	name TEXT NOT NULL,
	applied_at TEXT NOT NULL,
	PRIMARY KEY (module, version)
)`

// migrationLock is the PostgreSQL advisory lock key each migration's
// transaction takes, so that it is applied once even beside a node that does
// not hold the "migrate" lock around its whole run (an older version).
const migrationLock = 0x6b6f6d70 // "komp"

// Migrate applies every pending migration of each set, in the order given.
// It returns the names it applied. The whole run holds the "migrate" lock
// (WithLock), so of nodes starting together on PostgreSQL one migrates and
// the others wait and then find the schema up to date.
func (db *DB) Migrate(ctx context.Context, sets ...Migrations) ([]string, error) {
	var applied []string
	err := db.WithLock(ctx, "migrate", func() error {
		var err error
		applied, err = db.migrate(ctx, sets)
		return err
	})
	return applied, err
}

func (db *DB) migrate(ctx context.Context, sets []Migrations) ([]string, error) {
	// On PostgreSQL, CREATE TABLE IF NOT EXISTS is not safe against a second
	// node doing the same at the same moment (it fails on pg_type's unique
	// index), so the table is created under the migration lock too.
	err := db.Transact(ctx, func(tx *Tx) error {
		if db.dialect == Postgres {
			if _, err := tx.Exec(ctx, `SELECT pg_advisory_xact_lock(?)`, migrationLock); err != nil {
				return err
			}
			// Created only when missing: an application role without
			// CREATE on the schema can then start once the owner has
			// migrated (IF NOT EXISTS still needs the privilege).
			var exists bool
			if err := tx.QueryRow(ctx, `SELECT to_regclass('schema_migrations') IS NOT NULL`).Scan(&exists); err != nil || exists {
				return err
			}
		}
		_, err := tx.Exec(ctx, migrationsTable)
		return err
	})
	if err != nil {
		return nil, fmt.Errorf("store: create schema_migrations: %w", err)
	}
	var applied []string
	for _, set := range sets {
		ms, err := db.dialect.load(set)
		if err != nil {
			return applied, err
		}
		for _, m := range ms {
			did := false
			err := db.Transact(ctx, func(tx *Tx) error {
				if db.dialect == Postgres {
					if _, err := tx.Exec(ctx, `SELECT pg_advisory_xact_lock(?)`, migrationLock); err != nil {
						return err
					}
				}
				var n int
				if err := tx.QueryRow(ctx, `SELECT COUNT(*) FROM schema_migrations WHERE module = ? AND version = ?`, set.Module, m.version).Scan(&n); err != nil {
					return err
				}
				if n > 0 {
					return nil
				}
				// A migration takes no arguments: run it as written, since
				// a ? in it (a dollar-quoted body, a jsonb operator) is SQL.
				if _, err := tx.tx.ExecContext(ctx, m.sql); err != nil {
					return err
				}
				did = true
				_, err := tx.Exec(ctx, `INSERT INTO schema_migrations (module, version, name, applied_at) VALUES (?, ?, ?, ?)`,
					set.Module, m.version, m.name, FormatTime(time.Now()))
				return err
			})
			if err != nil {
				return applied, fmt.Errorf("store: migrate %s/%s: %w", set.Module, m.name, err)
			}
			if did {
				applied = append(applied, set.Module+"/"+m.name)
			}
		}
	}
	return applied, nil
}

// load reads a set's files for this dialect, sorted by version. A version
// may have one common file or one file per dialect, not both.
func (d Dialect) load(set Migrations) ([]migration, error) {
	entries, err := fs.ReadDir(set.FS, ".")
	if err != nil {
		return nil, fmt.Errorf("store: read migrations of %s: %w", set.Module, err)
	}
	byVersion := map[int]migration{}
	// seen records, per version, the kinds of file given ("" for a common
	// file, else the dialect), over every dialect's files, so that a set is
	// refused the same way on both engines.
	seen := map[int]map[string]bool{}
	for _, e := range entries {
		name := e.Name()
		if e.IsDir() || !strings.HasSuffix(name, ".sql") {
			continue
		}
		base := strings.TrimSuffix(name, ".sql")
		kind := ""
		switch {
		case strings.HasSuffix(base, ".sqlite"):
			kind = "sqlite"
		case strings.HasSuffix(base, ".postgres"):
			kind = "postgres"
		}
		num, _, ok := strings.Cut(base, "_")
		version, err := strconv.Atoi(num)
		if !ok || err != nil || version <= 0 {
			return nil, fmt.Errorf("store: migration %s/%s: name must start with a number and _", set.Module, name)
		}
		kinds := seen[version]
		if kinds == nil {
			kinds = map[string]bool{}
			seen[version] = kinds
		}
		if kinds[kind] || (kind == "" && len(kinds) > 0) || (kind != "" && kinds[""]) {
			return nil, fmt.Errorf("store: migration %s/%s: version %d given twice", set.Module, name, version)
		}
		kinds[kind] = true
		if kind != "" && kind != d.String() {
			continue
		}
		body, err := fs.ReadFile(set.FS, name)
		if err != nil {
			return nil, err
		}
		byVersion[version] = migration{version: version, name: name, sql: string(body)}
	}
	ms := make([]migration, 0, len(byVersion))
	for _, m := range byVersion {
		ms = append(ms, m)
	}
	sort.Slice(ms, func(i, j int) bool { return ms[i].version < ms[j].version })
	return ms, nil
}

// Embedded makes a module's Migrations from the files it embeds under
// migrations/ (//go:embed migrations/*.sql), so every module declares its
// migrations in one line.
func Embedded(module string, files fs.FS) Migrations {
	sub, err := fs.Sub(files, "migrations")
	if err != nil {
		panic(fmt.Sprintf("store: %s migrations: %v", module, err)) // the embed pattern guarantees the folder
	}
	return Migrations{Module: module, FS: sub}
}
