package report

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"sort"
	"strconv"
	"strings"
	"time"

	"kompas/internal/gcm"
	"kompas/internal/platform/facts"
	"kompas/internal/platform/geo"
	"kompas/internal/platform/store"
	"kompas/internal/platform/web"
	"kompas/internal/programmes"
)

// Group is a section of part B: a title and the GCM objectives it covers.
type Group struct {
	Title      string `json:"title" doc:"section heading; empty for one made from the objectives"`
	Objectives []int  `json:"objectives" required:"true" doc:"GCM objective numbers 1-23"`
}

// DefaultGrouping is the seed report's: 1; 5 and 6; 7; 9 and 10; 21; 23.
func DefaultGrouping() []Group {
	return []Group{
		{Title: "Migration research", Objectives: []int{1}},
		{Title: "Regular migration", Objectives: []int{5, 6}},
		{Title: "Migrant rights", Objectives: []int{7}},
		{Title: "Combating smuggling and human trafficking", Objectives: []int{9, 10}},
		{Title: "Promoting safe and dignified returns and sustainable re-integration", Objectives: []int{21}},
		{Title: "International cooperation", Objectives: []int{23}},
	}
}

// groupTitle is the group's heading, made from its objectives when empty.
func groupTitle(g Group) string {
	if strings.TrimSpace(g.Title) != "" {
		return strings.TrimSpace(g.Title)
	}
	if len(g.Objectives) == 1 {
		o := gcm.Objectives()[g.Objectives[0]-1]
		if o.Short != "" {
			return fmt.Sprintf("Objective %d: %s", o.Number, o.Short)
		}
		return fmt.Sprintf("Objective %d", o.Number)
	}
	return "Objectives " + andList(intsText(g.Objectives))
}

// Spec is what a review is built from: an edition's settings, or the
// defaults for the current draft.
type Spec struct {
	EditionID    int64
	Status       string // "draft" or "published"
	Title        string
	PeriodFrom   string // YYYY, YYYY-MM or YYYY-MM-DD; "" for open
	PeriodTo     string
	Author       string // organisation slug
	Framework    string // framework slug; "" for the default
	Grouping     []Group
	Introduction string // Markdown; "" for the generated method text
	NextSteps    string // Markdown; "" for the generated next steps
}

// DefaultTitle is the title of a review without one.
const DefaultTitle = "Implementation of the Global Compact for Safe, Orderly and Regular Migration"

// Builder builds documents from the live register and the facts that
// modules supply.
type Builder struct {
	DB       *store.DB
	Register *programmes.Register
	// GCM is the frameworks catalogue loaded at start (gcm.Load); a review
	// is built against one of its frameworks.
	GCM *gcm.Catalogue
	// Orgs names the review's author organisation.
	Orgs Orgs
	// Sources supply the figures the review quotes: the register's and,
	// as they are built, the operational modules' (app wires them).
	Sources []facts.Source
	// Threshold is the smallest count of people shown as a number
	// (facts.DefaultThreshold when zero).
	Threshold int
	// Now gives the generation time (time.Now when nil).
	Now func() time.Time
}

func (b *Builder) threshold() int {
	if b.Threshold <= 0 {
		return facts.DefaultThreshold
	}
	return b.Threshold
}

// entry is an initiative as the review places it.
type entry struct {
	it      *programmes.Initiative
	primary int    // index of the group it is described in; -1 when none
	context string // "a", "b" or "c" when its review section is in A, B or C
}

// data is everything read for one build.
type data struct {
	framework gcm.Framework
	author    string
	entries   []*entry         // in register order (id)
	byObj     map[int][]*entry // objective -> entries serving it
	facts     []facts.Fact
}

// collect reads the framework, the author's name, every initiative that
// serves a GCM objective within the period (all pages of the register),
// and the facts.
func (b *Builder) collect(ctx context.Context, spec Spec) (*data, error) {
	d := &data{byObj: map[int][]*entry{}}
	if b.GCM == nil {
		return nil, errors.New("report: the builder was given no GCM catalogue (gcm.Load)")
	}
	fw, ok := b.GCM.Framework(spec.Framework)
	if !ok {
		return nil, fmt.Errorf("report: no framework %q", spec.Framework)
	}
	d.framework = fw
	if spec.Author != "" {
		if b.Orgs == nil {
			return nil, errors.New("report: the builder was given no organisations (auth.Service)")
		}
		org, err := b.Orgs.OrgBySlug(ctx, b.DB, spec.Author)
		switch {
		case errors.Is(err, sql.ErrNoRows):
			d.author = spec.Author
		case err != nil:
			return nil, err
		default:
			d.author = org.Name
		}
	}
	from, _ := programmes.PartialDate(spec.PeriodFrom, false)
	to, _ := programmes.PartialDate(spec.PeriodTo, true)
	// One read of the whole register rather than one filtered pass per
	// objective (see docs/report.md, Performance).
	all, err := b.Register.All(ctx, programmes.Filter{})
	if err != nil {
		return nil, err
	}
	for _, it := range all {
		if len(it.Objectives) == 0 || !inPeriod(it, from, to) {
			continue
		}
		e := &entry{it: it, primary: -1}
		d.entries = append(d.entries, e)
		for _, o := range it.Objectives {
			if o >= 1 && o <= 23 {
				d.byObj[o] = append(d.byObj[o], e)
			}
		}
	}
	byID := func(es []*entry) {
		sort.Slice(es, func(i, j int) bool { return es[i].it.ID < es[j].it.ID })
	}
	byID(d.entries)
	for _, es := range d.byObj {
		byID(es)
	}
	d.facts, err = facts.Collect(ctx, b.Sources...)
	if err != nil {
		return nil, err
	}
	return d, nil
}

// inPeriod reports whether the initiative's period overlaps [from, to]; an
// unknown start or end is open.
func inPeriod(it *programmes.Initiative, from, to string) bool {
	start, _ := programmes.PartialDate(it.Start, false)
	end, _ := programmes.PartialDate(it.End, true)
	if from != "" && end != "" && end < from {
		return false
	}
	if to != "" && start != "" && start > to {
		return false
	}
	return true
}

func norm(s string) string { return strings.ToLower(strings.Join(strings.Fields(s), " ")) }

// place decides where each initiative is described: in the group whose
// title is its review section; in A, B or C when its review section is
// there; otherwise in the first group that shares one of its objectives.
func place(d *data, groups []Group) {
	byTitle := map[string]int{}
	for i, g := range groups {
		byTitle[norm(groupTitle(g))] = i
	}
	for _, e := range d.entries {
		sec := norm(e.it.ReportSection)
		if i, ok := byTitle[sec]; ok && sec != "" {
			e.primary = i
			continue
		}
		switch {
		case sec == "migration policy framework" || sec == "methodology" || strings.HasPrefix(sec, "a. ") || sec == "a. introduction":
			e.context = "a"
			continue
		case strings.HasPrefix(sec, "b. "):
			e.context = "b"
			continue
		case strings.HasPrefix(sec, "c. ") || sec == "next steps":
			e.context = "c"
			continue
		}
	search:
		for i, g := range groups {
			for _, o := range g.Objectives {
				for _, x := range e.it.Objectives {
					if x == o {
						e.primary = i
						break search
					}
				}
			}
		}
	}
}

// countryPhrase names a framework's country as a sentence needs it: "the
// Netherlands", "Germany".
func countryPhrase(code string) string {
	if code == "" {
		return "the government"
	}
	name := geo.Name(code)
	switch code {
	case "NL", "GB", "US", "PH", "CZ", "DO", "BS", "GM", "AE", "CF", "KM", "MV", "MH", "SB", "SC":
		if !strings.HasPrefix(name, "The ") {
			name = "the " + name
		} else {
			name = "t" + strings.TrimPrefix(name, "T")
		}
	}
	return name
}

// Build reads the live data and builds the review.
func (b *Builder) Build(ctx context.Context, spec Spec) (*Document, error) {
	if len(spec.Grouping) == 0 {
		spec.Grouping = DefaultGrouping()
	}
	d, err := b.collect(ctx, spec)
	if err != nil {
		return nil, err
	}
	place(d, spec.Grouping)
	now := time.Now
	if b.Now != nil {
		now = b.Now
	}
	doc := &Document{Title: spec.Title, Generated: now().UTC()}
	if doc.Title == "" {
		doc.Title = DefaultTitle
	}
	doc.Subtitle = "GCM implementation review of " + countryPhrase(d.framework.Country)
	bd := &builder{b: b, spec: spec, d: d, doc: doc, th: b.threshold()}
	bd.meta()
	bd.partA()
	bd.partB()
	bd.partC()
	uniqueIDs(doc)
	return doc, nil
}

// uniqueIDs makes every section and table id unique (two groups may share
// a title), so links and aria references stay right.
func uniqueIDs(doc *Document) {
	used := map[string]int{"notes": 1}
	fix := func(id *string) {
		if *id == "" {
			return
		}
		used[*id]++
		if n := used[*id]; n > 1 {
			*id = fmt.Sprintf("%s-%d", *id, n)
			used[*id]++
		}
	}
	doc.Walk(func(s *Section) {
		fix(&s.ID)
		for _, b := range s.Blocks {
			if t, ok := b.(*Table); ok {
				fix(&t.ID)
			}
		}
	})
}

type builder struct {
	b    *Builder
	spec Spec
	d    *data
	doc  *Document
	th   int
}

func (bd *builder) meta() {
	m := &bd.doc.Meta
	if bd.spec.EditionID > 0 {
		status := "draft, generated from live data"
		if bd.spec.Status == "published" {
			status = "published"
		}
		*m = append(*m, MetaItem{"Edition", fmt.Sprintf("%d (%s)", bd.spec.EditionID, status)})
	} else {
		*m = append(*m, MetaItem{"Edition", "current draft, generated from live data"})
	}
	period := humanPeriod(strings.TrimSpace(bd.spec.PeriodFrom), strings.TrimSpace(bd.spec.PeriodTo))
	if period == "" {
		period = "all recorded activity"
	}
	*m = append(*m, MetaItem{"Period", period})
	if bd.d.author != "" {
		*m = append(*m, MetaItem{"Author", bd.d.author})
	}
	*m = append(*m, MetaItem{"Framework", bd.d.framework.Title})
	*m = append(*m, MetaItem{"Generated", bd.doc.Generated.Format("2 January 2006 15:04 UTC")})
}

func (bd *builder) registerLink(it *programmes.Initiative) string {
	return "/initiatives/" + strconv.FormatInt(it.ID, 10)
}

// factNote adds the note that gives a fact's provenance.
func (bd *builder) factNote(f facts.Fact) int {
	text := f.Label
	var extra []string
	if f.Module != "" {
		extra = append(extra, "module "+f.Module)
	}
	if f.Period != "" {
		extra = append(extra, f.Period)
	}
	if len(extra) > 0 {
		text += " (" + strings.Join(extra, ", ") + ")"
	}
	return bd.doc.note(text, f.Source)
}

// factInlines writes a fact as "Label: value[note]", the value linking to
// its source.
func (bd *builder) factInlines(f facts.Fact) []Inline {
	v := factValue(f, bd.th)
	val := Inline{Text: v, Bold: true, Class: "fact"}
	if f.Source != "" {
		val.URL = f.Source
	}
	return []Inline{txt(f.Label + ": "), val, noteRef(bd.factNote(f))}
}

func (bd *builder) partA() {
	a := newSection("a-introduction", "A. Introduction", 1)
	meth := newSection("methodology", "Methodology", 2)
	if strings.TrimSpace(bd.spec.Introduction) != "" {
		meth.add(markdownBlocks(bd.spec.Introduction)...)
	} else {
		first := "This review is generated by Kompas"
		if who := bd.d.author; who != "" {
			first = orgSubject(who) + " has drawn up this review with Kompas. It is generated"
		}
		meth.add(plain(first+" from the live programme register, in which ministries and agencies record the policies, laws, programmes, projects, dialogues and funds that carry out migration policy, each traced to the 23 GCM objectives and to the pillars of the national framework."),
			plain(fmt.Sprintf("Every figure carries a note that links to the page or query that produced it. Counts of people below %d are shown as \u201cfewer than %d\u201d.", bd.th, bd.th)))
	}
	a.sub(meth)

	fw := newSection("migration-policy-framework", "Migration policy framework", 2)
	p := para(txt(fmt.Sprintf("The national framework is the %s", bd.d.framework.Title)))
	if bd.d.framework.SourceURL != "" {
		p.Inlines = append(p.Inlines, noteRef(bd.doc.note(bd.d.framework.Title, bd.d.framework.SourceURL)))
	}
	p.Inlines = append(p.Inlines, txt(fmt.Sprintf(". The %s pillars are:", numberWord(len(bd.d.framework.Pillars)))))
	fw.add(p)
	pl := &List{Ordered: true, Class: "pillars"}
	for _, x := range bd.d.framework.Pillars {
		pl.Items = append(pl.Items, plain(x.Title))
	}
	fw.add(pl)
	bd.contextInitiatives(fw, "a")
	a.sub(fw)
	bd.doc.Sections = append(bd.doc.Sections, a)
}

// contextInitiatives adds, as paragraphs, the initiatives whose review
// section is in part A, B or C.
func (bd *builder) contextInitiatives(s *Section, part string) {
	for _, e := range bd.d.entries {
		if e.context != part {
			continue
		}
		p := para(link(e.it.Title, bd.registerLink(e.it)), txt(". "))
		p.Inlines[0].Bold = true
		p.Inlines = append(p.Inlines, txt(e.it.Summary))
		s.add(p)
	}
}

func (bd *builder) partB() {
	country := countryPhrase(bd.d.framework.Country)
	b := newSection("b-approach", "B. The approach of "+country+" towards GCM implementation", 1)
	b.add(plain("This part lists, for each GCM objective or group of objectives, the initiatives in the register that serve it, with their partners, countries, period, money and results. An initiative is described once, in the section it belongs to; the other sections whose objectives it also serves name it. The coverage table at the end shows all 23 objectives, including those with no activity recorded."))
	bd.contextInitiatives(b, "b")

	// Figures that belong to no group: totals of the register and the
	// operational modules' figures.
	inGroup := map[int]bool{}
	for _, g := range bd.spec.Grouping {
		for _, o := range g.Objectives {
			inGroup[o] = true
		}
	}
	var general []facts.Fact
	for _, f := range bd.d.facts {
		if len(f.Objectives) == 0 {
			general = append(general, f)
			continue
		}
		any := false
		for _, o := range f.Objectives {
			any = any || inGroup[o]
		}
		// Per-objective counts of objectives outside every group are
		// shown in the coverage table; other modules' figures here.
		if !any && !strings.HasPrefix(f.Key, "programmes.initiatives.objective.") {
			general = append(general, f)
		}
	}
	if len(general) > 0 {
		fig := newSection("key-figures", "Key figures", 2)
		t := &Table{ID: "key-figures-table", Caption: "Figures from the register and the operational modules, each with its source", Header: []string{"Figure", "Value", "Period", "Source"}, Numeric: []bool{false, true, false, false}, Widths: []float64{0.44, 0.2, 0.18, 0.18}}
		for _, f := range general {
			v := Inline{Text: factValue(f, bd.th), Class: "fact"}
			src := []Inline{txt(f.Module), noteRef(bd.factNote(f))}
			if f.Source != "" {
				v.URL = f.Source
			}
			t.Rows = append(t.Rows, []Cell{{Inlines: []Inline{txt(f.Label)}, RowHeader: true}, cell(v), textCell(f.Period), cell(src...)})
		}
		fig.add(t)
		b.sub(fig)
	}

	charts := newSection("charts", "The register at a glance", 2)
	charts.add(&Figure{Chart: bd.moneyChart()}, &Figure{Chart: bd.pillarChart()})
	b.sub(charts)

	for i, g := range bd.spec.Grouping {
		b.sub(bd.groupSection(i, g))
	}
	b.sub(bd.coverageSection())
	bd.doc.Sections = append(bd.doc.Sections, b)
}

func (bd *builder) groupSection(i int, g Group) *Section {
	title := groupTitle(g)
	s := newSection("group-"+slug(title), title, 2)
	var serving []*entry
	seen := map[int64]bool{}
	for _, o := range g.Objectives {
		for _, e := range bd.d.byObj[o] {
			if !seen[e.it.ID] {
				seen[e.it.ID] = true
				serving = append(serving, e)
			}
		}
	}
	sort.Slice(serving, func(a, b int) bool { return serving[a].it.ID < serving[b].it.ID })
	var titles []string
	for _, o := range g.Objectives {
		titles = append(titles, gcm.ObjectiveTitle(o))
	}
	intro := fmt.Sprintf("In line with %s (%s), the register records %s.", objectivesPhrase(g.Objectives), strings.Join(titles, "; "), plural(len(serving), "initiative", "initiatives"))
	if len(serving) == 0 {
		intro = fmt.Sprintf("In line with %s (%s): no activity recorded in the register for this period.", objectivesPhrase(g.Objectives), strings.Join(titles, "; "))
	}
	s.add(plain(intro))
	var figs []*Paragraph
	for _, f := range bd.d.facts {
		for _, o := range f.Objectives {
			if containsInt(g.Objectives, o) {
				figs = append(figs, para(bd.factInlines(f)...))
				break
			}
		}
	}
	if len(figs) > 0 {
		s.add(&List{Items: figs, Class: "figures"})
	}
	var others []*entry
	for _, e := range serving {
		if e.primary == i {
			s.sub(bd.initiativeSection(e))
		} else {
			others = append(others, e)
		}
	}
	if len(others) > 0 {
		t := &Table{ID: "also-" + slug(title), Caption: "Also serving " + objectivesPhrase(g.Objectives) + ", described elsewhere", Header: []string{"Initiative", "GCM objectives", "Described under"}, Widths: []float64{0.5, 0.18, 0.32}}
		for _, e := range others {
			where := "Coverage only"
			switch {
			case e.primary >= 0:
				where = groupTitle(bd.spec.Grouping[e.primary])
			case e.context == "a":
				where = "A. Introduction"
			case e.context == "b":
				where = "B. The approach"
			case e.context == "c":
				where = "C. Next steps"
			}
			t.Rows = append(t.Rows, []Cell{{Inlines: []Inline{link(e.it.Title, bd.registerLink(e.it))}, RowHeader: true}, textCell(strings.Join(intsText(e.it.Objectives), ", ")), textCell(where)})
		}
		s.add(t)
	}
	return s
}

func containsInt(xs []int, x int) bool {
	for _, y := range xs {
		if y == x {
			return true
		}
	}
	return false
}

func (bd *builder) initiativeSection(e *entry) *Section {
	it := e.it
	s := newSection(fmt.Sprintf("initiative-%d", it.ID), it.Title, 3)
	if it.Summary != "" {
		s.add(plain(it.Summary))
	}
	l := &List{Class: "initiative-facts"}
	item := func(label string, in ...Inline) {
		l.Items = append(l.Items, para(append([]Inline{bold(label + ": ")}, in...)...))
	}
	kind := web.Label(it.Kind) + ", " + it.Status
	item("Kind", txt(kind))
	if it.LeadName != "" {
		item("Lead", txt(it.LeadName))
	}
	if len(it.Partners) > 0 {
		var ps []string
		for _, p := range it.Partners {
			ps = append(ps, fmt.Sprintf("%s (%s)", p.Name, p.Role))
		}
		item("Partners", txt(strings.Join(ps, "; ")))
	}
	if len(it.Countries) > 0 {
		var cs []string
		for _, c := range it.Countries {
			cs = append(cs, geo.Name(c))
		}
		label := "Country"
		if len(cs) > 1 {
			label = fmt.Sprintf("Countries (%d)", len(cs))
		}
		item(label, txt(strings.Join(cs, ", ")))
	}
	if len(it.Regions) > 0 {
		item("Regions", txt(strings.Join(it.Regions, ", ")))
	}
	if p := humanPeriod(it.Start, it.End); p != "" {
		item("Period", txt(p))
	}
	if it.Budget != nil {
		item("Money", txt(fullMoney(string(it.Budget.Amount), it.Budget.Currency)))
	}
	obj := "GCM objectives"
	if len(it.Objectives) == 1 {
		obj = "GCM objective"
	}
	item(obj, txt(strings.Join(intsText(it.Objectives), ", ")))
	for _, r := range it.Results {
		v := resultValue(string(r.Value), r.Unit, bd.th)
		if r.Date != "" {
			v += " (" + humanDate(r.Date) + ")"
		}
		item("Result", txt(r.Indicator+": "), Inline{Text: v, Bold: true})
	}
	for _, src := range it.Sources {
		if src.URL != "" {
			item("Source", link(src.Title, src.URL))
		} else {
			item("Source", txt(src.Title))
		}
	}
	item("Register entry", link(bd.registerLink(it), bd.registerLink(it)))
	s.add(l)
	return s
}

// coverage counts, per objective, the initiatives in the review and, per
// pillar, their objectives.
func (bd *builder) coverageSection() *Section {
	s := newSection("coverage", "Coverage of the 23 GCM objectives", 2)
	var gaps []string
	for o := 1; o <= 23; o++ {
		if len(bd.d.byObj[o]) == 0 {
			gaps = append(gaps, strconv.Itoa(o))
		}
	}
	if len(gaps) == 0 {
		s.add(plain("Every one of the 23 GCM objectives has at least one initiative in the register."))
	} else {
		s.add(plain(fmt.Sprintf("%d of the 23 GCM objectives have activity recorded in the register; %d have none (%s), marked \u201cno activity recorded\u201d below.",
			23-len(gaps), len(gaps), andList(gaps))))
	}
	where := map[int]string{}
	for _, g := range bd.spec.Grouping {
		for _, o := range g.Objectives {
			if _, ok := where[o]; !ok {
				where[o] = groupTitle(g)
			}
		}
	}
	n := bd.doc.note("Programme register: initiatives per GCM objective and pillar, live", "/coverage")
	t := &Table{ID: "coverage-table", Caption: "All 23 GCM objectives: initiatives in this review and where they are described", Header: []string{"GCM objective", "Initiatives", "Section of this review"},
		Numeric: []bool{false, true, false}, Widths: []float64{0.6, 0.16, 0.24}, Note: n}
	for _, o := range gcm.Objectives() {
		head := Cell{Inlines: []Inline{txt(fmt.Sprintf("%d. %s", o.Number, o.Title))}, RowHeader: true}
		cnt := len(bd.d.byObj[o.Number])
		if cnt == 0 {
			t.Rows = append(t.Rows, []Cell{head, {Inlines: []Inline{txt("no activity recorded")}, Class: "gap"}, textCell("—")})
			continue
		}
		sec := where[o.Number]
		if sec == "" {
			sec = "coverage only"
		}
		t.Rows = append(t.Rows, []Cell{head, {Inlines: []Inline{link(strconv.Itoa(cnt), fmt.Sprintf("/initiatives?objective=%d", o.Number))}, Class: "count"}, textCell(sec)})
	}
	s.add(t)
	s.add(&Figure{Chart: bd.heatChart()})
	return s
}

func (bd *builder) partC() {
	c := newSection("c-next-steps", "C. Next steps", 1)
	if strings.TrimSpace(bd.spec.NextSteps) != "" {
		c.add(markdownBlocks(bd.spec.NextSteps)...)
	} else {
		var gaps []string
		for o := 1; o <= 23; o++ {
			if len(bd.d.byObj[o]) == 0 {
				gaps = append(gaps, fmt.Sprintf("%d (%s)", o, gcm.Objectives()[o-1].Short))
			}
		}
		c.add(plain(fmt.Sprintf("The register records activity under %d of the 23 GCM objectives.", 23-len(gaps))))
		if len(gaps) > 0 {
			c.add(plain("No activity is recorded under objectives " + andList(gaps) + ". The next edition of this review can show whether these gaps are closed, or explain why they are outside the national approach."))
		}
	}
	bd.contextInitiatives(c, "c")
	bd.doc.Sections = append(bd.doc.Sections, c)
}

// mainCurrency is the currency with the most initiatives budgeted in it.
func (bd *builder) mainCurrency() string {
	count := map[string]int{}
	best := ""
	for _, e := range bd.d.entries {
		if e.it.Budget == nil {
			continue
		}
		c := e.it.Budget.Currency
		count[c]++
		if best == "" || count[c] > count[best] || (count[c] == count[best] && c < best) {
			best = c
		}
	}
	if best == "" {
		best = "EUR"
	}
	return best
}

func (bd *builder) moneyChart() *Chart {
	cur := bd.mainCurrency()
	c := &Chart{ID: "chart-money", Kind: "bar", Title: "Money by GCM objective (" + cur + ")"}
	var bars []Bar
	others := 0
	for o := 1; o <= 23; o++ {
		sum := 0.0
		for _, e := range bd.d.byObj[o] {
			if e.it.Budget == nil {
				continue
			}
			if e.it.Budget.Currency != cur {
				others++
				continue
			}
			sum += amountOf(string(e.it.Budget.Amount))
		}
		if sum > 0 {
			bars = append(bars, Bar{Label: fmt.Sprintf("%d. %s", o, gcm.Objectives()[o-1].Short), Value: sum, Display: shortMoney(sum, cur), URL: "/money"})
		}
	}
	c.Bars = bars
	var parts []string
	for _, b := range bars {
		parts = append(parts, b.Label+": "+b.Display)
	}
	c.Desc = "Budgets of the initiatives in this review summed by GCM objective, in " + cur + "; an initiative counts in full under each of its objectives."
	if len(parts) > 0 {
		c.Desc += " " + strings.Join(parts, "; ") + "."
	} else {
		c.Desc += " No budget is recorded."
	}
	if others > 0 {
		c.Desc += fmt.Sprintf(" Budgets in other currencies (%d) are not shown.", others)
	}
	bd.doc.Charts = append(bd.doc.Charts, c)
	return c
}

func (bd *builder) pillarChart() *Chart {
	c := &Chart{ID: "chart-pillars", Kind: "bar", Title: "Initiatives per pillar of the national framework"}
	counts := map[int]int{}
	none := 0
	for _, e := range bd.d.entries {
		if len(e.it.Pillars) == 0 {
			none++
		}
		for _, p := range e.it.Pillars {
			counts[p]++
		}
	}
	var parts []string
	for _, p := range bd.d.framework.Pillars {
		n := counts[p.Number]
		c.Bars = append(c.Bars, Bar{Label: fmt.Sprintf("%d. %s", p.Number, p.Title), Value: float64(n), Display: strconv.Itoa(n), URL: fmt.Sprintf("/initiatives?pillar=%d", p.Number)})
		parts = append(parts, fmt.Sprintf("pillar %d: %d", p.Number, n))
	}
	c.Bars = append(c.Bars, Bar{Label: "No pillar recorded", Value: float64(none), Display: strconv.Itoa(none)})
	parts = append(parts, fmt.Sprintf("no pillar: %d", none))
	c.Desc = "Number of initiatives in this review mapped to each pillar; an initiative may serve several pillars. " + strings.Join(parts, "; ") + "."
	bd.doc.Charts = append(bd.doc.Charts, c)
	return c
}

func (bd *builder) heatChart() *Chart {
	c := &Chart{ID: "chart-coverage", Kind: "heatmap", Title: "Coverage heat map: GCM objectives by pillar"}
	for _, p := range bd.d.framework.Pillars {
		c.ColLabels = append(c.ColLabels, fmt.Sprintf("P%d", p.Number))
	}
	total, empty := 0, 0
	for _, o := range gcm.Objectives() {
		c.RowLabels = append(c.RowLabels, fmt.Sprintf("%d. %s", o.Number, o.Short))
		row := make([]int, len(bd.d.framework.Pillars))
		for _, e := range bd.d.byObj[o.Number] {
			for j, p := range bd.d.framework.Pillars {
				if containsInt(e.it.Pillars, p.Number) {
					row[j]++
				}
			}
		}
		for _, v := range row {
			total += v
			if v == 0 {
				empty++
			}
		}
		c.Cells = append(c.Cells, row)
	}
	var cols []string
	for _, p := range bd.d.framework.Pillars {
		cols = append(cols, fmt.Sprintf("P%d %s", p.Number, p.Title))
	}
	c.Desc = fmt.Sprintf("Initiatives counted per GCM objective (rows) and pillar (columns: %s); darker cells count more initiatives. %d of %d cells are empty. The coverage table gives the same counts per objective in numbers.",
		strings.Join(cols, "; "), empty, 23*len(bd.d.framework.Pillars))
	bd.doc.Charts = append(bd.doc.Charts, c)
	return c
}

// orgSubject puts "The" before an organisation's name where English needs
// it: "The Ministry of Foreign Affairs".
func orgSubject(name string) string {
	for _, w := range []string{"Ministry ", "Government ", "Office ", "Repatriation ", "National ", "Royal ", "European ", "International ", "Public ", "Permit "} {
		if strings.HasPrefix(name, w) {
			return "The " + name
		}
	}
	return name
}
