package returns

import (
	"context"
	"fmt"

	"kompas/internal/platform/store"
)

// countKey is one cell of return_case_counts: the dimensions the
// statistics and the work queues' counts break cases down by.
type countKey struct {
	Stage     Stage
	Country   string
	Org       int64 // the counselling organisation
	Programme string
	Departed  bool
	Assisted  bool
}

func (h *head) countKey() countKey {
	return countKey{Stage: h.Stage, Country: h.Country, Org: h.CounsellingOrg, Programme: h.Programme, Departed: h.Departed, Assisted: h.Assisted}
}

// bumpCount adds cases and persons (either may be negative) to a cell.
func bumpCount(ctx context.Context, tx *store.Tx, k countKey, cases, persons int) error {
	_, err := tx.Exec(ctx, `INSERT INTO return_case_counts (stage, country_of_return, counselling_org_id, programme, departed, assisted, cases, persons)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?)
		ON CONFLICT (stage, country_of_return, counselling_org_id, programme, departed, assisted)
		DO UPDATE SET cases = return_case_counts.cases + excluded.cases, persons = return_case_counts.persons + excluded.persons`,
		string(k.Stage), k.Country, k.Org, k.Programme, k.Departed, k.Assisted, cases, persons)
	if err != nil {
		return fmt.Errorf("returns: count: %w", err)
	}
	return nil
}

// moveCount moves a case of persons people from one cell to another.
func moveCount(ctx context.Context, tx *store.Tx, from, to countKey, persons int) error {
	if from == to {
		return nil
	}
	if err := bumpCount(ctx, tx, from, -1, -persons); err != nil {
		return err
	}
	return bumpCount(ctx, tx, to, 1, persons)
}
