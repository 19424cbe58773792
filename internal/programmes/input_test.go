package programmes_test

import (
	"encoding/json"
	"fmt"
	"html"
	"net/http"
	"net/url"
	"reflect"
	"regexp"
	"strings"
	"testing"

	"kompas/internal/app/apptest"
)

type badInputCase struct {
	name   string
	edit   func(b map[string]any) // changes a valid body
	raw    string                 // or: the body as is
	status int
	field  string // the field errors[] must name; "" for bodies that cannot be read at all
}

func badInputCases() []badInputCase {
	return []badInputCase{
		{name: "malformed JSON", raw: `{"title": "x", `, status: 400},
		{name: "not an object", raw: `["title"]`, status: 400, field: "body"},
		{name: "two values", raw: `{"title":"x"} {"title":"y"}`, status: 400},
		{name: "empty body", raw: ``, status: 400},
		{name: "unknown field", edit: func(b map[string]any) { b["colour"] = "red" }, status: 400, field: "colour"},
		{name: "unknown field in budget", edit: func(b map[string]any) { b["budget"] = map[string]any{"amount": 1, "currency": "EUR", "vat": 0} }, status: 400, field: "budget.vat"},
		{name: "oversized body", edit: func(b map[string]any) { b["summary"] = strings.Repeat("a", 1<<20+1024) }, status: 413},
		{name: "title over 200 characters", edit: func(b map[string]any) { b["title"] = strings.Repeat("T", 201) }, status: 422, field: "title"},
		{name: "title missing", edit: func(b map[string]any) { delete(b, "title") }, status: 422, field: "title"},
		{name: "summary over limit", edit: func(b map[string]any) { b["summary"] = strings.Repeat("s", 4001) }, status: 422, field: "summary"},
		{name: "unknown country XX", edit: func(b map[string]any) { b["countries"] = []string{"NE", "XX"} }, status: 422, field: "countries[1]"},
		{name: "objective 0", edit: func(b map[string]any) { b["objectives"] = []int{0} }, status: 422, field: "objectives[0]"},
		{name: "objective 24", edit: func(b map[string]any) { b["objectives"] = []int{7, 24} }, status: 422, field: "objectives[1]"},
		{name: "principle k", edit: func(b map[string]any) { b["principles"] = []string{"k"} }, status: 422, field: "principles[0]"},
		{name: "pillar 7", edit: func(b map[string]any) { b["pillars"] = []int{7} }, status: 422, field: "pillars[0]"},
		{name: "negative budget", edit: func(b map[string]any) { b["budget"] = map[string]any{"amount": -5, "currency": "EUR"} }, status: 422, field: "budget.amount"},
		{name: "budget with 3 decimals", edit: func(b map[string]any) {
			b["budget"] = map[string]any{"amount": json.Number("1.234"), "currency": "EUR"}
		}, status: 422, field: "budget.amount"},
		{name: "budget amount as words", edit: func(b map[string]any) { b["budget"] = map[string]any{"amount": "one million", "currency": "EUR"} }, status: 422, field: "budget.amount"},
		{name: "budget amount of the wrong type", edit: func(b map[string]any) { b["budget"] = map[string]any{"amount": true, "currency": "EUR"} }, status: 400, field: "budget.amount"},
		{name: "currency EURO", edit: func(b map[string]any) { b["budget"] = map[string]any{"amount": 5, "currency": "EURO"} }, status: 422, field: "budget.currency"},
		{name: "end before start", edit: func(b map[string]any) { b["start"], b["end"] = "2022-03", "2022-02" }, status: 422, field: "end"},
		{name: "bad date 2021-13", edit: func(b map[string]any) { b["start"] = "2021-13" }, status: 422, field: "start"},
		{name: "unknown partner slug", edit: func(b map[string]any) { b["partners"] = []map[string]string{{"org": "no-such-org", "role": "funder"}} }, status: 422, field: "partners[0].org"},
		{name: "partner that is no slug", edit: func(b map[string]any) {
			b["partners"] = []map[string]string{{"org": "IOM & friends", "role": "funder"}}
		}, status: 422, field: "partners[0].org"},
		{name: "unknown lead", edit: func(b map[string]any) { b["lead"] = "no-such-org" }, status: 422, field: "lead"},
		{name: "bad partner role", edit: func(b map[string]any) { b["partners"] = []map[string]string{{"org": "iom", "role": "sponsor"}} }, status: 422, field: "partners[0].role"},
		{name: "duplicate partner", edit: func(b map[string]any) {
			b["partners"] = []map[string]string{{"org": "iom", "role": "funder"}, {"org": "iom", "role": "funder"}}
		}, status: 422, field: "partners[1]"},
		{name: "result without indicator", edit: func(b map[string]any) { b["results"] = []map[string]any{{"value": 5, "unit": "persons"}} }, status: 422, field: "results[0].indicator"},
		{name: "source URL javascript:", edit: func(b map[string]any) {
			b["sources"] = []map[string]string{{"title": "x", "url": "javascript:alert(1)"}}
		}, status: 422, field: "sources[0].url"},
		{name: "objectives as a string", edit: func(b map[string]any) { b["objectives"] = "7,21" }, status: 400, field: "objectives"},
		{name: "title as a number", edit: func(b map[string]any) { b["title"] = 5 }, status: 400, field: "title"},
		{name: "objective beyond int", edit: func(b map[string]any) { b["objectives"] = []json.Number{"99999999999999999999"} }, status: 400, field: "objectives[0]"},
		{name: "region with a semicolon", edit: func(b map[string]any) { b["regions"] = []string{"Sahel; Maghreb"} }, status: 422, field: "regions[0]"},
		{name: "kind unknown", edit: func(b map[string]any) { b["kind"] = "initiative" }, status: 422, field: "kind"},
	}
}

// apiBadInput sends each bad body as a new initiative and as a change of
// COMPASS; every one is refused naming the field, and nothing changes.
func apiBadInput(t *testing.T, e *apptest.Env) {
	tok := e.Token(policy)
	compass := get(t, e, idOf(t, e, compassTitle))
	for _, c := range badInputCases() {
		for _, method := range []string{"POST", "PUT"} {
			t.Run(method+" "+c.name, func(t *testing.T) {
				before := counts(e)
				audit := e.Count("audit_events")
				var body any = c.raw
				path := "/api/v1/initiatives"
				if c.edit != nil {
					b := validBody()
					if method == "PUT" {
						b = putBody(compass)
					}
					c.edit(b)
					raw, err := json.Marshal(b)
					if err != nil {
						t.Fatal(err)
					}
					body = raw
				}
				if method == "PUT" {
					path = fmt.Sprintf("/api/v1/initiatives/%d", compass.ID)
				}
				res := e.Do(method, path, tok, body)
				if res.Status != c.status {
					t.Fatalf("status %d, want %d: %.300s", res.Status, c.status, res.Body)
				}
				p := res.Problem()
				if p.Status != c.status || p.Detail == "" {
					t.Errorf("problem = %+v", p)
				}
				if c.field != "" {
					named := false
					for _, fe := range p.Errors {
						named = named || fe.Field == c.field
						if fe.Message == "" {
							t.Errorf("field %s without a message", fe.Field)
						}
					}
					if !named {
						t.Errorf("errors %+v do not name %s", p.Errors, c.field)
					}
				}
				sameCounts(t, e, before)
				if n := e.Count("audit_events"); n != audit {
					t.Errorf("a refused request left %d audit events", n-audit)
				}
				if now := get(t, e, compass.ID); now.Version != compass.Version || now.Title != compass.Title || len(now.Countries) != len(compass.Countries) {
					t.Errorf("COMPASS changed: %+v", now)
				}
			})
		}
	}
	t.Run("accepted input is normalised", func(t *testing.T) { inputNormalised(t, e) })
}

// inputNormalised checks what an accepted body turns into.
func inputNormalised(t *testing.T, e *apptest.Env) {
	b := validBody()
	b["title"] = "  Lower-case codes  "
	b["countries"] = []string{"nl", "ne", "NL"}
	b["principles"] = []string{"C", "a"}
	b["objectives"] = []int{21, 7, 7}
	b["budget"] = map[string]any{"amount": "1000.50", "currency": "eur"}
	b["partners"] = []map[string]string{{"org": " IOM ", "role": "implementer"}}
	b["summary"] = "Line one\r\nline two"
	it := create(t, e, policy, b)
	want := map[string]any{
		"title":      "Lower-case codes",
		"countries":  []string{"NE", "NL"},
		"principles": []string{"a", "c"},
		"objectives": []int{7, 21},
		"summary":    "Line one\nline two",
		"owner":      "mfa",
	}
	got := map[string]any{"title": it.Title, "countries": it.Countries, "principles": it.Principles, "objectives": it.Objectives, "summary": it.Summary, "owner": it.Owner}
	if fmt.Sprint(got) != fmt.Sprint(want) {
		t.Errorf("got %v\nwant %v", got, want)
	}
	if it.Budget == nil || it.Budget.Amount != "1000.5" || it.Budget.Currency != "EUR" {
		t.Errorf("budget = %+v", it.Budget)
	}
	if len(it.Partners) != 1 || it.Partners[0].Org != "iom" || it.Partners[0].Name != "International Organization for Migration (IOM)" {
		t.Errorf("partners = %+v", it.Partners)
	}
	if it.Version != 1 || it.LeadName != "Ministry of Foreign Affairs" {
		t.Errorf("version %d lead %q", it.Version, it.LeadName)
	}
	// What GET returns is what POST returned.
	if again := get(t, e, it.ID); !reflect.DeepEqual(again.Input, it.Input) {
		t.Errorf("GET differs from POST:\n%+v\n%+v", again.Input, it.Input)
	}
	res := e.Do("GET", fmt.Sprintf("/api/v1/initiatives/%d", it.ID), e.Token(analyst), nil)
	if !strings.Contains(string(res.Body), `"amount":1000.5`) || !strings.Contains(string(res.Body), `"value":1200`) {
		t.Errorf("numbers are not JSON numbers: %s", res.Body)
	}
}

var summaryItemRE = regexp.MustCompile(`<li><a href="[^"]*">([^<]*)</a></li>`)

// notALabel reports whether an error summary's item ("Partner 2: role: must
// be one of …") names its field the way a developer would: by its path
// ("partners[1].role", "budget.amount") or an input's name ("budget_amount").
// A label starts with a capital and its first part has no "_", "." or [n].
func notALabel(item string) bool {
	first, _, _ := strings.Cut(item, ": ")
	return first == "" || strings.ToUpper(first[:1]) != first[:1] || strings.ContainsAny(first, "_.[]")
}

// formBadInput posts the HTML form with one bad field at a time: the
// page comes back with status 422, an error summary that names the field
// by its label (never its path) and links to its input, the message at the
// field, and everything the user typed.
func formBadInput(t *testing.T, e *apptest.Env) {
	cases := []struct {
		name, field, value string
		label              string // how the summary names the field
		anchor             string // the error summary's link
		message            string
	}{
		{"bad country", "countries", "NE, XX", "Country 2", "#f-countries", "is not an ISO 3166-1 alpha-2 country code"},
		{"no kind", "kind", "", "Kind of initiative", "#f-kind", "choose one from the list"},
		{"title too long", "title", strings.Repeat("T", 201), "Title", "#f-title", "must be at most 200 characters"},
		{"end before start", "end", "2020", "End", "#f-end", "must not be before the start"},
		{"bad budget", "budget_amount", "12.345", "Budget: amount", "#f-budget-amount", "must have at most two decimals"},
		{"bad currency", "budget_currency", "EURO", "Budget: currency", "#f-budget-currency", "is not an ISO 4217 currency code"},
		{"result without value", "result_value", "", "Result 1: value", "#f-results-1-value", "is required"},
		{"bad result date", "result_date", "June", "Result 1: date", "#f-results-1-date", "must be a date"},
		{"bad source", "source_url", "javascript:alert(1)", "Source 1: web address", "#f-sources-1-url", "must be an http or https address"},
		{"unknown partner", "partner_org", "no-such-org", "Partner 1: organisation", "#f-partners-1-org", "no organisation"},
		{"bad partner role", "partner_role", "boss", "Partner 1: role", "#f-partners-1-role", "choose one from the list"},
		{"empty list entries are skipped", "regions", "Sahel;;", "", "", ""}, // accepted: no error page
	}
	c := e.Browser(policy)
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			before := counts(e)
			form := url.Values{
				"title": {"Typed <title> & kept"}, "summary": {"Typed summary"}, "kind": {"project"}, "status": {"planned"},
				"start": {"2021"}, "countries": {"NE, NG"}, "regions": {"Sahel"}, "objectives": {"7", "21"}, "pillars": {"2"},
				"partner_org": {"iom"}, "partner_role": {"implementer"}, "budget_amount": {"1,500"}, "budget_currency": {"EUR"},
				"result_indicator": {"Migrants counselled"}, "result_value": {"1200"}, "result_unit": {"persons"}, "result_date": {"2022"}, "result_source": {"IOM"},
				"source_title": {"Report"}, "source_url": {"https://example.org/r"},
			}
			form.Set(tc.field, tc.value)
			res := send(t, c, "POST", e.URL+"/initiatives", form)
			if tc.anchor == "" {
				if res.Status != http.StatusSeeOther {
					t.Fatalf("status %d: %.500s", res.Status, res.Body)
				}
				return
			}
			if res.Status != http.StatusUnprocessableEntity {
				t.Fatalf("status %d, want 422: %.500s", res.Status, res.Body)
			}
			summary := regexp.MustCompile(`(?s)<div class="error-summary".*?</div>`).FindString(res.Body)
			if summary == "" || !strings.Contains(summary, `href="`+tc.anchor+`"`) {
				t.Errorf("error summary does not link to %s: %q", tc.anchor, summary)
			}
			named := false
			for _, li := range summaryItemRE.FindAllStringSubmatch(summary, -1) {
				item := html.UnescapeString(li[1])
				named = named || strings.HasPrefix(item, tc.label+": ")
				if notALabel(item) {
					t.Errorf("error summary names a field by its path or input name: %q", item)
				}
			}
			if !named {
				t.Errorf("error summary does not name %q: %q", tc.label, summary)
			}
			if !strings.Contains(res.Body, `id="`+strings.TrimPrefix(tc.anchor, "#")+`"`) {
				t.Errorf("the summary's link %s has no target on the page", tc.anchor)
			}
			if !strings.Contains(html.UnescapeString(res.Body), tc.message) {
				t.Errorf("page lacks the message %q", tc.message)
			}
			if !strings.Contains(res.Body, `id="`+strings.TrimPrefix(tc.anchor, "#")+`-error"`) && tc.field != "countries" {
				t.Errorf("no message at the field %s", tc.anchor)
			}
			if n := strings.Count(res.Body, `class="error"`); n == 0 {
				t.Errorf("no message at the field")
			}
			// What the user typed is still there.
			kept := []string{`value="Typed &lt;title&gt; &amp; kept"`, `>Typed summary</textarea>`, `value="2021"`, `value="Sahel"`,
				`value="7" checked`, `value="21" checked`, `value="2" checked`, `value="iom" selected`, `value="implementer" selected`,
				`value="planned" selected`, `value="project" selected`, `value="Migrants counselled"`, `value="https://example.org/r"`}
			switch tc.field {
			case "countries":
				kept = append(kept, `value="NE, XX"`)
			case "title":
				kept[0] = `value="` + tc.value + `"`
			case "partner_org":
				kept = append(kept[:7], kept[8:]...) // a select cannot show an organisation it does not list
			case "partner_role":
				kept = append(kept[:8], kept[9:]...)
			case "kind":
				kept = kept[:len(kept)-3]
			case "source_url":
				kept[len(kept)-1] = `value="javascript:alert(1)"`
			}
			for _, k := range kept {
				if !strings.Contains(res.Body, k) {
					t.Errorf("the form lost %s", k)
				}
			}
			sameCounts(t, e, before)
		})
	}
}

// TestBadInput: every bad input is refused, naming the field, and changes
// nothing, through the API and through the form.
func TestBadInput(t *testing.T) {
	t.Parallel()
	apptest.Each(t, func(t *testing.T, e *apptest.Env) {
		t.Run("api", func(t *testing.T) { apiBadInput(t, e) })
		t.Run("form", func(t *testing.T) { formBadInput(t, e) })
	})
}
