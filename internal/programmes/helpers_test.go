package programmes_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"mime/multipart"
	"net/http"
	"net/url"
	"os"
	"strings"
	"testing"

	"kompas/internal/app/apptest"
	"kompas/internal/platform/auth"
	"kompas/internal/programmes"
)

// Demo accounts and the policy officer of another organisation that tests
// add (addOtherOfficer).
const (
	policy     = "policy@mfa.example"
	admin      = "admin@mfa.example"
	analyst    = "analyst@dtm.example"
	caseworker = "caseworker@rds.example"
	other      = "policy@jenv.example"

	compassTitle = "COMPASS programme with IOM"
	missingID    = 999999
)

// addOtherOfficer adds a policy officer of the Ministry of Justice and
// Security, who may edit that ministry's initiatives but not the MFA's.
func addOtherOfficer(t testing.TB, e *apptest.Env) {
	t.Helper()
	svc := &auth.Service{DB: e.DB}
	if _, err := svc.CreateUser(context.Background(), nil, auth.NewUser{Email: other, Name: "Jet Justice", Password: apptest.Password, OrgSlug: "jenv", Role: auth.RolePolicyOfficer}); err != nil {
		t.Fatal(err)
	}
}

// demoItem is one initiative of the demo data set.
type demoItem struct {
	Key string `json:"key"`
	programmes.Input
}

// demoData reads the demo data set the harness loads.
func demoData(t testing.TB) []demoItem {
	t.Helper()
	b, err := os.ReadFile("../demo/data/initiatives.json")
	if err != nil {
		t.Fatal(err)
	}
	var items []demoItem
	if err := json.Unmarshal(b, &items); err != nil {
		t.Fatal(err)
	}
	if len(items) < 30 {
		t.Fatalf("demo data has %d initiatives", len(items))
	}
	return items
}

// page is a listing from the API.
type page struct {
	Items   []programmes.Initiative `json:"items"`
	Total   int                     `json:"total"`
	Page    int                     `json:"page"`
	PerPage int                     `json:"per_page"`
}

func list(t testing.TB, e *apptest.Env, token, query string) page {
	t.Helper()
	res := e.Do("GET", "/api/v1/initiatives?"+query, token, nil)
	if res.Status != http.StatusOK {
		t.Fatalf("list %s: %d %s", query, res.Status, res.Body)
	}
	var p page
	res.JSON(&p)
	return p
}

func titles(items []programmes.Initiative) []string {
	out := []string{}
	for _, it := range items {
		out = append(out, it.Title)
	}
	return out
}

// idOf finds an initiative by its exact title.
func idOf(t testing.TB, e *apptest.Env, title string) int64 {
	t.Helper()
	p := list(t, e, e.Token(analyst), "per_page=100&q="+url.QueryEscape(title))
	for _, it := range p.Items {
		if it.Title == title {
			return it.ID
		}
	}
	t.Fatalf("no initiative %q", title)
	return 0
}

func get(t testing.TB, e *apptest.Env, id int64) programmes.Initiative {
	t.Helper()
	res := e.Do("GET", fmt.Sprintf("/api/v1/initiatives/%d", id), e.Token(analyst), nil)
	if res.Status != http.StatusOK {
		t.Fatalf("get %d: %d %s", id, res.Status, res.Body)
	}
	var it programmes.Initiative
	res.JSON(&it)
	return it
}

// validBody is a complete, valid request body as a JSON object, so that
// cases can break one part of it.
func validBody() map[string]any {
	return map[string]any{
		"title":      "Support to return counselling in Niger",
		"summary":    "Counselling for migrants stranded in Niger who want to go home.",
		"kind":       "project",
		"status":     "active",
		"lead":       "mfa",
		"start":      "2021-04",
		"end":        "2023",
		"countries":  []string{"NE"},
		"regions":    []string{"Sahel"},
		"objectives": []int{7, 21},
		"principles": []string{"a"},
		"pillars":    []int{2, 4},
		"partners":   []map[string]string{{"org": "iom", "role": "implementer"}, {"org": "mfa", "role": "funder"}},
		"budget":     map[string]any{"amount": "250000.50", "currency": "EUR"},
		"results":    []map[string]any{{"indicator": "Migrants counselled", "value": 1200, "unit": "persons", "date": "2022", "source": "IOM"}},
		"sources":    []map[string]string{{"title": "Project document", "url": "https://example.org/niger"}},
	}
}

// create adds an initiative through the API as email and returns it.
func create(t testing.TB, e *apptest.Env, email string, body any) programmes.Initiative {
	t.Helper()
	res := e.Do("POST", "/api/v1/initiatives", e.Token(email), body)
	if res.Status != http.StatusCreated {
		t.Fatalf("create: %d %s", res.Status, res.Body)
	}
	var it programmes.Initiative
	res.JSON(&it)
	return it
}

// putBody is the initiative's own input with its version, ready to PUT back.
func putBody(it programmes.Initiative) map[string]any {
	b, _ := json.Marshal(it.Input)
	var m map[string]any
	_ = json.Unmarshal(b, &m)
	m["version"] = it.Version
	return m
}

// registerTables are the register's table and its lists.
var registerTables = []string{"initiatives", "initiative_partners", "initiative_countries", "initiative_regions", "initiative_objectives",
	"initiative_principles", "initiative_pillars", "initiative_results", "initiative_sources"}

func counts(e *apptest.Env) map[string]int {
	m := map[string]int{}
	for _, t := range registerTables {
		m[t] = e.Count(t)
	}
	return m
}

func sameCounts(t testing.TB, e *apptest.Env, before map[string]int) {
	t.Helper()
	for tab, n := range counts(e) {
		if n != before[tab] {
			t.Errorf("%s has %d rows, had %d", tab, n, before[tab])
		}
	}
}

// browsers keeps one signed-in cookie client per account.
type browsers struct {
	e *apptest.Env
	m map[string]*http.Client
}

func newBrowsers(e *apptest.Env) *browsers { return &browsers{e: e, m: map[string]*http.Client{}} }

func (b *browsers) get(email string) *http.Client {
	if c, ok := b.m[email]; ok {
		return c
	}
	c := b.e.Browser(email)
	b.m[email] = c
	return c
}

// response is a finished browser request.
type response struct {
	Status int
	Header http.Header
	Body   string
}

// send makes a browser request; body is nil, url.Values (a form) or a
// *multipartBody.
func send(t testing.TB, c *http.Client, method, u string, body any) response {
	t.Helper()
	var rd io.Reader
	ctype := ""
	switch b := body.(type) {
	case nil:
	case url.Values:
		rd, ctype = strings.NewReader(b.Encode()), "application/x-www-form-urlencoded"
	case *multipartBody:
		rd, ctype = bytes.NewReader(b.data), b.ctype
	default:
		t.Fatalf("unknown body %T", body)
	}
	req, err := http.NewRequest(method, u, rd)
	if err != nil {
		t.Fatal(err)
	}
	if ctype != "" {
		req.Header.Set("Content-Type", ctype)
	}
	req.Header.Set("X-Request-Id", "test-request")
	res, err := c.Do(req)
	if err != nil {
		t.Fatalf("%s %s: %v", method, u, err)
	}
	defer res.Body.Close()
	b, _ := io.ReadAll(res.Body)
	return response{Status: res.StatusCode, Header: res.Header, Body: string(b)}
}

type multipartBody struct {
	data  []byte
	ctype string
}

// fileUpload is a multipart form with one file field "file".
func fileUpload(t testing.TB, name string, content []byte) *multipartBody {
	t.Helper()
	var buf bytes.Buffer
	w := multipart.NewWriter(&buf)
	fw, err := w.CreateFormFile("file", name)
	if err != nil {
		t.Fatal(err)
	}
	_, _ = fw.Write(content)
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	return &multipartBody{data: buf.Bytes(), ctype: w.FormDataContentType()}
}

// formOf is the form the edit page would post for it, with changes.
func formOf(it programmes.Initiative, set map[string]string) url.Values {
	v := url.Values{}
	v.Set("title", it.Title)
	v.Set("summary", it.Summary)
	v.Set("kind", it.Kind)
	v.Set("status", it.Status)
	v.Set("lead", it.Lead)
	v.Set("start", it.Start)
	v.Set("end", it.End)
	v.Set("countries", strings.Join(it.Countries, ", "))
	v.Set("regions", strings.Join(it.Regions, "; "))
	v.Set("version", fmt.Sprint(it.Version))
	for _, n := range it.Objectives {
		v.Add("objectives", fmt.Sprint(n))
	}
	for _, n := range it.Pillars {
		v.Add("pillars", fmt.Sprint(n))
	}
	for _, p := range it.Principles {
		v.Add("principles", p)
	}
	for _, p := range it.Partners {
		v.Add("partner_org", p.Org)
		v.Add("partner_role", p.Role)
	}
	for k, s := range set {
		v.Set(k, s)
	}
	return v
}
