package app

import (
	"context"

	"kompas/internal/iati"
	"kompas/internal/platform/auth"
	"kompas/internal/platform/store"
	"kompas/internal/programmes"
)

// IATIRegister gives the IATI module the register as the interface it
// declares (iati.Register): the service's own methods, its access rules,
// and its writer with the outcome of an upsert in iati's terms.
func IATIRegister(reg *programmes.Register) iati.Register { return iatiRegister{reg} }

type iatiRegister struct{ *programmes.Register }

func (iatiRegister) MayCreate(p *auth.Principal) bool { return programmes.MayCreate(p) }

func (iatiRegister) MayEdit(p *auth.Principal, it *programmes.Initiative) bool {
	return programmes.MayEdit(p, it)
}

func (r iatiRegister) Writer(ctx context.Context, tx *store.Tx, p *auth.Principal) (iati.Writer, error) {
	w, err := r.NewWriter(ctx, tx, p)
	if err != nil {
		return nil, err
	}
	return iatiWriter{w}, nil
}

type iatiWriter struct{ *programmes.Writer }

var iatiOutcomes = map[string]iati.Outcome{
	programmes.IATICreated:   iati.Created,
	programmes.IATIUpdated:   iati.Updated,
	programmes.IATIUnchanged: iati.Unchanged,
}

func (w iatiWriter) Upsert(ctx context.Context, cur *programmes.Initiative, iatiID string, in programmes.Input, before func(context.Context) error) (iati.Outcome, int64, error) {
	status, id, err := w.Writer.Upsert(ctx, cur, iatiID, in, before)
	return iatiOutcomes[status], id, err
}
