package returns_test

import (
	"context"
	"strconv"
	"testing"

	"kompas/internal/app"
	"kompas/internal/platform/facts"
	"kompas/internal/platform/store"
	"kompas/internal/platform/store/storetest"
	"kompas/internal/returns"
)

// TestStatsThresholdBoundary checks, on both engines, that the statistics
// and their facts show a count of exactly 5 and suppress a count of 4: in
// a breakdown, in the complementary suppression of a breakdown with a
// single small cell, and in the median days per stage. The running counts
// are written directly, so each cell has exactly the count under test.
func TestStatsThresholdBoundary(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		if _, err := app.Migrate(ctx, db); err != nil {
			t.Fatal(err)
		}
		// Countries: NG 20, MA 5, TN 4, IQ 4 (two small cells: MA stays).
		// Programmes: national 24, iom_return 5, frontex_reintegration 4
		// (one small cell: iom_return, the next smallest, goes with it).
		// Stages: registered 20, counselling 5, documents 8.
		for _, r := range []struct {
			stage, country, programme string
			cases                     int
		}{
			{"registered", "NG", "national", 20},
			{"counselling", "MA", "iom_return", 5},
			{"documents", "TN", "frontex_reintegration", 4},
			{"documents", "IQ", "national", 4},
		} {
			if _, err := db.Exec(ctx, `INSERT INTO return_case_counts (stage, country_of_return, counselling_org_id, programme, departed, assisted, cases, persons)
				VALUES (?, ?, 1, ?, ?, ?, ?, ?)`, r.stage, r.country, r.programme, false, false, r.cases, r.cases); err != nil {
				t.Fatal(err)
			}
		}
		// Five cases left registration after 3 days, four left counselling
		// after 10.
		for _, h := range []struct {
			stage   string
			days, n int
		}{{"registered", 3, 5}, {"counselling", 10, 4}} {
			if _, err := db.Exec(ctx, `INSERT INTO return_stage_days (stage, days, n) VALUES (?, ?, ?)`, h.stage, h.days, h.n); err != nil {
				t.Fatal(err)
			}
		}
		svc := &returns.Service{DB: db}
		st, err := svc.Stats(ctx)
		if err != nil {
			t.Fatal(err)
		}
		cells := map[string]returns.Count{}
		for _, group := range [][]returns.Count{st.ByCountry, st.ByProgramme, st.ByStage} {
			for _, c := range group {
				cells[c.Key] = c
			}
		}
		for key, want := range map[string]int{"NG": 20, "MA": 5, "TN": -1, "IQ": -1, "national": 24, "iom_return": -1, "frontex_reintegration": -1, "registered": 20, "counselling": 5, "documents": 8} {
			c, ok := cells[key]
			switch {
			case !ok:
				t.Errorf("no cell %s", key)
			case want < 0 && (!c.Suppressed || c.Count != nil):
				t.Errorf("%s: shown as %s, want suppressed", key, countText(c.Count))
			case want >= 0 && (c.Suppressed || c.Count == nil || *c.Count != want):
				t.Errorf("%s: suppressed %v, count %s; want %d shown", key, c.Suppressed, countText(c.Count), want)
			}
		}
		median := map[returns.Stage]returns.StageDays{}
		for _, d := range st.MedianDays {
			median[d.Stage] = d
		}
		if d := median[returns.Registered]; d.Suppressed || d.Cases == nil || *d.Cases != 5 || d.MedianDays == nil || *d.MedianDays != 3 {
			t.Errorf("registered, 5 cases: suppressed %v, %s cases; want 5 cases with a median of 3 days", d.Suppressed, countText(d.Cases))
		}
		if d := median[returns.Counselling]; !d.Suppressed || d.Cases != nil || d.MedianDays != nil {
			t.Errorf("counselling, 4 cases: suppressed %v, %s cases; want suppressed", d.Suppressed, countText(d.Cases))
		}

		fs, err := svc.Facts(ctx)
		if err != nil {
			t.Fatal(err)
		}
		byKey := map[string]facts.Fact{}
		for _, f := range fs {
			byKey[f.Key] = f
		}
		for key, want := range map[string]string{
			"returns.country.MA": "5", "returns.country.TN": "fewer than 5", "returns.stage.counselling": "5",
			"returns.programme.frontex_reintegration": "fewer than 5", "returns.median_days.registered": "3",
		} {
			if f, ok := byKey[key]; !ok || f.Display(st.Threshold) != want {
				t.Errorf("fact %s: present %v, displays %q; want %q", key, ok, f.Display(st.Threshold), want)
			}
		}
		// A 5 suppressed only to protect the 4 beside it would display as
		// 5, so it has no fact; nor has the suppressed median.
		for _, key := range []string{"returns.programme.iom_return", "returns.median_days.counselling"} {
			if f, ok := byKey[key]; ok {
				t.Errorf("fact %s is there (%s)", key, f.Display(st.Threshold))
			}
		}
	})
}

func countText(n *int) string {
	if n == nil {
		return "null"
	}
	return strconv.Itoa(*n)
}
