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
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"kompas/internal/platform/auth"
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
	srv.Page("POST /reports", web.Op{Access: ruleCreate}, h.createForm)
	srv.Page("GET /reports/current", web.Op{Access: ruleRead}, h.currentPage)
	srv.Page("GET /reports/current/files/{format}", web.Op{Access: ruleRead}, h.currentFile)
	srv.Page("GET /reports/{id}", web.Op{Access: ruleRead}, h.showPage)
	srv.Page("GET /reports/{id}/edit", web.Op{Access: ruleChange}, h.editPage)
	srv.Page("POST /reports/{id}", web.Op{Access: ruleChange}, h.updateForm)
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

func pathID(r *http.Request) (int64, error) {
	id, err := strconv.ParseInt(r.PathValue("id"), 10, 64)
	if err != nil || id <= 0 {
		return 0, web.NotFound("Edition")
	}
	return id, nil
}

// edition reads the edition named by the path for a signed-in caller.
func (h *Handlers) edition(r *http.Request) (*auth.Principal, *Edition, error) {
	p, err := auth.Require(r.Context())
	if err != nil {
		return nil, nil, err
	}
	id, err := pathID(r)
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
	if _, err := auth.Require(r.Context()); err != nil {
		return err
	}
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
	if _, err := auth.Require(r.Context()); err != nil {
		return err
	}
	list, err := h.Ed.List(r.Context())
	if err != nil {
		return err
	}
	return web.WriteJSON(w, http.StatusOK, list)
}

func (h *Handlers) apiCreate(w http.ResponseWriter, r *http.Request) error {
	p, err := auth.RequireRule(r.Context(), ruleCreate)
	if err != nil {
		return err
	}
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
		return web.Conflict("This edition is published; its files are frozen and it cannot change. Create a new edition instead.")
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
}

func defaultFormValues(p *auth.Principal) url.Values {
	return url.Values{
		"title":    {DefaultTitle},
		"grouping": {groupingText(DefaultGrouping())},
	}
}

func (h *Handlers) renderList(w http.ResponseWriter, r *http.Request, status int, p *auth.Principal, form *web.Form) error {
	list, err := h.Ed.List(r.Context())
	if err != nil {
		return err
	}
	return h.tmpl.Render(w, r, status, "list.html", "GCM implementation review", listData{Editions: list, CanCreate: CanCreate(p), Form: form})
}

func (h *Handlers) listPage(w http.ResponseWriter, r *http.Request) error {
	p, err := auth.Require(r.Context())
	if err != nil {
		return err
	}
	return h.renderList(w, r, http.StatusOK, p, &web.Form{Values: defaultFormValues(p)})
}

// groupingText writes groups one a line as "Title: 1, 2".
func groupingText(gs []Group) string {
	var lines []string
	for _, g := range gs {
		lines = append(lines, fmt.Sprintf("%s: %s", g.Title, strings.Join(intsText(g.Objectives), ", ")))
	}
	return strings.Join(lines, "\n")
}

// parseGrouping reads the grouping textarea: one group a line, "Title:
// 1, 2" or just "1, 2".
func parseGrouping(s string) ([]Group, []web.FieldError) {
	var out []Group
	var errs []web.FieldError
	n := 0
	for _, line := range strings.Split(s, "\n") {
		line = strings.TrimSpace(line)
		if line == "" {
			continue
		}
		n++
		title, nums := "", line
		if i := strings.LastIndex(line, ":"); i >= 0 {
			title, nums = strings.TrimSpace(line[:i]), line[i+1:]
		}
		var objs []int
		for _, f := range strings.FieldsFunc(nums, func(r rune) bool { return r == ',' || r == ';' || r == ' ' || r == '\t' }) {
			v, err := strconv.Atoi(f)
			if err != nil {
				errs = append(errs, web.FieldError{Field: "grouping", Message: fmt.Sprintf("line %d: %q is not an objective number; write each group as Title: 5, 6", n, truncate(f, 20))})
				continue
			}
			objs = append(objs, v)
		}
		out = append(out, Group{Title: title, Objectives: objs})
	}
	return out, errs
}

// inputOf reads the edition form.
func inputOf(v url.Values) (EditionInput, []web.FieldError) {
	in := EditionInput{Title: v.Get("title"), PeriodFrom: v.Get("period_from"), PeriodTo: v.Get("period_to"), Author: v.Get("author"),
		Framework: v.Get("framework"), Introduction: strings.ReplaceAll(v.Get("introduction"), "\r\n", "\n"), NextSteps: strings.ReplaceAll(v.Get("next_steps"), "\r\n", "\n")}
	in.Version, _ = strconv.Atoi(v.Get("version"))
	var errs []web.FieldError
	in.Grouping, errs = parseGrouping(v.Get("grouping"))
	return in, errs
}

// formErrors maps API field names onto the form's fields.
func formErrors(fields []web.FieldError) []web.FieldError {
	out := make([]web.FieldError, len(fields))
	for i, f := range fields {
		if strings.HasPrefix(f.Field, "grouping[") {
			// grouping[2].objectives[0] -> grouping, naming the line
			var g int
			fmt.Sscanf(f.Field, "grouping[%d]", &g)
			f = web.FieldError{Field: "grouping", Message: fmt.Sprintf("line %d: %s", g+1, f.Message)}
		}
		out[i] = f
	}
	return out
}

func (h *Handlers) createForm(w http.ResponseWriter, r *http.Request) error {
	p, err := auth.RequireRule(r.Context(), ruleCreate)
	if err != nil {
		return err
	}
	if err := r.ParseForm(); err != nil {
		return web.BadRequest("The form could not be read.")
	}
	form := &web.Form{Values: r.PostForm}
	in, errs := inputOf(r.PostForm)
	if len(errs) > 0 {
		form.Errors = errs
		return h.renderList(w, r, http.StatusUnprocessableEntity, p, form)
	}
	e, err := h.Ed.Create(r.Context(), p, in)
	if err != nil {
		if ae := web.AsError(err); ae.Status == http.StatusUnprocessableEntity {
			form.Errors = formErrors(ae.Fields)
			return h.renderList(w, r, ae.Status, p, form)
		}
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
	if _, err := auth.Require(r.Context()); err != nil {
		return err
	}
	doc, err := h.Ed.Builder.Build(r.Context(), Spec{})
	if err != nil {
		return err
	}
	d := showData{Review: template.HTML(HTMLFragment(doc)), FilesBase: "/reports/current/files/", Stylesheet: StylesheetPath}
	return h.tmpl.Render(w, r, http.StatusOK, "show.html", "Current draft review", d)
}

type formData struct {
	Edition *Edition
	Form    *web.Form
	Action  string
}

func valuesOf(e *Edition) url.Values {
	return url.Values{
		"title": {e.Title}, "period_from": {e.PeriodFrom}, "period_to": {e.PeriodTo}, "author": {e.Author}, "framework": {e.Framework},
		"grouping": {groupingText(e.Grouping)}, "introduction": {e.Introduction}, "next_steps": {e.NextSteps}, "version": {strconv.Itoa(e.Version)},
	}
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
		return nil, nil, web.Conflict("This edition is published; it cannot change. Create a new edition instead.")
	}
	return p, e, nil
}

func (h *Handlers) editPage(w http.ResponseWriter, r *http.Request) error {
	_, e, err := h.editable(r)
	if err != nil {
		return err
	}
	return h.tmpl.Render(w, r, http.StatusOK, "form.html", "Change "+e.Title, formData{Edition: e, Form: &web.Form{Values: valuesOf(e)}, Action: fmt.Sprintf("/reports/%d", e.ID)})
}

func (h *Handlers) updateForm(w http.ResponseWriter, r *http.Request) error {
	p, e, err := h.editable(r)
	if err != nil {
		return err
	}
	if err := r.ParseForm(); err != nil {
		return web.BadRequest("The form could not be read.")
	}
	form := &web.Form{Values: r.PostForm}
	fd := formData{Edition: e, Form: form, Action: fmt.Sprintf("/reports/%d", e.ID)}
	in, errs := inputOf(r.PostForm)
	if len(errs) > 0 {
		form.Errors = errs
		return h.tmpl.Render(w, r, http.StatusUnprocessableEntity, "form.html", "Change "+e.Title, fd)
	}
	if _, err := h.Ed.Update(r.Context(), p, e.ID, in); err != nil {
		ae := web.AsError(err)
		switch ae.Status {
		case http.StatusUnprocessableEntity:
			form.Errors = formErrors(ae.Fields)
			return h.tmpl.Render(w, r, ae.Status, "form.html", "Change "+e.Title, fd)
		case http.StatusConflict:
			cur, gerr := h.Ed.Get(r.Context(), e.ID)
			if gerr == nil && cur.Status == StatusDraft {
				form.Values.Set("version", strconv.Itoa(cur.Version))
			}
			form.Errors = []web.FieldError{{Field: "version", Message: ae.Detail}}
			return h.tmpl.Render(w, r, ae.Status, "form.html", "Change "+e.Title, fd)
		}
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
