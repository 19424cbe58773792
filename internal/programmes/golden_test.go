package programmes_test

import (
	"flag"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"testing"

	"kompas/internal/app/apptest"
)

var update = flag.Bool("update", false, "rewrite the golden files in testdata/golden")

// volatile parts of a page, and what they become in a golden file.
var volatile = []struct {
	re   *regexp.Regexp
	repl string
}{
	{regexp.MustCompile(`\d{4}-\d{2}-\d{2} \d{2}:\d{2} UTC`), "2006-01-02 15:04 UTC"},     // times of change
	{regexp.MustCompile(`(/static/[\w./-]+?)\.[0-9a-f]{12}(\.[a-z0-9]+)"`), `$1.HASH$2"`}, // hashed asset names
	{regexp.MustCompile(`request [0-9A-Za-z-]+</p>`), "request REQUEST-ID</p>"},           // request ids
	// The main navigation lists every module's pages; it changes whenever
	// a module is added, so the golden files leave it out and the test
	// checks the register's own entries instead.
	{regexp.MustCompile(`(?s)<nav aria-label="Main">.*?</nav>`), `<nav aria-label="Main">…</nav>`},
}

func normalise(page string) string {
	for _, v := range volatile {
		page = v.re.ReplaceAllString(page, v.repl)
	}
	return page
}

// rewritten holds the golden files -update has written in this run: the
// first engine writes a file, the others are compared with it, so both
// engines must still give the same page.
var rewritten sync.Map

// golden compares got with testdata/golden/name, or rewrites it with
// -update.
func golden(t *testing.T, name, got string) {
	t.Helper()
	path := filepath.Join("testdata", "golden", name)
	if _, done := rewritten.LoadOrStore(name, true); *update && !done {
		if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(path, []byte(got), 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run go test -run TestListing ./internal/programmes/ -update to create it)", err)
	}
	if got == string(want) {
		return
	}
	gl, wl := strings.Split(got, "\n"), strings.Split(string(want), "\n")
	for i := 0; i < len(gl) || i < len(wl); i++ {
		var g, w string
		if i < len(gl) {
			g = gl[i]
		}
		if i < len(wl) {
			w = wl[i]
		}
		if g != w {
			t.Fatalf("%s differs from the golden file at line %d:\n got: %s\nwant: %s\n(if the change is intended, run go test -run TestListing ./internal/programmes/ -update and review the diff)", name, i+1, g, w)
		}
	}
}

func goldenPages(t *testing.T, e *apptest.Env) {
	c := e.Browser(policy)
	compass := idOf(t, e, compassTitle)
	demo := demoData(t)
	cases := []struct {
		name, path string
		checks     func(t *testing.T, body string)
	}{
		{"list.html", "/initiatives", func(t *testing.T, body string) {
			for _, want := range []string{
				fmt.Sprintf(`<p id="result-count" role="status">%d initiatives</p>`, len(demo)),
				`<span>Page 1 of 2</span>`,
				`<a href="?page=2" rel="next">Next page</a>`,
				`<a class="button" href="/initiatives/new">Add an initiative</a>`,
				fmt.Sprintf(`<a href="/initiatives/%d">%s</a>`, compass, compassTitle),
			} {
				if !strings.Contains(body, want) {
					t.Errorf("list page lacks %s", want)
				}
			}
			if n := strings.Count(body, "<tr>") - 1; n != 25 {
				t.Errorf("%d rows on the first page, want 25", n)
			}
		}},
		{"initiative-compass.html", fmt.Sprintf("/initiatives/%d", compass), func(t *testing.T, body string) {
			if n := strings.Count(body, `<li><a href="/initiatives?country=`); n != 14 {
				t.Errorf("COMPASS lists %d countries, want 14", n)
			}
			for _, want := range []string{
				"<h1>COMPASS programme with IOM</h1>",
				`<tr><td><a href="/initiatives?partner=iom">International Organization for Migration (IOM)</a></td><td>Implementer</td></tr>`,
				`<tr><td><a href="/initiatives?partner=mfa">Ministry of Foreign Affairs</a></td><td>Funder</td></tr>`,
				`<li><a href="/initiatives?country=NE">Niger</a></li>`,
				`<li><a href="/initiatives?objective=1">Objective 1</a>:`,
				`<li><a href="/initiatives?objective=23">Objective 23</a>:`,
				`<dt>Lead</dt><dd>Ministry of Foreign Affairs</dd>`,
				`<dt>Period</dt><dd>2021</dd>`,
				`<td>Partner countries</td><td class="num">14</td><td>countries</td>`,
				fmt.Sprintf(`href="/initiatives/%d/edit"`, compass),
			} {
				if !strings.Contains(body, want) {
					t.Errorf("COMPASS page lacks %s", want)
				}
			}
		}},
		{"coverage.html", "/coverage", func(t *testing.T, body string) {
			tbody := regexp.MustCompile(`(?s)<tbody>(.*)</tbody>`).FindStringSubmatch(body)
			if tbody == nil || strings.Count(tbody[1], "<tr>") != 23 {
				t.Fatalf("coverage table does not have 23 body rows")
			}
			if !strings.Contains(body, `<th scope="row">21. `) || !strings.Contains(body, `<a href="/initiatives?objective=21">`) {
				t.Error("objective 21 has no counts")
			}
			if !strings.Contains(body, `<td class="empty">none</td>`) {
				t.Error("objectives without initiatives are not marked none")
			}
		}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			res := send(t, c, "GET", e.URL+tc.path, nil)
			if res.Status != http.StatusOK {
				t.Fatalf("%s: %d", tc.path, res.Status)
			}
			tc.checks(t, res.Body)
			for _, item := range []string{`<a href="/initiatives"`, `<a href="/coverage"`, `<a href="/money"`} {
				if !strings.Contains(res.Body, item) {
					t.Errorf("navigation lacks %s", item)
				}
			}
			if !strings.Contains(res.Body, "request test-request</p>") {
				t.Error("the footer does not carry the request id")
			}
			page := normalise(res.Body)
			if strings.Contains(page, "test-request") || regexp.MustCompile(`\.[0-9a-f]{12}\.css`).MatchString(page) {
				t.Error("volatile parts left after normalising")
			}
			// One golden file for both engines: they must give the same page.
			golden(t, tc.name, page)
		})
	}
}
