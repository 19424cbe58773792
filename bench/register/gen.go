package main

import (
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"slices"
	"strings"

	"kompas/internal/programmes"
)

// vocabulary is the register's working language, roughly from most to
// least frequent. Titles and summaries draw from it with a Zipf
// distribution (so a few words, such as "migration", are in most records and
// most are in a few per cent), and search queries draw from it uniformly.
var vocabulary = uniqueWords(`
migration migrants return support programme policy protection reintegration
labour international cooperation countries capacity regional national
asylum border management trafficking smuggling integration partners
development government information research data awareness rights
community training legal voluntary assistance victims children women
reception refugees displaced persons employment skills education health
dialogue agreement partnership strategy framework action plan network
prevention investigation prosecution shelter counselling referral care
documentation identity registration consular diaspora remittances
circular mobility pathways visa permits workers employers recruitment
ethical decent wages inspection exploitation forced detention alternatives
dignity safety rescue search maritime routes irregular transit origin
destination host municipalities civil society organisations academia
knowledge evidence statistics monitoring evaluation indicators results
funding budget grants humanitarian emergency climate environmental
disasters resilience livelihoods youth entrepreneurship business private
sector jobs vocational apprenticeships recognition qualifications
language courses orientation housing social inclusion participation
discrimination xenophobia racism hate speech media campaigns public
perception narratives gender sensitive unaccompanied minors family
reunification guardianship best interests stateless nationality
naturalisation citizenship residence status regularisation overstayers
deportation readmission escort flights travel documents reintegration
packages psychosocial medical vulnerable elderly disabilities lgbti
survivors violence sexual abuse labour exploitation domestic agriculture
construction seasonal posted directive notification compliance fines
sanctions prosecutors judges police gendarmerie coastguard frontex
europol interpol biometric databases interoperability digital portal
online desk helpline hotline outreach mobile teams local authorities
mayors cities urban rural villages communities returnees hometowns
cross cities corridors africa sahel horn maghreb levant balkans
mediterranean aegean caribbean andean pacific asia europe americas
training curriculum manuals guidelines standards operating procedures
pilot scale sustainable durable solutions resettlement relocation
sponsorship humanitarian corridors admission quotas pledges compact
objectives principles review progress implementation report assessment
baseline targets milestones outputs outcomes impact lessons learned
coordination governance whole approach inter agency ministries
embassies missions consulates liaison officers seconded experts
`)

// uniqueWords splits s into words, keeping the first of any repeat.
func uniqueWords(s string) []string {
	var out []string
	for _, w := range strings.Fields(s) {
		if !slices.Contains(out, w) {
			out = append(out, w)
		}
	}
	return out
}

// stopwords make summaries read like sentences; neither engine's full-text
// configuration drops them, as neither does for real text.
var stopwords = strings.Fields(`the and of to in for with on by a an from at as its their this that is are was were be has have`)

// titleNouns end a title.
var titleNouns = []string{"programme", "project", "fund", "dialogue", "strategy", "partnership", "initiative", "facility", "action plan", "law"}

// commonCountries are the countries initiatives name most, most frequent
// first; otherCountries are drawn now and then.
var commonCountries = strings.Fields(`NL NG NE MA TN ET ER SD SS AF IQ SY TR LY EG SN ML GH GM GN CI KE UG SO JO LB BD PK LK DZ MR BF TD CM CD AL XK BA RS UA BY`)
var otherCountries = strings.Fields(`AO AR AU BE BR CA CH CL CN CO CZ DE DK ES FI FR GB GR HU ID IE IN IT JP KR MX MY NO NZ PE PH PL PT RO SE SK TH US VN ZA ZM ZW YE VE TZ RW MW MZ NA BW`)

var regions = []string{"West Africa", "East Africa", "Horn of Africa", "North Africa", "Sahel", "Middle East", "Western Balkans", "Europe", "South Asia", "Central Mediterranean"}

var reportSections = []string{
	"A. Methodology for the preparation of the review",
	"B. The approach of the Netherlands towards GCM implementation",
	"C. Progress on GCM objectives",
	"Migration policy framework",
	"Partnerships with countries of origin and transit",
	"",
}

var resultIndicators = []struct{ indicator, unit string }{
	{"Migrants assisted to return voluntarily", "migrants"},
	{"Returnees supported with reintegration assistance", "returnees"},
	{"Officials trained", "officials"},
	{"Victims of trafficking identified", "victims"},
	{"Awareness sessions held", "sessions"},
	{"Partner countries", "countries"},
	{"Labour inspections carried out", "inspections"},
	{"Draft legislation adopted", ""},
	{"Share of returns with IOM", "percent"},
}

// kindWeights and statusWeights skew the enumerations a little, as a real
// register would be.
var kindWeights = []int{20, 5, 30, 30, 10, 5} // programmes.Kinds order
var statusWeights = []int{15, 55, 25, 5}      // programmes.Statuses order
var principleLetters = strings.Fields("a b c d e f g h i j")

// gen makes realistic initiatives.
type gen struct {
	r        *rand.Rand
	words    *rand.Zipf
	ctry     *rand.Zipf
	obj      *rand.Zipf
	partners []string // organisation slugs a partner is drawn from
	leads    []string // ministries that lead
}

func newGen(seed uint64, orgSlugs []string) *gen {
	r := rand.New(rand.NewPCG(seed, seed^0x9e3779b97f4a7c15))
	leads := []string{"mfa", "jenv", "szw"}
	return &gen{
		r:        r,
		words:    rand.NewZipf(r, 1.1, 10, uint64(len(vocabulary)-1)),
		ctry:     rand.NewZipf(r, 1.2, 2, uint64(len(commonCountries)-1)),
		obj:      rand.NewZipf(r, 1.05, 6, 22),
		partners: orgSlugs,
		leads:    leads,
	}
}

func (g *gen) word() string { return vocabulary[g.words.Uint64()] }

func (g *gen) weighted(ws []int) int {
	total := 0
	for _, w := range ws {
		total += w
	}
	n := g.r.IntN(total)
	for i, w := range ws {
		if n < w {
			return i
		}
		n -= w
	}
	return len(ws) - 1
}

func (g *gen) country() string {
	if g.r.IntN(10) == 0 {
		return otherCountries[g.r.IntN(len(otherCountries))]
	}
	return commonCountries[g.ctry.Uint64()]
}

// input returns one initiative as the API takes it: lists already unique
// and sorted, as the register would store them.
func (g *gen) input() programmes.Input {
	r := g.r
	in := programmes.Input{
		Kind:   programmes.Kinds[g.weighted(kindWeights)],
		Status: programmes.Statuses[g.weighted(statusWeights)],
		Lead:   g.leads[r.IntN(len(g.leads))],
	}
	// Countries: 0-4, mostly 1-2.
	nc := []int{0, 1, 1, 1, 2, 2, 3, 4}[r.IntN(8)]
	in.Countries = uniqSortedStr(nc, g.country)
	// Title: a few words, a noun and often a country.
	var t strings.Builder
	for i, n := 0, 2+r.IntN(4); i < n; i++ {
		if i > 0 {
			t.WriteByte(' ')
		}
		t.WriteString(g.word())
	}
	t.WriteString(" " + titleNouns[r.IntN(len(titleNouns))])
	if len(in.Countries) > 0 && r.IntN(2) == 0 {
		t.WriteString(" in " + countryName(in.Countries[0]))
	}
	in.Title = strings.ToUpper(t.String()[:1]) + t.String()[1:]
	// Summary: two to four sentences, about 25-60 words.
	var s strings.Builder
	for i, n := 0, 2+r.IntN(3); i < n; i++ {
		if i > 0 {
			s.WriteByte(' ')
		}
		m := 8 + r.IntN(10)
		for j := 0; j < m; j++ {
			w := g.word()
			if r.IntN(10) < 4 {
				w = stopwords[r.IntN(len(stopwords))]
			}
			if j == 0 {
				w = strings.ToUpper(w[:1]) + w[1:]
			} else {
				s.WriteByte(' ')
			}
			s.WriteString(w)
		}
		s.WriteByte('.')
	}
	in.Summary = s.String()
	if r.IntN(5) == 0 {
		in.Regions = []string{regions[r.IntN(len(regions))]}
	} else {
		in.Regions = []string{}
	}
	in.Objectives = uniqSortedInt(1+r.IntN(4), func() int { return int(g.obj.Uint64()) + 1 })
	in.Pillars = uniqSortedInt(r.IntN(4), func() int { return 1 + r.IntN(6) })
	in.Principles = uniqSortedStr(r.IntN(3), func() string { return principleLetters[r.IntN(len(principleLetters))] })
	// Partners: the lead ministry, and 0-3 others.
	in.Partners = []programmes.Partner{{Org: in.Lead, Role: "lead"}}
	seen := map[string]bool{in.Lead: true}
	for i, n := 0, r.IntN(4); i < n; i++ {
		org := g.partners[r.IntN(len(g.partners))]
		if seen[org] {
			continue
		}
		seen[org] = true
		role := []string{"funder", "implementer", "implementer", "co-funder", "member", "beneficiary"}[r.IntN(6)]
		in.Partners = append(in.Partners, programmes.Partner{Org: org, Role: role})
	}
	start := 2010 + r.IntN(14)
	in.Start = fmt.Sprintf("%d-%02d", start, 1+r.IntN(12))
	if in.Status != "active" || r.IntN(2) == 0 {
		in.End = fmt.Sprintf("%d-%02d", start+1+r.IntN(5), 1+r.IntN(12))
	}
	if r.IntN(10) < 7 {
		amount := 10_000 + r.Int64N(50_000_000)
		a := fmt.Sprintf("%d", amount)
		if r.IntN(4) == 0 {
			a = fmt.Sprintf("%d.%02d", amount, 1+r.IntN(99))
		}
		in.Budget = &programmes.Money{Amount: json.Number(a), Currency: "EUR"}
	}
	in.Results = []programmes.Result{}
	for i, n := 0, []int{0, 0, 1, 1, 2, 3}[r.IntN(6)]; i < n; i++ {
		ri := resultIndicators[r.IntN(len(resultIndicators))]
		v := programmes.Value(fmt.Sprintf("%d", 1+r.IntN(20000)))
		if ri.unit == "" {
			v = "achieved"
		}
		in.Results = append(in.Results, programmes.Result{Indicator: ri.indicator, Value: v, Unit: ri.unit,
			Date: fmt.Sprintf("%d", start+r.IntN(4)), Source: "Annual report " + fmt.Sprint(start+1)})
	}
	in.Sources = []programmes.Source{}
	if r.IntN(2) == 0 {
		in.Sources = append(in.Sources, programmes.Source{Title: "Letter to parliament on " + g.word() + " " + g.word(),
			URL: fmt.Sprintf("https://www.government.nl/documents/kamerstukken/%d/%02d/%02d/%s", start, 1+r.IntN(12), 1+r.IntN(28), g.word())})
	}
	in.ReportSection = reportSections[r.IntN(len(reportSections))]
	return in
}

// query returns a search of one or two words from the vocabulary, drawn
// uniformly (so rare and common words alike).
func (g *gen) query() string {
	q := vocabulary[g.r.IntN(len(vocabulary))]
	if g.r.IntN(2) == 0 {
		q += " " + vocabulary[g.r.IntN(len(vocabulary))]
	}
	return q
}

func uniqSortedStr(n int, draw func() string) []string {
	out := []string{}
	for i := 0; i < n; i++ {
		if v := draw(); !slices.Contains(out, v) {
			out = append(out, v)
		}
	}
	slices.Sort(out)
	return out
}

func uniqSortedInt(n int, draw func() int) []int {
	out := []int{}
	for i := 0; i < n; i++ {
		if v := draw(); !slices.Contains(out, v) {
			out = append(out, v)
		}
	}
	slices.Sort(out)
	return out
}
