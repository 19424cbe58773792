package app_test

import (
	"net/http"
	"regexp"
	"strings"
	"testing"

	"kompas/internal/app/apptest"
)

// TestOpenAPIMatchesRoutes keeps the OpenAPI document true to the server:
// every documented operation is routed (the mux answers neither 404 nor 405
// for its method and path), and every /api/ route the mux serves is
// documented.
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
			// (or 2xx for public ones), an unrouted one 404 or 405 from the mux.
			r := e.Do(strings.ToUpper(method), concrete, "", nil)
			if r.Status == http.StatusNotFound && !strings.Contains(string(r.Body), "problem") && !strings.HasPrefix(r.Header.Get("Content-Type"), "application/problem+json") {
				t.Errorf("%s %s is documented but not routed (404)", method, path)
			}
			if r.Status == http.StatusMethodNotAllowed {
				t.Errorf("%s %s is documented but the method is not routed (405)", method, path)
			}
		}
	}
	for _, rt := range e.Server.Routes() {
		key := rt.Method + " " + param.ReplaceAllStringFunc(rt.Path, func(s string) string { return strings.TrimSuffix(s, "...}") })
		if !documented[key] {
			t.Errorf("route %s is served but not documented", key)
		}
	}
	if len(documented) < 15 {
		t.Errorf("only %d operations documented", len(documented))
	}
}
