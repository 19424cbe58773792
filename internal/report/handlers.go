package report

import (
	"bytes"
	"crypto/sha256"
	"embed"
	"encoding/base64"
	"encoding/hex"
	"fmt"
	"html/template"
	"io/fs"
	"maps"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"

	"kompas/internal/gcm"
	"kompas/internal/platform/auth"
	"kompas/internal/platform/fault"
	"kompas/internal/platform/web"
)

//go:embed templates/*.html
var templateFiles embed.FS

//go:embed static/review.css
var reviewCSS []byte

// Handlers serves the review's pages and API.
type Handlers struct {
	Ed   *Editions
	srv  *web.Server
	tmpl *web.Templates
}

// NewHandlers wires the review's pages, API and navigation into srv.
func NewHandlers(srv *web.Server, ed *Editions) *Handlers {
	sub, err := fs.Sub(templateFiles, "templates")
	if err != nil {
		panic(err)
	}
	h := &Handlers{Ed: ed, srv: srv}
	h.tmpl = srv.Templates(sub, template.FuncMap{"formats": func() []Format { return Formats }, "upper": strings.ToUpper})
	srv.AddNav(web.NavItem{Label: "Review", Path: "/reports", Order: 20})

	srv.Page("GET /reports/review.css", web.Op{Public: true}, h.stylesheet) // the review's print style, no data
	srv.Page("GET /reports", web.Op{Access: ruleRead}, h.listPage)
	srv.Page("POST /reports", web.Op{Access: ruleCreate}, srv.SubmitForm(web.FormPage{Show: h.showCreate, Submit: h.submitCreate}))
	srv.Page("GET /reports/current", web.Op{Access: ruleRead}, h.currentPage)
	srv.Page("GET /reports/current/files/{format}", web.Op{Access: ruleRead}, h.currentFile)
	srv.Page("GET /reports/{id}", web.Op{Access: ruleRead}, h.showPage)
	srv.Page("GET /reports/{id}/edit", web.Op{Access: ruleChange}, h.editPage)
	srv.Page("POST /reports/{id}", web.Op{Access: ruleChange}, srv.SubmitForm(web.FormPage{Show: h.showUpdate, Submit: h.submitUpdate}))
	srv.Page("POST /reports/{id}/publish", web.Op{Access: ruleChange}, h.publishForm)
	srv.Page("GET /reports/{id}/files/{format}", web.Op{Access: ruleRead}, h.editionFile)

	tags := []string{"report"}
	const authored = "policy officers only the editions of their organisation"
	formatParam := []web.Param{{Name: "format", Description: "html, md, pdf or docx (default html)"}}
	produces := []string{"text/html", "text/markdown", "application/pdf", "application/vnd.openxmlformats-officedocument.wordprocessingml.document"}
	srv.API("GET /api/v1/reports/gcm", web.Op{Summary: "The GCM implementation review, current draft with the default grouping, generated from live data", Tags: tags, Access: ruleRead, Query: formatParam, Produces: produces}, h.currentFile)
	srv.API("GET /api/v1/reports/editions", web.Op{Summary: "Review editions, newest change first", Tags: tags, Access: ruleRead, Response: []Edition{}}, h.apiList)
	srv.API("POST /api/v1/reports/editions", web.Op{Summary: "Create a draft edition", Tags: tags, Access: ruleCreate, Request: EditionInput{}, Response: Edition{}, Status: http.StatusCreated}, h.apiCreate)
	srv.API("GET /api/v1/reports/editions/{id}", web.Op{Summary: "One edition with its published files and their SHA-256", Tags: tags, Access: ruleRead, Response: Edition{}}, h.apiGet)
	srv.API("PUT /api/v1/reports/editions/{id}", web.Op{Summary: "Replace a draft edition; send the version you read; a published edition is a 409", Tags: tags, Access: ruleChange, Records: authored, Request: EditionInput{}, Response: Edition{}}, h.apiUpdate)
	srv.API("POST /api/v1/reports/editions/{id}/publish", web.Op{Summary: "Publish: render every format and freeze the files and their SHA-256", Tags: tags, Access: ruleChange, Records: authored, Response: Edition{}}, h.apiPublish)
	srv.API("GET /api/v1/reports/editions/{id}/files/{format}", web.Op{Summary: "An edition's file: the frozen bytes when published (X-Content-SHA256, Digest), rendered now when a draft", Tags: tags, Access: ruleRead, Produces: produces}, h.editionFile)
	return h
}

func (h *Handlers) stylesheet(w http.ResponseWriter, r *http.Request) error {
	w.Header().Set("Content-Type", "text/css; charset=utf-8")
	w.Header().Set("Cache-Control", "public, max-age=3600")
	_, err := w.Write(reviewCSS)
	return err
}

// edition reads the edition named by the path for a signed-in caller.
func (h *Handlers) edition(r *http.Request) (*auth.Principal, *Edition, error) {
	p := auth.Caller(r.Context())
	id, err := web.PathID(r, "id", "Edition")
	if err != nil {
		return nil, nil, err
	}
	e, err := h.Ed.Get(r.Context(), id)
	if err != nil {
		return nil, nil, err
	}
	return p, e, nil
}

// writeFile sends a file with its digest headers.
func writeFile(w http.ResponseWriter, f *File, name string) error {
	sum, err := hex.DecodeString(f.SHA256)
	if err != nil || len(sum) != sha256.Size {
		s := sha256.Sum256(f.Content)
		sum = s[:]
	}
	b64 := base64.StdEncoding.EncodeToString(sum)
	hd := w.Header()
	hd.Set("Content-Type", f.Format.ContentType)
	hd.Set("Content-Disposition", fmt.Sprintf(`attachment; filename="%s.%s"`, name, f.Format.Ext))
	hd.Set("Content-Length", strconv.Itoa(len(f.Content)))
	hd.Set("X-Content-SHA256", hex.EncodeToString(sum))
	hd.Set("Digest", "sha-256="+b64)
	hd.Set("Repr-Digest", "sha-256=:"+b64+":")
	if f.Frozen {
		hd.Set("ETag", `"sha256-`+hex.EncodeToString(sum)+`"`)
		hd.Set("Cache-Control", "private, max-age=86400, immutable")
		hd.Set("X-Kompas-Edition-Status", StatusPublished)
	} else {
		hd.Set("Cache-Control", "no-store")
		hd.Set("X-Kompas-Edition-Status", StatusDraft)
	}
	w.WriteHeader(http.StatusOK)
	_, err = w.Write(f.Content)
	return err
}

func (h *Handlers) currentFile(w http.ResponseWriter, r *http.Request) error {
	name := r.PathValue("format")
	if name == "" {
		name = r.URL.Query().Get("format")
	}
	if name == "" {
		name = "html"
	}
	f, ok := LookupFormat(name)
	if !ok {
		return BadFormat(name)
	}
	doc, err := h.Ed.Builder.Build(r.Context(), Spec{})
	if err != nil {
		return err
	}
	file, err := RenderFile(doc, f)
	if err != nil {
		return err
	}
	return writeFile(w, file, "gcm-review-current-draft")
}

func (h *Handlers) editionFile(w http.ResponseWriter, r *http.Request) error {
	_, e, err := h.edition(r)
	if err != nil {
		return err
	}
	file, err := h.Ed.File(r.Context(), e, r.PathValue("format"))
	if err != nil {
		return err
	}
	return writeFile(w, file, fmt.Sprintf("gcm-review-edition-%d", e.ID))
}

func (h *Handlers) apiList(w http.ResponseWriter, r *http.Request) error {
	list, err := h.Ed.List(r.Context())
	if err != nil {
		return err
	}
	return web.WriteJSON(w, http.StatusOK, list)
}

func (h *Handlers) apiCreate(w http.ResponseWriter, r *http.Request) error {
	p := auth.Caller(r.Context())
	var in EditionInput
	if err := web.DecodeJSON(r, &in); err != nil {
		return err
	}
	e, err := h.Ed.Create(r.Context(), p, in)
	if err != nil {
		return err
	}
	w.Header().Set("Location", fmt.Sprintf("/api/v1/reports/editions/%d", e.ID))
	return web.WriteJSON(w, http.StatusCreated, e)
}

func (h *Handlers) apiGet(w http.ResponseWriter, r *http.Request) error {
	_, e, err := h.edition(r)
	if err != nil {
		return err
	}
	w.Header().Set("ETag", fmt.Sprintf(`"v%d"`, e.Version))
	return web.WriteJSON(w, http.StatusOK, e)
}

func (h *Handlers) apiUpdate(w http.ResponseWriter, r *http.Request) error {
	p, e, err := h.edition(r)
	if err != nil {
		return err
	}
	if err := canEdit(p, e); err != nil {
		return err
	}
	if e.Status == StatusPublished {
		return fault.Conflict("This edition is published; its files are frozen and it cannot change. Create a new edition instead.")
	}
	var in EditionInput
	if err := web.DecodeJSON(r, &in); err != nil {
		return err
	}
	out, err := h.Ed.Update(r.Context(), p, e.ID, in)
	if err != nil {
		return err
	}
	return web.WriteJSON(w, http.StatusOK, out)
}

func (h *Handlers) apiPublish(w http.ResponseWriter, r *http.Request) error {
	p, e, err := h.edition(r)
	if err != nil {
		return err
	}
	out, err := h.Ed.Publish(r.Context(), p, e.ID)
	if err != nil {
		return err
	}
	return web.WriteJSON(w, http.StatusOK, out)
}

// --- pages

type listData struct {
	Editions  []*Edition
	CanCreate bool
	Form      *web.Form
	Sections  sections
}

// sections is what the form's repeated rows of part B's sections need.
type sections struct {
	Form       *web.Form
	Rows       []int // 0 first
	Objectives []gcm.Objective
	Action     string // where the form posts, for "Add another section"
}

// editionNames are the labels of the edition form's fields and the ids of
// their inputs, for the error summary.
var editionNames = web.FieldNames{
	"title":                 {Label: "Title", ID: "f-title"},
	"period_from":           {Label: "Period from", ID: "f-period_from"},
	"period_to":             {Label: "Period to", ID: "f-period_to"},
	"author":                {Label: "Author organisation", ID: "f-title"},
	"framework":             {Label: "Framework", ID: "f-title"},
	"grouping":              {Label: "Sections of part B", ID: "f-grouping"},
	"grouping[]":            {Label: "Section %d", ID: "f-grouping-%d-title"},
	"grouping[].title":      {Label: "Section %d: heading", ID: "f-grouping-%d-title"},
	"grouping[].objectives": {Label: "Section %d: GCM objectives", ID: "f-grouping-%d-objectives"},
	"introduction":          {Label: "Introduction", ID: "f-introduction"},
	"next_steps":            {Label: "Next steps", ID: "f-next_steps"},
	"version":               {Label: "Version", ID: "f-title"},
}

// emptySections is how many empty section rows the form offers; "Add
// another section" adds one.
const emptySections = 1

// maxSectionRows bounds the section rows a form post is read for.
const maxSectionRows = 100

// sectionsOf makes the section rows of form: its filled rows and a few
// empty ones, or, when adding, the rows it was sent with and one more.
func sectionsOf(form *web.Form, action string, adding bool) sections {
	n := len(sectionRows(form.Values))
	if adding {
		n++
	} else {
		n += emptySections
	}
	s := sections{Form: form, Objectives: gcm.Objectives(), Action: action}
	for i := 0; i < n; i++ {
		s.Rows = append(s.Rows, i)
	}
	return s
}

func defaultFormValues(p *auth.Principal) url.Values {
	v := url.Values{"title": {DefaultTitle}}
	setGrouping(v, DefaultGrouping())
	return v
}

func (h *Handlers) renderList(w http.ResponseWriter, r *http.Request, status int, p *auth.Principal, form *web.Form, adding bool) error {
	list, err := h.Ed.List(r.Context())
	if err != nil {
		return err
	}
	form.Names = editionNames
	return h.tmpl.Render(w, r, status, "list.html", "GCM implementation review",
		listData{Editions: list, CanCreate: CanCreate(p), Form: form, Sections: sectionsOf(form, "/reports", adding)})
}

func (h *Handlers) listPage(w http.ResponseWriter, r *http.Request) error {
	p := auth.Caller(r.Context())
	return h.renderList(w, r, http.StatusOK, p, &web.Form{Values: defaultFormValues(p)}, false)
}

// sectionKey is the form's name for a field of section row i: the field's
// path, such as grouping[1].title.
func sectionKey(i int, field string) string { return fmt.Sprintf("grouping[%d].%s", i, field) }

// setGrouping writes gs into the form values as section rows.
func setGrouping(v url.Values, gs []Group) {
	for i, g := range gs {
		v.Set(sectionKey(i, "title"), g.Title)
		for _, o := range g.Objectives {
			v.Add(sectionKey(i, "objectives"), strconv.Itoa(o))
		}
	}
}

// sectionRows lists the section rows the form values hold, in order.
func sectionRows(v url.Values) []int {
	seen := map[int]bool{}
	for k := range v {
		rest, ok := strings.CutPrefix(k, "grouping[")
		if !ok {
			continue
		}
		n, field, ok := strings.Cut(rest, "].")
		i, err := strconv.Atoi(n)
		if !ok || err != nil || i < 0 || i >= maxSectionRows || (field != "title" && field != "objectives") {
			continue
		}
		seen[i] = true
	}
	return slices.Sorted(maps.Keys(seen))
}

// readGrouping reads the filled section rows (a row with neither heading
// nor objectives is skipped). Group k of the result is row k of
// compactGrouping's values, so its errors sit at its row.
func readGrouping(v url.Values) ([]Group, []fault.FieldError) {
	var out []Group
	var errs []fault.FieldError
	for _, i := range sectionRows(v) {
		title, objs := strings.TrimSpace(v.Get(sectionKey(i, "title"))), v[sectionKey(i, "objectives")]
		if title == "" && len(objs) == 0 {
			continue
		}
		g := Group{Title: title}
		for _, o := range objs {
			n, err := strconv.Atoi(o)
			if err != nil {
				errs = append(errs, fault.FieldError{Field: sectionKey(len(out), "objectives"), Message: fmt.Sprintf("%q is not a GCM objective", truncate(o, 20))})
				continue
			}
			g.Objectives = append(g.Objectives, n)
		}
		out = append(out, g)
	}
	return out, errs
}

// compactGrouping drops the empty section rows and numbers the others
// from 0, as readGrouping counts them.
func compactGrouping(v url.Values) url.Values {
	out := url.Values{}
	for k, vals := range v {
		if !strings.HasPrefix(k, "grouping[") {
			out[k] = vals
		}
	}
	k := 0
	for _, i := range sectionRows(v) {
		title, objs := v.Get(sectionKey(i, "title")), v[sectionKey(i, "objectives")]
		if strings.TrimSpace(title) == "" && len(objs) == 0 {
			continue
		}
		out.Set(sectionKey(k, "title"), title)
		if len(objs) > 0 {
			out[sectionKey(k, "objectives")] = objs
		}
		k++
	}
	return out
}

// inputOf reads the edition form.
func inputOf(v url.Values) (EditionInput, []fault.FieldError) {
	in := EditionInput{Title: v.Get("title"), PeriodFrom: v.Get("period_from"), PeriodTo: v.Get("period_to"), Author: v.Get("author"),
		Framework: v.Get("framework"), Introduction: strings.ReplaceAll(v.Get("introduction"), "\r\n", "\n"), NextSteps: strings.ReplaceAll(v.Get("next_steps"), "\r\n", "\n")}
	in.Version, _ = strconv.Atoi(v.Get("version"))
	var errs []fault.FieldError
	in.Grouping, errs = readGrouping(v)
	return in, errs
}

// addingSection reports whether the form was sent by its "Add another
// section" button: such a post shows the form again with one more row and
// saves nothing.
func addingSection(v url.Values) bool { return v.Get("add") == "grouping" }

// The edition forms are written the one way (web.FormPage): Submit reads
// and saves; the adapter shows the form again, with what was typed and every
// error, on a 422 or 409. "Add another section" only shows it again with
// one more row.

func (h *Handlers) showCreate(w http.ResponseWriter, r *http.Request, f *web.Form) error {
	f.Values = compactGrouping(f.Values)
	return h.renderList(w, r, f.Status, auth.Caller(r.Context()), f, false)
}

func (h *Handlers) submitCreate(w http.ResponseWriter, r *http.Request, f *web.Form) error {
	p := auth.Caller(r.Context())
	if addingSection(f.Values) {
		return h.renderList(w, r, http.StatusOK, p, f, true)
	}
	in, errs := inputOf(f.Values)
	if len(errs) > 0 {
		return fault.Invalid(errs...)
	}
	e, err := h.Ed.Create(r.Context(), p, in)
	if err != nil {
		return err
	}
	return h.srv.Redirect(w, r, fmt.Sprintf("/reports/%d", e.ID), "The draft edition was created. It is generated from live data until you publish it.")
}

type showData struct {
	Edition    *Edition
	Review     template.HTML
	CanEdit    bool
	FilesBase  string
	Stylesheet string
}

// articleOf cuts the <article> out of a stored HTML file, so that a
// published edition's page shows exactly the frozen review.
func articleOf(b []byte) template.HTML {
	start := bytes.Index(b, []byte("<article"))
	end := bytes.LastIndex(b, []byte("</article>"))
	if start < 0 || end < start {
		return ""
	}
	return template.HTML(b[start : end+len("</article>")])
}

func (h *Handlers) showPage(w http.ResponseWriter, r *http.Request) error {
	p, e, err := h.edition(r)
	if err != nil {
		return err
	}
	d := showData{Edition: e, CanEdit: CanEdit(p, e) && e.Status == StatusDraft, FilesBase: fmt.Sprintf("/reports/%d/files/", e.ID), Stylesheet: StylesheetPath}
	if e.Status == StatusPublished {
		f, err := h.Ed.File(r.Context(), e, "html")
		if err != nil {
			return err
		}
		d.Review = articleOf(f.Content)
	} else {
		doc, err := h.Ed.Document(r.Context(), e)
		if err != nil {
			return err
		}
		d.Review = template.HTML(HTMLFragment(doc))
	}
	return h.tmpl.Render(w, r, http.StatusOK, "show.html", e.Title, d)
}

func (h *Handlers) currentPage(w http.ResponseWriter, r *http.Request) error {
	doc, err := h.Ed.Builder.Build(r.Context(), Spec{})
	if err != nil {
		return err
	}
	d := showData{Review: template.HTML(HTMLFragment(doc)), FilesBase: "/reports/current/files/", Stylesheet: StylesheetPath}
	return h.tmpl.Render(w, r, http.StatusOK, "show.html", "Current draft review", d)
}

type formData struct {
	Edition  *Edition
	Form     *web.Form
	Action   string
	Sections sections
}

func newFormData(e *Edition, form *web.Form, adding bool) formData {
	form.Names = editionNames
	action := fmt.Sprintf("/reports/%d", e.ID)
	return formData{Edition: e, Form: form, Action: action, Sections: sectionsOf(form, action, adding)}
}

func valuesOf(e *Edition) url.Values {
	v := url.Values{
		"title": {e.Title}, "period_from": {e.PeriodFrom}, "period_to": {e.PeriodTo}, "author": {e.Author}, "framework": {e.Framework},
		"introduction": {e.Introduction}, "next_steps": {e.NextSteps}, "version": {strconv.Itoa(e.Version)},
	}
	setGrouping(v, e.Grouping)
	return v
}

// editable reads the edition for a caller who may change it; a published
// edition is a 409.
func (h *Handlers) editable(r *http.Request) (*auth.Principal, *Edition, error) {
	p, e, err := h.edition(r)
	if err != nil {
		return nil, nil, err
	}
	if err := canEdit(p, e); err != nil {
		return nil, nil, err
	}
	if e.Status == StatusPublished {
		return nil, nil, fault.Conflict("This edition is published; it cannot change. Create a new edition instead.")
	}
	return p, e, nil
}

func (h *Handlers) editPage(w http.ResponseWriter, r *http.Request) error {
	_, e, err := h.editable(r)
	if err != nil {
		return err
	}
	return h.tmpl.Render(w, r, http.StatusOK, "form.html", "Change "+e.Title, newFormData(e, &web.Form{Values: valuesOf(e)}, false))
}

func (h *Handlers) showUpdate(w http.ResponseWriter, r *http.Request, f *web.Form) error {
	_, e, err := h.edition(r)
	if err != nil {
		return err
	}
	f.Values = compactGrouping(f.Values)
	if f.Status == http.StatusConflict {
		// Someone saved or published it meanwhile: keep what was typed,
		// and let a draft be saved over the newer version knowingly.
		if e.Status == StatusDraft {
			f.Values.Set("version", strconv.Itoa(e.Version))
		}
		f.Errors = []fault.FieldError{{Field: "version", Message: f.Conflict}}
	}
	return h.tmpl.Render(w, r, f.Status, "form.html", "Change "+e.Title, newFormData(e, f, false))
}

func (h *Handlers) submitUpdate(w http.ResponseWriter, r *http.Request, f *web.Form) error {
	p, e, err := h.editable(r)
	if err != nil {
		return err
	}
	if addingSection(f.Values) {
		return h.tmpl.Render(w, r, http.StatusOK, "form.html", "Change "+e.Title, newFormData(e, f, true))
	}
	in, errs := inputOf(f.Values)
	if len(errs) > 0 {
		return fault.Invalid(errs...)
	}
	if _, err := h.Ed.Update(r.Context(), p, e.ID, in); err != nil {
		return err
	}
	return h.srv.Redirect(w, r, fmt.Sprintf("/reports/%d", e.ID), "Your changes were saved.")
}

func (h *Handlers) publishForm(w http.ResponseWriter, r *http.Request) error {
	p, e, err := h.edition(r)
	if err != nil {
		return err
	}
	if _, err := h.Ed.Publish(r.Context(), p, e.ID); err != nil {
		return err
	}
	return h.srv.Redirect(w, r, fmt.Sprintf("/reports/%d", e.ID), fmt.Sprintf("Edition %d was published on %s; its files and their SHA-256 are frozen.", e.ID, time.Now().UTC().Format("2 January 2006")))
}
