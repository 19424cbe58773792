package storetest_test

import (
	"context"
	"database/sql"
	"net/url"
	"os"
	"strings"
	"testing"
	"testing/fstest"

	"kompas/internal/platform/store"
	"kompas/internal/platform/store/storetest"
)

func TestURL(t *testing.T) {
	tests := []struct {
		engine     string
		wantPrefix string
	}{
		{"sqlite", "sqlite:"},
		{"postgres", "postgres"},
	}
	for _, tt := range tests {
		t.Run(tt.engine, func(t *testing.T) {
			a, b := storetest.URL(t, tt.engine), storetest.URL(t, tt.engine)
			if !strings.HasPrefix(a, tt.wantPrefix) {
				t.Errorf("URL = %q, want prefix %q", a, tt.wantPrefix)
			}
			if a == b {
				t.Errorf("two calls gave the same database %q", a)
			}
		})
	}
}

// TestOpenIsFresh checks that each Open is a database of its own.
func TestOpenIsFresh(t *testing.T) {
	for _, engine := range storetest.Engines {
		t.Run(engine, func(t *testing.T) {
			ctx := context.Background()
			a := storetest.Open(t, engine)
			b := storetest.Open(t, engine)
			if _, err := a.Exec(ctx, `CREATE TABLE only_in_a (id INTEGER)`); err != nil {
				t.Fatal(err)
			}
			var n int
			if err := b.QueryRow(ctx, `SELECT COUNT(*) FROM only_in_a`).Scan(&n); err == nil {
				t.Error("a table made in one test database is visible in another")
			}
			if want := map[string]store.Dialect{"sqlite": store.SQLite, "postgres": store.Postgres}[engine]; a.Dialect() != want {
				t.Errorf("dialect = %v, want %v", a.Dialect(), want)
			}
		})
	}
}

func TestEachRunsEveryEngineMigrated(t *testing.T) {
	set := store.Migrations{Module: "st", FS: fstest.MapFS{
		"0001_t.sql": &fstest.MapFile{Data: []byte(`CREATE TABLE st_table (id INTEGER); INSERT INTO st_table (id) VALUES (1);`)},
	}}
	var ran []store.Dialect
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		ran = append(ran, db.Dialect())
		var n int
		if err := db.QueryRow(context.Background(), `SELECT COUNT(*) FROM st_table`).Scan(&n); err != nil || n != 1 {
			t.Errorf("migrated table holds %d rows, %v", n, err)
		}
	}, set)
	want := 1
	if os.Getenv(storetest.PostgresEnv) != "" {
		want = 2
	}
	if len(ran) != want {
		t.Errorf("Each ran on %v, want %d engines", ran, want)
	}
}

// TestPostgresSchemaDropped checks that a test's schema is gone after it.
func TestPostgresSchemaDropped(t *testing.T) {
	base := os.Getenv(storetest.PostgresEnv)
	if base == "" {
		t.Skipf("PostgreSQL test skipped: set %s to run it", storetest.PostgresEnv)
	}
	var schema string
	t.Run("inner", func(t *testing.T) {
		u, err := url.Parse(storetest.URL(t, "postgres"))
		if err != nil {
			t.Fatal(err)
		}
		schema = u.Query().Get("search_path")
		if !strings.HasPrefix(schema, "kt_") {
			t.Fatalf("search_path = %q, want a kt_ schema", schema)
		}
	})
	admin, err := sql.Open("pgx", base)
	if err != nil {
		t.Fatal(err)
	}
	defer admin.Close()
	var n int
	if err := admin.QueryRow(`SELECT COUNT(*) FROM pg_namespace WHERE nspname = $1`, schema).Scan(&n); err != nil {
		t.Fatal(err)
	}
	if n != 0 {
		t.Errorf("schema %s still exists after its test", schema)
	}
}
