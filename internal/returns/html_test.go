package returns_test

import (
	"bytes"
	"context"
	"fmt"
	"html"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"testing"

	"github.com/xuri/excelize/v2"

	"kompas/internal/app/apptest"
	"kompas/internal/demo"
	"kompas/internal/platform/facts"
	"kompas/internal/returns"
)

// TestForms uses the pages as a counsellor and a caseworker would, without
// JavaScript: register a case (first with a mistake), move it, record
// consent, request a travel document and decide it.
func TestForms(t *testing.T) {
	apptest.Each(t, func(t *testing.T, e *apptest.Env) {
		ngo := e.Browser(ngoOne)
		status, body := page(t, e, ngo, "/returns/new")
		if status != http.StatusOK || !strings.Contains(body, `name="m0_nationality"`) {
			t.Fatalf("new case form: %d", status)
		}
		form := url.Values{"country_of_return": {"iq"}, "counselling_org": {"ngo-one"}, "programme": {"national"}, "chosen_on": {today()},
			"m0_given_name": {"Omar"}, "m0_family_name": {"Saleh"}, "m0_birth_date": {"1988-02-03"}, "m0_sex": {"male"}, "m0_nationality": {"XX"},
			"m0_vulnerabilities": {"medical_needs"}, "m1_given_name": {""}}
		before := e.Count("return_cases")
		status, body, _ = post(t, e, ngo, "/returns/cases", form)
		if status != http.StatusUnprocessableEntity || !strings.Contains(body, `href="#f-m0_nationality"`) || !strings.Contains(body, `&#34;XX&#34; is not an ISO 3166-1`) {
			t.Fatalf("bad nationality: %d %s", status, summary(body))
		}
		// The summary names the field as the form labels it, not by its input name.
		if sm := html.UnescapeString(regexp.MustCompile(`<[^>]*>`).ReplaceAllString(summary(body), "")); !strings.Contains(sm, "The principal: nationality: ") || strings.Contains(sm, "m0_") {
			t.Errorf("the summary does not name the principal's nationality by its label: %s", sm)
		}
		if !strings.Contains(body, `value="Omar"`) || !strings.Contains(body, `value="medical_needs" checked`) {
			t.Error("the form did not keep what was typed")
		}
		if e.Count("return_cases") != before {
			t.Fatal("a refused form created a case")
		}
		form.Set("m0_nationality", "IQ")
		status, _, loc := post(t, e, ngo, "/returns/cases", form)
		if status != http.StatusSeeOther || !strings.HasPrefix(loc, "/returns/cases/") {
			t.Fatalf("register: %d → %q", status, loc)
		}
		casePage := loc
		if status, body = page(t, e, ngo, casePage); status != http.StatusOK || !strings.Contains(body, `id="case-stage">Registered`) || !strings.Contains(body, "Medical needs") {
			t.Fatalf("case page: %d", status)
		}
		// Move it on through the transition form.
		if status, body = page(t, e, ngo, casePage+"/move/counselling"); status != http.StatusOK || !strings.Contains(body, "Move case") {
			t.Fatalf("move form: %d", status)
		}
		if status, _, loc = post(t, e, ngo, casePage+"/move/counselling", url.Values{"reason": {""}}); status != http.StatusSeeOther || loc != casePage {
			t.Fatalf("move: %d → %s", status, loc)
		}
		if status, _ = page(t, e, ngo, casePage+"/move/departed"); status != http.StatusConflict {
			t.Errorf("a move out of order offers a form: %d", status)
		}
		status, body, _ = post(t, e, ngo, casePage+"/move/withdrawn", url.Values{"reason": {""}})
		if status != http.StatusUnprocessableEntity || !strings.Contains(body, `href="#f-reason"`) {
			t.Errorf("withdrawal without reason: %d %s", status, summary(body))
		}
		// Record consent; the first try forgets the scope.
		if status, _ = page(t, e, ngo, casePage+"/act/consent"); status != http.StatusOK {
			t.Fatalf("consent form: %d", status)
		}
		status, body, _ = post(t, e, ngo, casePage+"/act/consent", url.Values{"written": {"1"}, "given_on": {today()}})
		if status != http.StatusUnprocessableEntity || !strings.Contains(body, `href="#f-scope"`) || !strings.Contains(summary(body), "The migrant consents to sharing with: ") {
			t.Errorf("consent without scope: %d %s", status, summary(body))
		}
		if status, _, _ = post(t, e, ngo, casePage+"/act/consent", url.Values{"written": {"1"}, "given_on": {today()}, "scope": {"reintegration_partner", "referrals"}}); status != http.StatusSeeOther {
			t.Errorf("consent: %d", status)
		}
		if status, _ = page(t, e, ngo, casePage+"/act/flight"); status != http.StatusForbidden {
			t.Errorf("an NGO opens the flight form: %d", status)
		}
		if status, _, _ = post(t, e, ngo, casePage+"/act/plan", url.Values{"needs": {"Work as a driver."}, "support_type": {""}, "support_description": {""}, "support_amount": {""}}); status != http.StatusSeeOther {
			t.Errorf("pre-departure plan: %d", status)
		}
		if status, _, _ = post(t, e, ngo, casePage+"/move/documents", nil); status != http.StatusSeeOther {
			t.Errorf("to documents: %d", status)
		}
		// The caseworker requests and decides a travel document.
		cw := e.Browser(caseworker)
		if status, _, _ = post(t, e, cw, casePage+"/act/document", url.Values{"migrant_seq": {"0"}, "kind": {"laissez_passer"}, "authority": {"embassy"}, "authority_country": {"IQ"}}); status != http.StatusSeeOther {
			t.Errorf("document request: %d", status)
		}
		if status, body = page(t, e, cw, casePage+"/act/decision?doc=1"); status != http.StatusOK || !strings.Contains(body, `name="doc" value="1"`) {
			t.Errorf("decision form: %d", status)
		}
		if status, _, _ = post(t, e, cw, casePage+"/act/decision", url.Values{"doc": {"1"}, "status": {"issued"}, "decided_on": {today()}}); status != http.StatusSeeOther {
			t.Errorf("decision: %d", status)
		}
		status, body, _ = post(t, e, cw, casePage+"/act/flight", url.Values{"date": {today()}, "route": {"Amsterdam"}})
		if status != http.StatusUnprocessableEntity || !strings.Contains(body, `href="#f-route"`) {
			t.Errorf("bad route: %d %s", status, summary(body))
		}
		if status, body = page(t, e, cw, casePage); !strings.Contains(body, "Laissez passer") || !strings.Contains(body, "Issued") || !strings.Contains(body, "Work as a driver.") {
			t.Errorf("case page after the forms: %d", status)
		}
		// Partner assignment offers the partners with their coverage.
		if status, body = page(t, e, cw, casePage+"/act/partner"); status != http.StatusOK || !strings.Contains(body, "Maghreb Reintegration Partner (demo) (does not cover Iraq)") {
			t.Errorf("partner form: %d", status)
		}
		// The visit form asks for all 15 indicators.
		if status, body = page(t, e, cw, casePage+"/act/visit"); status != http.StatusOK || strings.Count(body, `name="score_`) != 15 {
			t.Errorf("visit form: %d, %d score fields", status, strings.Count(body, `name="score_`))
		}
		// Queue and statistics pages.
		if status, body = page(t, e, ngo, "/returns?mine=1"); status != http.StatusOK || !strings.Contains(body, "Omar Saleh") {
			t.Errorf("the NGO's queue: %d", status)
		}
		if status, body = page(t, e, ngo, "/returns?stage=flying"); status != http.StatusBadRequest || !strings.Contains(body, "error-summary") {
			t.Errorf("bad filter: %d", status)
		}
		if status, body = page(t, e, e.Browser(analyst), "/statistics/returns"); status != http.StatusOK || !strings.Contains(body, "Return statistics") || !strings.Contains(body, "covering 26 countries") {
			t.Errorf("statistics page: %d", status)
		}
	})
}

var summaryRE = regexp.MustCompile(`(?s)<div class="error-summary".*?</div>`)

func summary(body string) string { return summaryRE.FindString(body) }

// TestExport downloads the queue as CSV and Excel, checks who may, and
// that each export is audited.
func TestExport(t *testing.T) {
	apptest.Each(t, func(t *testing.T, e *apptest.Env) {
		cw := e.Browser(caseworker)
		res, err := cw.Get(e.URL + "/returns/export.csv?all=1")
		if err != nil {
			t.Fatal(err)
		}
		var buf bytes.Buffer
		buf.ReadFrom(res.Body)
		res.Body.Close()
		lines := strings.Split(strings.TrimSpace(buf.String()), "\n")
		if res.StatusCode != http.StatusOK || !strings.HasPrefix(res.Header.Get("Content-Type"), "text/csv") || lines[0] != "reference,stage,stage_since,days_in_stage,overdue,country_of_return,programme,counselling_org,partner,principal,persons" {
			t.Fatalf("CSV: %d %q", res.StatusCode, lines[0])
		}
		if len(lines) < 100 || strings.Contains(buf.String(), "trafficking") {
			t.Errorf("CSV has %d lines (or special-category data)", len(lines))
		}
		xl := must(t, e, http.StatusOK, caseworker, "GET", "/api/v1/returns/export?format=xlsx&country=IQ", nil)
		f, err := excelize.OpenReader(bytes.NewReader(xl.Body))
		if err != nil {
			t.Fatalf("XLSX: %v", err)
		}
		rows, err := f.GetRows("Cases")
		if err != nil || len(rows) < 2 || rows[0][0] != "reference" || rows[1][5] != "IQ" {
			t.Errorf("XLSX rows: %v %v", err, rows[:min(2, len(rows))])
		}
		for _, who := range []string{ngoOne, partner, analyst, policy} {
			if r := e.Do("GET", "/api/v1/returns/export", e.Token(who), nil); r.Status != http.StatusForbidden {
				t.Errorf("%s exports: %d, want 403", who, r.Status)
			}
		}
		if n := auditCount(t, e, `action = 'export' AND object_type = 'return_case' AND actor = ?`, caseworker); n != 2 {
			t.Errorf("%d exports audited, want 2", n)
		}
	})
}

// TestStatsAndFacts checks the statistics over the demo: the seed's
// figures (IOM about 80% of assisted returns, five partners covering 26
// countries), suppression of small counts, and the facts for the review.
func TestStatsAndFacts(t *testing.T) {
	apptest.Each(t, func(t *testing.T, e *apptest.Env) {
		// One case to a country nobody else returns to: a count of one.
		create(t, e, caseworker, caseBody("LK", "ngo-two", "national"))
		var st struct {
			Cases            struct{ Count *int }
			Assisted         struct{ Count *int }
			Partners         int
			CountriesCovered int `json:"countries_covered"`
			AssistedByOrg    []struct {
				Key        string
				Count      *int
				Suppressed bool
				Share      *float64 `json:"share_percent"`
			} `json:"assisted_by_org"`
			ByCountry []struct {
				Key        string
				Count      *int
				Suppressed bool
			} `json:"by_country"`
			ByStage    []struct{ Count *int } `json:"by_stage"`
			MedianDays []struct {
				Stage      string
				MedianDays *float64 `json:"median_days"`
			} `json:"median_days"`
		}
		must(t, e, http.StatusOK, analyst, "GET", "/api/v1/returns/stats", nil).JSON(&st)
		if st.Cases.Count == nil || *st.Cases.Count != demo.ReturnCases+1 || st.Partners != 5 || st.CountriesCovered != 26 {
			t.Errorf("cases %v, partners %d, countries %d", st.Cases.Count, st.Partners, st.CountriesCovered)
		}
		var iomShare float64
		for _, c := range st.AssistedByOrg {
			if c.Key == "iom" && c.Share != nil {
				iomShare = *c.Share
			}
		}
		if iomShare < 70 || iomShare > 90 {
			t.Errorf("IOM's share of returns with reintegration assistance is %.1f%%, want about 80%%", iomShare)
		}
		lk := false
		for _, c := range st.ByCountry {
			if c.Count != nil && *c.Count > 0 && *c.Count < 5 {
				t.Errorf("country %s shows a count of %d", c.Key, *c.Count)
			}
			if c.Key == "LK" {
				lk = c.Suppressed && c.Count == nil
			}
		}
		if !lk {
			t.Error("the single case to Sri Lanka is not suppressed")
		}
		if len(st.MedianDays) < 5 {
			t.Errorf("median days for %d stages", len(st.MedianDays))
		}
		fs, err := (&returns.Service{DB: e.DB}).Facts(context.Background())
		if err != nil {
			t.Fatal(err)
		}
		byKey := map[string]facts.Fact{}
		for _, f := range fs {
			byKey[f.Key] = f
			if len(f.Objectives) != 1 || f.Objectives[0] != 21 || f.Module != "returns" || f.Source == "" {
				t.Errorf("fact %s: objectives %v, module %q, source %q", f.Key, f.Objectives, f.Module, f.Source)
			}
		}
		if f := byKey["returns.partners.countries"]; f.Value != 26 || f.People {
			t.Errorf("countries covered: %+v", f)
		}
		if f := byKey["returns.assisted.share.iom"]; f.Unit != "percent" || f.Value != iomShare {
			t.Errorf("IOM share fact: %+v", f)
		}
		if f := byKey["returns.country.LK"]; !f.People || f.Display(0) != "fewer than 5" {
			t.Errorf("the LK fact displays %q", f.Display(0))
		}
		if f := byKey["returns.cases"]; !f.People || f.Value != demo.ReturnCases+1 {
			t.Errorf("cases fact: %+v", f)
		}
	})
}

// TestDemoIdempotent loads the demo a second time: nothing is added.
func TestDemoIdempotent(t *testing.T) {
	apptest.Each(t, func(t *testing.T, e *apptest.Env) {
		before := counts(t, e)
		if before["return_cases"] != demo.ReturnCases {
			t.Fatalf("demo has %d cases", before["return_cases"])
		}
		sum, err := demo.Load(context.Background(), e.DB, apptest.Password)
		if err != nil || sum.ReturnCases != 0 {
			t.Fatalf("second load: %d cases, %v", sum.ReturnCases, err)
		}
		sameCounts(t, "a second demo load", before, counts(t, e))
		checkCounts(t, e)
		// Every demo case's stage agrees with its last transition.
		var bad int
		if err := e.DB.QueryRow(context.Background(), `SELECT COUNT(*) FROM return_cases c WHERE c.stage <> (SELECT t.to_stage FROM return_transitions t WHERE t.case_id = c.id ORDER BY t.id DESC LIMIT 1)`).Scan(&bad); err != nil || bad != 0 {
			t.Errorf("%d demo cases disagree with their timeline (%v)", bad, err)
		}
		var partnerCases int
		if err := e.DB.QueryRow(context.Background(), `SELECT COUNT(*) FROM return_cases c JOIN organisations o ON o.id = c.partner_org_id WHERE o.slug = 'reintegration'`).Scan(&partnerCases); err != nil || partnerCases < 5 {
			t.Errorf("the demo partner has %d cases", partnerCases)
		}
	})
}

// TestVisitAnswersOnce posts a monitoring visit with a bad date and no
// scores: the API and the page each answer once with all 16 errors (the
// date and the 15 scores), not the date first and the scores after.
func TestVisitAnswersOnce(t *testing.T) {
	apptest.Each(t, func(t *testing.T, e *apptest.Env) {
		c := create(t, e, caseworker, caseBody("IQ", "ngo-one", "national"))
		before := e.Count("return_visits")
		res := must(t, e, http.StatusUnprocessableEntity, caseworker, "POST", casePath(c.ID, "/visits"), map[string]any{"visited_on": "2024-13-45", "scores": map[string]int{}})
		p := res.Problem()
		if len(p.Errors) != 16 || !hasField(p, "visited_on") || !hasField(p, "scores.income_satisfaction") {
			t.Errorf("API: %d errors, want 16 (the date and 15 scores): %s", len(p.Errors), problemFields(p))
		}
		status, body, _ := post(t, e, e.Browser(caseworker), fmt.Sprintf("/returns/cases/%d/act/visit", c.ID), url.Values{"visited_on": {"2024-13-45"}})
		sm := summary(body)
		if status != http.StatusUnprocessableEntity || strings.Count(sm, "<li>") != 16 || !strings.Contains(sm, `href="#f-visited_on"`) || !strings.Contains(sm, `href="#f-score_income_satisfaction"`) {
			t.Errorf("page: %d with %d errors, want 422 with 16: %s", status, strings.Count(sm, "<li>"), sm)
		}
		if e.Count("return_visits") != before {
			t.Error("a refused visit was recorded")
		}
	})
}
