package returns_test

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"kompas/internal/app/apptest"
	"kompas/internal/platform/web"
)

// Demo accounts the tests act as.
const (
	caseworker = "caseworker@rds.example"
	officer    = "officer@iom.example"
	ngoOne     = "counsellor@ngo-one.example"
	ngoTwo     = "counsellor@ngo-two.example"
	partner    = "partner@reintegration.example"
	policy     = "policy@mfa.example"
	analyst    = "analyst@dtm.example"
	privacy    = "privacy@mfa.example"
	admin      = "admin@mfa.example"
)

func today() string { return time.Now().UTC().Format("2006-01-02") }

// caseBody is a valid create body; edit it with the options.
func caseBody(country, org, programme string, opts ...func(map[string]any)) map[string]any {
	b := map[string]any{
		"country_of_return":   country,
		"counselling_org":     org,
		"programme":           programme,
		"immigration_history": "Asylum application rejected in 2025.",
		"migrants": []map[string]any{
			{"given_name": "Layla", "family_name": "Haddad", "birth_date": "1990-04-12", "sex": "female", "nationality": country,
				"documents_held": []string{"expired_passport"}, "vulnerabilities": []string{"medical_needs", "trafficking_victim"}},
			{"given_name": "Sami", "family_name": "Haddad", "birth_date": "2015-09-01", "sex": "male", "nationality": country, "relationship": "child"},
		},
	}
	for _, o := range opts {
		o(b)
	}
	return b
}

type created struct {
	ID        int64  `json:"id"`
	Reference string `json:"reference"`
	Stage     string `json:"stage"`
}

// create registers a case as email and fails the test unless it is a 201.
func create(t *testing.T, e *apptest.Env, email string, body map[string]any) created {
	t.Helper()
	res := e.Do("POST", "/api/v1/returns/cases", e.Token(email), body)
	if res.Status != http.StatusCreated {
		t.Fatalf("create as %s: %d %s", email, res.Status, res.Body)
	}
	var c created
	res.JSON(&c)
	return c
}

func casePath(id int64, rest ...string) string {
	return fmt.Sprintf("/api/v1/returns/cases/%d", id) + strings.Join(rest, "")
}

// must calls the API as email and fails the test unless the status is want.
func must(t *testing.T, e *apptest.Env, want int, email, method, path string, body any) *apptest.Response {
	t.Helper()
	res := e.Do(method, path, e.Token(email), body)
	if res.Status != want {
		t.Fatalf("%s %s as %s: %d, want %d: %s", method, path, email, res.Status, want, res.Body)
	}
	return res
}

func move(t *testing.T, e *apptest.Env, email string, id int64, to, reason string) {
	t.Helper()
	must(t, e, http.StatusOK, email, "POST", casePath(id, "/transitions"), map[string]string{"to": to, "reason": reason})
}

// problemField returns the problem's field errors as "field: message".
func problemFields(p web.Problem) string {
	var s []string
	for _, f := range p.Errors {
		s = append(s, f.Field+": "+f.Message)
	}
	return strings.Join(s, "; ")
}

func hasField(p web.Problem, field string) bool {
	for _, f := range p.Errors {
		if f.Field == field {
			return true
		}
	}
	return false
}

// counts reads the row counts of the module's tables.
func counts(t *testing.T, e *apptest.Env) map[string]int {
	t.Helper()
	out := map[string]int{}
	for _, tbl := range []string{"return_cases", "return_migrants", "return_transitions", "return_choices", "return_consents", "return_travel_documents",
		"return_flights", "return_plans", "return_support_items", "return_deliveries", "return_visits", "return_referrals", "return_partner_countries", "return_stage_days",
		"return_case_counts"} {
		out[tbl] = e.Count(tbl)
	}
	return out
}

func sameCounts(t *testing.T, what string, before, after map[string]int) {
	t.Helper()
	for k, v := range before {
		if after[k] != v {
			t.Errorf("%s changed %s: %d rows, was %d", what, k, after[k], v)
		}
	}
}

// page fetches an HTML page with a browser client.
func page(t *testing.T, e *apptest.Env, c *http.Client, path string) (int, string) {
	t.Helper()
	res, err := c.Get(e.URL + path)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	b, _ := io.ReadAll(res.Body)
	return res.StatusCode, string(b)
}

// post submits a form with a browser client.
func post(t *testing.T, e *apptest.Env, c *http.Client, path string, v url.Values) (int, string, string) {
	t.Helper()
	req, err := http.NewRequest("POST", e.URL+path, strings.NewReader(v.Encode()))
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("Origin", e.URL)
	res, err := c.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	b, _ := io.ReadAll(res.Body)
	return res.StatusCode, string(b), res.Header.Get("Location")
}

// auditCount counts audit events matching a condition.
func auditCount(t *testing.T, e *apptest.Env, where string, args ...any) int {
	t.Helper()
	var n int
	if err := e.DB.QueryRow(context.Background(), `SELECT COUNT(*) FROM audit_events WHERE `+where, args...).Scan(&n); err != nil {
		t.Fatal(err)
	}
	return n
}

// jsonKeys collects every object key in a decoded JSON value.
func jsonKeys(v any, into map[string]bool) {
	switch x := v.(type) {
	case map[string]any:
		for k, val := range x {
			into[k] = true
			jsonKeys(val, into)
		}
	case []any:
		for _, val := range x {
			jsonKeys(val, into)
		}
	}
}

// checkCounts compares the running counts with the cases they count.
func checkCounts(t *testing.T, e *apptest.Env) {
	t.Helper()
	read := func(q string) map[string][2]int {
		rows, err := e.DB.Query(context.Background(), q)
		if err != nil {
			t.Fatal(err)
		}
		defer rows.Close()
		out := map[string][2]int{}
		for rows.Next() {
			var stage, country, programme string
			var org int64
			var departed, assisted bool
			var cases, persons int
			if err := rows.Scan(&stage, &country, &org, &programme, &departed, &assisted, &cases, &persons); err != nil {
				t.Fatal(err)
			}
			if cases != 0 || persons != 0 {
				out[fmt.Sprint(stage, country, org, programme, departed, assisted)] = [2]int{cases, persons}
			}
		}
		return out
	}
	want := read(`SELECT stage, country_of_return, counselling_org_id, programme, departed, assisted, COUNT(*), SUM(persons) FROM return_cases
		GROUP BY stage, country_of_return, counselling_org_id, programme, departed, assisted`)
	got := read(`SELECT stage, country_of_return, counselling_org_id, programme, departed, assisted, cases, persons FROM return_case_counts`)
	if len(want) == 0 {
		t.Fatal("no cases to count")
	}
	for k, w := range want {
		if got[k] != w {
			t.Errorf("counts of %s: %v, the cases say %v", k, got[k], w)
		}
	}
	for k, g := range got {
		if _, ok := want[k]; !ok {
			t.Errorf("counts of %s: %v, but there are no such cases", k, g)
		}
	}
}
