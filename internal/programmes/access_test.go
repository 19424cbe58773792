package programmes_test

import (
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"kompas/internal/app/apptest"
	"kompas/internal/programmes"
)

// target is the initiative a case acts on.
type target int

const (
	noTarget      target = iota
	demoTarget           // COMPASS, recorded by the MFA; never changed by a refused case
	freshTarget          // a new initiative of the MFA's, made for the case
	missingTarget        // an id no initiative has
	badIDTarget          // not a number at all
)

type accessCase struct {
	who    string // "" is nobody
	method string
	path   string // "{id}" is replaced by the target's id
	target target
	body   func(it programmes.Initiative) any
	want   int
	delta  int // change of the number of initiatives
}

const importCSV = "title,kind,status,objectives\nImported by the access test,law,active,7\n"

func (c accessCase) name() string {
	who := c.who
	if who == "" {
		who = "nobody"
	}
	return fmt.Sprintf("%s %s as %s (target %d)", c.method, c.path, who, c.target)
}

// resolve makes the case's target and returns it with the concrete path.
func (c accessCase) resolve(t *testing.T, e *apptest.Env, demo programmes.Initiative) (programmes.Initiative, string) {
	t.Helper()
	var it programmes.Initiative
	id := ""
	switch c.target {
	case demoTarget:
		it = get(t, e, demo.ID)
		id = fmt.Sprint(it.ID)
	case freshTarget:
		b := validBody()
		b["title"] = "Scratch initiative for " + c.name()
		it = create(t, e, policy, b)
		id = fmt.Sprint(it.ID)
	case missingTarget:
		id = fmt.Sprint(missingID)
		it = programmes.Initiative{Input: programmes.Input{Title: "Missing", Kind: "law", Status: "active", Version: 1}}
	case badIDTarget:
		id = "abc"
		it = programmes.Initiative{Input: programmes.Input{Title: "Missing", Kind: "law", Status: "active", Version: 1}}
	}
	return it, strings.ReplaceAll(c.path, "{id}", id)
}

func apiPut(it programmes.Initiative) any {
	b := putBody(it)
	b["summary"] = "Changed by the access test."
	return b
}

func apiCreate(programmes.Initiative) any { return validBody() }

func apiAccessCases() []accessCase {
	var cs []accessCase
	add := func(method, path string, tg target, body func(programmes.Initiative) any, want map[string]int, delta map[string]int) {
		for _, who := range []string{"", analyst, caseworker, policy, other, admin} {
			w, ok := want[who]
			if !ok {
				continue
			}
			cs = append(cs, accessCase{who: who, method: method, path: path, target: tg, body: body, want: w, delta: delta[who]})
		}
	}
	readAll := map[string]int{"": 401, analyst: 200, caseworker: 200, policy: 200, other: 200, admin: 200}
	add("GET", "/api/v1/initiatives", noTarget, nil, readAll, nil)
	add("POST", "/api/v1/initiatives", noTarget, apiCreate,
		map[string]int{"": 401, analyst: 403, caseworker: 403, policy: 201, other: 201, admin: 201},
		map[string]int{policy: 1, other: 1, admin: 1})
	// A refused caller is refused before the body is read.
	add("POST", "/api/v1/initiatives", noTarget, func(programmes.Initiative) any { return `{"title":` },
		map[string]int{"": 401, analyst: 403}, nil)
	add("GET", "/api/v1/initiatives/{id}", demoTarget, nil, readAll, nil)
	add("GET", "/api/v1/initiatives/{id}", missingTarget, nil, map[string]int{"": 401, analyst: 404, policy: 404}, nil)
	add("GET", "/api/v1/initiatives/{id}", badIDTarget, nil, map[string]int{analyst: 404}, nil)
	add("PUT", "/api/v1/initiatives/{id}", demoTarget, apiPut,
		map[string]int{"": 401, analyst: 403, caseworker: 403, other: 403}, nil)
	add("PUT", "/api/v1/initiatives/{id}", freshTarget, apiPut, map[string]int{policy: 200, admin: 200}, nil)
	// The route's rule refuses an analyst before any initiative is looked
	// up, so whether it exists does not show: 403 either way.
	add("PUT", "/api/v1/initiatives/{id}", missingTarget, apiPut, map[string]int{"": 401, analyst: 403, policy: 404, admin: 404}, nil)
	add("PUT", "/api/v1/initiatives/{id}", badIDTarget, apiPut, map[string]int{policy: 404}, nil)
	add("DELETE", "/api/v1/initiatives/{id}", demoTarget, nil, map[string]int{"": 401, analyst: 403, caseworker: 403, other: 403}, nil)
	add("DELETE", "/api/v1/initiatives/{id}", freshTarget, nil, map[string]int{policy: 204, admin: 204}, map[string]int{policy: -1, admin: -1})
	add("DELETE", "/api/v1/initiatives/{id}", missingTarget, nil, map[string]int{"": 401, policy: 404, admin: 404}, nil)
	add("GET", "/api/v1/coverage", noTarget, nil, readAll, nil)
	add("GET", "/api/v1/money", noTarget, nil, readAll, nil)
	add("GET", "/api/v1/exports/initiatives", noTarget, nil, readAll, nil)
	add("POST", "/api/v1/imports/initiatives", noTarget, func(programmes.Initiative) any { return importCSV },
		map[string]int{"": 401, analyst: 403, caseworker: 403, policy: 200, other: 200, admin: 200},
		map[string]int{policy: 1, other: 1, admin: 1})
	return cs
}

func TestAPIAccess(t *testing.T) {
	t.Parallel()
	apptest.Each(t, func(t *testing.T, e *apptest.Env) {
		addOtherOfficer(t, e)
		demo := get(t, e, idOf(t, e, compassTitle))
		for _, c := range apiAccessCases() {
			t.Run(c.name(), func(t *testing.T) {
				it, path := c.resolve(t, e, demo)
				before := e.Count("initiatives")
				token := ""
				if c.who != "" {
					token = e.Token(c.who)
				}
				var body any
				if c.body != nil {
					body = c.body(it)
				}
				headers := map[string]string{}
				if strings.Contains(path, "/imports/") {
					headers["Content-Type"] = "text/csv"
				}
				res := e.DoHeaders(c.method, path, token, body, headers)
				if res.Status != c.want {
					t.Fatalf("status %d, want %d: %s", res.Status, c.want, res.Body)
				}
				if c.want >= 400 {
					if p := res.Problem(); p.Status != c.want || p.Title == "" {
						t.Errorf("problem = %+v", p)
					}
				}
				if c.want == http.StatusUnauthorized && res.Header.Get("WWW-Authenticate") == "" {
					t.Error("401 without WWW-Authenticate")
				}
				if got := e.Count("initiatives") - before; got != c.delta {
					t.Errorf("initiatives changed by %d, want %d", got, c.delta)
				}
				if c.want >= 400 && c.target == demoTarget {
					if now := get(t, e, it.ID); now.Version != it.Version || now.Summary != it.Summary {
						t.Errorf("refused %s changed the initiative: version %d -> %d", c.method, it.Version, now.Version)
					}
				}
				switch {
				case c.method == "PUT" && c.want == 200:
					if now := get(t, e, it.ID); now.Version != it.Version+1 || now.Summary != "Changed by the access test." {
						t.Errorf("PUT did not apply: %+v", now)
					}
				case c.method == "DELETE" && c.want == 204:
					if r := e.Do("GET", path, e.Token(analyst), nil); r.Status != 404 {
						t.Errorf("deleted initiative still answers %d", r.Status)
					}
				case c.method == "GET" && strings.Contains(path, "/exports/") && c.want == 200:
					if ct := res.Header.Get("Content-Type"); !strings.HasPrefix(ct, "text/csv") || !strings.HasPrefix(string(res.Body), "id,version,title") {
						t.Errorf("export is %q: %.80s", ct, res.Body)
					}
				}
			})
		}
		t.Run("GCM catalogue", func(t *testing.T) { gcmCatalogueAccess(t, e) })
	})
}

func pageCreate(programmes.Initiative) any {
	return url.Values{"title": {"Added through the form"}, "kind": {"law"}, "status": {"active"}}
}

func pageUpdate(it programmes.Initiative) any {
	return formOf(it, map[string]string{"summary": "Changed through the form."})
}

func pageDelete(it programmes.Initiative) any {
	return url.Values{"version": {fmt.Sprint(it.Version)}}
}

func pageAccessCases(t *testing.T) []accessCase {
	var cs []accessCase
	add := func(method, path string, tg target, body func(programmes.Initiative) any, want map[string]int, delta map[string]int) {
		for _, who := range []string{"", analyst, caseworker, policy, other, admin} {
			if w, ok := want[who]; ok {
				cs = append(cs, accessCase{who: who, method: method, path: path, target: tg, body: body, want: w, delta: delta[who]})
			}
		}
	}
	upload := func(programmes.Initiative) any { return fileUpload(t, "initiatives.csv", []byte(importCSV)) }
	readAll := map[string]int{"": 303, analyst: 200, caseworker: 200, policy: 200, other: 200, admin: 200}
	writers := map[string]int{"": 303, analyst: 403, caseworker: 403, policy: 200, other: 200, admin: 200}
	add("GET", "/initiatives", noTarget, nil, readAll, nil)
	add("GET", "/initiatives/new", noTarget, nil, writers, nil)
	add("POST", "/initiatives", noTarget, pageCreate,
		map[string]int{"": 401, analyst: 403, caseworker: 403, policy: 303, other: 303, admin: 303},
		map[string]int{policy: 1, other: 1, admin: 1})
	add("GET", "/initiatives/{id}", demoTarget, nil, readAll, nil)
	add("GET", "/initiatives/{id}", missingTarget, nil, map[string]int{"": 303, analyst: 404, policy: 404}, nil)
	add("GET", "/initiatives/{id}", badIDTarget, nil, map[string]int{analyst: 404}, nil)
	add("GET", "/initiatives/{id}/edit", demoTarget, nil, map[string]int{"": 303, analyst: 403, caseworker: 403, other: 403, policy: 200, admin: 200}, nil)
	add("GET", "/initiatives/{id}/edit", missingTarget, nil, map[string]int{policy: 404, admin: 404}, nil)
	add("POST", "/initiatives/{id}", demoTarget, pageUpdate, map[string]int{"": 401, analyst: 403, caseworker: 403, other: 403}, nil)
	add("POST", "/initiatives/{id}", freshTarget, pageUpdate, map[string]int{policy: 303, admin: 303}, nil)
	add("POST", "/initiatives/{id}", missingTarget, pageUpdate, map[string]int{policy: 404}, nil)
	add("GET", "/initiatives/{id}/delete", demoTarget, nil, map[string]int{"": 303, analyst: 403, caseworker: 403, other: 403, policy: 200, admin: 200}, nil)
	add("GET", "/initiatives/{id}/delete", missingTarget, nil, map[string]int{policy: 404}, nil)
	add("POST", "/initiatives/{id}/delete", demoTarget, pageDelete, map[string]int{"": 401, analyst: 403, caseworker: 403, other: 403}, nil)
	add("POST", "/initiatives/{id}/delete", freshTarget, pageDelete, map[string]int{policy: 303, admin: 303}, map[string]int{policy: -1, admin: -1})
	add("POST", "/initiatives/{id}/delete", missingTarget, pageDelete, map[string]int{policy: 404}, nil)
	add("GET", "/initiatives/export.csv", noTarget, nil, readAll, nil)
	add("GET", "/initiatives/import", noTarget, nil, writers, nil)
	add("POST", "/initiatives/import", noTarget, upload,
		map[string]int{"": 401, analyst: 403, caseworker: 403, policy: 200, other: 200, admin: 200},
		map[string]int{policy: 1, other: 1, admin: 1})
	add("GET", "/coverage", noTarget, nil, readAll, nil)
	add("GET", "/money", noTarget, nil, readAll, nil)
	return cs
}

func TestPageAccess(t *testing.T) {
	t.Parallel()
	apptest.Each(t, func(t *testing.T, e *apptest.Env) {
		addOtherOfficer(t, e)
		demo := get(t, e, idOf(t, e, compassTitle))
		bs := newBrowsers(e)
		for _, c := range pageAccessCases(t) {
			t.Run(c.name(), func(t *testing.T) {
				it, path := c.resolve(t, e, demo)
				before := e.Count("initiatives")
				var body any
				if c.body != nil {
					body = c.body(it)
				}
				res := send(t, bs.get(c.who), c.method, e.URL+path, body)
				if res.Status != c.want {
					t.Fatalf("status %d, want %d: %.300s", res.Status, c.want, res.Body)
				}
				switch {
				case c.want == http.StatusSeeOther && c.who == "":
					if loc := res.Header.Get("Location"); loc != "/login?next="+url.QueryEscape(path) {
						t.Errorf("Location = %q, want the sign-in page coming back to %s", loc, path)
					}
				case c.want == http.StatusSeeOther:
					if loc := res.Header.Get("Location"); !strings.HasPrefix(loc, "/initiatives") {
						t.Errorf("Location = %q", loc)
					}
				case c.want >= 400:
					if ct := res.Header.Get("Content-Type"); !strings.HasPrefix(ct, "text/html") {
						t.Errorf("error page is %q", ct)
					}
					if !strings.Contains(res.Body, "<h1>") {
						t.Errorf("error page has no heading: %.300s", res.Body)
					}
				case path == "/initiatives/export.csv":
					if !strings.HasPrefix(res.Header.Get("Content-Type"), "text/csv") {
						t.Errorf("export is %q", res.Header.Get("Content-Type"))
					}
				case c.method == "POST" && path == "/initiatives/import":
					if !strings.Contains(res.Body, "Imported: 1 added, 0 changed.") {
						t.Errorf("import page does not report the result: %.500s", res.Body)
					}
				default:
					if !strings.Contains(res.Body, "</html>") {
						t.Errorf("not a whole page: %.300s", res.Body)
					}
				}
				if got := e.Count("initiatives") - before; got != c.delta {
					t.Errorf("initiatives changed by %d, want %d", got, c.delta)
				}
				if c.target == demoTarget && c.want >= 400 {
					if now := get(t, e, it.ID); now.Version != it.Version || now.Summary != it.Summary {
						t.Errorf("refused %s changed the initiative", c.method)
					}
				}
				if c.target == freshTarget && c.method == "POST" && !strings.HasSuffix(path, "/delete") {
					if now := get(t, e, it.ID); now.Summary != "Changed through the form." || now.Version != it.Version+1 {
						t.Errorf("form change not saved: %+v", now)
					}
				}
			})
		}
		// The buttons that lead to changes show only to those who may use
		// them.
		demoPath := fmt.Sprintf("/initiatives/%d", demo.ID)
		for _, c := range []struct {
			who        string
			path, link string
			shown      bool
		}{
			{policy, demoPath, demoPath + "/edit", true},
			{admin, demoPath, demoPath + "/edit", true},
			{other, demoPath, demoPath + "/edit", false},
			{analyst, demoPath, demoPath + "/delete", false},
			{policy, "/initiatives", "/initiatives/new", true},
			{analyst, "/initiatives", "/initiatives/new", false},
			{caseworker, "/initiatives", "/initiatives/import", false},
		} {
			res := send(t, bs.get(c.who), "GET", e.URL+c.path, nil)
			if got := strings.Contains(res.Body, `href="`+c.link+`"`); got != c.shown {
				t.Errorf("%s on %s: link to %s shown = %v, want %v", c.who, c.path, c.link, got, c.shown)
			}
		}
	})
}

// gcmCatalogueAccess covers the catalogue endpoints the register's forms
// depend on.
func gcmCatalogueAccess(t *testing.T, e *apptest.Env) {
	for _, c := range []struct {
		path    string
		atLeast int
		exactly int
	}{
		{"/api/v1/gcm/objectives", 0, 23},
		{"/api/v1/gcm/principles", 0, 10},
		{"/api/v1/frameworks", 1, 0},
	} {
		t.Run(c.path, func(t *testing.T) {
			if res := e.Do("GET", c.path, "", nil); res.Status != http.StatusUnauthorized || res.Problem().Status != 401 {
				t.Errorf("unauthenticated: %d", res.Status)
			}
			for _, who := range []string{analyst, caseworker, policy} {
				res := e.Do("GET", c.path, e.Token(who), nil)
				if res.Status != http.StatusOK {
					t.Fatalf("%s: %d %s", who, res.Status, res.Body)
				}
				var items []map[string]any
				res.JSON(&items)
				if c.exactly > 0 && len(items) != c.exactly || len(items) < c.atLeast {
					t.Errorf("%s: %d items", who, len(items))
				}
			}
		})
	}
	var fws []struct {
		Default bool
		Pillars []struct{ Number int }
	}
	e.Do("GET", "/api/v1/frameworks", e.Token(analyst), nil).JSON(&fws)
	if !fws[0].Default || len(fws[0].Pillars) != 6 {
		t.Errorf("default framework first with six pillars: %+v", fws)
	}
}
