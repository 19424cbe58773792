package programmes_test

import (
	"fmt"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"testing"

	"kompas/internal/app/apptest"
)

// lostUpdate: two editors read version 1; the first save wins, the
// second gets a 409 and the first one's change is intact.
func lostUpdate(t *testing.T, e *apptest.Env) {
	for _, pair := range [][2]string{{policy, admin}, {admin, policy}, {policy, policy}} {
		t.Run(pair[0]+" then "+pair[1], func(t *testing.T) {
			it := create(t, e, policy, validBody())
			path := fmt.Sprintf("/api/v1/initiatives/%d", it.ID)
			first, second := putBody(it), putBody(it)
			first["title"], second["title"] = "First editor's title", "Second editor's title"
			second["countries"] = []string{"ML"}
			if res := e.Do("PUT", path, e.Token(pair[0]), first); res.Status != http.StatusOK || res.Header.Get("ETag") != `"v2"` {
				t.Fatalf("first PUT: %d %s %s", res.Status, res.Header.Get("ETag"), res.Body)
			}
			res := e.Do("PUT", path, e.Token(pair[1]), second)
			if res.Status != http.StatusConflict {
				t.Fatalf("second PUT: %d %s", res.Status, res.Body)
			}
			if p := res.Problem(); !strings.Contains(p.Detail, "version 1") || !strings.Contains(p.Detail, "version 2") {
				t.Errorf("409 does not say which versions: %q", p.Detail)
			}
			now := get(t, e, it.ID)
			if now.Title != "First editor's title" || now.Version != 2 || strings.Join(now.Countries, ",") != "NE" {
				t.Errorf("after the conflict: %q v%d %v", now.Title, now.Version, now.Countries)
			}
		})
	}
}

// versionPreconditions covers the ways a PUT or DELETE names the
// version it read.
func versionPreconditions(t *testing.T, e *apptest.Env) {
	cases := []struct {
		name        string
		method      string
		bodyVersion int    // -1: leave out of the body
		ifMatch     string // "" : no header
		want        int
		field       string
	}{
		{"PUT with the version in the body", "PUT", 1, "", 200, ""},
		{"PUT without any version", "PUT", -1, "", 422, "version"},
		{"PUT with version 0", "PUT", 0, "", 422, "version"},
		{"PUT with a negative version", "PUT", -5, "", 422, "version"},
		{"PUT with a stale version", "PUT", 2, "", 409, ""},
		{"PUT with a version beyond the column", "PUT", 3_000_000_000, "", 409, ""},
		{"PUT with If-Match", "PUT", -1, `"v1"`, 200, ""},
		{"PUT with a weak If-Match", "PUT", -1, `W/"v1"`, 200, ""},
		{"PUT with a stale If-Match", "PUT", -1, `"v7"`, 409, ""},
		{"PUT with If-Match and the same body version", "PUT", 1, `"v1"`, 200, ""},
		{"PUT with If-Match disagreeing with the body", "PUT", 1, `"v2"`, 400, "version"},
		{"PUT with an If-Match not ours", "PUT", -1, `"abc"`, 400, "If-Match"},
		{"PUT with If-Match *", "PUT", -1, `*`, 400, "If-Match"},
		{"DELETE without If-Match", "DELETE", -1, "", 204, ""},
		{"DELETE with a current If-Match", "DELETE", -1, `"v1"`, 204, ""},
		{"DELETE with a stale If-Match", "DELETE", -1, `"v2"`, 409, ""},
		{"DELETE with an If-Match not ours", "DELETE", -1, `"x1"`, 400, "If-Match"},
	}
	tok := e.Token(policy)
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			it := create(t, e, policy, validBody())
			path := fmt.Sprintf("/api/v1/initiatives/%d", it.ID)
			// GET hands out the ETag the preconditions use.
			if res := e.Do("GET", path, tok, nil); res.Header.Get("ETag") != `"v1"` {
				t.Fatalf("ETag = %q", res.Header.Get("ETag"))
			}
			var body any
			if c.method == "PUT" {
				b := putBody(it)
				b["title"] = "Changed title"
				delete(b, "version")
				if c.bodyVersion != -1 {
					b["version"] = c.bodyVersion
				}
				body = b
			}
			headers := map[string]string{}
			if c.ifMatch != "" {
				headers["If-Match"] = c.ifMatch
			}
			res := e.DoHeaders(c.method, path, tok, body, headers)
			if res.Status != c.want {
				t.Fatalf("status %d, want %d: %s", res.Status, c.want, res.Body)
			}
			if c.want >= 400 {
				p := res.Problem()
				if c.field != "" && (len(p.Errors) == 0 || p.Errors[0].Field != c.field) {
					t.Errorf("errors %+v do not name %s", p.Errors, c.field)
				}
				now := get(t, e, it.ID)
				if now.Version != 1 || now.Title != it.Title {
					t.Errorf("a refused %s changed the initiative: v%d %q", c.method, now.Version, now.Title)
				}
				return
			}
			switch c.method {
			case "PUT":
				if res.Header.Get("ETag") != `"v2"` || get(t, e, it.ID).Title != "Changed title" {
					t.Errorf("PUT: ETag %q", res.Header.Get("ETag"))
				}
			case "DELETE":
				if r := e.Do("GET", path, tok, nil); r.Status != http.StatusNotFound {
					t.Errorf("after DELETE: %d", r.Status)
				}
			}
		})
	}
}

var hiddenVersion = regexp.MustCompile(`<input type="hidden" name="version" value="(\d+)">`)

// formConflictKeepsTyping: a user edits in the browser while someone
// else saves; the form comes back with 409, the user's text and the newer
// version, so that saving again is a knowing choice and nothing typed is
// lost.
func formConflictKeepsTyping(t *testing.T, e *apptest.Env) {
	c := e.Browser(policy)
	for _, tc := range []struct {
		name       string
		interloper string
	}{{"someone else saves", admin}, {"the same user in another tab", policy}} {
		t.Run(tc.name, func(t *testing.T) {
			it := create(t, e, policy, validBody())
			edit := send(t, c, "GET", fmt.Sprintf("%s/initiatives/%d/edit", e.URL, it.ID), nil)
			m := hiddenVersion.FindStringSubmatch(edit.Body)
			if edit.Status != http.StatusOK || m == nil || m[1] != "1" {
				t.Fatalf("edit page: %d, version %v", edit.Status, m)
			}
			// Meanwhile, the interloper saves through the API.
			b := putBody(it)
			b["title"] = "Saved by someone else"
			if res := e.Do("PUT", fmt.Sprintf("/api/v1/initiatives/%d", it.ID), e.Token(tc.interloper), b); res.Status != http.StatusOK {
				t.Fatalf("interloper: %d %s", res.Status, res.Body)
			}
			typed := formOf(it, map[string]string{"title": "My carefully typed title", "summary": "My long summary\nwith two lines", "version": m[1]})
			res := send(t, c, "POST", fmt.Sprintf("%s/initiatives/%d", e.URL, it.ID), typed)
			if res.Status != http.StatusConflict {
				t.Fatalf("stale form: %d %.500s", res.Status, res.Body)
			}
			for _, want := range []string{`value="My carefully typed title"`, "My long summary\nwith two lines</textarea>", "changed while you were editing", `href="#f-version"`, `id="f-version"`} {
				if !strings.Contains(res.Body, want) {
					t.Errorf("409 page lacks %q", want)
				}
			}
			if strings.Contains(res.Body, policy+" changed") {
				t.Errorf("409 page blames the initiative's creator for the change")
			}
			if now := get(t, e, it.ID); now.Title != "Saved by someone else" || now.Version != 2 {
				t.Errorf("stale form overwrote: %q v%d", now.Title, now.Version)
			}
			// The page now carries the current version: saving again
			// replaces it knowingly.
			m = hiddenVersion.FindStringSubmatch(res.Body)
			if m == nil || m[1] != "2" {
				t.Fatalf("409 page carries version %v, want 2", m)
			}
			typed.Set("version", m[1])
			if res := send(t, c, "POST", fmt.Sprintf("%s/initiatives/%d", e.URL, it.ID), typed); res.Status != http.StatusSeeOther {
				t.Fatalf("second save: %d %.300s", res.Status, res.Body)
			}
			if now := get(t, e, it.ID); now.Title != "My carefully typed title" || now.Version != 3 {
				t.Errorf("after saving again: %q v%d", now.Title, now.Version)
			}
		})
	}
	t.Run("stale delete form", func(t *testing.T) {
		it := create(t, e, policy, validBody())
		b := putBody(it)
		b["summary"] = "changed"
		e.Do("PUT", fmt.Sprintf("/api/v1/initiatives/%d", it.ID), e.Token(admin), b)
		res := send(t, c, "POST", fmt.Sprintf("%s/initiatives/%d/delete", e.URL, it.ID), url.Values{"version": {"1"}})
		if res.Status != http.StatusConflict || !strings.Contains(res.Body, "nothing was deleted") {
			t.Fatalf("stale delete: %d %.300s", res.Status, res.Body)
		}
		if get(t, e, it.ID).Version != 2 {
			t.Error("initiative gone or changed")
		}
	})
}

// TestOptimisticConcurrency covers optimistic locking through the API and
// the edit form; each case works on an initiative of its own.
func TestOptimisticConcurrency(t *testing.T) {
	t.Parallel()
	apptest.Each(t, func(t *testing.T, e *apptest.Env) {
		t.Run("lost update", func(t *testing.T) { lostUpdate(t, e) })
		t.Run("version preconditions", func(t *testing.T) { versionPreconditions(t, e) })
		t.Run("form conflict keeps typing", func(t *testing.T) { formConflictKeepsTyping(t, e) })
	})
}
