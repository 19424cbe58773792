package e2e

import (
	"context"
	"fmt"
	"strings"
	"testing"

	"github.com/chromedp/cdproto/cdp"
	"github.com/chromedp/cdproto/emulation"
	"github.com/chromedp/chromedp"
)

// TestPagesWorkWithoutJavaScript: with the page's scripts switched off, a
// person can still sign in and filter the register (DESIGN.md principle 5).
// The test drives the page with DevTools' input events; DevTools' own
// evaluation, which chromedp uses to read values, is not page script.
func TestPagesWorkWithoutJavaScript(t *testing.T) {
	env, b := start(t)
	b.do("disable JavaScript", chromedp.Func(func(ctx context.Context, tg *chromedp.Target) error {
		_, err := cdp.Call(ctx, tg, emulation.SetScriptExecutionDisabled, emulation.SetScriptExecutionDisabledParams{Value: true})
		return err
	}))
	// Prove that page scripts no longer run: this page would retitle itself.
	b.do("load a scripted page", chromedp.Navigate(`data:text/html,<title>scripts off</title><script>document.title="scripts on"</script>`))
	if title := run(b, "title", chromedp.Title()); title != "scripts off" {
		t.Fatalf("page scripts still run (title %q): JavaScript was not disabled", title)
	}

	b.signIn("policy@mfa.example")

	// Choose objective 21 with the keyboard, as a person would, and filter.
	const objective = 21
	b.do("choose objective 21",
		chromedp.Focus(chromedp.CSS("#f-objective")),
		chromedp.KeyEvent(fmt.Sprint(objective)),
	)
	if v := run(b, "objective value", chromedp.Value(chromedp.CSS("#f-objective"))); v != fmt.Sprint(objective) {
		t.Fatalf("objective select holds %q after typing %d", v, objective)
	}
	res := b.submit(`form.filters button[type="submit"]`)
	if res.Status != 200 {
		t.Fatalf("filter: status %d at %s", res.Status, res.URL)
	}
	if p := b.path(); !strings.HasPrefix(p, "/initiatives?") || !strings.Contains(p, fmt.Sprintf("objective=%d", objective)) {
		t.Fatalf("filter went to %s, want /initiatives?…objective=%d…", p, objective)
	}

	// The page shows what the API counts for the same filter.
	var want struct {
		Total int `json:"total"`
	}
	env.Do("GET", fmt.Sprintf("/api/v1/initiatives?objective=%d", objective), env.Token("policy@mfa.example"), nil).JSON(&want)
	if want.Total == 0 {
		t.Fatalf("the demo has no initiative for objective %d to filter", objective)
	}
	wantCount := fmt.Sprintf("%d initiatives", want.Total)
	if want.Total == 1 {
		wantCount = "1 initiative"
	}
	if got := b.text("#result-count"); got != wantCount {
		t.Errorf("result count %q, want %q", got, wantCount)
	}
	rows := run(b, "rows", chromedp.Nodes(chromedp.CSSAll("main table tbody tr"), chromedp.AtLeast(1)))
	if wantRows := min(want.Total, 25); len(rows) != wantRows {
		t.Errorf("%d rows on the page, want %d", len(rows), wantRows)
	}
	cells := run(b, "objective cells", chromedp.Nodes(chromedp.CSSAll("main table tbody tr td:nth-child(5)"), chromedp.AtLeast(1)))
	for i, c := range cells {
		txt := run(b, "cell text", chromedp.Text(chromedp.NodeIDs{c.NodeID}))
		found := false
		for _, n := range strings.Split(txt, ",") {
			if strings.TrimSpace(n) == fmt.Sprint(objective) {
				found = true
			}
		}
		if !found {
			t.Errorf("row %d lists objectives %q, want %d among them", i+1, txt, objective)
		}
	}
	// The filter stays chosen on the result page.
	if v := run(b, "objective value", chromedp.Value(chromedp.CSS("#f-objective"))); v != fmt.Sprint(objective) {
		t.Errorf("objective select shows %q on the result page, want %d", v, objective)
	}

	// The switch held for every page on the way.
	b.do("load a scripted page again", chromedp.Navigate(`data:text/html,<title>scripts off</title><script>document.title="scripts on"</script>`))
	if title := run(b, "title", chromedp.Title()); title != "scripts off" {
		t.Errorf("page scripts ran again by the end (title %q)", title)
	}
}
