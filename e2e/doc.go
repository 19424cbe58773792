// Package e2e holds Kompas's end-to-end tests in a real headless Chromium,
// driven through the DevTools protocol by chromedp. Each test starts the
// whole server with the demo data (internal/app/apptest) on 127.0.0.1 and a
// fresh browser profile, and uses the pages as a person would: the login
// form, the initiative form with its error summary, the register's filters
// and the coverage matrix; with JavaScript on and off; and through axe-core
// for the WCAG 2.2 AA checks that a machine can make.
//
// The tests need a browser and, for the accessibility test, axe-core:
//
//	apt-get install chromium              # Debian's; never a downloaded build
//	npm ci                                # or: npm install --no-save axe-core@4
//
// Environment:
//
//	KOMPAS_CHROMIUM=/path/to/chromium   the browser (default /usr/bin/chromium)
//	KOMPAS_AXE_JS=/path/to/axe.min.js   axe-core (default node_modules/axe-core/axe.min.js at the repository root)
//	KOMPAS_REQUIRE_BROWSER=1            fail instead of skipping when either is missing (CI sets it)
//	KOMPAS_SCREENSHOTS=1                write PNGs of the register and the coverage page to e2e/testdata/screenshots
//
// Without a browser the tests skip with a message that says what to
// install. The package has no non-test code besides this comment.
package e2e
