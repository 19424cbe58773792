package report

import (
	"bytes"
	"fmt"
	"os"
	"path/filepath"
	"strconv"

	"github.com/gomutex/godocx"
	"github.com/gomutex/godocx/common/units"
	"github.com/gomutex/godocx/docx"
	"github.com/gomutex/godocx/wml/stypes"
)

// docxText drops characters XML 1.0 cannot carry.
func docxText(s string) string {
	out := make([]rune, 0, len(s))
	for _, r := range s {
		switch {
		case r == '\t' || r == '\n' || r == '\r':
			out = append(out, ' ')
		case r < 0x20 || r == 0xFFFE || r == 0xFFFF || (r >= 0xD800 && r <= 0xDFFF):
		default:
			out = append(out, r)
		}
	}
	return string(out)
}

type docxWriter struct {
	doc *docx.RootDoc
	tmp string
	fig int
}

// DOCX renders the document with github.com/gomutex/godocx: Word's heading
// styles (so the navigation pane and LibreOffice's outline work), lists,
// tables, the charts as PNG images with their description as alt text, note
// numbers as superscripts and the notes listed at the end.
func DOCX(d *Document) ([]byte, error) {
	doc, err := godocx.NewDocument()
	if err != nil {
		return nil, fmt.Errorf("report: docx: %w", err)
	}
	tmp, err := os.MkdirTemp("", "kompas-docx-")
	if err != nil {
		return nil, fmt.Errorf("report: docx: %w", err)
	}
	defer os.RemoveAll(tmp)
	w := &docxWriter{doc: doc, tmp: tmp}
	if _, err := doc.AddHeading(docxText(d.Title), 0); err != nil {
		return nil, err
	}
	if d.Subtitle != "" {
		doc.AddParagraph(docxText(d.Subtitle)).Style("Subtitle")
	}
	for _, m := range d.Meta {
		p := doc.AddEmptyParagraph()
		p.AddText(docxText(m.Label + ": ")).Bold(true)
		p.AddText(docxText(m.Value))
	}
	for _, s := range d.Sections {
		if err := w.section(s); err != nil {
			return nil, err
		}
	}
	if len(d.Notes) > 0 {
		if _, err := doc.AddHeading("Notes", 1); err != nil {
			return nil, err
		}
		for _, n := range d.Notes {
			p := doc.AddEmptyParagraph()
			p.AddText(strconv.Itoa(n.N) + ". ")
			p.AddText(docxText(n.Text))
			if n.URL != "" {
				p.AddText(": ")
				if absoluteURL(n.URL) {
					p.AddLink(docxText(n.URL), n.URL)
				} else {
					p.AddText(docxText(n.URL))
				}
			}
		}
	}
	var buf bytes.Buffer
	if err := doc.Write(&buf); err != nil {
		return nil, fmt.Errorf("report: docx: %w", err)
	}
	return buf.Bytes(), nil
}

func (w *docxWriter) section(s *Section) error {
	if _, err := w.doc.AddHeading(docxText(s.Heading), uint(min(s.Level, 9))); err != nil {
		return err
	}
	for _, b := range s.Blocks {
		switch b := b.(type) {
		case *Paragraph:
			p := w.doc.AddEmptyParagraph()
			if b.Class == "quote" {
				p.Style("Quote")
			}
			w.inlines(p, b.Inlines)
		case *List:
			style := "ListBullet"
			if b.Ordered {
				style = "ListNumber"
			}
			for _, it := range b.Items {
				p := w.doc.AddEmptyParagraph()
				p.Style(style)
				w.inlines(p, it.Inlines)
			}
		case *Table:
			w.table(b)
		case *Figure:
			if err := w.figure(b.Chart); err != nil {
				return err
			}
		}
	}
	for _, c := range s.Sections {
		if err := w.section(c); err != nil {
			return err
		}
	}
	return nil
}

func (w *docxWriter) inlines(p *docx.Paragraph, in []Inline) {
	for _, x := range in {
		if x.Note > 0 {
			p.AddText(strconv.Itoa(x.Note)).VerticalAlign(stypes.VerticalAlignRunSuperscript)
			continue
		}
		t := docxText(x.Text)
		if t == "" {
			continue
		}
		if x.URL != "" && absoluteURL(x.URL) {
			l := p.AddLink(t, x.URL)
			if x.Bold {
				l.Bold(true)
			}
			if x.Italic {
				l.Italic(true)
			}
			continue
		}
		r := p.AddText(t)
		if x.Bold {
			r.Bold(true)
		}
		if x.Italic {
			r.Italic(true)
		}
		if x.Code {
			r.Font("Courier New")
		}
	}
}

func (w *docxWriter) table(t *Table) {
	cp := w.doc.AddEmptyParagraph()
	cp.Style("Caption")
	cp.AddText(docxText(t.Caption))
	if t.Note > 0 {
		cp.AddText(strconv.Itoa(t.Note)).VerticalAlign(stypes.VerticalAlignRunSuperscript)
	}
	tbl := w.doc.AddTable()
	tbl.Style("TableGrid")
	tbl.Width(5000, stypes.TableWidthPct)
	hdr := tbl.AddRow()
	for _, h := range t.Header {
		hdr.AddCell().BackgroundColor("F3F2F1").AddEmptyPara().AddText(docxText(h)).Bold(true)
	}
	for _, row := range t.Rows {
		r := tbl.AddRow()
		for _, c := range row {
			cell := r.AddCell()
			switch c.Class {
			case "gap":
				cell.BackgroundColor("FDF0F0")
			case "count":
				cell.BackgroundColor("E6F0F7")
			}
			w.inlines(cell.AddEmptyPara(), c.Inlines)
		}
	}
	w.doc.AddEmptyParagraph()
}

func (w *docxWriter) figure(c *Chart) error {
	w.fig++
	png, err := c.PNG()
	if err != nil {
		return fmt.Errorf("report: chart %s: %w", c.ID, err)
	}
	path := filepath.Join(w.tmp, fmt.Sprintf("figure-%d.png", w.fig))
	if err := os.WriteFile(path, png, 0o600); err != nil {
		return err
	}
	cw, ch := c.Size()
	width := 6.3 // inches of text width on A4 with Word's default margins
	if cw < 600 {
		width = 6.3 * cw / 600
	}
	height := width * ch / cw
	meta, err := w.doc.AddPicture(path, units.Inch(width), units.Inch(height))
	if err != nil {
		return fmt.Errorf("report: chart %s: %w", c.ID, err)
	}
	meta.Inline.DocProp.Description = docxText(c.Title + ". " + c.Desc)
	cp := w.doc.AddEmptyParagraph()
	cp.Style("Caption")
	cp.AddText(fmt.Sprintf("Figure %d. ", w.fig)).Bold(true)
	cp.AddText(docxText(c.Title + ". " + c.Desc))
	return nil
}
