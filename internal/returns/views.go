package returns

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"kompas/internal/platform/store"
)

// OrgRef names an organisation.
type OrgRef struct {
	Slug string `json:"slug"`
	Name string `json:"name"`
}

// Migrant is one person of a case, with every field: for the return
// service, IOM and the chosen NGO.
type Migrant struct {
	Seq             int      `json:"seq"`
	Relationship    string   `json:"relationship"`
	GivenName       string   `json:"given_name"`
	FamilyName      string   `json:"family_name"`
	BirthDate       string   `json:"birth_date"`
	Sex             string   `json:"sex"`
	Nationality     string   `json:"nationality"`
	DocumentsHeld   []string `json:"documents_held"`
	Vulnerabilities []string `json:"vulnerabilities" doc:"special-category data"`
}

// PartnerMigrant is a person as the reintegration partner sees them:
// identity only, no documents held, no vulnerabilities.
type PartnerMigrant struct {
	Seq          int    `json:"seq"`
	Relationship string `json:"relationship"`
	GivenName    string `json:"given_name"`
	FamilyName   string `json:"family_name"`
	BirthDate    string `json:"birth_date"`
	Sex          string `json:"sex"`
	Nationality  string `json:"nationality"`
}

// Transition is one step of a case's timeline.
type Transition struct {
	From   Stage     `json:"from"`
	To     Stage     `json:"to"`
	At     time.Time `json:"at"`
	Actor  string    `json:"actor"`
	Org    string    `json:"org"`
	Reason string    `json:"reason"`
	Days   int       `json:"days_in_previous_stage"`
}

// PartnerTransition is a timeline step without who made it or why.
type PartnerTransition struct {
	From Stage     `json:"from"`
	To   Stage     `json:"to"`
	At   time.Time `json:"at"`
}

// Choice is one record of the migrant's choice of counselling organisation.
type Choice struct {
	From       *OrgRef   `json:"from,omitempty"`
	To         OrgRef    `json:"to"`
	ChosenOn   string    `json:"chosen_on"`
	Reason     string    `json:"reason"`
	RecordedBy string    `json:"recorded_by"`
	RecordedAt time.Time `json:"recorded_at"`
}

// Consent is a recorded consent to share data outside the intake
// organisation.
type Consent struct {
	Written    bool      `json:"written"`
	GivenOn    string    `json:"given_on"`
	Scope      []string  `json:"scope"`
	RecordedBy string    `json:"recorded_by"`
	RecordedAt time.Time `json:"recorded_at"`
}

// TravelDocument is a request to an embassy or consulate and its outcome.
type TravelDocument struct {
	Seq              int    `json:"seq"`
	MigrantSeq       int    `json:"migrant_seq"`
	Kind             string `json:"kind"`
	Authority        string `json:"authority"`
	AuthorityCountry string `json:"authority_country"`
	Status           string `json:"status"`
	RequestedOn      string `json:"requested_on"`
	DecidedOn        string `json:"decided_on,omitempty"`
	ValidUntil       string `json:"valid_until,omitempty"`
	Reference        string `json:"reference,omitempty"`
	RecordedBy       string `json:"recorded_by"`
}

// Flight is a booked flight and its departure confirmation.
type Flight struct {
	Seq          int    `json:"seq"`
	Date         string `json:"date"`
	Route        string `json:"route"`
	Carrier      string `json:"carrier,omitempty"`
	Escort       bool   `json:"escort"`
	MedicalNeeds string `json:"medical_needs,omitempty"`
	Status       string `json:"status"`
	ConfirmedAt  string `json:"confirmed_at,omitempty"`
	ConfirmedBy  string `json:"confirmed_by,omitempty"`
}

// Arrival is the flight as the partner sees it: when and where to meet the
// returnee, without escort or medical details.
type Arrival struct {
	Date   string `json:"date"`
	Route  string `json:"route"`
	Status string `json:"status"`
}

// SupportItem is one line of a reintegration plan.
type SupportItem struct {
	Seq         int    `json:"seq"`
	Type        string `json:"type"`
	Description string `json:"description"`
	Amount      string `json:"amount"`
	Delivered   string `json:"delivered"`
}

// Plan is the reintegration plan.
type Plan struct {
	Needs       string        `json:"needs"`
	Aspirations string        `json:"aspirations"`
	StartOn     string        `json:"start_on,omitempty"`
	Months      int           `json:"months"`
	Currency    string        `json:"currency"`
	BudgetCap   string        `json:"budget_cap"`
	Total       string        `json:"total"`
	Support     []SupportItem `json:"support"`
	Version     int           `json:"version"`
	UpdatedAt   time.Time     `json:"updated_at"`
	UpdatedBy   string        `json:"updated_by"`
}

// Delivery records support given.
type Delivery struct {
	Seq         int    `json:"seq"`
	Item        int    `json:"item"`
	DeliveredOn string `json:"delivered_on"`
	Amount      string `json:"amount"`
	Note        string `json:"note"`
	RecordedBy  string `json:"recorded_by"`
}

// Visit is a monitoring visit with its sustainability scores (0 to 1).
type Visit struct {
	Seq          int            `json:"seq"`
	VisitedOn    string         `json:"visited_on"`
	IndicatorSet string         `json:"indicator_set"`
	Scores       map[string]int `json:"scores"`
	Economic     float64        `json:"economic"`
	Social       float64        `json:"social"`
	Psychosocial float64        `json:"psychosocial"`
	Overall      float64        `json:"overall"`
	Notes        string         `json:"notes"`
	RecordedBy   string         `json:"recorded_by"`
}

// Referral is a referral to a service in the country of return.
type Referral struct {
	Seq        int    `json:"seq"`
	Service    string `json:"service"`
	Kind       string `json:"kind"`
	Country    string `json:"country"`
	Status     string `json:"status"`
	SentOn     string `json:"sent_on"`
	UpdatedOn  string `json:"updated_on"`
	Note       string `json:"note"`
	RecordedBy string `json:"recorded_by"`
}

// CaseView is the whole case: what the return service, IOM and the NGO the
// migrant chose see.
type CaseView struct {
	ID                 int64            `json:"id"`
	Reference          string           `json:"reference"`
	View               string           `json:"view" doc:"full or partner: which projection this is"`
	Stage              Stage            `json:"stage"`
	StageSince         time.Time        `json:"stage_since"`
	DaysInStage        int              `json:"days_in_stage"`
	Overdue            bool             `json:"overdue"`
	CountryOfReturn    string           `json:"country_of_return"`
	Programme          string           `json:"programme"`
	ProgrammeName      string           `json:"programme_name"`
	CounsellingOrg     OrgRef           `json:"counselling_org"`
	Partner            *OrgRef          `json:"partner,omitempty"`
	IntakeOrg          OrgRef           `json:"intake_org"`
	ImmigrationHistory string           `json:"immigration_history"`
	Migrants           []Migrant        `json:"migrants"`
	Departed           bool             `json:"departed"`
	DepartedAt         string           `json:"departed_at,omitempty"`
	Version            int              `json:"version"`
	CreatedAt          time.Time        `json:"created_at"`
	CreatedBy          string           `json:"created_by"`
	Choices            []Choice         `json:"choices"`
	Consents           []Consent        `json:"consents"`
	TravelDocuments    []TravelDocument `json:"travel_documents"`
	Flights            []Flight         `json:"flights"`
	Plan               *Plan            `json:"plan"`
	Deliveries         []Delivery       `json:"deliveries"`
	Visits             []Visit          `json:"visits"`
	Referrals          []Referral       `json:"referrals"`
	Timeline           []Transition     `json:"timeline"`
	NextStages         []Stage          `json:"next_stages" doc:"the stages the caller may move the case to"`
}

// PartnerCaseView is a case as its reintegration partner sees it: no
// documents held, no vulnerabilities (the plan's needs say what the work
// needs), no immigration history, no consents or choices, no travel
// documents, no escort or medical details of the flight, no reasons in the
// timeline. Its loader never selects those columns.
type PartnerCaseView struct {
	ID              int64               `json:"id"`
	Reference       string              `json:"reference"`
	View            string              `json:"view"`
	Stage           Stage               `json:"stage"`
	StageSince      time.Time           `json:"stage_since"`
	DaysInStage     int                 `json:"days_in_stage"`
	Overdue         bool                `json:"overdue"`
	CountryOfReturn string              `json:"country_of_return"`
	Programme       string              `json:"programme"`
	ProgrammeName   string              `json:"programme_name"`
	CounsellingOrg  OrgRef              `json:"counselling_org"`
	Migrants        []PartnerMigrant    `json:"migrants"`
	Arrival         *Arrival            `json:"arrival"`
	Plan            *Plan               `json:"plan"`
	Deliveries      []Delivery          `json:"deliveries"`
	Visits          []Visit             `json:"visits"`
	Referrals       []Referral          `json:"referrals"`
	Timeline        []PartnerTransition `json:"timeline"`
	NextStages      []Stage             `json:"next_stages"`
}

func daysBetween(from, to time.Time) int {
	if to.Before(from) {
		return 0
	}
	return int(to.Sub(from).Hours() / 24)
}

func isOverdue(stage Stage, since, now time.Time) bool {
	d, ok := overdueDays[stage]
	return ok && daysBetween(since, now) > d
}

// caseCommon is the non-special part of the case row both views share.
type caseCommon struct {
	programmeName, counsellingSlug, counsellingName string
	partnerSlug, partnerName                        sql.NullString
	intakeSlug, intakeName                          string
	capMinor                                        int64
	currency                                        string
}

func loadCommon(ctx context.Context, q store.Querier, id int64) (caseCommon, error) {
	var c caseCommon
	err := q.QueryRow(ctx, `SELECT p.name, co.slug, co.name, po.slug, po.name, io.slug, io.name, p.budget_cap_minor, p.currency
		FROM return_cases c JOIN return_programmes p ON p.code = c.programme
		JOIN organisations co ON co.id = c.counselling_org_id
		JOIN organisations io ON io.id = c.intake_org_id
		LEFT JOIN organisations po ON po.id = c.partner_org_id
		WHERE c.id = ?`, id).Scan(&c.programmeName, &c.counsellingSlug, &c.counsellingName, &c.partnerSlug, &c.partnerName,
		&c.intakeSlug, &c.intakeName, &c.capMinor, &c.currency)
	if err != nil {
		return c, fmt.Errorf("returns: case %d: %w", id, err)
	}
	return c, nil
}

// loadFull reads every field of a case.
func loadFull(ctx context.Context, q store.Querier, h *head, now time.Time) (*CaseView, error) {
	cm, err := loadCommon(ctx, q, h.ID)
	if err != nil {
		return nil, err
	}
	v := &CaseView{ID: h.ID, Reference: h.Reference, View: ViewFull.String(), Stage: h.Stage, StageSince: h.StageSince,
		DaysInStage: daysBetween(h.StageSince, now), Overdue: isOverdue(h.Stage, h.StageSince, now),
		CountryOfReturn: h.Country, Programme: h.Programme, ProgrammeName: cm.programmeName,
		CounsellingOrg: OrgRef{cm.counsellingSlug, cm.counsellingName}, IntakeOrg: OrgRef{cm.intakeSlug, cm.intakeName},
		Departed: h.Departed, Version: h.Version}
	if cm.partnerSlug.Valid {
		v.Partner = &OrgRef{cm.partnerSlug.String, cm.partnerName.String}
	}
	var departedAt sql.NullString
	var created string
	if err := q.QueryRow(ctx, `SELECT immigration_history, departed_at, created_at, created_by FROM return_cases WHERE id = ?`, h.ID).
		Scan(&v.ImmigrationHistory, &departedAt, &created, &v.CreatedBy); err != nil {
		return nil, fmt.Errorf("returns: case %d: %w", h.ID, err)
	}
	v.DepartedAt = departedAt.String
	v.CreatedAt, _ = store.ParseTime(created)

	v.Migrants = []Migrant{}
	err = each(ctx, q, `SELECT seq, relationship, given_name, family_name, birth_date, sex, nationality, documents_held, vulnerabilities
		FROM return_migrants WHERE case_id = ? ORDER BY seq`, []any{h.ID}, func(sc scanner) error {
		var m Migrant
		var docs, vulns string
		if err := sc.Scan(&m.Seq, &m.Relationship, &m.GivenName, &m.FamilyName, &m.BirthDate, &m.Sex, &m.Nationality, &docs, &vulns); err != nil {
			return err
		}
		m.DocumentsHeld, m.Vulnerabilities = splitCodes(docs), splitCodes(vulns)
		v.Migrants = append(v.Migrants, m)
		return nil
	})
	if err != nil {
		return nil, err
	}
	v.Choices = []Choice{}
	err = each(ctx, q, `SELECT fo.slug, fo.name, t.slug, t.name, ch.chosen_on, ch.reason, ch.recorded_by, ch.recorded_at
		FROM return_choices ch JOIN organisations t ON t.id = ch.to_org_id LEFT JOIN organisations fo ON fo.id = ch.from_org_id
		WHERE ch.case_id = ? ORDER BY ch.id`, []any{h.ID}, func(sc scanner) error {
		var c Choice
		var fs, fn sql.NullString
		var at string
		if err := sc.Scan(&fs, &fn, &c.To.Slug, &c.To.Name, &c.ChosenOn, &c.Reason, &c.RecordedBy, &at); err != nil {
			return err
		}
		if fs.Valid {
			c.From = &OrgRef{fs.String, fn.String}
		}
		c.RecordedAt, _ = store.ParseTime(at)
		v.Choices = append(v.Choices, c)
		return nil
	})
	if err != nil {
		return nil, err
	}
	v.Consents = []Consent{}
	err = each(ctx, q, `SELECT written, given_on, scope, recorded_by, recorded_at FROM return_consents WHERE case_id = ? ORDER BY id`, []any{h.ID}, func(sc scanner) error {
		var c Consent
		var sc2, at string
		if err := sc.Scan(&c.Written, &c.GivenOn, &sc2, &c.RecordedBy, &at); err != nil {
			return err
		}
		c.Scope = splitCodes(sc2)
		c.RecordedAt, _ = store.ParseTime(at)
		v.Consents = append(v.Consents, c)
		return nil
	})
	if err != nil {
		return nil, err
	}
	v.TravelDocuments = []TravelDocument{}
	err = each(ctx, q, `SELECT seq, migrant_seq, kind, authority, authority_country, status, requested_on, decided_on, valid_until, reference, recorded_by
		FROM return_travel_documents WHERE case_id = ? ORDER BY seq`, []any{h.ID}, func(sc scanner) error {
		var d TravelDocument
		if err := sc.Scan(&d.Seq, &d.MigrantSeq, &d.Kind, &d.Authority, &d.AuthorityCountry, &d.Status, &d.RequestedOn, &d.DecidedOn, &d.ValidUntil, &d.Reference, &d.RecordedBy); err != nil {
			return err
		}
		v.TravelDocuments = append(v.TravelDocuments, d)
		return nil
	})
	if err != nil {
		return nil, err
	}
	v.Flights = []Flight{}
	err = each(ctx, q, `SELECT seq, flight_date, route, carrier, escort, medical_needs, status, confirmed_at, confirmed_by
		FROM return_flights WHERE case_id = ? ORDER BY seq`, []any{h.ID}, func(sc scanner) error {
		var f Flight
		if err := sc.Scan(&f.Seq, &f.Date, &f.Route, &f.Carrier, &f.Escort, &f.MedicalNeeds, &f.Status, &f.ConfirmedAt, &f.ConfirmedBy); err != nil {
			return err
		}
		v.Flights = append(v.Flights, f)
		return nil
	})
	if err != nil {
		return nil, err
	}
	if v.Plan, v.Deliveries, v.Visits, v.Referrals, err = loadWork(ctx, q, h.ID, cm); err != nil {
		return nil, err
	}
	v.Timeline = []Transition{}
	err = each(ctx, q, `SELECT t.from_stage, t.to_stage, t.at, t.actor, COALESCE(o.slug, ''), t.reason, t.days
		FROM return_transitions t LEFT JOIN organisations o ON o.id = t.org_id WHERE t.case_id = ? ORDER BY t.id`, []any{h.ID}, func(sc scanner) error {
		var t Transition
		var at string
		if err := sc.Scan(&t.From, &t.To, &at, &t.Actor, &t.Org, &t.Reason, &t.Days); err != nil {
			return err
		}
		t.At, _ = store.ParseTime(at)
		v.Timeline = append(v.Timeline, t)
		return nil
	})
	if err != nil {
		return nil, err
	}
	return v, nil
}

// loadPartner reads the partner's projection. Its queries name only the
// columns PartnerCaseView has.
func loadPartner(ctx context.Context, q store.Querier, h *head, now time.Time) (*PartnerCaseView, error) {
	cm, err := loadCommon(ctx, q, h.ID)
	if err != nil {
		return nil, err
	}
	v := &PartnerCaseView{ID: h.ID, Reference: h.Reference, View: ViewPartner.String(), Stage: h.Stage, StageSince: h.StageSince,
		DaysInStage: daysBetween(h.StageSince, now), Overdue: isOverdue(h.Stage, h.StageSince, now),
		CountryOfReturn: h.Country, Programme: h.Programme, ProgrammeName: cm.programmeName,
		CounsellingOrg: OrgRef{cm.counsellingSlug, cm.counsellingName}}
	v.Migrants = []PartnerMigrant{}
	err = each(ctx, q, `SELECT seq, relationship, given_name, family_name, birth_date, sex, nationality
		FROM return_migrants WHERE case_id = ? ORDER BY seq`, []any{h.ID}, func(sc scanner) error {
		var m PartnerMigrant
		if err := sc.Scan(&m.Seq, &m.Relationship, &m.GivenName, &m.FamilyName, &m.BirthDate, &m.Sex, &m.Nationality); err != nil {
			return err
		}
		v.Migrants = append(v.Migrants, m)
		return nil
	})
	if err != nil {
		return nil, err
	}
	var a Arrival
	err = q.QueryRow(ctx, `SELECT flight_date, route, status FROM return_flights WHERE case_id = ? AND status <> 'cancelled' ORDER BY seq DESC LIMIT 1`, h.ID).
		Scan(&a.Date, &a.Route, &a.Status)
	switch {
	case err == nil:
		v.Arrival = &a
	case !errors.Is(err, sql.ErrNoRows):
		return nil, fmt.Errorf("returns: arrival of case %d: %w", h.ID, err)
	}
	if v.Plan, v.Deliveries, v.Visits, v.Referrals, err = loadWork(ctx, q, h.ID, cm); err != nil {
		return nil, err
	}
	v.Timeline = []PartnerTransition{}
	err = each(ctx, q, `SELECT from_stage, to_stage, at FROM return_transitions WHERE case_id = ? ORDER BY id`, []any{h.ID}, func(sc scanner) error {
		var t PartnerTransition
		var at string
		if err := sc.Scan(&t.From, &t.To, &at); err != nil {
			return err
		}
		t.At, _ = store.ParseTime(at)
		v.Timeline = append(v.Timeline, t)
		return nil
	})
	if err != nil {
		return nil, err
	}
	return v, nil
}

// loadWork reads the reintegration records both views share.
func loadWork(ctx context.Context, q store.Querier, id int64, cm caseCommon) (*Plan, []Delivery, []Visit, []Referral, error) {
	var plan *Plan
	var p Plan
	var updated string
	err := q.QueryRow(ctx, `SELECT needs, aspirations, start_on, months, currency, version, updated_at, updated_by FROM return_plans WHERE case_id = ?`, id).
		Scan(&p.Needs, &p.Aspirations, &p.StartOn, &p.Months, &p.Currency, &p.Version, &updated, &p.UpdatedBy)
	switch {
	case err == nil:
		p.UpdatedAt, _ = store.ParseTime(updated)
		p.BudgetCap = formatMinor(cm.capMinor)
		plan = &p
	case !errors.Is(err, sql.ErrNoRows):
		return nil, nil, nil, nil, fmt.Errorf("returns: plan of case %d: %w", id, err)
	}
	deliveries := []Delivery{}
	delivered := map[int]int64{}
	err = each(ctx, q, `SELECT seq, item_seq, delivered_on, amount_minor, note, recorded_by FROM return_deliveries WHERE case_id = ? ORDER BY seq`, []any{id}, func(sc scanner) error {
		var d Delivery
		var amount int64
		if err := sc.Scan(&d.Seq, &d.Item, &d.DeliveredOn, &amount, &d.Note, &d.RecordedBy); err != nil {
			return err
		}
		d.Amount = formatMinor(amount)
		delivered[d.Item] += amount
		deliveries = append(deliveries, d)
		return nil
	})
	if err != nil {
		return nil, nil, nil, nil, err
	}
	if plan != nil {
		plan.Support = []SupportItem{}
		var total int64
		err = each(ctx, q, `SELECT seq, type, description, amount_minor FROM return_support_items WHERE case_id = ? ORDER BY seq`, []any{id}, func(sc scanner) error {
			var it SupportItem
			var amount int64
			if err := sc.Scan(&it.Seq, &it.Type, &it.Description, &amount); err != nil {
				return err
			}
			total += amount
			it.Amount = formatMinor(amount)
			it.Delivered = formatMinor(delivered[it.Seq])
			plan.Support = append(plan.Support, it)
			return nil
		})
		if err != nil {
			return nil, nil, nil, nil, err
		}
		plan.Total = formatMinor(total)
	}
	visits := []Visit{}
	err = each(ctx, q, `SELECT seq, visited_on, set_code, scores, economic, social, psychosocial, overall, notes, recorded_by
		FROM return_visits WHERE case_id = ? ORDER BY seq`, []any{id}, func(sc scanner) error {
		var vi Visit
		var scores string
		if err := sc.Scan(&vi.Seq, &vi.VisitedOn, &vi.IndicatorSet, &scores, &vi.Economic, &vi.Social, &vi.Psychosocial, &vi.Overall, &vi.Notes, &vi.RecordedBy); err != nil {
			return err
		}
		if err := json.Unmarshal([]byte(scores), &vi.Scores); err != nil {
			return fmt.Errorf("returns: scores of a visit: %w", err)
		}
		visits = append(visits, vi)
		return nil
	})
	if err != nil {
		return nil, nil, nil, nil, err
	}
	referrals := []Referral{}
	err = each(ctx, q, `SELECT seq, service, kind, country, status, sent_on, updated_on, note, recorded_by FROM return_referrals WHERE case_id = ? ORDER BY seq`, []any{id}, func(sc scanner) error {
		var r Referral
		if err := sc.Scan(&r.Seq, &r.Service, &r.Kind, &r.Country, &r.Status, &r.SentOn, &r.UpdatedOn, &r.Note, &r.RecordedBy); err != nil {
			return err
		}
		referrals = append(referrals, r)
		return nil
	})
	if err != nil {
		return nil, nil, nil, nil, err
	}
	return plan, deliveries, visits, referrals, nil
}

type scanner interface{ Scan(...any) error }

// each runs query and calls fn for every row.
func each(ctx context.Context, q store.Querier, query string, args []any, fn func(scanner) error) error {
	rows, err := q.Query(ctx, query, args...)
	if err != nil {
		return fmt.Errorf("returns: %w", err)
	}
	defer rows.Close()
	for rows.Next() {
		if err := fn(rows); err != nil {
			return fmt.Errorf("returns: %w", err)
		}
	}
	return rows.Err()
}
