package report

import (
	"net/url"
	"strings"

	"github.com/yuin/goldmark"
	"github.com/yuin/goldmark/ast"
	"github.com/yuin/goldmark/text"
	"github.com/yuin/goldmark/util"
)

// markdown is goldmark's CommonMark parser. Only its AST is used: the
// editions' texts become the document model's paragraphs, lists and
// emphasis, so every output format escapes them its own way. Raw HTML is
// dropped, as goldmark's own renderer does without html.WithUnsafe, and
// links keep only http, https, mailto and site-relative destinations.
var markdown = goldmark.New()

// markdownBlocks parses src into blocks.
func markdownBlocks(src string) []Block {
	source := []byte(src)
	doc := markdown.Parser().Parse(text.NewReader(source))
	var out []Block
	for n := doc.FirstChild(); n != nil; n = n.NextSibling() {
		out = append(out, mdBlock(n, source)...)
	}
	return out
}

func mdBlock(n ast.Node, src []byte) []Block {
	switch n := n.(type) {
	case *ast.Paragraph, *ast.TextBlock:
		if in := parseInlines(n, src); len(in) > 0 {
			return []Block{&Paragraph{Inlines: in}}
		}
	case *ast.Heading:
		in := parseInlines(n, src)
		for i := range in {
			in[i].Bold = true
		}
		if len(in) > 0 {
			return []Block{&Paragraph{Inlines: in, Class: "subhead"}}
		}
	case *ast.List:
		l := &List{Ordered: n.IsOrdered()}
		var items func(list ast.Node, depth int)
		items = func(list ast.Node, depth int) {
			for li := list.FirstChild(); li != nil; li = li.NextSibling() {
				var in []Inline
				var nested []ast.Node
				for c := li.FirstChild(); c != nil; c = c.NextSibling() {
					if c.Kind() == ast.KindList {
						nested = append(nested, c)
						continue
					}
					if len(in) > 0 {
						in = append(in, txt(" "))
					}
					in = append(in, parseInlines(c, src)...)
				}
				if depth > 0 && len(in) > 0 {
					in = append([]Inline{txt(strings.Repeat("– ", depth))}, in...)
				}
				if len(in) > 0 {
					l.Items = append(l.Items, &Paragraph{Inlines: in})
				}
				for _, c := range nested {
					items(c, depth+1)
				}
			}
		}
		items(n, 0)
		if len(l.Items) > 0 {
			return []Block{l}
		}
	case *ast.Blockquote:
		var out []Block
		for c := n.FirstChild(); c != nil; c = c.NextSibling() {
			for _, b := range mdBlock(c, src) {
				if p, ok := b.(*Paragraph); ok {
					p.Class = "quote"
				}
				out = append(out, b)
			}
		}
		return out
	case *ast.FencedCodeBlock, *ast.CodeBlock:
		lines := n.Lines()
		var b strings.Builder
		for i := 0; i < lines.Len(); i++ {
			seg := lines.At(i)
			b.Write(seg.Value(src))
		}
		if s := strings.TrimRight(b.String(), "\n"); s != "" {
			return []Block{&Paragraph{Inlines: []Inline{{Text: s, Code: true}}, Class: "code"}}
		}
	}
	// Raw HTML blocks, thematic breaks and anything unknown are left out.
	return nil
}

func parseInlines(n ast.Node, src []byte) []Inline {
	var out []Inline
	var walk func(n ast.Node, bold, italic bool, href string)
	add := func(s string, bold, italic, code bool, href string) {
		if s == "" {
			return
		}
		if k := len(out) - 1; k >= 0 && out[k].Bold == bold && out[k].Italic == italic && out[k].Code == code && out[k].URL == href && out[k].Note == 0 {
			out[k].Text += s
			return
		}
		out = append(out, Inline{Text: s, Bold: bold, Italic: italic, Code: code, URL: href})
	}
	walk = func(n ast.Node, bold, italic bool, href string) {
		for c := n.FirstChild(); c != nil; c = c.NextSibling() {
			switch c := c.(type) {
			case *ast.Text:
				v := c.Value(src)
				if !c.IsRaw() {
					v = util.ResolveNumericReferences(util.ResolveEntityNames(util.UnescapePunctuations(v)))
				}
				add(string(v), bold, italic, false, href)
				if c.SoftLineBreak() || c.HardLineBreak() {
					add(" ", bold, italic, false, href)
				}
			case *ast.String:
				add(string(c.Value), bold, italic, false, href)
			case *ast.CodeSpan:
				var b strings.Builder
				for t := c.FirstChild(); t != nil; t = t.NextSibling() {
					if tn, ok := t.(*ast.Text); ok {
						b.Write(tn.Value(src))
					} else if s, ok := t.(*ast.String); ok {
						b.Write(s.Value)
					}
				}
				add(b.String(), bold, italic, true, href)
			case *ast.Emphasis:
				if c.Level >= 2 {
					walk(c, true, italic, href)
				} else {
					walk(c, bold, true, href)
				}
			case *ast.Link:
				walk(c, bold, italic, safeURL(string(c.Destination)))
			case *ast.AutoLink:
				u := string(c.URL(src))
				add(string(c.Label(src)), bold, italic, false, safeURL(u))
			case *ast.Image:
				walk(c, bold, italic, href) // its alt text
			case *ast.RawHTML:
				// dropped
			default:
				walk(c, bold, italic, href)
			}
		}
	}
	walk(n, false, false, "")
	return out
}

// safeURL keeps http, https and mailto addresses and site-relative paths;
// anything else (javascript:, data:) becomes no link at all.
func safeURL(raw string) string {
	raw = strings.TrimSpace(raw)
	if strings.HasPrefix(raw, "/") && !strings.HasPrefix(raw, "//") || strings.HasPrefix(raw, "#") {
		return raw
	}
	u, err := url.Parse(raw)
	if err != nil {
		return ""
	}
	switch strings.ToLower(u.Scheme) {
	case "http", "https", "mailto":
		return raw
	}
	return ""
}
