package demo

import (
	"reflect"
	"testing"
	"time"

	"kompas/internal/returns"
)

// TestReturnPlanIsDeterministic draws the return cases twice: the same
// cases, steps and times, so every load gives the same figures.
func TestReturnPlanIsDeterministic(t *testing.T) {
	now := time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)
	set := &returns.IndicatorSet{Code: "rss15", Indicators: []returns.Indicator{{Key: "housing", Dimension: "social"}, {Key: "debt", Dimension: "economic"}}}
	caps := map[string]int64{"national": 2000, "iom_return": 3000, "frontex_reintegration": 2615, "iom_stranded": 1500}
	type flat struct {
		At    time.Time
		As    string
		In    returns.CreateInput
		Steps []string
	}
	draw := func() []flat {
		var out []flat
		for _, c := range planReturnCases(now, set, caps) {
			f := flat{At: c.at, As: c.as, In: c.in}
			for i, s := range c.steps {
				if i > 0 && s.at.Before(c.steps[i-1].at) {
					t.Fatalf("steps of a case out of time order: %s before %s", s.what, c.steps[i-1].what)
				}
				if s.at.After(now) || s.at.Before(c.at) {
					t.Fatalf("step %s at %s, outside %s to %s", s.what, s.at, c.at, now)
				}
				f.Steps = append(f.Steps, s.at.Format(time.RFC3339)+" "+s.as+" "+s.what)
			}
			out = append(out, f)
		}
		return out
	}
	a, b := draw(), draw()
	if len(a) != ReturnCases {
		t.Fatalf("%d cases, want %d", len(a), ReturnCases)
	}
	if !reflect.DeepEqual(a, b) {
		t.Error("two draws with the same seed differ")
	}
	moves := map[string]int{}
	for _, c := range planReturnCases(now, set, caps) {
		for _, s := range c.steps {
			moves[s.what]++
		}
	}
	for _, what := range []string{"move to closed", "move to monitoring", "move to no_show", "visit", "delivery", "assign partner"} {
		if moves[what] == 0 {
			t.Errorf("no case has the step %q", what)
		}
	}
}
