package e2e

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"testing"

	"github.com/chromedp/chromedp"
)

// axeTags are the rule sets run: WCAG 2.0, 2.1 and 2.2 at levels A and AA.
const axeTags = `['wcag2a','wcag2aa','wcag21a','wcag21aa','wcag22aa']`

// axeSource reads axe-core's axe.min.js from $KOMPAS_AXE_JS or from
// node_modules at the repository root; it skips (or, when the browser is
// required, fails) when there is none.
func axeSource(t *testing.T) string {
	t.Helper()
	file := os.Getenv(envAxe)
	if file == "" {
		file = filepath.Join(repoRoot(t), "node_modules", "axe-core", "axe.min.js")
	}
	src, err := os.ReadFile(file)
	if err != nil {
		missing(t, "no axe-core at %s for the accessibility test; run `npm ci` (or `npm install --no-save axe-core@4`) at the repository root, or set %s to axe.min.js", file, envAxe)
	}
	return string(src)
}

// repoRoot is the folder that holds go.mod, above the test's folder.
func repoRoot(t *testing.T) string {
	t.Helper()
	dir, err := os.Getwd()
	if err != nil {
		t.Fatal(err)
	}
	for d := dir; ; d = filepath.Dir(d) {
		if _, err := os.Stat(filepath.Join(d, "go.mod")); err == nil {
			return d
		}
		if filepath.Dir(d) == d {
			return filepath.Dir(dir)
		}
	}
}

type axeNode struct {
	Target         json.RawMessage `json:"target"`
	HTML           string          `json:"html"`
	FailureSummary string          `json:"failureSummary"`
}

type axeViolation struct {
	ID      string    `json:"id"`
	Impact  string    `json:"impact"`
	Help    string    `json:"help"`
	HelpURL string    `json:"helpUrl"`
	Nodes   []axeNode `json:"nodes"`
}

type axeReport struct {
	Version    string         `json:"version"`
	Violations []axeViolation `json:"violations"`
	Incomplete []axeViolation `json:"incomplete"`
	Passes     int            `json:"passes"`
}

// axe injects axe-core into the page now shown and runs it. The script goes
// in through DevTools' Runtime.evaluate, which the page's CSP (script-src
// 'self') does not govern; the test checks that it arrived.
func (b *browser) axe(src string) axeReport {
	b.t.Helper()
	run(b, "inject axe-core", chromedp.Evaluate[chromedp.Void](src+"\n;void 0"))
	if ok := run(b, "axe present", chromedp.Evaluate[bool](`typeof window.axe === "object" && typeof window.axe.run === "function"`)); !ok {
		b.t.Fatal("axe-core was evaluated but window.axe.run is missing: the injection did not work")
	}
	js := `axe.run(document, {runOnly: ` + axeTags + `}).then(r => {
  const slim = v => ({id: v.id, impact: v.impact, help: v.help, helpUrl: v.helpUrl,
    nodes: v.nodes.map(n => ({target: n.target, html: n.html.slice(0, 200), failureSummary: n.failureSummary}))});
  return {version: axe.version, violations: r.violations.map(slim), incomplete: r.incomplete.map(slim), passes: r.passes.length};
})`
	return run(b, "run axe", chromedp.Evaluate[axeReport](js, chromedp.EvalAwaitPromise))
}

// counts writes the violations per impact, e.g. "serious 2, minor 1".
func counts(vs []axeViolation) string {
	m := map[string]int{}
	for _, v := range vs {
		m[v.Impact] += len(v.Nodes)
	}
	if len(m) == 0 {
		return "none"
	}
	var parts []string
	for _, imp := range []string{"critical", "serious", "moderate", "minor", ""} {
		if n := m[imp]; n > 0 {
			parts = append(parts, fmt.Sprintf("%s %d", cmpOr(imp, "unknown"), n))
		}
	}
	return strings.Join(parts, ", ")
}

func cmpOr(s, def string) string {
	if s == "" {
		return def
	}
	return s
}

func describeViolation(v axeViolation) string {
	var b strings.Builder
	fmt.Fprintf(&b, "[%s] %s: %s (%s)", v.Impact, v.ID, v.Help, v.HelpURL)
	for _, n := range v.Nodes {
		fmt.Fprintf(&b, "\n      target %s", n.Target)
		if s := strings.TrimSpace(n.FailureSummary); s != "" {
			fmt.Fprintf(&b, "\n        %s", strings.ReplaceAll(s, "\n", "\n        "))
		}
	}
	return b.String()
}

func TestAccessibility(t *testing.T) {
	src := axeSource(t)
	env, b := start(t)

	// The COMPASS programme from the demo, found through the API.
	var page struct {
		Items []struct {
			ID    int64  `json:"id"`
			Title string `json:"title"`
		} `json:"items"`
	}
	env.Do("GET", "/api/v1/initiatives?q=COMPASS", env.Token("policy@mfa.example"), nil).JSON(&page)
	var compass int64
	for _, it := range page.Items {
		if strings.HasPrefix(it.Title, "COMPASS") {
			compass = it.ID
		}
	}
	if compass == 0 {
		t.Fatalf("no COMPASS initiative in the demo: %+v", page.Items)
	}

	type check struct {
		name string
		open func() // shows the page
	}
	openOK := func(path string) func() {
		return func() {
			if st := b.open(path); st != 200 {
				t.Fatalf("%s: status %d", path, st)
			}
		}
	}
	checks := []check{
		{"login (signed out)", func() {
			openOK("/login")()
			// WCAG 1.3.5 (identify input purpose), which axe cannot judge
			// when the attribute is absent.
			for sel, want := range map[chromedp.CSS]string{"#f-email": "username", "#f-password": "current-password"} {
				if got := run(b, "autocomplete", chromedp.AttributeValue(sel, "autocomplete")); got.Value != want {
					t.Errorf("login %s autocomplete=%q, want %q", sel, got.Value, want)
				}
			}
		}},
		{"login with errors", func() {
			openOK("/login")()
			b.do("wrong password", chromedp.SendKeys(chromedp.CSS("#f-email"), "policy@mfa.example"), chromedp.SendKeys(chromedp.CSS("#f-password"), "not-the-password"))
			b.submit(`main form[action="/login"] button[type="submit"]`)
			b.do("error summary shown", chromedp.WaitVisible(chromedp.CSS(".error-summary")))
		}},
		{"register", func() { b.signIn("policy@mfa.example") }},
		{"register filtered", openOK("/initiatives?objective=21&pillar=4")},
		{"initiative COMPASS", openOK(fmt.Sprintf("/initiatives/%d", compass))},
		{"new initiative form", openOK("/initiatives/new")},
		{"form with errors", func() {
			openOK("/initiatives/new")()
			b.do("bad values", chromedp.SendKeys(chromedp.CSS("#f-countries"), "XX"), chromedp.SendKeys(chromedp.CSS("#f-budget-amount"), "lots"))
			if res := b.submit(`main form[action="/initiatives"] .actions button[type="submit"]`); res.Status != 422 {
				t.Fatalf("form with errors: status %d, want 422", res.Status)
			}
			b.do("error summary shown", chromedp.WaitVisible(chromedp.CSS(".error-summary")))
		}},
		{"review editions", openOK("/reports")},
		{"edition form with errors", func() {
			openOK("/reports")()
			b.do("a section repeating an objective", chromedp.Click(chromedp.CSS(`input[name="grouping[1].objectives"][value="1"]`)))
			if res := b.submit(`main form[action="/reports"] .actions button[type="submit"]`); res.Status != 422 {
				t.Fatalf("edition form with errors: status %d, want 422", res.Status)
			}
			b.do("error summary shown", chromedp.WaitVisible(chromedp.CSS(".error-summary")))
		}},
		{"coverage", openOK("/coverage")},
		{"money", openOK("/money")},
		{"import", openOK("/initiatives/import")},
		{"import with errors", func() {
			openOK("/initiatives/import")()
			if res := b.submit(`main form[action="/initiatives/import"] button[type="submit"]`); res.Status != 422 {
				t.Fatalf("import without a file: status %d, want 422", res.Status)
			}
		}},
	}
	var version string
	for _, c := range checks {
		c.open()
		rep := b.axe(src)
		version = rep.Version
		sort.Slice(rep.Violations, func(i, j int) bool { return rep.Violations[i].ID < rep.Violations[j].ID })
		t.Logf("%-20s %s: violations (elements by impact) %s; needs review %d rules; %d rules pass", c.name, b.path(), counts(rep.Violations), len(rep.Incomplete), rep.Passes)
		for _, v := range rep.Violations {
			msg := fmt.Sprintf("%s: %s", c.name, describeViolation(v))
			if v.Impact == "serious" || v.Impact == "critical" {
				t.Error(msg)
			} else {
				t.Log(msg)
			}
		}
		if testing.Verbose() {
			for _, v := range rep.Incomplete {
				t.Logf("%s: needs review: %s", c.name, describeViolation(v))
			}
		}
	}
	t.Logf("axe-core %s, tags %s", version, axeTags)

	// Canary: axe must see faults planted in a page, or the clean results
	// above prove nothing.
	b.open("/initiatives")
	run(b, "plant faults", chromedp.Evaluate[chromedp.Void](`document.querySelector("main").insertAdjacentHTML("beforeend",
  '<img src="/none.png"><input id="e2e-unlabelled">'); void 0`))
	seen := map[string]bool{}
	for _, v := range b.axe(src).Violations {
		seen[v.ID] = true
	}
	for _, id := range []string{"image-alt", "label"} {
		if !seen[id] {
			t.Errorf("axe did not report the planted %s fault: the check is not working", id)
		}
	}
}
