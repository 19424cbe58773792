package programmes_test

import (
	"context"
	"testing"

	"kompas/internal/app/apptest"
	"kompas/internal/programmes"
)

// TestSearchOrder: a search with few matches is ordered by relevance (the
// title match first); past the ranking limit it is ordered by title and says
// so, with the same matches and total.
func TestSearchOrder(t *testing.T) {
	apptest.Each(t, func(t *testing.T, e *apptest.Env) {
		ctx := context.Background()
		reg := &programmes.Register{DB: e.DB}
		ranked, err := reg.List(ctx, programmes.Filter{Query: "reintegration", PerPage: 100})
		if err != nil {
			t.Fatal(err)
		}
		if ranked.Order != "relevance" || ranked.Total < 3 {
			t.Fatalf("ranked search: order %q, total %d", ranked.Order, ranked.Total)
		}
		reg.RankedMatches = 2
		byTitle, err := reg.List(ctx, programmes.Filter{Query: "reintegration", PerPage: 100})
		if err != nil {
			t.Fatal(err)
		}
		if byTitle.Order != "title" || byTitle.Total != ranked.Total || len(byTitle.Items) != len(ranked.Items) {
			t.Fatalf("title-ordered search: order %q, total %d (ranked %d), items %d", byTitle.Order, byTitle.Total, ranked.Total, len(byTitle.Items))
		}
		for i := 1; i < len(byTitle.Items); i++ {
			if byTitle.Items[i-1].Title > byTitle.Items[i].Title {
				t.Errorf("not in title order: %q before %q", byTitle.Items[i-1].Title, byTitle.Items[i].Title)
			}
		}
		seen := map[int64]bool{}
		for _, it := range ranked.Items {
			seen[it.ID] = true
		}
		for _, it := range byTitle.Items {
			if !seen[it.ID] {
				t.Errorf("title order found %q that relevance order did not", it.Title)
			}
		}
		// With a filter the title order still applies the filter.
		filtered, err := reg.List(ctx, programmes.Filter{Query: "reintegration", Objective: 21, PerPage: 100})
		if err != nil {
			t.Fatal(err)
		}
		for _, it := range filtered.Items {
			has := false
			for _, o := range it.Objectives {
				has = has || o == 21
			}
			if !has {
				t.Errorf("%q lacks objective 21", it.Title)
			}
		}
	})
}
