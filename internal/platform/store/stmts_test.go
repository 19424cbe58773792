package store_test

import (
	"context"
	"fmt"
	"testing"

	"kompas/internal/platform/store"
	"kompas/internal/platform/store/storetest"
)

// TestStmtsPrepareOnSecondRun runs statements through a Stmts on both
// engines: the first run of each is not prepared, the second and later are,
// no more than the bound are kept, and every run does what Tx.Exec would.
func TestStmtsPrepareOnSecondRun(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		if _, err := db.Exec(ctx, `CREATE TABLE stmts_probe (id INTEGER PRIMARY KEY, v TEXT NOT NULL)`); err != nil {
			t.Fatal(err)
		}
		const insert = `INSERT INTO stmts_probe (id, v) VALUES (?, ?)`
		err := db.Transact(ctx, func(tx *store.Tx) error {
			st := tx.Stmts()
			for i := 1; i <= 3; i++ {
				if _, err := st.Exec(ctx, insert, i, fmt.Sprint("v", i)); err != nil {
					return err
				}
				if want := min(i-1, 1); store.PreparedCount(st) != want {
					t.Errorf("after run %d: %d prepared, want %d", i, store.PreparedCount(st), want)
				}
			}
			// Many distinct statements: each runs twice, at most the bound stay prepared.
			for i := range 300 {
				q := fmt.Sprintf(`SELECT v FROM stmts_probe WHERE id = ? AND %d = %d`, i, i)
				for range 2 {
					var v string
					if err := st.QueryRow(ctx, q, 2).Scan(&v); err != nil || v != "v2" {
						return fmt.Errorf("query %d: %q %v", i, v, err)
					}
				}
			}
			if n := store.PreparedCount(st); n != store.MaxPrepared {
				t.Errorf("%d prepared, want the bound %d", n, store.MaxPrepared)
			}
			rows, err := st.Query(ctx, `SELECT id FROM stmts_probe ORDER BY id`)
			if err != nil {
				return err
			}
			defer rows.Close()
			var ids []int
			for rows.Next() {
				var id int
				if err := rows.Scan(&id); err != nil {
					return err
				}
				ids = append(ids, id)
			}
			if fmt.Sprint(ids) != "[1 2 3]" {
				t.Errorf("rows %v", ids)
			}
			return rows.Err()
		})
		if err != nil {
			t.Fatal(err)
		}
		var n int
		if err := db.QueryRow(ctx, `SELECT COUNT(*) FROM stmts_probe`).Scan(&n); err != nil || n != 3 {
			t.Errorf("%d rows committed (%v), want 3", n, err)
		}
		// A refused statement is an error, prepared or not (each attempt in
		// a savepoint: PostgreSQL refuses anything after an error otherwise).
		err = db.Transact(ctx, func(tx *store.Tx) error {
			st := tx.Stmts()
			for range 2 {
				if _, err := tx.Exec(ctx, `SAVEPOINT probe`); err != nil {
					return err
				}
				if _, err := st.Exec(ctx, insert, 1, "again"); !store.IsUniqueViolation(err) {
					t.Errorf("duplicate key: %v", err)
				}
				if _, err := tx.Exec(ctx, `ROLLBACK TO SAVEPOINT probe`); err != nil {
					return err
				}
			}
			return nil
		})
		if err != nil {
			t.Fatal(err)
		}
	})
}
