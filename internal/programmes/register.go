package programmes

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"strings"

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

// Create adds an initiative recorded by p's organisation: CreateMany of
// one.
func (r *Register) Create(ctx context.Context, p *auth.Principal, in Input) (*Initiative, error) {
	if err := auth.Check(p, ruleCreate, auth.RelNone); err != nil {
		return nil, err
	}
	var id int64
	err := r.DB.Transact(ctx, func(tx *store.Tx) error {
		ids, err := r.CreateMany(ctx, tx, p, []Item{{Input: in}})
		if err != nil {
			return one(err)
		}
		id = ids[0]
		return nil
	})
	if err != nil {
		return nil, err
	}
	return r.Get(ctx, id)
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

// UpdateTx is Update inside tx, through the register's writer.
func (r *Register) UpdateTx(ctx context.Context, tx *store.Tx, p *auth.Principal, id int64, in Input) error {
	w, err := r.NewWriter(ctx, tx, p)
	if err != nil {
		return err
	}
	if err := w.Update(ctx, id, in); err != nil {
		return err
	}
	return w.Flush(ctx)
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

// DemoKeys returns the demo keys recorded, read through q (the demo loader
// reads them inside the transaction that adds the missing ones).
func (r *Register) DemoKeys(ctx context.Context, q store.Querier) (map[string]bool, error) {
	rows, err := q.Query(ctx, `SELECT demo_key FROM initiatives WHERE demo_key IS NOT NULL`)
	if err != nil {
		return nil, fmt.Errorf("programmes: demo keys: %w", err)
	}
	defer rows.Close()
	have := map[string]bool{}
	for rows.Next() {
		var k string
		if err := rows.Scan(&k); err != nil {
			return nil, fmt.Errorf("programmes: demo keys: %w", err)
		}
		have[k] = true
	}
	return have, rows.Err()
}
