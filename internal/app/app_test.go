package app_test

import (
	"context"
	"net/http"
	"regexp"
	"strings"
	"testing"

	"kompas/internal/app/apptest"
	"kompas/internal/platform/auth"
)

// TestOpenAPIMatchesRoutes keeps the OpenAPI document true to the server:
// every documented operation is routed (the mux answers neither 404 nor 405
// for its method and path), and every /api/ route the mux serves is
// documented (pages are not part of the document).
func TestOpenAPIMatchesRoutes(t *testing.T) {
	e := apptest.New(t, "sqlite")
	res := e.Do("GET", "/api/v1/openapi.json", "", nil)
	if res.Status != http.StatusOK {
		t.Fatalf("openapi.json: %d", res.Status)
	}
	var doc struct {
		OpenAPI string                               `json:"openapi"`
		Paths   map[string]map[string]map[string]any `json:"paths"`
	}
	res.JSON(&doc)
	if doc.OpenAPI != "3.1.0" {
		t.Errorf("openapi = %q, want 3.1.0", doc.OpenAPI)
	}
	documented := map[string]bool{}
	param := regexp.MustCompile(`\{[^}]+\}`)
	for path, ops := range doc.Paths {
		for method := range ops {
			documented[strings.ToUpper(method)+" "+path] = true
			concrete := param.ReplaceAllString(path, "1")
			// Unauthenticated calls are enough: a routed pattern answers 401
			// (or 2xx for public ones) before it looks the id up; an unrouted
			// one gets the API fallback's 404 or 405.
			r := e.Do(strings.ToUpper(method), concrete, "", nil)
			if r.Status == http.StatusNotFound {
				t.Errorf("%s %s is documented but not routed (404)", method, path)
			}
			if r.Status == http.StatusMethodNotAllowed {
				t.Errorf("%s %s is documented but the method is not routed (405)", method, path)
			}
		}
	}
	for _, rt := range e.Server.Routes() {
		if rt.Page {
			if documented[rt.Method+" "+rt.Path] {
				t.Errorf("page %s %s is in the API document", rt.Method, rt.Path)
			}
			continue
		}
		key := rt.Method + " " + param.ReplaceAllStringFunc(rt.Path, func(s string) string { return strings.TrimSuffix(s, "...}") })
		if !documented[key] {
			t.Errorf("route %s is served but not documented", key)
		}
	}
	// The fallback answers unknown API paths and methods with problem JSON.
	if r := e.Do("GET", "/api/v1/no-such-thing", "", nil); r.Status != http.StatusNotFound || r.Problem().Status != http.StatusNotFound {
		t.Errorf("unknown API path: %d %s", r.Status, r.Body)
	}
	if r := e.Do("PATCH", "/api/v1/initiatives", "", nil); r.Status != http.StatusMethodNotAllowed || r.Header.Get("Allow") != "GET, POST" {
		t.Errorf("wrong method: %d Allow=%q %s", r.Status, r.Header.Get("Allow"), r.Body)
	} else if r.Problem().Status != http.StatusMethodNotAllowed {
		t.Errorf("405 is not problem JSON")
	}
	if len(documented) < 15 {
		t.Errorf("only %d operations documented", len(documented))
	}
	// The audit log's operations, the checkpoint as a signed note in text.
	for _, op := range []string{"GET /api/v1/audit/events", "GET /api/v1/audit/verify", "GET /api/v1/audit/checkpoint",
		"POST /api/v1/audit/checkpoint", "GET /api/v1/audit/events/{id}/proof"} {
		if !documented[op] {
			t.Errorf("%s is not documented", op)
		}
	}
	content := doc.Paths["/api/v1/audit/checkpoint"]["get"]["responses"].(map[string]any)["200"].(map[string]any)["content"].(map[string]any)
	if _, ok := content["text/plain"]; !ok {
		t.Errorf("GET /api/v1/audit/checkpoint is not documented as text/plain: %v", content)
	}
}

// TestLogoutRevokesAPIToken: logging out with a long-lived API token revokes
// it, and logging out with a session token ends the session.
func TestLogoutRevokesAPIToken(t *testing.T) {
	apptest.Each(t, func(t *testing.T, e *apptest.Env) {
		svc := &auth.Service{DB: e.DB}
		tok, err := svc.CreateToken(context.Background(), nil, "analyst@dtm.example", "script", 0)
		if err != nil {
			t.Fatal(err)
		}
		session := e.Token("analyst@dtm.example")
		for _, secret := range []string{tok, session} {
			if r := e.Do("GET", "/api/v1/me", secret, nil); r.Status != http.StatusOK {
				t.Fatalf("me before logout: %d", r.Status)
			}
			if r := e.Do("POST", "/api/v1/auth/logout", secret, nil); r.Status != http.StatusNoContent {
				t.Fatalf("logout: %d %s", r.Status, r.Body)
			}
			if r := e.Do("GET", "/api/v1/me", secret, nil); r.Status != http.StatusUnauthorized {
				t.Errorf("me after logout with %s…: %d, want 401", secret[:3], r.Status)
			}
		}
	})
}
