package iati

import (
	"encoding/json"
	"fmt"
	"math/big"
	"net/url"
	"sort"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"golang.org/x/text/currency"

	"kompas/internal/platform/geo"
	"kompas/internal/programmes"
)

// Vocabularies and the namespace of Kompas's own extension elements.
const (
	// Namespace holds Kompas's extension elements and attributes (IATI
	// allows elements of other namespaces at the end of an activity and
	// attributes of other namespaces anywhere). They carry what IATI has no
	// place for, so that an export imports back unchanged.
	Namespace = "urn:kompas:iati:1"
	// GCMVocabularyURI names the vocabulary of GCM objectives in
	// <tag vocabulary="99">: the resolution that adopted the Global Compact
	// and numbers its 23 objectives (A/RES/73/195, para. 16).
	GCMVocabularyURI = "https://undocs.org/A/RES/73/195"
	// RegionVocabularyURI names free-text regions in
	// <recipient-region vocabulary="99">.
	RegionVocabularyURI = Namespace + ":regions"
	// TransactionsSource is the source of the results the import derives
	// from transactions.
	TransactionsSource = "IATI transactions (disbursements and expenditure)"
	// DisbursedIndicator is those results' indicator.
	DisbursedIndicator = "Disbursed"
)

// Limits the register puts on text, applied here with a note rather than
// failing the activity.
const (
	maxTitle      = 200
	maxSummary    = 4000
	maxShortText  = 300
	maxRegionText = 100
	maxListItems  = 100
	maxIdentifier = 300
)

// Problem is one thing wrong with an activity, with its line and element.
type Problem struct {
	Line    int    `json:"line"`
	Element string `json:"element"`
	Message string `json:"message"`
}

func (p Problem) String() string {
	if p.Element != "" {
		return fmt.Sprintf("line %d: <%s>: %s", p.Line, p.Element, p.Message)
	}
	return fmt.Sprintf("line %d: %s", p.Line, p.Message)
}

// ActivityError is why an activity cannot be imported. The rest of the file
// goes on.
type ActivityError struct {
	Line       int
	Identifier string
	Problems   []Problem
}

func (e *ActivityError) Error() string {
	parts := make([]string, len(e.Problems))
	for i, p := range e.Problems {
		parts[i] = p.String()
	}
	return strings.Join(parts, "; ")
}

// OrgRef names an organisation as an activity does: by Kompas slug (in
// Kompas's own exports), IATI organisation reference, and name.
type OrgRef struct {
	Slug string
	Ref  string
	Name string
	Type string // IATI OrganisationType code
	Line int
}

// Partner is an organisation with its role in the register's terms.
type Partner struct {
	Org  OrgRef
	Role string
}

// Mapped is an activity in the register's terms, before its organisations
// are found or created.
type Mapped struct {
	Line       int
	Identifier string
	// Kompas is set when the activity carries Kompas's extension (it was
	// exported by Kompas): every field is then taken as given.
	Kompas bool
	// Explicit is set when the file states the GCM objectives (as tags of
	// Kompas's GCM vocabulary): they are the objectives, and nothing is
	// suggested.
	Explicit bool
	// Input has everything but Lead and Partners, which need the database.
	Input       programmes.Input
	Lead        *OrgRef
	Partners    []Partner
	Suggestions []Suggestion
	Notes       []string
}

var roleByCode = map[string]string{"1": "funder", "2": "lead", "3": "co-funder", "4": "implementer"}

var statusByCode = map[string]string{"1": "planned", "2": "active", "3": "completed", "4": "completed", "5": "discontinued", "6": "discontinued"}

// mapper collects the problems and notes of one activity.
type mapper struct {
	a        *Activity
	problems []Problem
	notes    []string
}

func (m *mapper) bad(elem string, n int, format string, args ...any) {
	if len(m.problems) < 10 {
		m.problems = append(m.problems, Problem{Line: m.a.LineOf(elem, n), Element: elem, Message: fmt.Sprintf(format, args...)})
	}
}

func (m *mapper) note(format string, args ...any) {
	if len(m.notes) < 20 {
		m.notes = append(m.notes, fmt.Sprintf(format, args...))
	}
}

// pick chooses the narrative to use: English by xml:lang first, then one
// without xml:lang when the activity's language is English or unstated,
// then any.
func pick(ns []narrative, actLang string) string {
	best, score := "", -1
	actEN := actLang == "" || isEnglish(actLang)
	for _, n := range ns {
		s := 0
		switch {
		case isEnglish(n.Lang):
			s = 3
		case n.Lang == "" && actEN:
			s = 2
		case n.Lang == "":
			s = 1
		}
		if s > score {
			best, score = n.Text, s
		}
	}
	return best
}

func isEnglish(lang string) bool {
	l := strings.ToLower(strings.TrimSpace(lang))
	return l == "en" || strings.HasPrefix(l, "en-") || strings.HasPrefix(l, "en_")
}

// squash collapses runs of white space into one space.
func squash(s string) string { return strings.Join(strings.Fields(s), " ") }

// cut shortens s to n characters, noting it.
func (m *mapper) cut(what, s string, n int) string {
	if utf8.RuneCountInString(s) <= n {
		return s
	}
	m.note("the %s was cut to %d characters (it had %d)", what, n, utf8.RuneCountInString(s))
	return strings.TrimSpace(string([]rune(s)[:n-1])) + "…"
}

// Map turns a decoded activity into the register's terms. An
// *ActivityError says why it cannot be imported.
func Map(a *Activity) (*Mapped, error) {
	m := &mapper{a: a}
	out := &Mapped{Line: a.Line}
	lang := a.Lang
	in := &out.Input
	out.Kompas = len(a.KKind) > 0
	exact := out.Kompas

	if len(a.Identifier) == 0 || strings.TrimSpace(a.Identifier[0]) == "" {
		m.bad("iati-identifier", 0, "every activity needs an iati-identifier")
	} else {
		out.Identifier = strings.TrimSpace(a.Identifier[0])
		if !utf8.ValidString(out.Identifier) || utf8.RuneCountInString(out.Identifier) > maxIdentifier || strings.ContainsAny(out.Identifier, "\x00\n\r\t") {
			m.bad("iati-identifier", 0, "the identifier must be one line of at most %d characters", maxIdentifier)
			out.Identifier = truncate(out.Identifier, 80)
		}
	}

	// Title.
	if len(a.Title) == 0 {
		m.bad("title", 0, "every activity needs a title")
	} else {
		t := pick(a.Title[0].Narratives, lang)
		if !exact {
			t = squash(t)
		}
		if strings.TrimSpace(t) == "" {
			m.bad("title", 0, "the title has no text")
		}
		in.Title = m.cut("title", strings.TrimSpace(t), maxTitle)
	}

	// Descriptions.
	if exact {
		for _, d := range a.Descriptions {
			if d.Type == "" || d.Type == "1" {
				in.Summary = pick(d.Narratives, lang)
				break
			}
		}
	} else {
		var parts []string
		label := map[string]string{"2": "Objectives: ", "3": "Target groups: ", "4": ""}
		for _, t := range []string{"1", "2", "3", "4"} {
			for _, d := range a.Descriptions {
				dt := d.Type
				if dt == "" {
					dt = "1"
				}
				if dt != t {
					continue
				}
				if s := squash(pick(d.Narratives, lang)); s != "" {
					parts = append(parts, label[t]+s)
				}
			}
		}
		in.Summary = m.cut("summary", strings.Join(parts, "\n\n"), maxSummary)
	}

	// Status.
	if len(a.Status) == 0 {
		m.bad("activity-status", 0, "every activity needs an activity-status")
	} else if s, ok := statusByCode[strings.TrimSpace(a.Status[0].Code)]; ok {
		in.Status = s
	} else {
		m.bad("activity-status", 0, "%q is not an IATI activity status code (1 to 6)", truncate(a.Status[0].Code, 20))
	}

	// Dates: the actual date when given, else the planned one.
	var dates [5]string
	var kdates [5]*string
	for i, d := range a.Dates {
		t := strings.TrimSpace(d.Type)
		n, err := strconv.Atoi(t)
		if err != nil || n < 1 || n > 4 {
			m.bad("activity-date", i, "%q is not an IATI activity date type (1 to 4)", truncate(t, 20))
			continue
		}
		iso, ok := isoDate(d.ISODate)
		if !ok {
			m.bad("activity-date", i, "iso-date %q is not a date (YYYY-MM-DD)", truncate(d.ISODate, 30))
			continue
		}
		if dates[n] == "" {
			dates[n], kdates[n] = iso, d.KDate
		}
	}
	slot := func(actual, planned int) string {
		n := planned
		if dates[actual] != "" {
			n = actual
		}
		if exact && kdates[n] != nil {
			return strings.TrimSpace(*kdates[n])
		}
		return dates[n]
	}
	in.Start, in.End = slot(2, 1), slot(4, 3)

	// Countries.
	for i, c := range a.Countries {
		code := strings.ToUpper(strings.TrimSpace(c.Code))
		if !geo.Valid(code) {
			m.bad("recipient-country", i, "%q is not an ISO 3166-1 alpha-2 country code", truncate(c.Code, 20))
			continue
		}
		in.Countries = append(in.Countries, code)
	}

	// Regions.
	seenRegion := map[string]bool{}
	for i, r := range a.Regions {
		code := strings.TrimSpace(r.Code)
		if code == "" {
			m.bad("recipient-region", i, "a recipient-region needs a code")
			continue
		}
		name := pick(r.Narrs, lang)
		if !exact {
			name = squash(name)
		}
		if strings.TrimSpace(name) == "" {
			switch strings.TrimSpace(r.Vocabulary) {
			case "", "1":
				if n, ok := dacRegions[code]; ok {
					name = n
				} else {
					name = "DAC region " + code
				}
			case "2":
				name = "UN M49 region " + code
			default:
				name = code
			}
		}
		name = m.cut("region name", strings.TrimSpace(name), maxRegionText)
		if !seenRegion[name] {
			seenRegion[name] = true
			in.Regions = append(in.Regions, name)
		}
	}

	// Tags: GCM objectives in Kompas's vocabulary, and SDG target 10.7.
	var ci classifyInput
	for i, t := range a.Tags {
		voc, code := strings.TrimSpace(t.Vocabulary), strings.TrimSpace(t.Code)
		switch {
		case voc == "99" && sameURI(t.VocabularyURI, GCMVocabularyURI):
			n, err := strconv.Atoi(code)
			if err != nil || n < 1 || n > 23 {
				m.bad("tag", i, "%q is not a GCM objective (1 to 23) of the vocabulary %s", truncate(code, 20), GCMVocabularyURI)
				continue
			}
			out.Explicit = true
			in.Objectives = append(in.Objectives, n)
		case voc == "3" && code == "10.7":
			ci.sdg107 = true
		}
		if name := squash(pick(t.Narrs, lang)); name != "" {
			ci.texts = append(ci.texts, namedText{"tag", name})
		}
	}
	if out.Kompas {
		out.Explicit = true
	}

	// Sectors feed the classifier only.
	for _, s := range a.Sectors {
		voc, code := strings.TrimSpace(s.Vocabulary), strings.TrimSpace(s.Code)
		ci.sectors = append(ci.sectors, sectorCode{vocabulary: voc, code: code})
		if voc == "8" && code == "10.7" {
			ci.sdg107 = true
		}
		if name := squash(pick(s.Narrs, lang)); name != "" {
			ci.texts = append(ci.texts, namedText{"sector name", name})
		}
	}

	// Budget: the original budgets summed in one currency (the revised ones
	// when there is no original).
	in.Budget = m.budget()

	// Partners and lead.
	if out.Kompas {
		if len(a.KLead) > 0 && strings.TrimSpace(a.KLead[0].Slug) != "" {
			l := a.KLead[0]
			out.Lead = &OrgRef{Slug: strings.TrimSpace(l.Slug), Name: strings.TrimSpace(l.Name), Ref: strings.TrimSpace(l.Ref), Line: a.LineOf("lead", 0)}
		}
		for i, p := range a.KPartners {
			out.Partners = append(out.Partners, Partner{Org: OrgRef{Slug: strings.TrimSpace(p.Org), Ref: strings.TrimSpace(p.Ref), Name: strings.TrimSpace(p.Name), Line: a.LineOf("partner", i)}, Role: strings.TrimSpace(p.Role)})
		}
	} else {
		seen := map[string]bool{}
		for i, p := range a.ParticipatingOrgs {
			role, ok := roleByCode[strings.TrimSpace(p.Role)]
			if !ok {
				m.bad("participating-org", i, "%q is not an IATI organisation role (1 funding, 2 accountable, 3 extending, 4 implementing)", truncate(p.Role, 20))
				continue
			}
			ref := OrgRef{Slug: strings.TrimSpace(p.KOrg), Ref: strings.TrimSpace(p.Ref), Name: squash(pick(p.Narrs, lang)), Type: strings.TrimSpace(p.Type), Line: a.LineOf("participating-org", i)}
			if ref.Ref == "" && ref.Name == "" && ref.Slug == "" {
				m.note("line %d: a participating-org with neither ref nor name was left out", ref.Line)
				continue
			}
			key := ref.Slug + "\x00" + ref.Ref + "\x00" + strings.ToLower(ref.Name) + "\x00" + role
			if seen[key] {
				continue
			}
			seen[key] = true
			if len(out.Partners) >= maxListItems {
				m.note("only the first %d participating organisations were kept", maxListItems)
				break
			}
			out.Partners = append(out.Partners, Partner{Org: ref, Role: role})
			if role == "lead" && out.Lead == nil {
				r := ref
				out.Lead = &r
			}
		}
	}

	// Kind, principles, pillars, report section, results, sources.
	if out.Kompas {
		in.Kind = strings.TrimSpace(a.KKind[0])
		for _, p := range a.KPrinciples {
			in.Principles = append(in.Principles, strings.TrimSpace(p))
		}
		for i, s := range a.KPillars {
			n, err := strconv.Atoi(strings.TrimSpace(s))
			if err != nil {
				m.bad("pillar", i, "%q is not a pillar number", truncate(s, 20))
				continue
			}
			in.Pillars = append(in.Pillars, n)
		}
		if len(a.KReportSection) > 0 {
			in.ReportSection = a.KReportSection[0]
		}
		for _, r := range a.KResults {
			in.Results = append(in.Results, programmes.Result{Indicator: r.Indicator, Value: programmes.Value(r.Value), Unit: r.Unit, Date: r.Date, Source: r.Source})
		}
		for _, s := range a.KSources {
			in.Sources = append(in.Sources, programmes.Source{Title: s.Title, URL: s.URL})
		}
	} else {
		in.Kind = "project"
		for _, r := range a.RelatedActivities {
			if strings.TrimSpace(r.Type) == "2" {
				in.Kind = "programme" // it has child activities
				break
			}
		}
		in.Results = m.disbursed()
		in.Sources = m.sources(lang)
		ci.texts = append([]namedText{{"title", in.Title}, {"description", in.Summary}}, ci.texts...)
		if !out.Explicit {
			out.Suggestions = classify(ci)
		}
	}

	if len(m.problems) > 0 {
		return nil, &ActivityError{Line: a.Line, Identifier: out.Identifier, Problems: m.problems}
	}
	out.Notes = m.notes
	return out, nil
}

func sameURI(a, b string) bool {
	return strings.TrimSuffix(strings.TrimSpace(a), "/") == strings.TrimSuffix(b, "/")
}

// isoDate accepts YYYY-MM-DD, optionally followed by a time, and returns
// the date.
func isoDate(s string) (string, bool) {
	s = strings.TrimSpace(s)
	if len(s) > 10 && (s[10] == 'T' || s[10] == ' ' || s[10] == 'Z' || s[10] == '+' || s[10] == '-') {
		s = s[:10]
	}
	t, err := time.Parse("2006-01-02", s)
	if err != nil || t.Year() < 1900 || t.Year() > 2200 {
		return "", false
	}
	return s, true
}

// amount reads a decimal value.
func amount(s string) (*big.Rat, bool) {
	s = strings.TrimSpace(s)
	if s == "" || len(s) > 40 || strings.ContainsAny(s, "eE/") {
		return nil, false
	}
	r, ok := new(big.Rat).SetString(s)
	return r, ok
}

func validCurrency(c string) bool {
	if len(c) != 3 || strings.ToUpper(c) != c {
		return false
	}
	_, err := currency.ParseISO(c)
	return err == nil
}

// cents rounds r to two decimals (half away from zero) and reports whether
// it had to.
func cents(r *big.Rat) (*big.Rat, bool) {
	x := new(big.Rat).Mul(r, big.NewRat(100, 1))
	if x.IsInt() {
		return r, false
	}
	num := new(big.Int).Set(x.Num())
	den := x.Denom()
	q, rem := new(big.Int).QuoRem(num, den, new(big.Int))
	// |rem|*2 >= den → round away from zero.
	if new(big.Int).Mul(new(big.Int).Abs(rem), big.NewInt(2)).Cmp(den) >= 0 {
		if num.Sign() < 0 {
			q.Sub(q, big.NewInt(1))
		} else {
			q.Add(q, big.NewInt(1))
		}
	}
	return new(big.Rat).SetFrac(q, big.NewInt(100)), true
}

// decimal writes r with at most two decimals and no trailing zeros.
func decimal(r *big.Rat) string {
	s := r.FloatString(2)
	if strings.Contains(s, ".") {
		s = strings.TrimRight(strings.TrimRight(s, "0"), ".")
	}
	return s
}

func (m *mapper) currencyOf(v value, elem string, n int) (string, bool) {
	c := strings.ToUpper(strings.TrimSpace(v.Currency))
	if c == "" {
		c = strings.ToUpper(strings.TrimSpace(m.a.DefaultCurrency))
	}
	if c == "" {
		m.bad(elem, n, "the value has no currency and the activity no default-currency")
		return "", false
	}
	if !validCurrency(c) {
		m.bad(elem, n, "%q is not an ISO 4217 currency code", truncate(c, 10))
		return "", false
	}
	return c, true
}

func (m *mapper) budget() *programmes.Money {
	var originals, revised []int
	for i, b := range m.a.Budgets {
		switch strings.TrimSpace(b.Type) {
		case "", "1":
			originals = append(originals, i)
		case "2":
			revised = append(revised, i)
		default:
			m.bad("budget", i, "%q is not an IATI budget type (1 original, 2 revised)", truncate(b.Type, 20))
		}
	}
	use, kind := originals, "original"
	if len(use) == 0 {
		use, kind = revised, "revised"
	}
	var cur string
	sum := new(big.Rat)
	others := map[string]bool{}
	rounded := false
	for _, i := range use {
		b := m.a.Budgets[i]
		if len(b.Value) == 0 {
			m.bad("budget", i, "a budget needs a value")
			continue
		}
		c, ok := m.currencyOf(b.Value[0], "budget", i)
		if !ok {
			continue
		}
		v, ok := amount(b.Value[0].Text)
		if !ok {
			m.bad("budget", i, "the value %q is not a decimal number", truncate(strings.TrimSpace(b.Value[0].Text), 30))
			continue
		}
		if v.Sign() < 0 {
			m.note("line %d: a negative budget (%s) was left out", m.a.LineOf("budget", i), decimal(v))
			continue
		}
		if cur == "" {
			cur = c
		}
		if c != cur {
			others[c] = true
			continue
		}
		var r bool
		v, r = cents(v)
		rounded = rounded || r
		sum.Add(sum, v)
	}
	if cur == "" {
		return nil
	}
	if len(others) > 0 {
		var list []string
		for c := range others {
			list = append(list, c)
		}
		sort.Strings(list)
		m.note("the %s budgets are in several currencies: only those in %s were summed (left out: %s)", kind, cur, strings.Join(list, ", "))
	}
	if rounded {
		m.note("budget values were rounded to cents")
	}
	return &programmes.Money{Amount: json.Number(decimal(sum)), Currency: cur}
}

// disbursed sums disbursement (3) and expenditure (4) transactions per
// currency into results.
func (m *mapper) disbursed() []programmes.Result {
	sums := map[string]*big.Rat{}
	var order []string
	latest := ""
	for i, t := range m.a.Transactions {
		if len(t.Type) == 0 {
			m.bad("transaction", i, "a transaction needs a transaction-type")
			continue
		}
		code := strings.TrimSpace(t.Type[0].Code)
		n, err := strconv.Atoi(code)
		if err != nil || n < 1 || n > 13 {
			m.bad("transaction", i, "%q is not an IATI transaction type (1 to 13)", truncate(code, 20))
			continue
		}
		if n != 3 && n != 4 {
			continue
		}
		if len(t.Value) == 0 {
			m.bad("transaction", i, "a transaction needs a value")
			continue
		}
		c, ok := m.currencyOf(t.Value[0], "transaction", i)
		if !ok {
			continue
		}
		v, ok := amount(t.Value[0].Text)
		if !ok {
			m.bad("transaction", i, "the value %q is not a decimal number", truncate(strings.TrimSpace(t.Value[0].Text), 30))
			continue
		}
		if len(t.Date) > 0 {
			if d, ok := isoDate(t.Date[0].ISODate); ok && d > latest {
				latest = d
			}
		}
		if sums[c] == nil {
			sums[c] = new(big.Rat)
			order = append(order, c)
		}
		sums[c].Add(sums[c], v)
	}
	var out []programmes.Result
	for _, c := range order {
		v, _ := cents(sums[c])
		out = append(out, programmes.Result{Indicator: DisbursedIndicator, Value: programmes.Value(decimal(v)), Unit: c, Date: latest, Source: TransactionsSource})
	}
	return out
}

// sources keeps the document links with an http or https address.
func (m *mapper) sources(lang string) []programmes.Source {
	var out []programmes.Source
	seen := map[string]bool{}
	for i, d := range m.a.DocumentLinks {
		u := strings.TrimSpace(d.URL)
		pu, err := url.Parse(u)
		if err != nil || (pu.Scheme != "http" && pu.Scheme != "https") || pu.Host == "" || len(u) > 2000 {
			m.note("line %d: a document-link was left out: %q is not an http or https address", m.a.LineOf("document-link", i), truncate(u, 60))
			continue
		}
		if seen[u] {
			continue
		}
		seen[u] = true
		title := ""
		if len(d.Title) > 0 {
			title = squash(pick(d.Title[0].Narratives, lang))
		}
		if title == "" {
			title = u
		}
		if len(out) >= maxListItems {
			m.note("only the first %d document links were kept", maxListItems)
			break
		}
		out = append(out, programmes.Source{Title: m.cut("document title", title, maxShortText), URL: u})
	}
	return out
}

// dacRegions names the OECD DAC recipient regions (IATI Region codelist,
// vocabulary 1).
var dacRegions = map[string]string{
	"88": "States Ex-Yugoslavia unspecified", "89": "Europe, regional", "189": "North of Sahara, regional",
	"289": "South of Sahara, regional", "298": "Africa, regional", "380": "West Indies, regional",
	"389": "North and Central America, regional", "489": "South America, regional", "498": "America, regional",
	"589": "Middle East, regional", "619": "Central Asia, regional", "679": "South Asia, regional",
	"689": "South and Central Asia, regional", "789": "Far East Asia, regional", "798": "Asia, regional",
	"889": "Oceania, regional", "998": "Developing countries, unspecified", "1027": "Eastern Africa, regional",
	"1028": "Middle Africa, regional", "1029": "Southern Africa, regional", "1030": "Western Africa, regional",
	"1031": "Caribbean, regional", "1032": "Central America, regional", "1033": "Melanesia, regional",
	"1034": "Micronesia, regional", "1035": "Polynesia, regional",
}

// kindForOrgType is the organisation kind of an organisation the import
// creates, from its IATI OrganisationType.
func kindForOrgType(t string) string {
	switch strings.TrimSpace(t) {
	case "10", "11", "15":
		return "government"
	case "21", "22", "23", "24":
		return "ngo"
	case "40":
		return "international_organisation"
	case "80":
		return "research"
	}
	return "other"
}

// orgTypeForKind is the IATI OrganisationType written for a Kompas
// organisation kind.
func orgTypeForKind(k string) string {
	switch k {
	case "ministry", "agency", "government", "police", "prosecution", "inspectorate", "permit_office", "coordination_centre":
		return "10"
	case "international_organisation", "eu_body":
		return "40"
	case "ngo", "care", "shelter", "reintegration_partner":
		return "22"
	case "research":
		return "80"
	case "employer":
		return "70"
	}
	return "90"
}
