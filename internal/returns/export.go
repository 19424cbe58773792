package returns

import (
	"context"
	"encoding/csv"
	"fmt"
	"io"
	"strconv"
	"strings"
	"time"

	"github.com/xuri/excelize/v2"

	"kompas/internal/platform/audit"
	"kompas/internal/platform/auth"
	"kompas/internal/platform/store"
)

const xlsxType = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"

// maxExport bounds one export.
const maxExport = 50_000

var exportHeader = []string{"reference", "stage", "stage_since", "days_in_stage", "overdue", "country_of_return", "programme",
	"counselling_org", "partner", "principal", "persons"}

// Export lists the cases p may see that match f (at most 50,000) for a
// download, and audits the export with its format and size.
func (s *Service) Export(ctx context.Context, p *auth.Principal, f QueueFilter, format string) ([]QueueItem, error) {
	if err := auth.Check(p, ruleExport, auth.RelNone); err != nil {
		return nil, err
	}
	sc, scArgs, err := scope(ctx, s.DB, p)
	if err != nil {
		return nil, err
	}
	now := s.now()
	cond, condArgs := f.where(p, now)
	items, _, err := listCases(ctx, s.DB, sc+cond, append(scArgs, condArgs...), maxExport, 0, now)
	if err != nil {
		return nil, err
	}
	err = s.DB.Transact(ctx, func(tx *store.Tx) error {
		return audit.Append(ctx, tx, p.Event(audit.ActionExport, "return_case", "", purposeOf(p),
			fmt.Sprintf("%s export of %d cases, filter %s", format, len(items), f.Values().Encode())))
	})
	if err != nil {
		return nil, err
	}
	return items, nil
}

func exportRecord(it QueueItem) []string {
	rec := []string{it.Reference, string(it.Stage), it.StageSince.Format(time.RFC3339), strconv.Itoa(it.DaysInStage), strconv.FormatBool(it.Overdue),
		it.CountryOfReturn, it.Programme, it.CounsellingOrg, it.Partner, it.Principal, strconv.Itoa(it.Persons)}
	for i := range rec {
		rec[i] = spreadsheetSafe(rec[i])
	}
	return rec
}

// spreadsheetSafe defuses cells a spreadsheet would run as a formula.
func spreadsheetSafe(s string) string {
	if s != "" && strings.ContainsRune("=+-@\t\r", rune(s[0])) {
		return "'" + s
	}
	return s
}

// WriteCSV writes queue items as CSV.
func WriteCSV(w io.Writer, items []QueueItem) error {
	cw := csv.NewWriter(w)
	if err := cw.Write(exportHeader); err != nil {
		return err
	}
	for _, it := range items {
		if err := cw.Write(exportRecord(it)); err != nil {
			return err
		}
	}
	cw.Flush()
	return cw.Error()
}

// WriteXLSX writes queue items as an Excel workbook with one sheet.
func WriteXLSX(w io.Writer, items []QueueItem) error {
	f := excelize.NewFile()
	defer f.Close()
	const sheet = "Cases"
	if err := f.SetSheetName("Sheet1", sheet); err != nil {
		return err
	}
	sw, err := f.NewStreamWriter(sheet)
	if err != nil {
		return err
	}
	row := make([]any, len(exportHeader))
	for i, h := range exportHeader {
		row[i] = h
	}
	if err := sw.SetRow("A1", row); err != nil {
		return err
	}
	for n, it := range items {
		rec := exportRecord(it)
		row := make([]any, len(rec))
		for i, v := range rec {
			row[i] = v
		}
		row[3], row[10] = it.DaysInStage, it.Persons
		cell, _ := excelize.CoordinatesToCellName(1, n+2)
		if err := sw.SetRow(cell, row); err != nil {
			return err
		}
	}
	if err := sw.Flush(); err != nil {
		return err
	}
	_, err = f.WriteTo(w)
	return err
}

// Programme is a return programme.
type Programme struct {
	Code        string   `json:"code"`
	Name        string   `json:"name"`
	Description string   `json:"description"`
	BudgetCap   string   `json:"budget_cap" doc:"the most a reintegration plan may hold"`
	Currency    string   `json:"currency"`
	Operators   []string `json:"operators" doc:"slugs of the organisations that operate it"`
}

// Programmes lists the return programmes.
func (s *Service) Programmes(ctx context.Context) ([]Programme, error) {
	var out []Programme
	idx := map[string]int{}
	err := each(ctx, s.DB, `SELECT p.code, p.name, p.description, p.budget_cap_minor, p.currency, COALESCE(o.org_slug, '')
		FROM return_programmes p LEFT JOIN return_programme_operators o ON o.programme = p.code ORDER BY p.code, o.org_slug`, nil, func(sc scanner) error {
		var pr Programme
		var capMinor int64
		var op string
		if err := sc.Scan(&pr.Code, &pr.Name, &pr.Description, &capMinor, &pr.Currency, &op); err != nil {
			return err
		}
		i, ok := idx[pr.Code]
		if !ok {
			pr.BudgetCap = formatMinor(capMinor)
			pr.Operators = []string{}
			i = len(out)
			idx[pr.Code] = i
			out = append(out, pr)
		}
		if op != "" {
			out[i].Operators = append(out[i].Operators, op)
		}
		return nil
	})
	return out, err
}
