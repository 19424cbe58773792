package web_test

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"reflect"
	"regexp"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"testing/fstest"

	"kompas/internal/platform/fault"
	"kompas/internal/platform/web"
)

// bare is a web.Server with test routes and no database.
type bare struct {
	srv   *web.Server
	hs    *httptest.Server
	posts atomic.Int64 // successful form posts
	logs  *strings.Builder
}

type thing struct {
	Name  string `json:"name" required:"true"`
	Count int    `json:"count,omitempty" doc:"how many"`
}

func newBare(t *testing.T) *bare {
	t.Helper()
	b := &bare{logs: &strings.Builder{}}
	b.srv = web.NewServer(slog.New(slog.NewTextHandler(io.Discard, nil)))
	s := b.srv
	s.API("POST /api/v1/things", web.Op{Summary: "Add a thing", Tags: []string{"things"}, Access: anyone{}, Request: thing{}, Response: thing{}, Status: http.StatusCreated},
		func(w http.ResponseWriter, r *http.Request) error {
			var in thing
			if err := web.DecodeJSON(r, &in); err != nil {
				return err
			}
			if in.Name == "" {
				return fault.Invalid(fault.FieldError{Field: "name", Message: "required"})
			}
			return web.WriteJSON(w, http.StatusCreated, in)
		})
	s.API("POST /api/v1/small", web.Op{Summary: "Small bodies only", Public: true, BodyLimit: 64, Request: thing{}}, func(w http.ResponseWriter, r *http.Request) error {
		var in thing
		if err := web.DecodeJSON(r, &in); err != nil {
			return err
		}
		w.WriteHeader(http.StatusNoContent)
		return nil
	})
	// Upload handlers that flatten the read error into a 400 of their own,
	// as a CSV parser's "could not be read: …" does.
	flatten := func(w http.ResponseWriter, r *http.Request) error {
		if _, err := io.ReadAll(r.Body); err != nil {
			return fault.Malformed("The file could not be read: " + err.Error())
		}
		w.WriteHeader(http.StatusNoContent)
		return nil
	}
	s.API("POST /api/v1/upload", web.Op{Summary: "Upload a small file", Public: true, BodyLimit: 64}, flatten)
	s.Page("POST /page/upload", web.Op{Public: true, BodyLimit: 64}, flatten)
	s.API("GET /api/v1/things/{id}", web.Op{Summary: "One thing", Public: true, Response: thing{}}, func(w http.ResponseWriter, r *http.Request) error {
		return fmt.Errorf("things: %s: %w", r.PathValue("id"), fault.ErrNotFound)
	})
	s.API("GET /api/v1/boom", web.Op{Summary: "Fails", Public: true}, func(w http.ResponseWriter, r *http.Request) error {
		return errors.New("database password is hunter2")
	})
	s.API("GET /api/v1/panic", web.Op{Summary: "Panics", Public: true}, func(w http.ResponseWriter, r *http.Request) error {
		panic("secret panic text")
	})
	s.API("GET /api/v1/private", web.Op{Summary: "Needs sign-in", Public: true}, func(w http.ResponseWriter, r *http.Request) error {
		return fault.ErrUnauthenticated
	})
	s.Page("GET /page/private", web.Op{Public: true}, func(w http.ResponseWriter, r *http.Request) error {
		return fault.ErrUnauthenticated
	})
	s.Page("POST /page/private", web.Op{Public: true}, func(w http.ResponseWriter, r *http.Request) error {
		return fault.ErrUnauthenticated
	})
	s.Page("GET /page/forbidden", web.Op{Public: true}, func(w http.ResponseWriter, r *http.Request) error {
		return fault.Forbidden("A shelter worker may not read police files.")
	})
	s.Page("GET /page/invalid", web.Op{Public: true}, func(w http.ResponseWriter, r *http.Request) error {
		return fault.Invalid(fault.FieldError{Field: "budget", Message: "must be a number"})
	})
	s.Page("GET /page/panic", web.Op{Public: true}, func(w http.ResponseWriter, r *http.Request) error {
		panic("secret panic text")
	})
	s.Page("GET /page/boom", web.Op{Public: true}, func(w http.ResponseWriter, r *http.Request) error {
		return errors.New("database password is hunter2")
	})
	s.Page("POST /page/form", web.Op{Public: true}, func(w http.ResponseWriter, r *http.Request) error {
		if err := r.ParseForm(); err != nil {
			return fault.Malformed("unreadable form")
		}
		b.posts.Add(1)
		return s.Redirect(w, r, "/page/done", "Saved.")
	})
	s.Page("GET /page/done", web.Op{Public: true}, func(w http.ResponseWriter, r *http.Request) error {
		tmpl := s.Templates(fstest.MapFS{"done.html": {Data: []byte(`{{define "content"}}<p id="data">{{.Data}}</p>{{end}}`)}})
		return tmpl.Render(w, r, http.StatusOK, "done.html", "Done", "<b>all done</b>")
	})
	b.hs = httptest.NewServer(s.Handler())
	t.Cleanup(b.hs.Close)
	return b
}

type result struct {
	status int
	header http.Header
	body   string
}

func (r result) problem(t *testing.T) web.Problem {
	t.Helper()
	if ct := r.header.Get("Content-Type"); ct != "application/problem+json" {
		t.Fatalf("Content-Type %q, want application/problem+json: %s", ct, r.body)
	}
	var p web.Problem
	if err := json.Unmarshal([]byte(r.body), &p); err != nil {
		t.Fatalf("problem %s: %v", r.body, err)
	}
	return p
}

func call(t *testing.T, base, method, path string, body io.Reader, headers map[string]string) result {
	t.Helper()
	req, err := http.NewRequest(method, base+path, body)
	if err != nil {
		t.Fatal(err)
	}
	for k, v := range headers {
		req.Header.Set(k, v)
	}
	c := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	res, err := c.Do(req)
	if err != nil {
		t.Fatalf("%s %s: %v", method, path, err)
	}
	defer res.Body.Close()
	b, _ := io.ReadAll(res.Body)
	return result{status: res.StatusCode, header: res.Header, body: string(b)}
}

func TestErrorAdapter(t *testing.T) {
	b := newBare(t)
	tests := []struct {
		name        string
		method      string
		path        string
		body        string
		wantStatus  int
		wantProblem bool
		wantTitle   string
		wantDetail  string
		wantFields  []fault.FieldError
		notInBody   string
	}{
		{name: "API 422 names the field", method: "POST", path: "/api/v1/things", body: `{}`, wantStatus: 422, wantProblem: true, wantTitle: "Invalid input",
			wantFields: []fault.FieldError{{Field: "name", Message: "required"}}},
		{name: "API 400 wrong type", method: "POST", path: "/api/v1/things", body: `{"name":1}`, wantStatus: 400, wantProblem: true, wantTitle: "Malformed input",
			wantFields: []fault.FieldError{{Field: "name", Message: "must be a string, not a number"}}},
		{name: "API 400 unknown field", method: "POST", path: "/api/v1/things", body: `{"name":"a","colour":"red"}`, wantStatus: 400, wantProblem: true,
			wantFields: []fault.FieldError{{Field: "colour", Message: "unknown field"}}},
		{name: "API 400 malformed", method: "POST", path: "/api/v1/things", body: `{"name":`, wantStatus: 400, wantProblem: true, wantDetail: "ends before"},
		{name: "API 400 trailing data", method: "POST", path: "/api/v1/things", body: `{"name":"a"}[]`, wantStatus: 400, wantProblem: true, wantDetail: "single JSON value"},
		{name: "API 201", method: "POST", path: "/api/v1/things", body: `{"name":"a"}`, wantStatus: 201},
		{name: "API 404 wrapped sentinel", method: "GET", path: "/api/v1/things/9", wantStatus: 404, wantProblem: true, wantTitle: "Not found"},
		{name: "API 401", method: "GET", path: "/api/v1/private", wantStatus: 401, wantProblem: true, wantTitle: "Sign-in required"},
		{name: "API 500 hides the cause", method: "GET", path: "/api/v1/boom", wantStatus: 500, wantProblem: true, wantTitle: "Internal error", notInBody: "hunter2"},
		{name: "API panic is a 500 problem", method: "GET", path: "/api/v1/panic", wantStatus: 500, wantProblem: true, wantTitle: "Internal error", notInBody: "secret panic text"},
		{name: "HTML 403 page", method: "GET", path: "/page/forbidden", wantStatus: 403, wantTitle: "Not allowed", wantDetail: "A shelter worker may not read police files."},
		{name: "HTML 422 page lists fields", method: "GET", path: "/page/invalid", wantStatus: 422, wantTitle: "Invalid input", wantDetail: "budget"},
		{name: "HTML 500 hides the cause", method: "GET", path: "/page/boom", wantStatus: 500, wantTitle: "Internal error", notInBody: "hunter2"},
		{name: "HTML panic is a 500 page", method: "GET", path: "/page/panic", wantStatus: 500, wantTitle: "Internal error", notInBody: "secret panic text"},
		{name: "HTML POST without sign-in is a 401 page", method: "POST", path: "/page/private", wantStatus: 401, wantTitle: "Sign-in required"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var body io.Reader
			headers := map[string]string{"X-Request-Id": "req-" + strings.ReplaceAll(tt.name, " ", "-")}
			if tt.body != "" {
				body = strings.NewReader(tt.body)
				headers["Content-Type"] = "application/json"
			}
			res := call(t, b.hs.URL, tt.method, tt.path, body, headers)
			if res.status != tt.wantStatus {
				t.Fatalf("status %d, want %d: %s", res.status, tt.wantStatus, res.body)
			}
			if tt.notInBody != "" && strings.Contains(res.body, tt.notInBody) {
				t.Errorf("the response leaks %q", tt.notInBody)
			}
			if tt.wantStatus < 400 {
				return
			}
			if tt.wantProblem {
				p := res.problem(t)
				if p.Status != tt.wantStatus || p.Title == "" || p.Instance != tt.path || p.RequestID != headers["X-Request-Id"] {
					t.Errorf("problem %+v", p)
				}
				if tt.wantTitle != "" && p.Title != tt.wantTitle {
					t.Errorf("title %q, want %q", p.Title, tt.wantTitle)
				}
				if tt.wantDetail != "" && !strings.Contains(p.Detail, tt.wantDetail) {
					t.Errorf("detail %q does not contain %q", p.Detail, tt.wantDetail)
				}
				if fmt.Sprint(p.Errors) != fmt.Sprint(tt.wantFields) {
					t.Errorf("errors %+v, want %+v", p.Errors, tt.wantFields)
				}
				if res.header.Get("Cache-Control") != "no-store" {
					t.Errorf("problem is cacheable: %q", res.header.Get("Cache-Control"))
				}
				return
			}
			if ct := res.header.Get("Content-Type"); ct != "text/html; charset=utf-8" {
				t.Errorf("Content-Type %q, want an HTML page", ct)
			}
			if !strings.Contains(res.body, "<h1>"+tt.wantTitle+"</h1>") {
				t.Errorf("page has no <h1>%s</h1>: %s", tt.wantTitle, res.body)
			}
			if tt.wantDetail != "" && !strings.Contains(res.body, tt.wantDetail) {
				t.Errorf("page does not contain %q", tt.wantDetail)
			}
			if !strings.Contains(res.body, headers["X-Request-Id"]) {
				t.Errorf("page does not show the request id")
			}
		})
	}
}

func TestUnauthenticatedPageRedirectsToLogin(t *testing.T) {
	b := newBare(t)
	tests := []struct {
		method, path string
		wantLocation string
	}{
		{"GET", "/page/private", "/login?next=%2Fpage%2Fprivate"},
		{"GET", "/page/private?tab=2&q=a+b", "/login?next=%2Fpage%2Fprivate%3Ftab%3D2%26q%3Da%2Bb"},
		{"HEAD", "/page/private", "/login?next=%2Fpage%2Fprivate"},
	}
	for _, tt := range tests {
		t.Run(tt.method+" "+tt.path, func(t *testing.T) {
			res := call(t, b.hs.URL, tt.method, tt.path, nil, nil)
			if res.status != http.StatusSeeOther {
				t.Fatalf("status %d, want 303", res.status)
			}
			if loc := res.header.Get("Location"); loc != tt.wantLocation {
				t.Errorf("Location %q, want %q", loc, tt.wantLocation)
			}
			u, _ := url.Parse(res.header.Get("Location"))
			if next := u.Query().Get("next"); !strings.HasPrefix(tt.path, next) && next != tt.path {
				t.Errorf("next=%q does not lead back to %q", next, tt.path)
			}
		})
	}
	// The API never redirects.
	if res := call(t, b.hs.URL, "GET", "/api/v1/private", nil, nil); res.status != 401 || res.header.Get("Location") != "" {
		t.Errorf("API 401 = %d, Location %q", res.status, res.header.Get("Location"))
	}
}

func TestSecurityHeadersOnEveryResponse(t *testing.T) {
	b := newBare(t)
	requests := []struct {
		method, path string
		body         string
		headers      map[string]string
	}{
		{"GET", "/healthz", "", nil},
		{"GET", "/readyz", "", nil},
		{"GET", "/api/v1/openapi.json", "", nil},
		{"GET", web.AssetURL("app.css"), "", nil},
		{"GET", "/static/nothing.css", "", nil},
		{"GET", "/no/such/page", "", nil},
		{"DELETE", "/healthz", "", nil},
		{"GET", "/page/private", "", nil},
		{"GET", "/page/done", "", nil},
		{"GET", "/api/v1/things/1", "", nil},
		{"GET", "/api/v1/panic", "", nil},
		{"GET", "/page/panic", "", nil},
		{"POST", "/api/v1/things", `{"name":"a"}`, map[string]string{"Content-Type": "application/json"}},
		{"POST", "/page/form", "a=1", map[string]string{"Content-Type": "application/x-www-form-urlencoded", "Origin": "http://evil.example", "Sec-Fetch-Site": "cross-site"}},
	}
	for _, rq := range requests {
		t.Run(rq.method+" "+rq.path, func(t *testing.T) {
			var body io.Reader
			if rq.body != "" {
				body = strings.NewReader(rq.body)
			}
			res := call(t, b.hs.URL, rq.method, rq.path, body, rq.headers)
			csp := res.header.Get("Content-Security-Policy")
			if csp == "" {
				t.Fatalf("no Content-Security-Policy (status %d)", res.status)
			}
			if strings.Contains(csp, "unsafe-inline") || strings.Contains(csp, "unsafe-eval") {
				t.Errorf("CSP allows unsafe code: %q", csp)
			}
			for _, d := range []string{"frame-ancestors 'none'", "default-src 'none'", "base-uri 'none'", "form-action 'self'"} {
				if !strings.Contains(csp, d) {
					t.Errorf("CSP %q lacks %s", csp, d)
				}
			}
			want := map[string]string{
				"X-Content-Type-Options": "nosniff",
				"Referrer-Policy":        "same-origin",
				"X-Frame-Options":        "DENY",
			}
			for k, v := range want {
				if got := res.header.Get(k); got != v {
					t.Errorf("%s = %q, want %q", k, got, v)
				}
			}
			if !regexp.MustCompile(`^[0-9a-f]{16}$`).MatchString(res.header.Get("X-Request-Id")) {
				t.Errorf("X-Request-Id = %q", res.header.Get("X-Request-Id"))
			}
			if res.header.Get("Strict-Transport-Security") != "" {
				t.Error("HSTS over plain HTTP without Secure")
			}
		})
	}
}

func TestRequestID(t *testing.T) {
	b := newBare(t)
	tests := []struct {
		name, sent string
		kept       bool
	}{
		{"generated", "", false},
		{"kept", "abc-123", true},
		{"every allowed character kept", "Az09._-", true},
		{"64 characters kept", strings.Repeat("x", 64), true},
		{"too long is replaced", strings.Repeat("x", 65), false},
		{"markup is replaced", "<script>abc", false},
		{"quote is replaced", `abc"def`, false},
		{"space is replaced", "abc def", false},
		{"non-ASCII is replaced", "abç", false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h := map[string]string{}
			if tt.sent != "" {
				h["X-Request-Id"] = tt.sent
			}
			res := call(t, b.hs.URL, "GET", "/healthz", nil, h)
			got := res.header.Get("X-Request-Id")
			if (got == tt.sent) != tt.kept || got == "" {
				t.Errorf("X-Request-Id = %q (sent %q)", got, tt.sent)
			}
			if !tt.kept && !regexp.MustCompile(`^[0-9a-f]{16}$`).MatchString(got) {
				t.Errorf("replacement X-Request-Id = %q, want a generated one", got)
			}
			// The problem JSON carries the same id, never the one sent.
			p := call(t, b.hs.URL, "GET", "/api/v1/things/7", nil, h).problem(t)
			if (p.RequestID == tt.sent) != tt.kept || p.RequestID == "" {
				t.Errorf("problem request_id = %q (sent %q)", p.RequestID, tt.sent)
			}
		})
	}
}

func TestBodyTooLarge(t *testing.T) {
	b := newBare(t)
	tests := []struct {
		name, path string
		size       int
		wantStatus int
		wantLimit  string // the limit as the answer words it
	}{
		{"default limit", "/api/v1/things", web.DefaultBodyLimit + 1024, 413, "larger than 1 MiB"},
		{"under the default limit", "/api/v1/things", web.DefaultBodyLimit - 1024, 201, ""},
		{"route limit", "/api/v1/small", 100, 413, "larger than 64 bytes"},
		{"under the route limit", "/api/v1/small", 40, 204, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			pad := tt.size - len(`{"name":""}`)
			body := `{"name":"` + strings.Repeat("a", pad) + `"}`
			res := call(t, b.hs.URL, "POST", tt.path, strings.NewReader(body), map[string]string{"Content-Type": "application/json"})
			if res.status != tt.wantStatus {
				t.Fatalf("status %d, want %d: %.200s", res.status, tt.wantStatus, res.body)
			}
			if tt.wantStatus == 413 {
				if p := res.problem(t); p.Status != 413 || !strings.Contains(p.Detail, tt.wantLimit) {
					t.Errorf("problem %+v", p)
				}
			}
		})
	}
}

// TestOverLimitIsA413 posts bodies over the limit to routes whose handlers
// turn the read error into a 400 of their own: the adapter answers 413,
// naming the limit in words, as problem JSON or as the error page.
func TestOverLimitIsA413(t *testing.T) {
	b := newBare(t)
	form := strings.Repeat("a", web.DefaultBodyLimit+1)
	tests := []struct {
		name, path, contentType, body string
		wantStatus                    int
		wantProblem                   bool
		wantText                      string
	}{
		{"API upload", "/api/v1/upload", "text/csv", strings.Repeat("x", 65), 413, true, "The file is larger than 64 bytes, the most this import takes."},
		{"API upload at the limit", "/api/v1/upload", "text/csv", strings.Repeat("x", 64), 204, false, ""},
		{"page upload", "/page/upload", "text/csv", strings.Repeat("x", 65), 413, false, "The file is larger than 64 bytes, the most this import takes."},
		{"page upload at the limit", "/page/upload", "text/csv", strings.Repeat("x", 64), 204, false, ""},
		{"form post over the default limit", "/page/form", "application/x-www-form-urlencoded", "name=" + form, 413, false, "The request is larger than 1 MiB, the most this address takes."},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			res := call(t, b.hs.URL, "POST", tt.path, strings.NewReader(tt.body), map[string]string{"Content-Type": tt.contentType})
			if res.status != tt.wantStatus {
				t.Fatalf("status %d, want %d: %.300s", res.status, tt.wantStatus, res.body)
			}
			if tt.wantStatus != 413 {
				return
			}
			if tt.wantProblem {
				p := res.problem(t)
				if p.Detail != tt.wantText || len(p.Errors) != 1 || p.Errors[0].Field != "file" {
					t.Errorf("problem %+v, want %q naming file", p, tt.wantText)
				}
				return
			}
			if ct := res.header.Get("Content-Type"); !strings.HasPrefix(ct, "text/html") || !strings.Contains(res.body, tt.wantText) {
				t.Errorf("page (%s) does not say %q: %.500s", ct, tt.wantText, res.body)
			}
		})
	}
	if n := b.posts.Load(); n != 0 {
		t.Errorf("%d over-limit form posts were taken", n)
	}
}

func TestCrossOriginFormPostRefused(t *testing.T) {
	b := newBare(t)
	form := map[string]string{"Content-Type": "application/x-www-form-urlencoded"}
	with := func(extra map[string]string) map[string]string {
		h := map[string]string{}
		for k, v := range form {
			h[k] = v
		}
		for k, v := range extra {
			h[k] = v
		}
		return h
	}
	tests := []struct {
		name       string
		headers    map[string]string
		wantStatus int
	}{
		{"cross-site", with(map[string]string{"Origin": "http://evil.example", "Sec-Fetch-Site": "cross-site"}), 403},
		{"cross-site, Origin only", with(map[string]string{"Origin": "http://evil.example"}), 403},
		{"same-site other origin", with(map[string]string{"Origin": "http://sub.example", "Sec-Fetch-Site": "same-site"}), 403},
		{"same origin", with(map[string]string{"Origin": b.hs.URL, "Sec-Fetch-Site": "same-origin"}), 303},
		{"no browser headers (curl)", with(nil), 303},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			before := b.posts.Load()
			res := call(t, b.hs.URL, "POST", "/page/form", strings.NewReader("x=1"), tt.headers)
			if res.status != tt.wantStatus {
				t.Fatalf("status %d, want %d", res.status, tt.wantStatus)
			}
			changed := b.posts.Load() != before
			if changed != (tt.wantStatus < 400) {
				t.Errorf("handler ran = %v, want %v", changed, tt.wantStatus < 400)
			}
			if tt.wantStatus == 403 && !strings.Contains(res.body, "Cross-origin") {
				t.Errorf("403 page does not explain: %s", res.body)
			}
		})
	}
	// The API is refused the same way, as problem JSON.
	res := call(t, b.hs.URL, "POST", "/api/v1/things", strings.NewReader(`{"name":"a"}`),
		map[string]string{"Content-Type": "application/json", "Origin": "http://evil.example", "Sec-Fetch-Site": "cross-site"})
	if p := res.problem(t); p.Status != 403 {
		t.Errorf("cross-site API POST = %+v", p)
	}
	// Safe methods pass.
	if res := call(t, b.hs.URL, "GET", "/healthz", nil, map[string]string{"Origin": "http://evil.example", "Sec-Fetch-Site": "cross-site"}); res.status != 200 {
		t.Errorf("cross-site GET = %d", res.status)
	}
}

func TestStaticFiles(t *testing.T) {
	b := newBare(t)
	hashed := web.AssetURL("app.css")
	m := regexp.MustCompile(`^/static/app\.([0-9a-f]{12})\.css$`).FindStringSubmatch(hashed)
	if m == nil {
		t.Fatalf("AssetURL(app.css) = %q, want a content-hashed name", hashed)
	}
	res := call(t, b.hs.URL, "GET", hashed, nil, nil)
	if res.status != 200 {
		t.Fatalf("GET %s = %d", hashed, res.status)
	}
	sum := sha256.Sum256([]byte(res.body))
	if got := hex.EncodeToString(sum[:])[:12]; got != m[1] {
		t.Errorf("URL hash %s does not match the content's %s", m[1], got)
	}
	if cc := res.header.Get("Cache-Control"); !strings.Contains(cc, "immutable") || !strings.Contains(cc, "max-age=31536000") {
		t.Errorf("Cache-Control %q, want a year, immutable", cc)
	}
	if ct := res.header.Get("Content-Type"); !strings.HasPrefix(ct, "text/css") {
		t.Errorf("Content-Type %q", ct)
	}
	tests := []struct {
		path       string
		wantStatus int
		immutable  bool
	}{
		{"/static/app.css", 200, false},
		{"/static/app.000000000000.css", 404, false},
		{"/static/nothing.css", 404, false},
		{"/static/", 404, false},
		{"/static/templates/layout.html", 404, false},
		{"/static/..%2fserver.go", 404, false},
	}
	for _, tt := range tests {
		t.Run(tt.path, func(t *testing.T) {
			res := call(t, b.hs.URL, "GET", tt.path, nil, nil)
			if res.status != tt.wantStatus {
				t.Errorf("status %d, want %d", res.status, tt.wantStatus)
			}
			if got := strings.Contains(res.header.Get("Cache-Control"), "immutable"); got != tt.immutable {
				t.Errorf("immutable = %v, want %v", got, tt.immutable)
			}
			if tt.wantStatus == 200 && res.body == "" {
				t.Error("empty body")
			}
		})
	}
	if got := web.AssetURL("no-such.js"); got != "/static/no-such.js" {
		t.Errorf("AssetURL of an unknown file = %q", got)
	}
	// Pages link the hashed name.
	page := call(t, b.hs.URL, "GET", "/page/done", nil, nil)
	if !strings.Contains(page.body, `href="`+hashed+`"`) {
		t.Errorf("layout does not link %s", hashed)
	}
}

func TestHealthAndReadiness(t *testing.T) {
	var fail atomic.Bool
	srv := web.NewServer(slog.New(slog.NewTextHandler(io.Discard, nil)))
	srv.Ready = func(ctx context.Context) error {
		if fail.Load() {
			return errors.New("connection refused")
		}
		return nil
	}
	hs := httptest.NewServer(srv.Handler())
	defer hs.Close()
	tests := []struct {
		name       string
		path       string
		dbDown     bool
		wantStatus int
		wantBody   string
	}{
		{"healthz", "/healthz", false, 200, "ok\n"},
		{"readyz", "/readyz", false, 200, "ready\n"},
		{"healthz with the database down", "/healthz", true, 200, "ok\n"},
		{"readyz with the database down", "/readyz", true, 503, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			fail.Store(tt.dbDown)
			res := call(t, hs.URL, "GET", tt.path, nil, nil)
			if res.status != tt.wantStatus {
				t.Errorf("status %d, want %d", res.status, tt.wantStatus)
			}
			if tt.wantBody != "" && res.body != tt.wantBody {
				t.Errorf("body %q, want %q", res.body, tt.wantBody)
			}
			if strings.Contains(res.body, "connection refused") {
				t.Error("readiness failure leaks its cause")
			}
		})
	}
}

func TestOpenAPIDocument(t *testing.T) {
	b := newBare(t)
	res := call(t, b.hs.URL, "GET", "/api/v1/openapi.json", nil, nil)
	if res.status != 200 || !strings.HasPrefix(res.header.Get("Content-Type"), "application/json") {
		t.Fatalf("openapi.json: %d %q", res.status, res.header.Get("Content-Type"))
	}
	if !json.Valid([]byte(res.body)) {
		t.Fatal("openapi.json is not valid JSON")
	}
	var doc struct {
		OpenAPI string `json:"openapi"`
		Info    struct {
			Title, Version string
		}
		Paths      map[string]map[string]map[string]any `json:"paths"`
		Components struct {
			Schemas         map[string]map[string]any `json:"schemas"`
			Responses       map[string]any            `json:"responses"`
			SecuritySchemes map[string]any            `json:"securitySchemes"`
		}
	}
	if err := json.Unmarshal([]byte(res.body), &doc); err != nil {
		t.Fatal(err)
	}
	if doc.OpenAPI != "3.1.0" {
		t.Errorf("openapi %q, want 3.1.0", doc.OpenAPI)
	}
	if doc.Info.Title == "" || doc.Info.Version == "" {
		t.Errorf("info %+v", doc.Info)
	}
	for _, want := range []string{"POST /api/v1/things", "GET /api/v1/things/{id}", "GET /healthz", "GET /readyz", "GET /api/v1/openapi.json"} {
		method, path, _ := strings.Cut(want, " ")
		if doc.Paths[path][strings.ToLower(method)] == nil {
			t.Errorf("%s is not documented", want)
		}
	}
	post := doc.Paths["/api/v1/things"]["post"]
	responses, _ := post["responses"].(map[string]any)
	for _, code := range []string{"201", "400", "401", "403", "413", "422", "4XX", "5XX"} {
		if responses[code] == nil {
			t.Errorf("POST /api/v1/things lacks response %s", code)
		}
	}
	if post["security"] == nil {
		t.Error("a non-public operation has no security")
	}
	get := doc.Paths["/api/v1/things/{id}"]["get"]
	if sec, ok := get["security"].([]any); !ok || len(sec) != 0 {
		t.Errorf("a public operation should declare no security ([]), has %v", get["security"])
	}
	if params, _ := get["parameters"].([]any); len(params) != 1 {
		t.Errorf("GET /api/v1/things/{id} parameters %v", get["parameters"])
	}
	schema := doc.Components.Schemas["thing"]
	if schema == nil {
		t.Fatalf("no schema for thing: %v", doc.Components.Schemas)
	}
	if req, _ := schema["required"].([]any); len(req) != 1 || req[0] != "name" {
		t.Errorf("thing required = %v, want [name]", schema["required"])
	}
	props, _ := schema["properties"].(map[string]any)
	if c, _ := props["count"].(map[string]any); c["type"] != "integer" || c["description"] != "how many" {
		t.Errorf("thing.count = %v", props["count"])
	}
	if doc.Components.Schemas["Problem"] == nil || doc.Components.Responses["Problem"] == nil || doc.Components.SecuritySchemes["bearer"] == nil {
		t.Error("components lack Problem or the bearer scheme")
	}
	ids := map[string]bool{}
	for path, ops := range doc.Paths {
		for method, op := range ops {
			id, _ := op["operationId"].(string)
			if id == "" || ids[id] {
				t.Errorf("%s %s: operationId %q empty or repeated", method, path, id)
			}
			ids[id] = true
		}
	}
}

func TestTemplatesAndFlash(t *testing.T) {
	b := newBare(t)
	b.srv.AddNav(
		web.NavItem{Label: "Everyone", Path: "/page/done", Order: 2},
		web.NavItem{Label: "Admins only", Path: "/admin", Roles: []string{"admin"}, Order: 1},
	)
	role := ""
	b.srv.Viewer = func(r *http.Request) *web.Viewer {
		if role == "" {
			return nil
		}
		return &web.Viewer{Name: "Pat", Role: role, RoleLabel: "Role " + role, OrgName: "Org"}
	}
	// Post, follow the redirect with the flash cookie, see the message once.
	res := call(t, b.hs.URL, "POST", "/page/form", strings.NewReader("x=1"), map[string]string{"Content-Type": "application/x-www-form-urlencoded"})
	if res.status != http.StatusSeeOther || res.header.Get("Location") != "/page/done" {
		t.Fatalf("post = %d → %q", res.status, res.header.Get("Location"))
	}
	var flash *http.Cookie
	for _, c := range (&http.Response{Header: res.header}).Cookies() {
		if c.Name == "kompas_flash" {
			flash = c
		}
	}
	if flash == nil || !flash.HttpOnly || flash.SameSite != http.SameSiteLaxMode {
		t.Fatalf("flash cookie %+v", flash)
	}
	tests := []struct {
		name       string
		role       string
		cookie     bool
		want, not  []string
		wantStatus int
	}{
		{"anonymous with flash", "", true, []string{`<div class="flash" role="status">Saved.</div>`, "<title>Done – Kompas</title>", "&lt;b&gt;all done&lt;/b&gt;"}, []string{"<b>all done</b>", "Sign out", "Everyone"}, 200},
		{"user sees common nav", "analyst", false, []string{"Pat · Role analyst · Org", `<a href="/page/done" aria-current="page">Everyone</a>`}, []string{"Admins only", "Saved."}, 200},
		{"admin sees admin nav, in order", "admin", false, []string{`<li><a href="/admin">Admins only</a></li><li><a href="/page/done" aria-current="page">Everyone</a></li>`}, nil, 200},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			role = tt.role
			h := map[string]string{}
			if tt.cookie {
				h["Cookie"] = flash.Name + "=" + flash.Value
			}
			page := call(t, b.hs.URL, "GET", "/page/done", nil, h)
			if page.status != tt.wantStatus {
				t.Fatalf("status %d", page.status)
			}
			for _, s := range tt.want {
				if !strings.Contains(page.body, s) {
					t.Errorf("page lacks %s", s)
				}
			}
			for _, s := range tt.not {
				if strings.Contains(page.body, s) {
					t.Errorf("page has %s", s)
				}
			}
			if tt.cookie && !strings.Contains(strings.Join(page.header.Values("Set-Cookie"), ";"), "kompas_flash=;") {
				t.Errorf("the flash is not cleared after showing: %v", page.header.Values("Set-Cookie"))
			}
		})
	}
}

func TestForm(t *testing.T) {
	f := &web.Form{
		Values: url.Values{"name": {"A"}, "tags": {"x", "y"}},
		Errors: []fault.FieldError{{Field: "partners[1].role", Message: "unknown role"}, {Field: "name", Message: "too short"}},
	}
	tests := []struct {
		name string
		got  any
		want any
	}{
		{"Get", f.Get("name"), "A"},
		{"Get missing", f.Get("nope"), ""},
		{"Has", f.Has("tags", "y"), true},
		{"Has not", f.Has("tags", "z"), false},
		{"Error", f.Error("name"), "too short"},
		{"Error nested", f.Error("partners"), "unknown role"},
		{"Error none", f.Error("tags"), ""},
		{"nil Get", (*web.Form)(nil).Get("x"), ""},
		{"nil Has", (*web.Form)(nil).Has("x", "y"), false},
		{"nil Error", (*web.Form)(nil).Error("x"), ""},
		{"FieldID plain", web.FieldID("name"), "f-name"},
		{"FieldID nested", web.FieldID("partners[1].role"), "f-partners"},
		{"FieldID dotted", web.FieldID("budget.amount"), "f-budget"},
		{"FieldID odd", web.FieldID(`a b"<`), "f-a-b--"},
		{"At", f.At("tags", 1), "y"},
		{"At past the end", f.At("tags", 2), ""},
		{"At negative", f.At("tags", -1), ""},
		{"OwnError", f.OwnError("name"), "too short"},
		{"OwnError not a part's", f.OwnError("partners"), ""},
		{"OwnError nested", f.OwnError("partners[1].role"), "unknown role"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if tt.got != tt.want {
				t.Errorf("got %v, want %v", tt.got, tt.want)
			}
		})
	}
}

// TestFieldNames: the error summary names each field by its label with
// the row numbers counted from 1, and links to its input; a path nobody
// named is put into words.
func TestFieldNames(t *testing.T) {
	names := web.FieldNames{
		"kind":                   {Label: "Kind of initiative", ID: "f-kind"},
		"countries[]":            {Label: "Country %d", ID: "f-countries"},
		"partners":               {Label: "Partners", ID: "f-partners"},
		"partners[]":             {Label: "Partner %d", ID: "f-partners-%d-org"},
		"partners[].role":        {Label: "Partner %d: role", ID: "f-partners-%d-role"},
		"grouping[].objectives":  {Label: "Section %d: objectives", ID: "f-grouping-%d-objectives"},
		"grid[][]":               {Label: "Cell %d, %d", ID: "f-cell-%d-%d"},
		"budget.amount":          {Label: "Budget: amount", ID: "f-budget-amount"},
		"scores.housing":         {Label: "Housing", ID: "f-score_housing"},
		"migrants[].nationality": {Label: "Person %d: nationality", ID: "f-m%d_nationality"},
	}
	tests := []struct {
		path, label, id string
	}{
		{"kind", "Kind of initiative", "f-kind"},
		{"countries[1]", "Country 2", "f-countries"},
		{"partners[0].role", "Partner 1: role", "f-partners-1-role"},
		{"partners[2].org", "Partner 3", "f-partners-3-org"}, // no entry: the row's
		{"partners[4]", "Partner 5", "f-partners-5-org"},
		{"partners", "Partners", "f-partners"},
		{"grouping[1].objectives[3]", "Section 2: objectives", "f-grouping-2-objectives"},
		{"grid[2][0]", "Cell 3, 1", "f-cell-3-1"},
		{"budget.amount", "Budget: amount", "f-budget-amount"},
		{"scores.housing", "Housing", "f-score_housing"},
		{"migrants[0].nationality", "Person 1: nationality", "f-m1_nationality"},
		// Nobody named these: words, and the id the field partial gives.
		{"country_of_return", "Country of return", "f-country_of_return"},
		{"support[1].amount", "Support 2 amount", "f-support"},
		{"line 3: countries[0]", "line 3: countries[0]", "f-line-3--countries"},
		{"items[x]", "items[x]", "f-items"},
		{"", "", "f-"},
	}
	for _, tt := range tests {
		t.Run(tt.path, func(t *testing.T) {
			if got := names.Name(tt.path); got.Label != tt.label || got.ID != tt.id {
				t.Errorf("Name(%q) = %+v, want %q, %q", tt.path, got, tt.label, tt.id)
			}
		})
	}
	f := &web.Form{Names: names, Errors: []fault.FieldError{{Field: "countries[1]", Message: `"XX" is not a country`}, {Field: "title", Message: "is required"}}}
	want := []web.SummaryItem{{Label: "Country 2", Message: `"XX" is not a country`, ID: "f-countries"}, {Label: "Title", Message: "is required", ID: "f-title"}}
	if got := f.Summary(); !reflect.DeepEqual(got, want) {
		t.Errorf("Summary() = %+v, want %+v", got, want)
	}
	if (*web.Form)(nil).Summary() != nil {
		t.Error("a nil form has a summary")
	}
}

func TestRoutes(t *testing.T) {
	b := newBare(t)
	var got []string
	for _, r := range b.srv.Routes() {
		got = append(got, r.Method+" "+r.Path)
	}
	for _, want := range []string{"POST /api/v1/things", "GET /healthz", "GET /api/v1/openapi.json"} {
		found := false
		for _, g := range got {
			found = found || g == want
		}
		if !found {
			t.Errorf("Routes() lacks %s: %v", want, got)
		}
	}
	defer func() {
		if recover() == nil {
			t.Error("an API pattern without a method was accepted")
		}
	}()
	b.srv.API("/api/v1/nomethod", web.Op{}, func(http.ResponseWriter, *http.Request) error { return nil })
}

// anyone is an Access that admits every request, for routes whose access
// these tests do not look at.
type anyone struct{}

func (anyone) Admit(context.Context) error { return nil }
func (anyone) Describe() string            { return "anyone at all" }

// onlyHeader admits a request that carries X-Test-Role: allowed, and says
// who is missing otherwise, as auth.Rule does.
type onlyHeader struct{}

type roleKey struct{}

func (onlyHeader) Admit(ctx context.Context) error {
	switch ctx.Value(roleKey{}) {
	case nil, "":
		return fault.ErrUnauthenticated
	case "allowed":
		return nil
	}
	return fault.Forbidden("That role may not.")
}
func (onlyHeader) Describe() string { return "callers with the allowed role" }

// TestAccessIsEnforcedBeforeTheHandler: the adapter answers 401 and 403
// from the route's declared access, and the handler never runs for them.
func TestAccessIsEnforcedBeforeTheHandler(t *testing.T) {
	srv := web.NewServer(slog.New(slog.NewTextHandler(io.Discard, nil)))
	var ran atomic.Int32
	h := func(w http.ResponseWriter, r *http.Request) error {
		ran.Add(1)
		w.WriteHeader(http.StatusNoContent)
		return nil
	}
	srv.API("GET /api/v1/guarded", web.Op{Summary: "Guarded", Access: onlyHeader{}}, h)
	srv.Page("GET /guarded", web.Op{Access: onlyHeader{}}, h)
	withRole := func(next http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			next.ServeHTTP(w, r.WithContext(context.WithValue(r.Context(), roleKey{}, r.Header.Get("X-Test-Role"))))
		})
	}
	srv.Authenticate = withRole
	for _, tc := range []struct {
		path, role string
		status     int
		ran        bool
	}{
		{"/api/v1/guarded", "", http.StatusUnauthorized, false},
		{"/api/v1/guarded", "other", http.StatusForbidden, false},
		{"/api/v1/guarded", "allowed", http.StatusNoContent, true},
		{"/guarded", "", http.StatusSeeOther, false}, // to the sign-in page
		{"/guarded", "other", http.StatusForbidden, false},
		{"/guarded", "allowed", http.StatusNoContent, true},
	} {
		ran.Store(0)
		req := httptest.NewRequest(http.MethodGet, tc.path, nil)
		req.Header.Set("X-Test-Role", tc.role)
		rec := httptest.NewRecorder()
		srv.Handler().ServeHTTP(rec, req)
		if rec.Code != tc.status {
			t.Errorf("%s as %q: status %d, want %d", tc.path, tc.role, rec.Code, tc.status)
		}
		if got := ran.Load() > 0; got != tc.ran {
			t.Errorf("%s as %q: handler ran = %v, want %v", tc.path, tc.role, got, tc.ran)
		}
	}
}

// TestRouteWithoutAccessIsRefused: a route that declares neither Public nor
// an Access rule cannot be registered, so none can be added by mistake.
func TestRouteWithoutAccessIsRefused(t *testing.T) {
	for _, tc := range []struct {
		name string
		add  func(s *web.Server)
	}{
		{"api without access", func(s *web.Server) { s.API("GET /api/v1/x", web.Op{Summary: "x"}, nil) }},
		{"page without access", func(s *web.Server) { s.Page("GET /x", web.Op{}, nil) }},
		{"both public and access", func(s *web.Server) { s.Page("GET /y", web.Op{Public: true, Access: anyone{}}, nil) }},
	} {
		t.Run(tc.name, func(t *testing.T) {
			defer func() {
				if recover() == nil {
					t.Error("the route was registered")
				}
			}()
			tc.add(web.NewServer(slog.New(slog.NewTextHandler(io.Discard, nil))))
		})
	}
}

// TestPersonalRefusalsReported: a route declared Personal reports its 403s
// and 404s (returned as errors or written by the handler) to OnRefusal with
// the id asked for; other answers and other routes are not reported.
func TestPersonalRefusalsReported(t *testing.T) {
	s := web.NewServer(slog.New(slog.NewTextHandler(io.Discard, nil)))
	var mu sync.Mutex
	var got []web.Refusal
	s.OnRefusal = func(r *http.Request, ref web.Refusal) {
		mu.Lock()
		defer mu.Unlock()
		got = append(got, ref)
	}
	answer := func(w http.ResponseWriter, r *http.Request) error {
		switch r.PathValue("id") {
		case "1":
			return fault.NotFound("Case")
		case "2":
			return fault.Forbidden("no")
		case "3":
			http.Error(w, "gone", http.StatusNotFound) // written, not returned
			return nil
		case "4":
			return fault.Invalid(fault.FieldError{Field: "x", Message: "y"})
		}
		w.WriteHeader(http.StatusOK)
		return nil
	}
	pd := web.Personal{ObjectType: "return_case", IDParam: "id"}
	s.Page("GET /cases/{id}", web.Op{Public: true, Personal: pd}, answer)
	s.API("GET /api/v1/cases/{id}", web.Op{Summary: "A case", Public: true, Personal: pd}, answer)
	s.Page("GET /other/{id}", web.Op{Public: true}, answer)
	hs := httptest.NewServer(s.Handler())
	t.Cleanup(hs.Close)
	tests := []struct {
		path   string
		status int
		want   *web.Refusal
	}{
		{"/cases/1", 404, &web.Refusal{ObjectType: "return_case", ObjectID: "1", Status: 404}},
		{"/cases/2", 403, &web.Refusal{ObjectType: "return_case", ObjectID: "2", Status: 403}},
		{"/cases/3", 404, &web.Refusal{ObjectType: "return_case", ObjectID: "3", Status: 404}},
		{"/cases/4", 422, nil},
		{"/cases/5", 200, nil},
		{"/api/v1/cases/1", 404, &web.Refusal{ObjectType: "return_case", ObjectID: "1", Status: 404}},
		{"/api/v1/cases/2", 403, &web.Refusal{ObjectType: "return_case", ObjectID: "2", Status: 403}},
		{"/api/v1/cases/5", 200, nil},
		{"/other/1", 404, nil},
		{"/nowhere", 404, nil},
	}
	for _, tt := range tests {
		t.Run(tt.path, func(t *testing.T) {
			mu.Lock()
			got = nil
			mu.Unlock()
			res := call(t, hs.URL, "GET", tt.path, nil, nil)
			if res.status != tt.status {
				t.Fatalf("status %d, want %d", res.status, tt.status)
			}
			mu.Lock()
			defer mu.Unlock()
			switch {
			case tt.want == nil && len(got) != 0:
				t.Errorf("reported %+v", got)
			case tt.want != nil && (len(got) != 1 || got[0] != *tt.want):
				t.Errorf("reported %+v, want %+v", got, *tt.want)
			}
		})
	}
	op := s.OpenAPI()["paths"].(map[string]map[string]any)["/api/v1/cases/{id}"]["get"].(map[string]any)
	if op["x-personal-data"] != "return_case" || !strings.Contains(op["description"].(string), "refused read") {
		t.Errorf("OpenAPI operation %+v does not say it is personal data", op)
	}
}
