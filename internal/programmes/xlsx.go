package programmes

// XLSX import and export of initiatives, beside CSV and with its columns
// and rules: the export writes the CSV export's rows into a workbook, and
// the import turns the first sheet's rows back into CSV records and runs the
// CSV import on them (all rows or none), so both formats share one parser
// and one set of rules. Errors name the sheet row instead of the CSV line.

import (
	"bytes"
	"context"
	"encoding/csv"
	"errors"
	"fmt"
	"io"
	"net/http"
	"regexp"
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/xuri/excelize/v2"

	"kompas/internal/platform/auth"
	"kompas/internal/platform/fault"
	"kompas/internal/platform/web"
)

// XLSXType is the media type of an XLSX workbook.
const XLSXType = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"

const (
	xlsxSheet        = "Initiatives"
	xlsxMaxCellChars = 32767 // what a spreadsheet cell holds
	// Limits on unpacking an uploaded workbook (the upload itself is at
	// most maxImport), against zip bombs.
	xlsxUnzipLimit    = 200 << 20
	xlsxUnzipXMLLimit = 64 << 20
)

// WriteXLSX writes initiatives as a workbook with one sheet whose rows are
// the CSV export's.
func WriteXLSX(w io.Writer, items []*Initiative) error {
	var buf bytes.Buffer
	if err := WriteCSV(&buf, items); err != nil {
		return err
	}
	cr := csv.NewReader(&buf)
	cr.FieldsPerRecord = -1
	f := excelize.NewFile()
	defer f.Close()
	if err := f.SetSheetName("Sheet1", xlsxSheet); err != nil {
		return err
	}
	sw, err := f.NewStreamWriter(xlsxSheet)
	if err != nil {
		return err
	}
	bold, err := f.NewStyle(&excelize.Style{Font: &excelize.Font{Bold: true}})
	if err != nil {
		return err
	}
	// The header row stays in view.
	if err := sw.SetPanes(&excelize.Panes{Freeze: true, YSplit: 1, TopLeftCell: "A2", ActivePane: "bottomLeft"}); err != nil {
		return err
	}
	for row := 1; ; row++ {
		rec, err := cr.Read()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return err
		}
		cells := make([]any, len(rec))
		for i, v := range rec {
			if utf8.RuneCountInString(v) > xlsxMaxCellChars {
				return fault.Conflict(fmt.Sprintf("Row %d, column %s, is longer than a spreadsheet cell may be (%d characters); export CSV instead.", row, csvHeader[i], xlsxMaxCellChars))
			}
			if row == 1 {
				cells[i] = excelize.Cell{StyleID: bold, Value: v}
			} else {
				cells[i] = v
			}
		}
		cell, _ := excelize.CoordinatesToCellName(1, row)
		if err := sw.SetRow(cell, cells); err != nil {
			return err
		}
	}
	if err := sw.Flush(); err != nil {
		return err
	}
	return f.Write(w)
}

// isZip reports whether b starts like a zip archive (as every XLSX does).
func isZip(b []byte) bool { return bytes.HasPrefix(b, []byte("PK\x03\x04")) }

// xlsxToCSV turns the first sheet of a workbook into CSV and, for each CSV
// line a record starts on, the sheet row it came from. Empty rows are left
// out.
func xlsxToCSV(rd io.Reader) ([]byte, map[int]int, error) {
	f, err := excelize.OpenReader(rd, excelize.Options{UnzipSizeLimit: xlsxUnzipLimit, UnzipXMLSizeLimit: xlsxUnzipXMLLimit})
	if err != nil {
		return nil, nil, fault.Malformed("The file is not an XLSX workbook that can be read: " + err.Error())
	}
	defer f.Close()
	sheets := f.GetSheetList()
	if len(sheets) == 0 {
		return nil, nil, fault.Malformed("The workbook has no sheet.")
	}
	rows, err := f.Rows(sheets[0])
	if err != nil {
		return nil, nil, fault.Malformed("The first sheet could not be read: " + err.Error())
	}
	defer rows.Close()
	var buf bytes.Buffer
	cw := csv.NewWriter(&buf)
	lineRow := map[int]int{}
	line := 1
	for row := 1; rows.Next(); row++ {
		cols, err := rows.Columns(excelize.Options{RawCellValue: true})
		if err != nil {
			return nil, nil, fault.Malformed(fmt.Sprintf("Row %d of the sheet could not be read: %v", row, err))
		}
		empty := true
		for _, c := range cols {
			if strings.TrimSpace(c) != "" {
				empty = false
				break
			}
		}
		if empty {
			continue
		}
		if len(lineRow) > maxImportRows+1 {
			return nil, nil, fault.Malformed(fmt.Sprintf("The sheet has more than %d rows; split it.", maxImportRows))
		}
		lineRow[line] = row
		if err := cw.Write(cols); err != nil {
			return nil, nil, err
		}
		cw.Flush()
		line = bytes.Count(buf.Bytes(), []byte("\n")) + 1
	}
	if err := rows.Error(); err != nil {
		return nil, nil, fault.Malformed("The sheet could not be read: " + err.Error())
	}
	if buf.Len() == 0 {
		return nil, nil, fault.Malformed("The sheet is empty.")
	}
	return buf.Bytes(), lineRow, nil
}

var csvLineRef = regexp.MustCompile(`\bline (\d+)\b`)

// toRows rewrites "line N" in an import error to the sheet's "row M".
func toRows(err error, lineRow map[int]int) error {
	var e *fault.Error
	if !errors.As(err, &e) {
		return err
	}
	fix := func(s string) string {
		return csvLineRef.ReplaceAllStringFunc(s, func(m string) string {
			n, _ := strconv.Atoi(strings.TrimPrefix(m, "line "))
			if r, ok := lineRow[n]; ok {
				return "row " + strconv.Itoa(r)
			}
			return m
		})
	}
	c := *e
	c.Detail = strings.ReplaceAll(fix(c.Detail), "CSV", "XLSX")
	c.Fields = make([]fault.FieldError, len(e.Fields))
	for i, f := range e.Fields {
		c.Fields[i] = fault.FieldError{Field: fix(f.Field), Message: fix(f.Message)}
	}
	return &c
}

// ImportXLSX imports the first sheet of a workbook exactly as ImportCSV
// imports a CSV file: every row or none.
func (r *Register) ImportXLSX(ctx context.Context, p *auth.Principal, rd io.Reader) (ImportResult, error) {
	if err := auth.Check(p, ruleCreate, auth.RelNone); err != nil {
		return ImportResult{}, err
	}
	data, lineRow, err := xlsxToCSV(rd)
	if err != nil {
		return ImportResult{}, err
	}
	res, err := r.ImportCSV(ctx, p, bytes.NewReader(data))
	if err != nil {
		return res, toRows(err, lineRow)
	}
	return res, nil
}

// registerXLSX adds the XLSX export routes and the XLSX import's own API
// address; the import page and POST /api/v1/imports/initiatives take
// workbooks too (importUploadForm, apiImport).
func (h *Handlers) registerXLSX() {
	tags := []string{"programmes"}
	h.srv.Page("GET /initiatives/export.xlsx", web.Op{Access: ruleRead}, h.exportXLSX)
	h.srv.API("GET /api/v1/exports/initiatives.xlsx", web.Op{Summary: "All initiatives matching the filters as an XLSX workbook (the CSV export's columns)", Tags: tags, Access: ruleRead, Query: filterParams, Produces: []string{XLSXType}}, h.exportXLSX)
	h.srv.API("POST /api/v1/imports/initiatives.xlsx", web.Op{Summary: "Import initiatives from an XLSX workbook (the body, Content-Type " + XLSXType + "; also accepted at /api/v1/imports/initiatives with that type): the first sheet, the CSV import's columns, all rows or none",
		Tags: tags, Access: ruleCreate, BodyLimit: maxImport, Response: ImportResult{}}, h.apiImportXLSX)
}

func (h *Handlers) exportXLSX(w http.ResponseWriter, r *http.Request) error {
	f, err := ParseFilter(r.URL.Query())
	if err != nil {
		return err
	}
	items, err := h.Reg.exportAll(r.Context(), f)
	if err != nil {
		return err
	}
	var buf bytes.Buffer
	if err := WriteXLSX(&buf, items); err != nil {
		return err
	}
	w.Header().Set("Content-Type", XLSXType)
	w.Header().Set("Content-Disposition", `attachment; filename="initiatives.xlsx"`)
	_, err = buf.WriteTo(w)
	return err
}

func (h *Handlers) apiImportXLSX(w http.ResponseWriter, r *http.Request) error {
	p := auth.Caller(r.Context())
	if ct := strings.ToLower(r.Header.Get("Content-Type")); !strings.HasPrefix(ct, XLSXType) {
		return fault.Malformed("Send the workbook as the body with Content-Type: " + XLSXType + ".")
	}
	res, err := h.Reg.ImportXLSX(r.Context(), p, r.Body)
	if err != nil {
		return err
	}
	return web.WriteJSON(w, http.StatusOK, res)
}

// importUploadForm takes the import page's upload: a workbook is imported
// here, anything else goes to the CSV import as before.
func (h *Handlers) importUploadForm(w http.ResponseWriter, r *http.Request) error {
	p := auth.Caller(r.Context())
	file, hdr, err := r.FormFile("file")
	if tooLarge := web.BodyTooLarge(r); tooLarge != nil {
		return h.renderTooLarge(w, r, tooLarge)
	}
	if err != nil {
		return h.importForm(w, r)
	}
	head := make([]byte, 4)
	n, _ := io.ReadFull(file, head)
	if !isZip(head[:n]) && !strings.HasSuffix(strings.ToLower(hdr.Filename), ".xlsx") {
		file.Close()
		return h.importForm(w, r)
	}
	defer file.Close()
	if _, err := file.Seek(0, io.SeekStart); err != nil {
		return err
	}
	form := &web.Form{}
	res, err := h.Reg.ImportXLSX(r.Context(), p, file)
	if err != nil {
		e := web.AsError(err)
		if web.Status(e.Kind) >= 500 || web.Status(e.Kind) == http.StatusForbidden {
			return err
		}
		form.Errors = e.Fields
		if len(form.Errors) == 0 {
			form.Errors = []fault.FieldError{{Field: "file", Message: e.Detail}}
		}
		return h.tmpl.Render(w, r, web.Status(e.Kind), "import.html", "Import initiatives", importData{Form: form})
	}
	return h.tmpl.Render(w, r, http.StatusOK, "import.html", "Import initiatives", importData{Form: form, Result: &res})
}
