package returns

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"regexp"
	"sort"
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

// act runs fn on case id in a write transaction when p may see the case
// (else 404) and a allows p on it (else 403); it bumps the case's
// version and appends an audit event with fn's detail.
func (s *Service) act(ctx context.Context, p *auth.Principal, id int64, a caseAct,
	fn func(tx *store.Tx, h *head, now time.Time) (string, error)) error {
	if p == nil {
		return fault.ErrUnauthenticated
	}
	now := s.now()
	return s.DB.Transact(ctx, func(tx *store.Tx) error {
		h, err := loadHead(ctx, tx, p, id, true)
		if err != nil {
			return err
		}
		if !a.allows(p, h.Rels) {
			return fault.Forbidden(fmt.Sprintf("A %s of %s may not %s on this case.", p.Role.Label(), p.OrgName, a.What))
		}
		detail, err := fn(tx, h, now)
		if err != nil {
			return err
		}
		if _, err := tx.Exec(ctx, `UPDATE return_cases SET version = version + 1, updated_at = ? WHERE id = ?`, store.FormatTime(now), h.ID); err != nil {
			return err
		}
		return audit.Append(ctx, tx, p.Event(audit.ActionUpdate, "return_case", strconv.FormatInt(h.ID, 10), purposeOf(p), h.Reference+" "+detail))
	})
}

func nextSeq(ctx context.Context, tx *store.Tx, table string, id int64) (int, error) {
	var n int
	err := tx.QueryRow(ctx, `SELECT COALESCE(MAX(seq), 0) + 1 FROM `+table+` WHERE case_id = ?`, id).Scan(&n)
	return n, err
}

// hasConsent reports whether the migrant gave written consent covering
// scope.
func hasConsent(ctx context.Context, q store.Querier, id int64, scope string) (bool, error) {
	var n int
	err := q.QueryRow(ctx, `SELECT COUNT(*) FROM return_consents WHERE case_id = ? AND written = ? AND (',' || scope || ',') LIKE ?`,
		id, true, "%,"+scope+",%").Scan(&n)
	return n > 0, err
}

func beforeDeparture(st Stage) bool {
	return st == Registered || st == Counselling || st == Documents || st == TravelBooked
}

// ConsentInput records consent to share data outside the intake
// organisation.
type ConsentInput struct {
	Written bool     `json:"written" doc:"only written consent lets data leave the intake organisation"`
	GivenOn string   `json:"given_on" required:"true" doc:"YYYY-MM-DD, not in the future"`
	Scope   []string `json:"scope" required:"true" doc:"reintegration_partner, referrals"`
}

// RecordConsent adds a consent record.
func (s *Service) RecordConsent(ctx context.Context, p *auth.Principal, id int64, in ConsentInput) error {
	c := &check.Fields{}
	c.Date("given_on", &in.GivenOn, true, today(s.now()))
	in.Scope = c.Codes("scope", in.Scope, ConsentScopes)
	if len(in.Scope) == 0 && !c.Has("scope") {
		c.Bad("scope", "name at least one of %s", strings.Join(ConsentScopes, ", "))
	}
	if err := c.Err(); err != nil {
		return err
	}
	return s.act(ctx, p, id, actConsent, func(tx *store.Tx, h *head, now time.Time) (string, error) {
		if !h.Stage.Open() {
			return "", fault.Conflict("Consent is recorded on open cases only.")
		}
		_, err := tx.Exec(ctx, `INSERT INTO return_consents (case_id, written, given_on, scope, recorded_by, recorded_at) VALUES (?, ?, ?, ?, ?, ?)`,
			h.ID, in.Written, in.GivenOn, strings.Join(in.Scope, ","), p.Email, store.FormatTime(now))
		return fmt.Sprintf("consent written=%v scope=%s", in.Written, strings.Join(in.Scope, ",")), err
	})
}

// ChoiceInput records a change of the migrant's counselling organisation.
type ChoiceInput struct {
	CounsellingOrg string `json:"counselling_org" required:"true" doc:"slug of the NGO (or iom) the migrant now chooses"`
	ChosenOn       string `json:"chosen_on" required:"true" doc:"YYYY-MM-DD"`
	Reason         string `json:"reason" required:"true"`
}

// ChangeChoice records that the migrant chose another counselling
// organisation. The old one loses sight of the case; the history keeps
// who was chosen when and why.
func (s *Service) ChangeChoice(ctx context.Context, p *auth.Principal, id int64, in ChoiceInput) error {
	c := &check.Fields{}
	in.CounsellingOrg = strings.TrimSpace(in.CounsellingOrg)
	if in.CounsellingOrg == "" {
		c.Bad("counselling_org", "is required")
	}
	c.Date("chosen_on", &in.ChosenOn, true, today(s.now()))
	c.Text("reason", &in.Reason, true, maxText)
	if err := c.Err(); err != nil {
		return err
	}
	return s.act(ctx, p, id, actChoice, func(tx *store.Tx, h *head, now time.Time) (string, error) {
		orgID, _, err := counsellingOrg(ctx, tx, "counselling_org", in.CounsellingOrg)
		if err != nil {
			return "", err
		}
		if orgID == h.CounsellingOrg {
			return "", fault.Invalid(fault.FieldError{Field: "counselling_org", Message: "is already the chosen organisation"})
		}
		if !beforeDeparture(h.Stage) {
			return "", fault.Conflict("The counselling organisation can change only before departure.")
		}
		if _, err := tx.Exec(ctx, `UPDATE return_cases SET counselling_org_id = ? WHERE id = ?`, orgID, h.ID); err != nil {
			return "", err
		}
		to := h.countKey()
		to.Org = orgID
		if err := moveCount(ctx, tx, h.countKey(), to, h.Persons); err != nil {
			return "", err
		}
		_, err = tx.Exec(ctx, `INSERT INTO return_choices (case_id, from_org_id, to_org_id, chosen_on, reason, recorded_by, recorded_at) VALUES (?, ?, ?, ?, ?, ?, ?)`,
			h.ID, h.CounsellingOrg, orgID, in.ChosenOn, in.Reason, p.Email, store.FormatTime(now))
		return "counselling organisation changed to " + in.CounsellingOrg, err
	})
}

// TravelDocumentInput requests a travel document.
type TravelDocumentInput struct {
	MigrantSeq       int    `json:"migrant_seq" doc:"the person (0: the principal)"`
	Kind             string `json:"kind" required:"true" doc:"passport, laissez_passer, emergency_travel_document"`
	Authority        string `json:"authority" required:"true" doc:"embassy or consulate"`
	AuthorityCountry string `json:"authority_country,omitempty" doc:"ISO 3166-1 alpha-2 of the issuing state; default the country of return"`
	RequestedOn      string `json:"requested_on,omitempty" doc:"YYYY-MM-DD; default today"`
}

// RequestTravelDocument records a request to an embassy or consulate.
func (s *Service) RequestTravelDocument(ctx context.Context, p *auth.Principal, id int64, in TravelDocumentInput) (int, error) {
	c := &check.Fields{}
	c.Code("kind", &in.Kind, TravelDocumentKinds, true)
	c.Code("authority", &in.Authority, Authorities, true)
	in.AuthorityCountry = strings.ToUpper(strings.TrimSpace(in.AuthorityCountry))
	if in.AuthorityCountry != "" && !geo.Valid(in.AuthorityCountry) {
		c.Bad("authority_country", "%q is not an ISO 3166-1 alpha-2 country code", truncate(in.AuthorityCountry, 10))
	}
	c.Date("requested_on", &in.RequestedOn, false, today(s.now()))
	if in.MigrantSeq < 0 || in.MigrantSeq >= maxMigrants {
		c.Bad("migrant_seq", "must be the number of a person of the case")
	}
	if err := c.Err(); err != nil {
		return 0, err
	}
	var seq int
	err := s.act(ctx, p, id, actDocument, func(tx *store.Tx, h *head, now time.Time) (string, error) {
		if !beforeDeparture(h.Stage) {
			return "", fault.Conflict("Travel documents are requested before departure.")
		}
		var n int
		if err := tx.QueryRow(ctx, `SELECT COUNT(*) FROM return_migrants WHERE case_id = ? AND seq = ?`, h.ID, in.MigrantSeq).Scan(&n); err != nil {
			return "", err
		}
		if n == 0 {
			return "", fault.Invalid(fault.FieldError{Field: "migrant_seq", Message: "is not a person of this case"})
		}
		if in.AuthorityCountry == "" {
			in.AuthorityCountry = h.Country
		}
		if in.RequestedOn == "" {
			in.RequestedOn = today(now)
		}
		var err error
		if seq, err = nextSeq(ctx, tx, "return_travel_documents", h.ID); err != nil {
			return "", err
		}
		_, err = tx.Exec(ctx, `INSERT INTO return_travel_documents (case_id, seq, migrant_seq, kind, authority, authority_country, status, requested_on, recorded_by)
			VALUES (?, ?, ?, ?, ?, ?, 'requested', ?, ?)`, h.ID, seq, in.MigrantSeq, in.Kind, in.Authority, in.AuthorityCountry, in.RequestedOn, p.Email)
		return fmt.Sprintf("travel document %d requested (%s, %s of %s)", seq, in.Kind, in.Authority, in.AuthorityCountry), err
	})
	return seq, err
}

// DecisionInput records an embassy's or consulate's answer.
type DecisionInput struct {
	Status     string `json:"status" required:"true" doc:"issued or refused"`
	DecidedOn  string `json:"decided_on" required:"true" doc:"YYYY-MM-DD"`
	ValidUntil string `json:"valid_until,omitempty" doc:"YYYY-MM-DD, for an issued document"`
	Reference  string `json:"reference,omitempty" doc:"the document's number"`
}

// DecideTravelDocument records that a requested document was issued or
// refused.
func (s *Service) DecideTravelDocument(ctx context.Context, p *auth.Principal, id int64, seq int, in DecisionInput) error {
	c := &check.Fields{}
	c.Code("status", &in.Status, []string{"issued", "refused"}, true)
	now := s.now()
	c.Date("decided_on", &in.DecidedOn, true, today(now))
	c.Date("valid_until", &in.ValidUntil, false, "")
	if in.Status == "issued" && in.ValidUntil != "" && in.ValidUntil < today(now) {
		c.Bad("valid_until", "is in the past: the document has expired")
	}
	c.Text("reference", &in.Reference, false, 100)
	if err := c.Err(); err != nil {
		return err
	}
	return s.act(ctx, p, id, actDecision, func(tx *store.Tx, h *head, now time.Time) (string, error) {
		var status string
		err := tx.QueryRow(ctx, `SELECT status FROM return_travel_documents WHERE case_id = ? AND seq = ?`, h.ID, seq).Scan(&status)
		if errors.Is(err, sql.ErrNoRows) {
			return "", fault.NotFound("Travel document")
		}
		if err != nil {
			return "", err
		}
		if status != "requested" {
			return "", fault.Conflict(fmt.Sprintf("This travel document was already %s.", status))
		}
		_, err = tx.Exec(ctx, `UPDATE return_travel_documents SET status = ?, decided_on = ?, valid_until = ?, reference = ? WHERE case_id = ? AND seq = ?`,
			in.Status, in.DecidedOn, in.ValidUntil, in.Reference, h.ID, seq)
		return fmt.Sprintf("travel document %d %s", seq, in.Status), err
	})
}

// FlightInput books a flight.
type FlightInput struct {
	Date         string `json:"date" required:"true" doc:"YYYY-MM-DD"`
	Route        string `json:"route" required:"true" doc:"IATA airport codes, e.g. AMS-IST-EBL"`
	Carrier      string `json:"carrier,omitempty"`
	Escort       bool   `json:"escort"`
	MedicalNeeds string `json:"medical_needs,omitempty" doc:"special-category data, for the escort and carrier"`
}

var routeRE = regexp.MustCompile(`^[A-Z]{3}(-[A-Z]{3}){1,5}$`)

// BookFlight records a flight; an earlier booked flight is cancelled.
func (s *Service) BookFlight(ctx context.Context, p *auth.Principal, id int64, in FlightInput) (int, error) {
	c := &check.Fields{}
	now := s.now()
	c.Date("date", &in.Date, true, "")
	if in.Date != "" && in.Date < today(now.AddDate(0, 0, -30)) {
		c.Bad("date", "is more than 30 days ago")
	}
	in.Route = strings.ToUpper(strings.TrimSpace(in.Route))
	if !routeRE.MatchString(in.Route) {
		c.Bad("route", "must be IATA airport codes joined by dashes, such as AMS-IST-EBL")
	}
	c.Text("carrier", &in.Carrier, false, 100)
	c.Text("medical_needs", &in.MedicalNeeds, false, maxText)
	if err := c.Err(); err != nil {
		return 0, err
	}
	var seq int
	err := s.act(ctx, p, id, actFlight, func(tx *store.Tx, h *head, now time.Time) (string, error) {
		if h.Stage != Documents && h.Stage != TravelBooked {
			return "", fault.Conflict(fmt.Sprintf("A flight is booked in the documents or travel_booked stage; the case is in %s.", h.Stage))
		}
		if _, err := tx.Exec(ctx, `UPDATE return_flights SET status = 'cancelled' WHERE case_id = ? AND status = 'booked'`, h.ID); err != nil {
			return "", err
		}
		var err error
		if seq, err = nextSeq(ctx, tx, "return_flights", h.ID); err != nil {
			return "", err
		}
		_, err = tx.Exec(ctx, `INSERT INTO return_flights (case_id, seq, flight_date, route, carrier, escort, medical_needs, status, recorded_by)
			VALUES (?, ?, ?, ?, ?, ?, ?, 'booked', ?)`, h.ID, seq, in.Date, in.Route, in.Carrier, in.Escort, in.MedicalNeeds, p.Email)
		return fmt.Sprintf("flight %d booked for %s (%s)", seq, in.Date, in.Route), err
	})
	return seq, err
}

// PartnerInput assigns a reintegration partner.
type PartnerInput struct {
	Partner string `json:"partner" required:"true" doc:"slug of a reintegration partner that covers the country of return"`
}

// AssignPartner assigns the reintegration partner. The partner must cover
// the country of return (422 naming partner), and the migrant must have
// given written consent to share with a reintegration partner (409).
func (s *Service) AssignPartner(ctx context.Context, p *auth.Principal, id int64, in PartnerInput) error {
	in.Partner = strings.TrimSpace(in.Partner)
	if in.Partner == "" {
		return fault.Invalid(fault.FieldError{Field: "partner", Message: "is required"})
	}
	return s.act(ctx, p, id, actPartner, func(tx *store.Tx, h *head, now time.Time) (string, error) {
		var orgID int64
		var kind, name string
		err := tx.QueryRow(ctx, `SELECT id, kind, name FROM organisations WHERE slug = ?`, in.Partner).Scan(&orgID, &kind, &name)
		if errors.Is(err, sql.ErrNoRows) {
			return "", fault.Invalid(fault.FieldError{Field: "partner", Message: fmt.Sprintf("no organisation %q is known", truncate(in.Partner, 64))})
		}
		if err != nil {
			return "", err
		}
		if kind != "reintegration_partner" {
			return "", fault.Invalid(fault.FieldError{Field: "partner", Message: fmt.Sprintf("%s is not a reintegration partner", name)})
		}
		var n int
		if err := tx.QueryRow(ctx, `SELECT COUNT(*) FROM return_partner_countries WHERE org_id = ? AND country = ?`, orgID, h.Country).Scan(&n); err != nil {
			return "", err
		}
		if n == 0 {
			return "", fault.Invalid(fault.FieldError{Field: "partner", Message: fmt.Sprintf("%s does not cover %s (%s), the country of return", name, geo.Name(h.Country), h.Country)})
		}
		if !h.Stage.Open() {
			return "", fault.Conflict("A partner is assigned on open cases only.")
		}
		if orgID == h.PartnerOrg {
			return "", fault.Invalid(fault.FieldError{Field: "partner", Message: "is already assigned"})
		}
		ok, err := hasConsent(ctx, tx, h.ID, "reintegration_partner")
		if err != nil {
			return "", err
		}
		if !ok {
			return "", fault.Conflict("The migrant has not given written consent to share their data with a reintegration partner; record it first.")
		}
		if h.PartnerOrg != 0 {
			if err := tx.QueryRow(ctx, `SELECT COUNT(*) FROM return_deliveries WHERE case_id = ?`, h.ID).Scan(&n); err != nil {
				return "", err
			}
			if n > 0 {
				return "", fault.Conflict("The assigned partner has delivered support already; it cannot be replaced.")
			}
		}
		_, err = tx.Exec(ctx, `UPDATE return_cases SET partner_org_id = ? WHERE id = ?`, orgID, h.ID)
		return "partner assigned: " + in.Partner, err
	})
}

// SupportInput is one line of a plan.
type SupportInput struct {
	Type        string      `json:"type" required:"true" doc:"post_arrival, housing, medical, education, job_counselling, business_startup, cash, in_kind"`
	Description string      `json:"description" required:"true"`
	Amount      json.Number `json:"amount" required:"true" doc:"in the programme's currency, at most two decimals"`
}

// PlanInput is the reintegration plan.
type PlanInput struct {
	Needs       string         `json:"needs" doc:"what the reintegration work needs to know, including health needs the migrant agreed to share"`
	Aspirations string         `json:"aspirations"`
	StartOn     string         `json:"start_on,omitempty" doc:"YYYY-MM-DD"`
	Months      int            `json:"months" doc:"how long support lasts: 1 to 12"`
	Support     []SupportInput `json:"support" doc:"only after departure; before it the plan holds pre-departure counselling"`
}

// SavePlan writes the reintegration plan. Before departure a plan may hold
// only what pre-departure counselling gives (needs and aspirations);
// support is planned after departure, within the programme's budget cap,
// for at most 12 months.
func (s *Service) SavePlan(ctx context.Context, p *auth.Principal, id int64, in PlanInput) error {
	c := &check.Fields{}
	c.Text("needs", &in.Needs, false, maxText)
	c.Text("aspirations", &in.Aspirations, false, maxText)
	c.Date("start_on", &in.StartOn, false, "")
	if in.Months < 0 || in.Months > maxMonths {
		c.Bad("months", "support lasts at most %d months", maxMonths)
	} else if len(in.Support) > 0 && in.Months == 0 {
		c.Bad("months", "is required with support: 1 to %d", maxMonths)
	}
	if len(in.Support) > maxItems {
		c.Bad("support", "must list at most %d items", maxItems)
	}
	amounts := make([]int64, len(in.Support))
	var total int64
	for i := range in.Support {
		it := &in.Support[i]
		f := fmt.Sprintf("support[%d]", i)
		c.Code(f+".type", &it.Type, SupportTypes, true)
		c.Text(f+".description", &it.Description, true, maxShort)
		m, ok := parseMinor(string(it.Amount))
		if !ok {
			c.Bad(f+".amount", "must be an amount such as 500 or 499.50")
		}
		amounts[i] = m
		total += m
	}
	if err := c.Err(); err != nil {
		return err
	}
	return s.act(ctx, p, id, actPlan, func(tx *store.Tx, h *head, now time.Time) (string, error) {
		if !h.Stage.Open() {
			return "", fault.Conflict("The plan of a closed case cannot change; reopen it first.")
		}
		if len(in.Support) > 0 {
			if p.Role == auth.RoleCounsellor {
				return "", fault.Forbidden("Counsellors record pre-departure needs and aspirations; support is planned by the programme or the reintegration partner.")
			}
			if !h.Departed {
				return "", fault.Conflict("Support can be planned only after departure; before it the plan holds pre-departure counselling (needs and aspirations).")
			}
		}
		var capMinor int64
		var cur string
		if err := tx.QueryRow(ctx, `SELECT budget_cap_minor, currency FROM return_programmes WHERE code = ?`, h.Programme).Scan(&capMinor, &cur); err != nil {
			return "", err
		}
		if total > capMinor {
			return "", fault.Invalid(fault.FieldError{Field: "support", Message: fmt.Sprintf("the total (%s %s) is over the programme's budget cap of %s %s", cur, formatMinor(total), cur, formatMinor(capMinor))})
		}
		var maxDelivered int
		if err := tx.QueryRow(ctx, `SELECT COALESCE(MAX(item_seq), 0) FROM return_deliveries WHERE case_id = ?`, h.ID).Scan(&maxDelivered); err != nil {
			return "", err
		}
		if maxDelivered > len(in.Support) {
			return "", fault.Conflict(fmt.Sprintf("Support item %d has deliveries recorded; it cannot be removed from the plan.", maxDelivered))
		}
		ts := store.FormatTime(now)
		if _, err := tx.Exec(ctx, `INSERT INTO return_plans (case_id, needs, aspirations, start_on, months, currency, version, updated_at, updated_by)
			VALUES (?, ?, ?, ?, ?, ?, 1, ?, ?)
			ON CONFLICT (case_id) DO UPDATE SET needs = excluded.needs, aspirations = excluded.aspirations, start_on = excluded.start_on,
			months = excluded.months, currency = excluded.currency, version = return_plans.version + 1, updated_at = excluded.updated_at, updated_by = excluded.updated_by`,
			h.ID, in.Needs, in.Aspirations, in.StartOn, in.Months, cur, ts, p.Email); err != nil {
			return "", err
		}
		if _, err := tx.Exec(ctx, `DELETE FROM return_support_items WHERE case_id = ?`, h.ID); err != nil {
			return "", err
		}
		for i, it := range in.Support {
			if _, err := tx.Exec(ctx, `INSERT INTO return_support_items (case_id, seq, type, description, amount_minor) VALUES (?, ?, ?, ?, ?)`,
				h.ID, i+1, it.Type, it.Description, amounts[i]); err != nil {
				return "", err
			}
		}
		return fmt.Sprintf("plan saved: %d support items, total %s %s, %d months", len(in.Support), cur, formatMinor(total), in.Months), nil
	})
}

// DeliveryInput records support delivered.
type DeliveryInput struct {
	Item        int         `json:"item" required:"true" doc:"the support item's number"`
	DeliveredOn string      `json:"delivered_on" required:"true" doc:"YYYY-MM-DD, not in the future"`
	Amount      json.Number `json:"amount" required:"true"`
	Note        string      `json:"note,omitempty"`
}

// RecordDelivery records that support was delivered.
func (s *Service) RecordDelivery(ctx context.Context, p *auth.Principal, id int64, in DeliveryInput) (int, error) {
	c := &check.Fields{}
	c.Date("delivered_on", &in.DeliveredOn, true, today(s.now()))
	amount, ok := parseMinor(string(in.Amount))
	if !ok {
		c.Bad("amount", "must be an amount such as 500 or 499.50")
	}
	c.Text("note", &in.Note, false, maxShort)
	if in.Item <= 0 {
		c.Bad("item", "must be the number of a support item of the plan")
	}
	if err := c.Err(); err != nil {
		return 0, err
	}
	var seq int
	err := s.act(ctx, p, id, actDelivery, func(tx *store.Tx, h *head, now time.Time) (string, error) {
		if !h.Departed || !h.Stage.Open() {
			return "", fault.Conflict("Support is delivered after departure, while the case is open.")
		}
		var planned, delivered int64
		err := tx.QueryRow(ctx, `SELECT amount_minor, (SELECT COALESCE(SUM(amount_minor), 0) FROM return_deliveries WHERE case_id = ? AND item_seq = ?)
			FROM return_support_items WHERE case_id = ? AND seq = ?`, h.ID, in.Item, h.ID, in.Item).Scan(&planned, &delivered)
		if errors.Is(err, sql.ErrNoRows) {
			return "", fault.Invalid(fault.FieldError{Field: "item", Message: "is not a support item of the plan"})
		}
		if err != nil {
			return "", err
		}
		if delivered+amount > planned {
			return "", fault.Invalid(fault.FieldError{Field: "amount", Message: fmt.Sprintf("is more than what is left of the item (%s of %s)", formatMinor(planned-delivered), formatMinor(planned))})
		}
		if seq, err = nextSeq(ctx, tx, "return_deliveries", h.ID); err != nil {
			return "", err
		}
		_, err = tx.Exec(ctx, `INSERT INTO return_deliveries (case_id, seq, item_seq, delivered_on, amount_minor, note, recorded_by, recorded_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?)`,
			h.ID, seq, in.Item, in.DeliveredOn, amount, in.Note, p.Email, store.FormatTime(now))
		return fmt.Sprintf("delivery %d of item %d: %s", seq, in.Item, formatMinor(amount)), err
	})
	return seq, err
}

// Indicator is one question of a sustainability indicator set.
type Indicator struct {
	Key       string `json:"key"`
	Dimension string `json:"dimension"`
	Label     string `json:"label"`
}

// IndicatorSet is a configurable set of indicators.
type IndicatorSet struct {
	Code       string      `json:"code"`
	Name       string      `json:"name"`
	Default    bool        `json:"default"`
	Indicators []Indicator `json:"indicators"`
}

// Indicators reads the indicator set code ("" for the default set).
func (s *Service) Indicators(ctx context.Context, code string) (*IndicatorSet, error) {
	return indicatorSet(ctx, s.DB, code)
}

func indicatorSet(ctx context.Context, q store.Querier, code string) (*IndicatorSet, error) {
	set := &IndicatorSet{}
	var err error
	if code == "" {
		err = q.QueryRow(ctx, `SELECT code, name, is_default FROM return_indicator_sets WHERE is_default = ? ORDER BY code LIMIT 1`, true).Scan(&set.Code, &set.Name, &set.Default)
	} else {
		err = q.QueryRow(ctx, `SELECT code, name, is_default FROM return_indicator_sets WHERE code = ?`, code).Scan(&set.Code, &set.Name, &set.Default)
	}
	if errors.Is(err, sql.ErrNoRows) {
		return nil, fault.Invalid(fault.FieldError{Field: "indicator_set", Message: fmt.Sprintf("no indicator set %q", truncate(code, 40))})
	}
	if err != nil {
		return nil, err
	}
	err = each(ctx, q, `SELECT key, dimension, label FROM return_indicators WHERE set_code = ? ORDER BY seq`, []any{set.Code}, func(sc scanner) error {
		var in Indicator
		if err := sc.Scan(&in.Key, &in.Dimension, &in.Label); err != nil {
			return err
		}
		set.Indicators = append(set.Indicators, in)
		return nil
	})
	return set, err
}

// Score computes the sustainability scores of a visit: each dimension's
// indicators (scored 1 to 5) averaged and normalised to 0–1, and the
// overall score the mean of the dimensions that have indicators.
func Score(set *IndicatorSet, scores map[string]int) (economic, social, psychosocial, overall float64) {
	sum := map[string]float64{}
	n := map[string]float64{}
	for _, in := range set.Indicators {
		if v, ok := scores[in.Key]; ok {
			sum[in.Dimension] += float64(v)
			n[in.Dimension]++
		}
	}
	dim := func(d string) float64 {
		if n[d] == 0 {
			return 0
		}
		return round3((sum[d]/n[d] - 1) / 4)
	}
	economic, social, psychosocial = dim("economic"), dim("social"), dim("psychosocial")
	var total, k float64
	for _, d := range Dimensions {
		if n[d] > 0 {
			total += dim(d)
			k++
		}
	}
	if k > 0 {
		overall = round3(total / k)
	}
	return
}

func round3(f float64) float64 { return math.Round(f*1000) / 1000 }

// VisitInput is a monitoring visit.
type VisitInput struct {
	VisitedOn    string         `json:"visited_on" required:"true" doc:"YYYY-MM-DD, not in the future"`
	IndicatorSet string         `json:"indicator_set,omitempty" doc:"default: the default set (rss15)"`
	Scores       map[string]int `json:"scores" required:"true" doc:"every indicator of the set scored 1 (worst) to 5 (best)"`
	Notes        string         `json:"notes,omitempty"`
}

// RecordVisit records a monitoring visit with its sustainability score.
func (s *Service) RecordVisit(ctx context.Context, p *auth.Principal, id int64, in VisitInput) (*Visit, error) {
	c := &check.Fields{}
	c.Date("visited_on", &in.VisitedOn, true, today(s.now()))
	c.Text("notes", &in.Notes, false, maxText)
	if len(in.Scores) > 100 {
		c.Bad("scores", "has too many entries")
		return nil, c.Err()
	}
	// The scores are checked against the set whatever else is wrong, so
	// that one answer lists a bad date and every missing score together.
	set, err := indicatorSet(ctx, s.DB, strings.TrimSpace(in.IndicatorSet))
	if e := fault.As(err); e != nil && e.Kind == fault.KindInvalid {
		c.Add(e.Fields...)
		return nil, c.Err()
	}
	if err != nil {
		return nil, err
	}
	known := map[string]bool{}
	for _, ind := range set.Indicators {
		known[ind.Key] = true
		v, ok := in.Scores[ind.Key]
		if !ok {
			c.Bad("scores."+ind.Key, "is required: score %q from 1 to 5", ind.Label)
		} else if v < 1 || v > 5 {
			c.Bad("scores."+ind.Key, "must be from 1 to 5")
		}
	}
	var extra []string
	for k := range in.Scores {
		if !known[k] {
			extra = append(extra, k)
		}
	}
	sort.Strings(extra)
	for _, k := range extra {
		c.Bad("scores."+truncate(k, 40), "is not an indicator of the set %s", set.Code)
	}
	if err := c.Err(); err != nil {
		return nil, err
	}
	v := &Visit{VisitedOn: in.VisitedOn, IndicatorSet: set.Code, Scores: in.Scores, Notes: in.Notes, RecordedBy: p.Email}
	v.Economic, v.Social, v.Psychosocial, v.Overall = Score(set, in.Scores)
	scores, _ := json.Marshal(in.Scores)
	err = s.act(ctx, p, id, actVisit, func(tx *store.Tx, h *head, now time.Time) (string, error) {
		if h.Stage != Reintegration && h.Stage != Monitoring {
			return "", fault.Conflict(fmt.Sprintf("Monitoring visits are recorded in the reintegration and monitoring stages; the case is in %s.", h.Stage))
		}
		var err error
		if v.Seq, err = nextSeq(ctx, tx, "return_visits", h.ID); err != nil {
			return "", err
		}
		_, err = tx.Exec(ctx, `INSERT INTO return_visits (case_id, seq, visited_on, set_code, scores, economic, social, psychosocial, overall, notes, recorded_by, recorded_at)
			VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`, h.ID, v.Seq, v.VisitedOn, v.IndicatorSet, string(scores), v.Economic, v.Social, v.Psychosocial, v.Overall,
			v.Notes, p.Email, store.FormatTime(now))
		return fmt.Sprintf("visit %d: overall %.3f", v.Seq, v.Overall), err
	})
	if err != nil {
		return nil, err
	}
	return v, nil
}

// ReferralInput refers a returnee to a service in the country of return.
type ReferralInput struct {
	Service string `json:"service" required:"true" doc:"the service's name"`
	Kind    string `json:"kind" required:"true" doc:"health, mental_health, education, employment, housing, legal, social_protection, family_tracing, other"`
	Country string `json:"country,omitempty" doc:"ISO 3166-1 alpha-2; default the country of return"`
	Note    string `json:"note,omitempty"`
}

// SendReferral records a referral as sent. It needs the migrant's written
// consent to share with services.
func (s *Service) SendReferral(ctx context.Context, p *auth.Principal, id int64, in ReferralInput) (int, error) {
	c := &check.Fields{}
	c.Text("service", &in.Service, true, maxShort)
	c.Code("kind", &in.Kind, ReferralKinds, true)
	in.Country = strings.ToUpper(strings.TrimSpace(in.Country))
	if in.Country != "" && !geo.Valid(in.Country) {
		c.Bad("country", "%q is not an ISO 3166-1 alpha-2 country code", truncate(in.Country, 10))
	}
	c.Text("note", &in.Note, false, maxShort)
	if err := c.Err(); err != nil {
		return 0, err
	}
	var seq int
	err := s.act(ctx, p, id, actReferral, func(tx *store.Tx, h *head, now time.Time) (string, error) {
		if !h.Departed || !h.Stage.Open() {
			return "", fault.Conflict("Referrals to services in the country of return are sent after departure, while the case is open.")
		}
		ok, err := hasConsent(ctx, tx, h.ID, "referrals")
		if err != nil {
			return "", err
		}
		if !ok {
			return "", fault.Conflict("The migrant has not given written consent to share their data with services (scope referrals); record it first.")
		}
		if in.Country == "" {
			in.Country = h.Country
		}
		if seq, err = nextSeq(ctx, tx, "return_referrals", h.ID); err != nil {
			return "", err
		}
		td := today(now)
		_, err = tx.Exec(ctx, `INSERT INTO return_referrals (case_id, seq, service, kind, country, status, sent_on, updated_on, note, recorded_by)
			VALUES (?, ?, ?, ?, ?, 'sent', ?, ?, ?, ?)`, h.ID, seq, in.Service, in.Kind, in.Country, td, td, in.Note, p.Email)
		return fmt.Sprintf("referral %d sent (%s)", seq, in.Kind), err
	})
	return seq, err
}

// ReferralStatusInput updates a referral.
type ReferralStatusInput struct {
	Status string `json:"status" required:"true" doc:"accepted or rejected (after sent), done (after accepted)"`
	Note   string `json:"note,omitempty"`
}

// referralNext lists the statuses a referral may move to.
var referralNext = map[string][]string{"sent": {"accepted", "rejected"}, "accepted": {"done"}}

// UpdateReferral moves a referral on.
func (s *Service) UpdateReferral(ctx context.Context, p *auth.Principal, id int64, seq int, in ReferralStatusInput) error {
	c := &check.Fields{}
	c.Code("status", &in.Status, ReferralStatuses[1:], true)
	c.Text("note", &in.Note, false, maxShort)
	if err := c.Err(); err != nil {
		return err
	}
	return s.act(ctx, p, id, actReferralStatus, func(tx *store.Tx, h *head, now time.Time) (string, error) {
		var status string
		err := tx.QueryRow(ctx, `SELECT status FROM return_referrals WHERE case_id = ? AND seq = ?`, h.ID, seq).Scan(&status)
		if errors.Is(err, sql.ErrNoRows) {
			return "", fault.NotFound("Referral")
		}
		if err != nil {
			return "", err
		}
		if !oneOf(in.Status, referralNext[status]) {
			return "", fault.Conflict(fmt.Sprintf("A referral that is %s cannot become %s.", status, in.Status))
		}
		note := in.Note
		if note == "" {
			if err := tx.QueryRow(ctx, `SELECT note FROM return_referrals WHERE case_id = ? AND seq = ?`, h.ID, seq).Scan(&note); err != nil {
				return "", err
			}
		}
		_, err = tx.Exec(ctx, `UPDATE return_referrals SET status = ?, updated_on = ?, note = ? WHERE case_id = ? AND seq = ?`, in.Status, today(now), note, h.ID, seq)
		return fmt.Sprintf("referral %d %s", seq, in.Status), err
	})
}

// PartnerCoverage is a reintegration partner and the countries it covers.
type PartnerCoverage struct {
	Slug      string   `json:"slug"`
	Name      string   `json:"name"`
	Countries []string `json:"countries"`
}

// Partners lists every reintegration partner with its countries.
func (s *Service) Partners(ctx context.Context) ([]PartnerCoverage, error) {
	return partners(ctx, s.DB)
}

func partners(ctx context.Context, q store.Querier) ([]PartnerCoverage, error) {
	var out []PartnerCoverage
	idx := map[string]int{}
	err := each(ctx, q, `SELECT o.slug, o.name, COALESCE(pc.country, '') FROM organisations o
		LEFT JOIN return_partner_countries pc ON pc.org_id = o.id
		WHERE o.kind = 'reintegration_partner' ORDER BY o.name, o.slug, pc.country`, nil, func(sc scanner) error {
		var slug, name, country string
		if err := sc.Scan(&slug, &name, &country); err != nil {
			return err
		}
		i, ok := idx[slug]
		if !ok {
			i = len(out)
			idx[slug] = i
			out = append(out, PartnerCoverage{Slug: slug, Name: name, Countries: []string{}})
		}
		if country != "" {
			out[i].Countries = append(out[i].Countries, country)
		}
		return nil
	})
	return out, err
}

// CountriesInput declares the countries a partner covers.
type CountriesInput struct {
	Countries []string `json:"countries" required:"true" doc:"ISO 3166-1 alpha-2 codes"`
}

// DeclareCountries replaces the countries partner slug covers. A partner
// declares its own; an administrator any.
func (s *Service) DeclareCountries(ctx context.Context, p *auth.Principal, slug string, in CountriesInput) (*PartnerCoverage, error) {
	if p == nil {
		return nil, fault.ErrUnauthenticated
	}
	rel := auth.RelNone
	if slug == p.OrgSlug {
		rel = auth.RelOwner
	}
	if p.Role != auth.RoleAdmin {
		if err := auth.Check(p, ruleDeclare, rel); err != nil {
			return nil, err
		}
	}
	c := &check.Fields{}
	seen := map[string]bool{}
	var codes []string
	if len(in.Countries) > 250 {
		c.Bad("countries", "lists too many countries")
	}
	for i, code := range in.Countries {
		code = strings.ToUpper(strings.TrimSpace(code))
		if !geo.Valid(code) {
			c.Bad(fmt.Sprintf("countries[%d]", i), "%q is not an ISO 3166-1 alpha-2 country code", truncate(code, 10))
			continue
		}
		if !seen[code] {
			seen[code] = true
			codes = append(codes, code)
		}
	}
	if err := c.Err(); err != nil {
		return nil, err
	}
	sort.Strings(codes)
	out := &PartnerCoverage{Slug: slug, Countries: append([]string{}, codes...)}
	err := s.DB.Transact(ctx, func(tx *store.Tx) error {
		var id int64
		var kind string
		err := tx.QueryRow(ctx, `SELECT id, name, kind FROM organisations WHERE slug = ?`, slug).Scan(&id, &out.Name, &kind)
		if errors.Is(err, sql.ErrNoRows) || (err == nil && kind != "reintegration_partner") {
			return fault.NotFound("Reintegration partner")
		}
		if err != nil {
			return err
		}
		if _, err := tx.Exec(ctx, `DELETE FROM return_partner_countries WHERE org_id = ?`, id); err != nil {
			return err
		}
		for _, code := range codes {
			if _, err := tx.Exec(ctx, `INSERT INTO return_partner_countries (org_id, country) VALUES (?, ?)`, id, code); err != nil {
				return err
			}
		}
		return audit.Append(ctx, tx, p.Event(audit.ActionUpdate, "reintegration_partner", slug, "reintegration partner coverage", "countries="+strings.Join(codes, ",")))
	})
	if err != nil {
		return nil, err
	}
	return out, nil
}
