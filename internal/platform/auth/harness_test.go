package auth_test

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"net/http/cookiejar"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"kompas/internal/platform/audit"
	"kompas/internal/platform/auth"
	"kompas/internal/platform/store"
	"kompas/internal/platform/store/storetest"
	"kompas/internal/platform/testclock"
	"kompas/internal/platform/web"
)

const password = "correct-horse-battery"

// kernel is the kernel alone (audit + auth on a web server) on a fresh
// database, with a few accounts. Its sign-in clock stands still until a test
// moves it, and it counts the password checks.
type kernel struct {
	t      *testing.T
	db     *store.DB
	svc    *auth.Service
	srv    *web.Server
	hs     *httptest.Server
	clock  *testclock.Clock
	checks *atomic.Int64
}

var accounts = []auth.NewUser{
	{Email: "policy@mfa.example", Name: "Pieter Policy", OrgSlug: "mfa", Role: auth.RolePolicyOfficer},
	{Email: "admin@mfa.example", Name: "Anne Admin", OrgSlug: "mfa", Role: auth.RoleAdmin},
	{Email: "counsellor@ngo-one.example", Name: "Noor Counsellor", OrgSlug: "ngo-one", Role: auth.RoleCounsellor},
}

// eachKernel runs fn on a fresh kernel per engine.
func eachKernel(t *testing.T, fn func(t *testing.T, k *kernel)) {
	t.Helper()
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		fn(t, newKernel(t, db, nil))
	}, audit.Migrations, auth.Migrations)
}

// newKernel builds the server; start, when not nil, starts it (TLS tests
// use httptest.NewTLSServer); configure, if given, set the server up before.
func newKernel(t *testing.T, db *store.DB, start func(http.Handler) *httptest.Server, configure ...func(*web.Server)) *kernel {
	t.Helper()
	ctx := context.Background()
	clock := testclock.New(time.Now())
	svc := &auth.Service{DB: db, Now: clock.Now}
	err := db.Transact(ctx, func(tx *store.Tx) error {
		for _, o := range []auth.Org{{Slug: "mfa", Name: "Ministry of Foreign Affairs", Kind: "ministry"}, {Slug: "ngo-one", Name: "NGO One", Kind: "ngo"}} {
			if _, err := svc.EnsureOrg(ctx, tx, o); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	for _, u := range accounts {
		u.Password = password
		if _, err := svc.CreateUser(ctx, nil, u); err != nil {
			t.Fatal(err)
		}
	}
	srv := web.NewServer(slog.New(slog.NewTextHandler(io.Discard, nil)))
	srv.Ready = db.Ping
	auth.Register(srv, svc)
	// A page and an API call that need a signed-in caller.
	srv.Page("GET /private", web.Op{Access: auth.SignedIn}, func(w http.ResponseWriter, r *http.Request) error {
		_, err := io.WriteString(w, "hello "+auth.Caller(r.Context()).Email)
		return err
	})
	for _, c := range configure {
		c(srv)
	}
	checks := auth.CountPasswordChecks(svc)
	if start == nil {
		start = httptest.NewServer
	}
	hs := start(srv.Handler())
	t.Cleanup(hs.Close)
	return &kernel{t: t, db: db, svc: svc, srv: srv, hs: hs, clock: clock, checks: checks}
}

// with returns k reporting to t, for use inside a subtest.
func (k *kernel) with(t *testing.T) *kernel {
	c := *k
	c.t = t
	return &c
}

type response struct {
	status int
	header http.Header
	body   []byte
}

func (r *response) problem(t *testing.T) web.Problem {
	t.Helper()
	if ct := r.header.Get("Content-Type"); ct != "application/problem+json" {
		t.Fatalf("Content-Type = %q, want application/problem+json; body %s", ct, r.body)
	}
	var p web.Problem
	if err := json.Unmarshal(r.body, &p); err != nil {
		t.Fatalf("problem %s: %v", r.body, err)
	}
	return p
}

// do sends a request with an optional bearer token and JSON body.
func (k *kernel) do(method, path, bearer string, body any) *response {
	k.t.Helper()
	var rd io.Reader
	if body != nil {
		b, err := json.Marshal(body)
		if err != nil {
			k.t.Fatal(err)
		}
		rd = bytes.NewReader(b)
	}
	req, err := http.NewRequest(method, k.hs.URL+path, rd)
	if err != nil {
		k.t.Fatal(err)
	}
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	if bearer != "" {
		req.Header.Set("Authorization", "Bearer "+bearer)
	}
	return k.send(k.hs.Client(), req)
}

func (k *kernel) send(c *http.Client, req *http.Request) *response {
	k.t.Helper()
	res, err := c.Do(req)
	if err != nil {
		k.t.Fatalf("%s %s: %v", req.Method, req.URL, err)
	}
	defer res.Body.Close()
	b, _ := io.ReadAll(res.Body)
	return &response{status: res.StatusCode, header: res.Header, body: b}
}

// apiLogin signs in through the API and returns the bearer token.
func (k *kernel) apiLogin(email, pw string) (string, *response) {
	k.t.Helper()
	res := k.do("POST", "/api/v1/auth/login", "", map[string]string{"email": email, "password": pw})
	if res.status != http.StatusOK {
		return "", res
	}
	var out auth.LoginResponse
	if err := json.Unmarshal(res.body, &out); err != nil {
		k.t.Fatal(err)
	}
	return out.Token, res
}

// browser is a client with a cookie jar that does not follow redirects.
func (k *kernel) browser() *http.Client {
	jar, _ := cookiejar.New(nil)
	c := k.hs.Client()
	return &http.Client{Transport: c.Transport, Jar: jar, CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
}

// postForm posts a form with c.
func (k *kernel) postForm(c *http.Client, path string, v url.Values) *response {
	k.t.Helper()
	req, err := http.NewRequest("POST", k.hs.URL+path, strings.NewReader(v.Encode()))
	if err != nil {
		k.t.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	return k.send(c, req)
}

func (k *kernel) get(c *http.Client, path string) *response {
	k.t.Helper()
	req, err := http.NewRequest("GET", k.hs.URL+path, nil)
	if err != nil {
		k.t.Fatal(err)
	}
	return k.send(c, req)
}

func (k *kernel) count(query string, args ...any) int {
	k.t.Helper()
	var n int
	if err := k.db.QueryRow(context.Background(), query, args...).Scan(&n); err != nil {
		k.t.Fatalf("%s: %v", query, err)
	}
	return n
}
