package programmes

// What the IATI import and export (internal/iati, through the interface it
// declares) need of the register beyond the writer (write.go): changing
// objectives when an officer confirms a suggestion, reading the register
// in pages for a streaming export, and the access rules.

import (
	"context"
	"fmt"
	"slices"
	"sort"
	"strings"

	"kompas/internal/platform/auth"
	"kompas/internal/platform/store"
)

// IATIIdentifier is the initiative's IATI identifier, "" when it has none.
func (it *Initiative) IATIIdentifier() string { return it.iatiID }

// Period is the first and last day the initiative's start and end cover
// (YYYY-MM-DD, or "" when not given).
func (it *Initiative) Period() (start, end string) { return it.startDate, it.endDate }

// ChangeObjectives adds and removes GCM objectives of initiative id inside
// tx, under the edit rule, as a normal versioned, audited update. It
// reports whether anything changed.
func (r *Register) ChangeObjectives(ctx context.Context, tx *store.Tx, p *auth.Principal, id int64, add, remove []int) (bool, error) {
	cur, err := getInitiative(ctx, tx, id)
	if err != nil {
		return false, err
	}
	if err := canEdit(p, cur); err != nil {
		return false, err
	}
	objs := slices.Clone(cur.Objectives)
	for _, n := range add {
		if !slices.Contains(objs, n) {
			objs = append(objs, n)
		}
	}
	objs = slices.DeleteFunc(objs, func(n int) bool { return slices.Contains(remove, n) })
	sort.Ints(objs)
	if slices.Equal(objs, cur.Objectives) {
		return false, nil
	}
	in := cur.Input
	in.Objectives = objs
	in.Version = cur.Version
	return true, r.UpdateTx(ctx, tx, p, id, in)
}

// ExportPage returns up to limit initiatives with an id above afterID, in
// id order, with their lists: a keyset page for streaming exports.
func (r *Register) ExportPage(ctx context.Context, afterID int64, limit int) ([]*Initiative, error) {
	if limit <= 0 || limit > 1000 {
		limit = 500
	}
	rows, err := r.DB.Query(ctx, `SELECT `+initiativeColumns+initiativeFrom+` WHERE i.id > ? ORDER BY i.id LIMIT `+fmt.Sprint(limit), afterID)
	if err != nil {
		return nil, fmt.Errorf("programmes: export page: %w", err)
	}
	var out []*Initiative
	for rows.Next() {
		it, err := scanInitiative(rows)
		if err != nil {
			rows.Close()
			return nil, fmt.Errorf("programmes: export page: %w", err)
		}
		out = append(out, it)
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return nil, err
	}
	if err := loadLists(ctx, r.DB, out); err != nil {
		return nil, err
	}
	return out, nil
}

// GetMany reads the initiatives with the given ids (those that exist).
func (r *Register) GetMany(ctx context.Context, ids []int64) (map[int64]*Initiative, error) {
	out := map[int64]*Initiative{}
	for len(ids) > 0 {
		n := min(len(ids), 500)
		chunk := ids[:n]
		ids = ids[n:]
		args := make([]any, len(chunk))
		for i, id := range chunk {
			args[i] = id
		}
		in := "(" + strings.TrimSuffix(strings.Repeat("?,", len(chunk)), ",") + ")"
		rows, err := r.DB.Query(ctx, `SELECT `+initiativeColumns+initiativeFrom+` WHERE i.id IN `+in, args...)
		if err != nil {
			return nil, fmt.Errorf("programmes: get many: %w", err)
		}
		var items []*Initiative
		for rows.Next() {
			it, err := scanInitiative(rows)
			if err != nil {
				rows.Close()
				return nil, err
			}
			items = append(items, it)
		}
		rows.Close()
		if err := rows.Err(); err != nil {
			return nil, err
		}
		if err := loadLists(ctx, r.DB, items); err != nil {
			return nil, err
		}
		for _, it := range items {
			out[it.ID] = it
		}
	}
	return out, nil
}

// MayCreate reports whether p may add initiatives (and so import them).
func MayCreate(p *auth.Principal) bool { return ruleCreate.Allows(p, auth.RelNone) }

// MayEdit reports whether p may change it.
func MayEdit(p *auth.Principal, it *Initiative) bool { return canEdit(p, it) == nil }
