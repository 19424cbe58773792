package report

import (
	"fmt"
	"regexp"
	"strings"
)

// Markdown renders the document as CommonMark with GitHub's pipe tables and
// footnotes; charts become tables of their values.
func Markdown(d *Document) []byte {
	var b strings.Builder
	fmt.Fprintf(&b, "# %s\n\n", mdEscape(d.Title))
	if d.Subtitle != "" {
		fmt.Fprintf(&b, "*%s*\n\n", mdEscape(d.Subtitle))
	}
	for _, m := range d.Meta {
		fmt.Fprintf(&b, "- **%s:** %s\n", mdEscape(m.Label), mdEscape(m.Value))
	}
	b.WriteString("\n")
	fig := 0
	var section func(s *Section)
	section = func(s *Section) {
		fmt.Fprintf(&b, "%s %s\n\n", strings.Repeat("#", s.Level+1), mdEscape(s.Heading))
		for _, bl := range s.Blocks {
			switch bl := bl.(type) {
			case *Paragraph:
				mdParagraph(&b, bl)
			case *List:
				for i, it := range bl.Items {
					if bl.Ordered {
						fmt.Fprintf(&b, "%d. %s\n", i+1, mdInlines(it.Inlines))
					} else {
						fmt.Fprintf(&b, "- %s\n", mdInlines(it.Inlines))
					}
				}
				b.WriteString("\n")
			case *Table:
				mdTable(&b, bl)
			case *Figure:
				fig++
				mdFigure(&b, fig, bl.Chart)
			}
		}
		for _, c := range s.Sections {
			section(c)
		}
	}
	for _, s := range d.Sections {
		section(s)
	}
	if len(d.Notes) > 0 {
		b.WriteString("## Notes\n\n")
		for _, n := range d.Notes {
			fmt.Fprintf(&b, "[^%d]: %s", n.N, mdEscape(n.Text))
			switch {
			case absoluteURL(n.URL):
				fmt.Fprintf(&b, " <%s>", n.URL)
			case n.URL != "":
				fmt.Fprintf(&b, " [%s](%s)", mdEscape(n.URL), n.URL)
			}
			b.WriteString("\n")
		}
	}
	return []byte(b.String())
}

func mdParagraph(b *strings.Builder, p *Paragraph) {
	s := mdInlines(p.Inlines)
	switch p.Class {
	case "quote":
		s = "> " + s
	case "code":
		s = "```\n" + PlainText(p.Inlines) + "\n```"
	default:
		s = mdLineStart(s)
	}
	b.WriteString(s + "\n\n")
}

var (
	mdEscaper    = strings.NewReplacer(`\`, `\\`, "`", "\\`", "*", `\*`, "_", `\_`, "[", `\[`, "]", `\]`, "<", `\<`, ">", `\>`, "|", `\|`)
	mdOrderedRun = regexp.MustCompile(`^(\d+)([.)])`)
)

func mdEscape(s string) string { return mdEscaper.Replace(s) }

// mdLineStart escapes what would make a paragraph a heading or a list.
func mdLineStart(s string) string {
	if s == "" {
		return s
	}
	switch s[0] {
	case '#', '-', '+', '=':
		return `\` + s
	}
	return mdOrderedRun.ReplaceAllString(s, `$1\$2`)
}

func mdInlines(in []Inline) string {
	var b strings.Builder
	for _, x := range in {
		if x.Note > 0 {
			fmt.Fprintf(&b, "[^%d]", x.Note)
			continue
		}
		t := mdEscape(strings.ReplaceAll(x.Text, "\n", " "))
		if x.Code {
			t = "`" + strings.ReplaceAll(x.Text, "`", "'") + "`"
		}
		if x.Bold && strings.TrimSpace(t) != "" {
			lead, trail := t[:len(t)-len(strings.TrimLeft(t, " "))], t[len(strings.TrimRight(t, " ")):]
			t = lead + "**" + strings.TrimSpace(t) + "**" + trail
		}
		if x.Italic && strings.TrimSpace(t) != "" {
			t = "*" + t + "*"
		}
		if x.URL != "" {
			t = "[" + t + "](" + strings.ReplaceAll(strings.ReplaceAll(x.URL, "(", "%28"), ")", "%29") + ")"
		}
		b.WriteString(t)
	}
	return b.String()
}

func mdCell(in []Inline) string {
	return strings.ReplaceAll(mdInlines(in), "\n", " ")
}

func mdTable(b *strings.Builder, t *Table) {
	cap := "**" + mdEscape(t.Caption) + "**"
	if t.Note > 0 {
		cap += fmt.Sprintf("[^%d]", t.Note)
	}
	b.WriteString(cap + "\n\n|")
	for _, h := range t.Header {
		b.WriteString(" " + mdEscape(h) + " |")
	}
	b.WriteString("\n|")
	for i := range t.Header {
		if i < len(t.Numeric) && t.Numeric[i] {
			b.WriteString(" ---: |")
		} else {
			b.WriteString(" --- |")
		}
	}
	b.WriteString("\n")
	for _, row := range t.Rows {
		b.WriteString("|")
		for _, c := range row {
			b.WriteString(" " + mdCell(c.Inlines) + " |")
		}
		b.WriteString("\n")
	}
	b.WriteString("\n")
}

func mdFigure(b *strings.Builder, n int, c *Chart) {
	fmt.Fprintf(b, "**Figure %d. %s.** %s\n\n", n, mdEscape(c.Title), mdEscape(c.Desc))
	switch c.Kind {
	case "heatmap":
		b.WriteString("| GCM objective |")
		for _, col := range c.ColLabels {
			b.WriteString(" " + mdEscape(col) + " |")
		}
		b.WriteString("\n| --- |")
		for range c.ColLabels {
			b.WriteString(" ---: |")
		}
		b.WriteString("\n")
		for i, row := range c.RowLabels {
			b.WriteString("| " + mdEscape(row) + " |")
			for j := range c.ColLabels {
				fmt.Fprintf(b, " %d |", c.Cells[i][j])
			}
			b.WriteString("\n")
		}
	default:
		if len(c.Bars) == 0 {
			b.WriteString("No data recorded.\n\n")
			return
		}
		b.WriteString("| Item | Value |\n| --- | ---: |\n")
		for _, bar := range c.Bars {
			fmt.Fprintf(b, "| %s | %s |\n", mdEscape(bar.Label), mdEscape(bar.Display))
		}
	}
	b.WriteString("\n")
}
