package report

import (
	"bytes"
	"fmt"
	"strconv"
	"strings"

	"github.com/go-pdf/fpdf"
)

const (
	pdfFont   = "DejaVu"
	pdfMargin = 20.0
	pdfBody   = 10.0 // pt
	pdfLine   = 5.0  // mm per body line
)

// pdfText keeps text within what the PDF writer's tables index (the Basic
// Multilingual Plane) and drops control characters.
func pdfText(s string) string {
	return strings.Map(func(r rune) rune {
		switch {
		case r == '\n' || r == '\t':
			return ' '
		case r < 0x20, r > 0xFFFF:
			return '?'
		}
		return r
	}, s)
}

var superDigits = []rune("⁰¹²³⁴⁵⁶⁷⁸⁹")

func superscript(n int) string {
	var b strings.Builder
	for _, c := range strconv.Itoa(n) {
		b.WriteRune(superDigits[c-'0'])
	}
	return b.String()
}

// absoluteURL reports whether u can be a link in a file read away from the
// server.
func absoluteURL(u string) bool {
	return strings.HasPrefix(u, "http://") || strings.HasPrefix(u, "https://") || strings.HasPrefix(u, "mailto:")
}

type pdfWriter struct {
	pdf   *fpdf.Fpdf
	width float64 // content width, mm
	fig   int
}

// PDF renders the document as an A4 PDF with the embedded DejaVu Sans,
// bookmarks for every heading, the charts drawn as vector shapes and the
// notes (each figure's source) at the end.
func PDF(d *Document) ([]byte, error) {
	pdf := fpdf.New("P", "mm", "A4", "")
	pdf.AddUTF8FontFromBytes(pdfFont, "", fontRegular)
	pdf.AddUTF8FontFromBytes(pdfFont, "B", fontBold)
	pdf.AddUTF8FontFromBytes(pdfFont, "I", fontItalic)
	pdf.AddUTF8FontFromBytes(pdfFont, "BI", fontBold)
	pdf.SetMargins(pdfMargin, pdfMargin, pdfMargin)
	pdf.SetAutoPageBreak(true, pdfMargin)
	pdf.SetTitle(pdfText(d.Title), true)
	pdf.SetSubject(pdfText(d.Subtitle), true)
	pdf.SetCreator("Kompas", true)
	pdf.SetProducer("Kompas (go-pdf/fpdf)", true)
	pdf.SetLang("en")
	pdf.SetCreationDate(d.Generated)
	pdf.SetModificationDate(d.Generated)
	pdf.SetCatalogSort(true)
	pdf.AliasNbPages("{nb}")
	title := pdfText(d.Title)
	pdf.SetFooterFunc(func() {
		pdf.SetY(-12)
		pdf.SetFont(pdfFont, "", 8)
		pdf.SetTextColor(74, 74, 74)
		pdf.CellFormat(0, 5, truncRunes(title, 90), "", 0, "L", false, 0, "")
		pdf.SetX(pdfMargin)
		pdf.CellFormat(0, 5, fmt.Sprintf("Page %d of {nb}", pdf.PageNo()), "", 0, "R", false, 0, "")
		pdf.SetTextColor(0, 0, 0)
	})
	w := &pdfWriter{pdf: pdf}
	pw, _ := pdf.GetPageSize()
	w.width = pw - 2*pdfMargin
	pdf.AddPage()

	pdf.SetFont(pdfFont, "B", 20)
	pdf.MultiCell(0, 9, title, "", "L", false)
	if d.Subtitle != "" {
		pdf.SetFont(pdfFont, "I", 12)
		pdf.MultiCell(0, 7, pdfText(d.Subtitle), "", "L", false)
	}
	pdf.Ln(3)
	for _, m := range d.Meta {
		pdf.SetFont(pdfFont, "B", pdfBody)
		pdf.CellFormat(30, pdfLine, pdfText(m.Label), "", 0, "L", false, 0, "")
		pdf.SetFont(pdfFont, "", pdfBody)
		pdf.MultiCell(0, pdfLine, pdfText(m.Value), "", "L", false)
	}
	pdf.Ln(4)
	for _, s := range d.Sections {
		w.section(s)
	}
	if len(d.Notes) > 0 {
		w.heading("Notes", 1)
		for _, n := range d.Notes {
			w.noteLine(n)
		}
	}
	if err := pdf.Error(); err != nil {
		return nil, fmt.Errorf("report: pdf: %w", err)
	}
	var buf bytes.Buffer
	if err := pdf.Output(&buf); err != nil {
		return nil, fmt.Errorf("report: pdf: %w", err)
	}
	return buf.Bytes(), nil
}

func (w *pdfWriter) heading(text string, level int) {
	pdf := w.pdf
	size := map[int]float64{1: 16, 2: 13, 3: 11}[level]
	if size == 0 {
		size = 11
	}
	_, ph := pdf.GetPageSize()
	// Keep a heading with at least a few lines of what follows.
	if pdf.GetY()+size*0.6+3*pdfLine > ph-pdfMargin {
		pdf.AddPage()
	}
	if level == 1 && pdf.GetY() > pdfMargin+1 {
		pdf.Ln(4)
	}
	pdf.Ln(2)
	pdf.Bookmark(pdfText(text), level-1, -1)
	pdf.SetFont(pdfFont, "B", size)
	if level == 1 {
		pdf.SetTextColor(21, 66, 115)
	}
	pdf.MultiCell(0, size*0.5, pdfText(text), "", "L", false)
	pdf.SetTextColor(0, 0, 0)
	pdf.Ln(1.5)
}

func (w *pdfWriter) section(s *Section) {
	w.heading(s.Heading, s.Level)
	for _, b := range s.Blocks {
		switch b := b.(type) {
		case *Paragraph:
			w.paragraph(b)
		case *List:
			w.list(b)
		case *Table:
			w.table(b)
		case *Figure:
			w.figure(b.Chart)
		}
	}
	for _, c := range s.Sections {
		w.section(c)
	}
}

// inlines writes flowing text from the current position.
func (w *pdfWriter) inlines(in []Inline, size float64) {
	pdf := w.pdf
	for _, x := range in {
		if x.Note > 0 {
			pdf.SetFont(pdfFont, "", size)
			pdf.SubWrite(pdfLine, strconv.Itoa(x.Note), size*0.65, 3.5, 0, "")
			continue
		}
		style := ""
		if x.Bold {
			style += "B"
		}
		if x.Italic {
			style += "I"
		}
		pdf.SetFont(pdfFont, style, size)
		t := pdfText(x.Text)
		if x.URL != "" && absoluteURL(x.URL) {
			pdf.SetTextColor(1, 104, 155)
			pdf.WriteLinkString(pdfLine, t, x.URL)
			pdf.SetTextColor(0, 0, 0)
		} else {
			pdf.Write(pdfLine, t)
		}
	}
}

func (w *pdfWriter) paragraph(p *Paragraph) {
	pdf := w.pdf
	switch p.Class {
	case "quote":
		lm, _, _, _ := pdf.GetMargins()
		pdf.SetLeftMargin(lm + 8)
		pdf.SetX(lm + 8)
		w.inlines(p.Inlines, pdfBody)
		pdf.SetLeftMargin(lm)
	default:
		pdf.SetX(pdfMargin)
		w.inlines(p.Inlines, pdfBody)
	}
	pdf.Ln(pdfLine)
	pdf.Ln(2)
}

func (w *pdfWriter) list(l *List) {
	pdf := w.pdf
	lm := pdfMargin
	for i, it := range l.Items {
		pdf.SetFont(pdfFont, "", pdfBody)
		_, ph := pdf.GetPageSize()
		if pdf.GetY()+pdfLine > ph-pdfMargin {
			pdf.AddPage()
		}
		y := pdf.GetY()
		mark := "•"
		if l.Ordered {
			mark = fmt.Sprintf("%d.", i+1)
		}
		pdf.SetXY(lm+1, y)
		pdf.Write(pdfLine, mark)
		pdf.SetLeftMargin(lm + 7)
		pdf.SetXY(lm+7, y)
		w.inlines(it.Inlines, pdfBody)
		pdf.SetLeftMargin(lm)
		pdf.Ln(pdfLine)
		pdf.Ln(0.8)
	}
	pdf.Ln(1.5)
}

// cellText is a cell's text with note numbers as superscripts.
func cellText(in []Inline) string {
	var b strings.Builder
	for _, x := range in {
		if x.Note > 0 {
			b.WriteString(superscript(x.Note))
			continue
		}
		b.WriteString(pdfText(x.Text))
	}
	return b.String()
}

func (w *pdfWriter) table(t *Table) {
	pdf := w.pdf
	const pad, lh, size = 1.5, 4.4, 8.5
	widths := make([]float64, len(t.Header))
	for i := range widths {
		if i < len(t.Widths) {
			widths[i] = t.Widths[i] * w.width
		} else {
			widths[i] = w.width / float64(len(widths))
		}
	}
	_, ph := pdf.GetPageSize()
	bottom := ph - pdfMargin
	pdf.SetFont(pdfFont, "B", 9)
	capText := pdfText(t.Caption)
	if t.Note > 0 {
		capText += superscript(t.Note)
	}
	if pdf.GetY()+10+3*lh > bottom {
		pdf.AddPage()
	}
	pdf.SetX(pdfMargin)
	pdf.MultiCell(0, lh+0.6, capText, "", "L", false)
	pdf.Ln(1)
	header := func() {
		pdf.SetFont(pdfFont, "B", size)
		h := 0.0
		lines := make([][]string, len(t.Header))
		for i, s := range t.Header {
			lines[i] = pdf.SplitText(pdfText(s), widths[i]-2*pad)
			h = max(h, float64(len(lines[i]))*lh+2*pad)
		}
		x, y := pdfMargin, pdf.GetY()
		pdf.SetFillColor(243, 242, 241)
		for i := range t.Header {
			pdf.Rect(x, y, widths[i], h, "F")
			align := "L"
			if i < len(t.Numeric) && t.Numeric[i] {
				align = "R"
			}
			for k, line := range lines[i] {
				pdf.SetXY(x+pad, y+pad+float64(k)*lh)
				pdf.CellFormat(widths[i]-2*pad, lh, line, "", 0, align, false, 0, "")
			}
			x += widths[i]
		}
		pdf.SetDrawColor(27, 27, 27)
		pdf.Line(pdfMargin, y+h, pdfMargin+w.width, y+h)
		pdf.SetY(y + h)
	}
	header()
	for _, row := range t.Rows {
		lines := make([][]string, len(row))
		h := 0.0
		for i, c := range row {
			if i >= len(widths) {
				break
			}
			style := ""
			if c.RowHeader {
				style = ""
			}
			pdf.SetFont(pdfFont, style, size)
			lines[i] = pdf.SplitText(cellText(c.Inlines), widths[i]-2*pad)
			if len(lines[i]) == 0 {
				lines[i] = []string{""}
			}
			h = max(h, float64(len(lines[i]))*lh+2*pad)
		}
		if pdf.GetY()+h > bottom {
			pdf.AddPage()
			header()
		}
		x, y := pdfMargin, pdf.GetY()
		for i, c := range row {
			if i >= len(widths) {
				break
			}
			switch c.Class {
			case "gap":
				pdf.SetFillColor(253, 240, 240)
				pdf.Rect(x, y, widths[i], h, "F")
				pdf.SetTextColor(177, 14, 30)
			case "count":
				pdf.SetFillColor(230, 240, 247)
				pdf.Rect(x, y, widths[i], h, "F")
			}
			align := "L"
			if i < len(t.Numeric) && t.Numeric[i] {
				align = "R"
			}
			pdf.SetFont(pdfFont, "", size)
			for k, line := range lines[i] {
				pdf.SetXY(x+pad, y+pad+float64(k)*lh)
				pdf.CellFormat(widths[i]-2*pad, lh, line, "", 0, align, false, 0, "")
			}
			pdf.SetTextColor(0, 0, 0)
			for _, in := range c.Inlines {
				if in.URL != "" && absoluteURL(in.URL) {
					pdf.LinkString(x, y, widths[i], h, in.URL)
					break
				}
			}
			x += widths[i]
		}
		pdf.SetDrawColor(177, 180, 182)
		pdf.Line(pdfMargin, y+h, pdfMargin+w.width, y+h)
		pdf.SetY(y + h)
	}
	pdf.Ln(4)
}

// figure draws a chart with the PDF's own vector primitives, its caption
// and its description below.
func (w *pdfWriter) figure(c *Chart) {
	pdf := w.pdf
	w.fig++
	l := layoutChart(c)
	scale := min(w.width/l.w, 0.3) // mm per chart unit
	hmm := l.h * scale
	_, ph := pdf.GetPageSize()
	if pdf.GetY()+hmm+18 > ph-pdfMargin {
		pdf.AddPage()
	}
	x0, y0 := pdfMargin, pdf.GetY()+1
	for _, s := range l.shapes {
		col := hexColor(s.fill)
		if s.rect {
			pdf.SetFillColor(int(col.R), int(col.G), int(col.B))
			pdf.Rect(x0+s.x*scale, y0+s.y*scale, s.w*scale, s.h*scale, "F")
			continue
		}
		style := ""
		if s.bold {
			style = "B"
		}
		pt := s.size * scale * 72 / 25.4
		pdf.SetFont(pdfFont, style, pt)
		pdf.SetTextColor(int(col.R), int(col.G), int(col.B))
		t := pdfText(s.text)
		x := x0 + s.x*scale
		switch s.anchor {
		case "end":
			x -= pdf.GetStringWidth(t)
		case "middle":
			x -= pdf.GetStringWidth(t) / 2
		}
		pdf.Text(x, y0+s.y*scale, t)
	}
	pdf.SetTextColor(0, 0, 0)
	pdf.SetY(y0 + hmm + 2)
	pdf.SetX(pdfMargin)
	pdf.SetFont(pdfFont, "B", 9)
	pdf.Write(4.5, fmt.Sprintf("Figure %d. ", w.fig))
	pdf.SetFont(pdfFont, "", 9)
	pdf.Write(4.5, pdfText(c.Title)+". ")
	pdf.SetFont(pdfFont, "I", 8.5)
	pdf.Write(4.5, pdfText(c.Desc))
	pdf.Ln(4.5)
	pdf.Ln(4)
}

func (w *pdfWriter) noteLine(n Note) {
	pdf := w.pdf
	pdf.SetFont(pdfFont, "", 9)
	y := pdf.GetY()
	pdf.SetXY(pdfMargin, y)
	pdf.Write(4.6, fmt.Sprintf("%d.", n.N))
	pdf.SetLeftMargin(pdfMargin + 8)
	pdf.SetXY(pdfMargin+8, y)
	pdf.Write(4.6, pdfText(n.Text))
	if n.URL != "" {
		pdf.Write(4.6, ": ")
		pdf.SetTextColor(1, 104, 155)
		if absoluteURL(n.URL) {
			pdf.WriteLinkString(4.6, pdfText(n.URL), n.URL)
		} else {
			pdf.Write(4.6, pdfText(n.URL))
		}
		pdf.SetTextColor(0, 0, 0)
	}
	pdf.SetLeftMargin(pdfMargin)
	pdf.Ln(4.6)
	pdf.Ln(0.8)
}
