package programmes_test

import (
	"fmt"
	"net/http"
	"reflect"
	"regexp"
	"strings"
	"testing"

	"kompas/internal/app/apptest"
)

type coverageRow struct {
	Objective int            `json:"objective"`
	Title     string         `json:"title"`
	Total     int            `json:"total"`
	ByPillar  map[string]int `json:"by_pillar"`
	NoPillar  int            `json:"no_pillar"`
}

// expectedCoverage computes the matrix from the demo data set by hand.
func expectedCoverage(demo []demoItem) []coverageRow {
	rows := make([]coverageRow, 23)
	for i := range rows {
		rows[i] = coverageRow{Objective: i + 1, ByPillar: map[string]int{}}
		for p := 1; p <= 6; p++ {
			rows[i].ByPillar[fmt.Sprint(p)] = 0
		}
	}
	for _, it := range demo {
		for _, o := range it.Objectives {
			r := &rows[o-1]
			r.Total++
			if len(it.Pillars) == 0 {
				r.NoPillar++
			}
			for _, p := range it.Pillars {
				r.ByPillar[fmt.Sprint(p)]++
			}
		}
	}
	return rows
}

func TestCoverage(t *testing.T) {
	t.Parallel()
	demo := demoData(t)
	apptest.Each(t, func(t *testing.T, e *apptest.Env) {
		tok := e.Token(analyst)
		want := expectedCoverage(demo)
		gaps := 0
		for _, r := range want {
			if r.Total == 0 {
				gaps++
			}
		}
		if gaps == 0 || want[20].Total == 0 {
			t.Fatalf("the demo should leave gaps and cover objective 21: %d gaps", gaps)
		}
		check := func(t *testing.T, want []coverageRow) {
			var got []coverageRow
			res := e.Do("GET", "/api/v1/coverage", tok, nil)
			if res.Status != http.StatusOK {
				t.Fatalf("coverage: %d", res.Status)
			}
			res.JSON(&got)
			if len(got) != 23 {
				t.Fatalf("%d rows", len(got))
			}
			for i := range got {
				if got[i].Title == "" {
					t.Errorf("objective %d has no title", got[i].Objective)
				}
				got[i].Title = ""
				if !reflect.DeepEqual(got[i], want[i]) {
					t.Errorf("objective %d: got %+v, want %+v", i+1, got[i], want[i])
				}
			}
		}
		t.Run("reads write nothing", func(t *testing.T) { readsWriteNothing(t, e) })
		t.Run("api", func(t *testing.T) { check(t, want) })

		t.Run("page", func(t *testing.T) {
			res := send(t, e.Browser(analyst), "GET", e.URL+"/coverage", nil)
			if res.Status != http.StatusOK {
				t.Fatalf("coverage page: %d", res.Status)
			}
			body := regexp.MustCompile(`(?s)<tbody>(.*)</tbody>`).FindStringSubmatch(res.Body)
			if body == nil {
				t.Fatal("no table body")
			}
			rows := regexp.MustCompile(`(?s)<tr>(.*?)</tr>`).FindAllStringSubmatch(body[1], -1)
			if len(rows) != 23 {
				t.Fatalf("%d body rows, want 23", len(rows))
			}
			if !strings.Contains(res.Body, fmt.Sprintf("%d of 23 objectives have no initiative yet", gaps)) {
				t.Errorf("page does not count the %d gaps", gaps)
			}
			for i, row := range rows {
				r := want[i]
				if !strings.Contains(row[1], fmt.Sprintf(`<th scope="row">%d. `, r.Objective)) {
					t.Errorf("row %d is not objective %d: %s", i, r.Objective, row[1])
				}
				cells := strings.Count(row[1], "<td")
				if cells != 8 {
					t.Errorf("objective %d: %d cells, want 6 pillars + no pillar + all", r.Objective, cells)
				}
				if r.Total == 0 {
					if !strings.Contains(row[1], `<td class="empty">none</td>`) || strings.Count(row[1], `class="empty"`) != 8 {
						t.Errorf("objective %d has no initiative but its row does not say none everywhere: %s", r.Objective, row[1])
					}
					continue
				}
				if !strings.Contains(row[1], fmt.Sprintf(`<a href="/initiatives?objective=%d">%d</a>`, r.Objective, r.Total)) {
					t.Errorf("objective %d: total %d not linked: %s", r.Objective, r.Total, row[1])
				}
				for p, n := range r.ByPillar {
					link := fmt.Sprintf(`<a href="/initiatives?objective=%d&amp;pillar=%s">%d</a>`, r.Objective, p, n)
					if (n > 0) != strings.Contains(row[1], link) {
						t.Errorf("objective %d pillar %s: want %d, row %s", r.Objective, p, n, row[1])
					}
				}
			}
		})

		t.Run("a new initiative closes a gap", func(t *testing.T) {
			b := validBody()
			b["objectives"], b["pillars"] = []int{3, 21}, []int{}
			create(t, e, policy, b)
			want := expectedCoverage(demo)
			want[2].Total, want[2].NoPillar = 1, 1
			want[20].Total++
			want[20].NoPillar++
			check(t, want)
			// The counts link to listings that hold what they count.
			if p := list(t, e, tok, "objective=3"); p.Total != 1 {
				t.Errorf("objective 3 lists %d", p.Total)
			}
		})
	})
}

type moneyRow struct {
	Key, Label, Currency, Amount string
	Initiatives                  int
}

func money(t *testing.T, e *apptest.Env, by string) []moneyRow {
	t.Helper()
	path := "/api/v1/money"
	if by != "" {
		path += "?by=" + by
	}
	res := e.Do("GET", path, e.Token(analyst), nil)
	if res.Status != http.StatusOK {
		t.Fatalf("money by %s: %d %s", by, res.Status, res.Body)
	}
	var rows []moneyRow
	res.JSON(&rows)
	for i := range rows {
		if rows[i].Label == "" {
			t.Errorf("row %+v has no label", rows[i])
		}
		rows[i].Label = ""
	}
	return rows
}

func TestMoney(t *testing.T) {
	t.Parallel()
	apptest.Each(t, func(t *testing.T, e *apptest.Env) {
		demoCases := []struct {
			by   string
			want []moneyRow
		}{
			{"", []moneyRow{{"6", "", "EUR", "100000000", 1}, {"7", "", "EUR", "100000000", 1}, {"15", "", "EUR", "100000000", 1}}},
			{"objective", []moneyRow{{"6", "", "EUR", "100000000", 1}, {"7", "", "EUR", "100000000", 1}, {"15", "", "EUR", "100000000", 1}}},
			{"partner", []moneyRow{{"szw", "", "EUR", "100000000", 1}}},
			{"country", []moneyRow{{"NL", "", "EUR", "100000000", 1}}},
		}
		for _, c := range demoCases {
			t.Run("demo by "+c.by, func(t *testing.T) {
				if got := money(t, e, c.by); !reflect.DeepEqual(got, c.want) {
					t.Errorf("got %+v\nwant %+v", got, c.want)
				}
			})
		}
		t.Run("page", func(t *testing.T) {
			res := send(t, e.Browser(analyst), "GET", e.URL+"/money", nil)
			for _, want := range []string{"EUR 100,000,000", `href="/initiatives?partner=szw"`, `href="/initiatives?country=NL"`, `href="/initiatives?objective=15"`, "Ministry of Social Affairs and Employment"} {
				if !strings.Contains(res.Body, want) {
					t.Errorf("money page lacks %q", want)
				}
			}
		})
		t.Run("bad grouping", func(t *testing.T) {
			res := e.Do("GET", "/api/v1/money?by=ministry", e.Token(analyst), nil)
			if res.Status != http.StatusBadRequest || len(res.Problem().Errors) != 1 || res.Problem().Errors[0].Field != "by" {
				t.Errorf("by=ministry: %d %s", res.Status, res.Body)
			}
		})

		// More budgets: sums per currency, partners with two roles counted
		// once, an initiative without budget not at all.
		budget := func(title string, amount, cur string, objectives []int, countries []string, partners ...[2]string) {
			b := validBody()
			b["title"], b["objectives"], b["countries"] = title, objectives, countries
			ps := []map[string]string{}
			for _, p := range partners {
				ps = append(ps, map[string]string{"org": p[0], "role": p[1]})
			}
			b["partners"] = ps
			if amount == "" {
				delete(b, "budget")
			} else {
				b["budget"] = map[string]any{"amount": amount, "currency": cur}
			}
			create(t, e, policy, b)
		}
		budget("Housing pilot", "250.50", "EUR", []int{7}, []string{"NL", "NE"}, [2]string{"szw", "funder"}, [2]string{"iom", "implementer"})
		budget("Dollar grant", "1000", "USD", []int{7}, []string{"NE"}, [2]string{"iom", "implementer"})
		budget("Ministry both leads and funds", "10", "EUR", []int{23}, []string{}, [2]string{"szw", "lead"}, [2]string{"szw", "funder"})
		budget("No budget", "", "", []int{7}, []string{"NE"}, [2]string{"iom", "funder"})
		moreCases := []struct {
			by   string
			want []moneyRow
		}{
			{"objective", []moneyRow{{"6", "", "EUR", "100000000", 1}, {"7", "", "EUR", "100000250.5", 2}, {"7", "", "USD", "1000", 1},
				{"15", "", "EUR", "100000000", 1}, {"23", "", "EUR", "10", 1}}},
			{"partner", []moneyRow{{"szw", "", "EUR", "100000260.5", 3}, {"iom", "", "USD", "1000", 1}, {"iom", "", "EUR", "250.5", 1}}},
			{"country", []moneyRow{{"NL", "", "EUR", "100000250.5", 2}, {"NE", "", "USD", "1000", 1}, {"NE", "", "EUR", "250.5", 1}}},
		}
		for _, c := range moreCases {
			t.Run("more by "+c.by, func(t *testing.T) {
				if got := money(t, e, c.by); !reflect.DeepEqual(got, c.want) {
					t.Errorf("got %+v\nwant %+v", got, c.want)
				}
			})
		}
	})
}

// readsWriteNothing: reading the register, coverage and money never
// writes, not even an audit event.
func readsWriteNothing(t *testing.T, e *apptest.Env) {
	tok := e.Token(analyst) // signing in is audited; reading is not
	before := counts(e)
	audit := e.Count("audit_events")
	for _, p := range []string{"/api/v1/coverage", "/api/v1/money?by=partner", "/api/v1/initiatives?q=iom", "/api/v1/exports/initiatives"} {
		if res := e.Do("GET", p, tok, nil); res.Status != http.StatusOK {
			t.Errorf("%s: %d", p, res.Status)
		}
	}
	sameCounts(t, e, before)
	if e.Count("audit_events") != audit {
		t.Error("reads wrote audit events")
	}
}
