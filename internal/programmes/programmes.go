// Package programmes is the register of policies, laws, programmes,
// projects, dialogues and funds, each traced to the GCM objectives and
// guiding principles and to the pillars of the national framework, with its
// partners, countries, period, money, results and sources. It owns the
// register's tables, rules, pages, JSON API and CSV import and export.
package programmes

import (
	"bytes"
	"embed"
	"encoding/json"
	"fmt"
	"math/big"
	"net/url"
	"reflect"
	"regexp"
	"sort"
	"strings"
	"time"
	"unicode/utf8"

	"golang.org/x/text/currency"

	"kompas/internal/gcm"
	"kompas/internal/platform/fault"
	"kompas/internal/platform/geo"
	"kompas/internal/platform/store"
)

//go:embed migrations/*.sql
var migrationFiles embed.FS

// Migrations creates the register's tables (after auth's organisations).
var Migrations = store.Embedded("programmes", migrationFiles)

// Kinds of initiative.
var Kinds = []string{"policy_measure", "law", "programme", "project", "dialogue", "fund"}

// Statuses of an initiative.
var Statuses = []string{"planned", "active", "completed", "discontinued"}

// PartnerRoles are the parts an organisation plays in an initiative.
var PartnerRoles = []string{"lead", "funder", "co-funder", "implementer", "chair", "member", "beneficiary"}

// Limits on input, so no field can grow without bound.
const (
	maxTitle      = 200
	maxSummary    = 4000
	maxListItems  = 100
	maxShortText  = 300
	maxURL        = 2000
	maxRegionText = 100
	maxBudget     = 1_000_000_000_000_000 // in minor units: ten trillion in major units
)

// Partner is an organisation's part in an initiative.
type Partner struct {
	Org  string `json:"org" required:"true" doc:"organisation slug"`
	Role string `json:"role" required:"true" doc:"lead, funder, co-funder, implementer, chair, member or beneficiary"`
	Name string `json:"name,omitempty" doc:"read-only: the organisation's name"`
}

// Money is an amount with its ISO 4217 currency. Amount is a decimal number
// with at most two decimals; it is kept exactly, in minor units. The API's
// decoder takes the amount as a JSON number or a string, kept as written,
// so that validation names a non-numeric one ("budget.amount") instead of
// the decoder refusing the whole body.
type Money struct {
	Amount   json.Number `json:"amount" required:"true"`
	Currency string      `json:"currency" required:"true"`
}

// Result is one measured outcome.
type Result struct {
	Indicator string `json:"indicator" required:"true"`
	Value     Value  `json:"value" required:"true" doc:"a number, or a short text for a qualitative result such as \"achieved\""`
	Unit      string `json:"unit"`
	Date      string `json:"date" doc:"YYYY, YYYY-MM or YYYY-MM-DD"`
	Source    string `json:"source"`
}

// Value is a result's value: a number (kept exactly, as written) or a short
// text for a qualitative result. In JSON it is a number when it is numeric.
type Value string

// UnmarshalJSON accepts a JSON number or string.
func (v *Value) UnmarshalJSON(b []byte) error {
	var n json.Number
	if err := json.Unmarshal(b, &n); err == nil {
		*v = Value(n)
		return nil
	}
	var s string
	if err := json.Unmarshal(b, &s); err != nil {
		return &json.UnmarshalTypeError{Value: jsonKindOf(b), Type: reflect.TypeOf("")}
	}
	*v = Value(s)
	return nil
}

// jsonKindOf names the kind of a JSON value for an error message.
func jsonKindOf(b []byte) string {
	switch b = bytes.TrimSpace(b); {
	case len(b) == 0:
		return "nothing"
	case b[0] == '{':
		return "object"
	case b[0] == '[':
		return "array"
	case b[0] == '"':
		return "string"
	case b[0] == 't' || b[0] == 'f':
		return "bool"
	case b[0] == 'n':
		return "null"
	}
	return "number"
}

// MarshalJSON writes a number when the value is numeric.
func (v Value) MarshalJSON() ([]byte, error) {
	if v.Numeric() {
		return []byte(v), nil
	}
	return json.Marshal(string(v))
}

// Numeric reports whether the value is a plain decimal number.
func (v Value) Numeric() bool {
	if v == "" || len(v) > 40 || strings.ContainsAny(string(v), "eE/ ") {
		return false
	}
	_, ok := new(big.Rat).SetString(string(v))
	return ok && json.Valid([]byte(v))
}

// Source is a document the initiative is known from.
type Source struct {
	Title string `json:"title" required:"true"`
	URL   string `json:"url"`
}

// Input is the body of POST and PUT /api/v1/initiatives.
type Input struct {
	Title         string    `json:"title" required:"true"`
	Summary       string    `json:"summary"`
	Kind          string    `json:"kind" required:"true" doc:"policy_measure, law, programme, project, dialogue or fund"`
	Status        string    `json:"status" required:"true" doc:"planned, active, completed or discontinued"`
	Lead          string    `json:"lead,omitempty" doc:"slug of the lead ministry or agency"`
	Start         string    `json:"start" doc:"YYYY, YYYY-MM or YYYY-MM-DD"`
	End           string    `json:"end" doc:"YYYY, YYYY-MM or YYYY-MM-DD; not before start"`
	Countries     []string  `json:"countries" doc:"ISO 3166-1 alpha-2 codes"`
	Regions       []string  `json:"regions"`
	Objectives    []int     `json:"objectives" doc:"GCM objective numbers 1-23"`
	Principles    []string  `json:"principles" doc:"GCM guiding principles a-j"`
	Pillars       []int     `json:"pillars" doc:"pillar numbers of the default framework"`
	Partners      []Partner `json:"partners"`
	Budget        *Money    `json:"budget"`
	Results       []Result  `json:"results"`
	Sources       []Source  `json:"sources"`
	ReportSection string    `json:"report_section,omitempty" doc:"the section of the review it belongs to"`
	Version       int       `json:"version,omitempty" doc:"required on PUT: the version that was read"`
}

// Initiative is an initiative as stored and returned.
type Initiative struct {
	ID int64 `json:"id"`
	Input
	Owner     string    `json:"owner" doc:"slug of the organisation that recorded it"`
	LeadName  string    `json:"lead_name,omitempty"`
	CreatedAt time.Time `json:"created_at"`
	UpdatedAt time.Time `json:"updated_at"`
	CreatedBy string    `json:"-"`

	ownerOrgID  int64
	budgetMinor *int64
	startDate   string
	endDate     string
	iatiID      string
	demoKey     string
}

// clean is the validated, normalised form of an Input.
type clean struct {
	in          Input
	startDate   string
	endDate     string
	budgetMinor *int64
}

// validate checks everything that needs no database and normalises the
// input (trimmed text, sorted unique lists, upper-case codes). pillars is
// the set of pillar numbers of the default framework.
func validate(in Input, pillars map[int]bool) (clean, []fault.FieldError) {
	var errs []fault.FieldError
	bad := func(field, msg string, args ...any) {
		errs = append(errs, fault.FieldError{Field: field, Message: fmt.Sprintf(msg, args...)})
	}
	in = copyLists(in)
	text := func(field string, s *string, required bool, max int) {
		*s = strings.TrimSpace(newlines.Replace(*s))
		multiline := field == "summary"
		switch {
		case !utf8.ValidString(*s):
			bad(field, "must be valid UTF-8 text")
		case required && *s == "":
			bad(field, "is required")
		case utf8.RuneCountInString(*s) > max:
			bad(field, "must be at most %d characters (it has %d)", max, utf8.RuneCountInString(*s))
		case strings.ContainsAny(*s, "\x00"):
			bad(field, "must not contain NUL characters")
		case !multiline && strings.Contains(*s, "\n"):
			// A one-line input in the form would drop the break, and the
			// form's results and sources boxes take one entry a line.
			bad(field, "must be on one line")
		}
	}
	text("title", &in.Title, true, maxTitle)
	text("summary", &in.Summary, false, maxSummary)
	text("report_section", &in.ReportSection, false, maxShortText)
	in.Lead = strings.ToLower(strings.TrimSpace(in.Lead))
	if in.Lead != "" && !isSlug(in.Lead) {
		bad("lead", "no organisation %q is known", truncate(in.Lead, 64))
	}
	if !oneOf(in.Kind, Kinds) {
		bad("kind", "must be one of %s", strings.Join(Kinds, ", "))
	}
	if !oneOf(in.Status, Statuses) {
		bad("status", "must be one of %s", strings.Join(Statuses, ", "))
	}
	c := clean{}
	var ok bool
	in.Start = strings.TrimSpace(in.Start)
	in.End = strings.TrimSpace(in.End)
	if c.startDate, ok = PartialDate(in.Start, false); !ok {
		bad("start", "must be a date as YYYY, YYYY-MM or YYYY-MM-DD")
	}
	if c.endDate, ok = PartialDate(in.End, true); !ok {
		bad("end", "must be a date as YYYY, YYYY-MM or YYYY-MM-DD")
	}
	if c.startDate != "" && c.endDate != "" && c.endDate < c.startDate {
		bad("end", "must not be before the start (%s)", in.Start)
	}
	if len(in.Countries) > 300 {
		bad("countries", "must list at most 300 countries")
	}
	seen := map[string]bool{}
	countries := []string{}
	for i, code := range in.Countries {
		code = strings.ToUpper(strings.TrimSpace(code))
		if !geo.Valid(code) {
			bad(fmt.Sprintf("countries[%d]", i), "%q is not an ISO 3166-1 alpha-2 country code", truncate(code, 20))
			continue
		}
		if !seen[code] {
			seen[code] = true
			countries = append(countries, code)
		}
	}
	sort.Strings(countries)
	in.Countries = countries
	if len(in.Regions) > 50 {
		bad("regions", "must list at most 50 regions")
	}
	regions := []string{}
	seen = map[string]bool{}
	for i := range in.Regions {
		r := in.Regions[i]
		text(fmt.Sprintf("regions[%d]", i), &r, true, maxRegionText)
		if strings.Contains(r, ";") {
			// The CSV file and the form separate regions with semicolons.
			bad(fmt.Sprintf("regions[%d]", i), "must not contain a semicolon; give each region on its own")
			continue
		}
		if r != "" && !seen[r] {
			seen[r] = true
			regions = append(regions, r)
		}
	}
	in.Regions = regions
	objs := []int{}
	seenN := map[int]bool{}
	for i, n := range in.Objectives {
		if n < 1 || n > 23 {
			bad(fmt.Sprintf("objectives[%d]", i), "%d is not a GCM objective (1 to 23)", n)
			continue
		}
		if !seenN[n] {
			seenN[n] = true
			objs = append(objs, n)
		}
	}
	sort.Ints(objs)
	in.Objectives = objs
	prs := []string{}
	seen = map[string]bool{}
	for i, p := range in.Principles {
		p = strings.ToLower(strings.TrimSpace(p))
		if !gcm.ValidPrinciple(p) {
			bad(fmt.Sprintf("principles[%d]", i), "%q is not a GCM guiding principle (a to j)", truncate(p, 20))
			continue
		}
		if !seen[p] {
			seen[p] = true
			prs = append(prs, p)
		}
	}
	sort.Strings(prs)
	in.Principles = prs
	pls := []int{}
	seenN = map[int]bool{}
	for i, n := range in.Pillars {
		if !pillars[n] {
			bad(fmt.Sprintf("pillars[%d]", i), "%d is not a pillar of the framework", n)
			continue
		}
		if !seenN[n] {
			seenN[n] = true
			pls = append(pls, n)
		}
	}
	sort.Ints(pls)
	in.Pillars = pls
	if len(in.Partners) > maxListItems {
		bad("partners", "must list at most %d partners", maxListItems)
	}
	seen = map[string]bool{}
	for i := range in.Partners {
		p := &in.Partners[i]
		p.Org = strings.ToLower(strings.TrimSpace(p.Org))
		p.Name = ""
		if p.Org == "" {
			bad(fmt.Sprintf("partners[%d].org", i), "is required")
		} else if !isSlug(p.Org) {
			bad(fmt.Sprintf("partners[%d].org", i), "no organisation %q is known", truncate(p.Org, 64))
		}
		if !oneOf(p.Role, PartnerRoles) {
			bad(fmt.Sprintf("partners[%d].role", i), "must be one of %s", strings.Join(PartnerRoles, ", "))
		}
		if seen[p.Org+"/"+p.Role] {
			bad(fmt.Sprintf("partners[%d]", i), "%s is listed twice as %s", truncate(p.Org, 64), p.Role)
		}
		seen[p.Org+"/"+p.Role] = true
	}
	if in.Budget != nil {
		in.Budget.Currency = strings.ToUpper(strings.TrimSpace(in.Budget.Currency))
		minor, msg := parseMinor(string(in.Budget.Amount))
		if msg != "" {
			bad("budget.amount", "%s", msg)
		} else if minor < 0 {
			bad("budget.amount", "must not be negative")
		} else if minor > maxBudget {
			bad("budget.amount", "is larger than any budget Kompas accepts")
		} else {
			c.budgetMinor = &minor
			in.Budget.Amount = json.Number(formatMinor(minor))
		}
		if _, err := currency.ParseISO(in.Budget.Currency); err != nil || len(in.Budget.Currency) != 3 {
			bad("budget.currency", "%q is not an ISO 4217 currency code", truncate(in.Budget.Currency, 10))
		}
	}
	if len(in.Results) > maxListItems {
		bad("results", "must list at most %d results", maxListItems)
	}
	for i := range in.Results {
		r := &in.Results[i]
		f := fmt.Sprintf("results[%d]", i)
		text(f+".indicator", &r.Indicator, true, maxShortText)
		text(f+".unit", &r.Unit, false, 50)
		text(f+".source", &r.Source, false, maxShortText)
		v := string(r.Value)
		text(f+".value", &v, true, 100)
		r.Value = Value(v)
		r.Date = strings.TrimSpace(r.Date)
		if _, ok := PartialDate(r.Date, false); !ok {
			bad(f+".date", "must be a date as YYYY, YYYY-MM or YYYY-MM-DD")
		}
	}
	if len(in.Sources) > maxListItems {
		bad("sources", "must list at most %d sources", maxListItems)
	}
	for i := range in.Sources {
		s := &in.Sources[i]
		f := fmt.Sprintf("sources[%d]", i)
		text(f+".title", &s.Title, true, maxShortText)
		s.URL = strings.TrimSpace(s.URL)
		if s.URL != "" {
			u, err := url.Parse(s.URL)
			if err != nil || (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" || len(s.URL) > maxURL || !utf8.ValidString(s.URL) {
				bad(f+".url", "must be an http or https address")
			}
		}
	}
	if in.Countries == nil {
		in.Countries = []string{}
	}
	for _, l := range []*[]Result{&in.Results} {
		if *l == nil {
			*l = []Result{}
		}
	}
	if in.Sources == nil {
		in.Sources = []Source{}
	}
	if in.Partners == nil {
		in.Partners = []Partner{}
	}
	c.in = in
	return c, errs
}

// newlines turns CRLF and CR line ends into LF, as the CSV reader would, so
// that text survives an export and import unchanged.
var newlines = strings.NewReplacer("\r\n", "\n", "\r", "\n")

// copyLists gives in its own copies of the lists validate normalises in
// place, so that the caller's input keeps what was sent.
func copyLists(in Input) Input {
	in.Partners = append([]Partner(nil), in.Partners...)
	in.Results = append([]Result(nil), in.Results...)
	in.Sources = append([]Source(nil), in.Sources...)
	if in.Budget != nil {
		b := *in.Budget
		in.Budget = &b
	}
	return in
}

// isSlug reports whether s can be an organisation slug: 1 to 64 of a-z, 0-9
// and -. Anything else cannot name an organisation and never reaches SQL.
func isSlug(s string) bool {
	if s == "" || len(s) > 64 {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !(c >= 'a' && c <= 'z' || c >= '0' && c <= '9' || c == '-') {
			return false
		}
	}
	return true
}

func oneOf(s string, list []string) bool {
	for _, x := range list {
		if s == x {
			return true
		}
	}
	return false
}

func truncate(s string, n int) string {
	if utf8.RuneCountInString(s) <= n {
		return s
	}
	return string([]rune(s)[:n]) + "…"
}

// PartialDate checks YYYY, YYYY-MM or YYYY-MM-DD and returns the first (or,
// with end, the last) full date it covers; "" stays "".
func PartialDate(s string, end bool) (string, bool) {
	if s == "" {
		return "", true
	}
	var t time.Time
	var err error
	switch len(s) {
	case 4:
		t, err = time.Parse("2006", s)
		if end && err == nil {
			t = t.AddDate(1, 0, -1)
		}
	case 7:
		t, err = time.Parse("2006-01", s)
		if end && err == nil {
			t = t.AddDate(0, 1, -1)
		}
	case 10:
		t, err = time.Parse("2006-01-02", s)
	default:
		return "", false
	}
	if err != nil || t.Year() < 1900 || t.Year() > 2200 {
		return "", false
	}
	return t.Format("2006-01-02"), true
}

// decimalRE is a plain decimal number: no exponent, base prefix, digit
// separator or fraction, which big.Rat would otherwise accept.
var decimalRE = regexp.MustCompile(`^-?[0-9]+(\.[0-9]+)?$`)

// parseMinor reads a decimal amount with at most two decimals into minor
// units, exactly.
func parseMinor(s string) (int64, string) {
	s = strings.TrimSpace(s)
	if s == "" {
		return 0, "is required"
	}
	if !decimalRE.MatchString(s) {
		return 0, "must be a decimal number such as 1500000 or 1250.50"
	}
	r, ok := new(big.Rat).SetString(s)
	if !ok {
		return 0, "must be a decimal number such as 1500000 or 1250.50"
	}
	r.Mul(r, big.NewRat(100, 1))
	if !r.IsInt() {
		return 0, "must have at most two decimals"
	}
	if !r.Num().IsInt64() {
		return 0, "is larger than any budget Kompas accepts"
	}
	return r.Num().Int64(), ""
}

func formatMinor(m int64) string {
	neg := m < 0
	if neg {
		m = -m
	}
	s := fmt.Sprintf("%d", m/100)
	if c := m % 100; c != 0 {
		s += fmt.Sprintf(".%02d", c)
		s = strings.TrimRight(s, "0")
	}
	if neg {
		s = "-" + s
	}
	return s
}
