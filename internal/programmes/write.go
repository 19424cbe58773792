package programmes

// The register's one write path. Every initiative is created by
// Writer.insert, through Writer.Create (Create, CreateMany, the CSV and XLSX
// import, the demo) or Writer.Upsert (the IATI import), and changed by
// Writer.Update (Update, UpdateTx, the imports, ChangeObjectives). A Writer
// lives for one transaction; it checks the rules, resolves organisations,
// writes rows and lists with statements prepared once, appends one audit
// event per initiative, and writes the SQLite search entries together at
// Flush.

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

// Item is one initiative to create, with the keys some callers record.
type Item struct {
	Input
	// DemoKey is the demo data set's stable key ("" for none).
	DemoKey string
	// IATIID is the IATI identifier ("" for none).
	IATIID string
}

// ItemError is one bad item of a batch: its index and its problem (a 422
// naming its fields).
type ItemError struct {
	Index int
	Err   *fault.Error
}

// ItemErrors is how CreateMany refuses a batch with bad items: the problem
// of each, in index order. Nothing was written.
type ItemErrors []ItemError

func (e ItemErrors) Error() string {
	var b strings.Builder
	for i, it := range e {
		if i > 0 {
			b.WriteString("; ")
		}
		fmt.Fprintf(&b, "item %d: %v", it.Index, it.Err)
	}
	return b.String()
}

// As makes a refused batch, handed to the web layer whole, a 422 naming
// each field as "[index].field".
func (e ItemErrors) As(target any) bool {
	p, ok := target.(**fault.Error)
	if !ok {
		return false
	}
	var fields []fault.FieldError
	for _, it := range e {
		for _, f := range it.Err.Fields {
			fields = append(fields, fault.FieldError{Field: fmt.Sprintf("[%d].%s", it.Index, f.Field), Message: f.Message})
		}
		if len(it.Err.Fields) == 0 {
			fields = append(fields, fault.FieldError{Field: fmt.Sprintf("[%d]", it.Index), Message: it.Err.Detail})
		}
	}
	*p = fault.Invalid(fields...)
	return true
}

// one turns the refusal of a batch of one into that item's own problem.
func one(err error) error {
	var ie ItemErrors
	if errors.As(err, &ie) && len(ie) == 1 {
		return ie[0].Err
	}
	return err
}

// Writer writes initiatives inside one transaction, acting as one
// principal. Make one with NewWriter; call Flush before the transaction
// commits.
type Writer struct {
	r       *Register
	tx      *store.Tx
	st      *store.Stmts
	p       *auth.Principal
	pillars map[int]bool
	// fts holds the SQLite search entries written since the last Flush:
	// FTS5 writes its pending entries to disk whenever a later statement
	// in the transaction opens a statement journal, so writing them one
	// initiative at a time leaves a tiny index segment per initiative and
	// much merging; written together they make one.
	fts []ftsEntry
}

type ftsEntry struct {
	id          int64
	title, body string
	replace     bool // the initiative has an entry already
}

// NewWriter makes the register's writer for tx, acting as p.
func (r *Register) NewWriter(ctx context.Context, tx *store.Tx, p *auth.Principal) (*Writer, error) {
	if p == nil {
		return nil, fault.ErrUnauthenticated
	}
	pillars, err := r.pillarSet()
	if err != nil {
		return nil, err
	}
	return &Writer{r: r, tx: tx, st: tx.Stmts(), p: p, pillars: pillars}, nil
}

// CreateMany creates every item inside tx, or none when any is bad (then
// the error is ItemErrors, naming each bad item's fields). It returns the
// new ids in the items' order.
func (r *Register) CreateMany(ctx context.Context, tx *store.Tx, p *auth.Principal, items []Item) ([]int64, error) {
	w, err := r.NewWriter(ctx, tx, p)
	if err != nil {
		return nil, err
	}
	ids, err := w.Create(ctx, items)
	if err != nil {
		return nil, err
	}
	return ids, w.Flush(ctx)
}

// Flush writes the search entries held back so far. It must run before
// the transaction commits.
func (w *Writer) Flush(ctx context.Context) error {
	for _, e := range w.fts {
		if e.replace {
			if _, err := w.st.Exec(ctx, `DELETE FROM initiatives_fts WHERE rowid = ?`, e.id); err != nil {
				return fmt.Errorf("programmes: index for search: %w", err)
			}
		}
		if _, err := w.st.Exec(ctx, `INSERT INTO initiatives_fts (rowid, title, body) VALUES (?, ?, ?)`, e.id, e.title, e.body); err != nil {
			return fmt.Errorf("programmes: index for search: %w", err)
		}
	}
	w.fts = w.fts[:0]
	return nil
}

// Find returns the initiative recorded with the IATI identifier iatiID, or
// nil when there is none.
func (w *Writer) Find(ctx context.Context, iatiID string) (*Initiative, error) {
	if iatiID == "" {
		return nil, nil
	}
	var id int64
	err := w.st.QueryRow(ctx, `SELECT id FROM initiatives WHERE iati_identifier = ?`, iatiID).Scan(&id)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("programmes: find IATI %q: %w", truncate(iatiID, 80), err)
	}
	return getInitiative(ctx, w.st, id)
}

// Get reads initiative id inside the writer's transaction (a 404 when
// there is none).
func (w *Writer) Get(ctx context.Context, id int64) (*Initiative, error) {
	return getInitiative(ctx, w.st, id)
}

// pending is a validated item waiting to be written.
type pending struct {
	c               clean
	demoKey, iatiID string
}

// Create creates every item, or none when any is bad: see CreateMany.
func (w *Writer) Create(ctx context.Context, items []Item) ([]int64, error) {
	if err := auth.Check(w.p, ruleCreate, auth.RelNone); err != nil {
		return nil, err
	}
	ps := make([]pending, len(items))
	bad := map[int]*fault.Error{}
	for i, it := range items {
		c, errs := validate(it.Input, w.pillars)
		if len(errs) > 0 {
			bad[i] = fault.Invalid(errs...)
			continue
		}
		ps[i] = pending{c: c, demoKey: it.DemoKey, iatiID: it.IATIID}
	}
	return w.insert(ctx, ps, bad)
}

// insert writes validated items (those not already in bad): organisations
// are resolved for the whole batch first, and unknown ones join bad.
func (w *Writer) insert(ctx context.Context, ps []pending, bad map[int]*fault.Error) ([]int64, error) {
	cs := make([]*clean, 0, len(ps))
	for i := range ps {
		if bad[i] == nil {
			cs = append(cs, &ps[i].c)
		}
	}
	orgs, err := w.findOrgs(ctx, cs)
	if err != nil {
		return nil, err
	}
	type refs struct {
		lead     *int64
		partners []int64
	}
	resolved := make([]refs, len(ps))
	for i := range ps {
		if bad[i] != nil {
			continue
		}
		lead, partners, errs := orgs.resolve(&ps[i].c)
		if len(errs) > 0 {
			bad[i] = fault.Invalid(errs...)
			continue
		}
		resolved[i] = refs{lead, partners}
	}
	if len(bad) > 0 {
		out := make(ItemErrors, 0, len(bad))
		for i, e := range bad {
			out = append(out, ItemError{Index: i, Err: e})
		}
		sort.Slice(out, func(a, b int) bool { return out[a].Index < out[b].Index })
		return nil, out
	}
	ids := make([]int64, len(ps))
	for i := range ps {
		if ids[i], err = w.insertOne(ctx, &ps[i], resolved[i].lead, resolved[i].partners); err != nil {
			return nil, err
		}
	}
	return ids, nil
}

// pgSearchVector is initiatives.search over (title, body) on PostgreSQL.
const pgSearchVector = `setweight(to_tsvector('simple', ?), 'A') || to_tsvector('simple', ?)`

// insertOne writes one initiative, its lists, its search entry and its
// audit event.
func (w *Writer) insertOne(ctx context.Context, pd *pending, lead *int64, partners []int64) (int64, error) {
	c, p := &pd.c, w.p
	now := store.FormatTime(time.Now())
	// On PostgreSQL the search vector goes in with the row: setting it by a
	// later UPDATE would write the row and all its index entries twice.
	searchCol, searchVal, searchArgs := "", "", []any(nil)
	if w.tx.Dialect() == store.Postgres {
		searchCol, searchVal = ", search", ", "+pgSearchVector
		searchArgs = []any{foldDiacritics(c.in.Title), foldDiacritics(searchBody(c))}
	}
	var id int64
	err := w.st.QueryRow(ctx, `INSERT INTO initiatives (demo_key, iati_identifier, title, summary, kind, status, lead_org_id, owner_org_id,
		start_text, end_text, start_date, end_date, budget_minor, currency, report_section, version, created_at, updated_at, created_by`+searchCol+`)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, 1, ?, ?, ?`+searchVal+`) RETURNING id`,
		append([]any{nullStr(pd.demoKey), nullStr(pd.iatiID), c.in.Title, c.in.Summary, c.in.Kind, c.in.Status, lead, p.OrgID,
			c.in.Start, c.in.End, c.startDate, c.endDate, c.budgetMinor, currencyOf(c.in.Budget), c.in.ReportSection, now, now, p.Email}, searchArgs...)...).Scan(&id)
	if err != nil {
		if pd.iatiID != "" && store.IsUniqueViolation(err) && strings.Contains(err.Error(), "iati_identifier") {
			return 0, fault.Conflict(fmt.Sprintf("another initiative already has the IATI identifier %q", truncate(pd.iatiID, 80)))
		}
		return 0, fmt.Errorf("programmes: create: %w", err)
	}
	if err := w.writeLists(ctx, id, c, partners); err != nil {
		return 0, err
	}
	if w.tx.Dialect() == store.SQLite {
		w.fts = append(w.fts, ftsEntry{id: id, title: c.in.Title, body: searchBody(c)})
	}
	if err := audit.Append(ctx, w.tx, p.Event(audit.ActionCreate, "initiative", strconv.FormatInt(id, 10), "programme register", c.in.Title)); err != nil {
		return 0, err
	}
	return id, nil
}

// Update replaces initiative id if in.Version is still current, under the
// edit rule; a stale version is a 409 and nothing changes.
func (w *Writer) Update(ctx context.Context, id int64, in Input) error {
	cur, err := getInitiative(ctx, w.st, id)
	if err != nil {
		return err
	}
	if err := canEdit(w.p, cur); err != nil {
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
	c, errs := validate(in, w.pillars)
	if len(errs) > 0 {
		return fault.Invalid(errs...)
	}
	orgs, err := w.findOrgs(ctx, []*clean{&c})
	if err != nil {
		return err
	}
	lead, partners, errs := orgs.resolve(&c)
	if len(errs) > 0 {
		return fault.Invalid(errs...)
	}
	searchSet, searchArgs := "", []any(nil)
	if w.tx.Dialect() == store.Postgres {
		searchSet = ", search = " + pgSearchVector
		searchArgs = []any{foldDiacritics(c.in.Title), foldDiacritics(searchBody(&c))}
	}
	args := []any{c.in.Title, c.in.Summary, c.in.Kind, c.in.Status, lead, c.in.Start, c.in.End, c.startDate, c.endDate,
		c.budgetMinor, currencyOf(c.in.Budget), c.in.ReportSection, store.FormatTime(time.Now())}
	args = append(append(args, searchArgs...), id, in.Version)
	res, err := w.st.Exec(ctx, `UPDATE initiatives SET title = ?, summary = ?, kind = ?, status = ?, lead_org_id = ?, start_text = ?, end_text = ?,
		start_date = ?, end_date = ?, budget_minor = ?, currency = ?, report_section = ?, version = version + 1, updated_at = ?`+searchSet+`
		WHERE id = ? AND version = ?`, args...)
	if err != nil {
		return fmt.Errorf("programmes: update %d: %w", id, err)
	}
	if n, _ := res.RowsAffected(); n == 0 {
		return staleVersion(in.Version, 0)
	}
	for _, t := range listTables {
		if _, err := w.st.Exec(ctx, `DELETE FROM `+t+` WHERE initiative_id = ?`, id); err != nil {
			return fmt.Errorf("programmes: clear %s: %w", t, err)
		}
	}
	if err := w.writeLists(ctx, id, &c, partners); err != nil {
		return err
	}
	if w.tx.Dialect() == store.SQLite {
		w.fts = append(w.fts, ftsEntry{id: id, title: c.in.Title, body: searchBody(&c), replace: true})
	}
	return audit.Append(ctx, w.tx, w.p.Event(audit.ActionUpdate, "initiative", strconv.FormatInt(id, 10), "programme register", fmt.Sprintf("%s (version %d)", c.in.Title, in.Version+1)))
}

// listTables are an initiative's lists.
var listTables = []string{"initiative_partners", "initiative_countries", "initiative_regions", "initiative_objectives",
	"initiative_principles", "initiative_pillars", "initiative_results", "initiative_sources"}

// writeLists inserts an initiative's lists, one statement per list.
func (w *Writer) writeLists(ctx context.Context, id int64, c *clean, partners []int64) error {
	var rows [][]any
	add := func(table string) error {
		err := w.insertRows(ctx, table, rows)
		rows = rows[:0]
		return err
	}
	for i, pt := range c.in.Partners {
		rows = append(rows, []any{id, partners[i], pt.Role})
	}
	if err := add(`initiative_partners (initiative_id, org_id, role)`); err != nil {
		return err
	}
	for _, code := range c.in.Countries {
		rows = append(rows, []any{id, code})
	}
	if err := add(`initiative_countries (initiative_id, code)`); err != nil {
		return err
	}
	for _, reg := range c.in.Regions {
		rows = append(rows, []any{id, reg})
	}
	if err := add(`initiative_regions (initiative_id, region)`); err != nil {
		return err
	}
	for _, n := range c.in.Objectives {
		rows = append(rows, []any{id, n})
	}
	if err := add(`initiative_objectives (initiative_id, objective)`); err != nil {
		return err
	}
	for _, pr := range c.in.Principles {
		rows = append(rows, []any{id, pr})
	}
	if err := add(`initiative_principles (initiative_id, principle)`); err != nil {
		return err
	}
	for _, n := range c.in.Pillars {
		rows = append(rows, []any{id, n})
	}
	if err := add(`initiative_pillars (initiative_id, pillar)`); err != nil {
		return err
	}
	for i, res := range c.in.Results {
		rows = append(rows, []any{id, i, res.Indicator, string(res.Value), res.Unit, res.Date, res.Source})
	}
	if err := add(`initiative_results (initiative_id, seq, indicator, value, unit, on_date, source)`); err != nil {
		return err
	}
	for i, s := range c.in.Sources {
		rows = append(rows, []any{id, i, s.Title, s.URL})
	}
	return add(`initiative_sources (initiative_id, seq, title, url)`)
}

// insertRows inserts rows into table (written with its column list) in one
// statement. Validation bounds every list to maxListItems, so a statement
// stays far below either engine's limit on parameters.
func (w *Writer) insertRows(ctx context.Context, table string, rows [][]any) error {
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
	if _, err := w.st.Exec(ctx, b.String(), args...); err != nil {
		return fmt.Errorf("programmes: write lists: %w", err)
	}
	return nil
}

// orgRow is what the writer needs of an organisation.
type orgRow struct {
	id   int64
	name string
}

// orgSet is the organisations a batch names, by slug.
type orgSet map[string]orgRow

// maxSlugsPerQuery bounds the slugs one look-up sends.
const maxSlugsPerQuery = 500

// findOrgs looks up every lead and partner slug the inputs name, in one
// query per maxSlugsPerQuery slugs.
func (w *Writer) findOrgs(ctx context.Context, cs []*clean) (orgSet, error) {
	var slugs []any
	seen := map[string]bool{}
	add := func(s string) {
		if s != "" && !seen[s] {
			seen[s] = true
			slugs = append(slugs, s)
		}
	}
	for _, c := range cs {
		add(c.in.Lead)
		for _, p := range c.in.Partners {
			add(p.Org)
		}
	}
	found := orgSet{}
	for len(slugs) > 0 {
		chunk := slugs[:min(len(slugs), maxSlugsPerQuery)]
		slugs = slugs[len(chunk):]
		rows, err := w.st.Query(ctx, `SELECT id, slug, name FROM organisations WHERE slug IN (`+strings.TrimSuffix(strings.Repeat("?, ", len(chunk)), ", ")+`)`, chunk...)
		if err != nil {
			return nil, fmt.Errorf("programmes: find organisations: %w", err)
		}
		for rows.Next() {
			var o orgRow
			var slug string
			if err := rows.Scan(&o.id, &slug, &o.name); err != nil {
				rows.Close()
				return nil, fmt.Errorf("programmes: find organisations: %w", err)
			}
			found[slug] = o
		}
		rows.Close()
		if err := rows.Err(); err != nil {
			return nil, fmt.Errorf("programmes: find organisations: %w", err)
		}
	}
	return found, nil
}

// resolve gives c's lead and partners their ids (and partners their
// names); unknown slugs are field errors.
func (orgs orgSet) resolve(c *clean) (lead *int64, partners []int64, errs []fault.FieldError) {
	if c.in.Lead != "" {
		if o, ok := orgs[c.in.Lead]; ok {
			lead = &o.id
		} else {
			errs = append(errs, fault.FieldError{Field: "lead", Message: fmt.Sprintf("no organisation %q is known", truncate(c.in.Lead, 64))})
		}
	}
	for i := range c.in.Partners {
		o, ok := orgs[c.in.Partners[i].Org]
		if !ok {
			errs = append(errs, fault.FieldError{Field: fmt.Sprintf("partners[%d].org", i), Message: fmt.Sprintf("no organisation %q is known", truncate(c.in.Partners[i].Org, 64))})
			continue
		}
		c.in.Partners[i].Name = o.name
		partners = append(partners, o.id)
	}
	return lead, partners, errs
}

// Outcomes of Upsert.
const (
	IATICreated   = "created"
	IATIUpdated   = "updated"
	IATIUnchanged = "unchanged"
)

// Upsert writes in as the initiative with the IATI identifier iatiID: it
// creates one when cur is nil, and otherwise updates cur (which the caller
// found by its IATI identifier or otherwise) under the edit rule, unless
// nothing would change. Everything is decided before anything is written.
// before, when not nil, runs first inside a savepoint with the write: the
// caller's own writes for this item (organisations the input names that do
// not exist yet), undone with it when the register refuses the item. It
// returns the outcome and the initiative's id. Invalid input is a 422
// naming the fields, as elsewhere.
func (w *Writer) Upsert(ctx context.Context, cur *Initiative, iatiID string, in Input, before func(context.Context) error) (string, int64, error) {
	status, c, err := w.plan(cur, iatiID, in)
	if err != nil || status == IATIUnchanged {
		return status, idOf(cur), err
	}
	if before == nil {
		id, err := w.apply(ctx, status, cur, iatiID, in, c)
		return status, id, err
	}
	if _, err := w.st.Exec(ctx, `SAVEPOINT register_item`); err != nil {
		return "", 0, fmt.Errorf("programmes: savepoint: %w", err)
	}
	mark := len(w.fts)
	err = before(ctx)
	var id int64
	if err == nil {
		id, err = w.apply(ctx, status, cur, iatiID, in, c)
	}
	if err != nil {
		if fault.KindOf(err) == fault.KindInternal {
			return "", 0, err
		}
		w.fts = w.fts[:mark]
		if _, rerr := w.st.Exec(ctx, `ROLLBACK TO SAVEPOINT register_item`); rerr != nil {
			return "", 0, fmt.Errorf("programmes: roll back item: %w", rerr)
		}
	}
	if _, rerr := w.st.Exec(ctx, `RELEASE SAVEPOINT register_item`); rerr != nil {
		return "", 0, fmt.Errorf("programmes: release savepoint: %w", rerr)
	}
	if err != nil {
		return "", 0, err
	}
	return status, id, nil
}

func idOf(it *Initiative) int64 {
	if it == nil {
		return 0
	}
	return it.ID
}

// plan checks in (the register's rules and, for an update, the edit rule)
// and decides whether Upsert creates, updates or leaves the initiative
// alone. Organisations the input names need not exist yet.
func (w *Writer) plan(cur *Initiative, iatiID string, in Input) (string, clean, error) {
	if cur == nil {
		if err := auth.Check(w.p, ruleCreate, auth.RelNone); err != nil {
			return "", clean{}, err
		}
	}
	c, errs := validate(in, w.pillars)
	if len(errs) > 0 {
		return "", c, fault.Invalid(errs...)
	}
	switch {
	case cur == nil:
		return IATICreated, c, nil
	case canEdit(w.p, cur) != nil:
		return "", c, canEdit(w.p, cur)
	case sameContent(&c.in, &cur.Input) && (cur.iatiID == iatiID || cur.iatiID == ""):
		return IATIUnchanged, c, nil
	}
	return IATIUpdated, c, nil
}

// apply carries out what plan decided: the create through insert, as
// Create writes, or the update through Update.
func (w *Writer) apply(ctx context.Context, status string, cur *Initiative, iatiID string, in Input, c clean) (int64, error) {
	if status == IATICreated {
		ids, err := w.insert(ctx, []pending{{c: c, iatiID: iatiID}}, map[int]*fault.Error{})
		if err != nil {
			return 0, one(err)
		}
		return ids[0], nil
	}
	in.Version = cur.Version
	if err := w.Update(ctx, cur.ID, in); err != nil {
		return cur.ID, err
	}
	if cur.iatiID != iatiID {
		if _, err := w.st.Exec(ctx, `UPDATE initiatives SET iati_identifier = ? WHERE id = ?`, nullStr(iatiID), cur.ID); err != nil {
			if store.IsUniqueViolation(err) {
				return cur.ID, fault.Conflict(fmt.Sprintf("another initiative already has the IATI identifier %q", truncate(iatiID, 80)))
			}
			return cur.ID, fmt.Errorf("programmes: set IATI identifier: %w", err)
		}
	}
	return cur.ID, nil
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
	return slices.Equal(a.Results, b.Results) && slices.Equal(a.Sources, b.Sources)
}
