package returns

import (
	"context"
	"crypto/rand"
	"database/sql"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"

	"kompas/internal/platform/audit"
	"kompas/internal/platform/auth"
	"kompas/internal/platform/check"
	"kompas/internal/platform/fault"
	"kompas/internal/platform/geo"
	"kompas/internal/platform/store"
)

// MigrantInput is one person in the create body.
type MigrantInput struct {
	GivenName       string   `json:"given_name" required:"true"`
	FamilyName      string   `json:"family_name" required:"true"`
	BirthDate       string   `json:"birth_date" required:"true" doc:"YYYY-MM-DD, not in the future"`
	Sex             string   `json:"sex" required:"true" doc:"female, male or x"`
	Nationality     string   `json:"nationality" required:"true" doc:"ISO 3166-1 alpha-2"`
	Relationship    string   `json:"relationship,omitempty" doc:"to the principal (the first person): spouse, partner, child, parent, sibling or other_relative"`
	DocumentsHeld   []string `json:"documents_held,omitempty" doc:"passport, expired_passport, national_id, birth_certificate, other_identity_document, none"`
	Vulnerabilities []string `json:"vulnerabilities,omitempty" doc:"special-category data: unaccompanied_minor, medical_needs, mental_health, disability, pregnancy, trafficking_victim, torture_survivor, elderly, single_parent"`
}

// CreateInput is the body of POST /api/v1/returns/cases.
type CreateInput struct {
	CountryOfReturn    string         `json:"country_of_return" required:"true" doc:"ISO 3166-1 alpha-2"`
	CounsellingOrg     string         `json:"counselling_org" required:"true" doc:"slug of the organisation the migrant chose: an NGO, or iom"`
	Programme          string         `json:"programme" required:"true" doc:"national, iom_return, frontex_reintegration, iom_stranded"`
	ChosenOn           string         `json:"chosen_on,omitempty" doc:"when the migrant chose the counselling organisation; default today"`
	ImmigrationHistory string         `json:"immigration_history,omitempty"`
	Migrants           []MigrantInput `json:"migrants" required:"true" doc:"the principal first, then family members"`
}

// Created is the answer to a create.
type Created struct {
	ID        int64  `json:"id"`
	Reference string `json:"reference"`
	Stage     Stage  `json:"stage"`
}

// validateCreate checks what needs no database and normalises in.
func validateCreate(in *CreateInput, now time.Time) error {
	c := &check.Fields{}
	td := today(now)
	in.CountryOfReturn = strings.ToUpper(strings.TrimSpace(in.CountryOfReturn))
	if in.CountryOfReturn == "" {
		c.Bad("country_of_return", "is required")
	} else if !geo.Valid(in.CountryOfReturn) {
		c.Bad("country_of_return", "%q is not an ISO 3166-1 alpha-2 country code", truncate(in.CountryOfReturn, 10))
	}
	in.CounsellingOrg = strings.TrimSpace(in.CounsellingOrg)
	if in.CounsellingOrg == "" {
		c.Bad("counselling_org", "is required: the organisation the migrant chose")
	}
	in.Programme = strings.TrimSpace(in.Programme)
	if in.Programme == "" {
		c.Bad("programme", "is required")
	}
	c.Date("chosen_on", &in.ChosenOn, false, td)
	c.Text("immigration_history", &in.ImmigrationHistory, false, maxText)
	switch {
	case len(in.Migrants) == 0:
		c.Bad("migrants", "must list at least the principal")
	case len(in.Migrants) > maxMigrants:
		c.Bad("migrants", "must list at most %d people", maxMigrants)
	}
	for i := range in.Migrants {
		if i >= maxMigrants {
			break
		}
		m := &in.Migrants[i]
		f := fmt.Sprintf("migrants[%d]", i)
		c.Text(f+".given_name", &m.GivenName, true, maxName)
		c.Text(f+".family_name", &m.FamilyName, true, maxName)
		c.Date(f+".birth_date", &m.BirthDate, true, td)
		c.Code(f+".sex", &m.Sex, Sexes, true)
		m.Nationality = strings.ToUpper(strings.TrimSpace(m.Nationality))
		if m.Nationality == "" {
			c.Bad(f+".nationality", "is required")
		} else if !geo.Valid(m.Nationality) {
			c.Bad(f+".nationality", "%q is not an ISO 3166-1 alpha-2 country code", truncate(m.Nationality, 10))
		}
		if i == 0 {
			m.Relationship = strings.ToLower(strings.TrimSpace(m.Relationship))
			if m.Relationship != "" && m.Relationship != "principal" {
				c.Bad(f+".relationship", "the first person is the principal")
			}
			m.Relationship = "principal"
		} else {
			if strings.TrimSpace(m.Relationship) == "" {
				m.Relationship = "other_relative"
			}
			c.Code(f+".relationship", &m.Relationship, Relationships[1:], true)
		}
		m.DocumentsHeld = c.Codes(f+".documents_held", m.DocumentsHeld, DocumentKinds)
		m.Vulnerabilities = c.Codes(f+".vulnerabilities", m.Vulnerabilities, Vulnerabilities)
	}
	return c.Err()
}

// refAlphabet is Crockford's base 32 (no I, L, O, U).
const refAlphabet = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"

// newReference makes a case reference unique across app nodes without
// coordination: the year and 50 random bits (10 base-32 characters), with
// a unique index behind it.
func newReference(now time.Time) string {
	var b [10]byte
	if _, err := rand.Read(b[:]); err != nil {
		panic(err)
	}
	out := make([]byte, 10)
	for i := range b {
		out[i] = refAlphabet[b[i]&31]
	}
	return fmt.Sprintf("RET-%d-%s", now.Year(), out)
}

// counsellingOrg resolves the slug of an organisation a migrant may choose
// (an NGO, or IOM).
func counsellingOrg(ctx context.Context, q store.Querier, field, slug string) (int64, string, error) {
	var id int64
	var kind, name string
	var counsels bool
	err := q.QueryRow(ctx, `SELECT id, kind, name, EXISTS (SELECT 1 FROM return_counselling_orgs WHERE org_slug = organisations.slug)
		FROM organisations WHERE slug = ?`, slug).Scan(&id, &kind, &name, &counsels)
	if errors.Is(err, sql.ErrNoRows) {
		return 0, "", fault.Invalid(fault.FieldError{Field: field, Message: fmt.Sprintf("no organisation %q is known", truncate(slug, 64))})
	}
	if err != nil {
		return 0, "", err
	}
	if kind != "ngo" && !counsels {
		return 0, "", fault.Invalid(fault.FieldError{Field: field, Message: fmt.Sprintf("%s is not a counselling organisation: choose an NGO or IOM", name)})
	}
	return id, name, nil
}

// Create registers a case. Its author must be able to see it afterwards: a
// counsellor registers cases of migrants who chose their NGO, a caseworker
// or return officer cases of a programme their organisation operates (or,
// for IOM, where the migrant chose IOM).
func (s *Service) Create(ctx context.Context, p *auth.Principal, in CreateInput) (*Created, error) {
	if err := auth.Check(p, ruleCreate, auth.RelNone); err != nil {
		return nil, err
	}
	now := s.now()
	if err := validateCreate(&in, now); err != nil {
		return nil, err
	}
	var out *Created
	var err error
	for attempt := 0; attempt < 3; attempt++ {
		out, err = s.create(ctx, p, in, now, newReference(now))
		if !store.IsUniqueViolation(err) {
			break
		}
	}
	return out, err
}

func (s *Service) create(ctx context.Context, p *auth.Principal, in CreateInput, now time.Time, ref string) (*Created, error) {
	// The organisation, the programme and the author's right to register
	// are read before the write transaction (on the read pool); foreign
	// keys hold the rows read.
	orgID, _, err := counsellingOrg(ctx, s.DB, "counselling_org", in.CounsellingOrg)
	if err != nil {
		return nil, err
	}
	var n int
	if err := s.DB.QueryRow(ctx, `SELECT COUNT(*) FROM return_programmes WHERE code = ?`, in.Programme).Scan(&n); err != nil {
		return nil, err
	}
	if n == 0 {
		return nil, fault.Invalid(fault.FieldError{Field: "programme", Message: fmt.Sprintf("%q is not a return programme", truncate(in.Programme, 40))})
	}
	switch p.Role {
	case auth.RoleCounsellor:
		if orgID != p.OrgID {
			return nil, fault.Invalid(fault.FieldError{Field: "counselling_org", Message: "a counsellor registers cases of migrants who chose their own organisation"})
		}
	default:
		progs, err := operated(ctx, s.DB, p)
		if err != nil {
			return nil, err
		}
		if !oneOf(in.Programme, progs) && orgID != p.OrgID {
			return nil, fault.Invalid(fault.FieldError{Field: "programme", Message: fmt.Sprintf("%s does not operate the programme %s", p.OrgName, in.Programme)})
		}
	}
	out := &Created{Reference: ref, Stage: Registered}
	err = s.DB.Transact(ctx, func(tx *store.Tx) error {
		ts := store.FormatTime(now)
		id, err := tx.InsertID(ctx, `INSERT INTO return_cases (reference, stage, stage_since, country_of_return, counselling_org_id, programme,
			intake_org_id, immigration_history, persons, created_at, created_by, updated_at)
			VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) RETURNING id`,
			ref, string(Registered), ts, in.CountryOfReturn, orgID, in.Programme, p.OrgID, in.ImmigrationHistory, len(in.Migrants), ts, p.Email, ts)
		if err != nil {
			return err
		}
		out.ID = id
		for i, m := range in.Migrants {
			if _, err := tx.Exec(ctx, `INSERT INTO return_migrants (case_id, seq, relationship, given_name, family_name, birth_date, sex, nationality, documents_held, vulnerabilities)
				VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`, id, i, m.Relationship, m.GivenName, m.FamilyName, m.BirthDate, m.Sex, m.Nationality,
				strings.Join(m.DocumentsHeld, ","), strings.Join(m.Vulnerabilities, ",")); err != nil {
				return fmt.Errorf("returns: add person: %w", err)
			}
		}
		chosen := in.ChosenOn
		if chosen == "" {
			chosen = today(now)
		}
		if _, err := tx.Exec(ctx, `INSERT INTO return_choices (case_id, from_org_id, to_org_id, chosen_on, reason, recorded_by, recorded_at) VALUES (?, NULL, ?, ?, ?, ?, ?)`,
			id, orgID, chosen, "initial choice", p.Email, ts); err != nil {
			return err
		}
		if _, err := tx.Exec(ctx, `INSERT INTO return_transitions (case_id, from_stage, to_stage, at, days, actor_id, actor, org_id, reason) VALUES (?, '', ?, ?, 0, ?, ?, ?, '')`,
			id, string(Registered), ts, p.UserID, p.Email, p.OrgID); err != nil {
			return err
		}
		if err := bumpCount(ctx, tx, countKey{Stage: Registered, Country: in.CountryOfReturn, Org: orgID, Programme: in.Programme}, 1, len(in.Migrants)); err != nil {
			return err
		}
		return audit.Append(ctx, tx, p.Event(audit.ActionCreate, "return_case", strconv.FormatInt(id, 10), purposeOf(p),
			fmt.Sprintf("%s programme=%s country=%s persons=%d", ref, in.Programme, in.CountryOfReturn, len(in.Migrants))))
	})
	if err != nil {
		return nil, err
	}
	return out, nil
}

// TransitionInput is the body of POST …/transitions.
type TransitionInput struct {
	To     string `json:"to" required:"true" doc:"the stage to move to"`
	Reason string `json:"reason,omitempty" doc:"why; required to withdraw, record a no-show, close early or reopen"`
}

// Moved is the answer to a transition.
type Moved struct {
	ID         int64     `json:"id"`
	Reference  string    `json:"reference"`
	From       Stage     `json:"from"`
	Stage      Stage     `json:"stage"`
	StageSince time.Time `json:"stage_since"`
}

// loadState reads what a move's preconditions look at.
func loadState(ctx context.Context, q store.Querier, h *head, now time.Time) (caseState, error) {
	st := caseState{Stage: h.Stage, Departed: h.Departed, Partner: h.PartnerOrg != 0, Today: today(now)}
	var flight sql.NullString
	var issued int
	err := q.QueryRow(ctx, `SELECT
		(SELECT COUNT(*) FROM return_travel_documents WHERE case_id = ? AND status = 'issued'),
		(SELECT MAX(flight_date) FROM return_flights WHERE case_id = ? AND status = 'booked'),
		(SELECT COUNT(*) FROM return_support_items WHERE case_id = ?),
		(SELECT COUNT(*) FROM return_deliveries WHERE case_id = ?),
		(SELECT COUNT(*) FROM return_visits WHERE case_id = ?)`, h.ID, h.ID, h.ID, h.ID, h.ID).
		Scan(&issued, &flight, &st.PlanItems, &st.Deliveries, &st.Visits)
	if err != nil {
		return st, fmt.Errorf("returns: state of case %d: %w", h.ID, err)
	}
	st.DocIssued = issued > 0
	st.FlightBooked, st.FlightDate = flight.Valid, flight.String
	return st, nil
}

// Transition moves case id to another stage, if the stage machine allows
// it from where the case is, p may make that move, and its preconditions
// hold. It records who, when and why.
func (s *Service) Transition(ctx context.Context, p *auth.Principal, id int64, in TransitionInput) (*Moved, error) {
	if p == nil {
		return nil, fault.ErrUnauthenticated
	}
	to := Stage(strings.TrimSpace(in.To))
	c := &check.Fields{}
	if to == "" {
		c.Bad("to", "is required: the stage to move to")
	} else if !to.Valid() {
		c.Bad("to", "%q is not a stage (one of %s)", truncate(string(to), 30), stageList(Stages))
	}
	c.Text("reason", &in.Reason, false, maxText)
	if err := c.Err(); err != nil {
		return nil, err
	}
	now := s.now()
	// The case and its state are read outside the write transaction, on
	// the read pool; the write then succeeds only if the case's version is
	// still the one read. Every change to a case's records bumps that
	// version, so the preconditions checked still hold when the move is
	// written (or the move is a 409 and nothing changes).
	h, err := loadHead(ctx, s.DB, p, id, false)
	if err != nil {
		return nil, err
	}
	m, ok := FindMove(h.Stage, to)
	if !ok {
		next := NextStages(h.Stage)
		msg := fmt.Sprintf("A case in stage %s cannot move to %s.", h.Stage, to)
		if len(next) > 0 {
			msg += " From " + string(h.Stage) + " it can move to: " + stageList(next) + "."
		} else {
			msg += " It cannot move from " + string(h.Stage) + "."
		}
		return nil, fault.Conflict(msg)
	}
	if !m.Allows(p, h.Rels) {
		return nil, fault.Forbidden(fmt.Sprintf("A %s of %s may not move a case from %s to %s.", p.Role.Label(), p.OrgName, m.From, m.To))
	}
	if m.Reason && len([]rune(in.Reason)) < ReasonMinLen {
		what := "this move"
		if m.Reopen {
			what = "reopening a case"
		}
		return nil, fault.Invalid(fault.FieldError{Field: "reason", Message: fmt.Sprintf("is required for %s (at least %d characters)", what, ReasonMinLen)})
	}
	if m.Check != nil {
		st, err := loadState(ctx, s.DB, h, now)
		if err != nil {
			return nil, err
		}
		if missing := m.Check(st); missing != "" {
			return nil, fault.Conflict(fmt.Sprintf("The case cannot move from %s to %s yet: %s.", m.From, m.To, missing))
		}
	}
	var out *Moved
	err = s.DB.Transact(ctx, func(tx *store.Tx) error {
		var err error
		out, err = applyMove(ctx, tx, p, h, m, in.Reason, now)
		return err
	})
	if err != nil {
		return nil, err
	}
	return out, nil
}

// applyMove writes a move that has been checked.
func applyMove(ctx context.Context, tx *store.Tx, p *auth.Principal, h *head, m Move, reason string, now time.Time) (*Moved, error) {
	ts := store.FormatTime(now)
	set := `stage = ?, stage_since = ?, version = version + 1, updated_at = ?`
	args := []any{string(m.To), ts, ts}
	switch m.To {
	case Departed:
		set += `, departed = ?, departed_at = ?`
		args = append(args, true, ts)
		if _, err := tx.Exec(ctx, `UPDATE return_flights SET status = 'flown', confirmed_at = ?, confirmed_by = ? WHERE case_id = ? AND status = 'booked'`,
			ts, p.Email, h.ID); err != nil {
			return nil, err
		}
	case Reintegration:
		set += `, assisted = ?`
		args = append(args, true)
	}
	args = append(args, h.ID, h.Version)
	res, err := tx.Exec(ctx, `UPDATE return_cases SET `+set+` WHERE id = ? AND version = ?`, args...)
	if err != nil {
		return nil, fmt.Errorf("returns: move case %d: %w", h.ID, err)
	}
	if n, _ := res.RowsAffected(); n == 0 {
		return nil, fault.Conflict("The case changed while this move was made; read it again.")
	}
	to := h.countKey()
	to.Stage = m.To
	to.Departed = h.Departed || m.To == Departed
	to.Assisted = h.Assisted || m.To == Reintegration
	if err := moveCount(ctx, tx, h.countKey(), to, h.Persons); err != nil {
		return nil, err
	}
	days := daysBetween(h.StageSince, now)
	if _, err := tx.Exec(ctx, `INSERT INTO return_transitions (case_id, from_stage, to_stage, at, days, actor_id, actor, org_id, reason) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)`,
		h.ID, string(m.From), string(m.To), ts, days, p.UserID, p.Email, p.OrgID, reason); err != nil {
		return nil, err
	}
	if _, err := tx.Exec(ctx, `INSERT INTO return_stage_days (stage, days, n) VALUES (?, ?, 1) ON CONFLICT (stage, days) DO UPDATE SET n = return_stage_days.n + 1`,
		string(m.From), days); err != nil {
		return nil, err
	}
	detail := fmt.Sprintf("%s %s → %s", h.Reference, m.From, m.To)
	if reason != "" {
		detail += " (reason given)"
	}
	if err := audit.Append(ctx, tx, p.Event("transition", "return_case", strconv.FormatInt(h.ID, 10), purposeOf(p), detail)); err != nil {
		return nil, err
	}
	return &Moved{ID: h.ID, Reference: h.Reference, From: m.From, Stage: m.To, StageSince: now}, nil
}

func stageList(stages []Stage) string {
	s := make([]string, len(stages))
	for i, x := range stages {
		s[i] = string(x)
	}
	return strings.Join(s, ", ")
}
