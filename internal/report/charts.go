package report

import (
	"bytes"
	"fmt"
	"html"
	"image"
	"image/color"
	"image/draw"
	"image/png"
	"math"
	"strings"
	"sync"
	"unicode/utf8"

	"golang.org/x/image/font"
	"golang.org/x/image/font/opentype"
	"golang.org/x/image/math/fixed"
)

// Chart is a bar chart or a heat map, laid out once and painted as SVG (in
// HTML), PNG (in DOCX) and vector shapes (in PDF).
type Chart struct {
	ID    string
	Title string
	Desc  string // the long description: what it shows, in words
	Kind  string // "bar" or "heatmap"
	Bars  []Bar
	// Heat map: rows × columns of counts.
	RowLabels []string
	ColLabels []string
	Cells     [][]int
}

// Bar is one bar.
type Bar struct {
	Label   string
	Value   float64
	Display string // the value as shown
	URL     string // the live page behind it
}

// shape is one element of a chart's layout, in chart units (1 unit = 1 CSS
// pixel; PDF scales to millimetres, PNG doubles).
type shape struct {
	rect            bool
	x, y, w, h      float64
	class           string // CSS class: bar, heat-0 … heat-4, axis
	fill            string // colour as #rrggbb
	text            string
	anchor          string // start, middle, end
	size            float64
	bold            bool
	title           string // a tooltip (SVG <title>)
	textClassOnDark bool
}

type layout struct {
	w, h   float64
	shapes []shape
}

const (
	colInk    = "#1b1b1b"
	colMuted  = "#4a4a4a"
	colBar    = "#01689b"
	colLine   = "#b1b4b6"
	colWhite  = "#ffffff"
	chartFont = 12.0
)

var heatFill = []string{"#f3f2f1", "#c6dbef", "#6baed6", "#2171b5", "#08306b"}

func truncRunes(s string, n int) string {
	if utf8.RuneCountInString(s) <= n {
		return s
	}
	r := []rune(s)
	return strings.TrimSpace(string(r[:n-1])) + "…"
}

// layoutChart places the chart's shapes.
func layoutChart(c *Chart) layout {
	if c.Kind == "heatmap" {
		return layoutHeat(c)
	}
	return layoutBars(c)
}

func layoutBars(c *Chart) layout {
	const labelW, barMax, valueW, rowH, top = 270.0, 280.0, 110.0, 24.0, 8.0
	l := layout{w: labelW + barMax + valueW + 10}
	maxV := 0.0
	for _, b := range c.Bars {
		maxV = math.Max(maxV, b.Value)
	}
	if len(c.Bars) == 0 {
		l.h = 40
		l.shapes = append(l.shapes, shape{x: 10, y: 24, text: "No data recorded.", anchor: "start", size: chartFont, fill: colMuted})
		return l
	}
	for i, b := range c.Bars {
		y := top + float64(i)*rowH
		l.shapes = append(l.shapes, shape{x: labelW - 8, y: y + 16, text: truncRunes(b.Label, 36), title: b.Label, anchor: "end", size: chartFont, fill: colInk})
		w := 0.0
		if maxV > 0 {
			w = barMax * b.Value / maxV
		}
		if b.Value > 0 && w < 2 {
			w = 2
		}
		l.shapes = append(l.shapes, shape{rect: true, x: labelW, y: y + 4, w: w, h: rowH - 8, class: "bar", fill: colBar, title: b.Label + ": " + b.Display})
		l.shapes = append(l.shapes, shape{x: labelW + w + 6, y: y + 16, text: b.Display, anchor: "start", size: chartFont, fill: colInk, bold: true})
	}
	l.h = top + float64(len(c.Bars))*rowH + 8
	l.shapes = append(l.shapes, shape{rect: true, x: labelW, y: top, w: 1, h: float64(len(c.Bars)) * rowH, class: "axis", fill: colLine})
	return l
}

// heatLevel maps a count to one of five shades relative to the largest.
func heatLevel(v, maxV int) int {
	if v <= 0 || maxV <= 0 {
		return 0
	}
	lvl := int(math.Ceil(4 * float64(v) / float64(maxV)))
	return min(max(lvl, 1), 4)
}

func layoutHeat(c *Chart) layout {
	const labelW, cellW, cellH, headH = 300.0, 46.0, 20.0, 26.0
	l := layout{w: labelW + cellW*float64(len(c.ColLabels)) + 10}
	maxV := 0
	for _, row := range c.Cells {
		for _, v := range row {
			maxV = max(maxV, v)
		}
	}
	for j, col := range c.ColLabels {
		l.shapes = append(l.shapes, shape{x: labelW + float64(j)*cellW + cellW/2, y: headH - 8, text: col, anchor: "middle", size: chartFont - 1, fill: colInk, bold: true})
	}
	for i, row := range c.RowLabels {
		y := headH + float64(i)*cellH
		l.shapes = append(l.shapes, shape{x: labelW - 8, y: y + 14, text: truncRunes(row, 44), title: row, anchor: "end", size: chartFont - 1, fill: colInk})
		for j := range c.ColLabels {
			v := 0
			if i < len(c.Cells) && j < len(c.Cells[i]) {
				v = c.Cells[i][j]
			}
			lvl := heatLevel(v, maxV)
			x := labelW + float64(j)*cellW
			l.shapes = append(l.shapes, shape{rect: true, x: x + 1, y: y + 1, w: cellW - 2, h: cellH - 2, class: fmt.Sprintf("heat-%d", lvl), fill: heatFill[lvl],
				title: fmt.Sprintf("%s, %s: %d", row, c.ColLabels[j], v)})
			if v > 0 {
				fill := colInk
				if lvl >= 3 {
					fill = colWhite
				}
				l.shapes = append(l.shapes, shape{x: x + cellW/2, y: y + 14, text: fmt.Sprint(v), anchor: "middle", size: chartFont - 1, fill: fill, textClassOnDark: lvl >= 3})
			}
		}
	}
	l.h = headH + float64(len(c.RowLabels))*cellH + 6
	return l
}

// SVG renders the chart as an accessible inline SVG: role="img" with a
// title and a description, text labels, colours by class and presentation
// attribute (never a style attribute, which the CSP would refuse).
func (c *Chart) SVG() string {
	l := layoutChart(c)
	var b strings.Builder
	tid, did := c.ID+"-title", c.ID+"-desc"
	fmt.Fprintf(&b, `<svg xmlns="http://www.w3.org/2000/svg" class="chart chart-%s" id="%s" role="img" aria-labelledby="%s %s" aria-label="%s" viewBox="0 0 %.0f %.0f" width="%.0f" height="%.0f" font-family="DejaVu Sans, Verdana, sans-serif">`,
		c.Kind, esc(c.ID), tid, did, esc(c.Title), l.w, l.h, l.w, l.h)
	fmt.Fprintf(&b, "<title id=\"%s\">%s</title><desc id=\"%s\">%s</desc>", tid, esc(c.Title), did, esc(c.Desc))
	for _, s := range l.shapes {
		if s.rect {
			// No links inside: an SVG with role="img" is one image, and
			// focusable parts would be nested controls. The figures' links
			// are in the tables and notes.
			fmt.Fprintf(&b, `<rect class="%s" x="%.1f" y="%.1f" width="%.1f" height="%.1f" fill="%s">`, s.class, s.x, s.y, s.w, s.h, s.fill)
			if s.title != "" {
				fmt.Fprintf(&b, "<title>%s</title>", esc(s.title))
			}
			b.WriteString("</rect>")
			continue
		}
		cls := "label"
		if s.textClassOnDark {
			cls = "label on-dark"
		}
		weight := ""
		if s.bold {
			weight = ` font-weight="bold"`
		}
		fmt.Fprintf(&b, `<text class="%s" x="%.1f" y="%.1f" text-anchor="%s" font-size="%.0f" fill="%s"%s>`, cls, s.x, s.y, s.anchor, s.size, s.fill, weight)
		if s.title != "" && s.title != s.text {
			fmt.Fprintf(&b, "<title>%s</title>", esc(s.title))
		}
		b.WriteString(esc(s.text) + "</text>")
	}
	b.WriteString("</svg>")
	return b.String()
}

func esc(s string) string { return html.EscapeString(s) }

var (
	pngFaceOnce sync.Once
	pngFonts    struct {
		regular, bold *opentype.Font
		err           error
	}
)

func pngFace(size float64, bold bool) (font.Face, error) {
	pngFaceOnce.Do(func() {
		pngFonts.regular, pngFonts.err = opentype.Parse(fontRegular)
		if pngFonts.err == nil {
			pngFonts.bold, pngFonts.err = opentype.Parse(fontBold)
		}
	})
	if pngFonts.err != nil {
		return nil, pngFonts.err
	}
	f := pngFonts.regular
	if bold {
		f = pngFonts.bold
	}
	return opentype.NewFace(f, &opentype.FaceOptions{Size: size, DPI: 72, Hinting: font.HintingFull})
}

// pngScale is how many pixels a chart unit becomes in the PNG.
const pngScale = 2

// PNG renders the chart as a PNG image (for DOCX), twice the SVG's size.
func (c *Chart) PNG() ([]byte, error) {
	l := layoutChart(c)
	img := image.NewRGBA(image.Rect(0, 0, int(l.w*pngScale), int(l.h*pngScale)))
	draw.Draw(img, img.Bounds(), image.NewUniform(color.White), image.Point{}, draw.Src)
	faces := map[[2]int]font.Face{}
	face := func(size float64, bold bool) (font.Face, error) {
		k := [2]int{int(size * 10), 0}
		if bold {
			k[1] = 1
		}
		if f, ok := faces[k]; ok {
			return f, nil
		}
		f, err := pngFace(size*pngScale, bold)
		if err != nil {
			return nil, err
		}
		faces[k] = f
		return f, nil
	}
	defer func() {
		for _, f := range faces {
			f.Close()
		}
	}()
	for _, s := range l.shapes {
		col := hexColor(s.fill)
		if s.rect {
			r := image.Rect(int(s.x*pngScale), int(s.y*pngScale), int((s.x+s.w)*pngScale), int((s.y+s.h)*pngScale))
			draw.Draw(img, r, image.NewUniform(col), image.Point{}, draw.Src)
			continue
		}
		f, err := face(s.size, s.bold)
		if err != nil {
			return nil, err
		}
		d := &font.Drawer{Dst: img, Src: image.NewUniform(col), Face: f}
		w := d.MeasureString(s.text)
		x := fixed.Int26_6(s.x * pngScale * 64)
		switch s.anchor {
		case "end":
			x -= w
		case "middle":
			x -= w / 2
		}
		d.Dot = fixed.Point26_6{X: x, Y: fixed.Int26_6(s.y * pngScale * 64)}
		d.DrawString(s.text)
	}
	var buf bytes.Buffer
	if err := png.Encode(&buf, img); err != nil {
		return nil, err
	}
	return buf.Bytes(), nil
}

func hexColor(s string) color.RGBA {
	var r, g, b uint8
	if _, err := fmt.Sscanf(s, "#%02x%02x%02x", &r, &g, &b); err != nil {
		return color.RGBA{0, 0, 0, 255}
	}
	return color.RGBA{r, g, b, 255}
}

// Size is the chart's size in chart units.
func (c *Chart) Size() (w, h float64) {
	l := layoutChart(c)
	return l.w, l.h
}
