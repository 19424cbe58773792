// Package iati imports and exports the register of initiatives as IATI 2.03
// activity files (https://iatistandard.org/en/iati-standard/203/).
//
// The parser streams: it reads tokens with encoding/xml's Decoder and
// decodes one iati-activity element at a time with DecodeElement, so memory
// stays constant whatever the file's size. Every token passes through a
// guard that refuses DTDs and entity declarations, nesting deeper than a
// limit, activities larger than a limit, files over a size limit and
// encodings other than UTF-8 (and the declared ISO-8859-1, Windows-1252 or
// US-ASCII), each with the line it was found on.
//
// The mapping to the register, the GCM classifier, the importer with its
// jobs, the exporter and the pages and API live beside the parser; docs/iati.md
// describes the rules.
package iati

import (
	"bytes"
	"encoding/xml"
	"errors"
	"fmt"
	"io"
	"strings"
	"sync/atomic"
	"unicode/utf8"

	"golang.org/x/text/encoding/charmap"

	"kompas/internal/platform/web"
)

// Limits of the parser.
const (
	DefaultMaxBytes         int64 = 1 << 30  // 1 GiB for a whole file
	DefaultMaxDepth               = 64       // nesting of elements
	DefaultMaxActivityBytes int64 = 16 << 20 // 16 MiB for one activity
)

// Options tune the parser. Zero values take the defaults above.
type Options struct {
	MaxBytes         int64
	MaxDepth         int
	MaxActivityBytes int64
}

func (o Options) withDefaults() Options {
	if o.MaxBytes <= 0 {
		o.MaxBytes = DefaultMaxBytes
	}
	if o.MaxDepth <= 0 {
		o.MaxDepth = DefaultMaxDepth
	}
	if o.MaxActivityBytes <= 0 {
		o.MaxActivityBytes = DefaultMaxActivityBytes
	}
	return o
}

// FileError is a problem that stops the reading of a file: malformed XML, a
// DTD, too deep a nesting, too large a file, an unsupported encoding. Line
// is 1-based; 0 when no line applies.
type FileError struct {
	Line  int
	Msg   string
	cause error
}

// Unwrap gives ErrTooLarge for a file over the size limit.
func (e *FileError) Unwrap() error { return e.cause }

func (e *FileError) Error() string {
	if e.Line > 0 {
		return fmt.Sprintf("line %d: %s", e.Line, e.Msg)
	}
	return e.Msg
}

// ErrTooLarge is wrapped by the FileError for a file over Options.MaxBytes.
var ErrTooLarge = errors.New("iati: file too large")

// Parser reads IATI activity files. One Parser reads one file at a time; its
// counters may be read from another goroutine for progress.
type Parser struct {
	opts       Options
	read       atomic.Int64
	activities atomic.Int64
}

// NewParser makes a parser with opts.
func NewParser(opts Options) *Parser {
	return &Parser{opts: opts.withDefaults()}
}

// BytesRead is how much of the file has been read so far.
func (p *Parser) BytesRead() int64 { return p.read.Load() }

// Activities is how many activities have been decoded so far.
func (p *Parser) Activities() int64 { return p.activities.Load() }

// Activity is one iati-activity element as decoded, with the line it starts
// on and the lines of its child elements, so that problems found later can
// name where they are.
type Activity struct {
	Line  int
	lines map[string][]int // "recipient-country" → lines of each occurrence, in order

	Lang            string `xml:"http://www.w3.org/XML/1998/namespace lang,attr"`
	DefaultCurrency string `xml:"default-currency,attr"`
	Hierarchy       string `xml:"hierarchy,attr"`

	// Kompas's own extension elements come first: encoding/xml gives an
	// element to the first field whose name matches, and a field without a
	// namespace matches any namespace.
	KKind          []string  `xml:"urn:kompas:iati:1 kind"`
	KLead          []kLead   `xml:"urn:kompas:iati:1 lead"`
	KPrinciples    []string  `xml:"urn:kompas:iati:1 principle"`
	KPillars       []string  `xml:"urn:kompas:iati:1 pillar"`
	KReportSection []string  `xml:"urn:kompas:iati:1 report-section"`
	KPartners      []kOrg    `xml:"urn:kompas:iati:1 partner"`
	KResults       []kResult `xml:"urn:kompas:iati:1 result"`
	KSources       []kSource `xml:"urn:kompas:iati:1 source"`

	Identifier        []string           `xml:"iati-identifier"`
	ReportingOrg      []org              `xml:"reporting-org"`
	Title             []narratives       `xml:"title"`
	Descriptions      []description      `xml:"description"`
	ParticipatingOrgs []org              `xml:"participating-org"`
	Status            []coded            `xml:"activity-status"`
	Dates             []activityDate     `xml:"activity-date"`
	Countries         []coded            `xml:"recipient-country"`
	Regions           []vocabCoded       `xml:"recipient-region"`
	Sectors           []vocabCoded       `xml:"sector"`
	Tags              []vocabCoded       `xml:"tag"`
	Budgets           []budget           `xml:"budget"`
	Transactions      []transaction      `xml:"transaction"`
	DocumentLinks     []documentLink     `xml:"document-link"`
	RelatedActivities []relatedActivity  `xml:"related-activity"`
	PolicyMarkers     []vocabCodedSignif `xml:"policy-marker"`
}

type narrative struct {
	Lang string `xml:"http://www.w3.org/XML/1998/namespace lang,attr"`
	Text string `xml:",chardata"`
}

type narratives struct {
	Narratives []narrative `xml:"narrative"`
}

type description struct {
	Type string `xml:"type,attr"`
	narratives
}

type org struct {
	Ref   string      `xml:"ref,attr"`
	Role  string      `xml:"role,attr"`
	Type  string      `xml:"type,attr"`
	KOrg  string      `xml:"urn:kompas:iati:1 org,attr"`
	KRole string      `xml:"urn:kompas:iati:1 role,attr"`
	KName string      `xml:"urn:kompas:iati:1 name,attr"`
	Narrs []narrative `xml:"narrative"`
}

type kOrg struct {
	Org  string `xml:"org,attr"`
	Role string `xml:"role,attr"`
	Name string `xml:"name,attr"`
	Ref  string `xml:"ref,attr"`
}

type kLead struct {
	Slug string `xml:",chardata"`
	Name string `xml:"name,attr"`
	Ref  string `xml:"ref,attr"`
}

type kResult struct {
	Indicator string `xml:"indicator,attr"`
	Value     string `xml:"value,attr"`
	Unit      string `xml:"unit,attr"`
	Date      string `xml:"date,attr"`
	Source    string `xml:"source,attr"`
}

type kSource struct {
	Title string `xml:"title,attr"`
	URL   string `xml:"url,attr"`
}

type coded struct {
	Code string `xml:"code,attr"`
}

type vocabCoded struct {
	Code          string      `xml:"code,attr"`
	Vocabulary    string      `xml:"vocabulary,attr"`
	VocabularyURI string      `xml:"vocabulary-uri,attr"`
	Narrs         []narrative `xml:"narrative"`
}

type vocabCodedSignif struct {
	Code         string `xml:"code,attr"`
	Vocabulary   string `xml:"vocabulary,attr"`
	Significance string `xml:"significance,attr"`
}

type activityDate struct {
	Type    string  `xml:"type,attr"`
	ISODate string  `xml:"iso-date,attr"`
	KDate   *string `xml:"urn:kompas:iati:1 date,attr"`
}

type value struct {
	Currency  string `xml:"currency,attr"`
	ValueDate string `xml:"value-date,attr"`
	Text      string `xml:",chardata"`
}

type isoDateElem struct {
	ISODate string `xml:"iso-date,attr"`
}

type budget struct {
	Type        string        `xml:"type,attr"`
	Status      string        `xml:"status,attr"`
	PeriodStart []isoDateElem `xml:"period-start"`
	PeriodEnd   []isoDateElem `xml:"period-end"`
	Value       []value       `xml:"value"`
}

type transaction struct {
	Type  []coded       `xml:"transaction-type"`
	Date  []isoDateElem `xml:"transaction-date"`
	Value []value       `xml:"value"`
}

type documentLink struct {
	URL    string       `xml:"url,attr"`
	Format string       `xml:"format,attr"`
	Title  []narratives `xml:"title"`
}

type relatedActivity struct {
	Ref  string `xml:"ref,attr"`
	Type string `xml:"type,attr"`
}

// LineOf returns the line of the n-th (0-based) child element named name,
// or the activity's own line when unknown.
func (a *Activity) LineOf(name string, n int) int {
	if ls := a.lines[name]; n >= 0 && n < len(ls) {
		return ls[n]
	}
	return a.Line
}

// countingReader counts bytes, refuses to read past the size limit and past
// the per-activity (or per-token) limit since the last mark.
type countingReader struct {
	r         io.Reader
	p         *Parser
	n         int64
	sinceMark int64
	limit     int64
	markLimit int64
	err       error // the limit error, kept so the parser can report it
}

func (c *countingReader) Read(b []byte) (int, error) {
	if c.err != nil {
		return 0, c.err
	}
	n, err := c.r.Read(b)
	c.n += int64(n)
	c.sinceMark += int64(n)
	c.p.read.Store(c.n)
	if c.n > c.limit {
		c.err = &FileError{Msg: fmt.Sprintf("the file is larger than the limit of %s", FormatSize(c.limit)), cause: ErrTooLarge}
		return n, c.err
	}
	if c.sinceMark > c.markLimit+8192 {
		c.err = &FileError{Msg: fmt.Sprintf("one activity or element is larger than the limit of %s", FormatSize(c.markLimit))}
		return n, c.err
	}
	return n, err
}

func (c *countingReader) mark() { c.sinceMark = 0 }

// guard sits between the raw decoder and the decoder the activities are
// decoded with: it enforces the limits on every token and records the
// lines of an activity's children.
type guard struct {
	raw      *xml.Decoder
	cr       *countingReader
	maxDepth int
	depth    int
	// actDepth is the depth of the activity being decoded (0: none).
	actDepth int
	act      *Activity
	err      error // the first error the guard raised or passed on
	charset  *charsetError
	// lastStart is the line of the most recent start tag.
	lastStart int
}

func (g *guard) line() int {
	l, _ := g.raw.InputPos()
	return l
}

func (g *guard) Token() (xml.Token, error) {
	if g.err != nil {
		return nil, g.err
	}
	startLine := g.line()
	t, err := g.raw.RawToken()
	if err != nil {
		g.err = g.fileError(err)
		return nil, g.err
	}
	switch tt := t.(type) {
	case xml.StartElement:
		g.depth++
		g.lastStart = startLine
		if g.depth > g.maxDepth {
			g.err = &FileError{Line: startLine, Msg: fmt.Sprintf("elements are nested deeper than the limit of %d (at <%s>)", g.maxDepth, qname(tt.Name))}
			return nil, g.err
		}
		if g.act != nil && g.depth == g.actDepth+1 {
			if g.act.lines == nil {
				g.act.lines = make(map[string][]int, 16)
			}
			g.act.lines[tt.Name.Local] = append(g.act.lines[tt.Name.Local], startLine)
		}
		if g.act == nil {
			g.cr.mark()
		}
	case xml.EndElement:
		g.depth--
		if g.act == nil {
			g.cr.mark()
		}
	case xml.Directive:
		g.err = &FileError{Line: startLine, Msg: "the file has a DTD or entity declaration (<!" + directiveWord(tt) + " …>); IATI files need none and Kompas refuses them, so that no entity can be expanded"}
		return nil, g.err
	case xml.CharData:
		if g.act == nil {
			g.cr.mark()
		}
	}
	return t, nil
}

func directiveWord(d xml.Directive) string {
	f := strings.Fields(string(d))
	if len(f) == 0 {
		return ""
	}
	w := f[0]
	if len(w) > 20 {
		w = w[:20]
	}
	return strings.ToValidUTF8(w, "?")
}

func qname(n xml.Name) string {
	s := n.Local
	if n.Space != "" {
		s = n.Space + ":" + s
	}
	if len(s) > 60 {
		s = s[:60] + "…"
	}
	return strings.ToValidUTF8(s, "?")
}

// fileError turns any error met while reading into a FileError with the
// best line known.
func (g *guard) fileError(err error) error {
	var fe *FileError
	switch {
	case errors.As(err, &fe):
		if fe.Line == 0 {
			fe.Line = g.line()
		}
		return fe
	case g.charset != nil && g.charset.err != nil:
		return &FileError{Line: g.charset.line, Msg: g.charset.err.Error()}
	}
	var se *xml.SyntaxError
	if errors.As(err, &se) {
		return &FileError{Line: se.Line, Msg: "the XML is malformed: " + strings.TrimPrefix(se.Msg, "xml: ")}
	}
	if errors.Is(err, io.EOF) {
		return io.EOF
	}
	msg := err.Error()
	msg = strings.TrimPrefix(msg, "xml: ")
	return &FileError{Line: g.line(), Msg: msg}
}

// charsetError carries the first byte a declared encoding cannot decode.
type charsetError struct {
	line int
	err  error
}

// charsetReader accepts the encodings Kompas reads: UTF-8 and US-ASCII as
// they are, ISO-8859-1 and Windows-1252 converted to UTF-8. A byte that the
// declared encoding does not define is an error naming its line.
func (g *guard) charsetReader(label string, input io.Reader) (io.Reader, error) {
	switch strings.ToLower(strings.TrimSpace(label)) {
	case "utf-8", "utf8", "us-ascii", "ascii":
		return input, nil
	case "iso-8859-1", "iso8859-1", "latin1", "latin-1", "l1", "iso_8859-1":
		return charmap.ISO8859_1.NewDecoder().Reader(input), nil
	case "windows-1252", "cp1252", "x-cp1252":
		g.charset = &charsetError{}
		return &strictDecoded{r: charmap.Windows1252.NewDecoder().Reader(input), ce: g.charset, line: g.line()}, nil
	}
	return nil, &FileError{Line: g.line(), Msg: fmt.Sprintf("the file declares the encoding %q, which Kompas does not read; save it as UTF-8 (ISO-8859-1 and Windows-1252 are read too)", truncate(label, 40))}
}

// strictDecoded refuses U+FFFD in decoded Windows-1252 text: that encoding
// cannot express it, so it marks a byte the encoding does not define.
type strictDecoded struct {
	r    io.Reader
	ce   *charsetError
	line int
}

func (s *strictDecoded) Read(b []byte) (int, error) {
	n, err := s.r.Read(b)
	if i := bytes.Index(b[:n], []byte("\uFFFD")); i >= 0 {
		s.ce.line = s.line + bytes.Count(b[:i], []byte("\n"))
		s.ce.err = errors.New("the file has a byte that is not a character in its declared encoding (Windows-1252); save it as UTF-8")
		return i, s.ce.err
	}
	s.line += bytes.Count(b[:n], []byte("\n"))
	return n, err
}

// sniff refuses UTF-16 and UTF-32 (with or without a byte-order mark) and
// skips a UTF-8 byte-order mark.
func sniff(r io.Reader) (io.Reader, error) {
	head := make([]byte, 4)
	n, err := io.ReadFull(r, head)
	head = head[:n]
	if err != nil && !errors.Is(err, io.ErrUnexpectedEOF) && !errors.Is(err, io.EOF) {
		return nil, err
	}
	if n == 0 {
		return nil, &FileError{Line: 1, Msg: "the file is empty"}
	}
	utf16 := &FileError{Line: 1, Msg: "the file is UTF-16 or UTF-32 encoded; Kompas reads IATI files in UTF-8 (or ISO-8859-1 or Windows-1252 when the XML declaration says so): save it as UTF-8"}
	switch {
	case bytes.HasPrefix(head, []byte{0xEF, 0xBB, 0xBF}):
		return io.MultiReader(bytes.NewReader(head[3:]), r), nil
	case bytes.HasPrefix(head, []byte{0xFE, 0xFF}), bytes.HasPrefix(head, []byte{0xFF, 0xFE}),
		bytes.HasPrefix(head, []byte{0x00, 0x00, 0xFE, 0xFF}):
		return nil, utf16
	case n >= 2 && (head[0] == 0 && head[1] == '<' || head[0] == '<' && head[1] == 0):
		return nil, utf16
	}
	return io.MultiReader(bytes.NewReader(head), r), nil
}

// ErrStop may be returned by Parse's callback to stop reading without an
// error.
var ErrStop = errors.New("iati: stop")

// Parse reads an IATI file whose root is iati-activities or a single
// iati-activity and calls fn with each activity, in order. It returns nil
// at the end of a good file, a *FileError for a problem that stops the
// reading (with the activities before it already given to fn), or fn's
// error.
func (p *Parser) Parse(r io.Reader, fn func(*Activity) error) error {
	opts := p.opts
	cr := &countingReader{r: r, p: p, limit: opts.MaxBytes, markLimit: opts.MaxActivityBytes}
	sr, err := sniff(cr)
	if err != nil {
		var fe *FileError
		if errors.As(err, &fe) {
			return fe
		}
		return &FileError{Msg: err.Error()}
	}
	raw := xml.NewDecoder(sr)
	raw.Strict = true
	g := &guard{raw: raw, cr: cr, maxDepth: opts.MaxDepth}
	raw.CharsetReader = g.charsetReader
	dec := xml.NewTokenDecoder(g)
	fail := func(err error) error {
		if g.err != nil {
			if errors.Is(g.err, io.EOF) {
				return &FileError{Line: g.line(), Msg: "the file ends before its root element does"}
			}
			return g.err
		}
		var se *xml.SyntaxError
		if errors.As(err, &se) {
			return &FileError{Line: g.line(), Msg: "the XML is malformed: " + strings.TrimPrefix(se.Msg, "xml: ")}
		}
		return &FileError{Line: g.line(), Msg: err.Error()}
	}
	sawRoot := false
	for {
		t, err := dec.Token()
		if err == io.EOF {
			if !sawRoot {
				return &FileError{Line: g.line(), Msg: "the file has no root element (want <iati-activities> or <iati-activity>)"}
			}
			return nil
		}
		if err != nil {
			return fail(err)
		}
		se, ok := t.(xml.StartElement)
		if !ok {
			if cd, ok := t.(xml.CharData); ok && g.depth == 0 && len(bytes.TrimSpace(cd)) > 0 {
				return &FileError{Line: g.line(), Msg: "the file has text outside its root element"}
			}
			continue
		}
		switch {
		case g.depth == 1:
			if sawRoot {
				return &FileError{Line: g.line(), Msg: "the file has a second root element <" + qname(se.Name) + ">"}
			}
			sawRoot = true
			switch se.Name.Local {
			case "iati-activities":
				if err := checkVersion(se, g.line()); err != nil {
					return err
				}
			case "iati-activity":
				if err := checkVersion(se, g.line()); err != nil {
					return err
				}
				if err := p.decodeActivity(dec, g, se, fn); err != nil {
					return err
				}
			default:
				return &FileError{Line: g.line(), Msg: fmt.Sprintf("the root element is <%s>; an IATI activity file has <iati-activities> or <iati-activity>", qname(se.Name))}
			}
		case g.depth == 2 && se.Name.Local == "iati-activity":
			if err := p.decodeActivity(dec, g, se, fn); err != nil {
				return err
			}
		default:
			// Anything else under the root (comments aside) is skipped.
			if err := dec.Skip(); err != nil {
				return fail(err)
			}
		}
	}
}

func (p *Parser) decodeActivity(dec *xml.Decoder, g *guard, se xml.StartElement, fn func(*Activity) error) error {
	a := &Activity{}
	// The start tag has been read: its line is the line the guard saw it on.
	a.Line = g.lastStartLine()
	g.cr.mark()
	g.act, g.actDepth = a, g.depth
	err := dec.DecodeElement(a, &se)
	g.act, g.actDepth = nil, 0
	g.cr.mark()
	if err != nil {
		if g.err != nil {
			if errors.Is(g.err, io.EOF) {
				return &FileError{Line: g.line(), Msg: "the file ends inside an activity"}
			}
			return g.err
		}
		var se *xml.SyntaxError
		if errors.As(err, &se) {
			return &FileError{Line: g.line(), Msg: "the XML is malformed: " + strings.TrimPrefix(se.Msg, "xml: ")}
		}
		return &FileError{Line: g.line(), Msg: "the activity could not be read: " + strings.TrimPrefix(err.Error(), "xml: ")}
	}
	p.activities.Add(1)
	return fn(a)
}

// lastStartLine is the line of the most recent start tag: where the
// position was before the token was read, which is where its "<" is unless
// whitespace-free text ran up to it on an earlier line.
func (g *guard) lastStartLine() int { return g.lastStart }

// checkVersion refuses IATI 1.x files, whose structure differs (no
// narratives). A missing version is taken as 2.0x.
func checkVersion(se xml.StartElement, line int) error {
	for _, a := range se.Attr {
		if a.Name.Local == "version" {
			v := strings.TrimSpace(a.Value)
			if strings.HasPrefix(v, "1.") || v == "1" {
				return &FileError{Line: line, Msg: fmt.Sprintf("the file is IATI version %s; Kompas reads version 2 files (2.01 to 2.03)", truncate(v, 10))}
			}
		}
	}
	return nil
}

func truncate(s string, n int) string {
	s = strings.ToValidUTF8(s, "?")
	if utf8.RuneCountInString(s) <= n {
		return s
	}
	return string([]rune(s)[:n]) + "…"
}

// FormatSize writes a byte count for people: 1 GiB, 500 MiB, 1234 bytes.
func FormatSize(n int64) string {
	return web.FormatSize(n)
}

// ParseSize reads a size such as 1073741824, 1GiB, 500MB, 500M or 64k.
// Units are powers of 1024.
func ParseSize(s string) (int64, error) {
	t := strings.ToLower(strings.TrimSpace(s))
	mult := int64(1)
	for _, u := range []struct {
		suffix string
		mult   int64
	}{{"gib", 1 << 30}, {"gb", 1 << 30}, {"g", 1 << 30}, {"mib", 1 << 20}, {"mb", 1 << 20}, {"m", 1 << 20}, {"kib", 1 << 10}, {"kb", 1 << 10}, {"k", 1 << 10}, {"b", 1}} {
		if strings.HasSuffix(t, u.suffix) {
			t, mult = strings.TrimSpace(strings.TrimSuffix(t, u.suffix)), u.mult
			break
		}
	}
	var n int64
	if _, err := fmt.Sscanf(t, "%d", &n); err != nil || n <= 0 || fmt.Sprint(n) != t {
		return 0, fmt.Errorf("%q is not a size (write e.g. 1GiB, 500MiB or a number of bytes)", s)
	}
	if n > (1<<62)/mult {
		return 0, fmt.Errorf("%q is too large", s)
	}
	return n * mult, nil
}
