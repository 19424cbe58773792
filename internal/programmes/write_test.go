package programmes_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"testing"

	"kompas/internal/app/apptest"
	"kompas/internal/platform/auth"
	"kompas/internal/platform/store"
	"kompas/internal/platform/web"
	"kompas/internal/programmes"
)

// validInput is validBody as an Input.
func validInput(t testing.TB, title string) programmes.Input {
	t.Helper()
	body := validBody()
	body["title"] = title
	b, _ := json.Marshal(body)
	var in programmes.Input
	if err := json.Unmarshal(b, &in); err != nil {
		t.Fatal(err)
	}
	return in
}

// TestCreateManyIsAllOrNothing writes batches through CreateMany: a batch
// with bad items is refused whole, naming each bad item by its index and
// field, and writes nothing; a good batch creates every item in order, each
// searchable (after the batch's one flush of search entries), audited and
// carrying its keys.
func TestCreateManyIsAllOrNothing(t *testing.T) {
	t.Parallel()
	apptest.Each(t, func(t *testing.T, e *apptest.Env) {
		ctx := context.Background()
		reg := &programmes.Register{DB: e.DB, GCM: e.GCM}
		org, err := (&auth.Service{DB: e.DB}).OrgBySlug(ctx, e.DB, "mfa")
		if err != nil {
			t.Fatal(err)
		}
		p := &auth.Principal{Email: policy, Role: auth.RolePolicyOfficer, OrgID: org.ID, OrgSlug: "mfa"}

		good := validInput(t, "Batch quagga one")
		noTitle := validInput(t, "")
		unknownLead := validInput(t, "Batch quagga unknown lead")
		unknownLead.Lead = "nobody"
		badCountry := validInput(t, "Batch quagga bad country")
		badCountry.Countries = []string{"XX"}
		cases := []struct {
			name  string
			items []programmes.Item
			want  map[int][]string // index → fields named
		}{
			{"one bad item of three", []programmes.Item{{Input: good}, {Input: noTitle}, {Input: good}}, map[int][]string{1: {"title"}}},
			{"rules and organisations, each by index", []programmes.Item{{Input: unknownLead}, {Input: good}, {Input: badCountry}},
				map[int][]string{0: {"lead"}, 2: {"countries[0]"}}},
		}
		for _, c := range cases {
			t.Run(c.name, func(t *testing.T) {
				before := counts(e)
				audits := e.Count("audit_events")
				err := e.DB.Transact(ctx, func(tx *store.Tx) error {
					_, err := reg.CreateMany(ctx, tx, p, c.items)
					return err
				})
				var bad programmes.ItemErrors
				if !errors.As(err, &bad) {
					t.Fatalf("error %v, want ItemErrors", err)
				}
				got := map[int][]string{}
				for _, it := range bad {
					if web.Status(it.Err.Kind) != 422 {
						t.Errorf("item %d: status %d", it.Index, web.Status(it.Err.Kind))
					}
					for _, f := range it.Err.Fields {
						got[it.Index] = append(got[it.Index], f.Field)
					}
				}
				if fmt.Sprint(got) != fmt.Sprint(c.want) {
					t.Errorf("fields %v, want %v", got, c.want)
				}
				// Handed to the web layer whole, the batch is one 422.
				if we := web.AsError(err); web.Status(we.Kind) != 422 || len(we.Fields) == 0 {
					t.Errorf("as a web error: %d %v", web.Status(we.Kind), we.Fields)
				}
				sameCounts(t, e, before)
				if n := e.Count("audit_events"); n != audits {
					t.Errorf("a refused batch left %d audit events", n-audits)
				}
			})
		}

		items := []programmes.Item{
			{Input: validInput(t, "Batch quagga first"), DemoKey: "batch-1"},
			{Input: validInput(t, "Batch quagga second"), IATIID: "XX-BATCH-2"},
			{Input: validInput(t, "Batch quagga third")},
		}
		audits := e.Count("audit_events")
		var ids []int64
		err = e.DB.Transact(ctx, func(tx *store.Tx) error {
			var err error
			ids, err = reg.CreateMany(ctx, tx, p, items)
			return err
		})
		if err != nil || len(ids) != 3 {
			t.Fatalf("CreateMany: %v %v", ids, err)
		}
		for i, id := range ids {
			it, err := reg.Get(ctx, id)
			if err != nil || it.Title != items[i].Title || it.Owner != "mfa" || len(it.Partners) != 2 || it.Partners[0].Name == "" {
				t.Errorf("item %d: %+v %v", i, it, err)
			}
			if i > 0 && id <= ids[i-1] {
				t.Errorf("ids out of order: %v", ids)
			}
		}
		if it, _ := reg.Get(ctx, ids[1]); it.IATIIdentifier() != "XX-BATCH-2" {
			t.Errorf("IATI identifier %q", it.IATIIdentifier())
		}
		err = e.DB.Transact(ctx, func(tx *store.Tx) error {
			keys, err := reg.DemoKeys(ctx, tx)
			if !keys["batch-1"] {
				t.Errorf("demo keys %v", keys)
			}
			return err
		})
		if err != nil {
			t.Fatal(err)
		}
		if n := e.Count("audit_events") - audits; n != 3 {
			t.Errorf("%d audit events for 3 initiatives", n)
		}
		if pg, err := reg.List(ctx, programmes.Filter{Query: "quagga", PerPage: 10, Page: 1}); err != nil || pg.Total != 3 {
			t.Errorf("search finds %d of 3 (%v)", pg.Total, err)
		}

		// An update goes through the same writer; search follows it.
		in := items[2].Input
		in.Title = "Batch okapi third"
		in.Version = 1
		if err := e.DB.Transact(ctx, func(tx *store.Tx) error { return reg.UpdateTx(ctx, tx, p, ids[2], in) }); err != nil {
			t.Fatal(err)
		}
		for q, want := range map[string]int{"quagga": 2, "okapi": 1} {
			if pg, err := reg.List(ctx, programmes.Filter{Query: q, PerPage: 10, Page: 1}); err != nil || pg.Total != want {
				t.Errorf("search %q finds %d, want %d (%v)", q, pg.Total, want, err)
			}
		}
	})
}
