package returns_test

import (
	"encoding/json"
	"net/http"
	"strconv"
	"strings"
	"testing"

	"kompas/internal/app/apptest"
)

// TestLifecycle takes one case from registration to closure through the
// API, each step by the party whose work it is, with the refusals a real
// case meets on the way.
func TestLifecycle(t *testing.T) {
	apptest.Each(t, func(t *testing.T, e *apptest.Env) {
		c := create(t, e, caseworker, caseBody("IQ", "ngo-one", "national"))
		if c.Stage != "registered" || !strings.HasPrefix(c.Reference, "RET-") || len(c.Reference) != len("RET-2026-")+10 {
			t.Fatalf("created %+v", c)
		}
		// Out of order: straight to departure.
		res := must(t, e, http.StatusConflict, caseworker, "POST", casePath(c.ID, "/transitions"), map[string]string{"to": "departed"})
		if p := res.Problem(); !strings.Contains(p.Detail, "From registered it can move to: counselling, withdrawn") {
			t.Errorf("409 detail: %q", p.Detail)
		}
		move(t, e, ngoOne, c.ID, "counselling", "")
		must(t, e, http.StatusCreated, ngoOne, "POST", casePath(c.ID, "/consents"),
			map[string]any{"written": true, "given_on": today(), "scope": []string{"reintegration_partner", "referrals"}})
		move(t, e, ngoOne, c.ID, "documents", "")
		// The NGO does not book flights or request documents.
		must(t, e, http.StatusForbidden, ngoOne, "POST", casePath(c.ID, "/flights"), map[string]any{"date": today(), "route": "AMS-IST-EBL"})
		must(t, e, http.StatusCreated, caseworker, "POST", casePath(c.ID, "/travel-documents"), map[string]any{"kind": "laissez_passer", "authority": "embassy"})
		// No travel_booked without a flight.
		must(t, e, http.StatusConflict, caseworker, "POST", casePath(c.ID, "/transitions"), map[string]string{"to": "travel_booked"})
		must(t, e, http.StatusCreated, caseworker, "POST", casePath(c.ID, "/flights"), map[string]any{"date": today(), "route": "ams-ist-ebl", "escort": true, "medical_needs": "Daily insulin."})
		move(t, e, caseworker, c.ID, "travel_booked", "")
		// No departure without an issued travel document.
		res = must(t, e, http.StatusConflict, caseworker, "POST", casePath(c.ID, "/transitions"), map[string]string{"to": "departed"})
		if p := res.Problem(); !strings.Contains(p.Detail, "an issued travel document") {
			t.Errorf("departure 409: %q", p.Detail)
		}
		// Support is not planned before departure; needs and aspirations are.
		must(t, e, http.StatusConflict, caseworker, "POST", casePath(c.ID, "/plan"),
			map[string]any{"needs": "Housing.", "months": 6, "support": []map[string]any{{"type": "housing", "description": "Rent", "amount": "500"}}})
		must(t, e, http.StatusOK, ngoOne, "POST", casePath(c.ID, "/plan"), map[string]any{"needs": "Housing and work.", "aspirations": "Open a bakery."})
		must(t, e, http.StatusOK, caseworker, "POST", casePath(c.ID, "/travel-documents/1/decision"), map[string]any{"status": "issued", "decided_on": today(), "reference": "LP-1"})
		must(t, e, http.StatusConflict, caseworker, "POST", casePath(c.ID, "/travel-documents/1/decision"), map[string]any{"status": "refused", "decided_on": today()})
		move(t, e, caseworker, c.ID, "departed", "Departure confirmed at Schiphol.")
		must(t, e, http.StatusOK, caseworker, "POST", casePath(c.ID, "/partner"), map[string]string{"partner": "reintegration"})
		// The partner now sees the case and writes the plan.
		must(t, e, http.StatusConflict, partner, "POST", casePath(c.ID, "/transitions"), map[string]string{"to": "reintegration"})
		plan := map[string]any{"needs": "Housing and work.", "aspirations": "Open a bakery.", "start_on": today(), "months": 12,
			"support": []map[string]any{{"type": "post_arrival", "description": "Reception and transport", "amount": "150"},
				{"type": "business_startup", "description": "Oven and stock", "amount": 1200.50}}}
		must(t, e, http.StatusOK, partner, "POST", casePath(c.ID, "/plan"), plan)
		move(t, e, partner, c.ID, "reintegration", "")
		must(t, e, http.StatusConflict, partner, "POST", casePath(c.ID, "/transitions"), map[string]string{"to": "monitoring"})
		res = must(t, e, http.StatusUnprocessableEntity, partner, "POST", casePath(c.ID, "/deliveries"), map[string]any{"item": 1, "delivered_on": today(), "amount": "151"})
		if p := res.Problem(); !hasField(p, "amount") {
			t.Errorf("over-delivery: %s", problemFields(p))
		}
		must(t, e, http.StatusCreated, partner, "POST", casePath(c.ID, "/deliveries"), map[string]any{"item": 1, "delivered_on": today(), "amount": "150"})
		move(t, e, partner, c.ID, "monitoring", "")
		scores := map[string]int{}
		for _, k := range []string{"income_satisfaction", "food_security", "income_source", "debt", "borrowing"} {
			scores[k] = 5
		}
		for _, k := range []string{"housing", "health_care", "education", "documentation", "basic_services"} {
			scores[k] = 3
		}
		for _, k := range []string{"social_network", "safety", "discrimination", "wellbeing", "wish_to_stay"} {
			scores[k] = 1
		}
		res = must(t, e, http.StatusCreated, partner, "POST", casePath(c.ID, "/visits"), map[string]any{"visited_on": today(), "scores": scores})
		var visit struct{ Economic, Social, Psychosocial, Overall float64 }
		res.JSON(&visit)
		if visit.Economic != 1 || visit.Social != 0.5 || visit.Psychosocial != 0 || visit.Overall != 0.5 {
			t.Errorf("visit scores %+v, want 1, 0.5, 0, 0.5", visit)
		}
		must(t, e, http.StatusCreated, partner, "POST", casePath(c.ID, "/referrals"), map[string]any{"service": "Erbil health centre", "kind": "health"})
		must(t, e, http.StatusOK, partner, "POST", casePath(c.ID, "/referrals/1/status"), map[string]any{"status": "accepted"})
		must(t, e, http.StatusConflict, partner, "POST", casePath(c.ID, "/referrals/1/status"), map[string]any{"status": "rejected"})
		must(t, e, http.StatusOK, partner, "POST", casePath(c.ID, "/referrals/1/status"), map[string]any{"status": "done"})
		move(t, e, partner, c.ID, "closed", "")
		// Reopening needs a reason and the programme's office.
		must(t, e, http.StatusForbidden, partner, "POST", casePath(c.ID, "/transitions"), map[string]string{"to": "reintegration", "reason": "More support."})
		res = must(t, e, http.StatusUnprocessableEntity, caseworker, "POST", casePath(c.ID, "/transitions"), map[string]string{"to": "reintegration"})
		if p := res.Problem(); !hasField(p, "reason") {
			t.Errorf("reopen without reason: %s", problemFields(p))
		}
		move(t, e, caseworker, c.ID, "reintegration", "The returnee lost the shop in a flood.")

		var v struct {
			View     string
			Stage    string
			Departed bool
			Flights  []struct {
				Status      string
				ConfirmedBy string `json:"confirmed_by"`
			}
			Plan     struct{ Total string }
			Timeline []struct{ From, To, Actor, Reason string }
		}
		must(t, e, http.StatusOK, caseworker, "GET", casePath(c.ID), nil).JSON(&v)
		if v.View != "full" || v.Stage != "reintegration" || !v.Departed || v.Plan.Total != "1350.50" {
			t.Errorf("case after the lifecycle: %+v", v)
		}
		if len(v.Flights) != 1 || v.Flights[0].Status != "flown" || v.Flights[0].ConfirmedBy != caseworker {
			t.Errorf("flight after departure: %+v", v.Flights)
		}
		wantPath := []string{"registered", "counselling", "documents", "travel_booked", "departed", "reintegration", "monitoring", "closed", "reintegration"}
		if len(v.Timeline) != len(wantPath) {
			t.Fatalf("timeline %+v", v.Timeline)
		}
		for i, tr := range v.Timeline {
			if tr.To != wantPath[i] {
				t.Errorf("timeline step %d is %s, want %s", i, tr.To, wantPath[i])
			}
		}
		if last := v.Timeline[len(v.Timeline)-1]; last.Actor != caseworker || last.Reason == "" || last.From != "closed" {
			t.Errorf("reopening recorded as %+v", last)
		}
		// The stage histogram and the audit trail saw every move.
		if n := e.Count("return_stage_days"); n == 0 {
			t.Error("no stage durations recorded")
		}
		if n := auditCount(t, e, `action = 'transition' AND object_id = ?`, itoa(c.ID)); n != 8 {
			t.Errorf("%d transitions audited, want 8", n)
		}
		checkCounts(t, e)
	})
}

// TestBadInput sends what a careless or hostile client might and checks
// the answer names the problem and nothing changes.
func TestBadInput(t *testing.T) {
	apptest.Each(t, func(t *testing.T, e *apptest.Env) {
		c := create(t, e, caseworker, caseBody("IQ", "ngo-one", "national"))
		move(t, e, caseworker, c.ID, "counselling", "")
		must(t, e, http.StatusCreated, caseworker, "POST", casePath(c.ID, "/consents"), map[string]any{"written": true, "given_on": today(), "scope": []string{"reintegration_partner"}})
		before := counts(t, e)
		tok := e.Token(caseworker)

		future := caseBody("IQ", "ngo-one", "national", func(b map[string]any) {
			b["migrants"].([]map[string]any)[0]["birth_date"] = "2999-01-01"
		})
		badNat := caseBody("IQ", "ngo-one", "national", func(b map[string]any) {
			b["migrants"].([]map[string]any)[0]["nationality"] = "XX"
		})
		valid, err := json.Marshal(caseBody("IQ", "ngo-one", "national"))
		if err != nil {
			t.Fatal(err)
		}
		// The decoder is strict: what encoding/json let through (and saved)
		// is a 400 naming the field by its path.
		badUTF8 := strings.Replace(string(valid), `"given_name":"Layla"`, "\"given_name\":\"La\xffyla\"", 1)
		twice := strings.Replace(string(valid), `"programme":"national"`, `"programme":"national","programme":"iom_return"`, 1)
		cases := []struct {
			name   string
			method string
			path   string
			body   any
			status int
			field  string
		}{
			{"invalid UTF-8", "POST", "/api/v1/returns/cases", badUTF8, 400, "migrants[0].given_name"},
			{"a name given twice", "POST", "/api/v1/returns/cases", twice, 400, "programme"},
			{"a lone surrogate", "POST", casePath(c.ID, "/transitions"), `{"to":"withdrawn","reason":"\ud800"}`, 400, "reason"},
			{"a duplicate that would change the stage", "POST", casePath(c.ID, "/transitions"), `{"to":"documents","to":"withdrawn"}`, 400, "to"},
			{"a name in upper case", "POST", casePath(c.ID, "/transitions"), `{"TO":"withdrawn","reason":"x"}`, 400, "TO"},
			{"unknown nested field", "POST", "/api/v1/returns/cases", `{"migrants":[{"given_name":"A"},{"religion":"x"}]}`, 400, "migrants[1].religion"},
			{"nested wrong type", "POST", "/api/v1/returns/cases", `{"migrants":[{"given_name":1}]}`, 400, "migrants[0].given_name"},
			{"delivery amount as words", "POST", casePath(c.ID, "/deliveries"), `{"item":1,"delivered_on":"2026-01-01","amount":"abc"}`, 422, "amount"},
			{"plan amount of the wrong type", "POST", casePath(c.ID, "/plan"), `{"months":3,"support":[{"type":"cash","description":"x","amount":true}]}`, 400, "support[0].amount"},
			{"birth date in the future", "POST", "/api/v1/returns/cases", future, 422, "migrants[0].birth_date"},
			{"invalid nationality", "POST", "/api/v1/returns/cases", badNat, 422, "migrants[0].nationality"},
			{"invalid country of return", "POST", "/api/v1/returns/cases", caseBody("ZZ", "ngo-one", "national"), 422, "country_of_return"},
			{"an agency is no counselling organisation", "POST", "/api/v1/returns/cases", caseBody("IQ", "rds", "national"), 422, "counselling_org"},
			{"unknown programme", "POST", "/api/v1/returns/cases", caseBody("IQ", "ngo-one", "holiday"), 422, "programme"},
			{"no people", "POST", "/api/v1/returns/cases", map[string]any{"country_of_return": "IQ", "counselling_org": "ngo-one", "programme": "national", "migrants": []any{}}, 422, "migrants"},
			{"unknown vulnerability", "POST", "/api/v1/returns/cases", caseBody("IQ", "ngo-one", "national", func(b map[string]any) {
				b["migrants"].([]map[string]any)[0]["vulnerabilities"] = []string{"tired"}
			}), 422, "migrants[0].vulnerabilities[0]"},
			{"malformed JSON", "POST", "/api/v1/returns/cases", `{"country_of_return": "IQ",`, 400, ""},
			{"unknown field", "POST", "/api/v1/returns/cases", `{"country_of_return": "IQ", "religion": "x"}`, 400, "religion"},
			{"wrong type", "POST", "/api/v1/returns/cases", `{"migrants": "Layla"}`, 400, "migrants"},
			{"two JSON values", "POST", "/api/v1/returns/cases", `{} {}`, 400, ""},
			{"unknown stage", "POST", casePath(c.ID, "/transitions"), map[string]string{"to": "flying"}, 422, "to"},
			{"transition out of order", "POST", casePath(c.ID, "/transitions"), map[string]string{"to": "monitoring"}, 409, ""},
			{"withdrawal without a reason", "POST", casePath(c.ID, "/transitions"), map[string]string{"to": "withdrawn"}, 422, "reason"},
			{"partner not covering the country", "POST", casePath(c.ID, "/partner"), map[string]string{"partner": "reintegration-maghreb"}, 422, "partner"},
			{"a partner that is no partner", "POST", casePath(c.ID, "/partner"), map[string]string{"partner": "ngo-two"}, 422, "partner"},
			{"consent in the future", "POST", casePath(c.ID, "/consents"), map[string]any{"written": true, "given_on": "2999-01-01", "scope": []string{"referrals"}}, 422, "given_on"},
			{"consent without scope", "POST", casePath(c.ID, "/consents"), map[string]any{"written": true, "given_on": today(), "scope": []string{}}, 422, "scope"},
			{"bad flight route", "POST", casePath(c.ID, "/flights"), map[string]any{"date": today(), "route": "Amsterdam to Erbil"}, 422, "route"},
			{"plan over 12 months", "POST", casePath(c.ID, "/plan"), map[string]any{"months": 13}, 422, "months"},
			{"plan item with a bad amount", "POST", casePath(c.ID, "/plan"), map[string]any{"months": 3, "support": []map[string]any{{"type": "cash", "description": "x", "amount": "-5"}}}, 422, "support[0].amount"},
			{"unknown support type", "POST", casePath(c.ID, "/plan"), map[string]any{"months": 3, "support": []map[string]any{{"type": "holiday", "description": "x", "amount": "5"}}}, 422, "support[0].type"},
			{"visit missing scores", "POST", casePath(c.ID, "/visits"), map[string]any{"visited_on": today(), "scores": map[string]int{"housing": 3}}, 422, "scores.income_satisfaction"},
			{"visit score out of range", "POST", casePath(c.ID, "/visits"), map[string]any{"visited_on": today(), "scores": map[string]int{"housing": 9}}, 422, "scores.housing"},
			{"unknown case", "GET", casePath(999999), nil, 404, ""},
			{"not a case id", "GET", "/api/v1/returns/cases/abc", nil, 404, ""},
			{"bad queue filter", "GET", "/api/v1/returns/cases?stage=flying&per_page=1000", nil, 400, "stage"},
		}
		for _, bc := range cases {
			res := e.Do(bc.method, bc.path, tok, bc.body)
			if res.Status != bc.status {
				t.Errorf("%s: %d, want %d: %s", bc.name, res.Status, bc.status, res.Body)
				continue
			}
			p := res.Problem()
			if bc.field != "" && !hasField(p, bc.field) {
				t.Errorf("%s: errors %q do not name %s", bc.name, problemFields(p), bc.field)
			}
		}
		sameCounts(t, "bad input", before, counts(t, e))

		// Over the programme's budget cap, once support may be planned.
		d := create(t, e, officer, caseBody("NG", "iom", "iom_return"))
		for _, to := range []string{"counselling", "documents"} {
			move(t, e, officer, d.ID, to, "")
		}
		must(t, e, http.StatusCreated, officer, "POST", casePath(d.ID, "/travel-documents"), map[string]any{"kind": "passport", "authority": "consulate"})
		must(t, e, http.StatusOK, officer, "POST", casePath(d.ID, "/travel-documents/1/decision"), map[string]any{"status": "issued", "decided_on": today()})
		must(t, e, http.StatusCreated, officer, "POST", casePath(d.ID, "/flights"), map[string]any{"date": today(), "route": "AMS-LOS"})
		move(t, e, officer, d.ID, "travel_booked", "")
		move(t, e, officer, d.ID, "departed", "")
		before = counts(t, e)
		res := must(t, e, http.StatusUnprocessableEntity, officer, "POST", casePath(d.ID, "/plan"),
			map[string]any{"months": 6, "support": []map[string]any{{"type": "cash", "description": "Cash grant", "amount": "3000.01"}}})
		if p := res.Problem(); !hasField(p, "support") || !strings.Contains(problemFields(p), "budget cap of EUR 3000.00") {
			t.Errorf("over the cap: %s", problemFields(p))
		}
		// No consent to share with a partner yet: 409, nothing assigned.
		must(t, e, http.StatusConflict, officer, "POST", casePath(d.ID, "/partner"), map[string]string{"partner": "reintegration-west-africa"})
		sameCounts(t, "refused plan and partner", before, counts(t, e))
		checkCounts(t, e)
	})
}

func itoa(n int64) string { return strconv.FormatInt(n, 10) }
