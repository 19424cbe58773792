package iati

import (
	"fmt"
	"slices"
	"sort"
	"strings"
	"unicode"
)

// The GCM classifier suggests objectives for an imported activity and says
// why: each suggestion carries the sector codes and keywords that matched.
// It is deliberately small and explainable; a policy officer confirms or
// rejects every suggestion. docs/iati.md lists both tables.

// Suggestion is one objective suggested for an activity, with its reasons.
type Suggestion struct {
	Objective int      `json:"objective"`
	Reasons   []string `json:"reasons"`
}

// sectorRule maps an OECD DAC 5-digit purpose code (sector vocabulary 1) to
// objectives.
type sectorRule struct {
	code       string
	name       string
	objectives []int
	// needs, when set, is a keyword rule id that must also match (15180
	// counts only when the text speaks of trafficking).
	needs string
}

var sectorRules = []sectorRule{
	{"15190", "Facilitation of orderly, safe, regular and responsible migration and mobility", []int{23}, ""},
	{"15136", "Immigration", []int{11, 12}, ""},
	{"72010", "Material relief assistance and services", []int{7}, ""},
	{"72050", "Relief co-ordination and support services", []int{7}, ""},
	{"93010", "Refugees/asylum seekers in donor countries", []int{7}, ""},
	{"15180", "Ending violence against women and girls", []int{10}, "trafficking"},
	{"16020", "Employment creation", []int{2}, ""},
	{"13010", "Population policy and administrative management", []int{1}, ""},
	{"24050", "Remittance facilitation, promotion and optimisation", []int{20}, ""},
	{"11330", "Vocational training", []int{18}, ""},
	{"74020", "Multi-hazard response preparedness", []int{2}, ""},
}

// migrationCodes are the purpose codes that by themselves say an activity is
// about migration (so the generic keywords below may count).
var migrationCodes = map[string]bool{"15190": true, "15136": true, "24050": true, "93010": true}

// keywordRule is a set of phrases pointing to objectives. Gated rules count
// only when the activity is about migration: a migration sector code, SDG
// target 10.7, or a migration word in the text (contextWords).
//
// Phrases are matched on whole words, ignoring case and punctuation;
// {a,b} stands for either word, and a word ending in * for any word that
// begins so.
type keywordRule struct {
	id         string
	phrases    []string
	objectives []int
	gated      bool
}

var keywordRules = []keywordRule{
	{"human-trafficking", []string{"human trafficking", "trafficking in persons", "trafficking in human beings", "trafficked {persons,people,women,children}", "victims of trafficking", "anti trafficking"}, []int{10}, false},
	{"trafficking", []string{"{trafficking,trafficked,trafficker,traffickers}"}, []int{10}, true},
	{"migrant-smuggling", []string{"migrant smuggling", "smuggling of migrants"}, []int{9}, false},
	{"smuggling", []string{"{smuggling,smuggled,smuggler,smugglers}"}, []int{9}, true},
	{"avrr", []string{"assisted voluntary {return,returns}", "avrr", "{returnee,returnees}", "readmission"}, []int{21}, false},
	{"return", []string{"reintegration", "{voluntary,assisted,safe,dignified,sustainable,forced} {return,returns}", "return migration"}, []int{21}, true},
	{"data", []string{"{migration,mobility,displacement} data", "data on {migration,migrants,mobility,displacement}", "statistics", "statistical", "data collection", "displacement tracking", "dtm"}, []int{1}, true},
	{"labour-migration", []string{"{labour,labor} {migration,mobility}", "migrant {worker,workers}"}, []int{5, 6}, false},
	{"recruitment", []string{"recruitment", "decent work", "{labour,labor} rights"}, []int{6}, true},
	{"pathways", []string{"{regular,legal} {pathway,pathways}", "legal migration", "circular migration", "work {permit,permits}", "{visa,visas}", "family reunification"}, []int{5}, true},
	{"border", []string{"{border,borders}", "coast {guard,guards}", "{coastguard,coastguards}"}, []int{11}, true},
	{"diaspora", []string{"{diaspora,diasporas}"}, []int{19}, false},
	{"remittances", []string{"{remittance,remittances}"}, []int{20}, false},
	{"identity", []string{"legal identity", "{civil,birth} registration", "{travel,identity} {document,documents}"}, []int{4}, true},
	{"rescue", []string{"search and rescue", "missing migrants", "migrant deaths"}, []int{8}, true},
	{"information", []string{"{information,awareness} {campaign,campaigns}", "awareness raising", "accurate and timely information"}, []int{3}, true},
	{"detention", []string{"detention"}, []int{13}, true},
	{"consular", []string{"consular"}, []int{14}, true},
	{"services", []string{"basic services", "access to services"}, []int{15}, true},
	{"integration", []string{"social cohesion", "integration of {migrants,refugees,newcomers}", "{social,civic,local} integration", "inclusion of migrants"}, []int{16}, true},
	{"discrimination", []string{"xenophobia", "discrimination", "hate speech", "racism"}, []int{17}, true},
	{"skills", []string{"recognition of {skills,qualifications}", "{skill,skills} {partnership,partnerships}", "skills development", "vocational training"}, []int{18}, true},
	{"social-security", []string{"social security", "portability of {social,pensions,benefits,earned}"}, []int{22}, true},
	{"drivers", []string{"root causes", "drivers of migration", "drivers of irregular migration", "climate {induced,change} {migration,displacement}", "disaster displacement"}, []int{2}, true},
	{"displaced", []string{"internally displaced", "{idp,idps}"}, []int{7}, false},
	{"vulnerability", []string{"vulnerab*", "unaccompanied", "displaced persons"}, []int{7}, true},
	{"screening", []string{"asylum {procedure,procedures}", "screening", "referral {mechanism,mechanisms}"}, []int{12}, true},
	{"cooperation", []string{"global compact for {safe,migration}", "{khartoum,rabat,budapest,prague,colombo,bali} process", "international cooperation on migration", "migration {partnership,partnerships,dialogue,dialogues}"}, []int{23}, false},
}

// contextWords say an activity is about migration.
var contextWords = []string{"migra*", "refugee", "refugees", "asylum", "displace*", "idp", "idps", "diaspora", "diasporas", "remittance", "remittances", "returnee", "returnees", "stateless*"}

// phrase is one expanded phrase: its words, each exact or a prefix (*).
type phrase struct {
	rule  int
	words []string
}

// phraseIndex finds phrases by their first word (exact) or, for the few
// starting with a prefix, by scanning those.
type phraseIndex struct {
	byFirst  map[string][]phrase
	prefixed []phrase
}

func (ix *phraseIndex) add(rule int, text string) {
	for _, ws := range expand(strings.Fields(text)) {
		p := phrase{rule: rule, words: ws}
		if strings.HasSuffix(ws[0], "*") {
			ix.prefixed = append(ix.prefixed, p)
		} else {
			ix.byFirst[ws[0]] = append(ix.byFirst[ws[0]], p)
		}
	}
}

// expand spells out {a,b} alternatives.
func expand(words []string) [][]string {
	out := [][]string{nil}
	for _, w := range words {
		alts := []string{w}
		if strings.HasPrefix(w, "{") && strings.HasSuffix(w, "}") {
			alts = strings.Split(w[1:len(w)-1], ",")
		}
		var next [][]string
		for _, o := range out {
			for _, a := range alts {
				next = append(next, append(append([]string(nil), o...), a))
			}
		}
		out = next
	}
	return out
}

func wordMatches(pattern, w string) bool {
	if p, ok := strings.CutSuffix(pattern, "*"); ok {
		return strings.HasPrefix(w, p)
	}
	return pattern == w
}

// match reports whether p's words start at toks[i].
func (p phrase) match(toks []string, i int) bool {
	if i+len(p.words) > len(toks) {
		return false
	}
	for k, w := range p.words {
		if !wordMatches(w, toks[i+k]) {
			return false
		}
	}
	return true
}

var (
	keywords = func() *phraseIndex {
		ix := &phraseIndex{byFirst: map[string][]phrase{}}
		for i, r := range keywordRules {
			for _, ph := range r.phrases {
				ix.add(i, ph)
			}
		}
		return ix
	}()
	contextIndex = func() *phraseIndex {
		ix := &phraseIndex{byFirst: map[string][]phrase{}}
		for _, w := range contextWords {
			ix.add(0, w)
		}
		return ix
	}()
)

// words splits text into lower-case words of letters and digits.
func words(text string) []string {
	return strings.FieldsFunc(strings.ToLower(text), func(r rune) bool { return !unicode.IsLetter(r) && !unicode.IsDigit(r) })
}

// find calls fn for each phrase found at each position of toks.
func (ix *phraseIndex) find(toks []string, fn func(p phrase, i int)) {
	for i, t := range toks {
		for _, p := range ix.byFirst[t] {
			if p.match(toks, i) {
				fn(p, i)
			}
		}
		for _, p := range ix.prefixed {
			if p.match(toks, i) {
				fn(p, i)
			}
		}
	}
}

// classifyInput is what the classifier reads of an activity.
type classifyInput struct {
	sectors []sectorCode
	sdg107  bool
	texts   []namedText // title, descriptions, sector and tag names
}

type sectorCode struct {
	vocabulary, code string
}

type namedText struct {
	where, text string
}

// classify returns the suggested objectives in order, each with its
// reasons.
func classify(in classifyInput) []Suggestion {
	reasons := map[int][]string{}
	add := func(obj int, why string) {
		for _, r := range reasons[obj] {
			if r == why {
				return
			}
		}
		if len(reasons[obj]) < 6 {
			reasons[obj] = append(reasons[obj], why)
		}
	}
	// Keywords first (the 15180 rule needs to know about trafficking).
	type hit struct {
		rule       int
		where      string
		word       string
		text, from int // which text, first word
		to         int // after the last word
	}
	var hits []hit
	matched := map[string]bool{} // rules found, gated or not (for 15180)
	context := in.sdg107
	for _, s := range in.sectors {
		if (s.vocabulary == "" || s.vocabulary == "1") && migrationCodes[s.code] {
			context = true
		}
	}
	for ti, t := range in.texts {
		toks := words(t.text)
		if !context {
			contextIndex.find(toks, func(phrase, int) { context = true })
		}
		keywords.find(toks, func(p phrase, i int) {
			if len(hits) < 200 {
				hits = append(hits, hit{rule: p.rule, where: t.where, word: strings.Join(toks[i:i+len(p.words)], " "), text: ti, from: i, to: i + len(p.words)})
			}
		})
	}
	var counted []hit
	for _, h := range hits {
		r := keywordRules[h.rule]
		matched[r.id] = true
		if r.id == "human-trafficking" {
			matched["trafficking"] = true
		}
		if r.gated && !context {
			continue
		}
		// A phrase overlapping one already counted for the same objectives
		// ("internally displaced" / "displaced persons") adds nothing.
		overlap := false
		for _, c := range counted {
			if c.text == h.text && c.from < h.to && h.from < c.to && slices.Equal(keywordRules[c.rule].objectives, r.objectives) {
				overlap = true
				break
			}
		}
		if !overlap {
			counted = append(counted, h)
		}
	}
	// Sector codes first: they are the publisher's own classification.
	for _, s := range in.sectors {
		if s.vocabulary != "" && s.vocabulary != "1" {
			continue
		}
		for _, r := range sectorRules {
			if r.code != s.code {
				continue
			}
			if r.needs != "" && !matched[r.needs] {
				continue
			}
			why := fmt.Sprintf("DAC sector %s (%s)", r.code, r.name)
			if r.needs != "" {
				why += " with a mention of " + r.needs
			}
			for _, obj := range r.objectives {
				add(obj, why)
			}
		}
	}
	for _, h := range counted {
		for _, obj := range keywordRules[h.rule].objectives {
			add(obj, fmt.Sprintf("keyword %q in the %s", h.word, h.where))
		}
	}
	out := make([]Suggestion, 0, len(reasons))
	for obj, rs := range reasons {
		out = append(out, Suggestion{Objective: obj, Reasons: rs})
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Objective < out[j].Objective })
	return out
}
