package web_test

import (
	"encoding/json"
	"io"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"kompas/internal/app/apptest"
)

// These tests run the kernel inside the whole server, on both engines, for
// the behaviour that touches the database.

func browserDo(t *testing.T, c *http.Client, method, u string, body string, headers map[string]string) (int, http.Header, string) {
	t.Helper()
	var rd io.Reader
	if body != "" {
		rd = strings.NewReader(body)
	}
	req, err := http.NewRequest(method, u, rd)
	if err != nil {
		t.Fatal(err)
	}
	for k, v := range headers {
		req.Header.Set(k, v)
	}
	res, err := c.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	b, _ := io.ReadAll(res.Body)
	return res.StatusCode, res.Header, string(b)
}

func TestCrossOriginFormPostChangesNothing(t *testing.T) {
	form := url.Values{"title": {"Forged initiative"}, "kind": {"project"}, "status": {"active"}, "objectives": {"1"}}.Encode()
	tests := []struct {
		name       string
		headers    map[string]string
		wantStatus int
		wantAdded  int
	}{
		{"cross-site", map[string]string{"Origin": "http://evil.example", "Sec-Fetch-Site": "cross-site"}, http.StatusForbidden, 0},
		{"cross-site without Sec-Fetch-Site", map[string]string{"Origin": "http://evil.example"}, http.StatusForbidden, 0},
		{"same origin", map[string]string{"Sec-Fetch-Site": "same-origin"}, http.StatusSeeOther, 1},
	}
	apptest.Each(t, func(t *testing.T, e *apptest.Env) {
		c := e.Browser("policy@mfa.example")
		for _, tt := range tests {
			t.Run(tt.name, func(t *testing.T) {
				initiatives, events := e.Count("initiatives"), e.Count("audit_events")
				h := map[string]string{"Content-Type": "application/x-www-form-urlencoded"}
				for k, v := range tt.headers {
					h[k] = v
				}
				status, _, body := browserDo(t, c, "POST", e.URL+"/initiatives", form, h)
				if status != tt.wantStatus {
					t.Fatalf("status %d, want %d: %.300s", status, tt.wantStatus, body)
				}
				if got := e.Count("initiatives") - initiatives; got != tt.wantAdded {
					t.Errorf("%d initiatives added, want %d", got, tt.wantAdded)
				}
				if tt.wantAdded == 0 && e.Count("audit_events") != events {
					t.Error("a refused post left an audit event")
				}
			})
		}
		// A forged sign-out does not end the session either.
		status, _, _ := browserDo(t, c, "POST", e.URL+"/logout", "", map[string]string{"Origin": "http://evil.example", "Sec-Fetch-Site": "cross-site"})
		if status != http.StatusForbidden {
			t.Errorf("cross-site logout = %d, want 403", status)
		}
		if status, _, _ := browserDo(t, c, "GET", e.URL+"/api/v1/me", "", nil); status != http.StatusOK {
			t.Errorf("session ended by a cross-site post: /me = %d", status)
		}
	})
}

func TestAppErrorsAndLimits(t *testing.T) {
	apptest.Each(t, func(t *testing.T, e *apptest.Env) {
		tok := e.Token("policy@mfa.example")
		t.Run("unauthenticated page redirects to sign-in", func(t *testing.T) {
			status, h, _ := browserDo(t, e.Browser(""), "GET", e.URL+"/initiatives?q=x", "", nil)
			if status != http.StatusSeeOther || h.Get("Location") != "/login?next=%2Finitiatives%3Fq%3Dx" {
				t.Errorf("GET /initiatives = %d → %q", status, h.Get("Location"))
			}
		})
		t.Run("unauthenticated API is a 401 problem", func(t *testing.T) {
			res := e.Do("GET", "/api/v1/initiatives", "", nil)
			if p := res.Problem(); res.Status != 401 || p.Status != 401 {
				t.Errorf("status %d, problem %+v", res.Status, p)
			}
		})
		t.Run("oversized body is a 413 problem and adds nothing", func(t *testing.T) {
			before := e.Count("initiatives")
			body := `{"title":"` + strings.Repeat("a", 2<<20) + `","kind":"project","status":"active","objectives":[1]}`
			res := e.Do("POST", "/api/v1/initiatives", tok, body)
			if res.Status != http.StatusRequestEntityTooLarge {
				t.Fatalf("status %d: %.300s", res.Status, res.Body)
			}
			if p := res.Problem(); p.Status != 413 {
				t.Errorf("problem %+v", p)
			}
			if e.Count("initiatives") != before {
				t.Error("an oversized body added an initiative")
			}
		})
		t.Run("unknown field names it and adds nothing", func(t *testing.T) {
			before := e.Count("initiatives")
			res := e.Do("POST", "/api/v1/initiatives", tok, `{"title":"t","kind":"project","status":"active","objectives":[1],"colour":"red"}`)
			p := res.Problem()
			if res.Status != 400 || len(p.Errors) != 1 || p.Errors[0].Field != "colour" {
				t.Errorf("status %d, problem %+v", res.Status, p)
			}
			if e.Count("initiatives") != before {
				t.Error("a malformed body added an initiative")
			}
		})
		t.Run("OpenAPI document", func(t *testing.T) {
			res := e.Do("GET", "/api/v1/openapi.json", "", nil)
			if res.Status != 200 || !json.Valid(res.Body) {
				t.Fatalf("openapi.json: %d, valid JSON %v", res.Status, json.Valid(res.Body))
			}
			var doc struct {
				OpenAPI string         `json:"openapi"`
				Paths   map[string]any `json:"paths"`
			}
			res.JSON(&doc)
			if doc.OpenAPI != "3.1.0" || doc.Paths["/api/v1/auth/login"] == nil || doc.Paths["/api/v1/me"] == nil {
				t.Errorf("openapi %q with %d paths", doc.OpenAPI, len(doc.Paths))
			}
		})
		t.Run("readiness follows the database", func(t *testing.T) {
			if res := e.Do("GET", "/readyz", "", nil); res.Status != 200 {
				t.Errorf("/readyz = %d", res.Status)
			}
			if res := e.Do("GET", "/healthz", "", nil); res.Status != 200 {
				t.Errorf("/healthz = %d", res.Status)
			}
			e.DB.Close()
			if res := e.Do("GET", "/readyz", "", nil); res.Status != http.StatusServiceUnavailable {
				t.Errorf("/readyz with the database closed = %d, want 503", res.Status)
			}
			if res := e.Do("GET", "/healthz", "", nil); res.Status != 200 {
				t.Errorf("/healthz with the database closed = %d, want 200", res.Status)
			}
		})
	})
}
