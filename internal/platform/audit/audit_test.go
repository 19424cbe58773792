package audit_test

import (
	"context"
	"errors"
	"fmt"
	"regexp"
	"strings"
	"sync"
	"testing"

	"kompas/internal/platform/audit"
	"kompas/internal/platform/store"
	"kompas/internal/platform/store/storetest"
)

var genesis = strings.Repeat("0", 64)

var hexHash = regexp.MustCompile(`^[0-9a-f]{64}$`)

// appendN appends n events, one transaction each, and returns their ids in
// order.
func appendN(t *testing.T, db *store.DB, n int) []int64 {
	t.Helper()
	ctx := context.Background()
	for i := range n {
		e := audit.Event{
			ActorID: int64(i % 3), Actor: fmt.Sprintf("user%d@mfa.example", i%3), Org: "mfa",
			Action: audit.ActionUpdate, ObjectType: "initiative", ObjectID: fmt.Sprint(i + 1),
			Purpose: "register upkeep", Detail: fmt.Sprintf("change %d", i),
		}
		if err := db.Transact(ctx, func(tx *store.Tx) error { return audit.Append(ctx, tx, e) }); err != nil {
			t.Fatalf("append %d: %v", i, err)
		}
	}
	return ids(t, db)
}

func ids(t *testing.T, db *store.DB) []int64 {
	t.Helper()
	rows, err := db.Query(context.Background(), `SELECT id FROM audit_events ORDER BY id`)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	var out []int64
	for rows.Next() {
		var id int64
		if err := rows.Scan(&id); err != nil {
			t.Fatal(err)
		}
		out = append(out, id)
	}
	return out
}

func TestAppendBuildsChain(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		if n, err := audit.Verify(ctx, db); err != nil || n != 0 {
			t.Fatalf("empty chain: Verify = %d, %v", n, err)
		}
		appendN(t, db, 5)
		// Two events in one transaction chain as well.
		err := db.Transact(ctx, func(tx *store.Tx) error {
			for _, a := range []string{audit.ActionCreate, audit.ActionDelete} {
				if err := audit.Append(ctx, tx, audit.Event{Actor: "system", Action: a, ObjectType: "user", ObjectID: "x", Detail: "unicode ✓ and \"quotes\";7:"}); err != nil {
					return err
				}
			}
			return nil
		})
		if err != nil {
			t.Fatal(err)
		}
		events, err := audit.List(ctx, db, audit.Filter{Limit: 500})
		if err != nil {
			t.Fatal(err)
		}
		if len(events) != 7 {
			t.Fatalf("List returned %d events, want 7", len(events))
		}
		// List is newest first; walk oldest first.
		prev := genesis
		seen := map[string]bool{}
		for i := len(events) - 1; i >= 0; i-- {
			e := events[i]
			if e.PrevHash != prev {
				t.Errorf("event %d: prev_hash %s, want %s", e.ID, e.PrevHash, prev)
			}
			if !hexHash.MatchString(e.Hash) {
				t.Errorf("event %d: hash %q is not 64 hex digits", e.ID, e.Hash)
			}
			if seen[e.Hash] {
				t.Errorf("event %d: hash repeated", e.ID)
			}
			seen[e.Hash] = true
			if e.At.IsZero() {
				t.Errorf("event %d has no time", e.ID)
			}
			prev = e.Hash
		}
		if events[0].Action != audit.ActionDelete || events[0].Detail != "unicode ✓ and \"quotes\";7:" {
			t.Errorf("newest event = %+v", events[0])
		}
		n, err := audit.Verify(ctx, db)
		if err != nil {
			t.Fatalf("Verify: %v", err)
		}
		if n != 7 {
			t.Errorf("Verify checked %d events, want 7", n)
		}
	}, audit.Migrations)
}

func TestAppendRefusesIncompleteEvent(t *testing.T) {
	tests := []struct {
		name string
		e    audit.Event
	}{
		{"no action", audit.Event{ObjectType: "user"}},
		{"no object type", audit.Event{Action: audit.ActionRead}},
		{"empty", audit.Event{}},
	}
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		for _, tt := range tests {
			t.Run(tt.name, func(t *testing.T) {
				err := db.Transact(ctx, func(tx *store.Tx) error { return audit.Append(ctx, tx, tt.e) })
				if err == nil {
					t.Error("Append accepted an incomplete event")
				}
			})
		}
		if got := len(ids(t, db)); got != 0 {
			t.Errorf("%d events stored, want 0", got)
		}
	}, audit.Migrations)
}

// TestRolledBackEventLeavesNoGap: an event appended in a transaction that
// rolls back is not part of the chain, and the chain stays valid.
func TestRolledBackEventLeavesNoGap(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		appendN(t, db, 2)
		errAbort := errors.New("abort")
		err := db.Transact(ctx, func(tx *store.Tx) error {
			if err := audit.Append(ctx, tx, audit.Event{Actor: "x", Action: audit.ActionCreate, ObjectType: "thing"}); err != nil {
				return err
			}
			return errAbort
		})
		if !errors.Is(err, errAbort) {
			t.Fatalf("Transact = %v", err)
		}
		appendN(t, db, 2)
		n, err := audit.Verify(ctx, db)
		if err != nil || n != 4 {
			t.Errorf("Verify = %d, %v; want 4, nil", n, err)
		}
	}, audit.Migrations)
}

// dropTriggers removes the append-only guard, as an attacker with DDL
// rights could.
func dropTriggers(t *testing.T, db *store.DB) {
	t.Helper()
	stmts := []string{`DROP TRIGGER audit_events_no_update`, `DROP TRIGGER audit_events_no_delete`}
	if db.Dialect() == store.Postgres {
		stmts = []string{`DROP TRIGGER audit_events_no_change ON audit_events`}
	}
	for _, q := range stmts {
		if _, err := db.Exec(context.Background(), q); err != nil {
			t.Fatalf("%s: %v", q, err)
		}
	}
}

func TestVerifyNamesFirstBrokenLink(t *testing.T) {
	// Each case gets six events with ids[0..5] and tampers with them;
	// want is the index of the event Verify must name, good how many
	// events it must report as checked before it.
	tests := []struct {
		name   string
		tamper func(ids []int64) []string
		args   func(ids []int64) [][]any
		want   int
		reason string
	}{
		{
			name:   "detail updated",
			tamper: func([]int64) []string { return []string{`UPDATE audit_events SET detail = 'forged' WHERE id = ?`} },
			args:   func(ids []int64) [][]any { return [][]any{{ids[2]}} },
			want:   2, reason: "altered",
		},
		{
			name:   "actor of the first event updated",
			tamper: func([]int64) []string { return []string{`UPDATE audit_events SET actor = 'someone-else' WHERE id = ?`} },
			args:   func(ids []int64) [][]any { return [][]any{{ids[0]}} },
			want:   0, reason: "altered",
		},
		{
			name: "time updated",
			tamper: func([]int64) []string {
				return []string{`UPDATE audit_events SET at = '2000-01-01T00:00:00.000000Z' WHERE id = ?`}
			},
			args: func(ids []int64) [][]any { return [][]any{{ids[4]}} },
			want: 4, reason: "altered",
		},
		{
			name:   "time made unreadable",
			tamper: func([]int64) []string { return []string{`UPDATE audit_events SET at = 'yesterday' WHERE id = ?`} },
			args:   func(ids []int64) [][]any { return [][]any{{ids[3]}} },
			want:   3, reason: "unreadable time",
		},
		{
			name:   "hash replaced",
			tamper: func([]int64) []string { return []string{`UPDATE audit_events SET hash = ? WHERE id = ?`} },
			args:   func(ids []int64) [][]any { return [][]any{{strings.Repeat("a", 64), ids[1]}} },
			want:   1, reason: "altered",
		},
		{
			name:   "middle event deleted",
			tamper: func([]int64) []string { return []string{`DELETE FROM audit_events WHERE id = ?`} },
			args:   func(ids []int64) [][]any { return [][]any{{ids[2]}} },
			want:   3, reason: "removed",
		},
		{
			name:   "first event deleted",
			tamper: func([]int64) []string { return []string{`DELETE FROM audit_events WHERE id = ?`} },
			args:   func(ids []int64) [][]any { return [][]any{{ids[0]}} },
			want:   1, reason: "removed",
		},
		{
			name: "two events altered: the first is named",
			tamper: func([]int64) []string {
				return []string{`UPDATE audit_events SET detail = 'x' WHERE id = ?`, `UPDATE audit_events SET detail = 'y' WHERE id = ?`}
			},
			args: func(ids []int64) [][]any { return [][]any{{ids[4]}, {ids[1]}} },
			want: 1, reason: "altered",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			storetest.Each(t, func(t *testing.T, db *store.DB) {
				ctx := context.Background()
				ids := appendN(t, db, 6)
				if n, err := audit.Verify(ctx, db); err != nil || n != 6 {
					t.Fatalf("before tampering: Verify = %d, %v", n, err)
				}
				dropTriggers(t, db)
				args := tt.args(ids)
				for i, q := range tt.tamper(ids) {
					res, err := db.Exec(ctx, q, args[i]...)
					if err != nil {
						t.Fatalf("tamper: %v", err)
					}
					if n, _ := res.RowsAffected(); n != 1 {
						t.Fatalf("tamper changed %d rows", n)
					}
				}
				n, err := audit.Verify(ctx, db)
				var broken *audit.BrokenLinkError
				if !errors.As(err, &broken) {
					t.Fatalf("Verify = %d, %v; want a *BrokenLinkError", n, err)
				}
				if broken.ID != ids[tt.want] {
					t.Errorf("broken link at event %d, want %d", broken.ID, ids[tt.want])
				}
				if !strings.Contains(broken.Reason, tt.reason) {
					t.Errorf("reason %q does not say %q", broken.Reason, tt.reason)
				}
				if !strings.Contains(err.Error(), fmt.Sprintf("event %d", ids[tt.want])) {
					t.Errorf("message %q does not name event %d", err, ids[tt.want])
				}
				// Everything before the broken event was good (a deleted
				// event is not counted).
				good := 0
				for _, id := range ids[:tt.want] {
					if tt.reason != "removed" || id != ids[tt.want-1] {
						good++
					}
				}
				if n != good {
					t.Errorf("Verify reported %d good events, want %d", n, good)
				}
			}, audit.Migrations)
		})
	}
}

// TestAppendOnlyEnforcedByDatabase: without removing the trigger, the
// database itself refuses to change or remove an event.
func TestAppendOnlyEnforcedByDatabase(t *testing.T) {
	tests := []struct {
		name string
		sql  string
	}{
		{"update", `UPDATE audit_events SET detail = 'forged' WHERE id = ?`},
		{"delete", `DELETE FROM audit_events WHERE id = ?`},
		{"update all", `UPDATE audit_events SET actor = 'x' WHERE id >= ?`},
	}
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		ids := appendN(t, db, 3)
		for _, tt := range tests {
			t.Run(tt.name, func(t *testing.T) {
				_, err := db.Exec(ctx, tt.sql, ids[1])
				if err == nil {
					t.Fatal("the database accepted a change to the audit log")
				}
				if !strings.Contains(err.Error(), "append-only") {
					t.Errorf("error %q does not say the table is append-only", err)
				}
				// Inside a transaction it is refused too.
				err = db.Transact(ctx, func(tx *store.Tx) error {
					_, err := tx.Exec(ctx, tt.sql, ids[1])
					return err
				})
				if err == nil {
					t.Fatal("the database accepted a change to the audit log in a transaction")
				}
			})
		}
		n, err := audit.Verify(ctx, db)
		if err != nil || n != 3 {
			t.Errorf("Verify = %d, %v; want 3, nil", n, err)
		}
	}, audit.Migrations)
}

// TestConcurrentAppendsOneChain: writers on two handles (two app nodes) at
// once still build one valid chain.
func TestConcurrentAppendsOneChain(t *testing.T) {
	for _, engine := range storetest.Engines {
		t.Run(engine, func(t *testing.T) {
			ctx := context.Background()
			u := storetest.URL(t, engine)
			var nodes [2]*store.DB
			for i := range nodes {
				db, err := store.Open(ctx, u)
				if err != nil {
					t.Fatal(err)
				}
				t.Cleanup(func() { db.Close() })
				nodes[i] = db
			}
			if _, err := nodes[0].Migrate(ctx, audit.Migrations); err != nil {
				t.Fatal(err)
			}
			const writers, each = 4, 15
			var wg sync.WaitGroup
			errs := make(chan error, len(nodes)*writers)
			for n, db := range nodes {
				for w := range writers {
					wg.Go(func() {
						for i := range each {
							e := audit.Event{Actor: fmt.Sprintf("node%d", n), Action: audit.ActionCreate, ObjectType: "thing", ObjectID: fmt.Sprintf("%d-%d", w, i)}
							if err := db.Transact(ctx, func(tx *store.Tx) error { return audit.Append(ctx, tx, e) }); err != nil {
								errs <- err
								return
							}
						}
					})
				}
			}
			wg.Wait()
			close(errs)
			for err := range errs {
				t.Errorf("append: %v", err)
			}
			n, err := audit.Verify(ctx, nodes[1])
			if err != nil {
				t.Fatalf("Verify: %v", err)
			}
			if want := len(nodes) * writers * each; n != want {
				t.Errorf("Verify checked %d events, want %d", n, want)
			}
		})
	}
}

func TestList(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		ids := appendN(t, db, 9) // actors user0..user2 in turn, object ids 1..9
		tests := []struct {
			name    string
			f       audit.Filter
			wantIDs []int64
		}{
			{"all, newest first", audit.Filter{}, []int64{ids[8], ids[7], ids[6], ids[5], ids[4], ids[3], ids[2], ids[1], ids[0]}},
			{"limit", audit.Filter{Limit: 2}, []int64{ids[8], ids[7]}},
			{"by actor", audit.Filter{Actor: "user1@mfa.example"}, []int64{ids[7], ids[4], ids[1]}},
			{"by object", audit.Filter{ObjectType: "initiative", ObjectID: "5"}, []int64{ids[4]}},
			{"before id", audit.Filter{BeforeID: ids[2]}, []int64{ids[1], ids[0]}},
			{"nothing matches", audit.Filter{ObjectType: "nothing"}, nil},
			{"injection attempt is a plain value", audit.Filter{Actor: "' OR 1=1 --"}, nil},
		}
		for _, tt := range tests {
			t.Run(tt.name, func(t *testing.T) {
				events, err := audit.List(ctx, db, tt.f)
				if err != nil {
					t.Fatal(err)
				}
				var got []int64
				for _, e := range events {
					got = append(got, e.ID)
				}
				if fmt.Sprint(got) != fmt.Sprint(tt.wantIDs) {
					t.Errorf("ids = %v, want %v", got, tt.wantIDs)
				}
			})
		}
		events, err := audit.List(ctx, db, audit.Filter{ObjectID: "2"})
		if err != nil || len(events) != 1 {
			t.Fatalf("List = %v, %v", events, err)
		}
		e := events[0]
		if e.ActorID != 1 || e.Actor != "user1@mfa.example" || e.Org != "mfa" || e.Action != audit.ActionUpdate ||
			e.ObjectType != "initiative" || e.Purpose != "register upkeep" || e.Detail != "change 1" {
			t.Errorf("event read back = %+v", e)
		}
	}, audit.Migrations)
}

func TestBrokenLinkErrorMessage(t *testing.T) {
	err := error(&audit.BrokenLinkError{ID: 42, Reason: "hash does not match"})
	if !strings.Contains(err.Error(), "event 42") || !strings.Contains(err.Error(), "hash does not match") {
		t.Errorf("Error() = %q", err)
	}
}
