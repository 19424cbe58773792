package refusals_test

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"kompas/internal/platform/audit"
	"kompas/internal/platform/audit/refusals"
	"kompas/internal/platform/auth"
	"kompas/internal/platform/store"
	"kompas/internal/platform/store/storetest"
	"kompas/internal/platform/testclock"
	"kompas/internal/platform/web"
)

var (
	prober = &auth.Principal{UserID: 41, Email: "prober@ngo-two.example", OrgSlug: "ngo-two"}
	other  = &auth.Principal{UserID: 42, Email: "other@ngo-one.example", OrgSlug: "ngo-one"}
)

// probe is a refused GET of case id by p, as the adapter reports it.
func probe(rec *refusals.Recorder, p *auth.Principal, objectType, id string) {
	r := httptest.NewRequest("GET", "/api/v1/returns/cases/"+id, nil)
	if p != nil {
		r = r.WithContext(auth.WithPrincipal(r.Context(), p))
	}
	rec.Record(r, web.Refusal{ObjectType: objectType, ObjectID: id, Status: http.StatusNotFound})
}

func denied(t *testing.T, db *store.DB, actor string) []audit.Event {
	t.Helper()
	events, err := refusals.List(context.Background(), db, audit.Filter{Actor: actor, Limit: 500})
	if err != nil {
		t.Fatal(err)
	}
	return events
}

func summaries(events []audit.Event) []audit.Event {
	var out []audit.Event
	for _, e := range events {
		if strings.Contains(e.Detail, "suppressed") {
			out = append(out, e)
		}
	}
	return out
}

func TestRateLimit(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		clk := testclock.New(time.Date(2026, 3, 1, 10, 0, 0, 0, time.UTC))
		rec := &refusals.Recorder{DB: db, Now: clk.Now}

		// 100 probes in one minute: the first 10 one by one, naming the
		// caller, the object and the id asked for.
		for i := range 100 {
			probe(rec, prober, "return_case", fmt.Sprint(1000+i))
			clk.Advance(100 * time.Millisecond)
		}
		events := denied(t, db, prober.Email)
		if len(events) != refusals.DefaultLimit {
			t.Fatalf("100 probes left %d events, want %d", len(events), refusals.DefaultLimit)
		}
		first := events[len(events)-1]
		if first.Action != audit.ActionDenied || first.ActorID != prober.UserID || first.Org != "ngo-two" || first.ObjectType != "return_case" || first.ObjectID != "1000" ||
			first.Detail != "refused with 404 Not Found: GET /api/v1/returns/cases/1000" {
			t.Errorf("first event %+v", first)
		}
		// Someone else, and another object type, have limits of their own.
		probe(rec, other, "return_case", "7")
		probe(rec, prober, "initiative", "7")
		if n := len(denied(t, db, other.Email)); n != 1 {
			t.Errorf("another caller's refusal: %d events", n)
		}
		// Nobody signed in: no refusal (that was a 401).
		before := len(denied(t, db, ""))
		probe(rec, nil, "return_case", "7")
		if n := len(denied(t, db, "")); n != before {
			t.Error("a request without a caller was audited")
		}

		// The window has not ended: nothing to flush.
		if n, err := rec.Flush(ctx); err != nil || n != 0 {
			t.Fatalf("Flush inside the window = %d, %v", n, err)
		}
		clk.Advance(time.Minute)
		if n, err := rec.Flush(ctx); err != nil || n != 1 {
			t.Fatalf("Flush after the window = %d, %v; want 1 summary", n, err)
		}
		if n, err := rec.Flush(ctx); err != nil || n != 0 {
			t.Fatalf("second Flush = %d, %v; want nothing more", n, err)
		}
		sums := summaries(denied(t, db, prober.Email))
		if len(sums) != 1 || !strings.HasPrefix(sums[0].Detail, "90 further refusals suppressed from 2026-03-01 10:00:00 to 2026-03-01 10:00:09 UTC") ||
			sums[0].ObjectType != "return_case" || sums[0].ObjectID != "" || sums[0].Actor != prober.Email {
			t.Fatalf("summaries %+v", sums)
		}

		// A new window records again, one by one; the summary of a window
		// that ends with refusals pending comes with the next refusal.
		for i := range 15 {
			probe(rec, prober, "return_case", fmt.Sprint(2000+i))
		}
		clk.Advance(2 * time.Minute)
		probe(rec, prober, "return_case", "3000")
		events = denied(t, db, prober.Email)
		sums = summaries(events)
		if len(sums) != 2 || !strings.HasPrefix(sums[0].Detail, "5 further refusals suppressed") {
			t.Errorf("summaries %+v", sums)
		}
		if events[0].ObjectID != "3000" || events[1] != sums[0] {
			t.Errorf("the summary should come just before the next refusal: %+v, %+v", events[0], events[1])
		}
		// 100 + 15 + 1 probes of return cases by one caller, over three
		// windows: 10 + 10 + 1 one by one, two summaries.
		if got, want := len(events), 10+10+1+2+1; got != want { // +1: the initiative probe
			t.Errorf("%d events in all, want %d", got, want)
		}
		if _, err := audit.Verify(ctx, db); err != nil {
			t.Errorf("chain: %v", err)
		}
	}, audit.Migrations, refusals.Migrations)
}

// TestRateLimitAcrossNodes runs two recorders, each with its own database
// handle as two nodes would have, probing at once: the limit holds for
// both together.
func TestRateLimitAcrossNodes(t *testing.T) {
	for _, engine := range storetest.Engines {
		t.Run(engine, func(t *testing.T) {
			ctx := context.Background()
			u := storetest.URL(t, engine)
			var nodes []*refusals.Recorder
			for range 2 {
				db, err := store.Open(ctx, u)
				if err != nil {
					t.Fatal(err)
				}
				t.Cleanup(func() { db.Close() })
				nodes = append(nodes, &refusals.Recorder{DB: db})
			}
			if _, err := nodes[0].DB.Migrate(ctx, audit.Migrations, refusals.Migrations); err != nil {
				t.Fatal(err)
			}
			var wg sync.WaitGroup
			for i := range 40 {
				wg.Add(1)
				go func() {
					defer wg.Done()
					probe(nodes[i%2], prober, "return_case", fmt.Sprint(i))
				}()
			}
			wg.Wait()
			if n := len(denied(t, nodes[0].DB, prober.Email)); n != refusals.DefaultLimit {
				t.Errorf("40 probes on two nodes left %d events, want %d", n, refusals.DefaultLimit)
			}
			var suppressed int
			if err := nodes[1].DB.QueryRow(ctx, `SELECT suppressed FROM audit_refusal_windows WHERE actor_id = ?`, prober.UserID).Scan(&suppressed); err != nil || suppressed != 30 {
				t.Errorf("suppressed = %d, %v; want 30 counted", suppressed, err)
			}
		})
	}
}

// TestHostileIDs: what a probe puts in the address is logged safely on
// both engines (PostgreSQL's text refuses invalid UTF-8 and NUL).
func TestHostileIDs(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		rec := &refusals.Recorder{DB: db}
		for _, id := range []string{"\xff\xfe", "a\x00b", strings.Repeat("9", 500)} {
			rec.Record(httptest.NewRequest("GET", "/api/v1/returns/cases/x", nil).WithContext(auth.WithPrincipal(context.Background(), prober)),
				web.Refusal{ObjectType: "return_case", ObjectID: id, Status: http.StatusNotFound})
		}
		events := denied(t, db, prober.Email)
		if len(events) != 3 {
			t.Fatalf("%d events, want 3", len(events))
		}
		for _, e := range events {
			if strings.ContainsRune(e.ObjectID, 0) || len([]rune(e.ObjectID)) > 65 {
				t.Errorf("object id %q", e.ObjectID)
			}
		}
	}, audit.Migrations, refusals.Migrations)
}
