package programmes_test

import (
	"context"
	"testing"

	"kompas/internal/app/apptest"
	"kompas/internal/programmes"
)

// TestSearchOrder: a search with few matches is ordered by relevance; past
// the ranking limit it is ordered newest first and says so, with the same
// matches and total, on every page.
func TestSearchOrder(t *testing.T) {
	apptest.Each(t, func(t *testing.T, e *apptest.Env) {
		ctx := context.Background()
		reg := &programmes.Register{DB: e.DB, GCM: e.GCM}
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
		if byTitle.Order != "newest" || byTitle.Total != ranked.Total || len(byTitle.Items) != len(ranked.Items) {
			t.Fatalf("newest-first search: order %q, total %d (ranked %d), items %d", byTitle.Order, byTitle.Total, ranked.Total, len(byTitle.Items))
		}
		for i := 1; i < len(byTitle.Items); i++ {
			if byTitle.Items[i-1].ID < byTitle.Items[i].ID {
				t.Errorf("not newest first: %d before %d", byTitle.Items[i-1].ID, byTitle.Items[i].ID)
			}
		}
		// Paging through one at a time gives the same initiatives in order.
		for i := range byTitle.Items {
			p, err := reg.List(ctx, programmes.Filter{Query: "reintegration", PerPage: 1, Page: i + 1})
			if err != nil {
				t.Fatal(err)
			}
			if len(p.Items) != 1 || p.Items[0].ID != byTitle.Items[i].ID || p.Total != ranked.Total {
				t.Fatalf("page %d: %+v", i+1, p.Items)
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
		// With a filter the newest-first order still applies the filter.
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
