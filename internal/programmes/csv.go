package programmes

import (
	"bufio"
	"context"
	"encoding/csv"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"sort"
	"strconv"
	"strings"

	"kompas/internal/platform/audit"
	"kompas/internal/platform/auth"
	"kompas/internal/platform/fault"
	"kompas/internal/platform/store"
	"kompas/internal/platform/web"
)

// csvHeader is the column order of the CSV export and import. Lists are
// separated by "; ", partners are "slug:role", and results and sources are
// JSON arrays (they have several fields each).
var csvHeader = []string{"id", "version", "title", "summary", "kind", "status", "lead", "start", "end", "countries", "regions",
	"objectives", "principles", "pillars", "partners", "budget_amount", "budget_currency", "report_section", "results", "sources"}

const maxImport = 20 << 20

// maxImportRows bounds one import.
const maxImportRows = 50_000

// needsQuote reports whether a spreadsheet would run s as a formula, or s
// only looks like a cell spreadsheetSafe quoted (apostrophes before a
// formula character), so that unsafeCell(spreadsheetSafe(s)) == s always.
func needsQuote(s string) bool {
	s = strings.TrimLeft(s, "'")
	return s != "" && strings.ContainsRune("=+-@\t\r", rune(s[0]))
}

// spreadsheetSafe defuses cells a spreadsheet would run as a formula.
func spreadsheetSafe(s string) string {
	if needsQuote(s) {
		return "'" + s
	}
	return s
}

// unsafeCell undoes spreadsheetSafe.
func unsafeCell(s string) string {
	if strings.HasPrefix(s, "'") && needsQuote(s[1:]) {
		return s[1:]
	}
	return s
}

func joinInts(ns []int) string {
	parts := make([]string, len(ns))
	for i, n := range ns {
		parts[i] = strconv.Itoa(n)
	}
	return strings.Join(parts, "; ")
}

// WriteCSV writes initiatives as CSV.
func WriteCSV(w io.Writer, items []*Initiative) error {
	cw := csv.NewWriter(w)
	if err := cw.Write(csvHeader); err != nil {
		return err
	}
	for _, it := range items {
		partners := make([]string, len(it.Partners))
		for i, p := range it.Partners {
			partners[i] = p.Org + ":" + p.Role
		}
		amount, cur := "", ""
		if it.Budget != nil {
			amount, cur = string(it.Budget.Amount), it.Budget.Currency
		}
		results, _ := json.Marshal(it.Results)
		sources, _ := json.Marshal(it.Sources)
		rec := []string{strconv.FormatInt(it.ID, 10), strconv.Itoa(it.Version), it.Title, it.Summary, it.Kind, it.Status, it.Lead, it.Start, it.End,
			strings.Join(it.Countries, "; "), strings.Join(it.Regions, "; "), joinInts(it.Objectives), strings.Join(it.Principles, "; "),
			joinInts(it.Pillars), strings.Join(partners, "; "), amount, cur, it.ReportSection, string(results), string(sources)}
		for i := range rec {
			rec[i] = spreadsheetSafe(rec[i])
		}
		if err := cw.Write(rec); err != nil {
			return err
		}
	}
	cw.Flush()
	return cw.Error()
}

// CSVRow is one parsed import row.
type CSVRow struct {
	Line    int
	ID      int64
	Version int
	Input   Input
}

func splitList(s string) []string {
	var out []string
	for _, p := range strings.Split(s, ";") {
		if p = strings.TrimSpace(p); p != "" {
			out = append(out, p)
		}
	}
	return out
}

// ParseCSV reads an import file. Errors name the line and column; the
// caller imports nothing when there are any.
func ParseCSV(r io.Reader) ([]CSVRow, []fault.FieldError, error) {
	// A byte order mark (as spreadsheets write) goes, even before a quoted
	// first header cell.
	br := bufio.NewReader(r)
	if b, err := br.Peek(3); err == nil && string(b) == "\ufeff" {
		_, _ = br.Discard(3)
	}
	cr := csv.NewReader(br)
	cr.FieldsPerRecord = -1
	cr.ReuseRecord = false
	header, err := cr.Read()
	if errors.Is(err, io.EOF) {
		return nil, nil, fault.Malformed("The CSV file is empty.")
	}
	if err != nil {
		return nil, nil, fault.Malformed("The CSV file could not be read: " + err.Error())
	}
	col := map[string]int{}
	for i, h := range header {
		h = strings.TrimSpace(strings.TrimPrefix(h, "\ufeff"))
		if !oneOf(h, csvHeader) {
			return nil, nil, fault.Malformed("The CSV header has an unknown column.", fault.FieldError{Field: fmt.Sprintf("header[%d]", i), Message: fmt.Sprintf("%q is not a column (columns: %s)", truncate(h, 40), strings.Join(csvHeader, ", "))})
		}
		if _, dup := col[h]; dup {
			return nil, nil, fault.Malformed("The CSV header names a column twice.", fault.FieldError{Field: h, Message: "given twice"})
		}
		col[h] = i
	}
	for _, need := range []string{"title", "kind", "status"} {
		if _, ok := col[need]; !ok {
			return nil, nil, fault.Malformed("The CSV header lacks a required column.", fault.FieldError{Field: need, Message: "column is required"})
		}
	}
	var rows []CSVRow
	var errs []fault.FieldError
	for {
		rec, err := cr.Read()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			// The error names its own line; FieldPos would panic on a
			// record that ended before its first field did.
			return nil, nil, fault.Malformed(fmt.Sprintf("The CSV file could not be read: %v", err))
		}
		line, _ := cr.FieldPos(0)
		if len(rows) >= maxImportRows {
			return nil, nil, fault.Malformed(fmt.Sprintf("The CSV file has more than %d rows; split it.", maxImportRows))
		}
		get := func(name string) string {
			if i, ok := col[name]; ok && i < len(rec) {
				return unsafeCell(rec[i])
			}
			return ""
		}
		bad := func(field, msg string) {
			errs = append(errs, fault.FieldError{Field: fmt.Sprintf("line %d: %s", line, field), Message: msg})
		}
		row := CSVRow{Line: line}
		if s := strings.TrimSpace(get("id")); s != "" {
			if row.ID, err = strconv.ParseInt(s, 10, 64); err != nil || row.ID <= 0 {
				bad("id", "must be a positive whole number or empty")
			}
		}
		if s := strings.TrimSpace(get("version")); s != "" {
			if row.Version, err = strconv.Atoi(s); err != nil || row.Version <= 0 {
				bad("version", "must be a positive whole number or empty")
			}
		}
		in := Input{Title: get("title"), Summary: get("summary"), Kind: strings.TrimSpace(get("kind")), Status: strings.TrimSpace(get("status")),
			Lead: get("lead"), Start: get("start"), End: get("end"), Countries: splitList(get("countries")), Regions: splitList(get("regions")),
			Principles: splitList(get("principles")), ReportSection: get("report_section"), Version: row.Version}
		for _, pair := range []struct {
			name string
			dst  *[]int
		}{{"objectives", &in.Objectives}, {"pillars", &in.Pillars}} {
			for _, s := range splitList(get(pair.name)) {
				n, err := strconv.Atoi(s)
				if err != nil {
					bad(pair.name, fmt.Sprintf("%q is not a number", truncate(s, 20)))
					continue
				}
				*pair.dst = append(*pair.dst, n)
			}
		}
		for _, s := range splitList(get("partners")) {
			slug, role, ok := strings.Cut(s, ":")
			if !ok {
				bad("partners", fmt.Sprintf("%q must be organisation:role", truncate(s, 40)))
				continue
			}
			in.Partners = append(in.Partners, Partner{Org: strings.TrimSpace(slug), Role: strings.TrimSpace(role)})
		}
		if a := strings.TrimSpace(get("budget_amount")); a != "" || strings.TrimSpace(get("budget_currency")) != "" {
			in.Budget = &Money{Amount: json.Number(a), Currency: get("budget_currency")}
		}
		for _, pair := range []struct {
			name string
			dst  any
		}{{"results", &in.Results}, {"sources", &in.Sources}} {
			if s := strings.TrimSpace(get(pair.name)); s != "" {
				if err := web.DecodeJSONFrom(strings.NewReader(s), pair.dst); err != nil {
					bad(pair.name, "must be a JSON array as the export writes it: "+fault.As(err).Detail)
				}
			}
		}
		row.Input = in
		rows = append(rows, row)
	}
	return rows, errs, nil
}

// maxImportErrors bounds the problems a refused import lists.
const maxImportErrors = 200

// lineError is the register's refusal of the row on line.
type lineError struct {
	line int
	err  *fault.Error
}

// ImportResult summarises an import.
type ImportResult struct {
	Created int `json:"created"`
	Updated int `json:"updated"`
}

// ImportCSV imports every row or none: rows with an id update that
// initiative (their version must be current), rows without create one.
func (r *Register) ImportCSV(ctx context.Context, p *auth.Principal, rd io.Reader) (ImportResult, error) {
	var res ImportResult
	if err := auth.Check(p, ruleCreate, auth.RelNone); err != nil {
		return res, err
	}
	rows, errs, err := ParseCSV(rd)
	if err != nil {
		return res, err
	}
	if len(rows) == 0 && len(errs) == 0 {
		return res, fault.Invalid(fault.FieldError{Field: "file", Message: "has a header but no rows"})
	}
	err = r.DB.Transact(ctx, func(tx *store.Tx) error {
		w, err := r.NewWriter(ctx, tx, p)
		if err != nil {
			return err
		}
		// The register's refusals, by line; a 5xx stops the import.
		var refused []lineError
		refuse := func(line int, err error) error {
			e := fault.As(err)
			if e == nil || e.Kind == fault.KindInternal {
				return err
			}
			refused = append(refused, lineError{line, e})
			return nil
		}
		// Updates one by one; the new rows together, as one batch.
		var creates []Item
		var createLines []int
		for _, row := range rows {
			if row.ID == 0 {
				creates = append(creates, Item{Input: row.Input})
				createLines = append(createLines, row.Line)
				continue
			}
			if len(errs)+len(refused) > maxImportErrors {
				break
			}
			if row.Version == 0 {
				refused = append(refused, lineError{row.Line, fault.Invalid(fault.FieldError{Field: "version", Message: "is required to update an existing initiative"})})
				continue
			}
			if err := w.Update(ctx, row.ID, row.Input); err != nil {
				if err := refuse(row.Line, err); err != nil {
					return err
				}
				continue
			}
			res.Updated++
		}
		if len(creates) > 0 {
			ids, err := w.Create(ctx, creates)
			var bad ItemErrors
			switch {
			case errors.As(err, &bad):
				for _, it := range bad {
					refused = append(refused, lineError{createLines[it.Index], it.Err})
				}
			case err != nil:
				if err := refuse(createLines[0], err); err != nil {
					return err
				}
			default:
				res.Created = len(ids)
			}
		}
		sort.SliceStable(refused, func(a, b int) bool { return refused[a].line < refused[b].line })
		for _, le := range refused {
			if len(le.err.Fields) == 0 {
				errs = append(errs, fault.FieldError{Field: fmt.Sprintf("line %d", le.line), Message: le.err.Detail})
			}
			for _, f := range le.err.Fields {
				errs = append(errs, fault.FieldError{Field: fmt.Sprintf("line %d: %s", le.line, f.Field), Message: f.Message})
			}
		}
		errs = errs[:min(len(errs), maxImportErrors)]
		if len(errs) > 0 {
			return &fault.Error{Kind: fault.KindInvalid, Title: "Invalid input", Detail: "Nothing was imported: correct these rows and try again.", Fields: errs}
		}
		if err := w.Flush(ctx); err != nil {
			return err
		}
		return audit.Append(ctx, tx, p.Event(audit.ActionImport, "initiative", "", "programme register", fmt.Sprintf("CSV: %d created, %d updated", res.Created, res.Updated)))
	})
	if err != nil {
		return ImportResult{}, err
	}
	return res, nil
}

// exportAll is every initiative matching f, for the exports.
func (r *Register) exportAll(ctx context.Context, f Filter) ([]*Initiative, error) {
	return r.All(ctx, f)
}

func (h *Handlers) exportCSV(w http.ResponseWriter, r *http.Request) error {
	f, err := ParseFilter(r.URL.Query())
	if err != nil {
		return err
	}
	items, err := h.Reg.exportAll(r.Context(), f)
	if err != nil {
		return err
	}
	w.Header().Set("Content-Type", "text/csv; charset=utf-8")
	w.Header().Set("Content-Disposition", `attachment; filename="initiatives.csv"`)
	return WriteCSV(w, items)
}

func (h *Handlers) apiImport(w http.ResponseWriter, r *http.Request) error {
	p := auth.Caller(r.Context())
	ct := strings.ToLower(r.Header.Get("Content-Type"))
	if strings.HasPrefix(ct, XLSXType) {
		return h.apiImportXLSX(w, r)
	}
	if !strings.HasPrefix(ct, "text/csv") {
		return fault.Malformed("Send the file as the body with Content-Type: text/csv or " + XLSXType + ".")
	}
	res, err := h.Reg.ImportCSV(r.Context(), p, r.Body)
	if err != nil {
		return err
	}
	return web.WriteJSON(w, http.StatusOK, res)
}
