package store_test

import (
	"context"
	"errors"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"kompas/internal/platform/store"
	"kompas/internal/platform/store/storetest"
)

func TestOpen(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	tests := []struct {
		name        string
		url         func(t *testing.T) string
		wantDialect store.Dialect
		wantErr     string // substring of the error; "" means success
		notInErr    string // must not appear in the error (a password)
	}{
		{name: "sqlite URL", url: func(*testing.T) string { return "sqlite:" + filepath.Join(dir, "a", "k.db") }, wantDialect: store.SQLite},
		{name: "sqlite URL with slashes", url: func(*testing.T) string { return "sqlite://" + filepath.Join(dir, "b.db") }, wantDialect: store.SQLite},
		{name: "bare .db path", url: func(*testing.T) string { return filepath.Join(dir, "c.db") }, wantDialect: store.SQLite},
		{name: "postgres URL", url: func(t *testing.T) string { return storetest.URL(t, "postgres") }, wantDialect: store.Postgres},
		{name: "sqlite without path", url: func(*testing.T) string { return "sqlite:" }, wantErr: "no path"},
		{name: "unknown scheme hides password", url: func(*testing.T) string { return "mysql://u:s3cret@127.0.0.1/db" }, wantErr: "unsupported database URL", notInErr: "s3cret"},
		{name: "empty", url: func(*testing.T) string { return "" }, wantErr: "unsupported database URL"},
		{name: "postgres that does not answer", url: func(*testing.T) string {
			return "postgres://u:s3cret@127.0.0.1:1/db?sslmode=disable&connect_timeout=2"
		}, wantErr: "ping", notInErr: "s3cret"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			db, err := store.Open(ctx, tt.url(t))
			if tt.wantErr != "" {
				if err == nil {
					db.Close()
					t.Fatalf("Open succeeded, want error containing %q", tt.wantErr)
				}
				if !strings.Contains(err.Error(), tt.wantErr) {
					t.Errorf("error %q does not contain %q", err, tt.wantErr)
				}
				if tt.notInErr != "" && strings.Contains(err.Error(), tt.notInErr) {
					t.Errorf("error %q reveals %q", err, tt.notInErr)
				}
				return
			}
			if err != nil {
				t.Fatalf("Open: %v", err)
			}
			defer db.Close()
			if db.Dialect() != tt.wantDialect {
				t.Errorf("dialect = %v, want %v", db.Dialect(), tt.wantDialect)
			}
			if err := db.Ping(ctx); err != nil {
				t.Errorf("Ping: %v", err)
			}
			var one int
			if err := db.QueryRow(ctx, `SELECT 1`).Scan(&one); err != nil || one != 1 {
				t.Errorf("SELECT 1 = %d, %v", one, err)
			}
		})
	}
}

func TestOpenSQLiteCreatesFolder(t *testing.T) {
	path := filepath.Join(t.TempDir(), "deep", "er", "kompas.db")
	db, err := store.Open(context.Background(), "sqlite:"+path)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	if _, err := os.Stat(path); err != nil {
		t.Errorf("database file not created: %v", err)
	}
	if got, want := db.String(), "sqlite:"+path; got != want {
		t.Errorf("String() = %q, want %q", got, want)
	}
}

func TestStringRedactsPassword(t *testing.T) {
	base := os.Getenv(storetest.PostgresEnv)
	if base == "" {
		t.Skipf("PostgreSQL test skipped: set %s to run it", storetest.PostgresEnv)
	}
	u := storetest.URL(t, "postgres")
	// The local server trusts every password, so adding one still connects.
	parsed, err := url.Parse(u)
	if err != nil || parsed.User == nil {
		t.Fatalf("%s names no user to add a password to: %v", storetest.PostgresEnv, err)
	}
	parsed.User = url.UserPassword(parsed.User.Username(), "s3cret")
	withPW := parsed.String()
	db, err := store.Open(context.Background(), withPW)
	if err != nil {
		t.Fatalf("Open: %v", err)
	}
	defer db.Close()
	if strings.Contains(db.String(), "s3cret") {
		t.Errorf("String() = %q reveals the password", db.String())
	}
	if !strings.Contains(db.String(), "xxxxx") {
		t.Errorf("String() = %q does not mark the hidden password", db.String())
	}
}

func TestSQLitePragmas(t *testing.T) {
	ctx := context.Background()
	db := storetest.Open(t, "sqlite")
	tests := []struct {
		pragma string
		want   string
	}{
		{"journal_mode", "wal"},
		{"foreign_keys", "1"},
		{"busy_timeout", "10000"},
	}
	for _, tt := range tests {
		t.Run(tt.pragma, func(t *testing.T) {
			// The read pool.
			var got string
			if err := db.QueryRow(ctx, `PRAGMA `+tt.pragma).Scan(&got); err != nil {
				t.Fatal(err)
			}
			if got != tt.want {
				t.Errorf("read pool: PRAGMA %s = %q, want %q", tt.pragma, got, tt.want)
			}
			// The write pool.
			err := db.Transact(ctx, func(tx *store.Tx) error {
				return tx.QueryRow(ctx, `PRAGMA `+tt.pragma).Scan(&got)
			})
			if err != nil {
				t.Fatal(err)
			}
			if got != tt.want {
				t.Errorf("write pool: PRAGMA %s = %q, want %q", tt.pragma, got, tt.want)
			}
		})
	}
}

func TestForeignKeysEnforced(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		for _, q := range []string{
			`CREATE TABLE parent (id INTEGER PRIMARY KEY)`,
			`CREATE TABLE child (id INTEGER PRIMARY KEY, parent_id INTEGER NOT NULL REFERENCES parent(id))`,
			`INSERT INTO parent (id) VALUES (1)`,
		} {
			if _, err := db.Exec(ctx, q); err != nil {
				t.Fatalf("%s: %v", q, err)
			}
		}
		if _, err := db.Exec(ctx, `INSERT INTO child (id, parent_id) VALUES (?, ?)`, 1, 1); err != nil {
			t.Fatalf("valid child refused: %v", err)
		}
		if _, err := db.Exec(ctx, `INSERT INTO child (id, parent_id) VALUES (?, ?)`, 2, 99); err == nil {
			t.Fatal("child pointing at no parent was accepted: foreign keys are off")
		}
		var n int
		if err := db.QueryRow(ctx, `SELECT COUNT(*) FROM child`).Scan(&n); err != nil || n != 1 {
			t.Errorf("children = %d, %v; want 1", n, err)
		}
	})
}

func TestSQLiteReadPoolIsReadOnly(t *testing.T) {
	ctx := context.Background()
	db := storetest.Open(t, "sqlite")
	if _, err := db.Exec(ctx, `CREATE TABLE t (id INTEGER)`); err != nil {
		t.Fatal(err)
	}
	rows, err := db.Query(ctx, `INSERT INTO t (id) VALUES (1) RETURNING id`)
	if err == nil {
		for rows.Next() {
		}
		err = rows.Err()
		rows.Close()
	}
	if err == nil {
		t.Error("a write through the read pool succeeded")
	}
	var n int
	if err := db.QueryRow(ctx, `SELECT COUNT(*) FROM t`).Scan(&n); err != nil || n != 0 {
		t.Errorf("rows = %d, %v; want 0", n, err)
	}
}

func TestRebind(t *testing.T) {
	tests := []struct {
		name    string
		dialect store.Dialect
		in      string
		want    string
	}{
		{"sqlite unchanged", store.SQLite, `SELECT * FROM t WHERE a = ? AND b = ?`, `SELECT * FROM t WHERE a = ? AND b = ?`},
		{"postgres numbered", store.Postgres, `SELECT * FROM t WHERE a = ? AND b = ?`, `SELECT * FROM t WHERE a = $1 AND b = $2`},
		{"postgres no placeholder", store.Postgres, `SELECT 1`, `SELECT 1`},
		{"postgres many", store.Postgres, `VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`, `VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)`},
		{"postgres single-quoted ? kept", store.Postgres, `SELECT '?' , ? , 'a?b'`, `SELECT '?' , $1 , 'a?b'`},
		{"postgres double-quoted ? kept", store.Postgres, `SELECT "col?" FROM t WHERE x = ?`, `SELECT "col?" FROM t WHERE x = $1`},
		{"postgres escaped quote", store.Postgres, `SELECT 'it''s ?' WHERE a = ?`, `SELECT 'it''s ?' WHERE a = $1`},
		{"postgres double quote inside single", store.Postgres, `SELECT '"?' WHERE a = ?`, `SELECT '"?' WHERE a = $1`},
		{"postgres single quote inside double", store.Postgres, `SELECT "'?" WHERE a = ?`, `SELECT "'?" WHERE a = $1`},
		{"postgres adjacent", store.Postgres, `??`, `$1$2`},
		{"sqlite quotes untouched", store.SQLite, `SELECT '?'`, `SELECT '?'`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := tt.dialect.Rebind(tt.in); got != tt.want {
				t.Errorf("Rebind(%q) = %q, want %q", tt.in, got, tt.want)
			}
		})
	}
}

// TestRebindAgainstEngine runs a query with a literal question mark next to
// placeholders on each engine.
func TestRebindAgainstEngine(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		var lit, a, b string
		err := db.QueryRow(context.Background(), `SELECT 'why?', ?, ?`, "x", "y").Scan(&lit, &a, &b)
		if err != nil {
			t.Fatal(err)
		}
		if lit != "why?" || a != "x" || b != "y" {
			t.Errorf("got %q %q %q", lit, a, b)
		}
	})
}

func TestDialectString(t *testing.T) {
	for d, want := range map[store.Dialect]string{store.SQLite: "sqlite", store.Postgres: "postgres"} {
		if d.String() != want {
			t.Errorf("%d.String() = %q, want %q", d, d.String(), want)
		}
	}
}

func TestTransact(t *testing.T) {
	errBoom := errors.New("boom")
	tests := []struct {
		name      string
		fn        func(tx *store.Tx) error
		wantErr   error
		wantPanic any
		wantRows  int
	}{
		{name: "commit on nil", fn: func(tx *store.Tx) error { return nil }, wantRows: 2},
		{name: "rollback on error", fn: func(tx *store.Tx) error { return errBoom }, wantErr: errBoom, wantRows: 0},
		{name: "rollback on panic", fn: func(tx *store.Tx) error { panic("kaboom") }, wantPanic: "kaboom", wantRows: 0},
	}
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		for i, tt := range tests {
			t.Run(tt.name, func(t *testing.T) {
				table := "tx_" + string(rune('a'+i))
				if _, err := db.Exec(ctx, `CREATE TABLE `+table+` (id INTEGER PRIMARY KEY, v TEXT NOT NULL)`); err != nil {
					t.Fatal(err)
				}
				var err error
				var recovered any
				func() {
					defer func() { recovered = recover() }()
					err = db.Transact(ctx, func(tx *store.Tx) error {
						if _, err := tx.Exec(ctx, `INSERT INTO `+table+` (id, v) VALUES (?, ?)`, 1, "one"); err != nil {
							return err
						}
						id, err := tx.InsertID(ctx, `INSERT INTO `+table+` (id, v) VALUES (?, ?) RETURNING id`, 2, "two")
						if err != nil {
							return err
						}
						if id != 2 {
							t.Errorf("InsertID = %d, want 2", id)
						}
						// Inside the transaction the rows are visible.
						var n int
						if err := tx.QueryRow(ctx, `SELECT COUNT(*) FROM `+table).Scan(&n); err != nil || n != 2 {
							t.Errorf("inside tx: %d rows, %v", n, err)
						}
						return tt.fn(tx)
					})
				}()
				if recovered != tt.wantPanic {
					t.Errorf("panic = %v, want %v", recovered, tt.wantPanic)
				}
				if !errors.Is(err, tt.wantErr) || (tt.wantErr == nil && err != nil) {
					t.Errorf("err = %v, want %v", err, tt.wantErr)
				}
				var n int
				if err := db.QueryRow(ctx, `SELECT COUNT(*) FROM `+table).Scan(&n); err != nil {
					t.Fatal(err)
				}
				if n != tt.wantRows {
					t.Errorf("after Transact: %d rows, want %d", n, tt.wantRows)
				}
				// The write connection is free again: a rolled-back or
				// panicking transaction must not hold it.
				ctx2, cancel := context.WithTimeout(ctx, 20*time.Second)
				defer cancel()
				if err := db.Transact(ctx2, func(tx *store.Tx) error {
					_, err := tx.Exec(ctx2, `INSERT INTO `+table+` (id, v) VALUES (?, ?)`, 10, "after")
					return err
				}); err != nil {
					t.Errorf("next transaction: %v", err)
				}
			})
		}
	})
}

func TestIsUniqueViolation(t *testing.T) {
	if store.IsUniqueViolation(nil) {
		t.Error("IsUniqueViolation(nil) = true")
	}
	if store.IsUniqueViolation(errors.New("something else")) {
		t.Error("IsUniqueViolation(other) = true")
	}
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		if _, err := db.Exec(ctx, `CREATE TABLE u (k TEXT NOT NULL UNIQUE)`); err != nil {
			t.Fatal(err)
		}
		if _, err := db.Exec(ctx, `INSERT INTO u (k) VALUES (?)`, "a"); err != nil {
			t.Fatal(err)
		}
		_, err := db.Exec(ctx, `INSERT INTO u (k) VALUES (?)`, "a")
		if err == nil {
			t.Fatal("duplicate accepted")
		}
		if !store.IsUniqueViolation(err) {
			t.Errorf("IsUniqueViolation(%v) = false", err)
		}
		_, err = db.Exec(ctx, `INSERT INTO u (k) VALUES (NULL)`)
		if err == nil || store.IsUniqueViolation(err) {
			t.Errorf("NOT NULL violation %v: want an error that is not a unique violation", err)
		}
	})
}

func TestTimeRoundTrip(t *testing.T) {
	tests := []time.Time{
		time.Date(2024, 2, 29, 23, 59, 59, 123456789, time.UTC),
		time.Date(1999, 1, 1, 0, 0, 0, 0, time.FixedZone("CET", 3600)),
		store.Now(),
	}
	for _, in := range tests {
		s := store.FormatTime(in)
		if len(s) != len(store.TimeLayout) {
			t.Errorf("FormatTime(%v) = %q: not fixed width", in, s)
		}
		out, err := store.ParseTime(s)
		if err != nil {
			t.Fatalf("ParseTime(%q): %v", s, err)
		}
		if want := in.UTC().Truncate(time.Microsecond); !out.Equal(want) {
			t.Errorf("round trip of %v = %v, want %v", in, out, want)
		}
	}
	// Text order is time order.
	a := store.FormatTime(time.Date(2024, 1, 1, 9, 0, 0, 0, time.UTC))
	b := store.FormatTime(time.Date(2024, 1, 1, 10, 0, 0, 0, time.FixedZone("X", 2*3600))) // 08:00 UTC
	if !(b < a) {
		t.Errorf("%q should sort before %q", b, a)
	}
}
