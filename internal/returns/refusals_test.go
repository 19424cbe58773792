package returns_test

import (
	"fmt"
	"html"
	"net/http"
	"strings"
	"testing"
	"time"

	"kompas/internal/app"
	"kompas/internal/app/apptest"
	"kompas/internal/platform/audit/refusals"
	"kompas/internal/platform/store/storetest"
	"kompas/internal/platform/testclock"
)

// TestRefusedReadsAreAudited probes another party's case by its number, as
// an IDOR attack would: the answer is the 404 an unknown case gets, and the
// audit log names the caller and the case asked for, rate-limited, on the
// privacy officer's page.
func TestRefusedReadsAreAudited(t *testing.T) {
	for _, engine := range storetest.Engines {
		t.Run(engine, func(t *testing.T) {
			clk := testclock.New(time.Now().UTC())
			e := apptest.NewWithOptions(t, engine, app.Options{Refusals: &refusals.Recorder{Now: clk.Now}})
			own := create(t, e, ngoTwo, caseBody("MA", "ngo-two", "national")).ID
			theirs := create(t, e, caseworker, caseBody("IQ", "ngo-one", "national")).ID
			tok := e.Token(ngoTwo)
			deniedBy := func(who string, extra string, args ...any) int {
				return auditCount(t, e, `action = 'denied' AND actor = ?`+extra, append([]any{who}, args...)...)
			}

			// The probe, through the API and the page: a 404 like any
			// unknown case, and one event each naming the caller and the id.
			res := e.Do("GET", casePath(theirs), tok, nil)
			if res.Status != http.StatusNotFound || res.Problem().Detail != "Case not found." {
				t.Fatalf("probe: %d %s", res.Status, res.Body)
			}
			if n := deniedBy(ngoTwo, ` AND object_type = 'return_case' AND object_id = ? AND org = 'ngo-two' AND detail = ?`, itoa(theirs),
				fmt.Sprintf("refused with 404 Not Found: GET /api/v1/returns/cases/%d", theirs)); n != 1 {
				t.Errorf("the API probe left %d denied events naming the caller and the case, want 1", n)
			}
			if status, _ := page(t, e, e.Browser(ngoTwo), fmt.Sprintf("/returns/cases/%d", theirs)); status != http.StatusNotFound {
				t.Errorf("page probe: %d, want 404", status)
			}
			if n := deniedBy(ngoTwo, ` AND object_id = ? AND detail LIKE ?`, itoa(theirs), "%GET /returns/cases/%"); n != 1 {
				t.Errorf("the page probe left %d denied events, want 1", n)
			}
			// A write to it is refused and audited the same way.
			must(t, e, http.StatusNotFound, ngoTwo, "POST", casePath(theirs, "/consents"), map[string]any{"written": true, "given_on": today(), "scope": []string{"referrals"}})
			if n := deniedBy(ngoTwo, ` AND object_id = ? AND detail LIKE ?`, itoa(theirs), "%POST%/consents"); n != 1 {
				t.Errorf("the write probe left %d denied events, want 1", n)
			}

			// The caller's own case reads as before: a read, no refusal.
			must(t, e, http.StatusOK, ngoTwo, "GET", casePath(own), nil)
			if status, _ := page(t, e, e.Browser(ngoTwo), fmt.Sprintf("/returns/cases/%d", own)); status != http.StatusOK {
				t.Errorf("own case page: %d", status)
			}
			if n := deniedBy(ngoTwo, ` AND object_id = ?`, itoa(own)); n != 0 {
				t.Errorf("reading the own case left %d denied events", n)
			}
			if n := auditCount(t, e, `action = 'read' AND actor = ? AND object_id = ?`, ngoTwo, itoa(own)); n != 2 {
				t.Errorf("reading the own case left %d read events, want 2", n)
			}
			// A role that sees no cases is refused the queue (403), audited;
			// nobody signed in gets a 401, which is not a refusal.
			must(t, e, http.StatusForbidden, policy, "GET", "/api/v1/returns/cases", nil)
			if n := deniedBy(policy, ` AND object_type = 'return_case' AND object_id = '' AND detail LIKE ?`, "refused with 403 Forbidden: GET /api/v1/returns/cases"); n != 1 {
				t.Errorf("the refused queue left %d denied events, want 1", n)
			}
			before := auditCount(t, e, `action = 'denied'`)
			if res := e.Do("GET", casePath(theirs), "", nil); res.Status != http.StatusUnauthorized {
				t.Errorf("signed out: %d", res.Status)
			}
			if n := auditCount(t, e, `action = 'denied'`); n != before {
				t.Error("a signed-out request was audited as a refusal")
			}

			// 100 more probes in the same minute: the log takes the limit
			// (10 per caller and object type, three used above) one by one
			// and counts the rest.
			for i := range 100 {
				if res := e.Do("GET", casePath(theirs+int64(1000+i)), tok, nil); res.Status != http.StatusNotFound {
					t.Fatalf("probe %d: %d", i, res.Status)
				}
			}
			if n := deniedBy(ngoTwo, ``); n != refusals.DefaultLimit {
				t.Errorf("103 probes left %d denied events, want %d", n, refusals.DefaultLimit)
			}

			// The privacy officer's page lists them in words; once the
			// minute is over, with the count of the rest.
			clk.Advance(time.Minute)
			browser := e.Browser(privacy)
			status, body := page(t, e, browser, "/audit?refused=1&actor="+ngoTwo)
			body = html.UnescapeString(body)
			if status != http.StatusOK {
				t.Fatalf("audit page: %d", status)
			}
			for _, want := range []string{
				fmt.Sprintf("Refused access to return case %d: 404 Not Found: GET /api/v1/returns/cases/%d", theirs, theirs),
				fmt.Sprintf("Refused access to return case %d: 404 Not Found: GET /returns/cases/%d", theirs, theirs),
				"Refused access to return cases: 93 further refusals suppressed from",
				ngoTwo + " (ngo-two)",
			} {
				if !strings.Contains(body, want) {
					t.Errorf("the audit page does not say %q", want)
				}
			}
			if strings.Contains(body, "<td>read</td>") || strings.Contains(body, "<td>login</td>") || !strings.Contains(body, "<td>refused</td>") {
				t.Error("the refused-reads filter lists other events")
			}
			if n := deniedBy(ngoTwo, ``); n != refusals.DefaultLimit+1 {
				t.Errorf("%d denied events after the window, want the limit and one summary", n)
			}
			// The API filters the same way.
			var events []struct {
				Action, Actor, Detail string
				ObjectID              string `json:"object_id"`
			}
			must(t, e, http.StatusOK, privacy, "GET", "/api/v1/audit/events?refused=1", nil).JSON(&events)
			if len(events) != refusals.DefaultLimit+2 { // the caller's eleven and the policy officer's one
				t.Errorf("the API lists %d refusals, want %d", len(events), refusals.DefaultLimit+2)
			}
			for _, ev := range events {
				if ev.Action != "denied" {
					t.Errorf("refused=1 lists a %q event", ev.Action)
				}
			}
		})
	}
}
