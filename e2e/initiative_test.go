package e2e

import (
	"fmt"
	"regexp"
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
		chromedp.SetValue(chromedp.CSS("#f-partner-org-0"), "iom"),
		chromedp.SetValue(chromedp.CSS("#f-partner-role-0"), "implementer"),
	)
	res := b.submit(chromedp.CSS(form + ` button[type="submit"]`))
	if res.Status != 422 {
		t.Fatalf("submit with a bad country: status %d, want 422", res.Status)
	}
	if p := b.path(); p != "/initiatives" {
		t.Errorf("after a failed submit the page is %s, want the form again at /initiatives", p)
	}
	summary := b.text(".error-summary")
	const wantMsg = `"XX" is not an ISO 3166-1 alpha-2 country code`
	if !strings.Contains(summary, "There is a problem") || !strings.Contains(summary, "countries") || !strings.Contains(summary, wantMsg) {
		t.Errorf("error summary = %q, want it to name countries and say %s", summary, wantMsg)
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
	if v := run(b, "partner", chromedp.Value(chromedp.CSS("#f-partner-org-0"))); v != "iom" {
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
	res = b.submit(chromedp.CSS(form + ` button[type="submit"]`))
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
