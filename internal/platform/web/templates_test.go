package web_test

import (
	"html/template"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"testing/fstest"

	"kompas/internal/platform/web"
)

func TestLabels(t *testing.T) {
	own := web.Labels{"x": "X (unspecified)", "no_show": "No-show"}
	for _, tc := range []struct {
		labels     web.Labels
		code, want string
	}{
		{nil, "", ""},
		{nil, "law", "Law"},
		{nil, "policy_measure", "Policy measure"},
		{nil, "co-funder", "Co-funder"},
		{nil, "x", "X"},
		{own, "x", "X (unspecified)"},
		{own, "no_show", "No-show"},
		{own, "voluntary_return", "Voluntary return"},
	} {
		if got := tc.labels.Label(tc.code); got != tc.want {
			t.Errorf("%v.Label(%q) = %q, want %q", tc.labels, tc.code, got, tc.want)
		}
	}
	if got := web.Label("policy_measure"); got != "Policy measure" {
		t.Errorf("Label = %q", got)
	}
}

// TestTemplateFuncs checks that every module's pages have the kernel's
// helpers and those internal/app adds with Funcs, and that a module's own
// function of the same name is the one its pages use.
func TestTemplateFuncs(t *testing.T) {
	srv := web.NewServer(slog.New(slog.NewTextHandler(io.Discard, nil)))
	srv.Funcs(template.FuncMap{"objectiveTitle": func(n int) string { return "Objective " + strings.Repeat("I", n) }})
	page := fstest.MapFS{"p.html": {Data: []byte(`{{define "content"}}<p id="out">{{country "NL"}}|{{label "policy_measure"}}|{{label "x"}}|{{objectiveTitle 2}}</p>{{end}}`)}}
	for _, tc := range []struct {
		name  string
		extra []template.FuncMap
		want  string
	}{
		{"kernel and app helpers", nil, "Netherlands|Policy measure|X|Objective II"},
		{"a module's own labels", []template.FuncMap{{"label": web.Labels{"x": "X (unspecified)"}.Label}}, "Netherlands|Policy measure|X (unspecified)|Objective II"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			rec := httptest.NewRecorder()
			if err := srv.Templates(page, tc.extra...).Render(rec, httptest.NewRequest(http.MethodGet, "/p", nil), http.StatusOK, "p.html", "P", nil); err != nil {
				t.Fatal(err)
			}
			if want := `<p id="out">` + tc.want + `</p>`; !strings.Contains(rec.Body.String(), want) {
				t.Errorf("page does not hold %s:\n%s", want, rec.Body.String())
			}
		})
	}
}
