package web_test

import (
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"

	"kompas/internal/platform/fault"
	"kompas/internal/platform/web"
)

func TestPathID(t *testing.T) {
	for _, tc := range []struct {
		in   string
		want int64
	}{{"1", 1}, {"42", 42}, {"0", 0}, {"-3", 0}, {"+3", 0}, {"abc", 0}, {"1e3", 0}, {"99999999999999999999", 0}} {
		r := httptest.NewRequest(http.MethodGet, "/x", nil)
		r.SetPathValue("id", tc.in)
		got, err := web.PathID(r, "id", "Thing")
		if got != tc.want || (tc.want == 0) != (err != nil) {
			t.Errorf("PathID(%q) = %d, %v; want %d", tc.in, got, err, tc.want)
		}
		if err != nil && web.StatusOf(err) != http.StatusNotFound {
			t.Errorf("PathID(%q): status %d, want 404", tc.in, web.StatusOf(err))
		}
	}
}

// TestFormShowsEveryErrorAgain: a submission that breaks rules is answered
// with the form again, 422, every field error and what was typed; a
// conflict with 409 and its reason; success as the submit decides; and any
// other error as an error page.
func TestFormShowsEveryErrorAgain(t *testing.T) {
	srv := web.NewServer(slog.New(slog.NewTextHandler(io.Discard, nil)))
	var shown *web.Form
	srv.Form("/things/new", web.Op{Public: true}, web.FormPage{
		Show: func(w http.ResponseWriter, r *http.Request, f *web.Form) error {
			shown = f
			w.WriteHeader(f.Status)
			fmt.Fprintf(w, "form %q", f.Get("name"))
			return nil
		},
		Submit: func(w http.ResponseWriter, r *http.Request, f *web.Form) error {
			switch f.Get("name") {
			case "":
				return fault.Invalid(fault.FieldError{Field: "name", Message: "is required"}, fault.FieldError{Field: "size", Message: "must be a number"})
			case "stale":
				return fault.Conflict("Someone changed it meanwhile.")
			case "boom":
				return fmt.Errorf("things: %w", fault.ErrNotFound)
			}
			return srv.Redirect(w, r, "/things/1", "Saved.")
		},
	})
	hs := httptest.NewServer(srv.Handler())
	defer hs.Close()
	client := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	post := func(name string) *http.Response {
		res, err := client.PostForm(hs.URL+"/things/new", url.Values{"name": {name}, "size": {"x"}})
		if err != nil {
			t.Fatal(err)
		}
		return res
	}
	for _, tc := range []struct {
		name     string
		status   int
		errors   int
		conflict string
	}{
		{"", http.StatusUnprocessableEntity, 2, ""},
		{"stale", http.StatusConflict, 0, "Someone changed it meanwhile."},
		{"boom", http.StatusNotFound, -1, ""},
		{"fine", http.StatusSeeOther, -1, ""},
	} {
		shown = nil
		res := post(tc.name)
		body, _ := io.ReadAll(res.Body)
		res.Body.Close()
		if res.StatusCode != tc.status {
			t.Errorf("%q: status %d, want %d", tc.name, res.StatusCode, tc.status)
		}
		if tc.errors < 0 {
			if shown != nil {
				t.Errorf("%q: the form was shown again", tc.name)
			}
			continue
		}
		if shown == nil {
			t.Fatalf("%q: the form was not shown again", tc.name)
		}
		if len(shown.Errors) != tc.errors || shown.Conflict != tc.conflict || shown.Get("size") != "x" {
			t.Errorf("%q: shown with errors %v, conflict %q, size %q", tc.name, shown.Errors, shown.Conflict, shown.Get("size"))
		}
		if !strings.Contains(string(body), fmt.Sprintf("form %q", tc.name)) {
			t.Errorf("%q: the page lost what was typed: %s", tc.name, body)
		}
	}
	res, err := http.Get(hs.URL + "/things/new")
	if err != nil {
		t.Fatal(err)
	}
	res.Body.Close()
	if res.StatusCode != http.StatusOK || len(shown.Errors) != 0 {
		t.Errorf("GET: status %d, errors %v", res.StatusCode, shown.Errors)
	}
}
