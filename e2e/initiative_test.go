package e2e

import (
	"fmt"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
)

// uniqueWord returns a made-up, letters-only word that no demo record
// holds, so that a full-text search finds only what the test made.
func uniqueWord() string {
	n := time.Now().UnixNano()
	var b strings.Builder
	b.WriteString("Quillwort")
	for range 6 {
		b.WriteByte(byte('a' + n%26))
		n /= 26
	}
	return b.String()
}

// coverageCount reads the coverage matrix on /coverage: the number in the
// cell of objective × pillar (0 for an empty cell). It finds the column by
// its header and the row by its objective number, as a reader would.
func (b *browser) coverageCount(objective, pillar int) int {
	b.t.Helper()
	b.open("/coverage")
	js := fmt.Sprintf(`(() => {
  const table = document.querySelector("table.coverage");
  if (!table) return "no table.coverage";
  const col = [...table.tHead.rows[0].cells].findIndex(c => c.textContent.trim() === "Pillar %[2]d");
  if (col < 0) return "no column Pillar %[2]d";
  const row = [...table.tBodies[0].rows].find(r => r.cells[0].textContent.trim().startsWith("%[1]d. "));
  if (!row) return "no row for objective %[1]d";
  const cell = row.cells[col];
  if (cell.classList.contains("empty")) return "0";
  const a = cell.querySelector("a");
  if (!a || a.getAttribute("href") !== "/initiatives?objective=%[1]d&pillar=%[2]d") return "count cell without its link: " + cell.innerHTML;
  return a.textContent.trim();
})()`, objective, pillar)
	s := run(b, "read the coverage matrix", chromedp.Evaluate[string](js))
	n, err := strconv.Atoi(s)
	if err != nil {
		b.t.Fatalf("coverage %d × pillar %d: %s", objective, pillar, s)
	}
	return n
}

func TestCreateInitiativeInBrowser(t *testing.T) {
	env, b := start(t)
	b.signIn("policy@mfa.example")

	const objective, pillar = 21, 4
	before := b.coverageCount(objective, pillar)

	word := uniqueWord()
	title := "Reintegration livelihoods pilot " + word
	form := `main form[action="/initiatives"]`

	// First attempt: everything right except one country code.
	stored := env.Count("initiatives")
	if st := b.open("/initiatives/new"); st != 200 {
		t.Fatalf("/initiatives/new: status %d", st)
	}
	b.do("fill the new initiative form",
		chromedp.SendKeys(chromedp.CSS("#f-title"), title),
		chromedp.SendKeys(chromedp.CSS("#f-summary"), "Made by the browser test: small grants for returnees in Iraq and Türkiye."),
		chromedp.SetValue(chromedp.CSS("#f-kind"), "project"),
		chromedp.SetValue(chromedp.CSS("#f-status"), "planned"),
		chromedp.Click(chromedp.CSS(`input[name="objectives"][value="21"]`)),
		chromedp.Click(chromedp.CSS(`input[name="objectives"][value="23"]`)),
		chromedp.Click(chromedp.CSS(`input[name="pillars"][value="4"]`)),
		chromedp.SendKeys(chromedp.CSS("#f-start"), "2026"),
		chromedp.SendKeys(chromedp.CSS("#f-countries"), "IQ, XX"),
		chromedp.SetValue(chromedp.CSS("#f-partners-1-org"), "iom"),
		chromedp.SetValue(chromedp.CSS("#f-partners-1-role"), "implementer"),
	)
	res := b.submit(chromedp.CSS(form + ` .actions button[type="submit"]`))
	if res.Status != 422 {
		t.Fatalf("submit with a bad country: status %d, want 422", res.Status)
	}
	if p := b.path(); p != "/initiatives" {
		t.Errorf("after a failed submit the page is %s, want the form again at /initiatives", p)
	}
	summary := b.text(".error-summary")
	const wantMsg = `"XX" is not an ISO 3166-1 alpha-2 country code`
	// The summary names the field by its label, not its path (countries[1]).
	if !strings.Contains(summary, "There is a problem") || !strings.Contains(summary, "Country 2: "+wantMsg) || strings.Contains(summary, "countries[") {
		t.Errorf("error summary = %q, want it to name Country 2 and say %s", summary, wantMsg)
	}
	if href := run(b, "summary link", chromedp.AttributeValue(chromedp.CSS(".error-summary a"), "href")); href.Value != "#f-countries" {
		t.Errorf("error summary links to %q, want #f-countries", href.Value)
	}
	if msg := b.text("#f-countries-error"); !strings.Contains(msg, wantMsg) {
		t.Errorf("field message = %q, want %s", msg, wantMsg)
	}
	if inv := run(b, "aria-invalid", chromedp.AttributeValue(chromedp.CSS("#f-countries"), "aria-invalid")); inv.Value != "true" {
		t.Errorf("countries input aria-invalid = %q, want true", inv.Value)
	}
	// What the user typed is kept.
	if v := run(b, "title value", chromedp.Value(chromedp.CSS("#f-title"))); v != title {
		t.Errorf("title input holds %q after the error, want %q", v, title)
	}
	if v := run(b, "countries value", chromedp.Value(chromedp.CSS("#f-countries"))); v != "IQ, XX" {
		t.Errorf("countries input holds %q after the error, want %q", v, "IQ, XX")
	}
	for _, sel := range []string{`input[name="objectives"][value="21"]`, `input[name="objectives"][value="23"]`, `input[name="pillars"][value="4"]`} {
		if !run(b, "checked "+sel, chromedp.JavascriptAttribute[bool](chromedp.CSS(sel), "checked")) {
			t.Errorf("%s is no longer checked after the error", sel)
		}
	}
	if v := run(b, "partner", chromedp.Value(chromedp.CSS("#f-partners-1-org"))); v != "iom" {
		t.Errorf("partner 1 is %q after the error, want iom", v)
	}
	// Bad input changes nothing (DESIGN.md principle 6).
	if got := env.Count("initiatives"); got != stored {
		t.Fatalf("initiatives in the database: %d after the refused form, want %d", got, stored)
	}

	// Correct the countries and save.
	b.do("correct the countries",
		chromedp.Clear(chromedp.CSS("#f-countries")),
		chromedp.SendKeys(chromedp.CSS("#f-countries"), "IQ, TR"),
	)
	if v := run(b, "countries value", chromedp.Value(chromedp.CSS("#f-countries"))); v != "IQ, TR" {
		t.Fatalf("countries input holds %q after correcting it, want %q", v, "IQ, TR")
	}
	res = b.submit(chromedp.CSS(form + ` .actions button[type="submit"]`))
	if res.Status != 200 {
		t.Fatalf("submit corrected form: status %d at %s", res.Status, res.URL)
	}
	if got := env.Count("initiatives"); got != stored+1 {
		t.Errorf("initiatives in the database: %d after saving, want %d", got, stored+1)
	}
	p := b.path()
	if !regexp.MustCompile(`^/initiatives/\d+$`).MatchString(p) {
		t.Fatalf("after saving the page is %s, want /initiatives/<id>", p)
	}
	if h1 := b.text("main h1"); h1 != title {
		t.Errorf("initiative page heading = %q, want %q", h1, title)
	}
	if flash := b.text(".flash"); !strings.Contains(flash, "added") {
		t.Errorf("flash = %q, want the confirmation", flash)
	}
	for _, sel := range []chromedp.CSS{`a[href="/initiatives?country=IQ"]`, `a[href="/initiatives?country=TR"]`,
		`a[href="/initiatives?partner=iom"]`, `a[href="/initiatives?objective=21"]`, `a[href="/initiatives?objective=23"]`, `a[href="/initiatives?pillar=4"]`} {
		ids := run(b, "find "+string(sel), chromedp.QueryNodeIDs(chromedp.CSSAll(sel), chromedp.AtLeast(0)))
		if len(ids) == 0 {
			t.Errorf("initiative page has no %s", sel)
		}
	}

	// It is in the register, found by a word of its title.
	b.open("/initiatives?q=" + word)
	if n := b.text("#result-count"); n != "1 initiative, best matches first" {
		t.Errorf("register search for %s: %q, want 1 initiative, best matches first", word, n)
	}
	if link := b.text("main table tbody tr td a"); link != title {
		t.Errorf("register search for %s lists %q, want %q", word, link, title)
	}

	// And it counts in the coverage matrix.
	if after := b.coverageCount(objective, pillar); after != before+1 {
		t.Errorf("coverage objective %d × pillar %d: %d before, %d after; want one more", objective, pillar, before, after)
	}
	b.screenshot("coverage")
	b.open("/initiatives")
	b.screenshot("register")
}

// TestFormRowsInBrowser: the initiative form's results are rows of fields,
// and "Add another result" gives one more row, keeping what was typed,
// without saving. Enter in a field saves (the form's first submit button
// is Save), so an incomplete form comes back with its errors named by
// their labels: "Result 3: value".
func TestFormRowsInBrowser(t *testing.T) {
	env, b := start(t)
	b.signIn("policy@mfa.example")
	if st := b.open("/initiatives/new"); st != 200 {
		t.Fatalf("/initiatives/new: status %d", st)
	}
	stored := env.Count("initiatives")
	b.do("type a title", chromedp.SendKeys(chromedp.CSS("#f-title"), "Rows test"))
	res := b.submit(chromedp.CSS(`main form button[name="add"][value="results"]`))
	if res.Status != 200 {
		t.Fatalf("Add another result: status %d", res.Status)
	}
	if rows := run(b, "count result rows", chromedp.Evaluate[int](`document.querySelectorAll('input[name="result_indicator"]').length`)); rows != 3 {
		t.Errorf("%d result rows after Add another, want 3", rows)
	}
	if v := run(b, "title value", chromedp.Value(chromedp.CSS("#f-title"))); v != "Rows test" {
		t.Errorf("the title holds %q after Add another", v)
	}
	if loc := run(b, "location", chromedp.Location()); !strings.HasSuffix(loc, "#f-results-3") {
		t.Errorf("after Add another the page is at %s, want the new row #f-results-3", loc)
	}
	if got := env.Count("initiatives"); got != stored {
		t.Fatalf("Add another saved an initiative")
	}
	b.do("fill the new row but its value", chromedp.SendKeys(chromedp.CSS("#f-results-3-indicator"), "Returnees with a business after a year"))
	res, err := chromedp.RunResponse(b.ctx, chromedp.SendKeys(chromedp.CSS("#f-title"), "\r"))
	if err != nil || res == nil {
		t.Fatalf("Enter in the title: %v", err)
	}
	if res.Status != 422 {
		t.Fatalf("Enter in the title: status %d, want 422 (a save with errors)", res.Status)
	}
	summary := b.text(".error-summary")
	for _, want := range []string{"Kind of initiative: ", "Result 1: value: is required"} {
		if !strings.Contains(summary, want) {
			t.Errorf("error summary %q lacks %q", summary, want)
		}
	}
	if strings.Contains(summary, "results[") || strings.Contains(summary, "kind:") {
		t.Errorf("error summary names a field by its path: %q", summary)
	}
	// The empty rows were dropped, so the result is row 1 now, where the
	// summary links.
	if href := run(b, "summary links", chromedp.Evaluate[[]string](`[...document.querySelectorAll(".error-summary a")].map(a => a.getAttribute("href"))`)); !slices.Contains(href, "#f-results-1-value") {
		t.Errorf("the summary links to %q, want #f-results-1-value among them", href)
	}
	if v := run(b, "row 1", chromedp.Value(chromedp.CSS("#f-results-1-indicator"))); v != "Returnees with a business after a year" {
		t.Errorf("result row 1 holds %q", v)
	}
}
