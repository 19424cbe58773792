package demo_test

import (
	"context"
	"testing"

	"kompas/internal/app"
	"kompas/internal/demo"
	"kompas/internal/gcm"
	"kompas/internal/platform/audit"
	"kompas/internal/platform/store"
	"kompas/internal/platform/store/storetest"
	"kompas/internal/programmes"
)

// TestLoadIsIdempotentAndHoldsTheSeed loads the demo twice: the second load
// adds nothing, and the register holds the initiatives the seed names.
func TestLoadIsIdempotentAndHoldsTheSeed(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		if _, err := app.Migrate(ctx, db); err != nil {
			t.Fatal(err)
		}
		first, err := demo.Load(ctx, db, "demo-password-123")
		if err != nil {
			t.Fatal(err)
		}
		if first.Initiatives < 30 || first.Accounts != len(demo.Accounts) || first.Organisations == 0 || first.ReturnCases != demo.ReturnCases {
			t.Errorf("first load: %+v", first)
		}
		// The return cases came through the service: every write is in
		// the audit chain, made by a demo account, none by "system".
		if _, err := audit.Verify(ctx, db); err != nil {
			t.Errorf("audit chain: %v", err)
		}
		var byDemo, bySystem int
		if err := db.QueryRow(ctx, `SELECT COUNT(*) FROM audit_events WHERE object_type = 'return_case' AND actor LIKE '%.example'`).Scan(&byDemo); err != nil {
			t.Fatal(err)
		}
		if err := db.QueryRow(ctx, `SELECT COUNT(*) FROM audit_events WHERE object_type = 'return_case' AND actor = 'system'`).Scan(&bySystem); err != nil {
			t.Fatal(err)
		}
		if byDemo < 5*demo.ReturnCases || bySystem != 0 {
			t.Errorf("return case events: %d by demo accounts, %d by the system", byDemo, bySystem)
		}
		second, err := demo.Load(ctx, db, "demo-password-123")
		if err != nil {
			t.Fatal(err)
		}
		if second.Initiatives != 0 || second.Accounts != 0 || second.Organisations != 0 || second.ReturnCases != 0 {
			t.Errorf("second load added %+v", second)
		}
		cat, err := gcm.Load(ctx, db)
		if err != nil {
			t.Fatal(err)
		}
		reg := &programmes.Register{DB: db, GCM: cat}
		all, err := reg.All(ctx, programmes.Filter{})
		if err != nil {
			t.Fatal(err)
		}
		byTitle := map[string]*programmes.Initiative{}
		for _, it := range all {
			byTitle[it.Title] = it
			if len(it.Objectives) == 0 || it.ReportSection == "" {
				t.Errorf("%q has no objectives or no review section", it.Title)
			}
		}
		compass := byTitle["COMPASS programme with IOM"]
		if compass == nil || len(compass.Countries) != 14 {
			t.Fatalf("COMPASS: %+v", compass)
		}
		if _, err := demo.Load(ctx, db, "short"); err == nil {
			t.Error("a short demo password was accepted")
		}
		for _, a := range demo.Accounts {
			if demo.OrgSlug(a.Email) == "" {
				t.Errorf("%s has no organisation", a.Email)
			}
		}
	})
}
