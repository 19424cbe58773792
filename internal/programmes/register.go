package programmes

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"

	"kompas/internal/gcm"
	"kompas/internal/platform/audit"
	"kompas/internal/platform/auth"
	"kompas/internal/platform/fault"
	"kompas/internal/platform/store"
)

// Register is the programme register's service: its rules and SQL. The
// organisations it names as partners are the kernel's organisations.
type Register struct {
	DB *store.DB
	// GCM is the frameworks catalogue, loaded once at start (gcm.Load):
	// pillars are checked against it, never read while a write holds its
	// transaction.
	GCM *gcm.Catalogue
	// RankedMatches overrides the RankedMatches default (tests lower it).
	RankedMatches int
}

// defaultFramework is the catalogue's default framework.
func (r *Register) defaultFramework() (gcm.Framework, error) {
	if r.GCM == nil {
		return gcm.Framework{}, errors.New("programmes: the register was given no GCM catalogue (gcm.Load)")
	}
	return r.GCM.Default(), nil
}

// pillarSet returns the default framework's pillar numbers.
func (r *Register) pillarSet() (map[int]bool, error) {
	fw, err := r.defaultFramework()
	if err != nil {
		return nil, err
	}
	set := map[int]bool{}
	for _, p := range fw.Pillars {
		set[p.Number] = true
	}
	return set, nil
}

// Check validates in without writing: the field errors, or nil.
func (r *Register) Check(ctx context.Context, in Input) (clean, error) {
	pillars, err := r.pillarSet()
	if err != nil {
		return clean{}, err
	}
	c, errs := validate(in, pillars)
	if len(errs) > 0 {
		return c, fault.Invalid(errs...)
	}
	return c, nil
}

// resolveOrgs looks up the lead and partner slugs inside tx; unknown ones
// are field errors.
func resolveOrgs(ctx context.Context, tx *store.Tx, c *clean) (lead *int64, partners []int64, err error) {
	var errs []fault.FieldError
	find := func(slug string) (int64, string, bool, error) {
		var id int64
		var name string
		err := tx.QueryRow(ctx, `SELECT id, name FROM organisations WHERE slug = ?`, slug).Scan(&id, &name)
		if errors.Is(err, sql.ErrNoRows) {
			return 0, "", false, nil
		}
		return id, name, err == nil, err
	}
	if c.in.Lead != "" {
		id, _, ok, err := find(c.in.Lead)
		if err != nil {
			return nil, nil, err
		}
		if !ok {
			errs = append(errs, fault.FieldError{Field: "lead", Message: fmt.Sprintf("no organisation %q is known", truncate(c.in.Lead, 64))})
		} else {
			lead = &id
		}
	}
	for i := range c.in.Partners {
		id, name, ok, err := find(c.in.Partners[i].Org)
		if err != nil {
			return nil, nil, err
		}
		if !ok {
			errs = append(errs, fault.FieldError{Field: fmt.Sprintf("partners[%d].org", i), Message: fmt.Sprintf("no organisation %q is known", truncate(c.in.Partners[i].Org, 64))})
			continue
		}
		c.in.Partners[i].Name = name
		partners = append(partners, id)
	}
	if len(errs) > 0 {
		return nil, nil, fault.Invalid(errs...)
	}
	return lead, partners, nil
}

// Create adds an initiative recorded by p's organisation.
func (r *Register) Create(ctx context.Context, p *auth.Principal, in Input) (*Initiative, error) {
	if err := auth.Check(p, ruleCreate, auth.RelNone); err != nil {
		return nil, err
	}
	var id int64
	err := r.DB.Transact(ctx, func(tx *store.Tx) error {
		var err error
		id, err = r.CreateTx(ctx, tx, p, in, createOpts{})
		return err
	})
	if err != nil {
		return nil, err
	}
	return r.Get(ctx, id)
}

type createOpts struct {
	demoKey, iatiID string
}

// CreateTx inserts inside tx (used by Create, the CSV import and the demo).
func (r *Register) CreateTx(ctx context.Context, tx *store.Tx, p *auth.Principal, in Input, opts createOpts) (int64, error) {
	c, err := r.Check(ctx, in)
	if err != nil {
		return 0, err
	}
	lead, partners, err := resolveOrgs(ctx, tx, &c)
	if err != nil {
		return 0, err
	}
	now := store.FormatTime(time.Now())
	// On PostgreSQL the search vector goes in with the row: setting it by a
	// later UPDATE would write the row and all its index entries twice.
	searchCol, searchVal, searchArgs := "", "", []any{}
	if tx.Dialect() == store.Postgres {
		searchCol, searchVal = ", search", ", "+pgSearchVector
		searchArgs = []any{foldDiacritics(c.in.Title), foldDiacritics(searchBody(&c))}
	}
	id, err := tx.InsertID(ctx, `INSERT INTO initiatives (demo_key, iati_identifier, title, summary, kind, status, lead_org_id, owner_org_id,
		start_text, end_text, start_date, end_date, budget_minor, currency, report_section, version, created_at, updated_at, created_by`+searchCol+`)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, 1, ?, ?, ?`+searchVal+`) RETURNING id`,
		append([]any{nullStr(opts.demoKey), nullStr(opts.iatiID), c.in.Title, c.in.Summary, c.in.Kind, c.in.Status, lead, p.OrgID,
			c.in.Start, c.in.End, c.startDate, c.endDate, c.budgetMinor, currencyOf(c.in.Budget), c.in.ReportSection, now, now, p.Email}, searchArgs...)...)
	if err != nil {
		return 0, fmt.Errorf("programmes: create: %w", err)
	}
	if err := writeChildren(ctx, tx, id, &c, partners, true); err != nil {
		return 0, err
	}
	if err := audit.Append(ctx, tx, p.Event(audit.ActionCreate, "initiative", strconv.FormatInt(id, 10), "programme register", c.in.Title)); err != nil {
		return 0, err
	}
	return id, nil
}

func nullStr(s string) any {
	if s == "" {
		return nil
	}
	return s
}

func currencyOf(m *Money) string {
	if m == nil {
		return ""
	}
	return m.Currency
}

// writeChildren replaces an initiative's lists and its search entry. fresh
// says the initiative was just inserted by CreateTx (with its search vector,
// on PostgreSQL): there is nothing to delete first.
func writeChildren(ctx context.Context, tx *store.Tx, id int64, c *clean, partnerIDs []int64, fresh bool) error {
	for _, t := range []string{"initiative_partners", "initiative_countries", "initiative_regions", "initiative_objectives",
		"initiative_principles", "initiative_pillars", "initiative_results", "initiative_sources"} {
		if fresh {
			break // a new initiative has no lists yet
		}
		if _, err := tx.Exec(ctx, `DELETE FROM `+t+` WHERE initiative_id = ?`, id); err != nil {
			return fmt.Errorf("programmes: clear %s: %w", t, err)
		}
	}
	exec := func(q string, args ...any) error {
		if _, err := tx.Exec(ctx, q, args...); err != nil {
			return fmt.Errorf("programmes: write lists: %w", err)
		}
		return nil
	}
	for i, p := range c.in.Partners {
		if err := exec(`INSERT INTO initiative_partners (initiative_id, org_id, role) VALUES (?, ?, ?)`, id, partnerIDs[i], p.Role); err != nil {
			return err
		}
	}
	for _, code := range c.in.Countries {
		if err := exec(`INSERT INTO initiative_countries (initiative_id, code) VALUES (?, ?)`, id, code); err != nil {
			return err
		}
	}
	for _, reg := range c.in.Regions {
		if err := exec(`INSERT INTO initiative_regions (initiative_id, region) VALUES (?, ?)`, id, reg); err != nil {
			return err
		}
	}
	for _, n := range c.in.Objectives {
		if err := exec(`INSERT INTO initiative_objectives (initiative_id, objective) VALUES (?, ?)`, id, n); err != nil {
			return err
		}
	}
	for _, pr := range c.in.Principles {
		if err := exec(`INSERT INTO initiative_principles (initiative_id, principle) VALUES (?, ?)`, id, pr); err != nil {
			return err
		}
	}
	for _, n := range c.in.Pillars {
		if err := exec(`INSERT INTO initiative_pillars (initiative_id, pillar) VALUES (?, ?)`, id, n); err != nil {
			return err
		}
	}
	for i, res := range c.in.Results {
		if err := exec(`INSERT INTO initiative_results (initiative_id, seq, indicator, value, unit, on_date, source) VALUES (?, ?, ?, ?, ?, ?, ?)`,
			id, i, res.Indicator, string(res.Value), res.Unit, res.Date, res.Source); err != nil {
			return err
		}
	}
	for i, s := range c.in.Sources {
		if err := exec(`INSERT INTO initiative_sources (initiative_id, seq, title, url) VALUES (?, ?, ?, ?)`, id, i, s.Title, s.URL); err != nil {
			return err
		}
	}
	switch {
	case fresh && tx.Dialect() == store.Postgres:
		return nil
	case fresh:
		if _, err := tx.Exec(ctx, `INSERT INTO initiatives_fts (rowid, title, body) VALUES (?, ?, ?)`, id, c.in.Title, searchBody(c)); err != nil {
			return fmt.Errorf("programmes: index for search: %w", err)
		}
		return nil
	}
	return indexSearch(ctx, tx, id, c)
}

// pgSearchVector is initiatives.search over (title, body) on PostgreSQL.
const pgSearchVector = `setweight(to_tsvector('simple', ?), 'A') || to_tsvector('simple', ?)`

// searchBody is the text full-text search sees beyond the title.
func searchBody(c *clean) string {
	var b strings.Builder
	b.WriteString(c.in.Summary)
	for _, p := range c.in.Partners {
		b.WriteString(" " + p.Name + " " + p.Org)
	}
	for _, code := range c.in.Countries {
		b.WriteString(" " + code + " " + countryName(code))
	}
	for _, reg := range c.in.Regions {
		b.WriteString(" " + reg)
	}
	b.WriteString(" " + c.in.ReportSection)
	return b.String()
}

func indexSearch(ctx context.Context, tx *store.Tx, id int64, c *clean) error {
	var err error
	if tx.Dialect() == store.Postgres {
		_, err = tx.Exec(ctx, `UPDATE initiatives SET search = setweight(to_tsvector('simple', ?), 'A') || to_tsvector('simple', ?) WHERE id = ?`,
			foldDiacritics(c.in.Title), foldDiacritics(searchBody(c)), id)
	} else {
		if _, err = tx.Exec(ctx, `DELETE FROM initiatives_fts WHERE rowid = ?`, id); err == nil {
			_, err = tx.Exec(ctx, `INSERT INTO initiatives_fts (rowid, title, body) VALUES (?, ?, ?)`, id, c.in.Title, searchBody(c))
		}
	}
	if err != nil {
		return fmt.Errorf("programmes: index for search: %w", err)
	}
	return nil
}

// Update replaces an initiative if version is still current; a stale
// version is a 409 and nothing changes.
func (r *Register) Update(ctx context.Context, p *auth.Principal, id int64, in Input) (*Initiative, error) {
	err := r.DB.Transact(ctx, func(tx *store.Tx) error {
		return r.UpdateTx(ctx, tx, p, id, in)
	})
	if err != nil {
		return nil, err
	}
	return r.Get(ctx, id)
}

// UpdateTx is Update inside tx.
func (r *Register) UpdateTx(ctx context.Context, tx *store.Tx, p *auth.Principal, id int64, in Input) error {
	cur, err := getInitiative(ctx, tx, id)
	if err != nil {
		return err
	}
	if err := canEdit(p, cur); err != nil {
		return err
	}
	if in.Version <= 0 {
		return fault.Invalid(fault.FieldError{Field: "version", Message: "is required: send the version you read, so that a concurrent change is not overwritten"})
	}
	if in.Version != cur.Version {
		// Decided here as well as in the UPDATE below (which catches a
		// change between the two), so that no version beyond the column's
		// range ever reaches SQL.
		return staleVersion(in.Version, cur.Version)
	}
	c, err := r.Check(ctx, in)
	if err != nil {
		return err
	}
	lead, partners, err := resolveOrgs(ctx, tx, &c)
	if err != nil {
		return err
	}
	res, err := tx.Exec(ctx, `UPDATE initiatives SET title = ?, summary = ?, kind = ?, status = ?, lead_org_id = ?, start_text = ?, end_text = ?,
		start_date = ?, end_date = ?, budget_minor = ?, currency = ?, report_section = ?, version = version + 1, updated_at = ?
		WHERE id = ? AND version = ?`,
		c.in.Title, c.in.Summary, c.in.Kind, c.in.Status, lead, c.in.Start, c.in.End, c.startDate, c.endDate,
		c.budgetMinor, currencyOf(c.in.Budget), c.in.ReportSection, store.FormatTime(time.Now()), id, in.Version)
	if err != nil {
		return fmt.Errorf("programmes: update %d: %w", id, err)
	}
	if n, _ := res.RowsAffected(); n == 0 {
		return staleVersion(in.Version, 0)
	}
	if err := writeChildren(ctx, tx, id, &c, partners, false); err != nil {
		return err
	}
	return audit.Append(ctx, tx, p.Event(audit.ActionUpdate, "initiative", strconv.FormatInt(id, 10), "programme register", fmt.Sprintf("%s (version %d)", c.in.Title, in.Version+1)))
}

// staleVersion is the 409 of an update that sent version sent; now is the
// current version, 0 when a concurrent write makes it unknown.
func staleVersion(sent, now int) error {
	state := "it has changed since"
	if now > 0 {
		state = fmt.Sprintf("it is now at version %d", now)
	}
	return &fault.Error{Kind: fault.KindConflict, Title: "Conflict", Detail: fmt.Sprintf(
		"This initiative was changed by someone else after you read it (you sent version %d; %s). Reload it and apply your change again.", sent, state)}
}

// Delete removes an initiative. version, when not zero, must be current.
func (r *Register) Delete(ctx context.Context, p *auth.Principal, id int64, version int) error {
	return r.DB.Transact(ctx, func(tx *store.Tx) error {
		cur, err := getInitiative(ctx, tx, id)
		if err != nil {
			return err
		}
		if err := canEdit(p, cur); err != nil {
			return err
		}
		if version != 0 && version != cur.Version {
			return fault.Conflict(fmt.Sprintf("This initiative was changed after you read it (now version %d); nothing was deleted.", cur.Version))
		}
		if tx.Dialect() == store.SQLite {
			if _, err := tx.Exec(ctx, `DELETE FROM initiatives_fts WHERE rowid = ?`, id); err != nil {
				return err
			}
		}
		if _, err := tx.Exec(ctx, `DELETE FROM initiatives WHERE id = ?`, id); err != nil {
			return fmt.Errorf("programmes: delete %d: %w", id, err)
		}
		return audit.Append(ctx, tx, p.Event(audit.ActionDelete, "initiative", strconv.FormatInt(id, 10), "programme register", cur.Title))
	})
}

// Get reads one initiative with its lists; a 404 when there is none.
func (r *Register) Get(ctx context.Context, id int64) (*Initiative, error) {
	return getInitiative(ctx, r.DB, id)
}

const initiativeColumns = `i.id, i.title, i.summary, i.kind, i.status, COALESCE(lo.slug, ''), COALESCE(lo.name, ''), i.owner_org_id, oo.slug,
	i.start_text, i.end_text, i.start_date, i.end_date, i.budget_minor, i.currency, i.report_section, i.version, i.created_at, i.updated_at, i.created_by,
	COALESCE(i.demo_key, ''), COALESCE(i.iati_identifier, '')`

const initiativeFrom = ` FROM initiatives i JOIN organisations oo ON oo.id = i.owner_org_id LEFT JOIN organisations lo ON lo.id = i.lead_org_id`

func scanInitiative(sc interface{ Scan(...any) error }) (*Initiative, error) {
	it := &Initiative{}
	var created, updated, cur string
	var budget sql.NullInt64
	err := sc.Scan(&it.ID, &it.Title, &it.Summary, &it.Kind, &it.Status, &it.Lead, &it.LeadName, &it.ownerOrgID, &it.Owner,
		&it.Start, &it.End, &it.startDate, &it.endDate, &budget, &cur, &it.ReportSection, &it.Version, &created, &updated, &it.CreatedBy,
		&it.demoKey, &it.iatiID)
	if err != nil {
		return nil, err
	}
	it.CreatedAt, _ = store.ParseTime(created)
	it.UpdatedAt, _ = store.ParseTime(updated)
	if budget.Valid {
		v := budget.Int64
		it.budgetMinor = &v
		it.Budget = &Money{Amount: json.Number(formatMinor(v)), Currency: cur}
	}
	return it, nil
}

func getInitiative(ctx context.Context, q store.Querier, id int64) (*Initiative, error) {
	it, err := scanInitiative(q.QueryRow(ctx, `SELECT `+initiativeColumns+initiativeFrom+` WHERE i.id = ?`, id))
	if errors.Is(err, sql.ErrNoRows) {
		return nil, fault.NotFound("Initiative")
	}
	if err != nil {
		return nil, fmt.Errorf("programmes: get %d: %w", id, err)
	}
	if err := loadLists(ctx, q, []*Initiative{it}); err != nil {
		return nil, err
	}
	return it, nil
}

// CreateDemo adds a demo initiative unless one with key exists; it reports
// whether it added one.
func (r *Register) CreateDemo(ctx context.Context, tx *store.Tx, p *auth.Principal, key string, in Input) (bool, error) {
	var n int
	if err := tx.QueryRow(ctx, `SELECT COUNT(*) FROM initiatives WHERE demo_key = ?`, key).Scan(&n); err != nil {
		return false, err
	}
	if n > 0 {
		return false, nil
	}
	_, err := r.CreateTx(ctx, tx, p, in, createOpts{demoKey: key})
	return err == nil, err
}
