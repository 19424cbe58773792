package programmes_test

import (
	"html"
	"net/http"
	"strings"
	"testing"

	"kompas/internal/app/apptest"
	"kompas/internal/programmes"
)

// TestImportsOverTheLimit sends each import route a body over its limit
// (20 MiB; the page's is 1 MiB more, for the form around the file): a 413
// naming the limit in words, as problem JSON or as the import form shown
// again with the error, and nothing imported.
func TestImportsOverTheLimit(t *testing.T) {
	apptest.Each(t, func(t *testing.T, e *apptest.Env) {
		const limit = 20 << 20
		tok, browser := e.Token(policy), e.Browser(policy) // signing in is audited
		before := counts(e)
		audit := e.Count("audit_events")
		csv := "title,kind,status,summary\nBig,law,active," + strings.Repeat("a", limit) + "\n"
		xlsx := "PK\x03\x04" + strings.Repeat("x", limit)
		const want = "The file is larger than 20 MiB, the most this import takes."
		for _, c := range []struct{ name, path, ctype, body string }{
			{"CSV", "/api/v1/imports/initiatives", "text/csv", csv},
			{"XLSX at the CSV address", "/api/v1/imports/initiatives", programmes.XLSXType, xlsx},
			{"XLSX", "/api/v1/imports/initiatives.xlsx", programmes.XLSXType, xlsx},
		} {
			t.Run("API "+c.name, func(t *testing.T) {
				res := e.DoHeaders("POST", c.path, tok, c.body, map[string]string{"Content-Type": c.ctype})
				if res.Status != http.StatusRequestEntityTooLarge {
					t.Fatalf("status %d, want 413: %.300s", res.Status, res.Body)
				}
				if p := res.Problem(); p.Detail != want || len(p.Errors) != 1 || p.Errors[0].Field != "file" {
					t.Errorf("problem %+v, want %q naming file", p, want)
				}
			})
		}
		for _, name := range []string{"big.csv", "big.xlsx"} {
			t.Run("page "+name, func(t *testing.T) {
				res := send(t, browser, "POST", e.URL+"/initiatives/import", fileUpload(t, name, []byte(strings.Repeat("a", limit+1<<20))))
				body := html.UnescapeString(res.Body)
				if res.Status != http.StatusRequestEntityTooLarge || !strings.Contains(body, `class="error-summary"`) || !strings.Contains(body, `name="file"`) ||
					!strings.Contains(body, "File: is larger than 21 MiB, the most this import takes") {
					t.Errorf("page: %d, want 413 with the form and the limit: %.1500s", res.Status, body)
				}
			})
		}
		sameCounts(t, e, before)
		if n := e.Count("audit_events"); n != audit {
			t.Errorf("refused imports left %d audit events", n-audit)
		}
	})
}
