package e2e

import (
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"kompas/internal/app/apptest"
)

// returnCase registers a return case through the API as email and gives
// its id; the principal has special-category data recorded.
func returnCase(t *testing.T, env *apptest.Env, email, country, org, programme string) int64 {
	t.Helper()
	res := env.Do("POST", "/api/v1/returns/cases", env.Token(email), map[string]any{
		"country_of_return": country, "counselling_org": org, "programme": programme,
		"migrants": []map[string]any{{"given_name": "Hiwa", "family_name": "Rasul", "birth_date": "1991-06-01", "sex": "male", "nationality": country,
			"documents_held": []string{"expired_passport"}, "vulnerabilities": []string{"trafficking_victim", "medical_needs"}}},
	})
	if res.Status != 201 {
		t.Fatalf("register a return case: %d %s", res.Status, res.Body)
	}
	var c struct{ ID int64 }
	res.JSON(&c)
	return c.ID
}

// api calls the returns API as email and fails unless the status is want.
func api(t *testing.T, env *apptest.Env, want int, email, method, path string, body any) {
	t.Helper()
	if res := env.Do(method, path, env.Token(email), body); res.Status != want {
		t.Fatalf("%s %s as %s: %d, want %d: %s", method, path, email, res.Status, want, res.Body)
	}
}

// TestReturnCaseInBrowser: a counsellor of the NGO the migrant chose moves
// a case from counselling to documents through the transition form; the
// reintegration partner sees the plan of its case but not the
// vulnerabilities.
func TestReturnCaseInBrowser(t *testing.T) {
	env, b := start(t)
	const counsellor, partner, caseworker = "counsellor@ngo-one.example", "partner@reintegration.example", "caseworker@rds.example"

	id := returnCase(t, env, counsellor, "IQ", "ngo-one", "national")
	api(t, env, 200, counsellor, "POST", fmt.Sprintf("/api/v1/returns/cases/%d/transitions", id), map[string]string{"to": "counselling"})

	b.signIn(counsellor)
	casePage := fmt.Sprintf("/returns/cases/%d", id)
	if st := b.open(casePage); st != 200 {
		t.Fatalf("%s: status %d", casePage, st)
	}
	if stage := b.text("#case-stage"); stage != "Counselling" {
		t.Fatalf("case stage shows %q, want Counselling", stage)
	}
	res := b.submit(chromedp.CSS(fmt.Sprintf(`a[href="%s/move/documents"]`, casePage)))
	if res.Status != 200 || b.path() != casePage+"/move/documents" {
		t.Fatalf("the move link led to %s (status %d)", b.path(), res.Status)
	}
	if h1 := b.text("main h1"); !strings.Contains(h1, "to Documents") {
		t.Errorf("transition form heading = %q", h1)
	}
	b.do("give a reason", chromedp.SendKeys(chromedp.CSS("#f-reason"), "Counselling done; the migrant wants to go home."))
	res = b.submit(chromedp.CSS(fmt.Sprintf(`main form[action="%s/move/documents"] button[type="submit"]`, casePage)))
	if res.Status != 200 || b.path() != casePage {
		t.Fatalf("after the move the page is %s (status %d), want the case", b.path(), res.Status)
	}
	if stage := b.text("#case-stage"); stage != "Documents" {
		t.Errorf("case stage shows %q after the move, want Documents", stage)
	}
	if flash := b.text(".flash"); !strings.Contains(flash, "moved to Documents") {
		t.Errorf("flash = %q", flash)
	}
	if tl := b.text("ol.timeline"); !strings.Contains(tl, "Counselling → Documents") || !strings.Contains(tl, counsellor) || !strings.Contains(tl, "wants to go home") {
		t.Errorf("timeline = %q", tl)
	}
	// The counsellor sees the vulnerabilities; the partner will not.
	if main := b.text("main"); !strings.Contains(main, "Trafficking victim") {
		t.Errorf("the counsellor's case page does not show the vulnerabilities")
	}

	// Take the case to departure and reintegration through the API.
	today := time.Now().UTC().Format("2006-01-02")
	p := func(rest string) string { return fmt.Sprintf("/api/v1/returns/cases/%d%s", id, rest) }
	api(t, env, 201, counsellor, "POST", p("/consents"), map[string]any{"written": true, "given_on": today, "scope": []string{"reintegration_partner"}})
	api(t, env, 201, caseworker, "POST", p("/travel-documents"), map[string]any{"kind": "laissez_passer", "authority": "embassy"})
	api(t, env, 200, caseworker, "POST", p("/travel-documents/1/decision"), map[string]any{"status": "issued", "decided_on": today})
	api(t, env, 201, caseworker, "POST", p("/flights"), map[string]any{"date": today, "route": "AMS-IST-EBL", "medical_needs": "Daily insulin."})
	api(t, env, 200, caseworker, "POST", p("/transitions"), map[string]string{"to": "travel_booked"})
	api(t, env, 200, caseworker, "POST", p("/transitions"), map[string]string{"to": "departed"})
	api(t, env, 200, caseworker, "POST", p("/partner"), map[string]string{"partner": "reintegration"})
	api(t, env, 200, partner, "POST", p("/plan"), map[string]any{"needs": "A ground-floor flat near the clinic.", "aspirations": "Run a taxi.", "months": 12,
		"support": []map[string]any{{"type": "business_startup", "description": "Down payment on a used taxi", "amount": "1500"}}})

	pb := newBrowser(t, env, chromiumPath(t))
	pb.signIn(partner)
	if st := pb.open(casePage); st != 200 {
		t.Fatalf("partner opens %s: status %d", casePage, st)
	}
	main := pb.text("main")
	for _, want := range []string{"Reintegration plan", "A ground-floor flat near the clinic.", "Down payment on a used taxi", "Hiwa Rasul"} {
		if !strings.Contains(main, want) {
			t.Errorf("the partner's case page does not show %q", want)
		}
	}
	for _, hidden := range []string{"Vulnerabilities", "Trafficking victim", "Medical needs", "Daily insulin", "Documents held", "Expired passport", "Immigration history"} {
		if strings.Contains(main, hidden) {
			t.Errorf("the partner's case page shows %q", hidden)
		}
	}
	// The partner may move the case on from here.
	ids := run(pb, "move link", chromedp.QueryNodeIDs(chromedp.CSSAll(fmt.Sprintf(`a[href="%s/move/reintegration"]`, casePage)), chromedp.AtLeast(0)))
	if len(ids) != 1 {
		t.Errorf("the partner's page offers %d links to move the case to reintegration, want 1", len(ids))
	}
}

// TestReturnsAccessibility runs axe-core (WCAG 2.2 AA rules) over the
// returns pages: the work queue, a case, the registration form with and
// without errors, the transition form, record forms and the statistics.
func TestReturnsAccessibility(t *testing.T) {
	src := axeSource(t)
	env, b := start(t)
	const caseworker = "caseworker@rds.example"
	id := returnCase(t, env, caseworker, "IQ", "ngo-one", "national")
	api(t, env, 200, caseworker, "POST", fmt.Sprintf("/api/v1/returns/cases/%d/transitions", id), map[string]string{"to": "counselling"})
	b.signIn(caseworker)
	casePage := fmt.Sprintf("/returns/cases/%d", id)
	open := func(path string) func() {
		return func() {
			if st := b.open(path); st != 200 {
				t.Fatalf("%s: status %d", path, st)
			}
		}
	}
	checks := []struct {
		name string
		open func()
	}{
		{"work queue", open("/returns")},
		{"work queue filtered", open("/returns?stage=counselling&overdue=1")},
		{"case", open(casePage)},
		{"new case form", open("/returns/new")},
		{"new case form with errors", func() {
			open("/returns/new")()
			b.do("bad values", chromedp.SendKeys(chromedp.CSS("#f-country_of_return"), "XX"))
			if res := b.submit(`main form[action="/returns/cases"] button[type="submit"]`); res.Status != 422 {
				t.Fatalf("new case with errors: status %d, want 422", res.Status)
			}
		}},
		{"transition form", open(casePage + "/move/withdrawn")},
		{"transition form with errors", func() {
			open(casePage + "/move/withdrawn")()
			if res := b.submit(chromedp.CSS(fmt.Sprintf(`main form[action="%s/move/withdrawn"] button[type="submit"]`, casePage))); res.Status != 422 {
				t.Fatalf("withdrawal without reason: status %d, want 422", res.Status)
			}
		}},
		{"consent form", open(casePage + "/act/consent")},
		{"plan form", open(casePage + "/act/plan")},
		{"visit form", open(casePage + "/act/visit")},
		{"statistics", open("/statistics/returns")},
	}
	for _, c := range checks {
		c.open()
		rep := b.axe(src)
		t.Logf("%-28s %s: violations %s; %d rules pass", c.name, b.path(), counts(rep.Violations), rep.Passes)
		for _, v := range rep.Violations {
			msg := fmt.Sprintf("%s: %s", c.name, describeViolation(v))
			if v.Impact == "serious" || v.Impact == "critical" {
				t.Error(msg)
			} else {
				t.Log(msg)
			}
		}
	}
}
