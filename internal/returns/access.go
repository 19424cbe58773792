package returns

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"

	"kompas/internal/platform/audit"
	"kompas/internal/platform/auth"
	"kompas/internal/platform/fault"
	"kompas/internal/platform/store"
)

// Service is the returns module: its rules and SQL.
type Service struct {
	DB *store.DB
	// Now is the clock; nil means time.Now. Tests set it to move time.
	Now func() time.Time
}

func (s *Service) now() time.Time {
	if s.Now != nil {
		return s.Now().UTC().Truncate(time.Microsecond)
	}
	return store.Now()
}

// View is the projection of a case a caller gets.
type View int

const (
	// ViewNone: the caller may not see the case (404).
	ViewNone View = iota
	// ViewFull: every field (the return service, IOM, the chosen NGO).
	ViewFull
	// ViewPartner: what reintegration work needs (the assigned partner).
	ViewPartner
)

func (v View) String() string {
	switch v {
	case ViewFull:
		return "full"
	case ViewPartner:
		return "partner"
	}
	return "none"
}

// viewFor decides the projection from the caller's role and the case's
// relations to the caller's organisation. This is the one place where
// role and relation turn into "which fields".
func viewFor(p *auth.Principal, rels []auth.Relation) View {
	if p == nil {
		return ViewNone
	}
	has := func(r auth.Relation) bool {
		for _, x := range rels {
			if x == r {
				return true
			}
		}
		return false
	}
	switch p.Role {
	case auth.RoleCaseworker, auth.RoleReturnOfficer:
		if has(RelProgramme) || has(auth.RelChosen) {
			return ViewFull
		}
	case auth.RoleCounsellor:
		if has(auth.RelChosen) {
			return ViewFull
		}
	case auth.RolePartner:
		if has(auth.RelAssigned) {
			return ViewPartner
		}
	}
	return ViewNone
}

// purposeOf is the purpose a read is audited with.
func purposeOf(p *auth.Principal) string {
	switch p.Role {
	case auth.RoleCaseworker:
		return "case work"
	case auth.RoleReturnOfficer:
		return "return programme case work"
	case auth.RoleCounsellor:
		return "return counselling"
	case auth.RolePartner:
		return "reintegration support"
	}
	return "case work"
}

// caseRoles are the roles that work on cases at all; everyone else sees
// statistics only.
var caseRoles = []auth.Role{auth.RoleCaseworker, auth.RoleReturnOfficer, auth.RoleCounsellor, auth.RolePartner}

// WorksOnCases reports whether p's role works on return cases.
func WorksOnCases(p *auth.Principal) bool {
	if p == nil {
		return false
	}
	for _, r := range caseRoles {
		if p.Role == r {
			return true
		}
	}
	return false
}

// operated lists the programmes p's organisation operates (for the roles
// that see cases by programme; nil for the others).
func operated(ctx context.Context, q store.Querier, p *auth.Principal) ([]string, error) {
	if p.Role != auth.RoleCaseworker && p.Role != auth.RoleReturnOfficer {
		return nil, nil
	}
	rows, err := q.Query(ctx, `SELECT programme FROM return_programme_operators WHERE org_slug = ? ORDER BY programme`, p.OrgSlug)
	if err != nil {
		return nil, fmt.Errorf("returns: programmes of %s: %w", p.OrgSlug, err)
	}
	defer rows.Close()
	var out []string
	for rows.Next() {
		var code string
		if err := rows.Scan(&code); err != nil {
			return nil, err
		}
		out = append(out, code)
	}
	return out, rows.Err()
}

// scope is the SQL condition (on return_cases c) selecting the cases p may
// see, with its arguments. Roles that see no cases get a 403.
func scope(ctx context.Context, q store.Querier, p *auth.Principal) (string, []any, error) {
	switch p.Role {
	case auth.RoleCaseworker, auth.RoleReturnOfficer:
		progs, err := operated(ctx, q, p)
		if err != nil {
			return "", nil, err
		}
		if len(progs) == 0 {
			return "c.counselling_org_id = ?", []any{p.OrgID}, nil
		}
		args := make([]any, 0, len(progs)+1)
		for _, code := range progs {
			args = append(args, code)
		}
		args = append(args, p.OrgID)
		return "(c.programme IN (" + placeholders(len(progs)) + ") OR c.counselling_org_id = ?)", args, nil
	case auth.RoleCounsellor:
		return "c.counselling_org_id = ?", []any{p.OrgID}, nil
	case auth.RolePartner:
		return "c.partner_org_id = ?", []any{p.OrgID}, nil
	}
	return "", nil, fault.Forbidden(fmt.Sprintf("A %s sees no return cases, only the statistics.", p.Role.Label()))
}

func placeholders(n int) string {
	return strings.TrimSuffix(strings.Repeat("?,", n), ",")
}

// head is a case's non-personal columns and its relations to the caller:
// enough to decide access and apply the stage machine.
type head struct {
	ID             int64
	Reference      string
	Stage          Stage
	StageSince     time.Time
	Country        string
	Programme      string
	CounsellingOrg int64
	PartnerOrg     int64 // 0: none
	IntakeOrg      int64
	Departed       bool
	Assisted       bool
	Persons        int
	Version        int
	Rels           []auth.Relation
	View           View
}

// loadHead reads the head of case id and its relations to p. A case p may
// not see is a 404, the same as one that does not exist. forUpdate locks
// the row on PostgreSQL (inside a write transaction).
func loadHead(ctx context.Context, q store.Querier, p *auth.Principal, id int64, forUpdate bool) (*head, error) {
	if p == nil {
		return nil, fault.ErrUnauthenticated
	}
	query := `SELECT id, reference, stage, stage_since, country_of_return, programme, counselling_org_id, COALESCE(partner_org_id, 0),
		intake_org_id, departed, assisted, persons, version FROM return_cases WHERE id = ?`
	if forUpdate && q.Dialect() == store.Postgres {
		query += ` FOR UPDATE`
	}
	h := &head{}
	var since string
	err := q.QueryRow(ctx, query, id).Scan(&h.ID, &h.Reference, &h.Stage, &since, &h.Country, &h.Programme, &h.CounsellingOrg, &h.PartnerOrg,
		&h.IntakeOrg, &h.Departed, &h.Assisted, &h.Persons, &h.Version)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, fault.NotFound("Case")
	}
	if err != nil {
		return nil, fmt.Errorf("returns: case %d: %w", id, err)
	}
	h.StageSince, _ = store.ParseTime(since)
	progs, err := operated(ctx, q, p)
	if err != nil {
		return nil, err
	}
	if oneOf(h.Programme, progs) {
		h.Rels = append(h.Rels, RelProgramme)
	}
	if h.CounsellingOrg == p.OrgID {
		h.Rels = append(h.Rels, auth.RelChosen)
	}
	if h.PartnerOrg != 0 && h.PartnerOrg == p.OrgID {
		h.Rels = append(h.Rels, auth.RelAssigned)
	}
	h.View = viewFor(p, h.Rels)
	if h.View == ViewNone {
		return nil, fault.NotFound("Case")
	}
	return h, nil
}

// Case reads case id as p may see it: a *CaseView or a *PartnerCaseView,
// each loaded by its own queries that select only its own fields. The read
// is audited with its purpose; a case p may not see is a 404.
func (s *Service) Case(ctx context.Context, p *auth.Principal, id int64) (any, error) {
	h, err := loadHead(ctx, s.DB, p, id, false)
	if err != nil {
		return nil, err
	}
	return s.caseView(ctx, p, h)
}

// caseView loads the projection of the case h that p gets, and audits the
// read.
func (s *Service) caseView(ctx context.Context, p *auth.Principal, h *head) (any, error) {
	var v any
	switch h.View {
	case ViewFull:
		cv, err := loadFull(ctx, s.DB, h, s.now())
		if err != nil {
			return nil, err
		}
		cv.NextStages = s.nextFor(p, h)
		v = cv
	case ViewPartner:
		pv, err := loadPartner(ctx, s.DB, h, s.now())
		if err != nil {
			return nil, err
		}
		pv.NextStages = s.nextFor(p, h)
		v = pv
	}
	err := s.DB.Transact(ctx, func(tx *store.Tx) error {
		return audit.Append(ctx, tx, p.Event(audit.ActionRead, "return_case", strconv.FormatInt(h.ID, 10), purposeOf(p), h.Reference+" view="+h.View.String()))
	})
	if err != nil {
		return nil, err
	}
	return v, nil
}

// nextFor lists the stages p may move the case to (preconditions aside).
func (s *Service) nextFor(p *auth.Principal, h *head) []Stage {
	out := []Stage{}
	for _, m := range Moves {
		if m.From == h.Stage && m.Allows(p, h.Rels) {
			out = append(out, m.To)
		}
	}
	return out
}
