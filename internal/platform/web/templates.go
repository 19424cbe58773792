package web

import (
	"bytes"
	"crypto/sha256"
	"embed"
	"encoding/hex"
	"fmt"
	"html/template"
	"io/fs"
	"maps"
	"mime"
	"net/http"
	"net/url"
	"path"
	"strconv"
	"strings"
	"sync"
	"time"

	"kompas/internal/platform/facts"
	"kompas/internal/platform/fault"
	"kompas/internal/platform/geo"
)

//go:embed templates/*.html
var baseTemplates embed.FS

//go:embed static
var staticFiles embed.FS

// Templates holds one parsed template set per page: the layout and shared
// partials, plus the page file that defines "content".
type Templates struct {
	s     *Server
	pages map[string]*template.Template
}

// baseFuncs are the template functions every page has: the kernel's own,
// then those internal/app adds with Server.Funcs; modules may add more
// through Templates' extra argument.
func baseFuncs() template.FuncMap {
	return template.FuncMap{
		"asset":   assetURL,
		"country": geo.Name,
		"label":   Label,
		"date": func(t time.Time) string {
			if t.IsZero() {
				return ""
			}
			return t.Format("2 Jan 2006")
		},
		"datetime": func(t time.Time) string {
			if t.IsZero() {
				return ""
			}
			return t.UTC().Format("2006-01-02 15:04 UTC")
		},
		"join": strings.Join,
		"dict": func(kv ...any) (map[string]any, error) {
			if len(kv)%2 != 0 {
				return nil, fmt.Errorf("dict needs pairs")
			}
			m := make(map[string]any, len(kv)/2)
			for i := 0; i < len(kv); i += 2 {
				k, ok := kv[i].(string)
				if !ok {
					return nil, fmt.Errorf("dict key %v is not a string", kv[i])
				}
				m[k] = kv[i+1]
			}
			return m, nil
		},
		"list":      func(v ...any) []any { return v },
		"fieldid":   FieldID,
		"query":     func(v url.Values) template.URL { return template.URL(v.Encode()) },
		"add":       func(a, b int) int { return a + b },
		"thousands": func(n int64) string { return facts.GroupDigits(strconv.FormatInt(n, 10)) },
	}
}

// Templates parses every *.html page in pages (nil for the kernel's own),
// each with the layout, the kernel's partials and the module's _*.html
// partials. extra adds module template functions.
func (s *Server) Templates(pages fs.FS, extra ...template.FuncMap) *Templates {
	funcs := baseFuncs()
	s.mu.Lock()
	maps.Copy(funcs, s.funcs)
	s.mu.Unlock()
	for _, m := range extra {
		maps.Copy(funcs, m)
	}
	base := template.Must(template.New("layout.html").Funcs(funcs).ParseFS(baseTemplates, "templates/layout.html", "templates/partials.html"))
	// A module's files named _*.html are its own partials, shared by its
	// pages and not pages themselves.
	if pages != nil {
		if partials, _ := fs.Glob(pages, "_*.html"); len(partials) > 0 {
			base = template.Must(base.ParseFS(pages, partials...))
		}
	}
	t := &Templates{s: s, pages: map[string]*template.Template{}}
	add := func(fsys fs.FS, pattern string) {
		names, err := fs.Glob(fsys, pattern)
		if err != nil {
			panic(err)
		}
		for _, name := range names {
			if strings.HasPrefix(path.Base(name), "_") {
				continue
			}
			p := template.Must(base.Clone())
			template.Must(p.ParseFS(fsys, name))
			t.pages[path.Base(name)] = p
		}
	}
	add(baseTemplates, "templates/error.html")
	if pages != nil {
		add(pages, "*.html")
	}
	return t
}

// Funcs adds template functions to every page parsed after it, for helpers
// that several modules use but whose data the kernel may not import (the
// GCM objectives' titles): internal/app supplies them before the modules
// register their templates.
func (s *Server) Funcs(m template.FuncMap) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.funcs == nil {
		s.funcs = template.FuncMap{}
	}
	maps.Copy(s.funcs, m)
}

// Labels are a module's own words for some of its codes ("x" is "X
// (unspecified)"); every other code is put into words by Label.
type Labels map[string]string

// Label is the words a page shows for code: the table's entry, or else
// the code with its underscores as spaces and a capital first letter
// ("policy_measure" is "Policy measure").
func (l Labels) Label(code string) string {
	if s, ok := l[code]; ok {
		return s
	}
	s := strings.ReplaceAll(code, "_", " ")
	if s == "" {
		return s
	}
	return strings.ToUpper(s[:1]) + s[1:]
}

// Label puts a code into words as Labels does for a code no table names;
// it is the pages' "label" unless a module brings its own Labels.
func Label(code string) string { return Labels(nil).Label(code) }

// Page is what the layout receives.
type Page struct {
	Title     string
	Viewer    *Viewer
	Nav       []navLink
	Flash     string
	RequestID string
	Path      string
	Data      any
}

const flashCookie = "kompas_flash"

// Render executes page with data inside the layout and writes it with status.
func (t *Templates) Render(w http.ResponseWriter, r *http.Request, status int, page, title string, data any) error {
	tmpl, ok := t.pages[page]
	if !ok {
		return fmt.Errorf("web: no template %q", page)
	}
	p := Page{Title: title, RequestID: RequestID(r.Context()), Path: r.URL.Path, Data: data}
	if t.s.Viewer != nil {
		p.Viewer = t.s.Viewer(r)
	}
	p.Nav = t.s.navFor(p.Viewer, r.URL.Path)
	if c, err := r.Cookie(flashCookie); err == nil {
		if v, err := url.QueryUnescape(c.Value); err == nil {
			p.Flash = v
		}
		http.SetCookie(w, &http.Cookie{Name: flashCookie, Path: "/", MaxAge: -1, HttpOnly: true, SameSite: http.SameSiteLaxMode})
	}
	var buf bytes.Buffer
	if err := tmpl.ExecuteTemplate(&buf, "layout.html", p); err != nil {
		return fmt.Errorf("web: render %s: %w", page, err)
	}
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(status)
	_, err := buf.WriteTo(w)
	return err
}

// Redirect sends the browser to target after a successful form post
// (post/redirect/get), with a one-time message for the next page.
func (s *Server) Redirect(w http.ResponseWriter, r *http.Request, target, flash string) error {
	if flash != "" {
		http.SetCookie(w, &http.Cookie{Name: flashCookie, Value: url.QueryEscape(flash), Path: "/", HttpOnly: true, SameSite: http.SameSiteLaxMode, Secure: s.Secure || r.TLS != nil, MaxAge: 60})
	}
	http.Redirect(w, r, target, http.StatusSeeOther)
	return nil
}

// Form carries submitted values and field errors back into a page.
type Form struct {
	Values url.Values
	Errors []fault.FieldError
	// Conflict is why the submission could not be applied as it stands
	// (the record changed meanwhile, its state refuses it); the page shows
	// it above the form.
	Conflict string
	// Status is what the page answers with: 200, or 422/409 when the form
	// is shown again after a submission went wrong.
	Status int
	// Names says how the page shows each field, for the error summary.
	// Errors keep their API paths ("partners[1].role"); the summary shows
	// the label ("Partner 2: role") and links to the input.
	Names FieldNames
}

// FieldName is how a page shows a field: the label people read and the id
// of its input. In both, each %d stands for a row number of the field's
// path, counted from 1 ("Partner %d: role" for partners[1].role is
// "Partner 2: role").
type FieldName struct {
	Label string
	ID    string
}

// FieldNames maps a field's path, with each index written as []
// ("results[].value"), to how the page shows it. A path with no entry of
// its own takes the entry of the nearest shorter path: grouping[1].objectives[3]
// falls back to grouping[].objectives, then grouping[], then grouping.
type FieldNames map[string]FieldName

// splitFieldPath splits "grouping[1].objectives[3]" into its pattern pieces
// ("grouping", "[]", ".objectives", "[]") and indices (1, 3).
func splitFieldPath(path string) (pieces []string, indices []int, ok bool) {
	for path != "" {
		switch {
		case path[0] == '[':
			end := strings.IndexByte(path, ']')
			if end < 0 {
				return nil, nil, false
			}
			n, err := strconv.Atoi(path[1:end])
			if err != nil || n < 0 {
				return nil, nil, false
			}
			pieces, indices = append(pieces, "[]"), append(indices, n)
			path = path[end+1:]
		default:
			end := strings.IndexAny(path[1:], "[.")
			if end < 0 {
				end = len(path)
			} else {
				end++
			}
			pieces = append(pieces, path[:end])
			path = path[end:]
		}
	}
	return pieces, indices, true
}

// Name returns how the page shows the field at path: its label and the id
// of its input. A path the names do not cover is put into words ("Country
// of return") and linked by FieldID.
func (n FieldNames) Name(path string) FieldName {
	pieces, indices, ok := splitFieldPath(path)
	for ok && len(pieces) > 0 {
		if fn, found := n[strings.Join(pieces, "")]; found {
			rows := make([]any, len(indices))
			for i, x := range indices {
				rows[i] = x + 1
			}
			fill := func(s string) string {
				k := strings.Count(s, "%d")
				if k == 0 {
					return s
				}
				return fmt.Sprintf(s, rows[:min(k, len(rows))]...)
			}
			return FieldName{Label: fill(fn.Label), ID: fill(fn.ID)}
		}
		if pieces[len(pieces)-1] == "[]" {
			indices = indices[:len(indices)-1]
		}
		pieces = pieces[:len(pieces)-1]
	}
	return FieldName{Label: inWords(path), ID: FieldID(path)}
}

// inWords turns a field path nobody named into words: "country_of_return"
// into "Country of return", "budget.amount" into "Budget amount". Text
// that is not a path (an import's "line 3: kind") is left as it is.
func inWords(path string) string {
	pieces, indices, ok := splitFieldPath(path)
	if !ok || path == "" || strings.ContainsAny(path, " :") {
		return path
	}
	var words []string
	k := 0
	for _, p := range pieces {
		if p == "[]" {
			words = append(words, strconv.Itoa(indices[k]+1))
			k++
			continue
		}
		words = append(words, strings.ReplaceAll(strings.TrimPrefix(p, "."), "_", " "))
	}
	s := strings.Join(words, " ")
	return strings.ToUpper(s[:1]) + s[1:]
}

// SummaryItem is one line of a form's error summary.
type SummaryItem struct {
	Label, Message, ID string
}

// Summary lists the form's errors for the error summary: each with its
// field's label and the id of the input it links to.
func (f *Form) Summary() []SummaryItem {
	if f == nil {
		return nil
	}
	out := make([]SummaryItem, len(f.Errors))
	for i, e := range f.Errors {
		n := f.Names.Name(e.Field)
		out[i] = SummaryItem{Label: n.Label, Message: e.Message, ID: n.ID}
	}
	return out
}

// Get returns a submitted value.
func (f *Form) Get(name string) string {
	if f == nil || f.Values == nil {
		return ""
	}
	return f.Values.Get(name)
}

// At returns the i-th value submitted for name (0 first), or "": the
// value of one row of a repeated field.
func (f *Form) At(name string, i int) string {
	if f == nil || i < 0 || i >= len(f.Values[name]) {
		return ""
	}
	return f.Values[name][i]
}

// Has reports whether value v was submitted for name (checkboxes, selects).
func (f *Form) Has(name, v string) bool {
	if f == nil || f.Values == nil {
		return false
	}
	for _, x := range f.Values[name] {
		if x == v {
			return true
		}
	}
	return false
}

// Error returns the message for field, or "".
func (f *Form) Error(field string) string {
	if f == nil {
		return ""
	}
	for _, e := range f.Errors {
		if e.Field == field || strings.HasPrefix(e.Field, field+"[") || strings.HasPrefix(e.Field, field+".") {
			return e.Message
		}
	}
	return ""
}

// OwnError returns the message for field itself, not for its parts: a
// list's own error ("results": too many), not a row's ("results[1].value").
func (f *Form) OwnError(field string) string {
	if f == nil {
		return ""
	}
	for _, e := range f.Errors {
		if e.Field == field {
			return e.Message
		}
	}
	return ""
}

// FieldID turns a field path such as "partners[0].role" into an HTML id for
// the error summary's links.
func FieldID(field string) string {
	if i := strings.IndexAny(field, "[."); i > 0 {
		field = field[:i]
	}
	return "f-" + strings.Map(func(r rune) rune {
		if r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || r == '_' || r == '-' {
			return r
		}
		return '-'
	}, field)
}

var (
	assetOnce sync.Once
	assetHash map[string]string // name -> hashed name
	assetBack map[string]string // hashed name -> name
)

func loadAssets() {
	assetHash, assetBack = map[string]string{}, map[string]string{}
	_ = fs.WalkDir(staticFiles, "static", func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		b, err := staticFiles.ReadFile(p)
		if err != nil {
			return err
		}
		sum := sha256.Sum256(b)
		name := strings.TrimPrefix(p, "static/")
		ext := path.Ext(name)
		hashed := strings.TrimSuffix(name, ext) + "." + hex.EncodeToString(sum[:])[:12] + ext
		assetHash[name] = hashed
		assetBack[hashed] = name
		return nil
	})
}

// assetURL gives the content-hashed URL of a static file.
func assetURL(name string) string {
	assetOnce.Do(loadAssets)
	if h, ok := assetHash[name]; ok {
		return "/static/" + h
	}
	return "/static/" + name
}

// AssetURL is assetURL for Go code (tests, the axe runner).
func AssetURL(name string) string { return assetURL(name) }

// staticHandler serves hashed names with a year's cache and unhashed names
// without one.
func staticHandler() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		assetOnce.Do(loadAssets)
		name := r.URL.Path
		if orig, ok := assetBack[name]; ok {
			name = orig
			w.Header().Set("Cache-Control", "public, max-age=31536000, immutable")
		} else if _, ok := assetHash[name]; !ok {
			http.NotFound(w, r)
			return
		}
		b, err := staticFiles.ReadFile("static/" + name)
		if err != nil {
			http.NotFound(w, r)
			return
		}
		if ct := mime.TypeByExtension(path.Ext(name)); ct != "" {
			w.Header().Set("Content-Type", ct)
		}
		_, _ = w.Write(b)
	})
}
