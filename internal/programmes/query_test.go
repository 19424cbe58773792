package programmes_test

import (
	"encoding/csv"
	"fmt"
	"net/http"
	"net/url"
	"reflect"
	"slices"
	"sort"
	"strings"
	"testing"

	"kompas/internal/app/apptest"
	"kompas/internal/programmes"
)

func hasInt(list []int, n int) bool       { return slices.Contains(list, n) }
func hasStr(list []string, s string) bool { return slices.Contains(list, s) }

func hasPartner(in programmes.Input, org string) bool {
	for _, p := range in.Partners {
		if p.Org == org {
			return true
		}
	}
	return false
}

// activeIn says whether a demo initiative's period touches year y: a
// partial date's start is its first day and its end its last.
func activeIn(in programmes.Input, y int) bool {
	ys := fmt.Sprint(y)
	return (in.Start == "" || in.Start[:4] <= ys) && (in.End == "" || in.End[:4] >= ys)
}

func filters(t *testing.T, e *apptest.Env) {
	demo := demoData(t)
	cases := []struct {
		query string
		match func(in programmes.Input) bool
		least int // the demo has at least this many: the filter is not vacuous
	}{
		{"", func(programmes.Input) bool { return true }, 30},
		{"objective=21", func(in programmes.Input) bool { return hasInt(in.Objectives, 21) }, 10},
		{"objective=3", func(in programmes.Input) bool { return hasInt(in.Objectives, 3) }, 0},
		{"pillar=4", func(in programmes.Input) bool { return hasInt(in.Pillars, 4) }, 10},
		{"country=NE", func(in programmes.Input) bool { return hasStr(in.Countries, "NE") }, 2},
		{"country=ne", func(in programmes.Input) bool { return hasStr(in.Countries, "NE") }, 2},
		{"partner=iom", func(in programmes.Input) bool { return hasPartner(in, "iom") }, 8},
		{"partner=no-such-org", func(programmes.Input) bool { return false }, 0},
		{"kind=dialogue", func(in programmes.Input) bool { return in.Kind == "dialogue" }, 3},
		{"status=completed", func(in programmes.Input) bool { return in.Status == "completed" }, 5},
		{"status=planned", func(in programmes.Input) bool { return in.Status == "planned" }, 1},
		{"year=2019", func(in programmes.Input) bool { return activeIn(in, 2019) }, 20},
		{"year=2024", func(in programmes.Input) bool { return activeIn(in, 2024) }, 20},
		{"year=1950", func(in programmes.Input) bool { return activeIn(in, 1950) }, 10},
		{"objective=7&partner=iom", func(in programmes.Input) bool { return hasInt(in.Objectives, 7) && hasPartner(in, "iom") }, 3},
		{"kind=programme&status=active&pillar=1", func(in programmes.Input) bool {
			return in.Kind == "programme" && in.Status == "active" && hasInt(in.Pillars, 1)
		}, 2},
		{"objective=21&year=2022&partner=rds", func(in programmes.Input) bool {
			return hasInt(in.Objectives, 21) && activeIn(in, 2022) && hasPartner(in, "rds")
		}, 2},
	}
	tok := e.Token(analyst)
	for _, c := range cases {
		t.Run(c.query, func(t *testing.T) {
			var want []string
			for _, it := range demo {
				if c.match(it.Input) {
					want = append(want, it.Title)
				}
			}
			if len(want) < c.least {
				t.Fatalf("demo data has %d matches, the case expects at least %d", len(want), c.least)
			}
			p := list(t, e, tok, c.query+"&per_page=100")
			got := titles(p.Items)
			sort.Strings(want)
			sorted := slices.Clone(got)
			sort.Strings(sorted)
			if p.Total != len(want) || !reflect.DeepEqual(sorted, append([]string{}, want...)) {
				t.Errorf("total %d, got %q\nwant %q", p.Total, got, want)
			}
			// The CSV export applies the same filter.
			res := e.Do("GET", "/api/v1/exports/initiatives?"+c.query, tok, nil)
			recs, err := csv.NewReader(strings.NewReader(string(res.Body))).ReadAll()
			if err != nil || len(recs)-1 != len(want) {
				t.Errorf("export has %d rows, want %d (%v)", len(recs)-1, len(want), err)
			}
		})
	}
}

func TestSearch(t *testing.T) {
	t.Parallel()
	cases := []struct {
		q       string
		first   string   // the best match, when ranking decides it
		include []string // must be among the results
		exclude []string
		none    bool
	}{
		{q: "compass", include: []string{compassTitle, "Compass on sharing information about trafficking victims"}},
		{q: "compass iom", first: compassTitle, exclude: []string{"Compass on sharing information about trafficking victims"}},
		{q: "COMPASS IOM", first: compassTitle},
		{q: "traffick", include: []string{"Together Against Human Trafficking programme", "Cooperation against human trafficking through EMPACT"}},
		{q: "KhArToUm", include: []string{"Netherlands chairmanship of the Khartoum Process"}},
		{q: "reintegr", include: []string{"Research into sustainable reintegration", "Netherlands participation in the Frontex reintegration programme"}},
		{q: "ohchr", include: []string{"PROMIS programme (OHCHR and UNODC)", "OHCHR support for gender-responsive migration policies in West Africa"}},
		{q: "Office of the United Nations High Commissioner", include: []string{"PROMIS programme (OHCHR and UNODC)"}},
		{q: "Niger", include: []string{"Human rights monitoring mission to Niger", "Support to the Niger Judicial Training School"}},
		{q: "zzyzx", none: true},
		{q: "compass zzyzx", none: true},
		{q: `compass" * ( ) : & | ! ' -`, include: []string{compassTitle}}, // query syntax of either engine is only text
		{q: `!!! ***`, include: []string{compassTitle}},                    // no words: no search condition
		{q: `"compass"`, include: []string{compassTitle}},
		{q: "réintégration durable", first: "Réintégration durable en Côte d’Ivoire"},
		{q: "reintegration durable", first: "Réintégration durable en Côte d’Ivoire"},
		{q: "REINTÉGRATION DURABLE", first: "Réintégration durable en Côte d’Ivoire"},
		{q: "cote d'ivoire", include: []string{"Réintégration durable en Côte d’Ivoire"}},
		{q: "côte", include: []string{"Réintégration durable en Côte d’Ivoire"}},
		{q: "Sénégal", include: []string{"Cooperation with Senegal on return"}},
		{q: "senegal", include: []string{"Cooperation with Senegal on return"}},
	}
	apptest.Each(t, func(t *testing.T, e *apptest.Env) {
		b := validBody()
		b["title"], b["summary"], b["countries"] = "Réintégration durable en Côte d’Ivoire", "Appui à la réintégration.", []string{"CI"}
		create(t, e, policy, b)
		b = validBody()
		b["title"], b["summary"], b["countries"] = "Cooperation with Senegal on return", "Return and reintegration.", []string{"SN"}
		create(t, e, policy, b)
		tok := e.Token(analyst)
		for _, c := range cases {
			t.Run(c.q, func(t *testing.T) {
				p := list(t, e, tok, "per_page=100&q="+url.QueryEscape(c.q))
				got := titles(p.Items)
				if p.Total != len(got) {
					t.Errorf("total %d but %d items", p.Total, len(got))
				}
				if c.none {
					if len(got) != 0 {
						t.Errorf("want nothing, got %q", got)
					}
					return
				}
				if len(got) == 0 {
					t.Fatal("no results")
				}
				if c.first != "" && got[0] != c.first {
					t.Errorf("first = %q, want %q (all: %q)", got[0], c.first, got)
				}
				for _, want := range c.include {
					if !hasStr(got, want) {
						t.Errorf("%q missing from %q", want, got)
					}
				}
				for _, no := range c.exclude {
					if hasStr(got, no) {
						t.Errorf("%q should not match", no)
					}
				}
			})
		}
		// Search combines with the filters.
		p := list(t, e, tok, "q=iom&objective=1&per_page=100")
		all := list(t, e, tok, "q=iom&per_page=100")
		if p.Total == 0 || p.Total >= all.Total {
			t.Errorf("q=iom: %d with objective 1, %d without", p.Total, all.Total)
		}
		for _, it := range p.Items {
			if !hasInt(it.Objectives, 1) {
				t.Errorf("%q does not serve objective 1", it.Title)
			}
		}
	})
}

func pagination(t *testing.T, e *apptest.Env) {
	tok := e.Token(analyst)
	total := len(demoData(t))
	full := list(t, e, tok, "per_page=100")
	if full.Total != total || len(full.Items) != total || full.PerPage != 100 || full.Page != 1 {
		t.Fatalf("full listing: total %d, %d items, per page %d", full.Total, len(full.Items), full.PerPage)
	}
	if def := list(t, e, tok, ""); def.PerPage != 25 || len(def.Items) != 25 || def.Total != total {
		t.Errorf("default page: per page %d, %d items", def.PerPage, len(def.Items))
	}
	for _, c := range []struct {
		name, query string
	}{
		{"by title", ""},
		{"filtered", "objective=21"},
		{"by relevance", "q=iom"},
		{"by relevance with ties", "q=the"},
	} {
		t.Run(c.name, func(t *testing.T) {
			whole := list(t, e, tok, c.query+"&per_page=100")
			if again := list(t, e, tok, c.query+"&per_page=100"); !reflect.DeepEqual(titles(again.Items), titles(whole.Items)) {
				t.Errorf("the same request gave another order")
			}
			for _, per := range []int{1, 3, 10} {
				var ids []int64
				pages := (whole.Total + per - 1) / per
				for pg := 1; pg <= pages+1; pg++ {
					p := list(t, e, tok, fmt.Sprintf("%s&per_page=%d&page=%d", c.query, per, pg))
					if p.Total != whole.Total || p.Page != pg || p.PerPage != per {
						t.Fatalf("page %d: total %d page %d per %d", pg, p.Total, p.Page, p.PerPage)
					}
					want := per
					if pg == pages {
						want = whole.Total - (pages-1)*per
					} else if pg > pages {
						want = 0 // beyond the end: empty, not an error
					}
					if len(p.Items) != want {
						t.Errorf("per %d page %d: %d items, want %d", per, pg, len(p.Items), want)
					}
					for _, it := range p.Items {
						ids = append(ids, it.ID)
					}
				}
				var wholeIDs []int64
				for _, it := range whole.Items {
					wholeIDs = append(wholeIDs, it.ID)
				}
				if !reflect.DeepEqual(ids, wholeIDs) {
					t.Errorf("pages of %d do not add up to the whole listing:\n%v\n%v", per, ids, wholeIDs)
				}
			}
		})
	}
	if p := list(t, e, tok, "page=1000000"); p.Total != total || len(p.Items) != 0 {
		t.Errorf("last allowed page: total %d, %d items", p.Total, len(p.Items))
	}
}

func badFilters(t *testing.T, e *apptest.Env) {
	cases := []struct{ query, param string }{
		{"objective=0", "objective"},
		{"objective=24", "objective"},
		{"objective=x", "objective"},
		{"pillar=abc", "pillar"},
		{"year=1800", "year"},
		{"year=20211", "year"},
		{"country=XX", "country"},
		{"country=Netherlands", "country"},
		{"kind=Programme", "kind"},
		{"status=finished", "status"},
		{"page=0", "page"},
		{"page=-1", "page"},
		{"per_page=0", "per_page"},
		{"per_page=101", "per_page"},
		{"per_page=1000000", "per_page"},
		{"partner=%FF%FE", "partner"},
		{"partner=IOM%00", "partner"},
		{"q=" + strings.Repeat("x", 201), "q"},
	}
	tok := e.Token(analyst)
	c := e.Browser(analyst)
	for _, tc := range cases {
		t.Run(tc.query, func(t *testing.T) {
			for _, path := range []string{"/api/v1/initiatives?", "/api/v1/exports/initiatives?"} {
				res := e.Do("GET", path+tc.query, tok, nil)
				if res.Status != http.StatusBadRequest {
					t.Fatalf("%s: %d %s", path, res.Status, res.Body)
				}
				if p := res.Problem(); len(p.Errors) != 1 || p.Errors[0].Field != tc.param {
					t.Errorf("%s: errors %+v, want one naming %s", path, p.Errors, tc.param)
				}
			}
			res := send(t, c, "GET", e.URL+"/initiatives?"+tc.query, nil)
			if res.Status != http.StatusBadRequest || !strings.Contains(res.Body, `class="error-summary"`) || !strings.Contains(res.Body, `href="#f-`+tc.param+`"`) {
				t.Errorf("list page: %d, summary missing or not linking to %s", res.Status, tc.param)
			}
		})
	}
}

// TestListing reads the demo register: filters, pagination, refused
// filters and the rendered pages against their golden files. None of them
// writes, so one database serves them all.
func TestListing(t *testing.T) {
	t.Parallel()
	apptest.Each(t, func(t *testing.T, e *apptest.Env) {
		t.Run("filters", func(t *testing.T) { filters(t, e) })
		t.Run("pagination", func(t *testing.T) { pagination(t, e) })
		t.Run("bad filters", func(t *testing.T) { badFilters(t, e) })
		t.Run("golden pages", func(t *testing.T) { goldenPages(t, e) })
	})
}
