package e2e

import (
	"context"
	"fmt"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/cdproto/network"
	"github.com/chromedp/chromedp"

	"kompas/internal/app/apptest"
)

const (
	envChromium   = "KOMPAS_CHROMIUM"
	envRequire    = "KOMPAS_REQUIRE_BROWSER"
	envAxe        = "KOMPAS_AXE_JS"
	envScreenshot = "KOMPAS_SCREENSHOTS"

	defaultChromium = "/usr/bin/chromium"

	// startTimeout bounds Chromium's start; testTimeout each test's work
	// in the browser after it.
	startTimeout = 30 * time.Second
	testTimeout  = 60 * time.Second
)

// requireBrowser reports whether a missing browser or axe-core must fail the
// test instead of skipping it (CI sets KOMPAS_REQUIRE_BROWSER=1).
func requireBrowser() bool { return os.Getenv(envRequire) == "1" }

// missing skips the test, or fails it when the browser is required.
func missing(t *testing.T, format string, args ...any) {
	t.Helper()
	msg := fmt.Sprintf(format, args...)
	if requireBrowser() {
		t.Fatalf("%s (%s=1, so this fails instead of skipping)", msg, envRequire)
	}
	t.Skip("skipped: " + msg)
}

// chromiumPath returns the browser to run: $KOMPAS_CHROMIUM, else Debian's
// /usr/bin/chromium (or chromium on PATH). It never downloads one.
func chromiumPath(t *testing.T) string {
	t.Helper()
	p := os.Getenv(envChromium)
	if p == "" {
		p = defaultChromium
		if _, err := os.Stat(p); err != nil {
			if lp, err := exec.LookPath("chromium"); err == nil {
				p = lp
			}
		}
	}
	fi, err := os.Stat(p)
	if err != nil || fi.IsDir() || fi.Mode()&0o111 == 0 {
		missing(t, "no Chromium at %s for the browser tests; install Debian's chromium (apt-get install chromium) or set %s to a Chromium binary", p, envChromium)
	}
	return p
}

// browser is one headless Chromium with a fresh profile, on one tab, pointed
// at one Kompas server.
type browser struct {
	t    *testing.T
	ctx  context.Context
	base string
}

// start finds the browser (skipping before any work when there is none),
// starts Kompas with the demo data on SQLite and opens Chromium on it.
func start(t *testing.T) (*apptest.Env, *browser) {
	t.Helper()
	exe := chromiumPath(t)
	env := apptest.New(t, "sqlite")
	return env, newBrowser(t, env, exe)
}

// newBrowser starts Chromium exe for the test; it stops when the test ends.
func newBrowser(t *testing.T, env *apptest.Env, exe string) *browser {
	t.Helper()
	profile := t.TempDir()
	// Chromium's helper processes can still write to the profile for a
	// moment after the browser exits; clear it patiently before TempDir's
	// own cleanup, which would fail on "directory not empty".
	t.Cleanup(func() {
		for range 50 {
			if err := os.RemoveAll(profile); err == nil {
				return
			}
			time.Sleep(100 * time.Millisecond)
		}
	})
	opts := []chromedp.ExecAllocatorOption{
		chromedp.ExecPath(exe),
		chromedp.Headless,
		chromedp.NoSandbox,
		chromedp.DisableGPU,
		chromedp.NoFirstRun,
		chromedp.NoDefaultBrowserCheck,
		chromedp.Flag("disable-background-networking", true),
		chromedp.Flag("disable-component-update", true),
		chromedp.Flag("disable-sync", true),
		chromedp.Flag("disable-quic", true),
		chromedp.Flag("disable-extensions", true),
		chromedp.Flag("disable-default-apps", true),
		chromedp.Flag("disable-dev-shm-usage", true),
		chromedp.Flag("disable-breakpad", true),
		chromedp.Flag("disable-features", "Translate,OptimizationHints,MediaRouter"),
		chromedp.Flag("password-store", "basic"),
		chromedp.Flag("use-mock-keychain", true),
		chromedp.UserDataDir(profile),
		chromedp.WindowSize(1280, 900),
	}
	actx, cancelAlloc := chromedp.NewExecAllocator(context.Background(), opts...)
	t.Cleanup(cancelAlloc)
	bctx, cancelBrowser := chromedp.NewContext(actx)
	t.Cleanup(cancelBrowser)
	// The first run starts the browser; it must not carry a deadline, or
	// the deadline would end the browser too. A watchdog stops a start
	// that hangs instead.
	watchdog := time.AfterFunc(startTimeout, cancelAlloc)
	err := chromedp.Do(bctx)
	watchdog.Stop()
	if err != nil {
		if requireBrowser() {
			t.Fatalf("start Chromium %s: %v", exe, err)
		}
		t.Skipf("skipped: Chromium %s did not start: %v (install Debian's chromium or set %s)", exe, err, envChromium)
	}
	ctx, cancel := context.WithTimeout(bctx, testTimeout)
	t.Cleanup(cancel)
	return &browser{t: t, ctx: ctx, base: env.URL}
}

func (b *browser) url(path string) string { return b.base + path }

// do runs the steps, failing the test on the first error.
func (b *browser) do(what string, steps ...chromedp.Action[chromedp.Void]) {
	b.t.Helper()
	if err := chromedp.Do(b.ctx, steps...); err != nil {
		b.t.Fatalf("%s: %v", what, err)
	}
}

// run runs one action that returns a value, failing the test on error.
func run[T any](b *browser, what string, a chromedp.Action[T]) T {
	b.t.Helper()
	v, err := chromedp.Run(b.ctx, a)
	if err != nil {
		b.t.Fatalf("%s: %v", what, err)
	}
	return v
}

// open navigates to path and waits for the page to load; it returns the
// HTTP status of the document.
func (b *browser) open(path string) int64 {
	b.t.Helper()
	res := run(b, "open "+path, chromedp.NavigateResponse(b.url(path)))
	if res == nil {
		b.t.Fatalf("open %s: no response", path)
	}
	return res.Status
}

// submit clicks sel (a submit button) and waits for the page that the form
// leads to (after redirects); it returns that document's response.
func (b *browser) submit(sel chromedp.CSS) *network.Response {
	b.t.Helper()
	res, err := chromedp.RunResponse(b.ctx, chromedp.Click(sel))
	if err != nil {
		b.t.Fatalf("submit %s: %v", sel, err)
	}
	if res == nil {
		b.t.Fatalf("submit %s: no page loaded", sel)
	}
	return res
}

// path returns the path and query of the page now shown.
func (b *browser) path() string {
	b.t.Helper()
	loc := run(b, "location", chromedp.Location())
	u, err := url.Parse(loc)
	if err != nil {
		b.t.Fatalf("location %q: %v", loc, err)
	}
	if u.RawQuery != "" {
		return u.Path + "?" + u.RawQuery
	}
	return u.Path
}

// text returns the rendered text of the first element matching sel.
func (b *browser) text(sel chromedp.CSS) string {
	b.t.Helper()
	return strings.TrimSpace(run(b, "text of "+string(sel), chromedp.Text(sel)))
}

// signIn uses the login form as email with the demo password and checks
// that it leads into the register.
func (b *browser) signIn(email string) {
	b.t.Helper()
	b.open("/login")
	b.do("fill the login form",
		chromedp.SendKeys(chromedp.CSS("#f-email"), email),
		chromedp.SendKeys(chromedp.CSS("#f-password"), apptest.Password),
	)
	res := b.submit(`main form[action="/login"] button[type="submit"]`)
	if res.Status != 200 {
		b.t.Fatalf("sign in as %s: status %d at %s", email, res.Status, res.URL)
	}
	if p := b.path(); p != "/initiatives" {
		b.t.Fatalf("sign in as %s: landed on %s, want /initiatives", email, p)
	}
	if who := b.text("header .who span"); !strings.Contains(who, "·") {
		b.t.Fatalf("sign in as %s: header shows %q, want the signed-in user", email, who)
	}
}

// screenshot writes a full-page PNG to e2e/testdata/screenshots/name.png,
// only when KOMPAS_SCREENSHOTS=1.
func (b *browser) screenshot(name string) {
	b.t.Helper()
	if os.Getenv(envScreenshot) != "1" {
		return
	}
	png := run(b, "screenshot "+name, chromedp.FullScreenshot(100))
	dir := filepath.Join("testdata", "screenshots")
	if err := os.MkdirAll(dir, 0o755); err != nil {
		b.t.Fatal(err)
	}
	file := filepath.Join(dir, name+".png")
	if err := os.WriteFile(file, png, 0o644); err != nil {
		b.t.Fatal(err)
	}
	b.t.Logf("screenshot: e2e/%s", filepath.ToSlash(file))
}
