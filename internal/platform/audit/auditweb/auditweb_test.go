package auditweb_test

import (
	"context"
	"io"
	"net/http"
	"strings"
	"testing"

	"kompas/internal/app/apptest"
	"kompas/internal/platform/store"
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
