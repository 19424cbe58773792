package programmes_test

import (
	"context"
	"strings"
	"testing"

	"kompas/internal/app/apptest"
	"kompas/internal/programmes"
)

// TestFacts checks the figures the register supplies to the GCM review on
// the demo data, on both engines.
func TestFacts(t *testing.T) {
	apptest.Each(t, func(t *testing.T, e *apptest.Env) {
		fs, err := (&programmes.Register{DB: e.DB, GCM: e.GCM}).Facts(context.Background())
		if err != nil {
			t.Fatal(err)
		}
		byKey := map[string]float64{}
		for _, f := range fs {
			byKey[f.Key] = f.Value
			if f.Module != "programmes" || f.Source == "" || !strings.HasPrefix(f.Period, "as of ") || f.People {
				t.Errorf("fact %+v: want module programmes, a source, an as-of period and no people", f)
			}
			if strings.HasPrefix(f.Key, "programmes.initiatives.objective.") {
				if len(f.Objectives) != 1 || f.Source != "/initiatives?objective="+strings.TrimPrefix(f.Key, "programmes.initiatives.objective.") {
					t.Errorf("fact %s: objectives %v, source %s", f.Key, f.Objectives, f.Source)
				}
			}
		}
		want := map[string]float64{
			"programmes.initiatives":              float64(e.Count("initiatives")),
			"programmes.initiatives.objective.21": 12,
			"programmes.initiatives.objective.8":  0,
			"programmes.money.EUR":                100_000_000,
			"programmes.partners":                 37,
			"programmes.countries":                19,
		}
		for k, v := range want {
			got, ok := byKey[k]
			if !ok || got != v {
				t.Errorf("%s = %v (present %v), want %v", k, got, ok, v)
			}
		}
		if n := len(fs); n != 1+23+1+2 {
			t.Errorf("%d facts, want 27 (total, 23 objectives, one currency, partners, countries)", n)
		}
	})
}
