package returns

import (
	"context"
	"fmt"
	"math"
	"sort"
	"time"

	"kompas/internal/platform/facts"
	"kompas/internal/platform/geo"
	"kompas/internal/platform/store"
)

// Count is one cell of a breakdown. Counts of people under the threshold
// are suppressed (Count is null); so is the next smallest cell when only
// one would be, so that a total cannot give it away.
type Count struct {
	Key        string   `json:"key"`
	Label      string   `json:"label"`
	Count      *int     `json:"count" doc:"null when suppressed"`
	Suppressed bool     `json:"suppressed"`
	Share      *float64 `json:"share_percent,omitempty" doc:"share of the breakdown's total, in per cent"`
	raw        int
}

// StageDays is the median time cases spent in a stage before leaving it.
type StageDays struct {
	Stage      Stage    `json:"stage"`
	Cases      *int     `json:"cases" doc:"cases that left the stage; null when suppressed"`
	MedianDays *float64 `json:"median_days" doc:"null when suppressed"`
	Suppressed bool     `json:"suppressed"`
}

// Stats are the module's statistics. They hold no personal data: every
// count of cases is a count of people and is suppressed below Threshold.
type Stats struct {
	AsOf             time.Time         `json:"as_of"`
	Threshold        int               `json:"threshold" doc:"counts below it are suppressed"`
	Cases            Count             `json:"cases"`
	Persons          Count             `json:"persons"`
	Departed         Count             `json:"departed" doc:"cases whose departure was confirmed"`
	Assisted         Count             `json:"assisted" doc:"returns with reintegration assistance"`
	ByStage          []Count           `json:"by_stage"`
	ByCountry        []Count           `json:"by_country"`
	ByCounsellingOrg []Count           `json:"by_counselling_org"`
	ByProgramme      []Count           `json:"by_programme"`
	AssistedByOrg    []Count           `json:"assisted_by_org" doc:"returns with reintegration assistance by counselling organisation, with shares"`
	Partners         int               `json:"partners"`
	CountriesCovered int               `json:"countries_covered" doc:"countries at least one reintegration partner covers"`
	Coverage         []PartnerCoverage `json:"coverage"`
	MedianDays       []StageDays       `json:"median_days"`
}

func newCount(key, label string, n, threshold int) Count {
	c := Count{Key: key, Label: label, raw: n}
	if n > 0 && n < threshold {
		c.Suppressed = true
	} else {
		v := n
		c.Count = &v
	}
	return c
}

// suppressBreakdown applies small-count suppression to a breakdown: cells
// under threshold, and, when exactly one cell is suppressed, the next
// smallest non-zero cell too. Shares are given for cells shown, when
// withShare.
func suppressBreakdown(cells []Count, threshold int, withShare bool) []Count {
	total := 0
	suppressed := 0
	for i := range cells {
		total += cells[i].raw
		if cells[i].raw > 0 && cells[i].raw < threshold {
			cells[i].Suppressed, cells[i].Count = true, nil
			suppressed++
		}
	}
	if suppressed == 1 {
		next := -1
		for i := range cells {
			if !cells[i].Suppressed && cells[i].raw > 0 && (next < 0 || cells[i].raw < cells[next].raw) {
				next = i
			}
		}
		if next >= 0 {
			cells[next].Suppressed, cells[next].Count = true, nil
		}
	}
	if withShare && total > 0 {
		for i := range cells {
			if !cells[i].Suppressed {
				v := math.Round(float64(cells[i].raw)*1000/float64(total)) / 10
				cells[i].Share = &v
			}
		}
	}
	return cells
}

type statsRow struct {
	stage, country, programme string
	org                       int64
	departed, assisted        bool
	cases, persons            int
}

// Stats computes the statistics over every case. It reads the running
// counts per dimension (return_case_counts) and the histogram of stage
// durations, which every write keeps up to date, not the cases themselves.
func (s *Service) Stats(ctx context.Context) (*Stats, error) {
	q := s.DB
	threshold := facts.DefaultThreshold
	var rows []statsRow
	err := each(ctx, q, `SELECT stage, country_of_return, counselling_org_id, programme, departed, assisted, cases, persons
		FROM return_case_counts WHERE cases <> 0`, nil, func(sc scanner) error {
		var r statsRow
		if err := sc.Scan(&r.stage, &r.country, &r.org, &r.programme, &r.departed, &r.assisted, &r.cases, &r.persons); err != nil {
			return err
		}
		rows = append(rows, r)
		return nil
	})
	if err != nil {
		return nil, err
	}
	orgs := map[int64][2]string{}
	err = each(ctx, q, `SELECT id, slug, name FROM organisations WHERE kind IN ('ngo', 'international_organisation')`, nil, func(sc scanner) error {
		var id int64
		var slug, name string
		if err := sc.Scan(&id, &slug, &name); err != nil {
			return err
		}
		orgs[id] = [2]string{slug, name}
		return nil
	})
	if err != nil {
		return nil, err
	}
	progNames := map[string]string{}
	var progOrder []string
	err = each(ctx, q, `SELECT code, name FROM return_programmes ORDER BY code`, nil, func(sc scanner) error {
		var code, name string
		if err := sc.Scan(&code, &name); err != nil {
			return err
		}
		progNames[code] = name
		progOrder = append(progOrder, code)
		return nil
	})
	if err != nil {
		return nil, err
	}
	var total, persons, departed, assisted int
	byStage, byCountry, byOrg, byProg, assistedBy := map[string]int{}, map[string]int{}, map[int64]int{}, map[string]int{}, map[int64]int{}
	for _, r := range rows {
		total += r.cases
		persons += r.persons
		if r.departed {
			departed += r.cases
		}
		if r.assisted {
			assisted += r.cases
			assistedBy[r.org] += r.cases
		}
		byStage[r.stage] += r.cases
		byCountry[r.country] += r.cases
		byOrg[r.org] += r.cases
		byProg[r.programme] += r.cases
	}
	st := &Stats{AsOf: s.now(), Threshold: threshold,
		Cases: newCount("cases", "Return cases", total, threshold), Persons: newCount("persons", "People in return cases", persons, threshold),
		Departed: newCount("departed", "Returns (departure confirmed)", departed, threshold),
		Assisted: newCount("assisted", "Returns with reintegration assistance", assisted, threshold)}
	for _, stg := range Stages {
		st.ByStage = append(st.ByStage, newCount(string(stg), stg.Label(), byStage[string(stg)], threshold))
	}
	st.ByStage = suppressBreakdown(st.ByStage, threshold, false)
	for code, n := range byCountry {
		st.ByCountry = append(st.ByCountry, newCount(code, geo.Name(code), n, threshold))
	}
	sortCounts(st.ByCountry)
	st.ByCountry = suppressBreakdown(st.ByCountry, threshold, true)
	orgCounts := func(m map[int64]int) []Count {
		var out []Count
		for id, n := range m {
			o := orgs[id]
			if o[0] == "" {
				o = [2]string{fmt.Sprintf("org-%d", id), "Organisation"}
			}
			out = append(out, newCount(o[0], o[1], n, threshold))
		}
		sortCounts(out)
		return out
	}
	st.ByCounsellingOrg = suppressBreakdown(orgCounts(byOrg), threshold, true)
	st.AssistedByOrg = suppressBreakdown(orgCounts(assistedBy), threshold, true)
	for _, code := range progOrder {
		st.ByProgramme = append(st.ByProgramme, newCount(code, progNames[code], byProg[code], threshold))
	}
	st.ByProgramme = suppressBreakdown(st.ByProgramme, threshold, true)

	if st.Coverage, err = partners(ctx, q); err != nil {
		return nil, err
	}
	covered := map[string]bool{}
	for _, pc := range st.Coverage {
		for _, c := range pc.Countries {
			covered[c] = true
		}
	}
	st.Partners, st.CountriesCovered = len(st.Coverage), len(covered)
	if st.MedianDays, err = medianDays(ctx, q, threshold); err != nil {
		return nil, err
	}
	return st, nil
}

func sortCounts(cs []Count) {
	sort.Slice(cs, func(i, j int) bool {
		if cs[i].raw != cs[j].raw {
			return cs[i].raw > cs[j].raw
		}
		return cs[i].Key < cs[j].Key
	})
}

// medianDays reads the histogram of days spent per stage.
func medianDays(ctx context.Context, q store.Querier, threshold int) ([]StageDays, error) {
	hist := map[string][][2]int64{}
	err := each(ctx, q, `SELECT stage, days, n FROM return_stage_days ORDER BY stage, days`, nil, func(sc scanner) error {
		var stage string
		var days, n int64
		if err := sc.Scan(&stage, &days, &n); err != nil {
			return err
		}
		hist[stage] = append(hist[stage], [2]int64{days, n})
		return nil
	})
	if err != nil {
		return nil, err
	}
	var out []StageDays
	for _, stg := range Stages {
		h := hist[string(stg)]
		var n int64
		for _, b := range h {
			n += b[1]
		}
		if n == 0 {
			continue
		}
		sd := StageDays{Stage: stg}
		if n < int64(threshold) {
			sd.Suppressed = true
		} else {
			cases := int(n)
			med := median(h, n)
			sd.Cases, sd.MedianDays = &cases, &med
		}
		out = append(out, sd)
	}
	return out, nil
}

// median of a sorted histogram of (value, count) with n values in all.
func median(h [][2]int64, n int64) float64 {
	at := func(k int64) float64 { // the k-th value, 0-based
		for _, b := range h {
			if k < b[1] {
				return float64(b[0])
			}
			k -= b[1]
		}
		return float64(h[len(h)-1][0])
	}
	if n%2 == 1 {
		return at(n / 2)
	}
	return (at(n/2-1) + at(n/2)) / 2
}

// Facts supplies the review with the module's figures (GCM objective 21:
// safe and dignified return and sustainable reintegration).
func (s *Service) Facts(ctx context.Context) ([]facts.Fact, error) {
	st, err := s.Stats(ctx)
	if err != nil {
		return nil, err
	}
	period := "as of " + st.AsOf.Format("2006-01-02")
	const src = "/statistics/returns"
	obj := []int{21}
	people := func(key, label string, c Count) facts.Fact {
		return facts.Fact{Key: "returns." + key, Label: label, Value: float64(c.raw), Unit: "cases", Period: period, Module: "returns",
			Source: src, People: true, Objectives: obj}
	}
	out := []facts.Fact{
		people("cases", "Return cases registered", st.Cases),
		{Key: "returns.persons", Label: "People in return cases", Value: float64(st.Persons.raw), Unit: "people", Period: period, Module: "returns", Source: src, People: true, Objectives: obj},
		people("departed", "Voluntary returns with departure confirmed", st.Departed),
		people("assisted", "Returns with reintegration assistance", st.Assisted),
		{Key: "returns.partners", Label: "Reintegration partners", Value: float64(st.Partners), Unit: "partners", Period: period, Module: "returns", Source: src, Objectives: obj},
		{Key: "returns.partners.countries", Label: "Countries covered by reintegration partners", Value: float64(st.CountriesCovered), Unit: "countries", Period: period, Module: "returns", Source: src, Objectives: obj},
	}
	// A cell suppressed only to protect another (complementary suppression)
	// is left out: its fact would not be suppressed on display.
	breakdown := func(key, label string, c Count) {
		if c.Suppressed && c.raw >= st.Threshold {
			return
		}
		out = append(out, people(key, label, c))
	}
	for _, c := range st.AssistedByOrg {
		breakdown("assisted.by_org."+c.Key, "Returns with reintegration assistance counselled by "+c.Label, c)
		if c.Share != nil {
			out = append(out, facts.Fact{Key: "returns.assisted.share." + c.Key, Label: "Share of returns with reintegration assistance counselled by " + c.Label,
				Value: *c.Share, Unit: "percent", Period: period, Module: "returns", Source: src, Objectives: obj})
		}
	}
	for _, c := range st.ByStage {
		breakdown("stage."+c.Key, "Return cases in stage "+c.Label, c)
	}
	for _, c := range st.ByCountry {
		breakdown("country."+c.Key, "Return cases to "+c.Label, c)
	}
	for _, c := range st.ByCounsellingOrg {
		breakdown("counselling_org."+c.Key, "Return cases counselled by "+c.Label, c)
	}
	for _, c := range st.ByProgramme {
		breakdown("programme."+c.Key, "Return cases in "+c.Label, c)
	}
	for _, d := range st.MedianDays {
		if d.MedianDays != nil {
			out = append(out, facts.Fact{Key: "returns.median_days." + string(d.Stage), Label: "Median days in stage " + d.Stage.Label(),
				Value: *d.MedianDays, Unit: "days", Period: period, Module: "returns", Source: src, Objectives: obj})
		}
	}
	return out, nil
}
