package geo_test

import (
	"sort"
	"testing"

	"kompas/internal/platform/geo"
)

func TestValid(t *testing.T) {
	tests := []struct {
		code string
		want bool
	}{
		{"NL", true},
		{"MA", true},
		{"AF", true},
		{"SS", true}, // South Sudan, assigned 2011
		{"CW", true}, // Curaçao, a successor of AN
		{"XK", true}, // Kosovo: user-assigned, kept on purpose
		{"nl", false},
		{"Nl", false},
		{"XX", false},
		{"EU", false}, // exceptionally reserved, not a country
		{"UK", false}, // exceptionally reserved; the code is GB
		{"AN", false}, // withdrawn 2010
		{"YU", false}, // withdrawn 2003
		{"NLD", false},
		{"N", false},
		{"", false},
		{" NL", false},
	}
	for _, tt := range tests {
		t.Run(tt.code, func(t *testing.T) {
			if got := geo.Valid(tt.code); got != tt.want {
				t.Errorf("Valid(%q) = %v, want %v", tt.code, got, tt.want)
			}
		})
	}
}

func TestName(t *testing.T) {
	tests := []struct{ code, want string }{
		{"NL", "Netherlands"},
		{"GB", "United Kingdom"},
		{"XX", "XX"},
		{"", ""},
	}
	for _, tt := range tests {
		if got := geo.Name(tt.code); got != tt.want {
			t.Errorf("Name(%q) = %q, want %q", tt.code, got, tt.want)
		}
	}
}

func TestAll(t *testing.T) {
	all := geo.All()
	if len(all) < 249 {
		t.Fatalf("All() has %d countries, want at least 249 (ISO 3166-1)", len(all))
	}
	seen := map[string]bool{}
	for _, c := range all {
		if seen[c.Code] {
			t.Errorf("%s listed twice", c.Code)
		}
		seen[c.Code] = true
		if !geo.Valid(c.Code) || c.Name == "" || geo.Name(c.Code) != c.Name {
			t.Errorf("entry %+v is not consistent with Valid and Name", c)
		}
	}
	if !sort.SliceIsSorted(all, func(i, j int) bool { return all[i].Name < all[j].Name }) {
		t.Error("All() is not sorted by name")
	}
	// The result is a copy.
	all[0] = geo.Country{Code: "ZZ", Name: "Nowhere"}
	if geo.All()[0].Code == "ZZ" {
		t.Error("All() exposes its backing array")
	}
}

func TestCurrentNames(t *testing.T) {
	for code, want := range map[string]string{"LY": "Libya", "SZ": "Eswatini", "NL": "Netherlands", "NE": "Niger"} {
		if got := geo.Name(code); got != want {
			t.Errorf("Name(%s) = %q, want %q", code, got, want)
		}
	}
}
