package gcm_test

import (
	"context"
	"testing"

	"kompas/internal/gcm"
	"kompas/internal/platform/store"
	"kompas/internal/platform/store/storetest"
)

func TestCatalogue(t *testing.T) {
	objs := gcm.Objectives()
	if len(objs) != 23 {
		t.Fatalf("%d objectives, want 23", len(objs))
	}
	for i, o := range objs {
		if o.Number != i+1 || o.Title == "" || o.Short == "" {
			t.Errorf("objective %d: %+v", i+1, o)
		}
	}
	if got := gcm.ObjectiveTitle(21); got != "Cooperate in facilitating safe and dignified return and readmission, as well as sustainable reintegration" {
		t.Errorf("objective 21: %q", got)
	}
	for _, n := range []int{0, 24, -1} {
		if gcm.ObjectiveTitle(n) != "" {
			t.Errorf("ObjectiveTitle(%d) is not empty", n)
		}
	}
	ps := gcm.Principles()
	if len(ps) != 10 || ps[0].Title != "People-centred" || ps[9].Title != "Whole-of-society approach" {
		t.Errorf("principles: %+v", ps)
	}
	for _, c := range []struct {
		l  string
		ok bool
	}{{"a", true}, {"j", true}, {"k", false}, {"", false}, {"ab", false}} {
		if gcm.ValidPrinciple(c.l) != c.ok {
			t.Errorf("ValidPrinciple(%q) = %v", c.l, !c.ok)
		}
	}
}

func TestDefaultFrameworkHasTheSixPillars(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		fw, err := gcm.DefaultFramework(context.Background(), db)
		if err != nil {
			t.Fatal(err)
		}
		if fw.Slug != "nl-six-pillars" || len(fw.Pillars) != 6 || fw.Pillars[3].Title != "Combating illegal residence and stepping up returns" {
			t.Errorf("default framework: %+v", fw)
		}
	}, gcm.Migrations)
}
