package e2e

import (
	"archive/zip"
	"bytes"
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	cdpbrowser "github.com/chromedp/cdproto/browser"
	"github.com/chromedp/chromedp"
)

// download clicks the link sel, lets Chromium save the file into dir and
// returns its bytes once the browser reports the download complete.
func (b *browser_) download(dir string, sel chromedp.CSS) []byte {
	b.t.Helper()
	ctx, cancel := context.WithTimeout(b.ctx, 30*time.Second)
	defer cancel()
	progress := chromedp.BrowserEvents(ctx, cdpbrowser.DownloadProgress)
	b.do("click "+string(sel), chromedp.Click(sel))
	for ev, err := range progress {
		if err != nil {
			b.t.Fatalf("download %s: %v", sel, err)
		}
		switch ev.State {
		case cdpbrowser.DownloadProgressStateCompleted:
			data, err := os.ReadFile(filepath.Join(dir, ev.GUID))
			if err != nil {
				b.t.Fatalf("download %s: %v", sel, err)
			}
			return data
		case cdpbrowser.DownloadProgressStateCanceled:
			b.t.Fatalf("download %s was cancelled", sel)
		}
	}
	b.t.Fatalf("download %s: no completed download", sel)
	return nil
}

// browser_ lets this file add methods without touching browser_test.go.
type browser_ struct{ *browser }

// axeClean runs axe-core (when present; see doc.go) on the page shown and
// fails on serious or critical violations.
func (b *browser_) axeClean(name string) {
	b.t.Helper()
	rep := b.axe(axeSource(b.t))
	for _, v := range rep.Violations {
		msg := fmt.Sprintf("%s: %s", name, describeViolation(v))
		if v.Impact == "serious" || v.Impact == "critical" {
			b.t.Error(msg)
		} else {
			b.t.Log(msg)
		}
	}
}

// TestReviewInBrowser generates the review from the UI: a policy officer
// creates an edition on /reports, reads the generated review with its
// charts, publishes it, and downloads the PDF and the DOCX.
func TestReviewInBrowser(t *testing.T) {
	_, br := start(t)
	b := &browser_{br}
	b.signIn("policy@mfa.example")

	if st := b.open("/reports"); st != 200 {
		t.Fatalf("/reports: status %d", st)
	}
	title := "GCM review 2019–2022 (browser test)"
	b.do("fill the new edition form",
		chromedp.SetValue(chromedp.CSS("#f-title"), title),
		chromedp.SendKeys(chromedp.CSS("#f-period_from"), "2019"),
		chromedp.SendKeys(chromedp.CSS("#f-period_to"), "2022"),
		chromedp.SendKeys(chromedp.CSS("#f-introduction"), "The Ministry of Foreign Affairs drew up this review."),
	)
	res := b.submit(chromedp.CSS(`main form[action="/reports"] .actions button[type="submit"]`))
	if res.Status != 200 {
		t.Fatalf("create the edition: status %d", res.Status)
	}
	page := b.path()
	if !strings.HasPrefix(page, "/reports/") {
		t.Fatalf("after creating, the page is %s", page)
	}
	if h := b.text("article.review h1"); h != title {
		t.Errorf("review title %q, want %q", h, title)
	}
	headings := run(b.browser, "headings", chromedp.Evaluate[[]string](`[...document.querySelectorAll("article.review h2, article.review h3")].map(h => h.textContent.trim())`))
	all := strings.Join(headings, "\n")
	for _, want := range []string{"A. Introduction", "Migration research", "Promoting safe and dignified returns and sustainable re-integration", "Coverage of the 23 GCM objectives", "C. Next steps"} {
		if !strings.Contains(all, want) {
			t.Errorf("no heading %q among %q", want, headings)
		}
	}
	charts := run(b.browser, "count charts", chromedp.Evaluate[int](`document.querySelectorAll('article.review svg[role="img"]').length`))
	if charts != 3 {
		t.Errorf("%d charts on the page, want 3", charts)
	}
	b.axeClean("draft review")
	gaps := run(b.browser, "count gaps", chromedp.Evaluate[int](`document.querySelectorAll('#coverage-table td.gap').length`))
	if gaps == 0 {
		t.Error("the coverage table shows no gaps")
	}

	res = b.submit(chromedp.CSS(`form[action$="/publish"] button[type="submit"]`))
	if res.Status != 200 {
		t.Fatalf("publish: status %d", res.Status)
	}
	if msg := b.text(".flash"); !strings.Contains(msg, "published") {
		t.Errorf("flash after publishing: %q", msg)
	}

	b.axeClean("published review")
	b.open("/reports")
	b.axeClean("editions and new edition form")

	b.open(page)
	dir := t.TempDir()
	b.do("allow downloads", chromedp.Func(func(ctx context.Context, _ *chromedp.Target) error {
		yes := true
		_, err := chromedp.CallBrowser(ctx, cdpbrowser.SetDownloadBehavior, cdpbrowser.SetDownloadBehaviorParams{
			Behavior: cdpbrowser.SetDownloadBehaviorBehaviorAllowAndName, DownloadPath: dir, EventsEnabled: &yes})
		return err
	}))
	pdf := b.download(dir, chromedp.CSS(`.review-actions a[href$="/files/pdf"]`))
	if !bytes.HasPrefix(pdf, []byte("%PDF-")) || len(pdf) < 10000 {
		t.Errorf("downloaded PDF: %d bytes starting %q", len(pdf), pdf[:min(8, len(pdf))])
	}
	docx := b.download(dir, chromedp.CSS(`.review-actions a[href$="/files/docx"]`))
	zr, err := zip.NewReader(bytes.NewReader(docx), int64(len(docx)))
	if err != nil {
		t.Fatalf("downloaded DOCX is not a zip: %v", err)
	}
	found := false
	for _, f := range zr.File {
		found = found || f.Name == "word/document.xml"
	}
	if !found {
		t.Error("downloaded DOCX has no word/document.xml")
	}
}
