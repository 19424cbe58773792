package programmes_test

import (
	"context"
	"encoding/json"
	"reflect"
	"testing"

	"kompas/internal/app/apptest"
	"kompas/internal/platform/auth"
	"kompas/internal/platform/store"
	"kompas/internal/programmes"
)

// TestIATIWriterCreatesAsCreate holds the IATI import's way through the
// writer (Upsert, many in one transaction) to what Create writes: the same
// initiative, search entry and audit event.
func TestIATIWriterCreatesAsCreate(t *testing.T) {
	t.Parallel()
	apptest.Each(t, func(t *testing.T, e *apptest.Env) {
		ctx := context.Background()
		reg := &programmes.Register{DB: e.DB, GCM: e.GCM}
		svc := &auth.Service{DB: e.DB}
		org, err := svc.OrgBySlug(ctx, e.DB, "mfa")
		if err != nil {
			t.Fatal(err)
		}
		p := &auth.Principal{Email: policy, Role: auth.RolePolicyOfficer, OrgID: org.ID, OrgSlug: "mfa"}
		// upsert is what the IATI import does with one activity.
		upsert := func(tx *store.Tx, p *auth.Principal, cur *programmes.Initiative, iatiID string, in programmes.Input) (string, int64, error) {
			w, err := reg.NewWriter(ctx, tx, p)
			if err != nil {
				return "", 0, err
			}
			status, id, err := w.Upsert(ctx, cur, iatiID, in, nil)
			if err != nil {
				return status, id, err
			}
			return status, id, w.Flush(ctx)
		}
		body := validBody()
		body["title"] = "Bulk path equivalence zebra"
		body["regions"] = []string{"Horn of Africa", "Sahel"}
		body["results"] = []map[string]any{{"indicator": "People", "value": "12.5", "unit": "%", "date": "2021", "source": "s"}, {"indicator": "Status", "value": "done", "unit": "", "date": "", "source": ""}}
		body["sources"] = []map[string]string{{"title": "A", "url": "https://example.org/a"}, {"title": "B", "url": ""}}
		b, _ := json.Marshal(body)
		var in programmes.Input
		if err := json.Unmarshal(b, &in); err != nil {
			t.Fatal(err)
		}
		viaCreate, err := reg.Create(ctx, p, in)
		if err != nil {
			t.Fatal(err)
		}
		var id int64
		var status string
		err = e.DB.Transact(ctx, func(tx *store.Tx) error {
			var err error
			status, id, err = upsert(tx, p, nil, "XX-EQUIV-1", in)
			return err
		})
		if err != nil || status != programmes.IATICreated {
			t.Fatalf("Upsert: %s %v", status, err)
		}
		viaIATI, err := reg.Get(ctx, id)
		if err != nil {
			t.Fatal(err)
		}
		if viaIATI.IATIIdentifier() != "XX-EQUIV-1" {
			t.Errorf("IATI identifier %q", viaIATI.IATIIdentifier())
		}
		strip := func(it *programmes.Initiative) map[string]any {
			b, _ := json.Marshal(it)
			var m map[string]any
			_ = json.Unmarshal(b, &m)
			delete(m, "id")
			delete(m, "created_at")
			delete(m, "updated_at")
			return m
		}
		if a, c := strip(viaCreate), strip(viaIATI); !reflect.DeepEqual(a, c) {
			t.Errorf("the bulk path differs from Create:\ncreate %v\nbulk   %v", a, c)
		}
		// Both are found by search, and both were audited the same way.
		page, err := reg.List(ctx, programmes.Filter{Query: "equivalence zebra", PerPage: 10, Page: 1})
		if err != nil || page.Total != 2 {
			t.Errorf("search finds %d of the two: %v", page.Total, err)
		}
		var n int
		if err := e.DB.QueryRow(ctx, `SELECT COUNT(*) FROM audit_events WHERE action = 'create' AND object_type = 'initiative' AND detail = ?`, in.Title).Scan(&n); err != nil || n != 2 {
			t.Errorf("%d create events, want 2 (%v)", n, err)
		}
		// Writing the same again changes nothing; a change updates.
		err = e.DB.Transact(ctx, func(tx *store.Tx) error {
			w, err := reg.NewWriter(ctx, tx, p)
			if err != nil {
				return err
			}
			cur, err := w.Find(ctx, "XX-EQUIV-1")
			if err != nil {
				return err
			}
			if status, _, err = upsert(tx, p, cur, "XX-EQUIV-1", in); err != nil || status != programmes.IATIUnchanged {
				t.Errorf("same again: %s %v", status, err)
			}
			in2 := in
			in2.Title = "Bulk path equivalence zebra, changed"
			if status, _, err = upsert(tx, p, cur, "XX-EQUIV-1", in2); err != nil || status != programmes.IATIUpdated {
				t.Errorf("changed: %s %v", status, err)
			}
			return nil
		})
		if err != nil {
			t.Fatal(err)
		}
		if it, _ := reg.Get(ctx, id); it.Title != "Bulk path equivalence zebra, changed" || it.Version != 2 {
			t.Errorf("after the update: %q version %d", it.Title, it.Version)
		}
		// An analyst may not write through it.
		a := &auth.Principal{Email: analyst, Role: auth.RoleAnalyst, OrgID: org.ID}
		err = e.DB.Transact(ctx, func(tx *store.Tx) error {
			_, _, err := upsert(tx, a, nil, "XX-EQUIV-2", in)
			return err
		})
		if err == nil {
			t.Error("an analyst wrote through Upsert")
		}
	})
}
