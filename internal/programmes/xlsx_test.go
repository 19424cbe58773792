package programmes_test

import (
	"bytes"
	"encoding/json"
	"fmt"
	"net/http"
	"reflect"
	"strings"
	"testing"

	"github.com/xuri/excelize/v2"

	"kompas/internal/app/apptest"
	"kompas/internal/programmes"
)

// xlsxRows reads the first sheet of a workbook.
func xlsxRows(t *testing.T, b []byte) [][]string {
	t.Helper()
	f, err := excelize.OpenReader(bytes.NewReader(b))
	if err != nil {
		t.Fatalf("not a workbook: %v", err)
	}
	defer f.Close()
	rows, err := f.GetRows(f.GetSheetList()[0])
	if err != nil {
		t.Fatal(err)
	}
	return rows
}

// xlsxOf writes rows as a workbook.
func xlsxOf(t *testing.T, rows [][]string) []byte {
	t.Helper()
	f := excelize.NewFile()
	defer f.Close()
	for r, row := range rows {
		for c, v := range row {
			cell, _ := excelize.CoordinatesToCellName(c+1, r+1)
			if err := f.SetCellStr("Sheet1", cell, v); err != nil {
				t.Fatal(err)
			}
		}
	}
	var buf bytes.Buffer
	if err := f.Write(&buf); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

func TestXLSXRoundTrip(t *testing.T) {
	t.Parallel()
	apptest.Each(t, func(t *testing.T, e *apptest.Env) {
		awkward(t, e)
		for _, via := range []string{"api", "api-csv-address", "pages"} {
			t.Run(via, func(t *testing.T) {
				before := register(t, e)
				n := len(before)
				var exported []byte
				c := e.Browser(policy)
				if via == "pages" {
					res := send(t, c, "GET", e.URL+"/initiatives/export.xlsx", nil)
					if res.Status != http.StatusOK || res.Header.Get("Content-Type") != programmes.XLSXType {
						t.Fatalf("export page: %d %s", res.Status, res.Header.Get("Content-Type"))
					}
					exported = []byte(res.Body)
				} else {
					res := e.Do("GET", "/api/v1/exports/initiatives.xlsx", e.Token(policy), nil)
					if res.Status != http.StatusOK || !strings.Contains(res.Header.Get("Content-Disposition"), "initiatives.xlsx") {
						t.Fatalf("export: %d", res.Status)
					}
					exported = res.Body
				}
				rows := xlsxRows(t, exported)
				if len(rows) != n+1 || rows[0][0] != "id" || rows[0][2] != "title" {
					t.Fatalf("export has %d rows for %d initiatives; header %v", len(rows), n, rows[0])
				}
				switch via {
				case "api", "api-csv-address":
					path := "/api/v1/imports/initiatives.xlsx"
					if via == "api-csv-address" {
						path = "/api/v1/imports/initiatives"
					}
					res := e.DoHeaders("POST", path, e.Token(policy), exported, map[string]string{"Content-Type": programmes.XLSXType})
					if res.Status != http.StatusOK {
						t.Fatalf("import: %d %s", res.Status, res.Body)
					}
					var r struct{ Created, Updated int }
					res.JSON(&r)
					if r.Created != 0 || r.Updated != n {
						t.Errorf("import: %+v, want %d updated", r, n)
					}
				case "pages":
					res := send(t, c, "POST", e.URL+"/initiatives/import", fileUpload(t, "initiatives.xlsx", exported))
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
						t.Errorf("initiative changed by XLSX export and import:\nbefore %s\nafter %s", b, a)
					}
				}
			})
		}
		// The CSV upload still goes to the CSV import.
		t.Run("csv through the same page", func(t *testing.T) {
			res := e.Do("GET", "/api/v1/exports/initiatives", e.Token(policy), nil)
			page := send(t, e.Browser(policy), "POST", e.URL+"/initiatives/import", fileUpload(t, "initiatives.csv", res.Body))
			if page.Status != http.StatusOK || !strings.Contains(page.Body, "Imported: 0 added") {
				t.Fatalf("CSV import page: %d %.500s", page.Status, page.Body)
			}
		})
	})
}

func TestXLSXImportAllOrNothing(t *testing.T) {
	t.Parallel()
	apptest.Each(t, func(t *testing.T, e *apptest.Env) {
		before := counts(e)
		header := []string{"title", "kind", "status", "countries", "summary"}
		good := []string{"A good row", "project", "active", "NL", "first line\nsecond line"}
		rows := [][]string{header, good, {"A second good row", "law", "planned", "", ""}, {}, {"A bad row", "project", "active", "XQ", ""}, {"", "project", "sleeping", "", ""}}
		res := e.DoHeaders("POST", "/api/v1/imports/initiatives.xlsx", e.Token(policy), xlsxOf(t, rows), map[string]string{"Content-Type": programmes.XLSXType})
		if res.Status != http.StatusUnprocessableEntity {
			t.Fatalf("import with bad rows: %d %s", res.Status, res.Body)
		}
		p := res.Problem()
		var fields []string
		for _, f := range p.Errors {
			fields = append(fields, f.Field)
		}
		got := strings.Join(fields, ", ")
		// Rows are the sheet's: the empty row 4 is skipped but counted.
		for _, want := range []string{"row 5: countries[0]", "row 6: title", "row 6: status"} {
			if !strings.Contains(got, want) {
				t.Errorf("errors %q do not name %q", got, want)
			}
		}
		if strings.Contains(got, "line ") {
			t.Errorf("errors speak of CSV lines: %q", got)
		}
		sameCounts(t, e, before)

		// Not a workbook at all, and a workbook with no rows.
		for name, body := range map[string][]byte{"not a workbook": []byte("PK\x03\x04 broken"), "empty sheet": xlsxOf(t, nil)} {
			res := e.DoHeaders("POST", "/api/v1/imports/initiatives.xlsx", e.Token(policy), body, map[string]string{"Content-Type": programmes.XLSXType})
			if res.Status != http.StatusBadRequest {
				t.Errorf("%s: %d %s", name, res.Status, res.Body)
			}
		}
		// The page shows the rows at fault and imports nothing.
		page := send(t, e.Browser(policy), "POST", e.URL+"/initiatives/import", fileUpload(t, "bad.xlsx", xlsxOf(t, rows)))
		if page.Status != http.StatusUnprocessableEntity || !strings.Contains(page.Body, "row 5: countries[0]") {
			t.Errorf("import page with bad rows: %d %.600s", page.Status, page.Body)
		}
		sameCounts(t, e, before)

		// And the good rows alone go in.
		res = e.DoHeaders("POST", "/api/v1/imports/initiatives", e.Token(policy), xlsxOf(t, rows[:3]), map[string]string{"Content-Type": programmes.XLSXType})
		if res.Status != http.StatusOK || !strings.Contains(string(res.Body), `"created":2`) {
			t.Fatalf("good rows: %d %s", res.Status, res.Body)
		}
		page2 := list(t, e, e.Token(policy), "q=good+row")
		if page2.Total != 2 {
			t.Errorf("found %d imported rows, want 2", page2.Total)
		}
	})
}

func TestXLSXAccess(t *testing.T) {
	t.Parallel()
	apptest.Each(t, func(t *testing.T, e *apptest.Env) {
		body := xlsxOf(t, [][]string{{"title", "kind", "status"}, {"Access test", "project", "active"}})
		cases := []struct {
			method, path, who string
			body              []byte
			want              int
		}{
			{"GET", "/api/v1/exports/initiatives.xlsx", "", nil, http.StatusUnauthorized},
			{"GET", "/api/v1/exports/initiatives.xlsx", analyst, nil, http.StatusOK},
			{"GET", "/api/v1/exports/initiatives.xlsx?country=XQ", analyst, nil, http.StatusBadRequest},
			{"POST", "/api/v1/imports/initiatives.xlsx", "", body, http.StatusUnauthorized},
			{"POST", "/api/v1/imports/initiatives.xlsx", analyst, body, http.StatusForbidden},
			{"POST", "/api/v1/imports/initiatives", analyst, body, http.StatusForbidden},
			{"POST", "/api/v1/imports/initiatives.xlsx", policy, body, http.StatusOK},
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
			res := e.DoHeaders(c.method, c.path, tok, b, map[string]string{"Content-Type": programmes.XLSXType})
			if res.Status != c.want {
				t.Errorf("%s %s as %q: %d, want %d (%s)", c.method, c.path, c.who, res.Status, c.want, res.Body)
			}
		}
		// Pages: signed out the export sends to sign-in; an analyst may export
		// but not import.
		if res := send(t, e.Browser(""), "GET", e.URL+"/initiatives/export.xlsx", nil); res.Status != http.StatusSeeOther {
			t.Errorf("export page signed out: %d", res.Status)
		}
		if res := send(t, e.Browser(analyst), "GET", e.URL+"/initiatives/export.xlsx", nil); res.Status != http.StatusOK {
			t.Errorf("export page as analyst: %d", res.Status)
		}
		if res := send(t, e.Browser(analyst), "POST", e.URL+"/initiatives/import", fileUpload(t, "x.xlsx", body)); res.Status != http.StatusForbidden {
			t.Errorf("import page as analyst: %d", res.Status)
		}
	})
}
