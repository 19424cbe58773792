package returns

import (
	"context"
	"fmt"
	"strconv"

	"kompas/internal/platform/audit"
	"kompas/internal/platform/auth"
	"kompas/internal/platform/fault"
	"kompas/internal/platform/store"
)

// FormCase is what a case's forms show of the case: enough to title the
// page and fill the form. Only OpenForm and OpenMove make one, after the
// caller's access to the case was checked, so the methods that take one
// read for a caller already admitted.
type FormCase struct {
	ID        int64
	Reference string
	Stage     Stage
	Country   string
}

// OpenForm reads case id for the form that adds a record of kind a: a 404
// when p may not see the case, a 403 when a does not allow p on it.
// Showing a form shows the case's data, so the read is audited with the
// form's name.
func (s *Service) OpenForm(ctx context.Context, p *auth.Principal, id int64, a caseAct, form string) (*FormCase, error) {
	var fc *FormCase
	err := s.DB.Transact(ctx, func(tx *store.Tx) error {
		h, err := loadHead(ctx, tx, p, id, false)
		if err != nil {
			return err
		}
		if !a.allows(p, h.Rels) {
			return fault.Forbidden(fmt.Sprintf("A %s of %s may not %s on this case.", p.Role.Label(), p.OrgName, a.What))
		}
		fc = &FormCase{ID: h.ID, Reference: h.Reference, Stage: h.Stage, Country: h.Country}
		return audit.Append(ctx, tx, p.Event(audit.ActionRead, "return_case", strconv.FormatInt(h.ID, 10), purposeOf(p), h.Reference+" form "+form))
	})
	if err != nil {
		return nil, fmt.Errorf("returns: form %s of case %d: %w", form, id, err)
	}
	return fc, nil
}

// OpenMove reads case id for the form that moves it to stage to: a 404
// when p may not see the case or to is no stage, a 409 when the stage
// machine has no such move, a 403 when p may not make it.
func (s *Service) OpenMove(ctx context.Context, p *auth.Principal, id int64, to Stage) (*FormCase, Move, error) {
	h, err := loadHead(ctx, s.DB, p, id, false)
	if err != nil {
		return nil, Move{}, err
	}
	if !to.Valid() {
		return nil, Move{}, fault.NotFound("Stage")
	}
	m, ok := FindMove(h.Stage, to)
	if !ok {
		return nil, Move{}, fault.Conflict(fmt.Sprintf("A case in stage %s cannot move to %s.", h.Stage.Label(), to.Label()))
	}
	if !m.Allows(p, h.Rels) {
		return nil, Move{}, fault.Forbidden(fmt.Sprintf("A %s of %s may not move a case from %s to %s.", p.Role.Label(), p.OrgName, m.From.Label(), m.To.Label()))
	}
	return &FormCase{ID: h.ID, Reference: h.Reference, Stage: h.Stage, Country: h.Country}, m, nil
}

// casePage reads case id as p may see it (Case) with the head its page
// needs to offer the caller's moves and forms.
func (s *Service) casePage(ctx context.Context, p *auth.Principal, id int64) (any, *head, error) {
	h, err := loadHead(ctx, s.DB, p, id, false)
	if err != nil {
		return nil, nil, err
	}
	v, err := s.caseView(ctx, p, h)
	return v, h, err
}

// Person names one person of a case, for a form's choice of person.
type Person struct {
	Seq  int
	Name string
}

// People lists the people of the case fc, the principal first.
func (s *Service) People(ctx context.Context, fc *FormCase) ([]Person, error) {
	var out []Person
	err := each(ctx, s.DB, `SELECT seq, given_name, family_name FROM return_migrants WHERE case_id = ? ORDER BY seq`, []any{fc.ID}, func(sc scanner) error {
		var pr Person
		var given, family string
		if err := sc.Scan(&pr.Seq, &given, &family); err != nil {
			return err
		}
		pr.Name = given + " " + family
		out = append(out, pr)
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("returns: people of case %d: %w", fc.ID, err)
	}
	return out, nil
}

// CurrentPlan is the reintegration plan of the case fc, or nil when none
// was written.
func (s *Service) CurrentPlan(ctx context.Context, fc *FormCase) (*Plan, error) {
	cm, err := loadCommon(ctx, s.DB, fc.ID)
	if err != nil {
		return nil, err
	}
	plan, _, _, _, err := loadWork(ctx, s.DB, fc.ID, cm)
	if err != nil {
		return nil, fmt.Errorf("returns: plan of case %d: %w", fc.ID, err)
	}
	return plan, nil
}

// Organisation is an organisation by slug and name.
type Organisation struct {
	Slug string `json:"slug"`
	Name string `json:"name"`
}

// CounsellingOrgs lists the organisations a migrant may choose for
// counselling: every NGO and those listed in return_counselling_orgs.
func (s *Service) CounsellingOrgs(ctx context.Context) ([]Organisation, error) {
	var out []Organisation
	err := each(ctx, s.DB, `SELECT slug, name FROM organisations
		WHERE kind = 'ngo' OR slug IN (SELECT org_slug FROM return_counselling_orgs) ORDER BY name`, nil, func(sc scanner) error {
		var o Organisation
		if err := sc.Scan(&o.Slug, &o.Name); err != nil {
			return err
		}
		out = append(out, o)
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("returns: counselling organisations: %w", err)
	}
	return out, nil
}
