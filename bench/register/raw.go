package main

import (
	"context"
	"database/sql"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"
	"unicode"

	"golang.org/x/text/runes"
	"golang.org/x/text/transform"
	"golang.org/x/text/unicode/norm"

	"kompas/internal/platform/geo"
	"kompas/internal/platform/store"
	"kompas/internal/programmes"
)

// rawDB is a database/sql handle of the benchmark's own on the same
// database as the server, for the raw-INSERT baseline and the bulk seed: the
// same tables the register writes, without HTTP, validation, organisation
// look-ups or audit.
type rawDB struct {
	db      *sql.DB
	dialect store.Dialect
	orgs    map[string]orgRef // slug -> id and name
	ownerID int64             // the organisation that records (mfa)
	creator string
}

type orgRef struct {
	id   int64
	name string
}

// openRaw opens dsn the way the store does: on SQLite one writer connection
// with WAL, foreign keys, busy timeout, synchronous=NORMAL and BEGIN
// IMMEDIATE; on PostgreSQL a pool of the store's size.
func openRaw(ctx context.Context, d store.Dialect, dsn string, conns int) (*rawDB, error) {
	driver := "pgx"
	if d == store.SQLite {
		driver = "sqlite"
		dsn = "file:" + dsn + "?_pragma=journal_mode(WAL)&_pragma=foreign_keys(1)&_pragma=busy_timeout(10000)&_pragma=synchronous(NORMAL)&_time_format=sqlite&_txlock=immediate"
	}
	db, err := sql.Open(driver, dsn)
	if err != nil {
		return nil, err
	}
	db.SetMaxOpenConns(conns)
	db.SetMaxIdleConns(conns)
	r := &rawDB{db: db, dialect: d, orgs: map[string]orgRef{}, creator: benchUser}
	rows, err := db.QueryContext(ctx, `SELECT id, slug, name FROM organisations`)
	if err != nil {
		db.Close()
		return nil, fmt.Errorf("raw: organisations: %w", err)
	}
	defer rows.Close()
	for rows.Next() {
		var o orgRef
		var slug string
		if err := rows.Scan(&o.id, &slug, &o.name); err != nil {
			db.Close()
			return nil, err
		}
		r.orgs[slug] = o
	}
	if err := rows.Err(); err != nil {
		db.Close()
		return nil, err
	}
	mfa, ok := r.orgs["mfa"]
	if !ok {
		db.Close()
		return nil, fmt.Errorf("raw: organisation mfa missing (demo not loaded?)")
	}
	r.ownerID = mfa.id
	return r, nil
}

func (r *rawDB) Close() error { return r.db.Close() }

func (r *rawDB) orgSlugs() []string {
	out := make([]string, 0, len(r.orgs))
	for s := range r.orgs {
		out = append(out, s)
	}
	slices.Sort(out)
	return out
}

// initCols are the initiatives columns the register's INSERT fills (demo
// key and IATI identifier stay NULL).
var initCols = []string{"title", "summary", "kind", "status", "lead_org_id", "owner_org_id", "start_text", "end_text",
	"start_date", "end_date", "budget_minor", "currency", "report_section", "version", "created_at", "updated_at", "created_by"}

// childTables are the lists, each row led by initiative_id.
var childTables = []struct {
	name string
	cols []string
}{
	{"initiative_partners", []string{"initiative_id", "org_id", "role"}},
	{"initiative_countries", []string{"initiative_id", "code"}},
	{"initiative_regions", []string{"initiative_id", "region"}},
	{"initiative_objectives", []string{"initiative_id", "objective"}},
	{"initiative_principles", []string{"initiative_id", "principle"}},
	{"initiative_pillars", []string{"initiative_id", "pillar"}},
	{"initiative_results", []string{"initiative_id", "seq", "indicator", "value", "unit", "on_date", "source"}},
	{"initiative_sources", []string{"initiative_id", "seq", "title", "url"}},
}

// record is one initiative as rows: the initiatives columns, the search
// text, and the child rows without their initiative_id.
type record struct {
	cols        []any
	title, body string
	children    [][][]any
}

// record turns in into rows exactly as the register stores them.
func (r *rawDB) record(in programmes.Input) record {
	now := store.FormatTime(time.Now())
	var lead any
	if o, ok := r.orgs[in.Lead]; ok {
		lead = o.id
	}
	var budget any
	cur := ""
	if in.Budget != nil {
		budget = minorUnits(string(in.Budget.Amount))
		cur = in.Budget.Currency
	}
	rec := record{
		cols: []any{in.Title, in.Summary, in.Kind, in.Status, lead, r.ownerID, in.Start, in.End,
			fullDate(in.Start, false), fullDate(in.End, true), budget, cur, in.ReportSection, 1, now, now, r.creator},
		title:    in.Title,
		children: make([][][]any, len(childTables)),
	}
	var body strings.Builder
	body.WriteString(in.Summary)
	for _, p := range in.Partners {
		o := r.orgs[p.Org]
		rec.children[0] = append(rec.children[0], []any{o.id, p.Role})
		body.WriteString(" " + o.name + " " + p.Org)
	}
	for _, c := range in.Countries {
		rec.children[1] = append(rec.children[1], []any{c})
		body.WriteString(" " + c + " " + countryName(c))
	}
	for _, reg := range in.Regions {
		rec.children[2] = append(rec.children[2], []any{reg})
		body.WriteString(" " + reg)
	}
	body.WriteString(" " + in.ReportSection)
	for _, n := range in.Objectives {
		rec.children[3] = append(rec.children[3], []any{n})
	}
	for _, p := range in.Principles {
		rec.children[4] = append(rec.children[4], []any{p})
	}
	for _, n := range in.Pillars {
		rec.children[5] = append(rec.children[5], []any{n})
	}
	for i, res := range in.Results {
		rec.children[6] = append(rec.children[6], []any{i, res.Indicator, string(res.Value), res.Unit, res.Date, res.Source})
	}
	for i, s := range in.Sources {
		rec.children[7] = append(rec.children[7], []any{i, s.Title, s.URL})
	}
	rec.body = body.String()
	if r.dialect == store.Postgres {
		// As the register does: PostgreSQL's simple configuration keeps
		// accents, so the indexed text is folded first.
		rec.title, rec.body = foldDiacritics(rec.title), foldDiacritics(rec.body)
	}
	return rec
}

// foldDiacritics is the register's folding of the search text on
// PostgreSQL: combining marks removed.
func foldDiacritics(s string) string {
	t := transform.Chain(norm.NFD, runes.Remove(runes.In(unicode.Mn)), norm.NFC)
	out, _, err := transform.String(t, s)
	if err != nil {
		return s
	}
	return out
}

func countryName(code string) string { return geo.Name(code) }

// fullDate is the register's reading of a partial date: YYYY-MM becomes the
// first (or, for an end, the last) day of the month.
func fullDate(s string, end bool) string {
	if s == "" {
		return ""
	}
	layout := map[int]string{4: "2006", 7: "2006-01", 10: "2006-01-02"}[len(s)]
	t, err := time.Parse(layout, s)
	if err != nil {
		return ""
	}
	if end {
		switch len(s) {
		case 4:
			t = t.AddDate(1, 0, -1)
		case 7:
			t = t.AddDate(0, 1, -1)
		}
	}
	return t.Format("2006-01-02")
}

// minorUnits reads "1250" or "1250.5" as cents.
func minorUnits(a string) int64 {
	whole, frac, _ := strings.Cut(a, ".")
	frac = (frac + "00")[:2]
	w, _ := strconv.ParseInt(whole, 10, 64)
	f, _ := strconv.ParseInt(frac, 10, 64)
	return w*100 + f
}

// searchExpr is the PostgreSQL expression the register stores in
// initiatives.search, over two arguments (title, body).
const searchExpr = `setweight(to_tsvector('simple', ?), 'A') || to_tsvector('simple', ?)`

func placeholders(n int) string {
	return strings.TrimSuffix(strings.Repeat("?, ", n), ", ")
}

// rawWriter inserts one initiative per transaction with statements prepared
// once.
type rawWriter struct {
	r     *rawDB
	ins   *sql.Stmt
	child []*sql.Stmt
	fts   *sql.Stmt
}

func (r *rawDB) prepareWriter(ctx context.Context) (*rawWriter, error) {
	w := &rawWriter{r: r}
	d := r.dialect
	q := `INSERT INTO initiatives (` + strings.Join(initCols, ", ")
	if d == store.Postgres {
		q += `, search) VALUES (` + placeholders(len(initCols)) + `, ` + searchExpr + `) RETURNING id`
	} else {
		q += `) VALUES (` + placeholders(len(initCols)) + `) RETURNING id`
	}
	var err error
	if w.ins, err = r.db.PrepareContext(ctx, d.Rebind(q)); err != nil {
		return nil, fmt.Errorf("raw: prepare: %w", err)
	}
	for _, t := range childTables {
		s, err := r.db.PrepareContext(ctx, d.Rebind(`INSERT INTO `+t.name+` (`+strings.Join(t.cols, ", ")+`) VALUES (`+placeholders(len(t.cols))+`)`))
		if err != nil {
			return nil, fmt.Errorf("raw: prepare: %w", err)
		}
		w.child = append(w.child, s)
	}
	if d == store.SQLite {
		if w.fts, err = r.db.PrepareContext(ctx, `INSERT INTO initiatives_fts (rowid, title, body) VALUES (?, ?, ?)`); err != nil {
			return nil, fmt.Errorf("raw: prepare: %w", err)
		}
	}
	return w, nil
}

func (w *rawWriter) Close() {
	for _, s := range append([]*sql.Stmt{w.ins, w.fts}, w.child...) {
		if s != nil {
			s.Close()
		}
	}
}

// write inserts rec in its own transaction.
func (w *rawWriter) write(ctx context.Context, rec record) (err error) {
	tx, err := w.r.db.BeginTx(ctx, nil)
	if err != nil {
		return err
	}
	defer func() {
		if err != nil {
			_ = tx.Rollback()
		}
	}()
	args := rec.cols
	if w.r.dialect == store.Postgres {
		args = append(append([]any{}, rec.cols...), rec.title, rec.body)
	}
	var id int64
	if err := tx.StmtContext(ctx, w.ins).QueryRowContext(ctx, args...).Scan(&id); err != nil {
		return fmt.Errorf("raw: insert: %w", err)
	}
	for t, rows := range rec.children {
		if len(rows) == 0 {
			continue
		}
		st := tx.StmtContext(ctx, w.child[t])
		for _, row := range rows {
			if _, err := st.ExecContext(ctx, append([]any{id}, row...)...); err != nil {
				return fmt.Errorf("raw: insert %s: %w", childTables[t].name, err)
			}
		}
	}
	if w.fts != nil {
		if _, err := tx.StmtContext(ctx, w.fts).ExecContext(ctx, id, rec.title, rec.body); err != nil {
			return fmt.Errorf("raw: insert fts: %w", err)
		}
	}
	return tx.Commit()
}

// multiInsert runs INSERT INTO table (cols) [mid] VALUES tmpl, tmpl, … over
// rows, as few statements as the engines' parameter limits allow.
func multiInsert(ctx context.Context, tx *sql.Tx, d store.Dialect, table string, cols []string, mid, tmpl string, rows [][]any) error {
	if len(rows) == 0 {
		return nil
	}
	per := min(500, 30000/len(rows[0]))
	head := `INSERT INTO ` + table + ` (` + strings.Join(cols, ", ") + `) ` + mid + ` VALUES `
	for len(rows) > 0 {
		n := min(per, len(rows))
		var b strings.Builder
		b.WriteString(head)
		args := make([]any, 0, n*len(rows[0]))
		for i, row := range rows[:n] {
			if i > 0 {
				b.WriteString(", ")
			}
			b.WriteString(tmpl)
			args = append(args, row...)
		}
		if _, err := tx.ExecContext(ctx, d.Rebind(b.String()), args...); err != nil {
			return fmt.Errorf("seed %s: %w", table, err)
		}
		rows = rows[n:]
	}
	return nil
}

// seed bulk-loads count initiatives from g with ids from firstID on, perTx
// initiatives per transaction, with their lists and search entries.
func (r *rawDB) seed(ctx context.Context, g *gen, count int, firstID int64, perTx int, progress func(done int)) error {
	d := r.dialect
	cols := append([]string{"id"}, initCols...)
	tmpl := "(" + placeholders(len(cols)) + ")"
	mid := ""
	if d == store.Postgres {
		cols = append(cols, "search")
		tmpl = "(" + placeholders(len(cols)-1) + ", " + searchExpr + ")"
		mid = "OVERRIDING SYSTEM VALUE"
	}
	for done := 0; done < count; {
		n := min(perTx, count-done)
		var inits, fts [][]any
		children := make([][][]any, len(childTables))
		for i := 0; i < n; i++ {
			id := firstID + int64(done+i)
			rec := r.record(g.input())
			row := append([]any{id}, rec.cols...)
			if d == store.Postgres {
				row = append(row, rec.title, rec.body)
			} else {
				fts = append(fts, []any{id, rec.title, rec.body})
			}
			inits = append(inits, row)
			for t, rows := range rec.children {
				for _, cr := range rows {
					children[t] = append(children[t], append([]any{id}, cr...))
				}
			}
		}
		tx, err := r.db.BeginTx(ctx, nil)
		if err != nil {
			return err
		}
		err = multiInsert(ctx, tx, d, "initiatives", cols, mid, tmpl, inits)
		for t, rows := range children {
			if err == nil {
				ct := childTables[t]
				err = multiInsert(ctx, tx, d, ct.name, ct.cols, "", "("+placeholders(len(ct.cols))+")", rows)
			}
		}
		if err == nil && d == store.SQLite {
			err = multiInsert(ctx, tx, d, "initiatives_fts", []string{"rowid", "title", "body"}, "", "(?, ?, ?)", fts)
		}
		if err != nil {
			_ = tx.Rollback()
			return err
		}
		if err := tx.Commit(); err != nil {
			return err
		}
		done += n
		if progress != nil {
			progress(done)
		}
	}
	if d == store.Postgres {
		// Identity values were given explicitly: move the sequence past them,
		// then do what autovacuum would do shortly after a bulk load.
		if _, err := r.db.ExecContext(ctx, `SELECT setval(pg_get_serial_sequence('initiatives', 'id'), (SELECT MAX(id) FROM initiatives))`); err != nil {
			return fmt.Errorf("seed: setval: %w", err)
		}
		tables := []string{"initiatives"}
		for _, t := range childTables {
			tables = append(tables, t.name)
		}
		if _, err := r.db.ExecContext(ctx, `VACUUM ANALYZE `+strings.Join(tables, ", ")); err != nil {
			return fmt.Errorf("seed: vacuum analyze: %w", err)
		}
	}
	return nil
}

// checkpoint writes the log back into the database (SQLite: a truncating
// WAL checkpoint; PostgreSQL: CHECKPOINT, skipped without the privilege).
func (r *rawDB) checkpoint(ctx context.Context) error {
	if r.dialect == store.SQLite {
		_, err := r.db.ExecContext(ctx, `PRAGMA wal_checkpoint(TRUNCATE)`)
		return err
	}
	_, _ = r.db.ExecContext(ctx, `CHECKPOINT`)
	return nil
}
