package auditweb_test

import (
	"context"
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
