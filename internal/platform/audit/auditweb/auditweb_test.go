package auditweb_test

import (
	"context"
	"encoding/base64"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"golang.org/x/mod/sumdb/tlog"

	"kompas/internal/app"
	"kompas/internal/app/apptest"
	"kompas/internal/platform/audit"
	"kompas/internal/platform/store"
	"kompas/internal/platform/store/storetest"
)

func TestAccess(t *testing.T) {
	apptest.Each(t, func(t *testing.T, e *apptest.Env) {
		cases := []struct {
			name, as, path string
			want           int
		}{
			{"events unauthenticated", "", "/api/v1/audit/events", http.StatusUnauthorized},
			{"events wrong role", "policy@mfa.example", "/api/v1/audit/events", http.StatusForbidden},
			{"events privacy officer", "privacy@mfa.example", "/api/v1/audit/events", http.StatusOK},
			{"events admin", "admin@mfa.example", "/api/v1/audit/events?limit=5", http.StatusOK},
			{"events bad limit", "privacy@mfa.example", "/api/v1/audit/events?limit=0", http.StatusBadRequest},
			{"verify unauthenticated", "", "/api/v1/audit/verify", http.StatusUnauthorized},
			{"verify wrong role", "analyst@dtm.example", "/api/v1/audit/verify", http.StatusForbidden},
			{"verify privacy officer", "privacy@mfa.example", "/api/v1/audit/verify", http.StatusOK},
		}
		for _, c := range cases {
			tok := ""
			if c.as != "" {
				tok = e.Token(c.as)
			}
			if res := e.Do("GET", c.path, tok, nil); res.Status != c.want {
				t.Errorf("%s: status %d, want %d: %s", c.name, res.Status, c.want, res.Body)
			}
		}
		// The page: signed out → sign-in, wrong role → 403, privacy officer → the table.
		for _, c := range []struct {
			as   string
			want int
		}{{"", http.StatusSeeOther}, {"caseworker@rds.example", http.StatusForbidden}, {"privacy@mfa.example", http.StatusOK}} {
			res, err := e.Browser(c.as).Get(e.URL + "/audit?verify=1")
			if err != nil {
				t.Fatal(err)
			}
			res.Body.Close()
			if res.StatusCode != c.want {
				t.Errorf("/audit as %q: %d, want %d", c.as, res.StatusCode, c.want)
			}
		}
	})
}

func TestReadingTheLogIsAuditedAndVerifyReportsBreaks(t *testing.T) {
	apptest.Each(t, func(t *testing.T, e *apptest.Env) {
		tok := e.Token("privacy@mfa.example")
		before := e.Count("audit_events")
		var events []struct {
			ID         int64
			Actor      string `json:"actor"`
			Action     string `json:"action"`
			ObjectType string `json:"object_type"`
		}
		e.Do("GET", "/api/v1/audit/events?actor=policy@mfa.example", tok, nil).JSON(&events)
		if after := e.Count("audit_events"); after != before+1 {
			t.Errorf("reading the log added %d events, want 1", after-before)
		}
		var ok struct {
			Intact bool
			Events int
		}
		e.Do("GET", "/api/v1/audit/verify", tok, nil).JSON(&ok)
		if !ok.Intact || ok.Events < before {
			t.Fatalf("verify on a clean log: %+v", ok)
		}
		// Break the chain behind the trigger's back and see it named.
		ctx := context.Background()
		drop := `DROP TRIGGER audit_events_no_update`
		if e.DB.Dialect() == store.Postgres {
			drop = `DROP TRIGGER audit_events_no_change ON audit_events`
		}
		if _, err := e.DB.Exec(ctx, drop); err != nil {
			t.Fatal(err)
		}
		if _, err := e.DB.Exec(ctx, `UPDATE audit_events SET detail = 'forged' WHERE id = 3`); err != nil {
			t.Fatal(err)
		}
		var broken struct {
			Intact   bool
			BrokenAt int64 `json:"broken_at"`
			Reason   string
		}
		e.Do("GET", "/api/v1/audit/verify", tok, nil).JSON(&broken)
		if broken.Intact || broken.BrokenAt != 3 || !strings.Contains(broken.Reason, "altered") {
			t.Errorf("verify after tampering: %+v", broken)
		}
	})
}

// TestRefusedReadsFilter: the filter takes 1 or nothing, lists only denied
// events, says so when there are none, and its use is audited.
func TestRefusedReadsFilter(t *testing.T) {
	apptest.Each(t, func(t *testing.T, e *apptest.Env) {
		tok := e.Token("privacy@mfa.example")
		if res := e.Do("GET", "/api/v1/audit/events?refused=yes", tok, nil); res.Status != http.StatusBadRequest || res.Problem().Errors[0].Field != "refused" {
			t.Errorf("refused=yes: %d %s", res.Status, res.Body)
		}
		var events []struct{ Action string }
		e.Do("GET", "/api/v1/audit/events?refused=1", tok, nil).JSON(&events)
		if len(events) != 0 {
			t.Errorf("a fresh log lists %d refusals", len(events))
		}
		// A case the analyst may not see at all: one refusal.
		if res := e.Do("GET", "/api/v1/returns/cases/1", e.Token("analyst@dtm.example"), nil); res.Status != http.StatusForbidden && res.Status != http.StatusNotFound {
			t.Fatalf("analyst reads a case: %d", res.Status)
		}
		e.Do("GET", "/api/v1/audit/events?refused=1", tok, nil).JSON(&events)
		if len(events) != 1 || events[0].Action != "denied" {
			t.Errorf("refusals listed: %+v", events)
		}
		res, err := e.Browser("privacy@mfa.example").Get(e.URL + "/audit?refused=1&actor=nobody@example.org")
		if err != nil {
			t.Fatal(err)
		}
		b, _ := io.ReadAll(res.Body)
		res.Body.Close()
		if res.StatusCode != http.StatusOK || !strings.Contains(string(b), "No refused reads match.") || !strings.Contains(string(b), `id="f-refused" name="refused" type="checkbox" value="1" checked`) {
			t.Errorf("page: %d %.2000s", res.StatusCode, b)
		}
		var n int
		if err := e.DB.QueryRow(context.Background(), `SELECT COUNT(*) FROM audit_events WHERE action = 'read' AND object_type = 'audit_log' AND detail LIKE '%refused=1'`).Scan(&n); err != nil || n != 3 {
			t.Errorf("%d audited reads of refusals, want 3 (%v)", n, err)
		}
	})
}

// keyed starts Kompas with an audit key and a checkpoint folder.
func keyed(t *testing.T, engine string) (*apptest.Env, *audit.Key, string) {
	t.Helper()
	private, _, err := audit.GenerateKey("kompas-web-test")
	if err != nil {
		t.Fatal(err)
	}
	k, err := audit.ParseKey(private)
	if err != nil {
		t.Fatal(err)
	}
	audit.Configure(k)
	t.Cleanup(func() { audit.Configure(nil) })
	dir := t.TempDir()
	e := apptest.NewWith(t, engine, func(db *store.DB) app.Options {
		return app.Options{Checkpointer: &audit.Checkpointer{DB: db, Key: k, Dir: dir}}
	})
	return e, k, dir
}

func TestCheckpointAPI(t *testing.T) {
	for _, engine := range storetest.Engines {
		t.Run(engine, func(t *testing.T) {
			e, k, dir := keyed(t, engine)
			for _, c := range []struct {
				as   string
				want int
			}{{"", http.StatusUnauthorized}, {"policy@mfa.example", http.StatusForbidden}, {"admin@mfa.example", http.StatusOK}} {
				tok := ""
				if c.as != "" {
					tok = e.Token(c.as)
				}
				if res := e.Do("GET", "/api/v1/audit/checkpoint", tok, nil); res.Status != c.want {
					t.Errorf("checkpoint as %q: %d, want %d", c.as, res.Status, c.want)
				}
			}
			tok := e.Token("privacy@mfa.example")
			res := e.Do("GET", "/api/v1/audit/checkpoint", tok, nil)
			if res.Status != http.StatusOK || !strings.HasPrefix(res.Header.Get("Content-Type"), "text/plain") {
				t.Fatalf("checkpoint: %d %s %s", res.Status, res.Header.Get("Content-Type"), res.Body)
			}
			first, err := audit.ParseCheckpoint(res.Body, k.Verifier())
			if err != nil {
				t.Fatalf("the served checkpoint does not open with the key: %v\n%s", err, res.Body)
			}
			if latest, _ := os.ReadFile(filepath.Join(dir, "latest")); string(latest) != string(res.Body) {
				t.Errorf("the folder's latest is not the served checkpoint")
			}
			// Reading does not sign again; signing now after more events does.
			if again := e.Do("GET", "/api/v1/audit/checkpoint", tok, nil); string(again.Body) != string(res.Body) {
				t.Errorf("a second GET served another checkpoint")
			}
			e.Do("GET", "/api/v1/audit/events?limit=1", tok, nil) // appends a read event
			now := e.Do("POST", "/api/v1/audit/checkpoint", tok, nil)
			second, err := audit.ParseCheckpoint(now.Body, k.Verifier())
			if err != nil || second.Size <= first.Size {
				t.Fatalf("POST checkpoint: %d %s (%v)", now.Status, now.Body, err)
			}
			var v struct {
				Intact   bool
				Signed   int
				Problems []string
			}
			e.Do("GET", "/api/v1/audit/verify", tok, nil).JSON(&v)
			if !v.Intact || v.Signed == 0 || len(v.Problems) > 0 {
				t.Errorf("verify with a key: %+v", v)
			}
		})
	}
}

func TestProofAPI(t *testing.T) {
	for _, engine := range storetest.Engines {
		t.Run(engine, func(t *testing.T) {
			e, k, _ := keyed(t, engine)
			ctx := context.Background()
			tok := e.Token("privacy@mfa.example")
			all, err := audit.List(ctx, e.DB, audit.Filter{Limit: 500})
			if err != nil || len(all) < 10 {
				t.Fatalf("List = %d, %v", len(all), err)
			}
			ev := all[len(all)-6] // an early event
			var p struct {
				EventID    int64    `json:"event_id"`
				LeafIndex  int64    `json:"leaf_index"`
				TreeSize   int64    `json:"tree_size"`
				Root       string   `json:"root"`
				Leaf       string   `json:"leaf"`
				LeafHash   string   `json:"leaf_hash"`
				Hashes     []string `json:"hashes"`
				Checkpoint string   `json:"checkpoint"`
			}
			res := e.Do("GET", fmt.Sprintf("/api/v1/audit/events/%d/proof", ev.ID), tok, nil)
			if res.Status != http.StatusOK {
				t.Fatalf("proof: %d %s", res.Status, res.Body)
			}
			res.JSON(&p)
			cp, err := audit.ParseCheckpoint([]byte(p.Checkpoint), k.Verifier())
			if err != nil {
				t.Fatalf("the proof's checkpoint: %v", err)
			}
			root, err := tlog.ParseHash(p.Root)
			if err != nil || root != cp.Root || p.TreeSize != cp.Size || p.LeafIndex != ev.Seq || p.EventID != ev.ID {
				t.Fatalf("proof %+v against checkpoint %d %s", p, cp.Size, cp.Root)
			}
			hashes := make(tlog.RecordProof, len(p.Hashes))
			for i, s := range p.Hashes {
				if hashes[i], err = tlog.ParseHash(s); err != nil {
					t.Fatal(err)
				}
			}
			leaf, err := base64.StdEncoding.DecodeString(p.Leaf)
			if err != nil || string(leaf) != string(audit.LeafData(ev)) {
				t.Fatalf("leaf is not the event's LeafData (%v)", err)
			}
			// The witness's check: the event as listed, the checkpoint it keeps.
			if err := tlog.CheckRecord(hashes, cp.Size, cp.Root, ev.Seq, tlog.RecordHash(audit.LeafData(ev))); err != nil {
				t.Errorf("the proof does not check: %v", err)
			}
			forged := ev
			forged.Detail += " (edited)"
			if err := tlog.CheckRecord(hashes, cp.Size, cp.Root, ev.Seq, tlog.RecordHash(audit.LeafData(forged))); err == nil {
				t.Error("the proof also proves an edited event")
			}
			// Against an explicit, smaller size.
			var small struct {
				TreeSize int64 `json:"tree_size"`
				Root     string
			}
			e.Do("GET", fmt.Sprintf("/api/v1/audit/events/%d/proof?size=%d", ev.ID, ev.Seq+1), tok, nil).JSON(&small)
			if small.TreeSize != ev.Seq+1 {
				t.Errorf("proof with size: tree size %d, want %d", small.TreeSize, ev.Seq+1)
			}
			// Bad input names the field; unknown events and roles are refused.
			for _, c := range []struct {
				path, as string
				want     int
				field    string
			}{
				{fmt.Sprintf("/api/v1/audit/events/%d/proof?size=abc", ev.ID), "privacy@mfa.example", http.StatusBadRequest, "size"},
				{fmt.Sprintf("/api/v1/audit/events/%d/proof?size=%d", ev.ID, ev.Seq), "privacy@mfa.example", http.StatusUnprocessableEntity, "size"},
				{fmt.Sprintf("/api/v1/audit/events/%d/proof?size=99999999", ev.ID), "privacy@mfa.example", http.StatusUnprocessableEntity, "size"},
				{"/api/v1/audit/events/99999999/proof", "privacy@mfa.example", http.StatusNotFound, ""},
				{"/api/v1/audit/events/x/proof", "privacy@mfa.example", http.StatusNotFound, ""},
				{fmt.Sprintf("/api/v1/audit/events/%d/proof", ev.ID), "caseworker@rds.example", http.StatusForbidden, ""},
				{fmt.Sprintf("/api/v1/audit/events/%d/proof", ev.ID), "", http.StatusUnauthorized, ""},
			} {
				tok := ""
				if c.as != "" {
					tok = e.Token(c.as)
				}
				res := e.Do("GET", c.path, tok, nil)
				if res.Status != c.want {
					t.Errorf("%s as %q: %d, want %d: %s", c.path, c.as, res.Status, c.want, res.Body)
					continue
				}
				if c.field != "" {
					if pr := res.Problem(); len(pr.Errors) != 1 || pr.Errors[0].Field != c.field {
						t.Errorf("%s: problem %+v does not name %q", c.path, pr, c.field)
					}
				}
			}
		})
	}
}

// TestWithoutKey: no checkpoints, but proofs against the stored tree and
// the check still work.
func TestWithoutKey(t *testing.T) {
	apptest.Each(t, func(t *testing.T, e *apptest.Env) {
		tok := e.Token("privacy@mfa.example")
		for _, m := range []string{"GET", "POST"} {
			if res := e.Do(m, "/api/v1/audit/checkpoint", tok, nil); res.Status != http.StatusNotFound || !strings.Contains(res.Problem().Detail, "not tamper-evident") {
				t.Errorf("%s checkpoint without a key: %d %s", m, res.Status, res.Body)
			}
		}
		var p struct {
			TreeSize   int64  `json:"tree_size"`
			Checkpoint string `json:"checkpoint"`
		}
		res := e.Do("GET", "/api/v1/audit/events/1/proof?size=5", tok, nil)
		if res.Status != http.StatusOK {
			t.Fatalf("proof without a key: %d %s", res.Status, res.Body)
		}
		res.JSON(&p)
		if p.TreeSize != 5 || p.Checkpoint != "" {
			t.Errorf("proof without a key: %+v", p)
		}
	})
}
