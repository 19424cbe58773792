package store_test

import (
	"context"
	"fmt"
	"os"
	"slices"
	"strings"
	"sync"
	"testing"
	"testing/fstest"

	"kompas/internal/platform/store"
	"kompas/internal/platform/store/storetest"
)

func file(s string) *fstest.MapFile { return &fstest.MapFile{Data: []byte(s)} }

type record struct {
	Module  string
	Version int
	Name    string
}

func recorded(t *testing.T, db *store.DB) []record {
	t.Helper()
	rows, err := db.Query(context.Background(), `SELECT module, version, name, applied_at FROM schema_migrations ORDER BY module, version`)
	if err != nil {
		t.Fatalf("read schema_migrations: %v", err)
	}
	defer rows.Close()
	var out []record
	for rows.Next() {
		var r record
		var at string
		if err := rows.Scan(&r.Module, &r.Version, &r.Name, &at); err != nil {
			t.Fatal(err)
		}
		if _, err := store.ParseTime(at); err != nil {
			t.Errorf("applied_at %q: %v", at, err)
		}
		out = append(out, r)
	}
	if err := rows.Err(); err != nil {
		t.Fatal(err)
	}
	return out
}

func tableExists(db *store.DB, table string) bool {
	var n int
	return db.QueryRow(context.Background(), `SELECT COUNT(*) FROM `+table).Scan(&n) == nil
}

func TestMigrate(t *testing.T) {
	tests := []struct {
		name        string
		fs          fstest.MapFS
		wantApplied func(dialect string) []string
		wantRecords func(dialect string) []record
		wantTables  func(dialect string) []string
		noTables    func(dialect string) []string
		wantErr     []string // substrings of the error
	}{
		{
			name: "numbered files in version order",
			fs: fstest.MapFS{
				"0002_second.sql": file(`CREATE TABLE m_two (id INTEGER PRIMARY KEY, one_id INTEGER REFERENCES m_one(id));`),
				"0001_first.sql":  file(`CREATE TABLE m_one (id INTEGER PRIMARY KEY); INSERT INTO m_one (id) VALUES (1);`),
				"0010_tenth.sql":  file(`CREATE TABLE m_ten (id INTEGER PRIMARY KEY);`),
				"README.md":       file(`not a migration`),
			},
			wantApplied: func(string) []string { return []string{"t/0001_first.sql", "t/0002_second.sql", "t/0010_tenth.sql"} },
			wantRecords: func(string) []record {
				return []record{{"t", 1, "0001_first.sql"}, {"t", 2, "0002_second.sql"}, {"t", 10, "0010_tenth.sql"}}
			},
			wantTables: func(string) []string { return []string{"m_one", "m_two", "m_ten"} },
		},
		{
			name: "per-dialect file chosen",
			fs: fstest.MapFS{
				"0001_kind.sqlite.sql":   file(`CREATE TABLE only_sqlite (id INTEGER PRIMARY KEY AUTOINCREMENT);`),
				"0001_kind.postgres.sql": file(`CREATE TABLE only_postgres (id BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY);`),
				"0002_common.sql":        file(`CREATE TABLE common (id INTEGER);`),
			},
			wantApplied: func(d string) []string { return []string{"t/0001_kind." + d + ".sql", "t/0002_common.sql"} },
			wantRecords: func(d string) []record {
				return []record{{"t", 1, "0001_kind." + d + ".sql"}, {"t", 2, "0002_common.sql"}}
			},
			wantTables: func(d string) []string { return []string{"only_" + d, "common"} },
			noTables: func(d string) []string {
				if d == "sqlite" {
					return []string{"only_postgres"}
				}
				return []string{"only_sqlite"}
			},
		},
		{
			name: "broken migration leaves nothing recorded",
			fs: fstest.MapFS{
				"0001_fine.sql":   file(`CREATE TABLE fine (id INTEGER);`),
				"0002_broken.sql": file(`CREATE TABLE half (id INTEGER); CREATE TABLEX nonsense;`),
				"0003_later.sql":  file(`CREATE TABLE later (id INTEGER);`),
			},
			wantApplied: func(string) []string { return []string{"t/0001_fine.sql"} },
			wantRecords: func(string) []record { return []record{{"t", 1, "0001_fine.sql"}} },
			wantTables:  func(string) []string { return []string{"fine"} },
			noTables:    func(string) []string { return []string{"half", "later"} },
			wantErr:     []string{"0002_broken.sql"},
		},
		{
			name: "duplicate common versions refused",
			fs: fstest.MapFS{
				"0001_a.sql": file(`CREATE TABLE dup_a (id INTEGER);`),
				"0001_b.sql": file(`CREATE TABLE dup_b (id INTEGER);`),
			},
			wantErr:  []string{"version 1 given twice"},
			noTables: func(string) []string { return []string{"dup_a", "dup_b"} },
		},
		{
			name: "common and sqlite file for one version refused on both engines",
			fs: fstest.MapFS{
				"0001_a.sql":        file(`CREATE TABLE dup_a (id INTEGER);`),
				"0001_a.sqlite.sql": file(`CREATE TABLE dup_b (id INTEGER);`),
			},
			wantErr:  []string{"version 1 given twice"},
			noTables: func(string) []string { return []string{"dup_a", "dup_b"} },
		},
		{
			name: "postgres file and common file for one version refused on both engines",
			fs: fstest.MapFS{
				"0001_a.postgres.sql": file(`CREATE TABLE dup_a (id INTEGER);`),
				"0001_b.sql":          file(`CREATE TABLE dup_b (id INTEGER);`),
			},
			wantErr:  []string{"version 1 given twice"},
			noTables: func(string) []string { return []string{"dup_a", "dup_b"} },
		},
		{
			name: "two files for one dialect refused",
			fs: fstest.MapFS{
				"0001_a.sqlite.sql":   file(`CREATE TABLE dup_a (id INTEGER);`),
				"0001_b.sqlite.sql":   file(`CREATE TABLE dup_b (id INTEGER);`),
				"0001_a.postgres.sql": file(`CREATE TABLE dup_a (id INTEGER);`),
				"0001_b.postgres.sql": file(`CREATE TABLE dup_b (id INTEGER);`),
			},
			wantErr:  []string{"version 1 given twice"},
			noTables: func(string) []string { return []string{"dup_a", "dup_b"} },
		},
		{
			name:     "name without a number refused",
			fs:       fstest.MapFS{"first.sql": file(`CREATE TABLE x (id INTEGER);`)},
			wantErr:  []string{"first.sql", "must start with a number"},
			noTables: func(string) []string { return []string{"x"} },
		},
		{
			name:     "version zero refused",
			fs:       fstest.MapFS{"0000_zero.sql": file(`CREATE TABLE x (id INTEGER);`)},
			wantErr:  []string{"0000_zero.sql"},
			noTables: func(string) []string { return []string{"x"} },
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			storetest.Each(t, func(t *testing.T, db *store.DB) {
				d := db.Dialect().String()
				applied, err := db.Migrate(context.Background(), store.Migrations{Module: "t", FS: tt.fs})
				if len(tt.wantErr) > 0 {
					if err == nil {
						t.Fatalf("Migrate succeeded, want an error naming %q", tt.wantErr)
					}
					for _, s := range tt.wantErr {
						if !strings.Contains(err.Error(), s) {
							t.Errorf("error %q does not contain %q", err, s)
						}
					}
				} else if err != nil {
					t.Fatalf("Migrate: %v", err)
				}
				var wantApplied []string
				if tt.wantApplied != nil {
					wantApplied = tt.wantApplied(d)
				}
				if !slices.Equal(applied, wantApplied) {
					t.Errorf("applied = %q, want %q", applied, wantApplied)
				}
				var wantRecords []record
				if tt.wantRecords != nil {
					wantRecords = tt.wantRecords(d)
				}
				if got := recorded(t, db); !slices.Equal(got, wantRecords) {
					t.Errorf("schema_migrations = %+v, want %+v", got, wantRecords)
				}
				if tt.wantTables != nil {
					for _, table := range tt.wantTables(d) {
						if !tableExists(db, table) {
							t.Errorf("table %s missing", table)
						}
					}
				}
				if tt.noTables != nil {
					for _, table := range tt.noTables(d) {
						if tableExists(db, table) {
							t.Errorf("table %s exists, want none", table)
						}
					}
				}
			})
		})
	}
}

// TestMigrationSQLIsNotRebound: a migration takes no arguments, so a
// question mark in it (in a dollar-quoted string, a comment, a JSON
// operator) is SQL, not a placeholder.
func TestMigrationSQLIsNotRebound(t *testing.T) {
	set := store.Migrations{Module: "q", FS: fstest.MapFS{
		"0001_q.sql":          file("CREATE TABLE q (v TEXT NOT NULL); -- which rows?\n"),
		"0002_q.sqlite.sql":   file(`INSERT INTO q (v) VALUES ('why?');`),
		"0002_q.postgres.sql": file(`INSERT INTO q (v) VALUES ($$why?$$);`),
	}}
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		if _, err := db.Migrate(context.Background(), set); err != nil {
			t.Fatal(err)
		}
		var v string
		if err := db.QueryRow(context.Background(), `SELECT v FROM q`).Scan(&v); err != nil {
			t.Fatal(err)
		}
		if v != "why?" {
			t.Errorf("the migration stored %q, want %q", v, "why?")
		}
	})
}

func TestMigrateTwiceAppliesNothing(t *testing.T) {
	sets := []store.Migrations{
		{Module: "one", FS: fstest.MapFS{
			"0001_a.sql": file(`CREATE TABLE one_a (id INTEGER);`),
			"0002_b.sql": file(`INSERT INTO one_a (id) VALUES (7);`),
		}},
		{Module: "two", FS: fstest.MapFS{
			// The same version number in another module is independent.
			"0001_a.sql": file(`CREATE TABLE two_a (id INTEGER);`),
		}},
	}
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		first, err := db.Migrate(ctx, sets...)
		if err != nil {
			t.Fatal(err)
		}
		if want := []string{"one/0001_a.sql", "one/0002_b.sql", "two/0001_a.sql"}; !slices.Equal(first, want) {
			t.Errorf("first run applied %q, want %q", first, want)
		}
		second, err := db.Migrate(ctx, sets...)
		if err != nil {
			t.Fatal(err)
		}
		if len(second) != 0 {
			t.Errorf("second run applied %q, want nothing", second)
		}
		var n int
		if err := db.QueryRow(ctx, `SELECT COUNT(*) FROM one_a`).Scan(&n); err != nil || n != 1 {
			t.Errorf("one_a holds %d rows (%v): the data migration ran again", n, err)
		}
		if got := len(recorded(t, db)); got != 3 {
			t.Errorf("%d migrations recorded, want 3", got)
		}
		// A new file is picked up by the next run, and only it.
		sets[0].FS.(fstest.MapFS)["0003_c.sql"] = file(`CREATE TABLE one_c (id INTEGER);`)
		defer delete(sets[0].FS.(fstest.MapFS), "0003_c.sql")
		third, err := db.Migrate(ctx, sets...)
		if err != nil {
			t.Fatal(err)
		}
		if want := []string{"one/0003_c.sql"}; !slices.Equal(third, want) {
			t.Errorf("third run applied %q, want %q", third, want)
		}
	})
}

// TestMigrateConcurrentPostgres starts two nodes at once on one schema: each
// migration must be applied exactly once and neither node may fail.
func TestMigrateConcurrentPostgres(t *testing.T) {
	if os.Getenv(storetest.PostgresEnv) == "" {
		t.Skipf("PostgreSQL test skipped: set %s to run it", storetest.PostgresEnv)
	}
	files := fstest.MapFS{}
	var want []string
	for i := 1; i <= 6; i++ {
		name := fmt.Sprintf("%04d_step.sql", i)
		files[name] = file(fmt.Sprintf(`CREATE TABLE step_%d (id INTEGER); INSERT INTO step_%d (id) VALUES (%d);`, i, i, i))
		want = append(want, "c/"+name)
	}
	set := store.Migrations{Module: "c", FS: files}
	const rounds = 5 // several fresh schemas, to give a race a chance to show
	for round := range rounds {
		t.Run(fmt.Sprint("round", round), func(t *testing.T) {
			u := storetest.URL(t, "postgres")
			ctx := context.Background()
			var dbs [2]*store.DB
			for i := range dbs {
				db, err := store.Open(ctx, u)
				if err != nil {
					t.Fatal(err)
				}
				t.Cleanup(func() { db.Close() })
				dbs[i] = db
			}
			var wg sync.WaitGroup
			var applied [2][]string
			var errs [2]error
			start := make(chan struct{})
			for i := range dbs {
				wg.Go(func() {
					<-start
					applied[i], errs[i] = dbs[i].Migrate(ctx, set)
				})
			}
			close(start)
			wg.Wait()
			for i, err := range errs {
				if err != nil {
					t.Errorf("node %d: %v", i, err)
				}
			}
			all := append(append([]string(nil), applied[0]...), applied[1]...)
			slices.Sort(all)
			if !slices.Equal(all, want) {
				t.Errorf("applied %q + %q, want each of %q exactly once", applied[0], applied[1], want)
			}
			if got := recorded(t, dbs[0]); len(got) != len(want) {
				t.Errorf("schema_migrations holds %d rows, want %d", len(got), len(want))
			}
			for i := 1; i <= len(want); i++ {
				var n int
				if err := dbs[1].QueryRow(ctx, fmt.Sprintf(`SELECT COUNT(*) FROM step_%d`, i)).Scan(&n); err != nil || n != 1 {
					t.Errorf("step_%d holds %d rows (%v), want 1", i, n, err)
				}
			}
		})
	}
}
