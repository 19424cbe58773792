// Package apptest runs the whole Kompas server for tests: a fresh database
// on the chosen engine with the demo data loaded, served by httptest on
// 127.0.0.1, and helpers to sign in as any demo account and call the API.
package apptest

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"net/http/cookiejar"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"

	"kompas/internal/app"
	"kompas/internal/demo"
	"kompas/internal/gcm"
	"kompas/internal/platform/store"
	"kompas/internal/platform/store/storetest"
	"kompas/internal/platform/web"
)

// Password is the demo accounts' password in tests.
const Password = "test-password-123"

// Env is a running server on a fresh database.
type Env struct {
	T      testing.TB
	DB     *store.DB
	GCM    *gcm.Catalogue // the frameworks, as a module is given them
	Server *web.Server
	HTTP   *httptest.Server
	URL    string

	mu     sync.Mutex
	tokens map[string]string
}

// New starts Kompas on a fresh database of engine ("sqlite" or "postgres";
// the latter skips without KOMPAS_TEST_POSTGRES) with the demo loaded.
func New(t testing.TB, engine string) *Env {
	t.Helper()
	return NewWith(t, engine, func(*store.DB) app.Options { return app.Options{} })
}

// NewWithOptions is New with the server's options (an IATI size limit a
// test can go over, say).
func NewWithOptions(t testing.TB, engine string, opts app.Options) *Env {
	t.Helper()
	return NewWith(t, engine, func(*store.DB) app.Options { return opts })
}

// NewWith is New with the server options opts returns for the database.
func NewWith(t testing.TB, engine string, opts func(db *store.DB) app.Options) *Env {
	t.Helper()
	db := storetest.Open(t, engine)
	ctx := context.Background()
	if _, err := app.Migrate(ctx, db); err != nil {
		t.Fatalf("migrate: %v", err)
	}
	if _, err := demo.Load(ctx, db, Password); err != nil {
		t.Fatalf("demo: %v", err)
	}
	log := slog.New(slog.NewTextHandler(io.Discard, nil))
	srv, err := app.NewServer(ctx, db, log, opts(db))
	if err != nil {
		t.Fatalf("server: %v", err)
	}
	cat, err := gcm.Load(ctx, db)
	if err != nil {
		t.Fatalf("catalogue: %v", err)
	}
	hs := httptest.NewServer(srv.Handler())
	t.Cleanup(hs.Close)
	return &Env{T: t, DB: db, GCM: cat, Server: srv, HTTP: hs, URL: hs.URL, tokens: map[string]string{}}
}

// Each runs fn on a fresh Env per engine.
func Each(t *testing.T, fn func(t *testing.T, e *Env)) {
	for _, engine := range storetest.Engines {
		t.Run(engine, func(t *testing.T) { fn(t, New(t, engine)) })
	}
}

// Token signs in as email through the API (once per Env) and returns the
// bearer token.
func (e *Env) Token(email string) string {
	e.T.Helper()
	e.mu.Lock()
	defer e.mu.Unlock()
	if tok, ok := e.tokens[email]; ok {
		return tok
	}
	res := e.Do("POST", "/api/v1/auth/login", "", map[string]string{"email": email, "password": Password})
	if res.Status != http.StatusOK {
		e.T.Fatalf("login %s: %d %s", email, res.Status, res.Body)
	}
	var out struct{ Token string }
	res.JSON(&out)
	e.tokens[email] = out.Token
	return out.Token
}

// Response is a finished request.
type Response struct {
	T      testing.TB
	Status int
	Header http.Header
	Body   []byte
}

// JSON decodes the body into v, failing the test if it cannot.
func (r *Response) JSON(v any) {
	r.T.Helper()
	if err := json.Unmarshal(r.Body, v); err != nil {
		r.T.Fatalf("decode %s: %v", r.Body, err)
	}
}

// Problem decodes an RFC 9457 body.
func (r *Response) Problem() web.Problem {
	r.T.Helper()
	if ct := r.Header.Get("Content-Type"); !strings.HasPrefix(ct, "application/problem+json") {
		r.T.Fatalf("want problem+json, got %q: %s", ct, r.Body)
	}
	var p web.Problem
	r.JSON(&p)
	return p
}

// Do calls the server as the holder of token ("" for nobody). body may be
// nil, a []byte or string sent as is (JSON content type), or any value
// marshalled to JSON.
func (e *Env) Do(method, path, token string, body any) *Response {
	e.T.Helper()
	return e.DoHeaders(method, path, token, body, nil)
}

// DoHeaders is Do with extra request headers.
func (e *Env) DoHeaders(method, path, token string, body any, headers map[string]string) *Response {
	e.T.Helper()
	var rd io.Reader
	switch b := body.(type) {
	case nil:
	case []byte:
		rd = bytes.NewReader(b)
	case string:
		rd = strings.NewReader(b)
	default:
		buf, err := json.Marshal(b)
		if err != nil {
			e.T.Fatal(err)
		}
		rd = bytes.NewReader(buf)
	}
	req, err := http.NewRequest(method, e.URL+path, rd)
	if err != nil {
		e.T.Fatal(err)
	}
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	for k, v := range headers {
		req.Header.Set(k, v)
	}
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		e.T.Fatalf("%s %s: %v", method, path, err)
	}
	defer res.Body.Close()
	b, _ := io.ReadAll(res.Body)
	return &Response{T: e.T, Status: res.StatusCode, Header: res.Header, Body: b}
}

// Browser returns an HTTP client with a cookie jar that does not follow
// redirects, signed in as email through the HTML form ("" for nobody).
func (e *Env) Browser(email string) *http.Client {
	e.T.Helper()
	jar, _ := cookiejar.New(nil)
	c := &http.Client{Jar: jar, CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	if email == "" {
		return c
	}
	res, err := c.PostForm(e.URL+"/login", map[string][]string{"email": {email}, "password": {Password}})
	if err != nil {
		e.T.Fatal(err)
	}
	res.Body.Close()
	if res.StatusCode != http.StatusSeeOther {
		e.T.Fatalf("form login %s: status %d", email, res.StatusCode)
	}
	return c
}

// Count returns SELECT COUNT(*) FROM table.
func (e *Env) Count(table string) int {
	e.T.Helper()
	var n int
	if err := e.DB.QueryRow(context.Background(), `SELECT COUNT(*) FROM `+table).Scan(&n); err != nil {
		e.T.Fatalf("count %s: %v", table, err)
	}
	return n
}
