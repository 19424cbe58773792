package report

import (
	"fmt"
	"strings"
)

// StylesheetPath is where the review's stylesheet (screen and print) is
// served; the HTML carries no inline style or script, so the server's CSP
// holds.
const StylesheetPath = "/reports/review.css"

// HTML renders the document as a complete HTML page that links the
// review's stylesheet.
func HTML(d *Document) []byte {
	var b strings.Builder
	b.WriteString("<!doctype html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n")
	fmt.Fprintf(&b, "<title>%s</title>\n<link rel=\"stylesheet\" href=\"%s\">\n</head>\n<body class=\"review-page\">\n<main>\n", esc(d.Title), StylesheetPath)
	b.WriteString(HTMLFragment(d))
	b.WriteString("</main>\n</body>\n</html>\n")
	return []byte(b.String())
}

// HTMLFragment renders the document as an <article> to place inside a page.
func HTMLFragment(d *Document) string {
	var b strings.Builder
	b.WriteString("<article class=\"review\">\n<header class=\"review-head\">\n")
	fmt.Fprintf(&b, "<h1>%s</h1>\n", esc(d.Title))
	if d.Subtitle != "" {
		fmt.Fprintf(&b, "<p class=\"subtitle\">%s</p>\n", esc(d.Subtitle))
	}
	b.WriteString("<dl class=\"review-meta\">\n")
	for _, m := range d.Meta {
		fmt.Fprintf(&b, "<dt>%s</dt><dd>%s</dd>\n", esc(m.Label), esc(m.Value))
	}
	b.WriteString("</dl>\n<nav class=\"toc\" aria-label=\"Contents of the review\">\n<h2 class=\"toc-title\">Contents</h2>\n<ol>\n")
	for _, s := range d.Sections {
		fmt.Fprintf(&b, "<li><a href=\"#%s\">%s</a>", s.ID, esc(s.Heading))
		if len(s.Sections) > 0 {
			b.WriteString("<ol>")
			for _, c := range s.Sections {
				fmt.Fprintf(&b, "<li><a href=\"#%s\">%s</a></li>", c.ID, esc(c.Heading))
			}
			b.WriteString("</ol>")
		}
		b.WriteString("</li>\n")
	}
	if len(d.Notes) > 0 {
		b.WriteString("<li><a href=\"#notes\">Notes</a></li>\n")
	}
	b.WriteString("</ol>\n</nav>\n</header>\n")
	fig := 0
	var section func(s *Section)
	section = func(s *Section) {
		h := min(s.Level+1, 6)
		fmt.Fprintf(&b, "<section id=\"%s\" class=\"level-%d\" aria-labelledby=\"%s-h\">\n<h%d id=\"%s-h\">%s</h%d>\n", s.ID, s.Level, s.ID, h, s.ID, esc(s.Heading), h)
		for _, bl := range s.Blocks {
			switch bl := bl.(type) {
			case *Paragraph:
				switch bl.Class {
				case "quote":
					fmt.Fprintf(&b, "<blockquote><p>%s</p></blockquote>\n", htmlInlines(bl.Inlines))
				case "code":
					fmt.Fprintf(&b, "<pre><code>%s</code></pre>\n", esc(PlainText(bl.Inlines)))
				default:
					cls := ""
					if bl.Class != "" {
						cls = fmt.Sprintf(" class=\"%s\"", bl.Class)
					}
					fmt.Fprintf(&b, "<p%s>%s</p>\n", cls, htmlInlines(bl.Inlines))
				}
			case *List:
				tag := "ul"
				if bl.Ordered {
					tag = "ol"
				}
				cls := ""
				if bl.Class != "" {
					cls = fmt.Sprintf(" class=\"%s\"", bl.Class)
				}
				fmt.Fprintf(&b, "<%s%s>\n", tag, cls)
				for _, it := range bl.Items {
					fmt.Fprintf(&b, "<li>%s</li>\n", htmlInlines(it.Inlines))
				}
				fmt.Fprintf(&b, "</%s>\n", tag)
			case *Table:
				htmlTable(&b, bl)
			case *Figure:
				fig++
				fmt.Fprintf(&b, "<figure class=\"chart-figure\" id=\"figure-%d\">\n%s\n<figcaption><strong>Figure %d.</strong> %s</figcaption>\n</figure>\n", fig, bl.Chart.SVG(), fig, esc(bl.Chart.Title))
			}
		}
		for _, c := range s.Sections {
			section(c)
		}
		b.WriteString("</section>\n")
	}
	for _, s := range d.Sections {
		section(s)
	}
	if len(d.Notes) > 0 {
		b.WriteString("<section id=\"notes\" class=\"notes\" aria-labelledby=\"notes-h\">\n<h2 id=\"notes-h\">Notes</h2>\n<ol>\n")
		for _, n := range d.Notes {
			fmt.Fprintf(&b, "<li id=\"note-%d\">%s", n.N, esc(n.Text))
			if n.URL != "" {
				fmt.Fprintf(&b, ": <a href=\"%s\">%s</a>", esc(n.URL), esc(n.URL))
			}
			b.WriteString("</li>\n")
		}
		b.WriteString("</ol>\n</section>\n")
	}
	b.WriteString("</article>\n")
	return b.String()
}

func htmlInlines(in []Inline) string {
	var b strings.Builder
	for _, x := range in {
		if x.Note > 0 {
			fmt.Fprintf(&b, "<sup class=\"note-ref\"><a href=\"#note-%d\" aria-label=\"note %d\">%d</a></sup>", x.Note, x.Note, x.Note)
			continue
		}
		t := esc(x.Text)
		if x.Code {
			t = "<code>" + t + "</code>"
		}
		if x.Italic {
			t = "<em>" + t + "</em>"
		}
		if x.Bold {
			t = "<strong>" + t + "</strong>"
		}
		if x.URL != "" {
			cls := ""
			if x.Class != "" {
				cls = fmt.Sprintf(" class=\"%s\"", x.Class)
			}
			t = fmt.Sprintf("<a href=\"%s\"%s>%s</a>", esc(x.URL), cls, t)
		} else if x.Class != "" {
			t = fmt.Sprintf("<span class=\"%s\">%s</span>", x.Class, t)
		}
		b.WriteString(t)
	}
	return b.String()
}

func htmlTable(b *strings.Builder, t *Table) {
	id := ""
	if t.ID != "" {
		id = fmt.Sprintf(" id=\"%s\"", t.ID)
	}
	fmt.Fprintf(b, "<div class=\"table-wrap\"><table%s class=\"review-table\">\n<caption>%s", id, esc(t.Caption))
	if t.Note > 0 {
		fmt.Fprintf(b, "<sup class=\"note-ref\"><a href=\"#note-%d\" aria-label=\"note %d\">%d</a></sup>", t.Note, t.Note, t.Note)
	}
	b.WriteString("</caption>\n<thead><tr>")
	for i, h := range t.Header {
		cls := ""
		if i < len(t.Numeric) && t.Numeric[i] {
			cls = " class=\"num\""
		}
		fmt.Fprintf(b, "<th scope=\"col\"%s>%s</th>", cls, esc(h))
	}
	b.WriteString("</tr></thead>\n<tbody>\n")
	for _, row := range t.Rows {
		b.WriteString("<tr>")
		for i, c := range row {
			var cls []string
			if i < len(t.Numeric) && t.Numeric[i] {
				cls = append(cls, "num")
			}
			if c.Class != "" {
				cls = append(cls, c.Class)
			}
			attr := ""
			if len(cls) > 0 {
				attr = fmt.Sprintf(" class=\"%s\"", strings.Join(cls, " "))
			}
			if c.RowHeader {
				fmt.Fprintf(b, "<th scope=\"row\"%s>%s</th>", attr, htmlInlines(c.Inlines))
			} else {
				fmt.Fprintf(b, "<td%s>%s</td>", attr, htmlInlines(c.Inlines))
			}
		}
		b.WriteString("</tr>\n")
	}
	b.WriteString("</tbody>\n</table></div>\n")
}
