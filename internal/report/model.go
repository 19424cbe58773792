// Package report generates the GCM implementation review from live data: the
// seed report's structure (A. Introduction with the method and the national
// framework; B. the approach, one section per group of GCM objectives with
// the initiatives that serve it, a coverage table of all 23 objectives; C.
// Next steps), its charts and its figures, each figure with a note to the
// live page that produced it. One document model is built once and rendered
// to HTML, Markdown, PDF and DOCX.
//
// Review editions (title, period, author organisation, framework, objective
// grouping, introduction and next steps) are stored in report_editions;
// publishing an edition freezes its four rendered files and their SHA-256 in
// report_files. The module owns its tables, rules, pages and JSON API.
package report

import (
	"strings"
	"time"
)

// Document is one rendered-to-be review.
type Document struct {
	Title     string
	Subtitle  string
	Meta      []MetaItem // edition, period, author, framework, generated
	Generated time.Time
	Sections  []*Section
	Notes     []Note
	Charts    []*Chart

	noteIndex map[string]int
}

// MetaItem is one line of the review's front matter.
type MetaItem struct {
	Label, Value string
}

// Section is a heading with its blocks and subsections. Level 1 is A, B, C;
// 2 a subsection (a group of objectives); 3 an initiative.
type Section struct {
	ID       string
	Heading  string
	Level    int
	Blocks   []Block
	Sections []*Section
}

// Block is one of *Paragraph, *List, *Table, *Figure.
type Block interface{ block() }

// Inline is one run of text in a paragraph.
type Inline struct {
	Text   string
	Bold   bool
	Italic bool
	Code   bool
	URL    string // a link when not empty
	Note   int    // a note reference (Text empty) when > 0
	Class  string // an HTML class (e.g. "fact"), ignored elsewhere
}

// Paragraph is a run of inlines.
type Paragraph struct {
	Inlines []Inline
	Class   string // "lead", "meta", "muted", "quote"
}

// List is a bulleted or numbered list; items are paragraphs.
type List struct {
	Ordered bool
	Items   []*Paragraph
	Class   string
}

// Table is a table with a caption and a header row.
type Table struct {
	ID      string
	Caption string
	Header  []string
	Numeric []bool // per column: right-aligned numbers
	Widths  []float64
	Rows    [][]Cell
	Note    int // a note on the whole table
}

// Cell is one table cell.
type Cell struct {
	Inlines   []Inline
	RowHeader bool
	Class     string // "gap" for an objective with no activity, "count"
}

// Figure places a chart.
type Figure struct {
	Chart *Chart
}

func (*Paragraph) block() {}
func (*List) block()      {}
func (*Table) block()     {}
func (*Figure) block()    {}

// Note is a numbered note: a figure's provenance or a reference.
type Note struct {
	N    int
	Text string
	URL  string
}

// note returns the number of the note with text and url, adding it when new.
func (d *Document) note(text, url string) int {
	key := text + "\x00" + url
	if d.noteIndex == nil {
		d.noteIndex = map[string]int{}
	}
	if n, ok := d.noteIndex[key]; ok {
		return n
	}
	n := len(d.Notes) + 1
	d.Notes = append(d.Notes, Note{N: n, Text: text, URL: url})
	d.noteIndex[key] = n
	return n
}

// text helpers for building paragraphs.
func txt(s string) Inline          { return Inline{Text: s} }
func bold(s string) Inline         { return Inline{Text: s, Bold: true} }
func link(s, url string) Inline    { return Inline{Text: s, URL: url} }
func noteRef(n int) Inline         { return Inline{Note: n} }
func para(in ...Inline) *Paragraph { return &Paragraph{Inlines: in} }
func plain(s string) *Paragraph    { return para(txt(s)) }
func cell(in ...Inline) Cell       { return Cell{Inlines: in} }
func textCell(s string) Cell       { return Cell{Inlines: []Inline{txt(s)}} }
func (s *Section) add(b ...Block)  { s.Blocks = append(s.Blocks, b...) }
func (s *Section) sub(c *Section)  { s.Sections = append(s.Sections, c) }
func newSection(id, heading string, level int) *Section {
	return &Section{ID: id, Heading: heading, Level: level}
}

// PlainText is the inlines' text without markup (for alt texts, PDF
// bookmarks and tests).
func PlainText(in []Inline) string {
	var b strings.Builder
	for _, x := range in {
		b.WriteString(x.Text)
	}
	return b.String()
}

// slug makes an HTML id from a heading.
func slug(s string) string {
	var b strings.Builder
	dash := false
	for _, r := range strings.ToLower(s) {
		switch {
		case r >= 'a' && r <= 'z' || r >= '0' && r <= '9':
			b.WriteRune(r)
			dash = false
		default:
			if !dash && b.Len() > 0 {
				b.WriteByte('-')
				dash = true
			}
		}
		if b.Len() >= 60 {
			break
		}
	}
	return strings.TrimSuffix(b.String(), "-")
}

// Walk calls fn for every section, depth first, in document order.
func (d *Document) Walk(fn func(*Section)) {
	var walk func([]*Section)
	walk = func(ss []*Section) {
		for _, s := range ss {
			fn(s)
			walk(s.Sections)
		}
	}
	walk(d.Sections)
}
