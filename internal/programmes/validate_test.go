package programmes

import (
	"encoding/json"
	"fmt"
	"math"
	"net/url"
	"reflect"
	"sort"
	"strings"
	"testing"

	"kompas/internal/platform/facts"
	"kompas/internal/platform/fault"
	"kompas/internal/platform/web"
)

// defaultPillars is the six-pillar framework the migrations ship.
var defaultPillars = map[int]bool{1: true, 2: true, 3: true, 4: true, 5: true, 6: true}

// validBase is an input that passes validate, already in normal form.
func validBase() Input {
	return Input{
		Title:      "Support to return counselling",
		Summary:    "A programme.",
		Kind:       "programme",
		Status:     "active",
		Lead:       "mfa",
		Start:      "2021-04",
		End:        "2023",
		Countries:  []string{"NE", "NG"},
		Regions:    []string{"Sahel"},
		Objectives: []int{7, 21},
		Principles: []string{"a", "c"},
		Pillars:    []int{2, 4},
		Partners:   []Partner{{Org: "iom", Role: "implementer"}, {Org: "mfa", Role: "funder"}},
		Budget:     &Money{Amount: "1500000", Currency: "EUR"},
		Results:    []Result{{Indicator: "Migrants counselled", Value: "1200", Unit: "persons", Date: "2022", Source: "IOM"}},
		Sources:    []Source{{Title: "Annual report", URL: "https://example.org/report"}},
	}
}

func fieldsOf(errs []fault.FieldError) []string {
	out := []string{}
	for _, e := range errs {
		out = append(out, e.Field)
	}
	sort.Strings(out)
	return out
}

func TestValidateRejects(t *testing.T) {
	many := func(n int, f func(i int) string) []string {
		out := make([]string, n)
		for i := range out {
			out[i] = f(i)
		}
		return out
	}
	tests := []struct {
		name   string
		edit   func(in *Input)
		fields []string
	}{
		{"title missing", func(in *Input) { in.Title = "" }, []string{"title"}},
		{"title only spaces", func(in *Input) { in.Title = " \t\n " }, []string{"title"}},
		{"title over 200 characters", func(in *Input) { in.Title = strings.Repeat("x", 201) }, []string{"title"}},
		{"title over 200 multibyte characters", func(in *Input) { in.Title = strings.Repeat("é", 201) }, []string{"title"}},
		{"title with NUL", func(in *Input) { in.Title = "a\x00b" }, []string{"title"}},
		{"title not UTF-8", func(in *Input) { in.Title = "caf\xe9" }, []string{"title"}},
		{"title on two lines", func(in *Input) { in.Title = "one\ntwo" }, []string{"title"}},
		{"title with a carriage return", func(in *Input) { in.Title = "one\rtwo" }, []string{"title"}},
		{"region on two lines", func(in *Input) { in.Regions = []string{"Sahel\nMaghreb"} }, []string{"regions[0]"}},
		{"result fields on two lines", func(in *Input) {
			in.Results[0].Indicator, in.Results[0].Source, in.Results[0].Value = "a\nb", "c\r\nd", "1\n2"
		}, []string{"results[0].indicator", "results[0].source", "results[0].value"}},
		{"source title on two lines", func(in *Input) { in.Sources[0].Title = "a\nb" }, []string{"sources[0].title"}},
		{"summary over limit", func(in *Input) { in.Summary = strings.Repeat("s", maxSummary+1) }, []string{"summary"}},
		{"report section over limit", func(in *Input) { in.ReportSection = strings.Repeat("r", maxShortText+1) }, []string{"report_section"}},
		{"kind missing", func(in *Input) { in.Kind = "" }, []string{"kind"}},
		{"kind unknown", func(in *Input) { in.Kind = "Programme" }, []string{"kind"}},
		{"status unknown", func(in *Input) { in.Status = "done" }, []string{"status"}},
		{"lead not a slug", func(in *Input) { in.Lead = "Ministry of X" }, []string{"lead"}},
		{"lead not UTF-8", func(in *Input) { in.Lead = "\xff" }, []string{"lead"}},
		{"start month 13", func(in *Input) { in.Start = "2021-13" }, []string{"start"}},
		{"start 29 February of a common year", func(in *Input) { in.Start = "2021-02-29" }, []string{"start"}},
		{"start two digits", func(in *Input) { in.Start = "21" }, []string{"start"}},
		{"start before 1900", func(in *Input) { in.Start = "1899" }, []string{"start"}},
		{"end after 2200", func(in *Input) { in.End = "2201" }, []string{"end"}},
		{"end before start", func(in *Input) { in.Start, in.End = "2022", "2021" }, []string{"end"}},
		{"end month before start day", func(in *Input) { in.Start, in.End = "2021-05-02", "2021-04" }, []string{"end"}},
		{"unknown country XX", func(in *Input) { in.Countries = []string{"NL", "XX"} }, []string{"countries[1]"}},
		{"country alpha-3", func(in *Input) { in.Countries = []string{"NLD"} }, []string{"countries[0]"}},
		{"too many countries", func(in *Input) { in.Countries = many(301, func(int) string { return "NL" }) }, []string{"countries"}},
		{"empty region", func(in *Input) { in.Regions = []string{"Sahel", " "} }, []string{"regions[1]"}},
		{"region with the list separator", func(in *Input) { in.Regions = []string{"Sahel; Maghreb"} }, []string{"regions[0]"}},
		{"region over limit", func(in *Input) { in.Regions = []string{strings.Repeat("r", maxRegionText+1)} }, []string{"regions[0]"}},
		{"too many regions", func(in *Input) { in.Regions = many(51, func(i int) string { return fmt.Sprint("R", i) }) }, []string{"regions"}},
		{"objective 0", func(in *Input) { in.Objectives = []int{0} }, []string{"objectives[0]"}},
		{"objective 24", func(in *Input) { in.Objectives = []int{7, 24} }, []string{"objectives[1]"}},
		{"objective negative", func(in *Input) { in.Objectives = []int{-1} }, []string{"objectives[0]"}},
		{"principle k", func(in *Input) { in.Principles = []string{"k"} }, []string{"principles[0]"}},
		{"principle empty", func(in *Input) { in.Principles = []string{"a", ""} }, []string{"principles[1]"}},
		{"principle two letters", func(in *Input) { in.Principles = []string{"ab"} }, []string{"principles[0]"}},
		{"pillar 7", func(in *Input) { in.Pillars = []int{7} }, []string{"pillars[0]"}},
		{"pillar 0", func(in *Input) { in.Pillars = []int{1, 0} }, []string{"pillars[1]"}},
		{"partner without org", func(in *Input) { in.Partners = []Partner{{Org: " ", Role: "funder"}} }, []string{"partners[0].org"}},
		{"partner org not a slug", func(in *Input) { in.Partners = []Partner{{Org: "IOM;mfa", Role: "funder"}} }, []string{"partners[0].org"}},
		{"partner role unknown", func(in *Input) { in.Partners = []Partner{{Org: "iom", Role: "sponsor"}} }, []string{"partners[0].role"}},
		{"partner role missing", func(in *Input) { in.Partners = []Partner{{Org: "iom"}} }, []string{"partners[0].role"}},
		{"duplicate partner", func(in *Input) {
			in.Partners = []Partner{{Org: "iom", Role: "implementer"}, {Org: " iom ", Role: "implementer"}}
		}, []string{"partners[1]"}},
		{"too many partners", func(in *Input) {
			in.Partners = nil
			for i := 0; i <= maxListItems; i++ {
				in.Partners = append(in.Partners, Partner{Org: fmt.Sprint("org-", i), Role: "member"})
			}
		}, []string{"partners"}},
		{"negative budget", func(in *Input) { in.Budget.Amount = "-5" }, []string{"budget.amount"}},
		{"budget with 3 decimals", func(in *Input) { in.Budget.Amount = "10.005" }, []string{"budget.amount"}},
		{"budget with exponent", func(in *Input) { in.Budget.Amount = "1e6" }, []string{"budget.amount"}},
		{"budget in hexadecimal", func(in *Input) { in.Budget.Amount = "0x10" }, []string{"budget.amount"}},
		{"budget with digit separators", func(in *Input) { in.Budget.Amount = "1_000" }, []string{"budget.amount"}},
		{"budget as a fraction", func(in *Input) { in.Budget.Amount = "1/3" }, []string{"budget.amount"}},
		{"budget missing its amount", func(in *Input) { in.Budget.Amount = "" }, []string{"budget.amount"}},
		{"budget over the maximum", func(in *Input) { in.Budget.Amount = json.Number(formatMinor(maxBudget + 1)) }, []string{"budget.amount"}},
		{"budget beyond int64", func(in *Input) { in.Budget.Amount = "99999999999999999999999" }, []string{"budget.amount"}},
		{"currency EURO", func(in *Input) { in.Budget.Currency = "EURO" }, []string{"budget.currency"}},
		{"currency missing", func(in *Input) { in.Budget.Currency = "" }, []string{"budget.currency"}},
		{"currency unknown", func(in *Input) { in.Budget.Currency = "ABC" }, []string{"budget.currency"}},
		{"result without indicator", func(in *Input) { in.Results[0].Indicator = "" }, []string{"results[0].indicator"}},
		{"result without value", func(in *Input) { in.Results[0].Value = " " }, []string{"results[0].value"}},
		{"result value over limit", func(in *Input) { in.Results[0].Value = Value(strings.Repeat("v", 101)) }, []string{"results[0].value"}},
		{"result unit over limit", func(in *Input) { in.Results[0].Unit = strings.Repeat("u", 51) }, []string{"results[0].unit"}},
		{"result bad date", func(in *Input) { in.Results[0].Date = "2022-1" }, []string{"results[0].date"}},
		{"too many results", func(in *Input) {
			for i := 0; i < maxListItems; i++ {
				in.Results = append(in.Results, in.Results[0])
			}
		}, []string{"results"}},
		{"source without title", func(in *Input) { in.Sources[0].Title = "" }, []string{"sources[0].title"}},
		{"source URL javascript:", func(in *Input) { in.Sources[0].URL = "javascript:alert(1)" }, []string{"sources[0].url"}},
		{"source URL ftp:", func(in *Input) { in.Sources[0].URL = "ftp://example.org/x" }, []string{"sources[0].url"}},
		{"source URL without host", func(in *Input) { in.Sources[0].URL = "https://" }, []string{"sources[0].url"}},
		{"source URL without scheme", func(in *Input) { in.Sources[0].URL = "//example.org/x" }, []string{"sources[0].url"}},
		{"source URL not UTF-8", func(in *Input) { in.Sources[0].URL = "https://example.org/\xff" }, []string{"sources[0].url"}},
		{"source URL over limit", func(in *Input) { in.Sources[0].URL = "https://example.org/" + strings.Repeat("a", maxURL) }, []string{"sources[0].url"}},
		{"several at once", func(in *Input) {
			in.Title, in.Kind, in.Countries, in.Objectives = "", "x", []string{"XX"}, []int{24}
		}, []string{"countries[0]", "kind", "objectives[0]", "title"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			in := validBase()
			tt.edit(&in)
			_, errs := validate(in, defaultPillars)
			if got := fieldsOf(errs); !reflect.DeepEqual(got, tt.fields) {
				t.Fatalf("fields = %v, want %v (%v)", got, tt.fields, errs)
			}
			for _, e := range errs {
				if e.Message == "" {
					t.Errorf("field %s has no message", e.Field)
				}
			}
		})
	}
}

func TestValidateNormalises(t *testing.T) {
	tests := []struct {
		name  string
		edit  func(in *Input)
		check func(t *testing.T, c clean)
	}{
		{"valid base unchanged", func(*Input) {}, func(t *testing.T, c clean) {
			if !reflect.DeepEqual(c.in, validBase()) {
				t.Errorf("normal input changed:\n got %+v\nwant %+v", c.in, validBase())
			}
			if c.startDate != "2021-04-01" || c.endDate != "2023-12-31" {
				t.Errorf("dates %s..%s", c.startDate, c.endDate)
			}
			if c.budgetMinor == nil || *c.budgetMinor != 150000000 {
				t.Errorf("budget minor = %v", c.budgetMinor)
			}
		}},
		{"text trimmed", func(in *Input) { in.Title, in.Summary, in.Lead = "  Title \n", "\tSummary ", " mfa " }, func(t *testing.T, c clean) {
			if c.in.Title != "Title" || c.in.Summary != "Summary" || c.in.Lead != "mfa" {
				t.Errorf("got %q %q %q", c.in.Title, c.in.Summary, c.in.Lead)
			}
		}},
		{"line endings normalised", func(in *Input) { in.Summary = "one\r\ntwo\rthree" }, func(t *testing.T, c clean) {
			if c.in.Summary != "one\ntwo\nthree" {
				t.Errorf("summary = %q", c.in.Summary)
			}
		}},
		{"title of exactly 200 multibyte characters", func(in *Input) { in.Title = strings.Repeat("é", 200) }, func(t *testing.T, c clean) {
			if len([]rune(c.in.Title)) != 200 {
				t.Errorf("title has %d runes", len([]rune(c.in.Title)))
			}
		}},
		{"countries upper-cased, sorted, unique", func(in *Input) { in.Countries = []string{"nl", " NE ", "NL", "ne"} }, func(t *testing.T, c clean) {
			if !reflect.DeepEqual(c.in.Countries, []string{"NE", "NL"}) {
				t.Errorf("countries = %v", c.in.Countries)
			}
		}},
		{"regions unique in order", func(in *Input) { in.Regions = []string{" Sahel", "Maghreb", "Sahel "} }, func(t *testing.T, c clean) {
			if !reflect.DeepEqual(c.in.Regions, []string{"Sahel", "Maghreb"}) {
				t.Errorf("regions = %v", c.in.Regions)
			}
		}},
		{"objectives, principles and pillars sorted and unique", func(in *Input) {
			in.Objectives, in.Principles, in.Pillars = []int{21, 7, 21}, []string{"C", " a", "c"}, []int{4, 2, 4}
		}, func(t *testing.T, c clean) {
			if !reflect.DeepEqual(c.in.Objectives, []int{7, 21}) || !reflect.DeepEqual(c.in.Principles, []string{"a", "c"}) || !reflect.DeepEqual(c.in.Pillars, []int{2, 4}) {
				t.Errorf("got %v %v %v", c.in.Objectives, c.in.Principles, c.in.Pillars)
			}
		}},
		{"partner org trimmed and name dropped", func(in *Input) {
			in.Partners = []Partner{{Org: " iom ", Role: "implementer", Name: "typed by a client"}}
		}, func(t *testing.T, c clean) {
			if !reflect.DeepEqual(c.in.Partners, []Partner{{Org: "iom", Role: "implementer"}}) {
				t.Errorf("partners = %+v", c.in.Partners)
			}
		}},
		{"budget written canonically", func(in *Input) { in.Budget = &Money{Amount: " 1250.50 ", Currency: " eur"} }, func(t *testing.T, c clean) {
			if c.in.Budget.Amount != "1250.5" || c.in.Budget.Currency != "EUR" || *c.budgetMinor != 125050 {
				t.Errorf("budget = %+v minor %d", c.in.Budget, *c.budgetMinor)
			}
		}},
		{"budget of zero", func(in *Input) { in.Budget.Amount = "0.00" }, func(t *testing.T, c clean) {
			if c.in.Budget.Amount != "0" || *c.budgetMinor != 0 {
				t.Errorf("budget = %+v", c.in.Budget)
			}
		}},
		{"budget at the maximum", func(in *Input) { in.Budget.Amount = json.Number(formatMinor(maxBudget)) }, func(t *testing.T, c clean) {
			if *c.budgetMinor != maxBudget {
				t.Errorf("minor = %d", *c.budgetMinor)
			}
		}},
		{"no budget", func(in *Input) { in.Budget = nil }, func(t *testing.T, c clean) {
			if c.in.Budget != nil || c.budgetMinor != nil {
				t.Errorf("budget = %+v", c.in.Budget)
			}
		}},
		{"nil lists become empty", func(in *Input) {
			in.Countries, in.Regions, in.Objectives, in.Principles, in.Pillars, in.Partners, in.Results, in.Sources = nil, nil, nil, nil, nil, nil, nil, nil
		}, func(t *testing.T, c clean) {
			b, _ := json.Marshal(c.in)
			for _, k := range []string{"countries", "regions", "objectives", "principles", "pillars", "partners", "results", "sources"} {
				if !strings.Contains(string(b), `"`+k+`":[]`) {
					t.Errorf("%s is not [] in %s", k, b)
				}
			}
		}},
		{"open-ended dates", func(in *Input) { in.Start, in.End = "", "" }, func(t *testing.T, c clean) {
			if c.startDate != "" || c.endDate != "" {
				t.Errorf("dates %q %q", c.startDate, c.endDate)
			}
		}},
		{"same start and end month", func(in *Input) { in.Start, in.End = "2020-02", "2020-02" }, func(t *testing.T, c clean) {
			if c.startDate != "2020-02-01" || c.endDate != "2020-02-29" {
				t.Errorf("dates %s..%s", c.startDate, c.endDate)
			}
		}},
		{"result value and date trimmed", func(in *Input) { in.Results[0].Value, in.Results[0].Date = " 12.5 ", " 2021-03 " }, func(t *testing.T, c clean) {
			if c.in.Results[0].Value != "12.5" || c.in.Results[0].Date != "2021-03" {
				t.Errorf("result = %+v", c.in.Results[0])
			}
		}},
		{"qualitative result", func(in *Input) { in.Results[0].Value = "achieved" }, func(t *testing.T, c clean) {
			if c.in.Results[0].Value != "achieved" {
				t.Errorf("value = %q", c.in.Results[0].Value)
			}
		}},
		{"source without URL", func(in *Input) { in.Sources[0].URL = " " }, func(t *testing.T, c clean) {
			if c.in.Sources[0].URL != "" {
				t.Errorf("url = %q", c.in.Sources[0].URL)
			}
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			in := validBase()
			tt.edit(&in)
			c, errs := validate(in, defaultPillars)
			if len(errs) > 0 {
				t.Fatalf("unexpected errors: %v", errs)
			}
			tt.check(t, c)
			// Normal form is a fixed point.
			again, errs := validate(cloneInput(c.in), defaultPillars)
			if len(errs) > 0 || !reflect.DeepEqual(again, c) {
				t.Errorf("validating the normal form again changed it: %v\n got %+v\nwant %+v", errs, again, c)
			}
		})
	}
}

// TestValidateLeavesCallerInput checks that validate normalises a copy: the
// caller's slices keep what was sent.
func TestValidateLeavesCallerInput(t *testing.T) {
	in := validBase()
	in.Partners[0] = Partner{Org: " iom ", Role: "implementer", Name: "x"}
	in.Results[0].Indicator = " padded "
	in.Sources[0].URL = " https://example.org/ "
	if _, errs := validate(in, defaultPillars); len(errs) > 0 {
		t.Fatal(errs)
	}
	if in.Partners[0].Org != " iom " || in.Partners[0].Name != "x" || in.Results[0].Indicator != " padded " || in.Sources[0].URL != " https://example.org/ " {
		t.Errorf("caller's input was changed: %+v %+v %+v", in.Partners[0], in.Results[0], in.Sources[0])
	}
}

// cloneInput copies every slice so that validating the copy cannot touch the
// original.
func cloneInput(in Input) Input {
	out := in
	out.Countries = append([]string(nil), in.Countries...)
	out.Regions = append([]string(nil), in.Regions...)
	out.Objectives = append([]int(nil), in.Objectives...)
	out.Principles = append([]string(nil), in.Principles...)
	out.Pillars = append([]int(nil), in.Pillars...)
	out.Partners = append([]Partner(nil), in.Partners...)
	out.Results = append([]Result(nil), in.Results...)
	out.Sources = append([]Source(nil), in.Sources...)
	if in.Budget != nil {
		b := *in.Budget
		out.Budget = &b
	}
	return out
}

func TestPartialDate(t *testing.T) {
	tests := []struct {
		in       string
		end      bool
		want     string
		wantOK   bool
		describe string
	}{
		{"", false, "", true, "empty stays empty"},
		{"", true, "", true, "empty end stays empty"},
		{"2021", false, "2021-01-01", true, "year starts 1 January"},
		{"2021", true, "2021-12-31", true, "year ends 31 December"},
		{"2021-04", false, "2021-04-01", true, "month start"},
		{"2021-04", true, "2021-04-30", true, "30-day month end"},
		{"2021-02", true, "2021-02-28", true, "February of a common year"},
		{"2020-02", true, "2020-02-29", true, "February of a leap year"},
		{"2021-12", true, "2021-12-31", true, "December does not roll into next year"},
		{"2021-04-15", false, "2021-04-15", true, "day"},
		{"2021-04-15", true, "2021-04-15", true, "day as end"},
		{"2020-02-29", false, "2020-02-29", true, "leap day"},
		{"1900", false, "1900-01-01", true, "lower bound"},
		{"2200", true, "2200-12-31", true, "upper bound"},
		{"1899", false, "", false, "before 1900"},
		{"2201", false, "", false, "after 2200"},
		{"2021-13", false, "", false, "month 13"},
		{"2021-00", false, "", false, "month 0"},
		{"2021-02-29", false, "", false, "29 February of a common year"},
		{"2021-04-31", false, "", false, "31 April"},
		{"2021-4", false, "", false, "one-digit month"},
		{"2021/04", false, "", false, "slash"},
		{"21", false, "", false, "two-digit year"},
		{" 2021", false, "", false, "untrimmed"},
		{"abcd", false, "", false, "letters"},
		{"-001", false, "", false, "negative year"},
		{"2021-04-15T10:00", false, "", false, "timestamp"},
		{"15-04-2021", false, "", false, "day first"},
	}
	for _, tt := range tests {
		t.Run(tt.describe, func(t *testing.T) {
			got, ok := PartialDate(tt.in, tt.end)
			if got != tt.want || ok != tt.wantOK {
				t.Errorf("PartialDate(%q, %v) = %q, %v; want %q, %v", tt.in, tt.end, got, ok, tt.want, tt.wantOK)
			}
		})
	}
}

func TestParseMinor(t *testing.T) {
	tests := []struct {
		in      string
		want    int64
		wantErr string
	}{
		{"0", 0, ""},
		{"1", 100, ""},
		{"1.5", 150, ""},
		{"1.50", 150, ""},
		{"1250.05", 125005, ""},
		{" 12 ", 1200, ""},
		{"007", 700, ""},
		{"-1", -100, ""},
		{"-0.01", -1, ""},
		{"92233720368547758.07", math.MaxInt64, ""},
		{"92233720368547758.08", 0, "larger"},
		{"1.234", 0, "two decimals"},
		{"0.001", 0, "two decimals"},
		{"", 0, "required"},
		{"  ", 0, "required"},
		{"abc", 0, "decimal number"},
		{"1e3", 0, "decimal number"},
		{"1E3", 0, "decimal number"},
		{"1/2", 0, "decimal number"},
		{"0x10", 0, "decimal number"},
		{"0b11", 0, "decimal number"},
		{"0x1p4", 0, "decimal number"},
		{"1_000", 0, "decimal number"},
		{"1,000", 0, "decimal number"},
		{"+5", 0, "decimal number"},
		{".5", 0, "decimal number"},
		{"5.", 0, "decimal number"},
		{"1 000", 0, "decimal number"},
		{"€5", 0, "decimal number"},
		{"NaN", 0, "decimal number"},
		{"Inf", 0, "decimal number"},
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			got, msg := parseMinor(tt.in)
			if tt.wantErr == "" {
				if msg != "" || got != tt.want {
					t.Errorf("parseMinor(%q) = %d, %q; want %d", tt.in, got, msg, tt.want)
				}
				return
			}
			if !strings.Contains(msg, tt.wantErr) {
				t.Errorf("parseMinor(%q) = %d, %q; want a message about %q", tt.in, got, msg, tt.wantErr)
			}
		})
	}
}

func TestFormatMinor(t *testing.T) {
	tests := []struct {
		in   int64
		want string
	}{
		{0, "0"},
		{1, "0.01"},
		{5, "0.05"},
		{10, "0.1"},
		{50, "0.5"},
		{100, "1"},
		{110, "1.1"},
		{150, "1.5"},
		{12345, "123.45"},
		{100000000_00, "100000000"},
		{-5, "-0.05"},
		{-150, "-1.5"},
		{-100, "-1"},
		{maxBudget, "10000000000000"},
		{math.MaxInt64, "92233720368547758.07"},
	}
	for _, tt := range tests {
		t.Run(tt.want, func(t *testing.T) {
			if got := formatMinor(tt.in); got != tt.want {
				t.Errorf("formatMinor(%d) = %q, want %q", tt.in, got, tt.want)
			}
			back, msg := parseMinor(tt.want)
			if msg != "" || back != tt.in {
				t.Errorf("parseMinor(formatMinor(%d)) = %d, %q", tt.in, back, msg)
			}
		})
	}
	// Every amount up to ten units, and a spread of large ones, survive a
	// round trip through the text form.
	for m := int64(-1000); m <= 1000; m++ {
		if back, msg := parseMinor(formatMinor(m)); msg != "" || back != m {
			t.Fatalf("round trip of %d: %d %q", m, back, msg)
		}
	}
	for m := int64(1); m > 0 && m < math.MaxInt64/7; m = m*7 + 3 {
		if back, msg := parseMinor(formatMinor(m)); msg != "" || back != m {
			t.Fatalf("round trip of %d: %d %q", m, back, msg)
		}
	}
}

func TestValueJSON(t *testing.T) {
	tests := []struct {
		json    string
		want    Value
		numeric bool
		out     string // MarshalJSON of the decoded value
		wantErr bool
	}{
		{json: `5`, want: "5", numeric: true, out: `5`},
		{json: `5.50`, want: "5.50", numeric: true, out: `5.50`},
		{json: `-3`, want: "-3", numeric: true, out: `-3`},
		{json: `0`, want: "0", numeric: true, out: `0`},
		{json: `"12"`, want: "12", numeric: true, out: `12`},
		{json: `"achieved"`, want: "achieved", out: `"achieved"`},
		{json: `"1 200"`, want: "1 200", out: `"1 200"`},
		{json: `1e3`, want: "1e3", out: `"1e3"`},
		{json: `"0x10"`, want: "0x10", out: `"0x10"`},
		{json: `"+5"`, want: "+5", out: `"+5"`},
		{json: `"007"`, want: "007", out: `"007"`},
		{json: `"1/2"`, want: "1/2", out: `"1/2"`},
		{json: `"NaN"`, want: "NaN", out: `"NaN"`},
		{json: `"<b>"`, want: "<b>", out: `"\u003cb\u003e"`},
		{json: `""`, want: "", out: `""`},
		{json: `null`, want: "", out: `""`},
		{json: `"12345678901234567890123456789012345678901"`, want: "12345678901234567890123456789012345678901", out: `"12345678901234567890123456789012345678901"`},
		{json: `true`, wantErr: true},
		{json: `[1]`, wantErr: true},
		{json: `{"a":1}`, wantErr: true},
	}
	for _, tt := range tests {
		t.Run(tt.json, func(t *testing.T) {
			var v Value
			err := json.Unmarshal([]byte(tt.json), &v)
			if tt.wantErr {
				var te *json.UnmarshalTypeError
				if err == nil || !errorsAs(err, &te) {
					t.Fatalf("Unmarshal(%s) = %q, %v; want a type error", tt.json, v, err)
				}
				return
			}
			if err != nil || v != tt.want {
				t.Fatalf("Unmarshal(%s) = %q, %v; want %q", tt.json, v, err, tt.want)
			}
			if v.Numeric() != tt.numeric {
				t.Errorf("%q.Numeric() = %v", v, v.Numeric())
			}
			out, err := json.Marshal(v)
			if err != nil || string(out) != tt.out {
				t.Fatalf("Marshal(%q) = %s, %v; want %s", v, out, err, tt.out)
			}
			var back Value
			if err := json.Unmarshal(out, &back); err != nil || back != v {
				t.Errorf("round trip of %q gave %q, %v", v, back, err)
			}
		})
	}
	// Inside a result, the field path names the value.
	var r struct {
		Results []Result `json:"results"`
	}
	err := web.DecodeJSONFrom(strings.NewReader(`{"results":[{"indicator":"x","value":true}]}`), &r)
	e := web.AsError(err)
	if web.Status(e.Kind) != 400 || len(e.Fields) != 1 || e.Fields[0].Field != "results[0].value" {
		t.Errorf("value of the wrong type: %v", err)
	}
}

func errorsAs(err error, target **json.UnmarshalTypeError) bool {
	for err != nil {
		if te, ok := err.(*json.UnmarshalTypeError); ok {
			*target = te
			return true
		}
		u, ok := err.(interface{ Unwrap() error })
		if !ok {
			return false
		}
		err = u.Unwrap()
	}
	return false
}

func TestMoneyJSON(t *testing.T) {
	tests := []struct {
		body       string
		wantAmount json.Number
		wantCur    string
		wantField  string // of a 400
	}{
		{`{"budget":{"amount":100000000,"currency":"EUR"}}`, "100000000", "EUR", ""},
		{`{"budget":{"amount":"1250.50","currency":"eur"}}`, "1250.50", "eur", ""},
		{`{"budget":{"amount":"abc","currency":"EUR"}}`, "abc", "EUR", ""},
		{`{"budget":{"amount":"1,000","currency":"EUR"}}`, "1,000", "EUR", ""},
		{`{"budget":{"currency":"EUR"}}`, "", "EUR", ""},
		{`{"budget":{"amount":true,"currency":"EUR"}}`, "", "", "budget.amount"},
		{`{"budget":{"amount":[1],"currency":"EUR"}}`, "", "", "budget.amount"},
		{`{"budget":{"amount":1,"currency":978}}`, "", "", "budget.currency"},
		{`{"budget":{"amount":1,"currency":"EUR","note":"x"}}`, "", "", "budget.note"},
		{`{"budget":"1000 EUR"}`, "", "", "budget"},
		{`{"budget":[]}`, "", "", "budget"},
	}
	for _, tt := range tests {
		t.Run(tt.body, func(t *testing.T) {
			var in Input
			err := web.DecodeJSONFrom(strings.NewReader(tt.body), &in)
			if tt.wantField != "" {
				e := web.AsError(err)
				if web.Status(e.Kind) != 400 || len(e.Fields) == 0 || e.Fields[0].Field != tt.wantField {
					t.Fatalf("got %v, want a 400 naming %s", err, tt.wantField)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if in.Budget == nil || in.Budget.Amount != tt.wantAmount || in.Budget.Currency != tt.wantCur {
				t.Errorf("budget = %+v", in.Budget)
			}
		})
	}
	var in Input
	if err := web.DecodeJSONFrom(strings.NewReader(`{"budget":null}`), &in); err != nil || in.Budget != nil {
		t.Errorf("null budget: %+v %v", in.Budget, err)
	}
	// A non-numeric amount is the validator's to name, as a 422 field error.
	base := validBase()
	base.Budget.Amount = "abc"
	if _, errs := validate(base, defaultPillars); !reflect.DeepEqual(fieldsOf(errs), []string{"budget.amount"}) {
		t.Errorf("errors = %v", errs)
	}
}

func TestSpreadsheetSafe(t *testing.T) {
	tests := []struct{ in, out string }{
		{"", ""},
		{"plain", "plain"},
		{"=cmd|' /C calc'!A0", "'=cmd|' /C calc'!A0"},
		{"+1", "'+1"},
		{"-1", "'-1"},
		{"@SUM(A1)", "'@SUM(A1)"},
		{"\tx", "'\tx"},
		{"\rx", "'\rx"},
		{"'", "'"},
		{"'quoted'", "'quoted'"},
		{"'=already", "''=already"},
		{"''=twice", "'''=twice"},
		{"a=b", "a=b"},
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			got := spreadsheetSafe(tt.in)
			if got != tt.out {
				t.Errorf("spreadsheetSafe(%q) = %q, want %q", tt.in, got, tt.out)
			}
			if back := unsafeCell(got); back != tt.in {
				t.Errorf("unsafeCell(%q) = %q, want %q", got, back, tt.in)
			}
			if got != "" && strings.ContainsRune("=+-@\t\r", rune(got[0])) {
				t.Errorf("%q would still run as a formula", got)
			}
		})
	}
}

func TestParseFilter(t *testing.T) {
	tests := []struct {
		query string
		want  Filter
		field string // of a 400
	}{
		{"", Filter{Page: 1, PerPage: 25}, ""},
		{"q=+compass+&objective=21&pillar=4&country=ne&partner=iom&kind=programme&status=active&year=2021&page=2&per_page=100",
			Filter{Query: "compass", Objective: 21, Pillar: 4, Country: "NE", Partner: "iom", Kind: "programme", Status: "active", Year: 2021, Page: 2, PerPage: 100}, ""},
		{"objective=0", Filter{}, "objective"},
		{"objective=24", Filter{}, "objective"},
		{"objective=seven", Filter{}, "objective"},
		{"pillar=-1", Filter{}, "pillar"},
		{"year=1899", Filter{}, "year"},
		{"year=20x1", Filter{}, "year"},
		{"page=0", Filter{}, "page"},
		{"per_page=0", Filter{}, "per_page"},
		{"per_page=101", Filter{}, "per_page"},
		{"country=XX", Filter{}, "country"},
		{"country=NLD", Filter{}, "country"},
		{"kind=Programme", Filter{}, "kind"},
		{"status=done", Filter{}, "status"},
		{"partner=IOM%20x", Filter{}, "partner"},
		{"partner=%FF", Filter{}, "partner"},
		{"q=" + strings.Repeat("a", 201), Filter{}, "q"},
	}
	for _, tt := range tests {
		t.Run(tt.query, func(t *testing.T) {
			v, err := url.ParseQuery(tt.query)
			if err != nil {
				t.Fatal(err)
			}
			f, err := ParseFilter(v)
			if tt.field == "" {
				if err != nil || f != tt.want {
					t.Errorf("ParseFilter(%s) = %+v, %v; want %+v", tt.query, f, err, tt.want)
				}
				// Values gives back an equivalent query.
				again, err := ParseFilter(f.Values())
				if err != nil || again.Page != 1 || again.Query != f.Query || again.Objective != f.Objective || again.PerPage != f.PerPage {
					t.Errorf("Values() round trip: %+v, %v", again, err)
				}
				return
			}
			e := web.AsError(err)
			if web.Status(e.Kind) != 400 || len(e.Fields) != 1 || e.Fields[0].Field != tt.field {
				t.Errorf("ParseFilter(%s) error = %v; want a 400 naming %s", tt.query, err, tt.field)
			}
		})
	}
}

func TestFTSTerms(t *testing.T) {
	tests := []struct {
		q    string
		want []string
	}{
		{"", nil},
		{"COMPASS iom", []string{"compass", "iom"}},
		{`compass" OR *`, []string{"compass", "or"}},
		{"co-funder: (x) & !y | z'", []string{"co", "funder", "x", "y", "z"}},
		{"Réintégration Côte d’Ivoire", []string{"reintegration", "cote", "d", "ivoire"}},
		{"ŁÓDŹ", []string{"łodz"}},
		{"!!!", nil},
		{"a b c d e f g h i j k l m n", []string{"a", "b", "c", "d", "e", "f", "g", "h", "i", "j", "k", "l"}},
	}
	for _, tt := range tests {
		t.Run(tt.q, func(t *testing.T) {
			got := ftsTerms(tt.q)
			if len(got) == 0 && len(tt.want) == 0 {
				return
			}
			if !reflect.DeepEqual(got, tt.want) {
				t.Errorf("ftsTerms(%q) = %q, want %q", tt.q, got, tt.want)
			}
		})
	}
}

func TestGroupDigits(t *testing.T) {
	for in, want := range map[string]string{"": "", "12": "12", "100": "100", "1000": "1,000", "100000000": "100,000,000",
		"1000.5": "1,000.5", "-1234567": "-1,234,567", "123456.78": "123,456.78"} {
		if got := facts.GroupDigits(in); got != want {
			t.Errorf("GroupDigits(%q) = %q, want %q", in, got, want)
		}
	}
}

// TestFormRows reads the repeated rows of the initiative form: empty rows
// are skipped, text is taken as typed (a "|" is only a character), and an
// initiative's values read back into the same lists.
func TestFormRows(t *testing.T) {
	tests := []struct {
		name    string
		form    url.Values
		results []Result
		sources []Source
		orgs    []string
	}{
		{"empty rows skipped", url.Values{
			"result_indicator": {"", "Migrants counselled", ""}, "result_value": {"", " 1200 ", ""}, "result_unit": {"", "persons", ""},
			"result_date": {"", "2022", ""}, "result_source": {"", "IOM", ""},
			"source_title": {"", "", "Report | Government.nl"}, "source_url": {"", "", " https://example.org/a|b "},
			"partner_org": {"", "iom", ""}, "partner_role": {"", "implementer", ""}},
			[]Result{{Indicator: "Migrants counselled", Value: "1200", Unit: "persons", Date: "2022", Source: "IOM"}},
			[]Source{{Title: "Report | Government.nl", URL: "https://example.org/a|b"}}, []string{"iom"}},
		{"one field is a row", url.Values{"result_unit": {"", "persons"}, "source_url": {"https://example.org"}, "partner_role": {"funder"}},
			[]Result{{Unit: "persons"}}, []Source{{URL: "https://example.org"}}, []string{""}},
		{"ragged lists", url.Values{"result_indicator": {"Share"}, "result_value": {"achieved", "extra"}},
			[]Result{{Indicator: "Share", Value: "achieved"}, {Value: "extra"}}, nil, nil},
		{"nothing", url.Values{"result_indicator": {"", " "}}, nil, nil, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			in, errs := inputOf(tt.form)
			if len(errs) > 0 {
				t.Fatalf("errors: %v", errs)
			}
			if !reflect.DeepEqual(in.Results, tt.results) || !reflect.DeepEqual(in.Sources, tt.sources) {
				t.Errorf("results %+v, sources %+v; want %+v, %+v", in.Results, in.Sources, tt.results, tt.sources)
			}
			var orgs []string
			for _, p := range in.Partners {
				orgs = append(orgs, p.Org)
			}
			if !reflect.DeepEqual(orgs, tt.orgs) {
				t.Errorf("partners %v, want %v", orgs, tt.orgs)
			}
			// Compacted, row k of the form is item k of the input.
			again, _ := inputOf(compact(tt.form))
			if !reflect.DeepEqual(again, in) {
				t.Errorf("the compacted form reads as %+v, want %+v", again, in)
			}
			c := compact(tt.form)
			for k, r := range in.Results {
				if got := strings.TrimSpace((&web.Form{Values: c}).At("result_value", k)); got != string(r.Value) {
					t.Errorf("compacted row %d holds %q, item %d is %q", k, got, k, r.Value)
				}
			}
		})
	}
	it := &Initiative{Input: Input{Title: "T", Results: []Result{{Indicator: "a | b", Value: "3", Unit: "u", Date: "2021", Source: `c:\x`}, {Indicator: "d", Value: "achieved"}},
		Sources: []Source{{Title: "Report | x", URL: "https://example.org/a|b"}, {Title: "No address"}}, Partners: []Partner{{Org: "iom", Role: "lead"}}}}
	back, _ := inputOf(valuesOf(it))
	if !reflect.DeepEqual(back.Results, it.Results) || !reflect.DeepEqual(back.Sources, it.Sources) || !reflect.DeepEqual(back.Partners, it.Partners) {
		t.Errorf("the edit form reads back as %+v %+v %+v", back.Results, back.Sources, back.Partners)
	}
}
