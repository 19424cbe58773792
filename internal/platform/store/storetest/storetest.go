// Package storetest gives tests a fresh database on each engine: a new
// SQLite file always, and a new PostgreSQL schema when KOMPAS_TEST_POSTGRES
// names a server (.ci/run sets it; elsewhere those subtests skip, saying so).
package storetest

import (
	"context"
	"crypto/rand"
	"database/sql"
	"encoding/hex"
	"net/url"
	"os"
	"path/filepath"
	"testing"

	"kompas/internal/platform/store"
)

// PostgresEnv is the variable that turns the PostgreSQL tests on.
const PostgresEnv = "KOMPAS_TEST_POSTGRES"

// Engines lists the engine names Each runs on.
var Engines = []string{"sqlite", "postgres"}

// Each runs fn once per engine, each time on a fresh, migrated database.
func Each(t *testing.T, fn func(t *testing.T, db *store.DB), sets ...store.Migrations) {
	t.Helper()
	for _, engine := range Engines {
		On(t, engine, fn, sets...)
	}
}

// On runs fn on engine alone, on a fresh, migrated database: for what only
// one engine has (PostgreSQL's TRUNCATE, roles and grants).
func On(t *testing.T, engine string, fn func(t *testing.T, db *store.DB), sets ...store.Migrations) {
	t.Helper()
	t.Run(engine, func(t *testing.T) {
		db := Open(t, engine)
		if len(sets) > 0 {
			if _, err := db.Migrate(context.Background(), sets...); err != nil {
				t.Fatalf("migrate: %v", err)
			}
		}
		fn(t, db)
	})
}

// Open returns a fresh, empty database on engine ("sqlite" or "postgres"),
// closed and removed when the test ends. The PostgreSQL case skips when
// KOMPAS_TEST_POSTGRES is unset.
func Open(t testing.TB, engine string) *store.DB {
	t.Helper()
	u := URL(t, engine)
	db, err := store.Open(context.Background(), u)
	if err != nil {
		t.Fatalf("open %s: %v", engine, err)
	}
	t.Cleanup(func() { db.Close() })
	return db
}

// URL creates a fresh database on engine and returns its URL, for tests that
// open it more than once (two server processes, the CLI).
func URL(t testing.TB, engine string) string {
	t.Helper()
	switch engine {
	case "sqlite":
		return "sqlite:" + filepath.Join(t.TempDir(), "kompas.db")
	case "postgres":
		base := os.Getenv(PostgresEnv)
		if base == "" {
			t.Skipf("PostgreSQL test skipped: set %s=postgres://user@host:port/db?sslmode=disable to run it (.ci/run does)", PostgresEnv)
		}
		return freshSchema(t, base)
	}
	t.Fatalf("unknown engine %q", engine)
	return ""
}

// freshSchema creates a schema with a random name and returns base with its
// search_path pointing there; the schema is dropped when the test ends.
func freshSchema(t testing.TB, base string) string {
	t.Helper()
	var b [6]byte
	_, _ = rand.Read(b[:])
	schema := "kt_" + hex.EncodeToString(b[:])
	admin, err := sql.Open("pgx", base)
	if err != nil {
		t.Fatalf("postgres: %v", err)
	}
	defer admin.Close()
	if _, err := admin.Exec(`CREATE SCHEMA ` + schema); err != nil {
		t.Fatalf("postgres: create schema (is %s right?): %v", PostgresEnv, err)
	}
	t.Cleanup(func() {
		admin, err := sql.Open("pgx", base)
		if err != nil {
			return
		}
		defer admin.Close()
		_, _ = admin.Exec(`DROP SCHEMA ` + schema + ` CASCADE`)
	})
	u, err := url.Parse(base)
	if err != nil {
		t.Fatalf("postgres: bad %s: %v", PostgresEnv, err)
	}
	q := u.Query()
	q.Set("search_path", schema)
	// A test database needs no durable commits. With them each commit
	// waits for its WAL flush, and the demo that most tests load commits
	// about 2,100 times (every return case step is one service call).
	if q.Get("synchronous_commit") == "" {
		q.Set("synchronous_commit", "off")
	}
	u.RawQuery = q.Encode()
	return u.String()
}
