package returns_test

import (
	"encoding/json"
	"fmt"
	"net/http"
	"strings"
	"testing"

	"kompas/internal/app/apptest"
)

// visibilityCases makes one case per relation a demo role can have to a
// case, and returns their ids:
//
//	chose-ngo-one    national programme, the migrant chose NGO One, the demo partner assigned
//	chose-ngo-two    national programme, chose NGO Two, no partner
//	iom-programme    IOM's return programme, chose IOM
//	iom-only         IOM's stranded-migrants programme (the return service does not run it)
//	other-partner    Frontex programme, chose NGO One, another partner assigned
func visibilityCases(t *testing.T, e *apptest.Env) map[string]int64 {
	t.Helper()
	ids := map[string]int64{}
	ids["chose-ngo-one"] = create(t, e, caseworker, caseBody("IQ", "ngo-one", "national")).ID
	ids["chose-ngo-two"] = create(t, e, ngoTwo, caseBody("MA", "ngo-two", "national")).ID
	ids["iom-programme"] = create(t, e, officer, caseBody("NG", "iom", "iom_return")).ID
	ids["iom-only"] = create(t, e, officer, caseBody("ET", "iom", "iom_stranded")).ID
	ids["other-partner"] = create(t, e, caseworker, caseBody("MA", "ngo-one", "frontex_reintegration")).ID
	for key, partnerSlug := range map[string]string{"chose-ngo-one": "reintegration", "other-partner": "reintegration-maghreb"} {
		id := ids[key]
		must(t, e, http.StatusCreated, ngoOne, "POST", casePath(id, "/consents"), map[string]any{"written": true, "given_on": today(), "scope": []string{"reintegration_partner"}})
		must(t, e, http.StatusOK, caseworker, "POST", casePath(id, "/partner"), map[string]string{"partner": partnerSlug})
	}
	must(t, e, http.StatusOK, ngoOne, "POST", casePath(ids["chose-ngo-one"], "/plan"), map[string]any{"needs": "Needs a ground-floor flat.", "aspirations": "Open a bakery."})
	return ids
}

// visibility is what each demo role gets for each case: "full",
// "partner" (the partner's projection) or "" (404).
var visibility = map[string]map[string]string{
	caseworker: {"chose-ngo-one": "full", "chose-ngo-two": "full", "iom-programme": "full", "iom-only": "", "other-partner": "full"},
	officer:    {"chose-ngo-one": "", "chose-ngo-two": "", "iom-programme": "full", "iom-only": "full", "other-partner": ""},
	ngoOne:     {"chose-ngo-one": "full", "chose-ngo-two": "", "iom-programme": "", "iom-only": "", "other-partner": "full"},
	ngoTwo:     {"chose-ngo-one": "", "chose-ngo-two": "full", "iom-programme": "", "iom-only": "", "other-partner": ""},
	partner:    {"chose-ngo-one": "partner", "chose-ngo-two": "", "iom-programme": "", "iom-only": "", "other-partner": ""},
}

// rolesWithoutCases see statistics only.
var rolesWithoutCases = []string{policy, analyst, privacy, admin, "employer@posting-firm.example", "police@police.example", "care@care.example"}

// TestVisibility walks the matrix of demo roles × relations to a case,
// through the API and the HTML pages, and checks that every read is
// audited with its purpose.
func TestVisibility(t *testing.T) {
	apptest.Each(t, func(t *testing.T, e *apptest.Env) {
		ids := visibilityCases(t, e)
		for _, who := range rolesWithoutCases {
			visibility[who] = map[string]string{}
		}
		for who, row := range visibility {
			browser := e.Browser(who)
			for key, id := range ids {
				want := row[key]
				res := e.Do("GET", casePath(id), e.Token(who), nil)
				status, body := page(t, e, browser, fmt.Sprintf("/returns/cases/%d", id))
				if want == "" {
					if res.Status != http.StatusNotFound || status != http.StatusNotFound {
						t.Errorf("%s reads %s: API %d, page %d; want 404 for both", who, key, res.Status, status)
					}
					if p := res.Problem(); p.Detail != "Case not found." {
						t.Errorf("%s reads %s: 404 says %q", who, key, p.Detail)
					}
					continue
				}
				if res.Status != http.StatusOK || status != http.StatusOK {
					t.Errorf("%s reads %s: API %d, page %d; want 200 for both", who, key, res.Status, status)
					continue
				}
				var v struct{ View string }
				res.JSON(&v)
				if v.View != want {
					t.Errorf("%s reads %s: view %q, want %q", who, key, v.View, want)
				}
				if want == "full" && !strings.Contains(body, "Trafficking victim") {
					t.Errorf("%s's page of %s does not show the vulnerabilities", who, key)
				}
			}
			// The work queue lists exactly the cases the role sees.
			res := e.Do("GET", "/api/v1/returns/cases?per_page=100", e.Token(who), nil)
			status, _ := page(t, e, browser, "/returns")
			if len(row) == 0 {
				if res.Status != http.StatusForbidden {
					t.Errorf("%s lists cases: %d, want 403", who, res.Status)
				}
				if status != http.StatusSeeOther {
					t.Errorf("%s opens the work queue: %d, want a redirect to the statistics", who, status)
				}
				continue
			}
			if res.Status != http.StatusOK || status != http.StatusOK {
				t.Fatalf("%s lists cases: API %d, page %d", who, res.Status, status)
			}
			listed := map[int64]bool{}
			for pg := 1; ; pg++ {
				var q struct{ Items []struct{ ID int64 } }
				must(t, e, http.StatusOK, who, "GET", fmt.Sprintf("/api/v1/returns/cases?per_page=100&page=%d", pg), nil).JSON(&q)
				if len(q.Items) == 0 {
					break
				}
				for _, it := range q.Items {
					listed[it.ID] = true
				}
			}
			for key, id := range ids {
				if listed[id] != (row[key] != "") {
					t.Errorf("%s's queue lists %s: %v, want %v", who, key, listed[id], row[key] != "")
				}
			}
		}
		// Every successful read left an event with its purpose.
		for who, purpose := range map[string]string{caseworker: "case work", officer: "return programme case work", ngoOne: "return counselling", partner: "reintegration support"} {
			for key, id := range ids {
				if visibility[who][key] == "" {
					if n := auditCount(t, e, `action = 'read' AND object_type = 'return_case' AND object_id = ? AND actor = ?`, itoa(id), who); n != 0 {
						t.Errorf("%s's refused read of %s left %d read events", who, key, n)
					}
					continue
				}
				// One read through the API, one through the page.
				if n := auditCount(t, e, `action = 'read' AND object_type = 'return_case' AND object_id = ? AND actor = ? AND purpose = ?`, itoa(id), who, purpose); n != 2 {
					t.Errorf("%s's reads of %s: %d events with purpose %q, want 2", who, key, n, purpose)
				}
			}
		}
		if n := auditCount(t, e, `action = 'read' AND object_type = 'return_case' AND object_id = '' AND actor = ? AND detail LIKE 'work queue: cases %'`, ngoOne); n < 2 {
			t.Errorf("the NGO's work queue reads left %d events", n)
		}
	})
}

// TestPartnerSeesOnlyItsFields checks the partner's projection: no key for
// documents, vulnerabilities, immigration history, consent or medical needs
// in the JSON, and none of that text on the page, while the plan shows.
func TestPartnerSeesOnlyItsFields(t *testing.T) {
	apptest.Each(t, func(t *testing.T, e *apptest.Env) {
		ids := visibilityCases(t, e)
		id := ids["chose-ngo-one"]
		// Give the case every kind of record first.
		move(t, e, caseworker, id, "counselling", "")
		move(t, e, caseworker, id, "documents", "")
		must(t, e, http.StatusCreated, caseworker, "POST", casePath(id, "/travel-documents"), map[string]any{"kind": "laissez_passer", "authority": "embassy"})
		must(t, e, http.StatusCreated, caseworker, "POST", casePath(id, "/flights"), map[string]any{"date": today(), "route": "AMS-IST-EBL", "escort": true, "medical_needs": "Daily insulin injections."})

		full := map[string]any{}
		must(t, e, http.StatusOK, caseworker, "GET", casePath(id), nil).JSON(&full)
		fullKeys := map[string]bool{}
		jsonKeys(full, fullKeys)
		for _, k := range []string{"vulnerabilities", "documents_held", "travel_documents", "immigration_history", "medical_needs", "consents"} {
			if !fullKeys[k] {
				t.Errorf("the full view has no %q (the test would prove nothing)", k)
			}
		}

		res := must(t, e, http.StatusOK, partner, "GET", casePath(id), nil)
		var v any
		if err := json.Unmarshal(res.Body, &v); err != nil {
			t.Fatal(err)
		}
		keys := map[string]bool{}
		jsonKeys(v, keys)
		for k := range keys {
			for _, banned := range []string{"vulnerab", "document", "immigration", "medical", "consent", "choice", "escort", "reason", "actor", "intake"} {
				if strings.Contains(k, banned) {
					t.Errorf("the partner's JSON has the key %q", k)
				}
			}
		}
		for _, text := range []string{"Trafficking", "trafficking", "Daily insulin", "Asylum application", "expired"} {
			if strings.Contains(string(res.Body), text) {
				t.Errorf("the partner's JSON holds %q", text)
			}
		}
		if !keys["plan"] || !strings.Contains(string(res.Body), "ground-floor flat") || !keys["arrival"] {
			t.Errorf("the partner's JSON lacks the plan or the arrival: %s", res.Body)
		}

		status, body := page(t, e, e.Browser(partner), fmt.Sprintf("/returns/cases/%d", id))
		if status != http.StatusOK {
			t.Fatalf("partner's page: %d", status)
		}
		for _, text := range []string{"Vulnerabilities", "Trafficking victim", "Medical needs", "Documents held", "Daily insulin", "Immigration history", "Asylum application", "Expired passport", "Consent", "Laissez passer"} {
			if strings.Contains(body, text) {
				t.Errorf("the partner's page shows %q", text)
			}
		}
		for _, text := range []string{"Reintegration plan", "ground-floor flat", "Open a bakery", "Layla Haddad"} {
			if !strings.Contains(body, text) {
				t.Errorf("the partner's page does not show %q", text)
			}
		}
		// The queue carries no special-category data for anyone.
		res = must(t, e, http.StatusOK, partner, "GET", "/api/v1/returns/cases", nil)
		if strings.Contains(string(res.Body), "vulnerab") || strings.Contains(string(res.Body), "medical") {
			t.Errorf("the partner's queue holds special-category data: %s", res.Body)
		}
	})
}

// TestChoiceChangeMovesVisibility: when the migrant chooses another NGO,
// the first loses the case and the second gains it; the history keeps both.
func TestChoiceChangeMovesVisibility(t *testing.T) {
	apptest.Each(t, func(t *testing.T, e *apptest.Env) {
		c := create(t, e, ngoOne, caseBody("TN", "ngo-one", "national"))
		must(t, e, http.StatusNotFound, ngoTwo, "GET", casePath(c.ID), nil)
		// A counsellor registers only migrants who chose their own NGO.
		res := must(t, e, http.StatusUnprocessableEntity, ngoOne, "POST", "/api/v1/returns/cases", caseBody("TN", "ngo-two", "national"))
		if p := res.Problem(); !hasField(p, "counselling_org") {
			t.Errorf("registering for another NGO: %s", problemFields(p))
		}
		must(t, e, http.StatusUnprocessableEntity, ngoOne, "POST", casePath(c.ID, "/counselling-org"), map[string]string{"counselling_org": "ngo-one", "chosen_on": today(), "reason": "Same."})
		must(t, e, http.StatusOK, ngoOne, "POST", casePath(c.ID, "/counselling-org"),
			map[string]string{"counselling_org": "ngo-two", "chosen_on": today(), "reason": "The migrant prefers an NGO closer to home."})
		must(t, e, http.StatusNotFound, ngoOne, "GET", casePath(c.ID), nil)
		var v struct {
			CounsellingOrg struct{ Slug string } `json:"counselling_org"`
			Choices        []struct {
				From   *struct{ Slug string }
				To     struct{ Slug string }
				Reason string
			}
		}
		must(t, e, http.StatusOK, ngoTwo, "GET", casePath(c.ID), nil).JSON(&v)
		if v.CounsellingOrg.Slug != "ngo-two" || len(v.Choices) != 2 || v.Choices[0].From != nil || v.Choices[1].From == nil ||
			v.Choices[1].From.Slug != "ngo-one" || v.Choices[1].To.Slug != "ngo-two" || !strings.Contains(v.Choices[1].Reason, "closer to home") {
			t.Errorf("after the change: %+v", v)
		}
		checkCounts(t, e)
	})
}
