package programmes

// What the IATI import and export (internal/iati) need of the register:
// finding an initiative by its IATI identifier, writing one activity as an
// initiative (created, updated, or left alone when nothing would change),
// changing objectives when an officer confirms a suggestion, and reading
// the register in pages for a streaming export.

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"slices"
	"sort"
	"strconv"
	"strings"
	"time"

	"kompas/internal/platform/audit"
	"kompas/internal/platform/auth"
	"kompas/internal/platform/fault"
	"kompas/internal/platform/store"
)

// Outcomes of UpsertIATI.
const (
	IATICreated   = "created"
	IATIUpdated   = "updated"
	IATIUnchanged = "unchanged"
)

// IATIIdentifier is the initiative's IATI identifier, "" when it has none.
func (it *Initiative) IATIIdentifier() string { return it.iatiID }

// Period is the first and last day the initiative's start and end cover
// (YYYY-MM-DD, or "" when not given).
func (it *Initiative) Period() (start, end string) { return it.startDate, it.endDate }

// FindIATI returns the initiative recorded with the IATI identifier iatiID,
// or nil when there is none.
func (r *Register) FindIATI(ctx context.Context, q store.Querier, iatiID string) (*Initiative, error) {
	if iatiID == "" {
		return nil, nil
	}
	var id int64
	err := q.QueryRow(ctx, `SELECT id FROM initiatives WHERE iati_identifier = ?`, iatiID).Scan(&id)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("programmes: find IATI %q: %w", truncate(iatiID, 80), err)
	}
	return getInitiative(ctx, q, id)
}

// GetTx reads one initiative inside tx (a 404 when there is none).
func (r *Register) GetTx(ctx context.Context, q store.Querier, id int64) (*Initiative, error) {
	return getInitiative(ctx, q, id)
}

// IATIWriter writes many IATI activities as initiatives inside one
// transaction: it reads the framework's pillars once, and creates new
// initiatives with a statement per list rather than per item (the import
// writes thousands a second). What it writes is what Create writes, audit
// event included; a test holds the two to the same result.
type IATIWriter struct {
	r       *Register
	tx      *store.Tx
	p       *auth.Principal
	pillars map[int]bool
	stmts   map[string]*sql.Stmt
	// fts holds the SQLite search entries of new initiatives until Flush:
	// FTS5 writes its pending entries to disk whenever a later statement
	// in the transaction opens a statement journal, so writing them one
	// initiative at a time leaves a tiny index segment per initiative and
	// much merging; written together they make one.
	fts []ftsEntry
}

type ftsEntry struct {
	id          int64
	title, body string
}

// Mark and Forget let a caller that rolls back to a savepoint drop the
// search entries written after it.
func (w *IATIWriter) Mark() int { return len(w.fts) }

// Forget drops the search entries added after mark.
func (w *IATIWriter) Forget(mark int) {
	if mark < len(w.fts) {
		w.fts = w.fts[:mark]
	}
}

// Flush writes the search entries of the initiatives created so far. It
// must run before the transaction commits.
func (w *IATIWriter) Flush(ctx context.Context) error {
	for _, e := range w.fts {
		if _, err := w.Exec(ctx, `INSERT INTO initiatives_fts (rowid, title, body) VALUES (?, ?, ?)`, e.id, e.title, e.body); err != nil {
			return fmt.Errorf("programmes: index for search: %w", err)
		}
	}
	w.fts = w.fts[:0]
	return nil
}

// maxStmts bounds the statements a writer keeps prepared.
const maxStmts = 256

// stmt returns query prepared in the writer's transaction (once), or nil
// when the writer keeps no more.
func (w *IATIWriter) stmt(ctx context.Context, query string) (*sql.Stmt, error) {
	if st, ok := w.stmts[query]; ok {
		return st, nil
	}
	if len(w.stmts) >= maxStmts {
		return nil, nil
	}
	st, err := w.tx.Prepare(ctx, query)
	if err != nil {
		return nil, err
	}
	w.stmts[query] = st
	return st, nil
}

// Exec runs a statement in the writer's transaction, prepared once for all
// the activities the writer writes.
func (w *IATIWriter) Exec(ctx context.Context, query string, args ...any) (sql.Result, error) {
	st, err := w.stmt(ctx, query)
	if err != nil {
		return nil, err
	}
	if st == nil {
		return w.tx.Exec(ctx, query, args...)
	}
	return st.ExecContext(ctx, args...)
}

// Query is Exec for a query.
func (w *IATIWriter) Query(ctx context.Context, query string, args ...any) (*sql.Rows, error) {
	st, err := w.stmt(ctx, query)
	if err != nil {
		return nil, err
	}
	if st == nil {
		return w.tx.Query(ctx, query, args...)
	}
	return st.QueryContext(ctx, args...)
}

// scanOne runs a one-row query and scans it; sql.ErrNoRows when empty.
func (w *IATIWriter) scanOne(ctx context.Context, query string, args []any, dest ...any) error {
	rows, err := w.Query(ctx, query, args...)
	if err != nil {
		return err
	}
	defer rows.Close()
	if !rows.Next() {
		if err := rows.Err(); err != nil {
			return err
		}
		return sql.ErrNoRows
	}
	if err := rows.Scan(dest...); err != nil {
		return err
	}
	return rows.Close()
}

// Find returns the initiative recorded with the IATI identifier iatiID, or
// nil, inside the writer's transaction.
func (w *IATIWriter) Find(ctx context.Context, iatiID string) (*Initiative, error) {
	var id int64
	err := w.scanOne(ctx, `SELECT id FROM initiatives WHERE iati_identifier = ?`, []any{iatiID}, &id)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("programmes: find IATI %q: %w", truncate(iatiID, 80), err)
	}
	return getInitiative(ctx, w.tx, id)
}

// NewIATIWriter makes a writer for tx acting as p (who must be allowed to
// add initiatives).
func (r *Register) NewIATIWriter(ctx context.Context, tx *store.Tx, p *auth.Principal) (*IATIWriter, error) {
	if err := auth.Check(p, ruleCreate, auth.RelNone); err != nil {
		return nil, err
	}
	pillars, err := r.pillarSet()
	if err != nil {
		return nil, err
	}
	return &IATIWriter{r: r, tx: tx, p: p, pillars: pillars, stmts: map[string]*sql.Stmt{}}, nil
}

// UpsertIATI writes in as the initiative with the IATI identifier iatiID,
// inside tx: see IATIWriter.Upsert.
func (r *Register) UpsertIATI(ctx context.Context, tx *store.Tx, p *auth.Principal, cur *Initiative, iatiID string, in Input) (string, int64, error) {
	w, err := r.NewIATIWriter(ctx, tx, p)
	if err != nil {
		return "", 0, err
	}
	status, id, err := w.Upsert(ctx, cur, iatiID, in)
	if err != nil {
		return status, id, err
	}
	return status, id, w.Flush(ctx)
}

// Upsert creates the initiative when cur is nil, and otherwise updates cur
// (which the caller found by its IATI identifier or otherwise) under the
// edit rule, unless nothing would change. It returns the outcome and the
// initiative's id. Invalid input is a 422 naming the fields, as elsewhere.
func (w *IATIWriter) Upsert(ctx context.Context, cur *Initiative, iatiID string, in Input) (string, int64, error) {
	pl, err := w.Plan(ctx, cur, iatiID, in)
	if err != nil {
		return "", pl.id(), err
	}
	id, err := w.Apply(ctx, pl)
	return pl.Status, id, err
}

// IATIPlan is what Upsert will do, decided before anything is written.
type IATIPlan struct {
	Status string // IATICreated, IATIUpdated or IATIUnchanged
	cur    *Initiative
	iatiID string
	in     Input
	c      clean
}

func (pl *IATIPlan) id() int64 {
	if pl == nil || pl.cur == nil {
		return 0
	}
	return pl.cur.ID
}

// Plan checks in (the register's rules and, for an update, the edit rule)
// and decides whether it creates, updates or leaves the initiative alone,
// writing nothing: a caller that must write more for the activity (new
// organisations) does so only once it is known to be good. Organisations
// the input names need not exist yet; Apply needs them.
func (w *IATIWriter) Plan(ctx context.Context, cur *Initiative, iatiID string, in Input) (*IATIPlan, error) {
	pl := &IATIPlan{cur: cur, iatiID: iatiID, in: in}
	c, errs := validate(in, w.pillars)
	if len(errs) > 0 {
		return pl, fault.Invalid(errs...)
	}
	pl.c = c
	switch {
	case cur == nil:
		pl.Status = IATICreated
	case canEdit(w.p, cur) != nil:
		return pl, canEdit(w.p, cur)
	case sameContent(&c.in, &cur.Input) && (cur.iatiID == iatiID || cur.iatiID == ""):
		pl.Status = IATIUnchanged
	default:
		pl.Status = IATIUpdated
	}
	return pl, nil
}

// Apply carries out a plan and returns the initiative's id.
func (w *IATIWriter) Apply(ctx context.Context, pl *IATIPlan) (int64, error) {
	switch pl.Status {
	case IATICreated:
		return w.create(ctx, &pl.c, pl.iatiID)
	case IATIUnchanged:
		return pl.cur.ID, nil
	}
	cur, in := pl.cur, pl.in
	in.Version = cur.Version
	if err := w.r.UpdateTx(ctx, w.tx, w.p, cur.ID, in); err != nil {
		return cur.ID, err
	}
	if cur.iatiID != pl.iatiID {
		if _, err := w.tx.Exec(ctx, `UPDATE initiatives SET iati_identifier = ? WHERE id = ?`, nullStr(pl.iatiID), cur.ID); err != nil {
			if store.IsUniqueViolation(err) {
				return cur.ID, fault.Conflict(fmt.Sprintf("another initiative already has the IATI identifier %q", truncate(pl.iatiID, 80)))
			}
			return cur.ID, fmt.Errorf("programmes: set IATI identifier: %w", err)
		}
	}
	return cur.ID, nil
}

// create is CreateTx for a validated input, with one INSERT per list.
func (w *IATIWriter) create(ctx context.Context, c *clean, iatiID string) (int64, error) {
	tx, p := w.tx, w.p
	lead, partners, err := w.resolveOrgsAtOnce(ctx, c)
	if err != nil {
		return 0, err
	}
	now := store.FormatTime(time.Now())
	var id int64
	err = w.scanOne(ctx, `INSERT INTO initiatives (demo_key, iati_identifier, title, summary, kind, status, lead_org_id, owner_org_id,
		start_text, end_text, start_date, end_date, budget_minor, currency, report_section, version, created_at, updated_at, created_by)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, 1, ?, ?, ?) RETURNING id`,
		[]any{nil, nullStr(iatiID), c.in.Title, c.in.Summary, c.in.Kind, c.in.Status, lead, p.OrgID,
			c.in.Start, c.in.End, c.startDate, c.endDate, c.budgetMinor, currencyOf(c.in.Budget), c.in.ReportSection, now, now, p.Email}, &id)
	if err != nil {
		if store.IsUniqueViolation(err) {
			return 0, fault.Conflict(fmt.Sprintf("another initiative already has the IATI identifier %q", truncate(iatiID, 80)))
		}
		return 0, fmt.Errorf("programmes: create: %w", err)
	}
	var rows [][]any
	for i, pt := range c.in.Partners {
		rows = append(rows, []any{id, partners[i], pt.Role})
	}
	if err := w.insertRows(ctx, `initiative_partners (initiative_id, org_id, role)`, rows); err != nil {
		return 0, err
	}
	rows = rows[:0]
	for _, code := range c.in.Countries {
		rows = append(rows, []any{id, code})
	}
	if err := w.insertRows(ctx, `initiative_countries (initiative_id, code)`, rows); err != nil {
		return 0, err
	}
	rows = rows[:0]
	for _, reg := range c.in.Regions {
		rows = append(rows, []any{id, reg})
	}
	if err := w.insertRows(ctx, `initiative_regions (initiative_id, region)`, rows); err != nil {
		return 0, err
	}
	rows = rows[:0]
	for _, n := range c.in.Objectives {
		rows = append(rows, []any{id, n})
	}
	if err := w.insertRows(ctx, `initiative_objectives (initiative_id, objective)`, rows); err != nil {
		return 0, err
	}
	rows = rows[:0]
	for _, pr := range c.in.Principles {
		rows = append(rows, []any{id, pr})
	}
	if err := w.insertRows(ctx, `initiative_principles (initiative_id, principle)`, rows); err != nil {
		return 0, err
	}
	rows = rows[:0]
	for _, n := range c.in.Pillars {
		rows = append(rows, []any{id, n})
	}
	if err := w.insertRows(ctx, `initiative_pillars (initiative_id, pillar)`, rows); err != nil {
		return 0, err
	}
	rows = rows[:0]
	for i, res := range c.in.Results {
		rows = append(rows, []any{id, i, res.Indicator, string(res.Value), res.Unit, res.Date, res.Source})
	}
	if err := w.insertRows(ctx, `initiative_results (initiative_id, seq, indicator, value, unit, on_date, source)`, rows); err != nil {
		return 0, err
	}
	rows = rows[:0]
	for i, s := range c.in.Sources {
		rows = append(rows, []any{id, i, s.Title, s.URL})
	}
	if err := w.insertRows(ctx, `initiative_sources (initiative_id, seq, title, url)`, rows); err != nil {
		return 0, err
	}
	// The search entry, as indexSearch writes it: at once on PostgreSQL (a
	// column of the row), at Flush on SQLite.
	if tx.Dialect() == store.Postgres {
		if err := indexSearch(ctx, tx, id, c); err != nil {
			return 0, err
		}
	} else {
		w.fts = append(w.fts, ftsEntry{id: id, title: c.in.Title, body: searchBody(c)})
	}
	if err := audit.Append(ctx, tx, p.Event(audit.ActionCreate, "initiative", strconv.FormatInt(id, 10), "programme register", c.in.Title)); err != nil {
		return 0, err
	}
	return id, nil
}

// insertRows inserts rows into table (written with its column list) in one
// statement.
func (w *IATIWriter) insertRows(ctx context.Context, table string, rows [][]any) error {
	if len(rows) == 0 {
		return nil
	}
	one := "(" + strings.TrimSuffix(strings.Repeat("?, ", len(rows[0])), ", ") + ")"
	var b strings.Builder
	b.WriteString("INSERT INTO " + table + " VALUES ")
	args := make([]any, 0, len(rows)*len(rows[0]))
	for i, r := range rows {
		if i > 0 {
			b.WriteString(", ")
		}
		b.WriteString(one)
		args = append(args, r...)
	}
	if _, err := w.Exec(ctx, b.String(), args...); err != nil {
		return fmt.Errorf("programmes: write lists: %w", err)
	}
	return nil
}

// resolveOrgsAtOnce is resolveOrgs with one query for every slug.
func (w *IATIWriter) resolveOrgsAtOnce(ctx context.Context, c *clean) (*int64, []int64, error) {
	var slugs []any
	seen := map[string]bool{}
	add := func(s string) {
		if s != "" && !seen[s] {
			seen[s] = true
			slugs = append(slugs, s)
		}
	}
	add(c.in.Lead)
	for _, p := range c.in.Partners {
		add(p.Org)
	}
	type org struct {
		id   int64
		name string
	}
	found := map[string]org{}
	if len(slugs) > 0 {
		rows, err := w.Query(ctx, `SELECT id, slug, name FROM organisations WHERE slug IN (`+strings.TrimSuffix(strings.Repeat("?, ", len(slugs)), ", ")+`)`, slugs...)
		if err != nil {
			return nil, nil, fmt.Errorf("programmes: find organisations: %w", err)
		}
		for rows.Next() {
			var o org
			var slug string
			if err := rows.Scan(&o.id, &slug, &o.name); err != nil {
				rows.Close()
				return nil, nil, err
			}
			found[slug] = o
		}
		rows.Close()
		if err := rows.Err(); err != nil {
			return nil, nil, err
		}
	}
	var errs []fault.FieldError
	var lead *int64
	if c.in.Lead != "" {
		if o, ok := found[c.in.Lead]; ok {
			lead = &o.id
		} else {
			errs = append(errs, fault.FieldError{Field: "lead", Message: fmt.Sprintf("no organisation %q is known", truncate(c.in.Lead, 64))})
		}
	}
	var partners []int64
	for i := range c.in.Partners {
		o, ok := found[c.in.Partners[i].Org]
		if !ok {
			errs = append(errs, fault.FieldError{Field: fmt.Sprintf("partners[%d].org", i), Message: fmt.Sprintf("no organisation %q is known", truncate(c.in.Partners[i].Org, 64))})
			continue
		}
		c.in.Partners[i].Name = o.name
		partners = append(partners, o.id)
	}
	if len(errs) > 0 {
		return nil, nil, fault.Invalid(errs...)
	}
	return lead, partners, nil
}

// sameContent compares a validated input with a stored initiative on every
// field the register keeps (partners as a set: the register orders them).
func sameContent(a, b *Input) bool {
	if a.Title != b.Title || a.Summary != b.Summary || a.Kind != b.Kind || a.Status != b.Status || a.Lead != b.Lead ||
		a.Start != b.Start || a.End != b.End || a.ReportSection != b.ReportSection {
		return false
	}
	sorted := func(l []string) []string { l = slices.Clone(l); sort.Strings(l); return l }
	if !slices.Equal(a.Countries, b.Countries) || !slices.Equal(sorted(a.Regions), sorted(b.Regions)) || !slices.Equal(a.Objectives, b.Objectives) ||
		!slices.Equal(a.Principles, b.Principles) || !slices.Equal(a.Pillars, b.Pillars) {
		return false
	}
	if (a.Budget == nil) != (b.Budget == nil) {
		return false
	}
	if a.Budget != nil && (a.Budget.Amount != b.Budget.Amount || a.Budget.Currency != b.Budget.Currency) {
		return false
	}
	pairs := func(ps []Partner) []string {
		out := make([]string, len(ps))
		for i, p := range ps {
			out[i] = p.Org + "\x00" + p.Role
		}
		sort.Strings(out)
		return out
	}
	if !slices.Equal(pairs(a.Partners), pairs(b.Partners)) {
		return false
	}
	if len(a.Results) != len(b.Results) || len(a.Sources) != len(b.Sources) {
		return false
	}
	for i := range a.Results {
		if a.Results[i] != b.Results[i] {
			return false
		}
	}
	for i := range a.Sources {
		if a.Sources[i] != b.Sources[i] {
			return false
		}
	}
	return true
}

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
