package gcm_test

import (
	"context"
	"strings"
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
		cat, err := gcm.Load(context.Background(), db)
		if err != nil {
			t.Fatal(err)
		}
		fw := cat.Default()
		if fw.Slug != "nl-six-pillars" || len(fw.Pillars) != 6 || fw.Pillars[3].Title != "Combating illegal residence and stepping up returns" {
			t.Errorf("default framework: %+v", fw)
		}
	}, gcm.Migrations)
}

// TestCatalogueIsImmutable: what a caller does to the frameworks it is
// given does not reach the catalogue the next caller reads.
func TestCatalogueIsImmutable(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		cat, err := gcm.Load(context.Background(), db)
		if err != nil {
			t.Fatal(err)
		}
		fws := cat.Frameworks()
		fws[0].Pillars[0].Title = "changed"
		fws[0].Pillars = fws[0].Pillars[:1]
		fw := cat.Default()
		fw.Pillars[1].Title = "changed too"
		got, ok := cat.Framework("nl-six-pillars")
		if !ok || len(got.Pillars) != 6 || got.Pillars[0].Title != "Preventing irregular migration" || got.Pillars[1].Title == "changed too" {
			t.Errorf("the catalogue changed with its copies: %+v", got)
		}
		if _, ok := cat.Framework("no-such-framework"); ok {
			t.Error("an unknown framework was found")
		}
		if d, ok := cat.Framework(""); !ok || !d.Default {
			t.Errorf(`Framework("") = %+v, %v; want the default`, d, ok)
		}
	}, gcm.Migrations)
}

// TestLoadWithoutDefaultFramework: a database without a default framework
// is refused at start, not on the first request.
func TestLoadWithoutDefaultFramework(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		if _, err := db.Exec(ctx, `UPDATE frameworks SET is_default = (1 = 0)`); err != nil {
			t.Fatal(err)
		}
		if _, err := gcm.Load(ctx, db); err == nil || !strings.Contains(err.Error(), "no default framework") {
			t.Errorf("Load without a default framework: %v", err)
		}
	}, gcm.Migrations)
}
