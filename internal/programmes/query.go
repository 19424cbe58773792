package programmes

import (
	"context"
	"fmt"
	"net/url"
	"strconv"
	"strings"
	"unicode"

	"golang.org/x/text/runes"
	"golang.org/x/text/transform"
	"golang.org/x/text/unicode/norm"

	"kompas/internal/gcm"
	"kompas/internal/platform/fault"
	"kompas/internal/platform/geo"
	"kompas/internal/platform/store"
)

func countryName(code string) string { return geo.Name(code) }

// foldDiacritics removes combining marks: "Côte d’Ivoire" becomes
// "Cote d’Ivoire".
func foldDiacritics(s string) string {
	t := transform.Chain(norm.NFD, runes.Remove(runes.In(unicode.Mn)), norm.NFC)
	out, _, err := transform.String(t, s)
	if err != nil {
		return s
	}
	return out
}

// loadLists fills the lists of each initiative with one query per list.
func loadLists(ctx context.Context, q store.Querier, items []*Initiative) error {
	if len(items) == 0 {
		return nil
	}
	byID := make(map[int64]*Initiative, len(items))
	ids := make([]any, 0, len(items))
	for _, it := range items {
		byID[it.ID] = it
		ids = append(ids, it.ID)
		it.Countries, it.Regions, it.Objectives, it.Principles, it.Pillars = []string{}, []string{}, []int{}, []string{}, []int{}
		it.Partners, it.Results, it.Sources = []Partner{}, []Result{}, []Source{}
	}
	in := "(" + strings.TrimSuffix(strings.Repeat("?,", len(ids)), ",") + ")"
	rows, err := q.Query(ctx, `SELECT p.initiative_id, o.slug, p.role, o.name FROM initiative_partners p JOIN organisations o ON o.id = p.org_id
		WHERE p.initiative_id IN `+in+` ORDER BY p.initiative_id, CASE p.role WHEN 'lead' THEN 0 WHEN 'chair' THEN 1 WHEN 'funder' THEN 2 WHEN 'co-funder' THEN 3 WHEN 'implementer' THEN 4 ELSE 5 END, o.name`, ids...)
	if err != nil {
		return fmt.Errorf("programmes: load partners: %w", err)
	}
	for rows.Next() {
		var id int64
		var p Partner
		if err := rows.Scan(&id, &p.Org, &p.Role, &p.Name); err != nil {
			rows.Close()
			return err
		}
		byID[id].Partners = append(byID[id].Partners, p)
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return err
	}
	strList := func(query string, set func(it *Initiative, v string)) error {
		rows, err := q.Query(ctx, query, ids...)
		if err != nil {
			return fmt.Errorf("programmes: load lists: %w", err)
		}
		defer rows.Close()
		for rows.Next() {
			var id int64
			var v string
			if err := rows.Scan(&id, &v); err != nil {
				return err
			}
			set(byID[id], v)
		}
		return rows.Err()
	}
	if err := strList(`SELECT initiative_id, code FROM initiative_countries WHERE initiative_id IN `+in+` ORDER BY initiative_id, code`,
		func(it *Initiative, v string) { it.Countries = append(it.Countries, v) }); err != nil {
		return err
	}
	if err := strList(`SELECT initiative_id, region FROM initiative_regions WHERE initiative_id IN `+in+` ORDER BY initiative_id, region`,
		func(it *Initiative, v string) { it.Regions = append(it.Regions, v) }); err != nil {
		return err
	}
	if err := strList(`SELECT initiative_id, principle FROM initiative_principles WHERE initiative_id IN `+in+` ORDER BY initiative_id, principle`,
		func(it *Initiative, v string) { it.Principles = append(it.Principles, v) }); err != nil {
		return err
	}
	if err := strList(`SELECT initiative_id, objective FROM initiative_objectives WHERE initiative_id IN `+in+` ORDER BY initiative_id, objective`,
		func(it *Initiative, v string) { n, _ := strconv.Atoi(v); it.Objectives = append(it.Objectives, n) }); err != nil {
		return err
	}
	if err := strList(`SELECT initiative_id, pillar FROM initiative_pillars WHERE initiative_id IN `+in+` ORDER BY initiative_id, pillar`,
		func(it *Initiative, v string) { n, _ := strconv.Atoi(v); it.Pillars = append(it.Pillars, n) }); err != nil {
		return err
	}
	rows, err = q.Query(ctx, `SELECT initiative_id, indicator, value, unit, on_date, source FROM initiative_results WHERE initiative_id IN `+in+` ORDER BY initiative_id, seq`, ids...)
	if err != nil {
		return fmt.Errorf("programmes: load results: %w", err)
	}
	for rows.Next() {
		var id int64
		var r Result
		var v string
		if err := rows.Scan(&id, &r.Indicator, &v, &r.Unit, &r.Date, &r.Source); err != nil {
			rows.Close()
			return err
		}
		r.Value = Value(v)
		byID[id].Results = append(byID[id].Results, r)
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return err
	}
	rows, err = q.Query(ctx, `SELECT initiative_id, title, url FROM initiative_sources WHERE initiative_id IN `+in+` ORDER BY initiative_id, seq`, ids...)
	if err != nil {
		return fmt.Errorf("programmes: load sources: %w", err)
	}
	defer rows.Close()
	for rows.Next() {
		var id int64
		var s Source
		if err := rows.Scan(&id, &s.Title, &s.URL); err != nil {
			return err
		}
		byID[id].Sources = append(byID[id].Sources, s)
	}
	return rows.Err()
}

// Filter selects initiatives for the register and the API.
type Filter struct {
	Query     string
	Objective int
	Pillar    int
	Country   string
	Partner   string
	Kind      string
	Status    string
	Year      int
	Page      int
	PerPage   int
}

// MaxPerPage caps a page.
const MaxPerPage = 100

// ParseFilter reads a filter from query parameters; bad values are field
// errors (400).
func ParseFilter(v url.Values) (Filter, error) {
	f := Filter{Query: strings.TrimSpace(v.Get("q")), Country: strings.ToUpper(strings.TrimSpace(v.Get("country"))),
		Partner: strings.TrimSpace(v.Get("partner")), Kind: v.Get("kind"), Status: v.Get("status"), Page: 1, PerPage: 25}
	var errs []fault.FieldError
	num := func(name string, dst *int, lo, hi int) {
		s := strings.TrimSpace(v.Get(name))
		if s == "" {
			return
		}
		n, err := strconv.Atoi(s)
		if err != nil || n < lo || n > hi {
			errs = append(errs, fault.FieldError{Field: name, Message: fmt.Sprintf("must be a whole number from %d to %d", lo, hi)})
			return
		}
		*dst = n
	}
	num("objective", &f.Objective, 1, 23)
	num("pillar", &f.Pillar, 1, 99)
	num("year", &f.Year, 1900, 2200)
	num("page", &f.Page, 1, 1_000_000)
	num("per_page", &f.PerPage, 1, MaxPerPage)
	if f.Country != "" && !geo.Valid(f.Country) {
		errs = append(errs, fault.FieldError{Field: "country", Message: "must be an ISO 3166-1 alpha-2 country code"})
	}
	if f.Partner != "" && !isSlug(f.Partner) {
		errs = append(errs, fault.FieldError{Field: "partner", Message: "must be an organisation slug"})
	}
	if f.Kind != "" && !oneOf(f.Kind, Kinds) {
		errs = append(errs, fault.FieldError{Field: "kind", Message: "must be one of " + strings.Join(Kinds, ", ")})
	}
	if f.Status != "" && !oneOf(f.Status, Statuses) {
		errs = append(errs, fault.FieldError{Field: "status", Message: "must be one of " + strings.Join(Statuses, ", ")})
	}
	if len(f.Query) > 200 {
		errs = append(errs, fault.FieldError{Field: "q", Message: "must be at most 200 characters"})
	}
	if len(errs) > 0 {
		return f, fault.Malformed("Some filters are not valid.", errs...)
	}
	return f, nil
}

// Values turns f back into query parameters (for links and pagination).
func (f Filter) Values() url.Values {
	v := url.Values{}
	set := func(k, s string) {
		if s != "" {
			v.Set(k, s)
		}
	}
	set("q", f.Query)
	set("country", f.Country)
	set("partner", f.Partner)
	set("kind", f.Kind)
	set("status", f.Status)
	if f.Objective > 0 {
		v.Set("objective", strconv.Itoa(f.Objective))
	}
	if f.Pillar > 0 {
		v.Set("pillar", strconv.Itoa(f.Pillar))
	}
	if f.Year > 0 {
		v.Set("year", strconv.Itoa(f.Year))
	}
	if f.PerPage != 25 && f.PerPage > 0 {
		v.Set("per_page", strconv.Itoa(f.PerPage))
	}
	return v
}

// ftsTerms turns free text into search terms: words of letters and digits
// only (so no user text reaches the query syntax), each matched as a prefix.
// Diacritics are removed, so that "cote" finds "Côte" and the other way
// round on both engines (SQLite's tokenizer removes them from the index;
// PostgreSQL's simple configuration does not, so the index text is folded
// the same way before it is indexed).
func ftsTerms(q string) []string {
	words := strings.FieldsFunc(strings.ToLower(foldDiacritics(q)), func(r rune) bool { return !unicode.IsLetter(r) && !unicode.IsDigit(r) })
	if len(words) > 12 {
		words = words[:12]
	}
	return words
}

// sqlParts is a filter rendered as SQL: a join (for SQLite's FTS table), the
// WHERE clause, its arguments, and the ORDER BY.
type sqlParts struct {
	join, where, order string
	ranked             bool   // a search: ordered by relevance
	ftsIn              string // SQLite: the search as an IN condition, for title order
	countWhere         string // where with the list filters as IN, for the count
	joinArgs, args     []any
	orderArgs          []any
}

// sql renders f for dialect d. Searching orders by relevance (bm25 on
// SQLite, ts_rank on PostgreSQL), otherwise by title.
func (f Filter) sql(d store.Dialect) sqlParts {
	var conds []string
	var args []any
	sp := sqlParts{order: " ORDER BY i.title, i.id"}
	if terms := ftsTerms(f.Query); len(terms) > 0 {
		sp.ranked = true
		if d == store.Postgres {
			parts := make([]string, len(terms))
			for i, t := range terms {
				parts[i] = t + ":*"
			}
			tsq := strings.Join(parts, " & ")
			conds = append(conds, "i.search @@ to_tsquery('simple', ?)")
			args = append(args, tsq)
			sp.order = " ORDER BY ts_rank(i.search, to_tsquery('simple', ?)) DESC, i.title, i.id"
			sp.orderArgs = []any{tsq}
		} else {
			parts := make([]string, len(terms))
			for i, t := range terms {
				parts[i] = `"` + t + `"*`
			}
			sp.join = " JOIN (SELECT rowid AS fts_id, bm25(initiatives_fts, 5.0, 1.0) AS fts_score FROM initiatives_fts WHERE initiatives_fts MATCH ?) fts ON fts.fts_id = i.id"
			sp.ftsIn = "i.id IN (SELECT rowid FROM initiatives_fts WHERE initiatives_fts MATCH ?)"
			sp.joinArgs = []any{strings.Join(parts, " ")}
			sp.order = " ORDER BY fts.fts_score, i.title, i.id"
		}
	}
	// A list filter is an EXISTS for the page, so that the page query can
	// walk the title index and stop after one page, and an IN for the
	// count, which then reads only the matching ids from the list's own
	// index: SQLite runs an EXISTS as a correlated probe of every initiative.
	countConds := append([]string(nil), conds...)
	list := func(from, cond string, arg any) {
		conds = append(conds, "EXISTS (SELECT 1 FROM "+from+" WHERE x.initiative_id = i.id AND "+cond+")")
		countConds = append(countConds, "i.id IN (SELECT x.initiative_id FROM "+from+" WHERE "+cond+")")
		args = append(args, arg)
	}
	if f.Objective > 0 {
		list("initiative_objectives x", "x.objective = ?", f.Objective)
	}
	if f.Pillar > 0 {
		list("initiative_pillars x", "x.pillar = ?", f.Pillar)
	}
	if f.Country != "" {
		list("initiative_countries x", "x.code = ?", f.Country)
	}
	if f.Partner != "" {
		list("initiative_partners x JOIN organisations xo ON xo.id = x.org_id", "xo.slug = ?", f.Partner)
	}
	if f.Kind != "" {
		conds = append(conds, "i.kind = ?")
		countConds = append(countConds, "i.kind = ?")
		args = append(args, f.Kind)
	}
	if f.Status != "" {
		conds = append(conds, "i.status = ?")
		countConds = append(countConds, "i.status = ?")
		args = append(args, f.Status)
	}
	if f.Year > 0 {
		y := strconv.Itoa(f.Year)
		c := "(i.start_date = '' OR i.start_date <= ?) AND (i.end_date = '' OR i.end_date >= ?)"
		conds = append(conds, c)
		countConds = append(countConds, c)
		args = append(args, y+"-12-31", y+"-01-01")
	}
	if len(conds) > 0 {
		sp.where = " WHERE " + strings.Join(conds, " AND ")
		sp.countWhere = " WHERE " + strings.Join(countConds, " AND ")
	}
	sp.args = args
	return sp
}

// Page is one page of a listing.
type Page struct {
	Order   string        `json:"order" doc:"relevance (a search with at most 5,000 matches), newest (a search with more) or title (no search)"`
	Items   []*Initiative `json:"items"`
	Total   int           `json:"total"`
	Page    int           `json:"page"`
	PerPage int           `json:"per_page"`
}

// RankedMatches is the default number of search matches up to which a
// search is ordered by relevance. Scoring costs time in proportion to the
// matches, so a search of common words (half the register) is ordered newest
// first instead and says so: more words or a filter bring relevance back.
const RankedMatches = 5000

// fewMatches is the count up to which List reads a page through the
// filters' indexes (IN) rather than in title order (EXISTS).
const fewMatches = 2000

// List returns one page of initiatives matching f, by relevance when
// searching and by title otherwise.
func (r *Register) List(ctx context.Context, f Filter) (*Page, error) {
	if f.PerPage <= 0 || f.PerPage > MaxPerPage {
		f.PerPage = 25
	}
	if f.Page <= 0 {
		f.Page = 1
	}
	sp := f.sql(r.DB.Dialect())
	out := &Page{Items: []*Initiative{}, Page: f.Page, PerPage: f.PerPage}
	countArgs := append(append([]any{}, sp.joinArgs...), sp.args...)
	countQuery := `SELECT COUNT(*) FROM initiatives i` + sp.join + sp.countWhere
	if sp.ftsIn != "" && sp.countWhere == "" {
		// A search alone: the FTS table holds one row per initiative, so it
		// counts the matches without touching the initiatives.
		countQuery = `SELECT COUNT(*) FROM initiatives_fts WHERE initiatives_fts MATCH ?`
	}
	if err := r.DB.QueryRow(ctx, countQuery, countArgs...).Scan(&out.Total); err != nil {
		return nil, fmt.Errorf("programmes: count: %w", err)
	}
	out.Order = "title"
	limit := r.RankedMatches
	if limit <= 0 {
		limit = RankedMatches
	}
	if sp.ranked {
		out.Order = "relevance"
		if out.Total > limit {
			out.Order = "newest"
		}
	}
	offset := (f.Page - 1) * f.PerPage
	if offset >= out.Total {
		return out, nil
	}
	// Few matches: read them through the filters' own indexes and sort
	// them; many: walk the title index and stop after the page.
	where := sp.where
	if out.Total <= fewMatches {
		where = sp.countWhere
	}
	join, order, orderArgs := sp.join, sp.order, sp.orderArgs
	limitClause := fmt.Sprintf(" LIMIT %d OFFSET %d", f.PerPage, offset)
	if out.Order == "newest" {
		// Newest first needs no scoring: the matches' ids in descending
		// order. On SQLite without other filters FTS5 reads them straight
		// off its doclists and stops after the page.
		order, orderArgs = " ORDER BY i.id DESC", nil
		if sp.ftsIn != "" {
			if where == "" {
				join = " JOIN (SELECT rowid AS fts_id FROM initiatives_fts WHERE initiatives_fts MATCH ? ORDER BY rowid DESC" + limitClause + ") fts ON fts.fts_id = i.id"
				limitClause = ""
			} else {
				join = ""
				where = " WHERE " + sp.ftsIn + " AND " + strings.TrimPrefix(where, " WHERE ")
			}
		}
	}
	qargs := append(countArgs, orderArgs...)
	q := `SELECT ` + initiativeColumns + initiativeFrom + join + where + order + limitClause
	rows, err := r.DB.Query(ctx, q, qargs...)
	if err != nil {
		return nil, fmt.Errorf("programmes: list: %w", err)
	}
	defer rows.Close()
	for rows.Next() {
		it, err := scanInitiative(rows)
		if err != nil {
			return nil, fmt.Errorf("programmes: list: %w", err)
		}
		out.Items = append(out.Items, it)
	}
	if err := rows.Err(); err != nil {
		return nil, err
	}
	rows.Close()
	if err := loadLists(ctx, r.DB, out.Items); err != nil {
		return nil, err
	}
	return out, nil
}

// All returns every initiative matching f (its page fields are ignored) in
// the list's order: one query for the initiatives and one per list for each
// chunk of them, instead of a COUNT and an OFFSET page at a time.
func (r *Register) All(ctx context.Context, f Filter) ([]*Initiative, error) {
	sp := f.sql(r.DB.Dialect())
	args := append(append(append([]any{}, sp.joinArgs...), sp.args...), sp.orderArgs...)
	rows, err := r.DB.Query(ctx, `SELECT `+initiativeColumns+initiativeFrom+sp.join+sp.where+sp.order, args...)
	if err != nil {
		return nil, fmt.Errorf("programmes: all: %w", err)
	}
	var all []*Initiative
	for rows.Next() {
		it, err := scanInitiative(rows)
		if err != nil {
			rows.Close()
			return nil, fmt.Errorf("programmes: all: %w", err)
		}
		all = append(all, it)
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("programmes: all: %w", err)
	}
	// Chunks keep the IN lists well under either engine's parameter limit.
	const chunk = 500
	for i := 0; i < len(all); i += chunk {
		if err := loadLists(ctx, r.DB, all[i:min(i+chunk, len(all))]); err != nil {
			return nil, err
		}
	}
	return all, nil
}

// Coverage counts initiatives per objective and pillar.
type Coverage struct {
	Counts   map[int]map[int]int // objective -> pillar -> initiatives
	Totals   map[int]int         // objective -> initiatives
	NoPillar map[int]int         // objective -> initiatives mapped to no pillar
}

// Coverage computes the objectives × pillars matrix.
func (r *Register) Coverage(ctx context.Context) (*Coverage, error) {
	c := &Coverage{Counts: map[int]map[int]int{}, Totals: map[int]int{}, NoPillar: map[int]int{}}
	rows, err := r.DB.Query(ctx, `SELECT o.objective, p.pillar, COUNT(*) FROM initiative_objectives o
		JOIN initiative_pillars p ON p.initiative_id = o.initiative_id GROUP BY o.objective, p.pillar`)
	if err != nil {
		return nil, fmt.Errorf("programmes: coverage: %w", err)
	}
	for rows.Next() {
		var o, p, n int
		if err := rows.Scan(&o, &p, &n); err != nil {
			rows.Close()
			return nil, err
		}
		if c.Counts[o] == nil {
			c.Counts[o] = map[int]int{}
		}
		c.Counts[o][p] = n
	}
	rows.Close()
	rows, err = r.DB.Query(ctx, `SELECT o.objective, COUNT(*),
		SUM(CASE WHEN NOT EXISTS (SELECT 1 FROM initiative_pillars p WHERE p.initiative_id = o.initiative_id) THEN 1 ELSE 0 END)
		FROM initiative_objectives o GROUP BY o.objective`)
	if err != nil {
		return nil, fmt.Errorf("programmes: coverage: %w", err)
	}
	defer rows.Close()
	for rows.Next() {
		var o, n, np int
		if err := rows.Scan(&o, &n, &np); err != nil {
			return nil, err
		}
		c.Totals[o] = n
		c.NoPillar[o] = np
	}
	return c, rows.Err()
}

// MoneyRow is a total of budgets.
type MoneyRow struct {
	Key         string `json:"key"`
	Label       string `json:"label"`
	Currency    string `json:"currency"`
	AmountMinor int64  `json:"-"`
	Amount      string `json:"amount"`
	Initiatives int    `json:"initiatives"`
}

// Money sums budgets by "objective", "partner" or "country". An initiative
// counts in full under each of its objectives, partners or countries, so the
// rows overlap; the page says so.
func (r *Register) Money(ctx context.Context, by string) ([]MoneyRow, error) {
	var q string
	switch by {
	case "objective":
		q = `SELECT CAST(x.objective AS TEXT), '', i.currency, SUM(i.budget_minor), COUNT(*) FROM initiative_objectives x JOIN initiatives i ON i.id = x.initiative_id
			WHERE i.budget_minor IS NOT NULL GROUP BY x.objective, i.currency ORDER BY x.objective, i.currency`
	case "partner":
		// An organisation with two roles in one initiative (lead and
		// funder) counts that budget once.
		q = `SELECT o.slug, o.name, i.currency, SUM(i.budget_minor), COUNT(*) FROM (SELECT DISTINCT initiative_id, org_id FROM initiative_partners) x
			JOIN initiatives i ON i.id = x.initiative_id JOIN organisations o ON o.id = x.org_id
			WHERE i.budget_minor IS NOT NULL GROUP BY o.slug, o.name, i.currency ORDER BY 4 DESC, o.name, i.currency`
	case "country":
		q = `SELECT x.code, '', i.currency, SUM(i.budget_minor), COUNT(*) FROM initiative_countries x JOIN initiatives i ON i.id = x.initiative_id
			WHERE i.budget_minor IS NOT NULL GROUP BY x.code, i.currency ORDER BY 4 DESC, x.code, i.currency`
	default:
		return nil, fault.Malformed("Unknown grouping.", fault.FieldError{Field: "by", Message: "must be objective, partner or country"})
	}
	rows, err := r.DB.Query(ctx, q)
	if err != nil {
		return nil, fmt.Errorf("programmes: money by %s: %w", by, err)
	}
	defer rows.Close()
	out := []MoneyRow{}
	for rows.Next() {
		var m MoneyRow
		if err := rows.Scan(&m.Key, &m.Label, &m.Currency, &m.AmountMinor, &m.Initiatives); err != nil {
			return nil, err
		}
		m.Amount = formatMinor(m.AmountMinor)
		switch by {
		case "country":
			m.Label = countryName(m.Key)
		case "objective":
			n, _ := strconv.Atoi(m.Key)
			m.Label = fmt.Sprintf("%d. %s", n, gcm.ObjectiveTitle(n))
		}
		out = append(out, m)
	}
	return out, rows.Err()
}
