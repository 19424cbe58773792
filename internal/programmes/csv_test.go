package programmes_test

import (
	"encoding/csv"
	"encoding/json"
	"fmt"
	"html"
	"net/http"
	"reflect"
	"strings"
	"testing"

	"kompas/internal/app/apptest"
)

// register returns every initiative as JSON objects without the fields an
// import is expected to change.
func register(t *testing.T, e *apptest.Env) []map[string]any {
	t.Helper()
	res := e.Do("GET", "/api/v1/initiatives?per_page=100", e.Token(analyst), nil)
	var p struct {
		Total int
		Items []map[string]any
	}
	res.JSON(&p)
	if p.Total != len(p.Items) {
		t.Fatalf("register has %d initiatives, more than a page", p.Total)
	}
	for _, it := range p.Items {
		delete(it, "updated_at")
		delete(it, "version")
	}
	return p.Items
}

// awkward adds initiatives whose text a CSV file or a spreadsheet could
// garble.
func awkward(t *testing.T, e *apptest.Env) {
	t.Helper()
	for _, edit := range []func(b map[string]any){
		func(b map[string]any) {
			b["title"] = "=cmd|' /C calc'!A0"
			b["summary"] = "+1 first line\nsecond line, with a comma and \"quotes\"\n\nthird after a blank"
			b["regions"] = []string{"-minus region", "@at region", "Région Île-de-France"}
			b["report_section"] = "@SUM(A1)"
		},
		func(b map[string]any) {
			b["title"] = "'=looks quoted already"
			b["summary"] = "'+1"
			b["lead"] = ""
			b["results"] = []map[string]any{
				{"indicator": "-Status", "value": "achieved", "unit": "", "date": "", "source": "=source"},
				{"indicator": "Share", "value": "12.50", "unit": "%", "date": "2021-06-30", "source": ""},
				{"indicator": "Rate", "value": "1e3", "unit": "", "date": "2021", "source": ""},
			}
			b["sources"] = []map[string]string{{"title": "@handle's post", "url": ""}, {"title": "Report, 2021", "url": "https://example.org/a?b=1&c=2"}}
			b["budget"] = map[string]any{"amount": "0.05", "currency": "USD"}
		},
		func(b map[string]any) {
			b["title"] = "\tTab-led title gets trimmed"
			b["summary"] = ""
			b["countries"], b["regions"], b["objectives"], b["principles"], b["pillars"], b["partners"], b["results"], b["sources"] = []string{}, []string{}, []int{}, []string{}, []int{}, []any{}, []any{}, []any{}
			delete(b, "budget")
			b["start"], b["end"] = "", ""
		},
	} {
		b := validBody()
		edit(b)
		create(t, e, policy, b)
	}
}

func roundTrip(t *testing.T, e *apptest.Env) {
	awkward(t, e)
	for _, via := range []string{"api", "pages"} {
		t.Run(via, func(t *testing.T) {
			before := register(t, e)
			n := len(before)
			var exported []byte
			c := e.Browser(policy)
			if via == "api" {
				res := e.Do("GET", "/api/v1/exports/initiatives", e.Token(policy), nil)
				if res.Status != http.StatusOK || res.Header.Get("Content-Disposition") == "" {
					t.Fatalf("export: %d", res.Status)
				}
				exported = res.Body
			} else {
				res := send(t, c, "GET", e.URL+"/initiatives/export.csv", nil)
				if res.Status != http.StatusOK {
					t.Fatalf("export page: %d", res.Status)
				}
				exported = []byte(res.Body)
			}
			recs, err := csv.NewReader(strings.NewReader(string(exported))).ReadAll()
			if err != nil || len(recs) != n+1 {
				t.Fatalf("export has %d records for %d initiatives: %v", len(recs), n, err)
			}
			if via == "api" {
				res := e.DoHeaders("POST", "/api/v1/imports/initiatives", e.Token(policy), exported, map[string]string{"Content-Type": "text/csv; charset=utf-8"})
				if res.Status != http.StatusOK {
					t.Fatalf("import: %d %s", res.Status, res.Body)
				}
				var r struct{ Created, Updated int }
				res.JSON(&r)
				if r.Created != 0 || r.Updated != n {
					t.Errorf("import: %+v, want %d updated", r, n)
				}
			} else {
				res := send(t, c, "POST", e.URL+"/initiatives/import", fileUpload(t, "initiatives.csv", exported))
				if res.Status != http.StatusOK || !strings.Contains(res.Body, fmt.Sprintf("Imported: 0 added, %d changed.", n)) {
					t.Fatalf("import page: %d %.800s", res.Status, res.Body)
				}
			}
			after := register(t, e)
			if len(after) != len(before) {
				t.Fatalf("%d initiatives before, %d after", len(before), len(after))
			}
			for i := range before {
				if !reflect.DeepEqual(before[i], after[i]) {
					b, _ := json.MarshalIndent(before[i], "", " ")
					a, _ := json.MarshalIndent(after[i], "", " ")
					t.Errorf("initiative changed by export and import:\nbefore %s\nafter %s", b, a)
				}
			}
		})
	}
}

func formulaCells(t *testing.T, e *apptest.Env) {
	awkward(t, e)
	res := e.Do("GET", "/api/v1/exports/initiatives?q=cmd", e.Token(analyst), nil)
	recs, err := csv.NewReader(strings.NewReader(string(res.Body))).ReadAll()
	if err != nil {
		t.Fatal(err)
	}
	for _, rec := range recs {
		for _, cell := range rec {
			if cell != "" && strings.ContainsRune("=+-@\t\r", rune(cell[0])) {
				t.Errorf("cell %q would run as a formula", cell)
			}
		}
	}
	col := map[string]int{}
	for i, h := range recs[0] {
		col[h] = i
	}
	if len(recs) != 2 {
		t.Fatalf("want the one initiative, got %d rows", len(recs)-1)
	}
	row := recs[1]
	for name, want := range map[string]string{
		"title":          "'=cmd|' /C calc'!A0",
		"summary":        "'+1 first line\nsecond line, with a comma and \"quotes\"\n\nthird after a blank",
		"regions":        "'-minus region; @at region; Région Île-de-France",
		"report_section": "'@SUM(A1)",
	} {
		if row[col[name]] != want {
			t.Errorf("%s cell = %q, want %q", name, row[col[name]], want)
		}
	}
	// The apostrophe comes off again on import: a new row with the
	// exported cells creates the original text.
	header := "title,summary,kind,status,regions,report_section\n"
	var b strings.Builder
	w := csv.NewWriter(&b)
	_ = w.Write([]string{row[col["title"]], row[col["summary"]], "law", "active", row[col["regions"]], row[col["report_section"]]})
	_ = w.Write([]string{"''=two apostrophes", "'", "law", "active", "", "'plain quote"})
	w.Flush()
	imp := e.DoHeaders("POST", "/api/v1/imports/initiatives", e.Token(policy), header+b.String(), map[string]string{"Content-Type": "text/csv"})
	if imp.Status != http.StatusOK {
		t.Fatalf("import: %d %s", imp.Status, imp.Body)
	}
	p := list(t, e, e.Token(analyst), "kind=law&q=cmd")
	if len(p.Items) != 1 || p.Items[0].Title != "=cmd|' /C calc'!A0" || p.Items[0].ReportSection != "@SUM(A1)" ||
		strings.Join(p.Items[0].Regions, "|") != "-minus region|@at region|Région Île-de-France" {
		t.Errorf("imported: %+v", p.Items)
	}
	p = list(t, e, e.Token(analyst), "q=apostrophes")
	if len(p.Items) != 1 || p.Items[0].Title != "'=two apostrophes" || p.Items[0].Summary != "'" || p.Items[0].ReportSection != "'plain quote" {
		t.Errorf("imported: %+v", p.Items)
	}
}

func importAllOrNothing(t *testing.T, e *apptest.Env) {
	const header = "id,version,title,kind,status,countries,objectives,partners,results\n"
	good := ",,Good row,law,active,NL,7,iom:implementer,\n"
	cases := []struct {
		name   string
		who    string
		file   func(compassID int64) string
		ctype  string
		status int
		fields []string // each must be among errors[].field
	}{
		{"bad country on line 3", policy, func(int64) string {
			return header + good + ",,Bad row,law,active,XX,7,,\n" + good
		}, "", 422, []string{"line 3: countries[0]"}},
		{"every bad row is listed", policy, func(int64) string {
			return header + ",,Row two,law,active,NL,seven,,\n" + good + ",,,law,active,NL,24,iom,\n" + ",,Row five,law,active,,,,\"[{\"\"indicator\"\":\"\"x\"\"\"\n"
		}, "", 422, []string{"line 2: objectives", "line 4: title", "line 4: objectives[0]", "line 4: partners", "line 5: results"}},
		{"lines count a quoted line break", policy, func(int64) string {
			return "title,summary,kind,status,countries\n" + "Two-line,\"first\nsecond\",law,active,NL\n" + "Bad,,law,active,XX\n"
		}, "", 422, []string{"line 4: countries[0]"}},
		{"unknown partner", policy, func(int64) string { return header + ",,Row,law,active,NL,7,nobody:funder,\n" }, "", 422, []string{"line 2: partners[0].org"}},
		{"update without version", policy, func(id int64) string { return header + fmt.Sprintf("%d,,COMPASS,programme,active,,,,\n", id) }, "", 422, []string{"line 2: version"}},
		{"update with a stale version", policy, func(id int64) string { return header + fmt.Sprintf("%d,7,COMPASS,programme,active,,,,\n", id) }, "", 422, []string{"line 2"}},
		{"update of an unknown id", policy, func(int64) string { return header + "999999,1,Ghost,law,active,,,,\n" + good }, "", 422, []string{"line 2"}},
		{"update of another organisation's initiative", other, func(id int64) string {
			return header + good + fmt.Sprintf("%d,1,COMPASS taken over,programme,active,,,,\n", id)
		}, "", 422, []string{"line 3"}},
		{"bad id and version", policy, func(int64) string { return header + "x,-1,Row,law,active,,,,\n" }, "", 422, []string{"line 2: id", "line 2: version"}},
		{"unknown column", policy, func(int64) string { return "title,kind,status,colour\nx,law,active,red\n" }, "", 400, []string{"header[3]"}},
		{"column twice", policy, func(int64) string { return "title,kind,status,title\nx,law,active,y\n" }, "", 400, []string{"title"}},
		{"required column missing", policy, func(int64) string { return "title,status\nx,active\n" }, "", 400, []string{"kind"}},
		{"header only", policy, func(int64) string { return header }, "", 422, []string{"file"}},
		{"empty file", policy, func(int64) string { return "" }, "", 400, nil},
		{"broken quoting", policy, func(int64) string { return "title,kind,status\n\"a\"x,law,active\n" }, "", 400, nil},
		{"unterminated quote", policy, func(int64) string { return "title,kind,status\n\"a,law,active\n" }, "", 400, nil},
		{"not CSV", policy, func(int64) string { return header + good }, "application/json", 400, nil},
	}
	addOtherOfficer(t, e)
	compass := idOf(t, e, compassTitle)
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			before := counts(e)
			tok := e.Token(c.who)
			audit := e.Count("audit_events")
			ctype := c.ctype
			if ctype == "" {
				ctype = "text/csv"
			}
			res := e.DoHeaders("POST", "/api/v1/imports/initiatives", tok, c.file(compass), map[string]string{"Content-Type": ctype})
			if res.Status != c.status {
				t.Fatalf("status %d, want %d: %s", res.Status, c.status, res.Body)
			}
			p := res.Problem()
			got := map[string]bool{}
			for _, f := range p.Errors {
				got[f.Field] = true
				if f.Message == "" {
					t.Errorf("%s without message", f.Field)
				}
			}
			for _, f := range c.fields {
				if !got[f] {
					t.Errorf("errors %+v do not name %q", p.Errors, f)
				}
			}
			if p.Detail == "" {
				t.Error("no detail")
			}
			sameCounts(t, e, before)
			if n := e.Count("audit_events"); n != audit {
				t.Errorf("a refused import left %d audit events", n-audit)
			}
			if it := get(t, e, compass); it.Title != compassTitle || it.Version != 1 {
				t.Errorf("COMPASS changed: %q v%d", it.Title, it.Version)
			}
		})
	}
	t.Run("the import page lists the lines", func(t *testing.T) {
		before := counts(e)
		res := send(t, e.Browser(policy), "POST", e.URL+"/initiatives/import", fileUpload(t, "x.csv", []byte(cases[0].file(compass))))
		if res.Status != http.StatusUnprocessableEntity || !strings.Contains(res.Body, `class="error-summary"`) ||
			!strings.Contains(html.UnescapeString(res.Body), "line 3: countries[0]") {
			t.Errorf("import page: %d %.1000s", res.Status, res.Body)
		}
		sameCounts(t, e, before)
		res = send(t, e.Browser(policy), "POST", e.URL+"/initiatives/import", fileUpload(t, "x.csv", []byte("title,kind,status\n\"a\"x,law,active\n")))
		if res.Status != http.StatusBadRequest || !strings.Contains(res.Body, "could not be read") {
			t.Errorf("broken file on the page: %d %.600s", res.Status, res.Body)
		}
	})
}

func byteOrderMark(t *testing.T, e *apptest.Env) {
	cases := []struct{ name, file string }{
		{"plain header", "\ufefftitle,kind,status,countries\nWith BOM,law,active,NL\n"},
		{"quoted header", "\ufeff\"title\",\"kind\",\"status\",\"countries\"\r\n\"With BOM\",\"law\",\"active\",\"NL\"\r\n"},
		{"no BOM, CRLF", "title,kind,status,countries\r\nWith BOM,law,active,NL\r\n"},
	}
	for i, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			before := e.Count("initiatives")
			res := e.DoHeaders("POST", "/api/v1/imports/initiatives", e.Token(policy), c.file, map[string]string{"Content-Type": "text/csv"})
			if res.Status != http.StatusOK {
				t.Fatalf("import: %d %s", res.Status, res.Body)
			}
			if e.Count("initiatives") != before+1 {
				t.Error("nothing created")
			}
			p := list(t, e, e.Token(analyst), "q=bom&per_page=100")
			if p.Total != i+1 {
				t.Errorf("%d initiatives titled With BOM, want %d", p.Total, i+1)
			}
			for _, it := range p.Items {
				if it.Title != "With BOM" || strings.Join(it.Countries, ",") != "NL" || it.Owner != "mfa" {
					t.Errorf("imported %+v", it)
				}
			}
		})
	}
}

// TestCSVImport covers refused import files and the byte order mark that
// spreadsheets write.
func TestCSVImport(t *testing.T) {
	t.Parallel()
	apptest.Each(t, func(t *testing.T, e *apptest.Env) {
		t.Run("all or nothing", func(t *testing.T) { importAllOrNothing(t, e) })
		t.Run("byte order mark", func(t *testing.T) { byteOrderMark(t, e) })
	})
}

// TestCSVExport covers the export: cells a spreadsheet would run are
// defused and come back on import, and an export imported again changes
// nothing.
func TestCSVExport(t *testing.T) {
	t.Parallel()
	apptest.Each(t, func(t *testing.T, e *apptest.Env) {
		t.Run("formula cells", func(t *testing.T) { formulaCells(t, e) })
		t.Run("round trip", func(t *testing.T) { roundTrip(t, e) })
	})
}
