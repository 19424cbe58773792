package programmes_test

import (
	"encoding/json"
	"fmt"
	"html"
	"net/http"
	"net/url"
	"reflect"
	"regexp"
	"strings"
	"testing"

	"kompas/internal/app/apptest"
)

var (
	formRE     = regexp.MustCompile(`(?s)<form method="post" action="(/initiatives[^"]*)"[^>]*>(.*?)</form>`)
	inputRE    = regexp.MustCompile(`<input ([^>]*)>`)
	textareaRE = regexp.MustCompile(`(?s)<textarea ([^>]*)>(.*?)</textarea>`)
	selectRE   = regexp.MustCompile(`(?s)<select ([^>]*)>(.*?)</select>`)
	optionRE   = regexp.MustCompile(`<option ([^>]*)>`)
	attrRE     = regexp.MustCompile(`([a-z-]+)(?:="([^"]*)")?`)
)

func attrs(s string) map[string]string {
	m := map[string]string{}
	for _, a := range attrRE.FindAllStringSubmatch(s, -1) {
		m[a[1]] = html.UnescapeString(a[2])
	}
	return m
}

// submitted is what a browser would send for the page's form as it stands:
// its action and values, in document order within each name.
func submitted(t *testing.T, page string) (string, url.Values) {
	t.Helper()
	m := formRE.FindStringSubmatch(page)
	if m == nil {
		t.Fatalf("no form on the page")
	}
	v := url.Values{}
	for _, in := range inputRE.FindAllStringSubmatch(m[2], -1) {
		a := attrs(in[1])
		if a["name"] == "" || a["type"] == "file" {
			continue
		}
		if _, checked := a["checked"]; a["type"] == "checkbox" && !checked {
			continue
		}
		v.Add(a["name"], a["value"])
	}
	for _, ta := range textareaRE.FindAllStringSubmatch(m[2], -1) {
		v.Add(attrs(ta[1])["name"], html.UnescapeString(ta[2]))
	}
	for _, sel := range selectRE.FindAllStringSubmatch(m[2], -1) {
		name := attrs(sel[1])["name"]
		opts := optionRE.FindAllStringSubmatch(sel[2], -1)
		value := ""
		if len(opts) > 0 {
			value = attrs(opts[0][1])["value"] // a browser's default: the first
		}
		for _, o := range opts {
			if a := attrs(o[1]); hasKey(a, "selected") {
				value = a["value"]
			}
		}
		v.Add(name, value)
	}
	return html.UnescapeString(m[1]), v
}

func hasKey(m map[string]string, k string) bool { _, ok := m[k]; return ok }

// TestEditFormRoundTrip saves every initiative's edit form as the page
// shows it: nothing but the version may change. The form writes lists,
// results and sources as text, so this is where they could be garbled.
func TestEditFormRoundTrip(t *testing.T) {
	t.Parallel()
	apptest.Each(t, func(t *testing.T, e *apptest.Env) {
		awkward(t, e)
		b := validBody()
		b["title"] = "Pipes | in text"
		b["results"] = []map[string]any{{"indicator": "Share with | in it", "value": "achieved", "unit": "", "date": "", "source": ""}}
		b["sources"] = []map[string]string{{"title": "Report | Government.nl", "url": "https://example.org/a|b"}, {"title": "No address", "url": ""}}
		create(t, e, policy, b)
		c := e.Browser(policy)
		all := list(t, e, e.Token(analyst), "per_page=100")
		for _, it := range all.Items {
			t.Run(it.Title, func(t *testing.T) {
				page := send(t, c, "GET", fmt.Sprintf("%s/initiatives/%d/edit", e.URL, it.ID), nil)
				if page.Status != http.StatusOK {
					t.Fatalf("edit page: %d", page.Status)
				}
				action, form := submitted(t, page.Body)
				if action != fmt.Sprintf("/initiatives/%d", it.ID) {
					t.Fatalf("form posts to %s", action)
				}
				res := send(t, c, "POST", e.URL+action, form)
				if res.Status != http.StatusSeeOther {
					t.Fatalf("saving the unchanged form: %d %.1500s", res.Status, res.Body)
				}
				after := get(t, e, it.ID)
				if after.Version != it.Version+1 {
					t.Errorf("version %d -> %d", it.Version, after.Version)
				}
				before, now := it.Input, after.Input
				before.Version, now.Version = 0, 0
				if !reflect.DeepEqual(before, now) {
					bj, _ := json.MarshalIndent(before, "", " ")
					aj, _ := json.MarshalIndent(now, "", " ")
					t.Errorf("saving the unchanged form changed the initiative:\nbefore %s\nafter  %s", bj, aj)
				}
			})
		}
		if !strings.Contains(fmt.Sprint(titles(all.Items)), "Pipes | in text") {
			t.Error("the initiative with pipes was not listed")
		}
	})
}

// TestAddAnotherRow: the form's "Add another" buttons work without
// JavaScript. Each posts the form, which comes back with what was typed and
// one more empty row of its list, saving nothing; Enter in a field still
// saves, because the form's first submit button is Save.
func TestAddAnotherRow(t *testing.T) {
	t.Parallel()
	apptest.Each(t, func(t *testing.T, e *apptest.Env) {
		c := e.Browser(policy)
		page := send(t, c, "GET", e.URL+"/initiatives/new", nil)
		if page.Status != http.StatusOK {
			t.Fatalf("new form: %d", page.Status)
		}
		if i, j := strings.Index(page.Body, `<button type="submit" hidden`), strings.Index(page.Body, `name="add"`); i < 0 || j < i {
			t.Errorf("the first submit button of the form is not the hidden Save (at %d; the first Add another at %d)", i, j)
		}
		for _, tc := range []struct {
			list, input, anchor string
		}{
			{"results", "result_indicator", "#f-results-4"},
			{"sources", "source_title", "#f-sources-4"},
			{"partners", "partner_org", "#f-partners-4-org"},
		} {
			t.Run(tc.list, func(t *testing.T) {
				_, form := submitted(t, page.Body)
				if n := len(form[tc.input]); n != 2 {
					t.Fatalf("the new form has %d rows of %s, want 2", n, tc.list)
				}
				if !strings.Contains(page.Body, `formaction="/initiatives#`+strings.TrimPrefix(strings.Replace(tc.anchor, "4", "3", 1), "#")+`"`) {
					t.Errorf("the %s button does not lead to the new row", tc.list)
				}
				form.Set("title", "Typed before adding a row")
				form[tc.input][0] = "iom"
				form.Set("add", tc.list)
				before := counts(e)
				res := send(t, c, "POST", e.URL+"/initiatives", form)
				if res.Status != http.StatusOK {
					t.Fatalf("add a row of %s: %d %.300s", tc.list, res.Status, res.Body)
				}
				sameCounts(t, e, before)
				_, again := submitted(t, res.Body)
				if n := len(again[tc.input]); n != 3 {
					t.Errorf("after Add another, %d rows of %s, want 3", n, tc.list)
				}
				if again.Get("title") != "Typed before adding a row" || again[tc.input][0] != "iom" {
					t.Errorf("what was typed is lost: title %q, first row %q", again.Get("title"), again[tc.input][0])
				}
				if strings.Contains(res.Body, `class="error-summary"`) {
					t.Error("adding a row showed errors")
				}
				if !strings.Contains(res.Body, `formaction="/initiatives`+tc.anchor+`"`) {
					t.Errorf("the next Add another does not lead to row 4 (%s)", tc.anchor)
				}
			})
		}
	})
}
