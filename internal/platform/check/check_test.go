package check_test

import (
	"errors"
	"strings"
	"testing"

	"kompas/internal/platform/check"
	"kompas/internal/platform/fault"
)

// TestFieldsCollectsEveryError: one submission with several bad fields is
// answered with all of them, in order, as one invalid-input fault.
func TestFieldsCollectsEveryError(t *testing.T) {
	var c check.Fields
	title, kind, on, late, fine := "  ", "Nope", "2024-13-01", "2030-01-01", " ok "
	c.Text("title", &title, true, 10)
	c.Code("kind", &kind, []string{"law", "fund"}, true)
	c.Date("visited_on", &on, true, "")
	c.Date("flown_on", &late, false, "2026-12-01")
	c.Text("note", &fine, false, 10)
	codes := c.Codes("scope", []string{"partner", "bogus", "partner"}, []string{"partner", "referral"})
	err := c.Err()
	if !errors.Is(err, fault.Invalid()) {
		t.Fatalf("Err = %v, want an invalid-input fault", err)
	}
	var got []string
	for _, f := range fault.As(err).Fields {
		got = append(got, f.Field)
	}
	want := []string{"title", "kind", "visited_on", "flown_on", "scope[1]"}
	if strings.Join(got, ",") != strings.Join(want, ",") {
		t.Errorf("fields %v, want %v", got, want)
	}
	if fine != "ok" || kind != "nope" {
		t.Errorf("values not normalised: note %q, kind %q", fine, kind)
	}
	if strings.Join(codes, ",") != "partner" {
		t.Errorf("Codes = %v, want [partner] once", codes)
	}
	if !c.Has("scope") || c.Has("note") || c.OK() {
		t.Errorf("Has/OK wrong: scope %v note %v ok %v", c.Has("scope"), c.Has("note"), c.OK())
	}
}

func TestFieldsEmptyIsNil(t *testing.T) {
	var c check.Fields
	s, d := "fine", ""
	c.Text("a", &s, true, 10)
	c.Date("b", &d, false, "")
	if err := c.Err(); err != nil || !c.OK() {
		t.Errorf("no errors expected, got %v", err)
	}
}

func TestFieldsBoundaries(t *testing.T) {
	for _, tc := range []struct {
		name, in string
		max      int
		bad      bool
	}{
		{"at the limit", "ééééé", 5, false},
		{"one over", "éééééé", 5, true},
		{"NUL", "a\x00b", 5, true},
		{"not UTF-8", "a\xffb", 5, true},
	} {
		var c check.Fields
		s := tc.in
		c.Text("x", &s, false, tc.max)
		if got := !c.OK(); got != tc.bad {
			t.Errorf("%s: bad = %v, want %v (%v)", tc.name, got, tc.bad, c.List())
		}
	}
	for _, tc := range []struct {
		in  string
		bad bool
	}{{"1900-01-01", false}, {"1899-12-31", true}, {"2024-02-30", true}, {"2024-2-3", true}, {"2024-02-29", false}} {
		var c check.Fields
		s := tc.in
		c.Date("d", &s, true, "")
		if got := !c.OK(); got != tc.bad {
			t.Errorf("date %q: bad = %v, want %v", tc.in, got, tc.bad)
		}
	}
}
