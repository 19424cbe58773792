package iati_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"mime/multipart"
	"net/http"
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"strings"
	"testing"
	"time"

	"kompas/internal/app"
	"kompas/internal/app/apptest"
	"kompas/internal/demo"
	"kompas/internal/gcm"
	"kompas/internal/iati"
	"kompas/internal/platform/auth"
	"kompas/internal/platform/store"
	"kompas/internal/platform/store/storetest"
	"kompas/internal/programmes"
)

const (
	policy  = "policy@mfa.example"
	admin   = "admin@mfa.example"
	analyst = "analyst@dtm.example"
)

// referenceFile reads one of the IATI reference files copied into testdata
// (their README gives source and licence).
func referenceFile(t testing.TB, name string) []byte {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("testdata", name))
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// activityStartLine is the line of the last <iati-activity start tag at or
// before line (1-based) in file.
func activityStartLine(file string, line int) int {
	start := 0
	for i, l := range strings.SplitN(file, "\n", line+1) {
		if i < line && strings.Contains(l, "<iati-activity ") {
			start = i + 1
		}
	}
	return start
}

// multipartFile is a multipart body with one file field.
func multipartFile(t testing.TB, field, name string, content []byte) ([]byte, string) {
	t.Helper()
	var buf bytes.Buffer
	w := multipart.NewWriter(&buf)
	fw, err := w.CreateFormFile(field, name)
	if err != nil {
		t.Fatal(err)
	}
	_, _ = fw.Write(content)
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes(), w.FormDataContentType()
}

// upload imports content through the API as email and waits for the job.
func upload(t testing.TB, e *apptest.Env, email, name string, content []byte) iati.Job {
	t.Helper()
	body, ct := multipartFile(t, "file", name, content)
	res := e.DoHeaders("POST", "/api/v1/imports/iati", e.Token(email), body, map[string]string{"Content-Type": ct})
	if res.Status != http.StatusAccepted {
		t.Fatalf("upload %s: %d %s", name, res.Status, res.Body)
	}
	var j iati.Job
	res.JSON(&j)
	if loc := res.Header.Get("Location"); loc != fmt.Sprintf("/api/v1/imports/iati/%d", j.ID) || j.URL != loc {
		t.Errorf("Location %q, url %q", loc, j.URL)
	}
	return waitJob(t, e, email, j.ID)
}

// waitJob polls the job until it has finished (no timing is asserted; the
// deadline only keeps a stuck test from hanging).
func waitJob(t testing.TB, e *apptest.Env, email string, id int64) iati.Job {
	t.Helper()
	deadline := time.Now().Add(2 * time.Minute)
	for {
		res := e.Do("GET", fmt.Sprintf("/api/v1/imports/iati/%d", id), e.Token(email), nil)
		if res.Status != http.StatusOK {
			t.Fatalf("job %d: %d %s", id, res.Status, res.Body)
		}
		var j iati.Job
		res.JSON(&j)
		if j.Status != iati.JobQueued && j.Status != iati.JobRunning {
			return j
		}
		if time.Now().After(deadline) {
			t.Fatalf("job %d still %s", id, j.Status)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

func initiativeByIATI(t testing.TB, e *apptest.Env, iatiID string) programmes.Initiative {
	t.Helper()
	var id int64
	if err := e.DB.QueryRow(context.Background(), `SELECT id FROM initiatives WHERE iati_identifier = ?`, iatiID).Scan(&id); err != nil {
		t.Fatalf("no initiative with IATI identifier %s: %v", iatiID, err)
	}
	return getInitiative(t, e, id)
}

func getInitiative(t testing.TB, e *apptest.Env, id int64) programmes.Initiative {
	t.Helper()
	res := e.Do("GET", fmt.Sprintf("/api/v1/initiatives/%d", id), e.Token(analyst), nil)
	if res.Status != http.StatusOK {
		t.Fatalf("initiative %d: %d", id, res.Status)
	}
	var it programmes.Initiative
	res.JSON(&it)
	return it
}

func partnersOf(it programmes.Initiative) string {
	var ps []string
	for _, p := range it.Partners {
		ps = append(ps, p.Org+"="+p.Role)
	}
	slices.Sort(ps)
	return strings.Join(ps, " ")
}

func orgKind(t testing.TB, e *apptest.Env, slug string) string {
	t.Helper()
	var kind string
	if err := e.DB.QueryRow(context.Background(), `SELECT kind FROM organisations WHERE slug = ?`, slug).Scan(&kind); err != nil {
		t.Fatalf("organisation %s: %v", slug, err)
	}
	return kind
}

func TestImportReferenceFiles(t *testing.T) {
	annotated := referenceFile(t, "activity-standard-example-annotated.xml")
	iom := referenceFile(t, "diterator-activity-01.xml")
	apptest.Each(t, func(t *testing.T, e *apptest.Env) {
		before := e.Count("initiatives")
		j := upload(t, e, policy, "activity-standard-example-annotated.xml", annotated)
		if j.Status != iati.JobDone || j.Activities != 1 || j.Created != 1 || j.Skipped != 0 {
			t.Fatalf("annotated example: %+v", j)
		}
		it := initiativeByIATI(t, e, "AA-AAA-123456789-ABC123")
		if it.Title != "Activity title" || it.Status != "active" || it.Kind != "project" || it.Start != "2012-04-28" || it.End != "2015-12-31" {
			t.Errorf("annotated example mapped to %+v", it.Input)
		}
		if strings.Join(it.Countries, ",") != "AF,AG" || it.Budget == nil || it.Budget.Amount != "3000" || it.Budget.Currency != "EUR" {
			t.Errorf("countries %v, budget %+v", it.Countries, it.Budget)
		}
		if got := partnersOf(it); got != "aa-aaa-123456789=co-funder bb-bbb-123456789=funder cc-ccc-123456789=lead" {
			t.Errorf("partners %s", got)
		}
		if it.Lead != "cc-ccc-123456789" || it.Owner != "mfa" {
			t.Errorf("lead %q owner %q", it.Lead, it.Owner)
		}
		// New organisations are named from the narrative and typed from
		// the IATI organisation type.
		for slug, kind := range map[string]string{"bb-bbb-123456789": "international_organisation", "cc-ccc-123456789": "government", "aa-aaa-123456789": "ngo"} {
			if k := orgKind(t, e, slug); k != kind {
				t.Errorf("%s is a %s, want %s", slug, k, kind)
			}
		}
		if len(j.Events) != 1 || j.Events[0].Kind != "note" || !strings.Contains(j.Events[0].Message, "document-link") {
			t.Errorf("events %+v, want the note on the unusable document link", j.Events)
		}

		j = upload(t, e, policy, "diterator-activity-01.xml", iom)
		if j.Status != iati.JobDone || j.Created != 1 || j.Suggestions != 1 {
			t.Fatalf("IOM activity: %+v", j)
		}
		it = initiativeByIATI(t, e, "XM-DAC-00000-0000")
		if it.Title != "Test activity title" || it.Summary != "Test activity description" || it.Start != "2020-03-16" || it.End != "2021-03-15" ||
			strings.Join(it.Countries, ",") != "SO" || strings.Join(it.Regions, ",") != "South of Sahara, regional" || it.Budget.Amount != "1459753.72" || it.Budget.Currency != "USD" {
			t.Errorf("IOM activity mapped to %+v", it.Input)
		}
		// IOM is matched by name to the demo's organisation; Japan's
		// ministry is new, with the slug of its reference.
		if got := partnersOf(it); got != "iom=lead xm-dac-701-2=funder" {
			t.Errorf("partners %s", got)
		}
		if it.Lead != "iom" || len(it.Objectives) != 0 {
			t.Errorf("lead %q, objectives %v (suggestions wait for review)", it.Lead, it.Objectives)
		}
		sugs := suggestions(t, e, policy, j.ID)
		if len(sugs) != 1 || sugs[0].Objective != 7 || sugs[0].Status != "suggested" || len(sugs[0].Reasons) == 0 || !strings.Contains(sugs[0].Reasons[0], "72010") {
			t.Errorf("suggestions %+v", sugs)
		}
		if n := e.Count("initiatives"); n != before+2 {
			t.Errorf("%d initiatives, want %d", n, before+2)
		}
		// Both are found by full-text search, by title and by partner.
		for q, want := range map[string]string{"test+activity+title": "Test activity title", "name+of+agency": "Activity title"} {
			res := e.Do("GET", "/api/v1/initiatives?q="+q, e.Token(analyst), nil)
			var p struct {
				Total int
				Items []struct{ Title string }
			}
			res.JSON(&p)
			if p.Total != 1 || p.Items[0].Title != want {
				t.Errorf("search %s: %+v", q, p)
			}
		}

		// Importing both again changes nothing.
		for name, b := range map[string][]byte{"a.xml": annotated, "b.xml": iom} {
			j = upload(t, e, policy, name, b)
			if j.Status != iati.JobDone || j.Unchanged != 1 || j.Created+j.Updated+j.Skipped != 0 ||
				j.Summary.Skipped != 1 || j.Summary.SkippedByReason["unchanged"] != 1 {
				t.Errorf("re-import of %s: %+v", name, j)
			}
		}
		if n := e.Count("initiatives"); n != before+2 {
			t.Errorf("%d initiatives after re-import, want %d", n, before+2)
		}
		// The start and end of every job are audited.
		var n int
		if err := e.DB.QueryRow(context.Background(), `SELECT COUNT(*) FROM audit_events WHERE object_type = 'iati_job' AND action = 'import'`).Scan(&n); err != nil || n != 8 {
			t.Errorf("%d job audit events, want 8 (%v)", n, err)
		}
	})
}

func suggestions(t testing.TB, e *apptest.Env, email string, job int64) []iati.SuggestionView {
	t.Helper()
	res := e.Do("GET", fmt.Sprintf("/api/v1/imports/iati/%d/suggestions", job), e.Token(email), nil)
	if res.Status != http.StatusOK {
		t.Fatalf("suggestions: %d %s", res.Status, res.Body)
	}
	var out []iati.SuggestionView
	res.JSON(&out)
	return out
}

// TestReviewAndReimport confirms and rejects suggestions, and checks that
// an update from the publisher keeps what the officer decided.
func TestReviewAndReimport(t *testing.T) {
	iom := referenceFile(t, "diterator-activity-01.xml")
	apptest.Each(t, func(t *testing.T, e *apptest.Env) {
		j := upload(t, e, policy, "iom.xml", iom)
		sugs := suggestions(t, e, policy, j.ID)
		if len(sugs) != 1 {
			t.Fatalf("suggestions %+v", sugs)
		}
		decide := func(email string, id int64, status string) int {
			res := e.Do("POST", fmt.Sprintf("/api/v1/iati-suggestions/%d", id), e.Token(email), map[string]string{"status": status})
			return res.Status
		}
		if s := decide(policy, sugs[0].ID, "maybe"); s != http.StatusUnprocessableEntity {
			t.Errorf("decision maybe: %d", s)
		}
		if s := decide(policy, sugs[0].ID, "confirmed"); s != http.StatusOK {
			t.Fatalf("confirm: %d", s)
		}
		it := initiativeByIATI(t, e, "XM-DAC-00000-0000")
		if !slices.Equal(it.Objectives, []int{7}) || it.Version != 2 {
			t.Errorf("after confirming: objectives %v version %d", it.Objectives, it.Version)
		}
		// The publisher changes the title and adds a disbursement: the
		// update keeps the confirmed objective and the officer's pillar.
		put := map[string]any{"title": it.Title, "summary": it.Summary, "kind": it.Kind, "status": it.Status, "lead": it.Lead, "start": it.Start, "end": it.End,
			"countries": it.Countries, "regions": it.Regions, "objectives": it.Objectives, "principles": []string{"c"}, "pillars": []int{2}, "partners": it.Partners,
			"budget": it.Budget, "results": it.Results, "sources": it.Sources, "version": it.Version}
		if res := e.Do("PUT", fmt.Sprintf("/api/v1/initiatives/%d", it.ID), e.Token(policy), put); res.Status != http.StatusOK {
			t.Fatalf("officer's edit: %d %s", res.Status, res.Body)
		}
		changed := strings.Replace(string(iom), "<narrative>Test activity title</narrative>", "<narrative>Displacement response, second phase</narrative>", 1)
		changed = strings.Replace(changed, "</iati-activity>", `<transaction><transaction-type code="3"/><transaction-date iso-date="2020-06-01"/><value currency="USD">1000.50</value></transaction></iati-activity>`, 1)
		j = upload(t, e, policy, "iom-2.xml", []byte(changed))
		if j.Updated != 1 || j.Created != 0 {
			t.Fatalf("update: %+v", j)
		}
		it = initiativeByIATI(t, e, "XM-DAC-00000-0000")
		if it.Title != "Displacement response, second phase" || !slices.Equal(it.Objectives, []int{7}) || !slices.Equal(it.Pillars, []int{2}) || !slices.Equal(it.Principles, []string{"c"}) {
			t.Errorf("after update: %+v", it.Input)
		}
		if len(it.Results) != 1 || it.Results[0].Indicator != iati.DisbursedIndicator || it.Results[0].Value != "1000.5" || it.Results[0].Unit != "USD" {
			t.Errorf("results %+v", it.Results)
		}
		// A confirmed suggestion stays confirmed on the re-import.
		sugs = suggestions(t, e, policy, j.ID)
		if len(sugs) != 0 {
			t.Errorf("the objective is recorded: nothing to suggest, got %+v", sugs)
		}
		// Rejecting it removes the objective again.
		var sid int64
		_ = e.DB.QueryRow(context.Background(), `SELECT id FROM iati_suggestions WHERE objective = 7`).Scan(&sid)
		if s := decide(policy, sid, "rejected"); s != http.StatusOK {
			t.Fatalf("reject: %d", s)
		}
		it = initiativeByIATI(t, e, "XM-DAC-00000-0000")
		if len(it.Objectives) != 0 {
			t.Errorf("after rejecting: objectives %v", it.Objectives)
		}
	})
}

// TestErrorRule checks the documented rule: a bad activity is skipped alone
// with its line; a problem with the file stops the import at its line,
// keeping the whole activities before it and nothing of the one at fault.
func TestErrorRule(t *testing.T) {
	good := func(n int, extra string) string {
		return fmt.Sprintf(` <iati-activity default-currency="EUR">
  <iati-identifier>XX-TEST-%d</iati-identifier>
  <title><narrative>Test activity %d</narrative></title>
  <participating-org ref="XX-ORG-%d" role="4"><narrative>Implementer %d</narrative></participating-org>
  <activity-status code="2"/>
  <recipient-country code="NL"/>%s
 </iati-activity>
`, n, n, n, n, extra)
	}
	head := "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<iati-activities version=\"2.03\">\n"
	tail := "</iati-activities>\n"
	deep := strings.Repeat("<x>", 70) + strings.Repeat("</x>", 70)
	cases := []struct {
		name    string
		file    string
		status  string
		created int
		skipped int
		line    int
		msg     string
	}{
		{"unknown country skips its activity alone", head + good(1, "") + good(2, "\n  <recipient-country code=\"XQ\"/>") + good(3, "") + tail, iati.JobDone, 2, 1, 16, `line 16: <recipient-country>: "XQ" is not an ISO 3166-1 alpha-2 country code`},
		{"refused by the register", head + good(1, "\n  <activity-date type=\"1\" iso-date=\"2020-01-01\"/><activity-date type=\"3\" iso-date=\"2019-01-01\"/>") + tail, iati.JobDone, 0, 1, 3, "end must not be before the start"},
		{"malformed XML stops at its line", head + good(1, "") + good(2, "") + good(3, "\n  <title>") + tail, iati.JobFailed, 2, 0, 24, "malformed"},
		{"entity-expansion bomb", "<?xml version=\"1.0\"?>\n<!DOCTYPE lolz [<!ENTITY lol \"lol\"><!ENTITY lol2 \"&lol;&lol;&lol;&lol;\">]>\n" + "<iati-activities>" + good(1, "") + tail, iati.JobFailed, 0, 0, 2, "DTD"},
		{"DTD", "<?xml version=\"1.0\"?>\n<!DOCTYPE iati-activities SYSTEM \"iati.dtd\">\n<iati-activities>" + good(1, "") + tail, iati.JobFailed, 0, 0, 2, "DTD"},
		{"wrong encoding", "<?xml version=\"1.0\" encoding=\"windows-1252\"?>\n<iati-activities>\n" + good(1, "") + strings.Replace(good(2, ""), "Test activity 2", "Caf\x81", 1) + tail, iati.JobFailed, 1, 0, 12, "Windows-1252"},
		{"UTF-16", "\xff\xfe<\x00?\x00", iati.JobFailed, 0, 0, 1, "UTF-16"},
		{"nesting too deep", head + good(1, "") + good(2, "\n  "+deep) + tail, iati.JobFailed, 1, 0, 16, "nested deeper"},
	}
	apptest.Each(t, func(t *testing.T, e *apptest.Env) {
		for _, c := range cases {
			t.Run(c.name, func(t *testing.T) {
				initiatives, orgs := e.Count("initiatives"), e.Count("organisations")
				j := upload(t, e, policy, "test.xml", []byte(c.file))
				if j.Status != c.status || j.Created != c.created || j.Skipped != c.skipped {
					t.Fatalf("job %+v, want %s with %d created, %d skipped", j, c.status, c.created, c.skipped)
				}
				if c.skipped > 0 {
					if len(j.Events) != 1 || j.Events[0].Kind != "skipped" {
						t.Fatalf("events %+v", j.Events)
					}
					// The event has the line where the activity starts; its
					// message names the line of the element at fault.
					ev := j.Events[0]
					if want := activityStartLine(c.file, c.line); ev.Line != want {
						t.Errorf("event line %d, want %d where the activity starts", ev.Line, want)
					}
					if !strings.Contains(ev.Message, fmt.Sprintf("line %d", c.line)) || !strings.Contains(ev.Message, c.msg) {
						t.Errorf("event message %q, want line %d saying %q", ev.Message, c.line, c.msg)
					}
				} else if j.ErrorLine != c.line || !strings.Contains(j.Error, c.msg) {
					t.Errorf("line %d %q, want line %d saying %q", j.ErrorLine, j.Error, c.line, c.msg)
				}
				// Nothing half-imported: exactly the whole activities, with
				// their own organisations and no others.
				if n := e.Count("initiatives"); n != initiatives+c.created {
					t.Errorf("%d initiatives, want %d", n, initiatives+c.created)
				}
				if n := e.Count("organisations"); n != orgs+c.created {
					t.Errorf("%d organisations, want %d", n, orgs+c.created)
				}
				// Clean up for the next case (the same identifiers recur).
				if _, err := e.DB.Exec(context.Background(), `DELETE FROM initiative_partners WHERE initiative_id IN (SELECT id FROM initiatives WHERE iati_identifier LIKE 'XX-TEST-%')`); err != nil {
					t.Fatal(err)
				}
				if e.DB.Dialect() == store.SQLite {
					_, _ = e.DB.Exec(context.Background(), `DELETE FROM initiatives_fts WHERE rowid IN (SELECT id FROM initiatives WHERE iati_identifier LIKE 'XX-TEST-%')`)
				}
				if _, err := e.DB.Exec(context.Background(), `DELETE FROM initiatives WHERE iati_identifier LIKE 'XX-TEST-%'`); err != nil {
					t.Fatal(err)
				}
				_, _ = e.DB.Exec(context.Background(), `DELETE FROM iati_org_refs WHERE ref LIKE 'XX-ORG-%'`)
				if _, err := e.DB.Exec(context.Background(), `DELETE FROM organisations WHERE slug LIKE 'xx-org-%'`); err != nil {
					t.Fatal(err)
				}
			})
		}
	})
}

// snapshot is every initiative as JSON objects, by id.
func snapshot(t testing.TB, e *apptest.Env) []map[string]any {
	t.Helper()
	var all []map[string]any
	for page := 1; ; page++ {
		res := e.Do("GET", fmt.Sprintf("/api/v1/initiatives?per_page=100&page=%d", page), e.Token(analyst), nil)
		var p struct {
			Total int
			Items []map[string]any
		}
		res.JSON(&p)
		all = append(all, p.Items...)
		if len(all) >= p.Total {
			break
		}
	}
	slices.SortFunc(all, func(a, b map[string]any) int { return int(a["id"].(float64) - b["id"].(float64)) })
	return all
}

func TestRoundTrip(t *testing.T) {
	annotated := referenceFile(t, "activity-standard-example-annotated.xml")
	apptest.Each(t, func(t *testing.T, e *apptest.Env) {
		// The demo plus an imported activity (with an IATI identifier of
		// its own) and an initiative with awkward text.
		upload(t, e, policy, "annotated.xml", annotated)
		body := map[string]any{"title": "Awkward & <odd> \"text\"", "summary": "Line one\n\n  indented line two\ttab", "kind": "law", "status": "planned",
			"start": "2024", "end": "2025-06", "countries": []string{}, "regions": []string{"Horn of Africa", "Sahel & Maghreb"}, "objectives": []int{3, 17},
			"principles": []string{"a", "j"}, "pillars": []int{1}, "partners": []map[string]string{{"org": "iom", "role": "member"}, {"org": "unhcr", "role": "beneficiary"}},
			"results": []map[string]string{{"indicator": "Status", "value": "achieved", "unit": "", "date": "2024-05", "source": ""}, {"indicator": "People", "value": "12.50", "unit": "%", "date": "", "source": "=src"}},
			"sources": []map[string]string{{"title": "No address", "url": ""}, {"title": "Report", "url": "https://example.org/r?a=1&b=2"}}, "report_section": "Section: A.1"}
		if res := e.Do("POST", "/api/v1/initiatives", e.Token(policy), body); res.Status != http.StatusCreated {
			t.Fatalf("create: %d %s", res.Status, res.Body)
		}
		before := snapshot(t, e)
		res := e.Do("GET", "/api/v1/exports/iati", e.Token(analyst), nil)
		if res.Status != http.StatusOK || !strings.HasPrefix(res.Header.Get("Content-Type"), "application/xml") {
			t.Fatalf("export: %d %s", res.Status, res.Header.Get("Content-Type"))
		}
		exported := res.Body
		if !bytes.Contains(exported, []byte(`<tag vocabulary="99" vocabulary-uri="`+iati.GCMVocabularyURI+`" code="17">`)) ||
			!bytes.Contains(exported, []byte(`<tag vocabulary="3" code="10.7">`)) || !bytes.Contains(exported, []byte(`<iati-activities version="2.03"`)) {
			t.Errorf("export lacks the GCM and SDG tags:\n%.3000s", exported)
		}

		// Into the same register: every activity is found again and nothing
		// changes.
		j := upload(t, e, admin, "export.xml", exported)
		if j.Status != iati.JobDone || j.Unchanged != len(before) || j.Created+j.Updated+j.Skipped != 0 {
			t.Fatalf("re-import of the export: %+v", j)
		}
		after := snapshot(t, e)
		if !reflect.DeepEqual(before, after) {
			for i := range before {
				if i < len(after) && !reflect.DeepEqual(before[i], after[i]) {
					b, _ := json.MarshalIndent(before[i], "", " ")
					a, _ := json.MarshalIndent(after[i], "", " ")
					t.Errorf("changed by export and import:\nbefore %s\nafter %s", b, a)
					break
				}
			}
			t.Fatalf("register changed (%d before, %d after)", len(before), len(after))
		}

		// Into a new register with the same organisations: the same
		// initiatives, but for their ids, owner, times and versions.
		engine := "sqlite"
		if e.DB.Dialect() == store.Postgres {
			engine = "postgres"
		}
		db := storetest.Open(t, engine)
		ctx := context.Background()
		if _, err := app.Migrate(ctx, db); err != nil {
			t.Fatal(err)
		}
		orgs, err := demo.Organisations()
		if err != nil {
			t.Fatal(err)
		}
		svc := &auth.Service{DB: db}
		// The organisations the import created in the first register are
		// not in the demo; add them with the same slugs and names.
		var extra []auth.Org
		rows, err := e.DB.Query(ctx, `SELECT slug, name, kind FROM organisations WHERE slug LIKE '%-%-%'`)
		if err != nil {
			t.Fatal(err)
		}
		for rows.Next() {
			var o auth.Org
			_ = rows.Scan(&o.Slug, &o.Name, &o.Kind)
			extra = append(extra, o)
		}
		rows.Close()
		if err := db.Transact(ctx, func(tx *store.Tx) error {
			for _, o := range append(orgs, extra...) {
				if _, err := svc.EnsureOrg(ctx, tx, o); err != nil {
					return err
				}
			}
			return nil
		}); err != nil {
			t.Fatal(err)
		}
		o, _ := svc.OrgBySlug(ctx, db, "mfa")
		p := &auth.Principal{Email: admin, Role: auth.RoleAdmin, OrgID: o.ID, OrgSlug: "mfa"}
		jid, err := iati.CreateJob(ctx, db, p, "cli", "export.xml", int64(len(exported)), iati.JobRunning)
		if err != nil {
			t.Fatal(err)
		}
		cat, err := gcm.Load(ctx, db)
		if err != nil {
			t.Fatal(err)
		}
		reg := &programmes.Register{DB: db, GCM: cat}
		r, err := (&iati.Importer{DB: db, Reg: app.IATIRegister(reg)}).Run(ctx, p, jid, bytes.NewReader(exported), int64(len(exported)))
		if err != nil || r.Err != nil || r.Created != len(before) {
			t.Fatalf("import into a new register: %+v %v", r, err)
		}
		var fresh []map[string]any
		for after := int64(0); ; {
			page, err := reg.ExportPage(ctx, after, 500)
			if err != nil {
				t.Fatal(err)
			}
			if len(page) == 0 {
				break
			}
			for _, it := range page {
				b, _ := json.Marshal(it)
				var m map[string]any
				_ = json.Unmarshal(b, &m)
				fresh = append(fresh, m)
				after = it.ID
			}
		}
		strip := func(items []map[string]any) []map[string]any {
			out := make([]map[string]any, len(items))
			for i, m := range items {
				c := map[string]any{}
				for k, v := range m {
					switch k {
					case "id", "owner", "created_at", "updated_at", "version":
					default:
						c[k] = v
					}
				}
				out[i] = c
			}
			return out
		}
		want, got := strip(before), strip(fresh)
		if len(want) != len(got) {
			t.Fatalf("%d initiatives exported, %d imported", len(want), len(got))
		}
		for i := range want {
			if !reflect.DeepEqual(want[i], got[i]) {
				b, _ := json.MarshalIndent(want[i], "", " ")
				a, _ := json.MarshalIndent(got[i], "", " ")
				t.Errorf("differs in the new register:\nexported %s\nimported %s", b, a)
			}
		}
	})
}

func TestAccess(t *testing.T) {
	iom := referenceFile(t, "diterator-activity-01.xml")
	apptest.Each(t, func(t *testing.T, e *apptest.Env) {
		j := upload(t, e, policy, "iom.xml", iom)
		sugs := suggestions(t, e, policy, j.ID)
		if len(sugs) == 0 {
			t.Fatal("no suggestion to decide")
		}
		// A policy officer of another organisation may import, but not decide
		// on an initiative the MFA recorded.
		svc := &auth.Service{DB: e.DB}
		if _, err := svc.CreateUser(context.Background(), nil, auth.NewUser{Email: "policy@jenv.example", Name: "Jet", Password: apptest.Password, OrgSlug: "jenv", Role: auth.RolePolicyOfficer}); err != nil {
			t.Fatal(err)
		}
		body, ct := multipartFile(t, "file", "iom.xml", iom)
		jobPath := fmt.Sprintf("/api/v1/imports/iati/%d", j.ID)
		sugPath := fmt.Sprintf("/api/v1/iati-suggestions/%d", sugs[0].ID)
		decision := []byte(`{"status":"confirmed"}`)
		cases := []struct {
			method, path, who string
			body              []byte
			ctype             string
			want              int
		}{
			{"POST", "/api/v1/imports/iati", "", body, ct, 401},
			{"POST", "/api/v1/imports/iati", analyst, body, ct, 403},
			{"POST", "/api/v1/imports/iati", policy, []byte("not multipart"), "text/plain", 400},
			{"POST", "/api/v1/imports/iati", policy, body, ct, 202},
			{"GET", jobPath, "", nil, "", 401},
			{"GET", jobPath, analyst, nil, "", 403},
			{"GET", "/api/v1/imports/iati/999999", policy, nil, "", 404},
			{"GET", "/api/v1/imports/iati/x", policy, nil, "", 404},
			{"GET", jobPath, policy, nil, "", 200},
			{"GET", jobPath, admin, nil, "", 200},
			{"GET", jobPath + "/suggestions", "", nil, "", 401},
			{"GET", jobPath + "/suggestions", analyst, nil, "", 403},
			{"GET", "/api/v1/imports/iati/999999/suggestions", policy, nil, "", 404},
			{"GET", jobPath + "/suggestions", policy, nil, "", 200},
			{"POST", sugPath, "", decision, "application/json", 401},
			{"POST", sugPath, analyst, decision, "application/json", 403},
			{"POST", sugPath, "policy@jenv.example", decision, "application/json", 403},
			{"POST", "/api/v1/iati-suggestions/999999", policy, decision, "application/json", 404},
			{"POST", sugPath, policy, []byte(`{"status":1}`), "application/json", 400},
			{"POST", sugPath, policy, decision, "application/json", 200},
			{"GET", "/api/v1/exports/iati", "", nil, "", 401},
			{"GET", "/api/v1/exports/iati", analyst, nil, "", 200},
		}
		for _, c := range cases {
			tok := ""
			if c.who != "" {
				tok = e.Token(c.who)
			}
			var b any
			if c.body != nil {
				b = c.body
			}
			h := map[string]string{}
			if c.ctype != "" {
				h["Content-Type"] = c.ctype
			}
			res := e.DoHeaders(c.method, c.path, tok, b, h)
			if res.Status != c.want {
				t.Errorf("%s %s as %q: %d, want %d (%.300s)", c.method, c.path, c.who, res.Status, c.want, res.Body)
			}
			if c.want >= 400 && !strings.HasPrefix(res.Header.Get("Content-Type"), "application/problem+json") {
				t.Errorf("%s %s: error is %s, not problem JSON", c.method, c.path, res.Header.Get("Content-Type"))
			}
		}
		// The 202 above started a job: let it finish before the pages run.
		var last int64
		_ = e.DB.QueryRow(context.Background(), `SELECT MAX(id) FROM iati_jobs`).Scan(&last)
		waitJob(t, e, policy, last)

		// Pages.
		page := func(who, method, path string, body io.Reader, ctype string) *http.Response {
			t.Helper()
			c := e.Browser(who)
			req, _ := http.NewRequest(method, e.URL+path, body)
			if ctype != "" {
				req.Header.Set("Content-Type", ctype)
			}
			res, err := c.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			res.Body.Close()
			return res
		}
		jobPage := fmt.Sprintf("/imports/iati/%d", j.ID)
		form := "status=rejected"
		pageCases := []struct {
			who, method, path string
			body              []byte
			ctype             string
			want              int
		}{
			{"", "GET", "/imports/iati", nil, "", 303},
			{analyst, "GET", "/imports/iati", nil, "", 403},
			{policy, "GET", "/imports/iati", nil, "", 200},
			{"", "POST", "/imports/iati", body, ct, 401},
			{analyst, "POST", "/imports/iati", body, ct, 403},
			{policy, "POST", "/imports/iati", body, ct, 303},
			{"", "GET", jobPage, nil, "", 303},
			{analyst, "GET", jobPage, nil, "", 403},
			{policy, "GET", "/imports/iati/999999", nil, "", 404},
			{policy, "GET", jobPage, nil, "", 200},
			{"", "GET", jobPage + "/review", nil, "", 303},
			{analyst, "GET", jobPage + "/review", nil, "", 403},
			{policy, "GET", "/imports/iati/999999/review", nil, "", 404},
			{policy, "GET", jobPage + "/review", nil, "", 200},
			{"", "POST", "/imports/iati/suggestions/" + fmt.Sprint(sugs[0].ID), []byte(form), "application/x-www-form-urlencoded", 401},
			{analyst, "POST", "/imports/iati/suggestions/" + fmt.Sprint(sugs[0].ID), []byte(form), "application/x-www-form-urlencoded", 403},
			{policy, "POST", "/imports/iati/suggestions/999999", []byte(form), "application/x-www-form-urlencoded", 404},
			{policy, "POST", "/imports/iati/suggestions/" + fmt.Sprint(sugs[0].ID), []byte(form), "application/x-www-form-urlencoded", 303},
			{"", "GET", "/exports/iati.xml", nil, "", 303},
			{analyst, "GET", "/exports/iati.xml", nil, "", 200},
		}
		for _, c := range pageCases {
			var rd io.Reader
			if c.body != nil {
				rd = bytes.NewReader(c.body)
			}
			res := page(c.who, c.method, c.path, rd, c.ctype)
			if res.StatusCode != c.want {
				t.Errorf("page %s %s as %q: %d, want %d", c.method, c.path, c.who, res.StatusCode, c.want)
			}
		}
		_ = e.DB.QueryRow(context.Background(), `SELECT MAX(id) FROM iati_jobs`).Scan(&last)
		waitJob(t, e, policy, last)
	})
}

// TestPages walks the pages as a browser: upload, the job page, the
// review with its confirm button.
func TestPages(t *testing.T) {
	iom := referenceFile(t, "diterator-activity-01.xml")
	apptest.Each(t, func(t *testing.T, e *apptest.Env) {
		c := e.Browser(policy)
		get := func(path string) (int, http.Header, string) {
			t.Helper()
			res, err := c.Get(e.URL + path)
			if err != nil {
				t.Fatal(err)
			}
			defer res.Body.Close()
			b, _ := io.ReadAll(res.Body)
			return res.StatusCode, res.Header, string(b)
		}
		status, hdr, body := get("/imports/iati")
		if status != 200 || !strings.HasPrefix(hdr.Get("Content-Type"), "text/html") || !strings.Contains(body, `enctype="multipart/form-data"`) || !strings.Contains(body, "/exports/iati.xml") {
			t.Fatalf("upload page: %d %q", status, hdr.Get("Content-Type"))
		}
		// An upload without a file is a form error.
		empty, ct := multipartFile(t, "other", "x.txt", []byte("x"))
		res, err := c.Post(e.URL+"/imports/iati", ct, bytes.NewReader(empty))
		if err != nil {
			t.Fatal(err)
		}
		b, _ := io.ReadAll(res.Body)
		res.Body.Close()
		if res.StatusCode != http.StatusUnprocessableEntity || !strings.Contains(string(b), "There is a problem") {
			t.Errorf("upload without a file: %d", res.StatusCode)
		}
		up, ct := multipartFile(t, "file", "iom.xml", iom)
		res, err = c.Post(e.URL+"/imports/iati", ct, bytes.NewReader(up))
		if err != nil {
			t.Fatal(err)
		}
		res.Body.Close()
		loc := res.Header.Get("Location")
		if res.StatusCode != http.StatusSeeOther || !strings.HasPrefix(loc, "/imports/iati/") {
			t.Fatalf("upload: %d %q", res.StatusCode, loc)
		}
		var id int64
		fmt.Sscanf(strings.TrimPrefix(loc, "/imports/iati/"), "%d", &id)
		waitJob(t, e, policy, id)
		status, hdr, body = get(loc)
		if status != 200 || !strings.Contains(body, "Done.") || !strings.Contains(body, "review the suggestions") || hdr.Get("Refresh") != "" {
			t.Errorf("job page: %d refresh %q\n%.2000s", status, hdr.Get("Refresh"), body)
		}
		status, _, body = get(loc + "/review")
		if status != 200 || !strings.Contains(body, "DAC sector 72010") || !strings.Contains(body, `name="status" value="confirmed"`) {
			t.Fatalf("review page: %d\n%.2000s", status, body)
		}
		var sid int64
		_ = e.DB.QueryRow(context.Background(), `SELECT id FROM iati_suggestions WHERE job_id = ?`, id).Scan(&sid)
		res, err = c.PostForm(fmt.Sprintf("%s/imports/iati/suggestions/%d", e.URL, sid), map[string][]string{"status": {"confirmed"}})
		if err != nil {
			t.Fatal(err)
		}
		res.Body.Close()
		if res.StatusCode != http.StatusSeeOther || res.Header.Get("Location") != loc+"/review" {
			t.Errorf("confirm: %d %q", res.StatusCode, res.Header.Get("Location"))
		}
		it := initiativeByIATI(t, e, "XM-DAC-00000-0000")
		if !slices.Equal(it.Objectives, []int{7}) {
			t.Errorf("objectives after confirming on the page: %v", it.Objectives)
		}
		// A job still running asks the browser to refresh: make one look so.
		if _, err := e.DB.Exec(context.Background(), `UPDATE iati_jobs SET status = 'running', heartbeat_at = ? WHERE id = ?`, store.FormatTime(time.Now()), id); err != nil {
			t.Fatal(err)
		}
		status, hdr, body = get(loc)
		if status != 200 || hdr.Get("Refresh") == "" || !strings.Contains(body, "Refresh") {
			t.Errorf("running job page: %d refresh %q", status, hdr.Get("Refresh"))
		}
	})
}
