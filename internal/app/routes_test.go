package app_test

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"regexp"
	"sort"
	"strings"
	"testing"

	"kompas/internal/app/apptest"
	"kompas/internal/demo"
	"kompas/internal/platform/auth"
	"kompas/internal/platform/web"
)

// TestEveryRouteDeclaresItsAccess walks every registered route, API and
// pages, and holds each to the access it declares: without credentials a
// non-public route answers 401 (API) or sends the browser to sign in
// (pages); a signed-in role the route's rule does not admit gets 403, or
// 404 where the route conceals its records from that role; a role it admits is never
// answered 401 or 403. Every demo account (one per role) calls every route.
// A route registered without a declaration cannot exist: web refuses it.
func TestEveryRouteDeclaresItsAccess(t *testing.T) {
	apptest.Each(t, func(t *testing.T, e *apptest.Env) {
		ctx := context.Background()
		values := routeValues(t, e)
		type caller struct {
			email, token string
			p            *auth.Principal
		}
		var callers []caller
		svc := &auth.Service{DB: e.DB}
		for _, a := range demo.Accounts {
			tok := e.Token(a.Email)
			p, err := svc.Authenticate(ctx, tok)
			if err != nil || p == nil {
				t.Fatalf("%s: %v", a.Email, err)
			}
			callers = append(callers, caller{a.Email, tok, p})
		}
		routes := e.Server.Routes()
		// Signing out ends the token the walk uses: those routes go last.
		sort.SliceStable(routes, func(i, j int) bool {
			return !strings.Contains(routes[i].Path, "logout") && strings.Contains(routes[j].Path, "logout")
		})
		public, guarded := 0, 0
		for _, rt := range routes {
			path := concretePath(t, rt.Path, values)
			if rt.Op.Public {
				public++
				continue
			}
			guarded++
			res := call(t, e, rt, path, "")
			switch {
			case !rt.Page && res.StatusCode != http.StatusUnauthorized:
				t.Errorf("%s %s without credentials: %d, want 401", rt.Method, path, res.StatusCode)
			case rt.Page && rt.Method == http.MethodGet && (res.StatusCode != http.StatusSeeOther || !strings.HasPrefix(res.Header.Get("Location"), "/login")):
				t.Errorf("%s %s without credentials: %d to %q, want a redirect to sign in", rt.Method, path, res.StatusCode, res.Header.Get("Location"))
			case rt.Page && rt.Method != http.MethodGet && res.StatusCode != http.StatusUnauthorized:
				t.Errorf("%s %s without credentials: %d, want 401", rt.Method, path, res.StatusCode)
			}
		}
		// Refusals first: they change nothing, so the admitted calls after
		// them (some of which write) cannot hide one.
		for _, admitted := range []bool{false, true} {
			for _, rt := range routes {
				if rt.Op.Public {
					continue
				}
				path := concretePath(t, rt.Path, values)
				for _, c := range callers {
					ok := rt.Op.Access.Admit(auth.WithPrincipal(ctx, c.p)) == nil
					if ok != admitted {
						continue
					}
					res := call(t, e, rt, path, c.token)
					got := res.StatusCode
					concealed := rt.Op.Conceal != "" && (rt.Op.Knows == nil || rt.Op.Knows.Admit(auth.WithPrincipal(ctx, c.p)) != nil)
					switch {
					case !admitted && concealed && got != http.StatusNotFound:
						t.Errorf("%s %s as %s (not admitted, concealed): %d, want 404", rt.Method, path, c.email, got)
					case !admitted && !concealed && got != http.StatusForbidden:
						t.Errorf("%s %s as %s (not admitted): %d, want 403", rt.Method, path, c.email, got)
					case admitted && (got == http.StatusUnauthorized || got == http.StatusForbidden):
						t.Errorf("%s %s as %s (admitted by %q): %d", rt.Method, path, c.email, rt.Op.Access.Describe(), got)
					}
				}
			}
		}
		t.Logf("%d routes: %d public, %d with an access rule", public+guarded, public, guarded)
		if guarded < 50 {
			t.Errorf("only %d guarded routes walked", guarded)
		}
	})
}

// routeValues are the path wildcards the walk fills in: real records of
// the demo where a route needs one to get past "not found".
func routeValues(t *testing.T, e *apptest.Env) map[string]string {
	t.Helper()
	ctx := context.Background()
	one := func(q string) string {
		var id int64
		if err := e.DB.QueryRow(ctx, q).Scan(&id); err != nil {
			t.Fatalf("%s: %v", q, err)
		}
		return fmt.Sprint(id)
	}
	return map[string]string{
		"initiative": one(`SELECT MIN(i.id) FROM initiatives i JOIN organisations o ON o.id = i.owner_org_id WHERE o.slug = 'mfa'`),
		"case":       one(`SELECT MIN(id) FROM return_cases`),
		"event":      one(`SELECT MIN(id) FROM audit_events`),
		"org":        "reintegration",
		"format":     "md",
		"to":         "documents",
		"action":     "consent",
		"seq":        "1",
		"job":        "999999",
		"id":         "999999", // editions and suggestions: none in the demo
	}
}

var wildcard = regexp.MustCompile(`\{([a-zA-Z_]*)(\.\.\.)?\}`)

func concretePath(t *testing.T, path string, values map[string]string) string {
	return wildcard.ReplaceAllStringFunc(path, func(w string) string {
		name := wildcard.FindStringSubmatch(w)[1]
		switch {
		case name == "" || name == "$":
			return ""
		case name == "id" && strings.Contains(path, "initiatives/"):
			return values["initiative"]
		case name == "id" && strings.Contains(path, "cases/"):
			return values["case"]
		case name == "id" && strings.Contains(path, "audit/events/"):
			return values["event"]
		}
		v, ok := values[name]
		if !ok {
			t.Fatalf("no value for {%s} in %s", name, path)
		}
		return v
	})
}

func call(t *testing.T, e *apptest.Env, rt web.Route, path, token string) *http.Response {
	t.Helper()
	var body io.Reader
	req, err := http.NewRequest(rt.Method, e.URL+path, nil)
	switch {
	case rt.Method == http.MethodGet || rt.Method == http.MethodDelete:
	case rt.Page:
		body = strings.NewReader("")
		req, err = http.NewRequest(rt.Method, e.URL+path, body)
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	default:
		req, err = http.NewRequest(rt.Method, e.URL+path, strings.NewReader("{}"))
		req.Header.Set("Content-Type", "application/json")
	}
	if err != nil {
		t.Fatal(err)
	}
	if token != "" {
		if rt.Page {
			req.AddCookie(&http.Cookie{Name: auth.SessionCookie, Value: token})
		} else {
			req.Header.Set("Authorization", "Bearer "+token)
		}
	}
	client := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	res, err := client.Do(req)
	if err != nil {
		t.Fatalf("%s %s: %v", rt.Method, path, err)
	}
	_, _ = io.Copy(io.Discard, res.Body)
	res.Body.Close()
	return res
}
