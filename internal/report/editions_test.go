package report_test

import (
	"context"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"fmt"
	"html"
	"io"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"testing"

	"kompas/internal/app/apptest"
	"kompas/internal/platform/auth"
)

type edition struct {
	ID      int64  `json:"id"`
	Title   string `json:"title"`
	Status  string `json:"status"`
	Version int    `json:"version"`
	Author  string `json:"author"`
	Files   []struct {
		Format string `json:"format"`
		SHA256 string `json:"sha256"`
		Size   int64  `json:"size"`
		URL    string `json:"url"`
	} `json:"files"`
}

func createEdition(t *testing.T, e *apptest.Env, token string, body map[string]any) edition {
	t.Helper()
	res := e.Do("POST", "/api/v1/reports/editions", token, body)
	if res.Status != http.StatusCreated {
		t.Fatalf("create edition: %d %s", res.Status, res.Body)
	}
	var ed edition
	res.JSON(&ed)
	return ed
}

// otherPolicyOfficer adds a policy officer of the Ministry of Justice and
// Security, an organisation that did not author the editions.
func otherPolicyOfficer(t *testing.T, e *apptest.Env) string {
	t.Helper()
	const email = "policy@jenv.example"
	_, err := (&auth.Service{DB: e.DB}).CreateUser(context.Background(), nil, auth.NewUser{Email: email, Name: "Jet Justice", Role: auth.RolePolicyOfficer, OrgSlug: "jenv", Password: apptest.Password})
	if err != nil {
		t.Fatal(err)
	}
	return e.Token(email)
}

func TestPublishFreezes(t *testing.T) {
	apptest.Each(t, func(t *testing.T, e *apptest.Env) {
		policy := e.Token("policy@mfa.example")
		ed := createEdition(t, e, policy, map[string]any{"title": "GCM review 2019–2022", "period_from": "2019", "period_to": "2022",
			"introduction": "The **MFA** drew up this review."})
		if ed.Status != "draft" || ed.Author != "mfa" || ed.Version != 1 {
			t.Fatalf("new edition: %+v", ed)
		}
		// A draft regenerates: its files are rendered on demand.
		draft := e.Do("GET", fmt.Sprintf("/api/v1/reports/editions/%d/files/md", ed.ID), policy, nil)
		if draft.Status != http.StatusOK || draft.Header.Get("X-Kompas-Edition-Status") != "draft" || !strings.Contains(string(draft.Body), "The **MFA** drew up this review.") {
			t.Fatalf("draft file: %d %v", draft.Status, draft.Header)
		}

		res := e.Do("POST", fmt.Sprintf("/api/v1/reports/editions/%d/publish", ed.ID), policy, nil)
		if res.Status != http.StatusOK {
			t.Fatalf("publish: %d %s", res.Status, res.Body)
		}
		var pub edition
		res.JSON(&pub)
		if pub.Status != "published" || len(pub.Files) != 4 {
			t.Fatalf("published: %+v", pub)
		}
		if n := e.Count("report_files"); n != 4 {
			t.Errorf("%d stored files, want 4", n)
		}
		before := map[string][]byte{}
		for _, f := range pub.Files {
			got := e.Do("GET", f.URL, policy, nil)
			if got.Status != http.StatusOK {
				t.Fatalf("%s: %d", f.URL, got.Status)
			}
			sum := sha256.Sum256(got.Body)
			if hex.EncodeToString(sum[:]) != f.SHA256 || got.Header.Get("X-Content-SHA256") != f.SHA256 {
				t.Errorf("%s: body hash %x, header %s, stored %s", f.Format, sum, got.Header.Get("X-Content-SHA256"), f.SHA256)
			}
			if got.Header.Get("Digest") != "sha-256="+base64.StdEncoding.EncodeToString(sum[:]) {
				t.Errorf("%s: Digest %q", f.Format, got.Header.Get("Digest"))
			}
			if int64(len(got.Body)) != f.Size {
				t.Errorf("%s: %d bytes, stored size %d", f.Format, len(got.Body), f.Size)
			}
			before[f.Format] = got.Body
		}

		// The register changes; the published files do not, the draft does.
		in := map[string]any{"title": "Late addition: a new reintegration fund", "kind": "fund", "status": "active", "start": "2020", "objectives": []int{21},
			"budget": map[string]any{"amount": "2500000", "currency": "EUR"}}
		if r := e.Do("POST", "/api/v1/initiatives", policy, in); r.Status != http.StatusCreated {
			t.Fatalf("add initiative: %d %s", r.Status, r.Body)
		}
		for format, b := range before {
			got := e.Do("GET", fmt.Sprintf("/api/v1/reports/editions/%d/files/%s", ed.ID, format), policy, nil)
			if string(got.Body) != string(b) {
				t.Errorf("published %s changed after the register changed", format)
			}
		}
		cur := e.Do("GET", "/api/v1/reports/gcm?format=md", policy, nil)
		if cur.Status != http.StatusOK || !strings.Contains(string(cur.Body), "Late addition: a new reintegration fund") {
			t.Errorf("the current draft does not show the new initiative: %d", cur.Status)
		}
		if strings.Contains(string(before["md"]), "Late addition") {
			t.Error("the frozen Markdown holds the later initiative")
		}

		// Frozen: no edit, no second publication, and the rows stay.
		audits := e.Count("audit_events")
		put := e.Do("PUT", fmt.Sprintf("/api/v1/reports/editions/%d", ed.ID), policy, map[string]any{"title": "Changed", "version": pub.Version})
		if put.Status != http.StatusConflict {
			t.Errorf("PUT after publish: %d %s, want 409", put.Status, put.Body)
		}
		again := e.Do("POST", fmt.Sprintf("/api/v1/reports/editions/%d/publish", ed.ID), policy, nil)
		if again.Status != http.StatusConflict {
			t.Errorf("publish twice: %d, want 409", again.Status)
		}
		if n := e.Count("audit_events"); n != audits {
			t.Errorf("refused writes left %d audit events", n-audits)
		}
		if n := e.Count("report_files"); n != 4 {
			t.Errorf("%d stored files after refused writes, want 4", n)
		}
		// The database itself refuses to change frozen files.
		if _, err := e.DB.Exec(context.Background(), `UPDATE report_files SET sha256 = 'x' WHERE edition_id = ?`, ed.ID); err == nil {
			t.Error("the database let a frozen file change")
		}
		// Every write was audited.
		var n int
		if err := e.DB.QueryRow(context.Background(), `SELECT COUNT(*) FROM audit_events WHERE object_type = 'report_edition' AND object_id = ?`, fmt.Sprint(ed.ID)).Scan(&n); err != nil {
			t.Fatal(err)
		}
		if n != 2 {
			t.Errorf("%d audit events for the edition, want create and publish", n)
		}
	})
}

func TestEditionAccess(t *testing.T) {
	apptest.Each(t, func(t *testing.T, e *apptest.Env) {
		policy := e.Token("policy@mfa.example")
		admin := e.Token("admin@mfa.example")
		caseworker := e.Token("caseworker@rds.example")
		analyst := e.Token("analyst@dtm.example")
		other := otherPolicyOfficer(t, e)
		draft := createEdition(t, e, policy, map[string]any{"title": "Draft"})
		toPublish := createEdition(t, e, policy, map[string]any{"title": "To publish"})
		id := fmt.Sprint(draft.ID)
		body := func(v int) map[string]any { return map[string]any{"title": "Renamed", "version": v} }
		cases := []struct {
			name, method, path, token string
			body                      any
			want                      int
		}{
			{"current draft, nobody", "GET", "/api/v1/reports/gcm", "", nil, 401},
			{"current draft, caseworker", "GET", "/api/v1/reports/gcm?format=md", caseworker, nil, 200},
			{"list, nobody", "GET", "/api/v1/reports/editions", "", nil, 401},
			{"list, analyst", "GET", "/api/v1/reports/editions", analyst, nil, 200},
			{"create, nobody", "POST", "/api/v1/reports/editions", "", map[string]any{"title": "x"}, 401},
			{"create, caseworker", "POST", "/api/v1/reports/editions", caseworker, map[string]any{"title": "x"}, 403},
			{"create, analyst", "POST", "/api/v1/reports/editions", analyst, map[string]any{"title": "x"}, 403},
			{"create for another organisation, policy officer", "POST", "/api/v1/reports/editions", policy, map[string]any{"title": "x", "author": "jenv"}, 403},
			{"create for another organisation, admin", "POST", "/api/v1/reports/editions", admin, map[string]any{"title": "x", "author": "jenv"}, 201},
			{"create, other policy officer", "POST", "/api/v1/reports/editions", other, map[string]any{"title": "x"}, 201},
			{"get, nobody", "GET", "/api/v1/reports/editions/" + id, "", nil, 401},
			{"get, caseworker", "GET", "/api/v1/reports/editions/" + id, caseworker, nil, 200},
			{"get, unknown", "GET", "/api/v1/reports/editions/999999", caseworker, nil, 404},
			{"get, not a number", "GET", "/api/v1/reports/editions/abc", caseworker, nil, 404},
			{"file, nobody", "GET", "/api/v1/reports/editions/" + id + "/files/pdf", "", nil, 401},
			{"file, analyst", "GET", "/api/v1/reports/editions/" + id + "/files/pdf", analyst, nil, 200},
			{"file, unknown edition", "GET", "/api/v1/reports/editions/999999/files/pdf", analyst, nil, 404},
			{"put, nobody", "PUT", "/api/v1/reports/editions/" + id, "", body(1), 401},
			{"put, caseworker", "PUT", "/api/v1/reports/editions/" + id, caseworker, body(1), 403},
			{"put, other organisation", "PUT", "/api/v1/reports/editions/" + id, other, body(1), 403},
			{"put, unknown", "PUT", "/api/v1/reports/editions/999999", policy, body(1), 404},
			{"put, author", "PUT", "/api/v1/reports/editions/" + id, policy, body(1), 200},
			{"put, stale version", "PUT", "/api/v1/reports/editions/" + id, policy, body(1), 409},
			{"put, admin", "PUT", "/api/v1/reports/editions/" + id, admin, body(2), 200},
			{"publish, nobody", "POST", fmt.Sprintf("/api/v1/reports/editions/%d/publish", toPublish.ID), "", nil, 401},
			{"publish, analyst", "POST", fmt.Sprintf("/api/v1/reports/editions/%d/publish", toPublish.ID), analyst, nil, 403},
			{"publish, other organisation", "POST", fmt.Sprintf("/api/v1/reports/editions/%d/publish", toPublish.ID), other, nil, 403},
			{"publish, unknown", "POST", "/api/v1/reports/editions/999999/publish", policy, nil, 404},
			{"publish, author", "POST", fmt.Sprintf("/api/v1/reports/editions/%d/publish", toPublish.ID), policy, nil, 200},
			{"publish again", "POST", fmt.Sprintf("/api/v1/reports/editions/%d/publish", toPublish.ID), admin, nil, 409},
			{"published file, caseworker", "GET", fmt.Sprintf("/api/v1/reports/editions/%d/files/docx", toPublish.ID), caseworker, nil, 200},
		}
		for _, c := range cases {
			res := e.Do(c.method, c.path, c.token, c.body)
			if res.Status != c.want {
				t.Errorf("%s: %s %s → %d, want %d: %s", c.name, c.method, c.path, res.Status, c.want, res.Body)
			}
			if res.Status >= 400 && !strings.HasPrefix(res.Header.Get("Content-Type"), "application/problem+json") {
				t.Errorf("%s: error is not problem+json", c.name)
			}
		}
	})
}

func TestEditionBadInput(t *testing.T) {
	apptest.Each(t, func(t *testing.T, e *apptest.Env) {
		policy := e.Token("policy@mfa.example")
		ed := createEdition(t, e, policy, map[string]any{"title": "Valid"})
		editions, audits := e.Count("report_editions"), e.Count("audit_events")
		cases := []struct {
			name, method, path string
			body               any
			status             int
			field              string
		}{
			{"unknown format, current draft", "GET", "/api/v1/reports/gcm?format=odt", nil, 400, "format"},
			{"unknown format, edition file", "GET", fmt.Sprintf("/api/v1/reports/editions/%d/files/rtf", ed.ID), nil, 400, "format"},
			{"period end before start", "POST", "/api/v1/reports/editions", map[string]any{"title": "x", "period_from": "2022", "period_to": "2019-06"}, 422, "period_to"},
			{"not a date", "POST", "/api/v1/reports/editions", map[string]any{"title": "x", "period_from": "last year"}, 422, "period_from"},
			{"objective 24", "POST", "/api/v1/reports/editions", map[string]any{"title": "x", "grouping": []map[string]any{{"title": "Odd", "objectives": []int{5, 24}}}}, 422, "grouping[0].objectives[1]"},
			{"objective twice", "POST", "/api/v1/reports/editions", map[string]any{"title": "x", "grouping": []map[string]any{{"objectives": []int{5}}, {"objectives": []int{5}}}}, 422, "grouping[1].objectives[0]"},
			{"empty group", "POST", "/api/v1/reports/editions", map[string]any{"title": "x", "grouping": []map[string]any{{"title": "None", "objectives": []int{}}}}, 422, "grouping[0].objectives"},
			{"no title", "POST", "/api/v1/reports/editions", map[string]any{"title": "  "}, 422, "title"},
			{"unknown framework", "POST", "/api/v1/reports/editions", map[string]any{"title": "x", "framework": "nope"}, 422, "framework"},
			{"unknown author", "POST", "/api/v1/reports/editions", map[string]any{"title": "x", "author": "nope"}, 403, ""},
			{"unknown field", "POST", "/api/v1/reports/editions", map[string]any{"title": "x", "colour": "red"}, 400, "colour"},
			{"wrong type", "POST", "/api/v1/reports/editions", map[string]any{"title": 7}, 400, "title"},
			{"malformed JSON", "POST", "/api/v1/reports/editions", `{"title": `, 400, ""},
			{"PUT without version", "PUT", fmt.Sprintf("/api/v1/reports/editions/%d", ed.ID), map[string]any{"title": "y"}, 422, "version"},
			{"PUT period end before start", "PUT", fmt.Sprintf("/api/v1/reports/editions/%d", ed.ID), map[string]any{"title": "y", "version": 1, "period_from": "2021-05", "period_to": "2021-04"}, 422, "period_to"},
			{"PUT objective 24", "PUT", fmt.Sprintf("/api/v1/reports/editions/%d", ed.ID), map[string]any{"title": "y", "version": 1, "grouping": []map[string]any{{"objectives": []int{24}}}}, 422, "grouping[0].objectives[0]"},
		}
		for _, c := range cases {
			res := e.Do(c.method, c.path, policy, c.body)
			if res.Status != c.status {
				t.Errorf("%s: %d %s, want %d", c.name, res.Status, res.Body, c.status)
				continue
			}
			p := res.Problem()
			if c.field == "" {
				continue
			}
			found := false
			for _, f := range p.Errors {
				found = found || f.Field == c.field
			}
			if !found {
				t.Errorf("%s: errors %+v do not name %s", c.name, p.Errors, c.field)
			}
		}
		if n := e.Count("report_editions"); n != editions {
			t.Errorf("bad input changed report_editions: %d rows, want %d", n, editions)
		}
		if n := e.Count("audit_events"); n != audits {
			t.Errorf("bad input left %d audit events", n-audits)
		}
		var cur edition
		e.Do("GET", fmt.Sprintf("/api/v1/reports/editions/%d", ed.ID), policy, nil).JSON(&cur)
		if cur.Title != "Valid" || cur.Version != 1 {
			t.Errorf("bad PUTs changed the edition: %+v", cur)
		}
	})
}

// TestPages drives the HTML pages as a browser without JavaScript would.
func TestPages(t *testing.T) {
	apptest.Each(t, func(t *testing.T, e *apptest.Env) {
		get := func(c *http.Client, path string) (*http.Response, string) {
			t.Helper()
			res, err := c.Get(e.URL + path)
			if err != nil {
				t.Fatal(err)
			}
			defer res.Body.Close()
			b, _ := io.ReadAll(res.Body)
			return res, string(b)
		}
		nobody := e.Browser("")
		if res, _ := get(nobody, "/reports"); res.StatusCode != http.StatusSeeOther || !strings.HasPrefix(res.Header.Get("Location"), "/login") {
			t.Errorf("/reports without sign-in: %d %s", res.StatusCode, res.Header.Get("Location"))
		}
		if res, body := get(nobody, "/reports/review.css"); res.StatusCode != 200 || !strings.Contains(body, "@media print") {
			t.Errorf("stylesheet: %d", res.StatusCode)
		}
		cw := e.Browser("caseworker@rds.example")
		res, body := get(cw, "/reports")
		if res.StatusCode != 200 || strings.Contains(body, `action="/reports"`) || !strings.Contains(body, `href="/reports"`) {
			t.Errorf("/reports as caseworker: %d, create form shown: %v", res.StatusCode, strings.Contains(body, `action="/reports"`))
		}
		if !strings.Contains(body, ">Review</a>") {
			t.Error("no Review entry in the navigation")
		}
		pol := e.Browser("policy@mfa.example")
		res, body = get(pol, "/reports")
		if res.StatusCode != 200 || !strings.Contains(body, `action="/reports"`) || !strings.Contains(body, `name="grouping[0].title" type="text" value="Migration research"`) ||
			!strings.Contains(body, `name="grouping[0].objectives" value="1" checked`) {
			t.Fatalf("/reports as policy officer has no new edition form with the default grouping")
		}
		post := func(c *http.Client, path string, v url.Values) *http.Response {
			t.Helper()
			req, _ := http.NewRequest("POST", e.URL+path, strings.NewReader(v.Encode()))
			req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
			req.Header.Set("Origin", e.URL)
			res, err := c.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			res.Body.Close()
			return res
		}
		bad := post(pol, "/reports", url.Values{"title": {"Bad"}, "grouping[0].title": {"Odd"}, "grouping[0].objectives": {"24"}, "period_from": {"2022"}, "period_to": {"2021"}})
		if bad.StatusCode != http.StatusUnprocessableEntity {
			t.Errorf("bad form: %d, want 422", bad.StatusCode)
		}
		res = post(pol, "/reports", url.Values{"title": {"Review 2019–2022"}, "period_from": {"2019"}, "period_to": {"2022"},
			"grouping[0].title": {"Migration research"}, "grouping[0].objectives": {"1"}, "grouping[1].title": {""},
			"grouping[2].title": {"Returns"}, "grouping[2].objectives": {"21"}, "introduction": {"Written by *us*."}, "next_steps": {""}})
		if res.StatusCode != http.StatusSeeOther || !strings.HasPrefix(res.Header.Get("Location"), "/reports/") {
			t.Fatalf("create form: %d %s", res.StatusCode, res.Header.Get("Location"))
		}
		page := res.Header.Get("Location")
		res, body = get(pol, page)
		if res.StatusCode != 200 {
			t.Fatalf("%s: %d", page, res.StatusCode)
		}
		for _, want := range []string{"<svg", `role="img"`, "<h3 id=\"group-returns-h\">Returns</h3>", "<em>us</em>", "/files/pdf", "/files/docx", "Publish and freeze", "/edit", StylesheetRef} {
			if !strings.Contains(body, want) {
				t.Errorf("%s lacks %q", page, want)
			}
		}
		if csp := res.Header.Get("Content-Security-Policy"); !strings.Contains(csp, "style-src 'self'") {
			t.Errorf("CSP %q", csp)
		}
		if strings.Contains(body, " style=") || strings.Contains(body, "<style") {
			t.Error("the page carries inline style")
		}
		if res, _ := get(cw, page+"/edit"); res.StatusCode != http.StatusForbidden {
			t.Errorf("edit page as caseworker: %d", res.StatusCode)
		}
		if res, body := get(pol, page+"/edit"); res.StatusCode != 200 || !strings.Contains(body, "Written by *us*.") {
			t.Errorf("edit page: %d", res.StatusCode)
		}
		res = post(pol, page, url.Values{"title": {"Review 2019–2022, revised"}, "version": {"1"}, "author": {"mfa"}, "grouping[0].title": {"Returns"}, "grouping[0].objectives": {"21"}})
		if res.StatusCode != http.StatusSeeOther {
			t.Errorf("update form: %d", res.StatusCode)
		}
		if res := post(cw, page+"/publish", nil); res.StatusCode != http.StatusForbidden {
			t.Errorf("publish as caseworker: %d", res.StatusCode)
		}
		if res := post(pol, page+"/publish", nil); res.StatusCode != http.StatusSeeOther {
			t.Errorf("publish form: %d", res.StatusCode)
		}
		res, body = get(cw, page)
		if res.StatusCode != 200 || !strings.Contains(body, "These files never change") || strings.Contains(body, "Publish and freeze") || !strings.Contains(body, "revised") {
			t.Errorf("published page as caseworker: %d", res.StatusCode)
		}
		if res, _ := get(pol, page+"/edit"); res.StatusCode != http.StatusConflict {
			t.Errorf("edit page of a published edition: %d, want 409", res.StatusCode)
		}
		res, _ = get(cw, page+"/files/pdf")
		if res.StatusCode != 200 || res.Header.Get("Content-Type") != "application/pdf" || res.Header.Get("X-Content-SHA256") == "" {
			t.Errorf("PDF download: %d %s", res.StatusCode, res.Header.Get("Content-Type"))
		}
		if res, _ := get(cw, "/reports/current"); res.StatusCode != 200 {
			t.Errorf("/reports/current: %d", res.StatusCode)
		}
		if res, _ := get(cw, "/reports/current/files/docx"); res.StatusCode != 200 {
			t.Errorf("current DOCX: %d", res.StatusCode)
		}
		if res, _ := get(cw, "/reports/current/files/odt"); res.StatusCode != 400 {
			t.Errorf("current odt: %d, want 400", res.StatusCode)
		}
	})
}

const StylesheetRef = `href="/reports/review.css"`

var (
	summaryRE     = regexp.MustCompile(`(?s)<div class="error-summary".*?</div>`)
	summaryItemRE = regexp.MustCompile(`<li><a href="#([^"]*)">([^<]*)</a></li>`)
)

// TestEditionFormSections: part B's sections are rows of a heading and
// checkboxes of the objectives by name; "Add another section" adds a row
// without saving; errors name the section and its field by their labels,
// never by the path (grouping[1].objectives[0]), and link to the row.
func TestEditionFormSections(t *testing.T) {
	apptest.Each(t, func(t *testing.T, e *apptest.Env) {
		pol := e.Browser("policy@mfa.example")
		send := func(method, path string, v url.Values) (int, string) {
			t.Helper()
			req, _ := http.NewRequest(method, e.URL+path, strings.NewReader(v.Encode()))
			if method == "POST" {
				req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
				req.Header.Set("Origin", e.URL)
			}
			res, err := pol.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			defer res.Body.Close()
			b, _ := io.ReadAll(res.Body)
			return res.StatusCode, string(b)
		}
		rows := func(body string) int { return strings.Count(body, `<legend>GCM objectives of section `) }
		editions := e.Count("report_editions")

		status, body := send("GET", "/reports", nil)
		if status != 200 || rows(body) != 7 {
			t.Fatalf("/reports: %d, %d section rows, want the seed's six and one empty", status, rows(body))
		}
		if !strings.Contains(body, "> 21. Dignified return and reintegration</label>") {
			t.Error("the objectives are not offered by their names")
		}

		v := url.Values{"title": {"Sections test"}, "grouping[0].title": {"Returns"}, "grouping[0].objectives": {"21"}, "grouping[1].title": {""}, "add": {"grouping"}}
		status, body = send("POST", "/reports", v)
		if status != 200 || rows(body) != 3 || strings.Contains(body, `class="error-summary"`) {
			t.Errorf("Add another section: %d with %d rows, want 200 with 3 and no errors", status, rows(body))
		}
		if !strings.Contains(body, `value="Sections test"`) || !strings.Contains(body, `formaction="/reports#f-grouping-4"`) {
			t.Error("Add another section lost the title or does not lead to the next row")
		}

		v = url.Values{"title": {"Sections test"}, "grouping[0].title": {""}, "grouping[1].title": {"Returns"}, "grouping[1].objectives": {"21", "1"},
			"grouping[2].title": {"Research again"}, "grouping[2].objectives": {"1"}}
		status, body = send("POST", "/reports", v)
		if status != http.StatusUnprocessableEntity {
			t.Fatalf("a section repeating an objective: %d, want 422", status)
		}
		items := summaryItemRE.FindAllStringSubmatch(summaryRE.FindString(body), -1)
		if len(items) != 1 {
			t.Fatalf("error summary items: %q", items)
		}
		// The empty first row is gone: "Returns" is section 1 now, and the
		// repeat is in section 2.
		if id, text := items[0][1], html.UnescapeString(items[0][2]); text != "Section 2: GCM objectives: objective 1 is already in section 1" || id != "f-grouping-2-objectives" {
			t.Errorf("summary item %q links to #%s", text, id)
		}
		if strings.Contains(body, "grouping[1].objectives[0]:") || !strings.Contains(body, `id="f-grouping-2-objectives"`) || !strings.Contains(body, `id="f-grouping-2-objectives-error"`) {
			t.Error("the error is not at its row, or the summary shows a path")
		}
		if !strings.Contains(body, `name="grouping[0].title" type="text" value="Returns"`) || !strings.Contains(body, `name="grouping[1].objectives" value="1" checked`) {
			t.Error("the form lost what was typed")
		}

		v.Set("grouping[2].objectives", "9")
		if status, _ = send("POST", "/reports", v); status != http.StatusSeeOther {
			t.Fatalf("corrected sections: %d, want 303", status)
		}
		if n := e.Count("report_editions"); n != editions+1 {
			t.Errorf("%d editions, want %d: only the corrected form saves", n, editions+1)
		}
	})
}
