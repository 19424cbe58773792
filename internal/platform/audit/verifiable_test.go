package audit_test

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"testing/fstest"

	"golang.org/x/mod/sumdb/tlog"

	"kompas/internal/platform/audit"
	"kompas/internal/platform/store"
	"kompas/internal/platform/store/storetest"
)

var errRollback = errors.New("roll back")

// newKey makes a fresh audit key.
func newKey(t *testing.T) *audit.Key {
	t.Helper()
	private, _, err := audit.GenerateKey("kompas-test")
	if err != nil {
		t.Fatal(err)
	}
	k, err := audit.ParseKey(private)
	if err != nil {
		t.Fatal(err)
	}
	return k
}

// withKey makes Append sign with k for the rest of the test.
func withKey(t *testing.T, k *audit.Key) {
	t.Helper()
	audit.Configure(k)
	t.Cleanup(func() { audit.Configure(nil) })
}

// checkpoint signs a checkpoint of db now.
func checkpoint(t *testing.T, db *store.DB, k *audit.Key, dir string) *audit.Checkpoint {
	t.Helper()
	cp, err := (&audit.Checkpointer{DB: db, Key: k, Dir: dir}).Checkpoint(context.Background())
	if err != nil {
		t.Fatalf("checkpoint: %v", err)
	}
	return cp
}

func check(t *testing.T, db *store.DB, opts audit.CheckOptions) *audit.Report {
	t.Helper()
	r, err := audit.Check(context.Background(), db, opts)
	if err != nil {
		t.Fatalf("Check: %v", err)
	}
	return r
}

// bypassGuards lifts the append-only triggers on both tables, as the owner
// of the schema (or a superuser) could.
func bypassGuards(t *testing.T, db *store.DB) {
	t.Helper()
	stmts := []string{`DROP TRIGGER audit_events_no_update`, `DROP TRIGGER audit_events_no_delete`,
		`DROP TRIGGER audit_tree_no_update`, `DROP TRIGGER audit_tree_no_delete`}
	if db.Dialect() == store.Postgres {
		stmts = []string{`ALTER TABLE audit_events DISABLE TRIGGER USER`, `ALTER TABLE audit_tree DISABLE TRIGGER USER`}
	}
	for _, q := range stmts {
		if _, err := db.Exec(context.Background(), q); err != nil {
			t.Fatalf("%s: %v", q, err)
		}
	}
}

func exec(t *testing.T, db *store.DB, q string, args ...any) int64 {
	t.Helper()
	res, err := db.Exec(context.Background(), q, args...)
	if err != nil {
		t.Fatalf("%s: %v", q, err)
	}
	n, _ := res.RowsAffected()
	return n
}

// chainHash is the published chain hash formula, as an attacker would
// recompute it.
func chainHash(e audit.Event) string {
	h := sha256.New()
	for _, f := range []string{e.PrevHash, store.FormatTime(e.At), strconv.FormatInt(e.ActorID, 10), e.Actor, e.Org,
		e.Action, e.ObjectType, e.ObjectID, e.Purpose, e.Detail} {
		fmt.Fprintf(h, "%d:%s;", len(f), f)
	}
	return hex.EncodeToString(h.Sum(nil))
}

// events returns every event in leaf order.
func events(t *testing.T, db *store.DB) []audit.Event {
	t.Helper()
	var out []audit.Event
	var before int64
	for {
		page, err := audit.List(context.Background(), db, audit.Filter{Limit: 500, BeforeID: before})
		if err != nil {
			t.Fatal(err)
		}
		if len(page) == 0 {
			break
		}
		out = append(out, page...)
		before = page[len(page)-1].ID
	}
	slices.SortFunc(out, func(a, b audit.Event) int { return int(a.Seq - b.Seq) })
	return out
}

// rechain recomputes every chain hash from leaf index from on, as a
// tamperer who knows the formula would.
func rechain(t *testing.T, db *store.DB, from int64) {
	t.Helper()
	all := events(t, db)
	prev := strings.Repeat("0", 64)
	for _, e := range all {
		if e.Seq < from {
			prev = e.Hash
			continue
		}
		e.PrevHash = prev
		e.Hash = chainHash(e)
		exec(t, db, `UPDATE audit_events SET prev_hash = ?, hash = ? WHERE id = ?`, e.PrevHash, e.Hash, e.ID)
		prev = e.Hash
	}
}

// insertRaw appends e straight into the table after the current head with
// a correct chain hash: a forged event.
func insertRaw(t *testing.T, db *store.DB, e audit.Event) audit.Event {
	t.Helper()
	all := events(t, db)
	head := all[len(all)-1]
	e.Seq, e.PrevHash = head.Seq+1, head.Hash
	if e.At.IsZero() {
		e.At = store.Now()
	}
	e.Hash = chainHash(e)
	var actorID, nonce, sig any
	if e.ActorID != 0 {
		actorID = e.ActorID
	}
	if e.Nonce != "" {
		nonce = e.Nonce
	}
	if e.Sig != "" {
		sig = e.Sig
	}
	exec(t, db, `INSERT INTO audit_events (seq, at, actor_id, actor, org, action, object_type, object_id, purpose, detail, prev_hash, hash, nonce, sig)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`, e.Seq, store.FormatTime(e.At), actorID, e.Actor, e.Org, e.Action, e.ObjectType, e.ObjectID,
		e.Purpose, e.Detail, e.PrevHash, e.Hash, nonce, sig)
	return e
}

// wantProblem fails unless one of r's problems contains every part.
func wantProblem(t *testing.T, r *audit.Report, parts ...string) {
	t.Helper()
	for _, p := range r.Problems {
		ok := true
		for _, part := range parts {
			ok = ok && strings.Contains(p, part)
		}
		if ok {
			return
		}
	}
	t.Errorf("no problem says %q; problems:\n  %s", parts, strings.Join(r.Problems, "\n  "))
}

// TestTamperDetectedAgainstCheckpoint is the list: each tamper
// after a checkpoint is found, and the message names what.
func TestTamperDetectedAgainstCheckpoint(t *testing.T) {
	const n = 150
	tests := []struct {
		name     string
		postgres bool // PostgreSQL only
		tamper   func(t *testing.T, db *store.DB, all []audit.Event)
		want     func(all []audit.Event) [][]string // each: parts of one problem
		only     bool                               // and nothing else is wrong
	}{
		{
			// The checkpoint event itself (seq 150) is the newest row but not
			// covered; the newest covered event is seq 149.
			name: "newest event deleted",
			tamper: func(t *testing.T, db *store.DB, _ []audit.Event) {
				exec(t, db, `DELETE FROM audit_events WHERE seq >= ?`, n-1)
			},
			want: func([]audit.Event) [][]string {
				return [][]string{{"events 149..149 are missing (the log was cut)", "checkpoint of size 150"}}
			},
		},
		{
			name: "newest 100 deleted",
			tamper: func(t *testing.T, db *store.DB, _ []audit.Event) {
				exec(t, db, `DELETE FROM audit_events WHERE seq >= ?`, n-100)
			},
			want: func([]audit.Event) [][]string { return [][]string{{"events 50..149 are missing (the log was cut)"}} },
		},
		{
			name: "middle event deleted",
			tamper: func(t *testing.T, db *store.DB, _ []audit.Event) {
				exec(t, db, `DELETE FROM audit_events WHERE seq = 70`)
			},
			want: func(all []audit.Event) [][]string {
				return [][]string{{"events 70..70 are missing (removed from the middle of the log)", "checkpoint of size 150"},
					{fmt.Sprintf("chain broken at event %d", all[71].ID)}}
			},
		},
		{
			name:   "every event deleted",
			tamper: func(t *testing.T, db *store.DB, _ []audit.Event) { exec(t, db, `DELETE FROM audit_events`) },
			want: func([]audit.Event) [][]string {
				return [][]string{{"events 0..149 are missing (the log was cut)", "checkpoint"}, {"the tree Kompas stored covers 150 events but the log holds 0"}}
			},
		},
		{
			name:     "truncated",
			postgres: true,
			tamper:   func(t *testing.T, db *store.DB, _ []audit.Event) { exec(t, db, `TRUNCATE audit_events`) },
			want:     func([]audit.Event) [][]string { return [][]string{{"events 0..149 are missing (the log was cut)"}} },
		},
		{
			name: "middle event edited, chain and stored tree recomputed",
			tamper: func(t *testing.T, db *store.DB, all []audit.Event) {
				exec(t, db, `UPDATE audit_events SET detail = 'nothing to see' WHERE seq = 70`)
				rechain(t, db, 70)
				exec(t, db, `DELETE FROM audit_tree`)
				if _, err := audit.Sync(context.Background(), db); err != nil {
					t.Fatalf("re-sync: %v", err)
				}
			},
			want: func(all []audit.Event) [][]string {
				ev := fmt.Sprintf("event %d (seq 70)", all[70].ID)
				return [][]string{{"do not hash to the root of the checkpoint of size 150", ev}, {ev, "has a bad signature"}}
			},
		},
		{
			name: "middle event edited, chain recomputed, stored tree left",
			tamper: func(t *testing.T, db *store.DB, all []audit.Event) {
				exec(t, db, `UPDATE audit_events SET actor = 'someone-else' WHERE seq = 70`)
				rechain(t, db, 70)
			},
			want: func(all []audit.Event) [][]string {
				ev := fmt.Sprintf("event %d (seq 70)", all[70].ID)
				return [][]string{{"checkpoint of size 150", ev, "was altered"}, {ev, "no longer matches the tree hash stored"}}
			},
		},
		{
			name: "forged event without a signature",
			tamper: func(t *testing.T, db *store.DB, _ []audit.Event) {
				insertRaw(t, db, audit.Event{Actor: "intruder", Action: "delete", ObjectType: "return_case", ObjectID: "7"})
			},
			want: func([]audit.Event) [][]string { return [][]string{{"(seq 151) has no signature"}} },
			only: true,
		},
		{
			name: "forged event with a made-up signature",
			tamper: func(t *testing.T, db *store.DB, all []audit.Event) {
				raw := make([]byte, 68)
				_, _ = rand.Read(raw)
				copy(raw, mustDecode(t, all[0].Sig)[:4]) // the right key hash
				insertRaw(t, db, audit.Event{Actor: "intruder", Action: "delete", ObjectType: "return_case", ObjectID: "7",
					Nonce: strings.Repeat("ab", 16), Sig: base64.StdEncoding.EncodeToString(raw)})
			},
			want: func([]audit.Event) [][]string { return [][]string{{"(seq 151) has a bad signature"}} },
			only: true,
		},
		{
			name: "forged event signed by another key",
			tamper: func(t *testing.T, db *store.DB, _ []audit.Event) {
				other := newKey(t)
				e := audit.Event{Actor: "intruder", Action: "delete", ObjectType: "return_case", ObjectID: "7"}
				signed := signedWith(t, other, e)
				insertRaw(t, db, signed)
			},
			want: func([]audit.Event) [][]string { return [][]string{{"(seq 151) is signed by another key"}} },
			only: true,
		},
		{
			name: "replayed event",
			tamper: func(t *testing.T, db *store.DB, all []audit.Event) {
				copyOf := all[10]
				copyOf.ID = 0
				insertRaw(t, db, copyOf)
			},
			want: func(all []audit.Event) [][]string {
				return [][]string{{"(seq 151) repeats the nonce of event " + strconv.FormatInt(all[10].ID, 10) + " (seq 10): a replayed copy"}}
			},
			only: true,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			run := storetest.Each
			if tt.postgres {
				run = func(t *testing.T, fn func(*testing.T, *store.DB), sets ...store.Migrations) {
					storetest.On(t, "postgres", fn, sets...)
				}
			}
			run(t, func(t *testing.T, db *store.DB) {
				k := newKey(t)
				withKey(t, k)
				appendN(t, db, n)
				cp := checkpoint(t, db, k, "")
				if cp.Size != n {
					t.Fatalf("checkpoint size %d, want %d", cp.Size, n)
				}
				opts := audit.CheckOptions{Verifier: k.Verifier(), Checkpoint: cp}
				if r := check(t, db, opts); r.Err() != nil || r.Checkpoint != cp {
					t.Fatalf("before tampering: %v", r.Err())
				}
				all := events(t, db)
				bypassGuards(t, db)
				tt.tamper(t, db, all)
				r := check(t, db, opts)
				if r.Err() == nil {
					t.Fatal("the tampered log verifies")
				}
				t.Log(r.Err())
				if r.Checkpoint != nil && strings.Contains(tt.name, "deleted") {
					t.Error("the report says the log is consistent with the checkpoint")
				}
				want := tt.want(all)
				for _, parts := range want {
					wantProblem(t, r, parts...)
				}
				if tt.only && len(r.Problems) != len(want) {
					t.Errorf("%d problems, want %d", len(r.Problems), len(want))
				}
			}, audit.Migrations)
		})
	}
}

func mustDecode(t *testing.T, s string) []byte {
	t.Helper()
	b, err := base64.StdEncoding.DecodeString(s)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// signedWith appends e through Kompas on a scratch database with key k
// and returns it as stored: a genuinely signed event, by another key.
func signedWith(t *testing.T, k *audit.Key, e audit.Event) audit.Event {
	t.Helper()
	db := storetest.Open(t, "sqlite")
	ctx := context.Background()
	if _, err := db.Migrate(ctx, audit.Migrations); err != nil {
		t.Fatal(err)
	}
	prev := audit.Configured()
	audit.Configure(k)
	err := db.Transact(ctx, func(tx *store.Tx) error { return audit.Append(ctx, tx, e) })
	audit.Configure(prev)
	if err != nil {
		t.Fatal(err)
	}
	got := events(t, db)[0]
	got.ID = 0
	return got
}

// TestUntamperedLogVerifies: an old and a new checkpoint both hold, the
// events before the key was configured need no signature, and the
// checkpoints the log holds agree.
func TestUntamperedLogVerifies(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		appendN(t, db, 5) // before a key was configured
		k := newKey(t)
		withKey(t, k)
		dir := t.TempDir()
		appendN(t, db, 40)
		old := checkpoint(t, db, k, dir)
		if again := checkpoint(t, db, k, dir); again.Size != old.Size || string(again.Note) != string(old.Note) {
			t.Errorf("a checkpoint with nothing new since: size %d, want the latest (%d) again", again.Size, old.Size)
		}
		appendN(t, db, 30)
		latest := checkpoint(t, db, k, dir)
		if latest.Size != old.Size+1+30 {
			t.Errorf("new checkpoint size %d, want %d", latest.Size, old.Size+31)
		}
		for _, cp := range []*audit.Checkpoint{old, latest} {
			r := check(t, db, audit.CheckOptions{Verifier: k.Verifier(), Checkpoint: cp})
			if err := r.Err(); err != nil {
				t.Fatalf("against checkpoint %d: %v", cp.Size, err)
			}
			if r.Checkpoint != cp {
				t.Errorf("against checkpoint %d: not reported consistent", cp.Size)
			}
			if r.Events != 77 || r.FirstSigned != 5 || r.Signed != 72 {
				t.Errorf("events %d, first signed %d, signed %d; want 77, 5, 72", r.Events, r.FirstSigned, r.Signed)
			}
		}
		// The folder holds one file per checkpoint and latest.
		for _, name := range []string{"checkpoint-45.txt", "checkpoint-76.txt", "latest"} {
			if _, err := os.Stat(filepath.Join(dir, name)); err != nil {
				t.Errorf("checkpoint folder: %v", err)
			}
		}
		b, _ := os.ReadFile(filepath.Join(dir, "latest"))
		if string(b) != string(latest.Note) {
			t.Errorf("latest file holds %q", b)
		}
		text := strings.SplitN(string(latest.Note), "\n\n", 2)[0]
		if want := fmt.Sprintf("kompas audit log kompas-test\n76\n%s", latest.Root); text != want {
			t.Errorf("checkpoint text %q, want %q", text, want)
		}
		got, err := audit.Latest(context.Background(), db, k.Verifier())
		if err != nil || got == nil || got.Size != latest.Size {
			t.Errorf("Latest = %+v, %v", got, err)
		}
	}, audit.Migrations)
}

// TestCheckpointsNarrowAnAlteredEvent: with only checkpoints to go on (no
// key to check signatures, the stored tree rebuilt), the report names the
// narrowest range the checkpoints allow; with the key, the log's own
// checkpoints catch the edit even without one given.
func TestCheckpointsNarrowAnAlteredEvent(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		k := newKey(t)
		withKey(t, k)
		dir := t.TempDir()
		appendN(t, db, 40)
		checkpoint(t, db, k, dir) // size 40, event 40
		appendN(t, db, 39)
		checkpoint(t, db, k, dir) // size 80, event 80
		appendN(t, db, 39)
		last := checkpoint(t, db, k, dir) // size 120
		all := events(t, db)
		bypassGuards(t, db)
		exec(t, db, `UPDATE audit_events SET purpose = 'covering up' WHERE seq = 60`)
		rechain(t, db, 60)
		exec(t, db, `DELETE FROM audit_tree`)
		if _, err := audit.Sync(context.Background(), db); err != nil {
			t.Fatal(err)
		}
		others, bad, err := audit.ReadCheckpoints(dir, k.Verifier())
		if err != nil || len(bad) > 0 || len(others) != 4 { // three files and latest
			t.Fatalf("ReadCheckpoints = %d, %v, %v", len(others), bad, err)
		}
		r := check(t, db, audit.CheckOptions{Checkpoint: last, Others: others})
		wantProblem(t, r, "do not hash to the root of the checkpoint of size 120",
			fmt.Sprintf("an event in seq 40..79 (ids %d..%d) was altered or replaced", all[40].ID, all[79].ID),
			"matches the checkpoint of size 40, not the one of size 80")
		// No checkpoint given: the signed checkpoints in the log fail too.
		r = check(t, db, audit.CheckOptions{Verifier: k.Verifier()})
		wantProblem(t, r, "signed checkpoint of size 80", fmt.Sprintf("event %d (seq 60) does not carry a valid signature", all[60].ID))
	}, audit.Migrations)
}

// TestCheckpointerRefusesToSignOverTampering: once the stored tree no
// longer matches the latest checkpoint, no new one is signed.
func TestCheckpointerRefusesToSignOverTampering(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		k := newKey(t)
		withKey(t, k)
		dir := t.TempDir()
		appendN(t, db, 10)
		checkpoint(t, db, k, dir)
		bypassGuards(t, db)
		exec(t, db, `UPDATE audit_events SET detail = 'x' WHERE seq = 3`)
		rechain(t, db, 3)
		exec(t, db, `DELETE FROM audit_tree`)
		appendN(t, db, 2)
		_, err := (&audit.Checkpointer{DB: db, Key: k, Dir: dir}).Checkpoint(context.Background())
		if err == nil || !strings.Contains(err.Error(), "no longer matches checkpoint 10") {
			t.Errorf("Checkpoint after tampering = %v, want a refusal naming checkpoint 10", err)
		}
	}, audit.Migrations)
}

// TestSyncAndProof: the stored tree grows in chunks to the same root Check
// recomputes, and an inclusion proof checks with tlog.
func TestSyncAndProof(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		k := newKey(t)
		withKey(t, k)
		appendN(t, db, 7)
		if size, err := audit.Sync(ctx, db); err != nil || size != 7 {
			t.Fatalf("Sync = %d, %v", size, err)
		}
		// More than one sync chunk at once.
		err := db.Transact(ctx, func(tx *store.Tx) error {
			for i := range 5000 {
				if err := audit.Append(ctx, tx, audit.Event{Actor: "bulk", Action: audit.ActionImport, ObjectType: "thing", ObjectID: strconv.Itoa(i)}); err != nil {
					return err
				}
			}
			return nil
		})
		if err != nil {
			t.Fatal(err)
		}
		if size, err := audit.Sync(ctx, db); err != nil || size != 5007 {
			t.Fatalf("Sync = %d, %v", size, err)
		}
		cp := checkpoint(t, db, k, "")
		r := check(t, db, audit.CheckOptions{Verifier: k.Verifier(), Checkpoint: cp})
		if r.Err() != nil || r.Size != 5008 {
			t.Fatalf("Check: size %d, %v", r.Size, r.Err())
		}
		all := events(t, db)
		for _, e := range []audit.Event{all[0], all[6], all[4095], all[4096], all[5006]} {
			p, err := audit.Prove(ctx, db, e.ID, cp.Size)
			if err != nil {
				t.Fatalf("Prove %d: %v", e.ID, err)
			}
			if p.Root != cp.Root || p.Index != e.Seq || p.Size != cp.Size {
				t.Errorf("proof of %d: root %s index %d size %d", e.ID, p.Root, p.Index, p.Size)
			}
			if string(p.Leaf) != string(audit.LeafData(e)) {
				t.Errorf("proof of %d: leaf is not the event's LeafData", e.ID)
			}
			if err := tlog.CheckRecord(p.Hashes, cp.Size, cp.Root, e.Seq, tlog.RecordHash(audit.LeafData(e))); err != nil {
				t.Errorf("proof of %d does not check: %v", e.ID, err)
			}
			other := all[(int(e.Seq)+1)%len(all)]
			if err := tlog.CheckRecord(p.Hashes, cp.Size, cp.Root, e.Seq, tlog.RecordHash(audit.LeafData(other))); err == nil {
				t.Errorf("proof of %d also proves event %d", e.ID, other.ID)
			}
		}
		if _, err := audit.Prove(ctx, db, all[10].ID, 10); err == nil || !strings.Contains(err.Error(), "size") {
			t.Errorf("proof against a tree without the event = %v, want a size error", err)
		}
		if _, err := audit.Prove(ctx, db, 999999, cp.Size); err == nil {
			t.Error("proof of an unknown event")
		}
	}, audit.Migrations)
}

// TestMigrationGivesExistingEventsSeq: a log written before 0002 (with an
// identity gap on PostgreSQL from a rolled-back append) gets leaf indexes
// in id order, still verifies, and the chain continues.
func TestMigrationGivesExistingEventsSeq(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		first := fstest.MapFS{}
		for _, name := range []string{"0001_audit.sqlite.sql", "0001_audit.postgres.sql"} {
			b, err := fs.ReadFile(audit.Migrations.FS, name)
			if err != nil {
				t.Fatal(err)
			}
			first[name] = &fstest.MapFile{Data: b}
		}
		if _, err := db.Migrate(ctx, store.Migrations{Module: "audit", FS: first}); err != nil {
			t.Fatal(err)
		}
		prev := strings.Repeat("0", 64)
		for i := range 5 {
			e := audit.Event{At: store.Now(), Actor: "old", Action: "create", ObjectType: "thing", ObjectID: strconv.Itoa(i), PrevHash: prev}
			e.Hash = chainHash(e)
			err := db.Transact(ctx, func(tx *store.Tx) error {
				_, err := tx.Exec(ctx, `INSERT INTO audit_events (at, actor, org, action, object_type, object_id, purpose, detail, prev_hash, hash)
					VALUES (?, ?, '', ?, ?, ?, '', '', ?, ?)`, store.FormatTime(e.At), e.Actor, e.Action, e.ObjectType, e.ObjectID, e.PrevHash, e.Hash)
				if err != nil || i != 2 {
					return err
				}
				return errRollback // leaves an identity gap on PostgreSQL
			})
			if i == 2 {
				continue
			}
			if err != nil {
				t.Fatal(err)
			}
			prev = e.Hash
		}
		if _, err := db.Migrate(ctx, audit.Migrations); err != nil {
			t.Fatalf("migrate to 0002: %v", err)
		}
		appendN(t, db, 2)
		var seqs []int64
		for _, e := range events(t, db) {
			seqs = append(seqs, e.Seq)
		}
		if fmt.Sprint(seqs) != "[0 1 2 3 4 5]" {
			t.Errorf("seqs %v, want 0..5", seqs)
		}
		if n, err := audit.Verify(ctx, db); err != nil || n != 6 {
			t.Errorf("Verify = %d, %v", n, err)
		}
		if size, err := audit.Sync(ctx, db); err != nil || size != 6 {
			t.Errorf("Sync = %d, %v", size, err)
		}
		// The update guard is back after the migration.
		if _, err := db.Exec(ctx, `UPDATE audit_events SET detail = 'x' WHERE seq = 0`); err == nil {
			t.Error("the migration left the table open to UPDATE")
		}
	}) // migrated by the test, in two steps
}

// TestAppendOnlyGuards: TRUNCATE (PostgreSQL) and changes to the stored
// tree are refused too, and a row without seq cannot be inserted.
func TestAppendOnlyGuards(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		appendN(t, db, 3)
		if _, err := audit.Sync(ctx, db); err != nil {
			t.Fatal(err)
		}
		stmts := []string{`UPDATE audit_tree SET hash = hash WHERE idx = 0`, `DELETE FROM audit_tree`,
			`INSERT INTO audit_events (at, actor, org, action, object_type, object_id, purpose, detail, prev_hash, hash) VALUES ('x', '', '', 'a', 'b', '', '', '', '', '')`}
		if db.Dialect() == store.Postgres {
			stmts = append(stmts, `TRUNCATE audit_events`, `TRUNCATE audit_tree`)
		}
		for _, q := range stmts {
			if _, err := db.Exec(ctx, q); err == nil {
				t.Errorf("%s was accepted", q)
			}
		}
		if n, err := audit.Verify(ctx, db); err != nil || n != 3 {
			t.Errorf("Verify = %d, %v", n, err)
		}
	}, audit.Migrations)
}

// TestConcurrentNodesSignOneLog: two handles (nodes) append signed events
// and checkpoint at once; the log verifies with every signature and
// against every checkpoint either signed.
func TestConcurrentNodesSignOneLog(t *testing.T) {
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
			k := newKey(t)
			withKey(t, k)
			const writers, each = 3, 20
			var wg sync.WaitGroup
			var mu sync.Mutex
			var cps []*audit.Checkpoint
			errs := make(chan error, 100)
			for n, db := range nodes {
				cpr := &audit.Checkpointer{DB: db, Key: k}
				for w := range writers {
					wg.Go(func() {
						for i := range each {
							e := audit.Event{Actor: fmt.Sprintf("node%d", n), Action: audit.ActionCreate, ObjectType: "thing", ObjectID: fmt.Sprintf("%d-%d", w, i)}
							if err := db.Transact(ctx, func(tx *store.Tx) error { return audit.Append(ctx, tx, e) }); err != nil {
								errs <- err
								return
							}
							if i%5 == 4 {
								cp, err := cpr.Checkpoint(ctx)
								if err != nil {
									errs <- err
									return
								}
								mu.Lock()
								cps = append(cps, cp)
								mu.Unlock()
							}
						}
					})
				}
			}
			wg.Wait()
			close(errs)
			for err := range errs {
				t.Errorf("node: %v", err)
			}
			roots := map[int64]tlog.Hash{}
			for _, cp := range cps {
				if r, ok := roots[cp.Size]; ok && r != cp.Root {
					t.Errorf("two checkpoints of size %d disagree on the root", cp.Size)
				}
				roots[cp.Size] = cp.Root
				r := check(t, nodes[1], audit.CheckOptions{Verifier: k.Verifier(), Checkpoint: cp})
				if err := r.Err(); err != nil {
					t.Fatalf("against checkpoint %d: %v", cp.Size, err)
				}
			}
			if len(roots) < 2 {
				t.Errorf("only %d distinct checkpoints", len(roots))
			}
			r := check(t, nodes[0], audit.CheckOptions{Verifier: k.Verifier()})
			if r.Signed != r.Events || r.Events < len(nodes)*writers*each {
				t.Errorf("%d of %d events signed, want all of at least %d", r.Signed, r.Events, len(nodes)*writers*each)
			}
		})
	}
}

func TestKeys(t *testing.T) {
	private, public, err := audit.GenerateKey("kompas.example")
	if err != nil {
		t.Fatal(err)
	}
	k, err := audit.ParseKey(private + "\n")
	if err != nil {
		t.Fatal(err)
	}
	if k.Name() != "kompas.example" || k.VerifierKey() != public {
		t.Errorf("key %q / %q, want kompas.example / %q", k.Name(), k.VerifierKey(), public)
	}
	for _, text := range []string{public, private} {
		v, err := audit.ParseVerifier(text)
		if err != nil {
			t.Fatalf("ParseVerifier: %v", err)
		}
		if v.KeyHash() != k.Verifier().KeyHash() || v.Name() != "kompas.example" {
			t.Errorf("verifier from %.12q… differs", text)
		}
	}
	for _, name := range []string{"", "two words", "a+b", "tab\there"} {
		if _, _, err := audit.GenerateKey(name); err == nil {
			t.Errorf("GenerateKey(%q) accepted the name", name)
		}
	}
	for _, bad := range []string{"", "PRIVATE+KEY+x+00000000+AAAA", public} {
		if _, err := audit.ParseKey(bad); err == nil {
			t.Errorf("ParseKey(%.20q) accepted", bad)
		}
	}
	if _, err := audit.ParseVerifier("nonsense"); err == nil {
		t.Error("ParseVerifier accepted nonsense")
	}
	// A checkpoint opens only with its own key.
	other := newKey(t)
	cpText := checkpointOf(t, k)
	if _, err := audit.ParseCheckpoint(cpText, other.Verifier()); err == nil {
		t.Error("a checkpoint opened with another key")
	}
	if c, err := audit.ParseCheckpoint(cpText, k.Verifier()); err != nil || c.Size != 1 {
		t.Errorf("ParseCheckpoint = %+v, %v", c, err)
	}
}

func checkpointOf(t *testing.T, k *audit.Key) []byte {
	t.Helper()
	db := storetest.Open(t, "sqlite")
	if _, err := db.Migrate(context.Background(), audit.Migrations); err != nil {
		t.Fatal(err)
	}
	appendN(t, db, 1)
	return checkpoint(t, db, k, "").Note
}

// TestApplicationRoleGrants: on PostgreSQL the application's role has only
// INSERT and SELECT on the log (and what the stored tree needs), yet
// appends, syncs, checkpoints and proves; UPDATE, DELETE and TRUNCATE are
// refused by the grants, before any trigger.
func TestApplicationRoleGrants(t *testing.T) {
	ctx := context.Background()
	u := storetest.URL(t, "postgres")
	owner, err := store.Open(ctx, u)
	if err != nil {
		t.Fatal(err)
	}
	defer owner.Close()
	if _, err := owner.Migrate(ctx, audit.Migrations); err != nil {
		t.Fatal(err)
	}
	var schema string
	if err := owner.QueryRow(ctx, `SELECT current_schema()`).Scan(&schema); err != nil {
		t.Fatal(err)
	}
	var b [4]byte
	_, _ = rand.Read(b[:])
	role := "kompas_app_" + hex.EncodeToString(b[:])
	for _, q := range []string{
		`CREATE ROLE ` + role + ` NOLOGIN`,
		`GRANT USAGE ON SCHEMA ` + schema + ` TO ` + role,
		`GRANT SELECT, INSERT ON audit_events, audit_tree TO ` + role,
		`GRANT USAGE ON SEQUENCE audit_events_id_seq TO ` + role,
	} {
		exec(t, owner, q)
	}
	t.Cleanup(func() {
		// The schema (and so the grants' objects) is dropped by storetest;
		// the role is cluster-wide.
		_, _ = owner.Exec(ctx, `DROP OWNED BY `+role)
		_, _ = owner.Exec(ctx, `DROP ROLE `+role)
	})
	// The application connects as before but acts as the role.
	app, err := store.Open(ctx, u+"&options=-c%20role%3D"+role)
	if err != nil {
		t.Fatal(err)
	}
	defer app.Close()
	var who string
	if err := app.QueryRow(ctx, `SELECT current_user`).Scan(&who); err != nil || who != role {
		t.Fatalf("current_user = %q, %v; want %s", who, err, role)
	}
	// It starts like serve does: migrating, with nothing left to apply.
	exec(t, owner, `GRANT SELECT ON schema_migrations TO `+role)
	if applied, err := app.Migrate(ctx, audit.Migrations); err != nil || len(applied) > 0 {
		t.Fatalf("Migrate as the application role = %v, %v", applied, err)
	}
	k := newKey(t)
	withKey(t, k)
	appendN(t, app, 5)
	cp := checkpoint(t, app, k, t.TempDir())
	all := events(t, app)
	if _, err := audit.Prove(ctx, app, all[2].ID, cp.Size); err != nil {
		t.Errorf("Prove as the application role: %v", err)
	}
	if r := check(t, app, audit.CheckOptions{Verifier: k.Verifier(), Checkpoint: cp}); r.Err() != nil {
		t.Errorf("Check as the application role: %v", r.Err())
	}
	for _, q := range []string{
		`UPDATE audit_events SET detail = 'x' WHERE seq = 1`,
		`DELETE FROM audit_events WHERE seq = 4`,
		`TRUNCATE audit_events`,
		`UPDATE audit_tree SET hash = hash`,
		`DELETE FROM audit_tree`,
		`TRUNCATE audit_tree`,
		`ALTER TABLE audit_events DISABLE TRIGGER USER`,
	} {
		_, err := app.Exec(ctx, q)
		if err == nil {
			t.Errorf("%s: accepted from the application role", q)
			continue
		}
		if want := "permission denied"; !strings.Contains(err.Error(), want) && !strings.Contains(err.Error(), "must be owner") {
			t.Errorf("%s: %v, want %q", q, err, want)
		}
	}
	if n, err := audit.Verify(ctx, owner); err != nil || n != 6 {
		t.Errorf("Verify = %d, %v", n, err)
	}
}
