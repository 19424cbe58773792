package iati

import (
	"context"
	"embed"
	"errors"
	"fmt"
	"html/template"
	"io"
	"io/fs"
	"net/http"
	"os"
	"time"

	"kompas/internal/platform/audit"
	"kompas/internal/platform/auth"
	"kompas/internal/platform/fault"
	"kompas/internal/platform/store"
	"kompas/internal/platform/web"
)

//go:embed migrations/*.sql
var migrationFiles embed.FS

// Migrations creates the import jobs, their events, the suggestions and the
// organisations' IATI references (after programmes' tables).
var Migrations = store.Embedded("iati", migrationFiles)

//go:embed templates/*.html
var templateFiles embed.FS

// Handlers serves the IATI pages and API.
type Handlers struct {
	DB     *store.DB
	Reg    Register
	Orgs   Orgs
	Config Config
	srv    *web.Server
	tmpl   *web.Templates
	// sem lets one import run at a time on this node; the others queue.
	sem chan struct{}
}

// NewHandlers wires the IATI pages, API and navigation into srv.
// orgs (the accounts service) adds the organisations imports name.
func NewHandlers(srv *web.Server, db *store.DB, reg Register, orgs Orgs, cfg Config) *Handlers {
	sub, err := fs.Sub(templateFiles, "templates")
	if err != nil {
		panic(err)
	}
	h := &Handlers{DB: db, Reg: reg, Orgs: orgs, Config: cfg, srv: srv, sem: make(chan struct{}, 1)}
	h.tmpl = srv.Templates(sub, template.FuncMap{"size": FormatSize})
	srv.AddNav(web.NavItem{Label: "IATI", Path: "/imports/iati", Roles: []string{string(auth.RolePolicyOfficer), string(auth.RoleAdmin)}, Order: 13})
	upload := cfg.maxBytes() + 1<<20
	srv.Page("GET /imports/iati", web.Op{Access: ruleImport}, h.uploadPage)
	srv.Page("POST /imports/iati", web.Op{Access: ruleImport, BodyLimit: upload}, h.uploadForm)
	srv.Page("GET /imports/iati/{job}", web.Op{Access: ruleImport}, h.jobPage)
	srv.Page("GET /imports/iati/{job}/review", web.Op{Access: ruleImport}, h.reviewPage)
	srv.Page("POST /imports/iati/suggestions/{id}", web.Op{Access: ruleDecide}, h.decideForm)
	srv.Page("GET /exports/iati.xml", web.Op{Access: ruleRead}, h.export)

	tags := []string{"iati"}
	srv.API("POST /api/v1/imports/iati", web.Op{Summary: "Import an IATI 2.03 activity file (multipart/form-data, field \"file\"); answers 202 with the job, whose url and Location show its progress",
		Tags: tags, Access: ruleImport, BodyLimit: upload, Response: Job{}, Status: http.StatusAccepted}, h.apiImport)
	srv.API("GET /api/v1/imports/iati/{job}", web.Op{Summary: "An IATI import job: status, progress, counts, the reasons activities were skipped", Tags: tags, Access: ruleImport, Response: Job{}}, h.apiJob)
	srv.API("GET /api/v1/imports/iati/{job}/suggestions", web.Op{Summary: "The GCM objectives an IATI import suggested, with their reasons", Tags: tags, Access: ruleImport, Response: []SuggestionView{}}, h.apiSuggestions)
	srv.API("POST /api/v1/iati-suggestions/{id}", web.Op{Summary: "Confirm (adds the objective to the initiative) or reject a suggested GCM objective", Tags: tags,
		Access: ruleDecide, Records: "policy officers only for initiatives their organisation recorded", Request: Decision{}, Response: SuggestionView{}}, h.apiDecide)
	srv.API("GET /api/v1/exports/iati", web.Op{Summary: "The whole register as an IATI 2.03 activity file", Tags: tags, Access: ruleRead, Produces: []string{"application/xml"}}, h.export)
	return h
}

// Decision is the body of POST /api/v1/iati-suggestions/{id}.
type Decision struct {
	Status string `json:"status" required:"true" doc:"confirmed or rejected"`
}

func (h *Handlers) importer() *Importer {
	return &Importer{DB: h.DB, Reg: h.Reg, Orgs: h.Orgs, Config: h.Config, Log: h.srv.Log}
}

// receive stores the uploaded file in a temporary file and starts its job.
func (h *Handlers) receive(w http.ResponseWriter, r *http.Request, p *auth.Principal, source string) (int64, error) {
	// A large file may take longer than the server's read timeout.
	_ = http.NewResponseController(w).SetReadDeadline(time.Now().Add(time.Hour))
	mr, err := r.MultipartReader()
	if err != nil {
		return 0, fault.Malformed("Send the file as multipart/form-data with a field named \"file\".")
	}
	var part io.ReadCloser
	name := ""
	for {
		pt, err := mr.NextPart()
		if errors.Is(err, io.EOF) {
			return 0, fault.Invalid(fault.FieldError{Field: "file", Message: "choose an IATI XML file to import"})
		}
		if err != nil {
			return 0, uploadError(r, err)
		}
		if pt.FormName() == "file" {
			part, name = pt, pt.FileName()
			break
		}
		pt.Close()
	}
	defer part.Close()
	if name == "" {
		name = "upload.xml"
	}
	tmp, err := os.CreateTemp("", "kompas-iati-*.xml")
	if err != nil {
		return 0, fmt.Errorf("iati: temporary file: %w", err)
	}
	keep := false
	defer func() {
		if !keep {
			tmp.Close()
			os.Remove(tmp.Name())
		}
	}()
	limit := h.Config.maxBytes()
	n, err := io.Copy(tmp, io.LimitReader(part, limit+1))
	if err != nil {
		return 0, uploadError(r, err)
	}
	if n > limit {
		return 0, web.TooLarge(limit, true)
	}
	if n == 0 {
		return 0, fault.Invalid(fault.FieldError{Field: "file", Message: "is empty"})
	}
	if _, err := tmp.Seek(0, io.SeekStart); err != nil {
		return 0, err
	}
	id, err := CreateJob(r.Context(), h.DB, p, source, name, n, JobQueued)
	if err != nil {
		return 0, err
	}
	keep = true
	go h.run(p, id, tmp, n)
	return id, nil
}

// uploadError is a 413 when the body went over the route's limit (the
// multipart reader does not always wrap the read error), a 400 otherwise.
func uploadError(r *http.Request, err error) error {
	if tooLarge := web.BodyTooLarge(r); tooLarge != nil {
		return tooLarge
	}
	return fault.Malformed("The upload could not be read: " + err.Error())
}

// run imports a received file in the background, one at a time per node.
func (h *Handlers) run(p *auth.Principal, id int64, f *os.File, size int64) {
	defer func() {
		f.Close()
		os.Remove(f.Name())
	}()
	// Wait for the node's import slot, keeping the queued job's heartbeat
	// fresh so that it does not look interrupted.
	tick := time.NewTicker(30 * time.Second)
	defer tick.Stop()
	for waiting := true; waiting; {
		select {
		case h.sem <- struct{}{}:
			waiting = false
		case <-tick.C:
			_ = Heartbeat(context.Background(), h.DB, id)
		}
	}
	defer func() { <-h.sem }()
	if _, err := h.importer().RunJob(context.Background(), p, id, f, size); err != nil {
		h.srv.Log.Error("IATI import job failed", "job", id, "err", err)
	}
}

type uploadData struct {
	Form      *web.Form
	Jobs      []*Job
	MaxBytes  int64
	Publisher string
}

func (h *Handlers) renderUpload(w http.ResponseWriter, r *http.Request, status int, form *web.Form) error {
	jobs, err := ListJobs(r.Context(), h.DB, 20)
	if err != nil {
		return err
	}
	return h.tmpl.Render(w, r, status, "iati-import.html", "Import an IATI file", uploadData{Form: form, Jobs: jobs, MaxBytes: h.Config.maxBytes(), Publisher: h.Config.publisher()})
}

func (h *Handlers) uploadPage(w http.ResponseWriter, r *http.Request) error {
	return h.renderUpload(w, r, http.StatusOK, &web.Form{})
}

func (h *Handlers) uploadForm(w http.ResponseWriter, r *http.Request) error {
	p := auth.Caller(r.Context())
	id, err := h.receive(w, r, p, "web")
	if err != nil {
		e := web.AsError(err)
		if web.Status(e.Kind) >= 500 || web.Status(e.Kind) == http.StatusForbidden {
			return err
		}
		form := &web.Form{Errors: e.Fields}
		if len(form.Errors) == 0 {
			form.Errors = []fault.FieldError{{Field: "file", Message: e.Detail}}
		}
		return h.renderUpload(w, r, web.Status(e.Kind), form)
	}
	return h.srv.Redirect(w, r, fmt.Sprintf("/imports/iati/%d", id), "The file was received; its import is running.")
}

func (h *Handlers) apiImport(w http.ResponseWriter, r *http.Request) error {
	p := auth.Caller(r.Context())
	id, err := h.receive(w, r, p, "api")
	if err != nil {
		return err
	}
	j, err := GetJob(r.Context(), h.DB, id, 0)
	if err != nil {
		return err
	}
	j.URL = fmt.Sprintf("/api/v1/imports/iati/%d", id)
	w.Header().Set("Location", j.URL)
	return web.WriteJSON(w, http.StatusAccepted, j)
}

func (h *Handlers) loadJob(r *http.Request, events int) (*auth.Principal, *Job, error) {
	p := auth.Caller(r.Context())
	id, err := web.PathID(r, "job", "Import job")
	if err != nil {
		return nil, nil, err
	}
	j, err := GetJob(r.Context(), h.DB, id, events)
	if err != nil {
		return nil, nil, err
	}
	return p, j, nil
}

func (h *Handlers) apiJob(w http.ResponseWriter, r *http.Request) error {
	_, j, err := h.loadJob(r, maxEvents)
	if err != nil {
		return err
	}
	if !j.Finished() {
		w.Header().Set("Retry-After", "2")
	}
	w.Header().Set("Cache-Control", "no-store")
	return web.WriteJSON(w, http.StatusOK, j)
}

type jobData struct {
	Job     *Job
	Skipped []JobEvent
	Notes   []JobEvent
	Pending int
}

func (h *Handlers) jobPage(w http.ResponseWriter, r *http.Request) error {
	_, j, err := h.loadJob(r, maxEvents)
	if err != nil {
		return err
	}
	d := jobData{Job: j}
	for _, e := range j.Events {
		if e.Kind == "skipped" {
			d.Skipped = append(d.Skipped, e)
		} else {
			d.Notes = append(d.Notes, e)
		}
	}
	if d.Pending, err = PendingSuggestions(r.Context(), h.DB, j.ID); err != nil {
		return err
	}
	if !j.Finished() {
		// The page refreshes itself while the import runs (an HTTP header:
		// the CSP allows no inline script, and a link does the same).
		w.Header().Set("Refresh", "2")
	}
	return h.tmpl.Render(w, r, http.StatusOK, "iati-job.html", fmt.Sprintf("IATI import %d", j.ID), d)
}

const maxReview = 500

type reviewData struct {
	Job         *Job
	Suggestions []SuggestionView
}

func (h *Handlers) reviewPage(w http.ResponseWriter, r *http.Request) error {
	p, j, err := h.loadJob(r, 0)
	if err != nil {
		return err
	}
	sugs, err := Suggestions(r.Context(), h.DB, h.Reg, p, j.ID, maxReview)
	if err != nil {
		return err
	}
	return h.tmpl.Render(w, r, http.StatusOK, "iati-review.html", fmt.Sprintf("Suggested GCM objectives of import %d", j.ID), reviewData{Job: j, Suggestions: sugs})
}

func (h *Handlers) apiSuggestions(w http.ResponseWriter, r *http.Request) error {
	p, j, err := h.loadJob(r, 0)
	if err != nil {
		return err
	}
	sugs, err := Suggestions(r.Context(), h.DB, h.Reg, p, j.ID, maxReview)
	if err != nil {
		return err
	}
	return web.WriteJSON(w, http.StatusOK, sugs)
}

func (h *Handlers) decideForm(w http.ResponseWriter, r *http.Request) error {
	p := auth.Caller(r.Context())
	id, err := web.PathID(r, "id", "Suggestion")
	if err != nil {
		return err
	}
	if err := r.ParseForm(); err != nil {
		return fault.Malformed("The form could not be read.")
	}
	decision := r.PostForm.Get("status")
	job, err := Decide(r.Context(), h.DB, h.Reg, p, id, decision)
	if err != nil {
		return err
	}
	msg := "The objective was added to the initiative."
	if decision == "rejected" {
		msg = "The suggestion was rejected."
	}
	target := "/imports/iati"
	if job > 0 {
		target = fmt.Sprintf("/imports/iati/%d/review", job)
	}
	return h.srv.Redirect(w, r, target, msg)
}

func (h *Handlers) apiDecide(w http.ResponseWriter, r *http.Request) error {
	p := auth.Caller(r.Context())
	id, err := web.PathID(r, "id", "Suggestion")
	if err != nil {
		return err
	}
	var d Decision
	if err := web.DecodeJSON(r, &d); err != nil {
		return err
	}
	job, err := Decide(r.Context(), h.DB, h.Reg, p, id, d.Status)
	if err != nil {
		return err
	}
	sugs, err := Suggestions(r.Context(), h.DB, h.Reg, p, job, maxReview)
	if err != nil {
		return err
	}
	for _, s := range sugs {
		if s.ID == id {
			return web.WriteJSON(w, http.StatusOK, s)
		}
	}
	return web.WriteJSON(w, http.StatusOK, SuggestionView{ID: id, Status: d.Status})
}

// export streams the register as IATI XML, after auditing the export.
func (h *Handlers) export(w http.ResponseWriter, r *http.Request) error {
	p := auth.Caller(r.Context())
	if err := AuditExport(r.Context(), h.DB, p, "web"); err != nil {
		return err
	}
	w.Header().Set("Content-Type", "application/xml; charset=utf-8")
	w.Header().Set("Content-Disposition", `attachment; filename="kompas-iati-activities.xml"`)
	_ = http.NewResponseController(w).SetWriteDeadline(time.Now().Add(30 * time.Minute))
	n, err := (&Exporter{DB: h.DB, Reg: h.Reg, Config: h.Config}).Write(r.Context(), w)
	if err != nil {
		// The status line is sent: all that is left is to log it.
		web.Logger(r.Context()).Error("IATI export stopped", "after", n, "err", err)
	}
	return nil
}

// AuditExport records that p exported the register as IATI.
func AuditExport(ctx context.Context, db *store.DB, p *auth.Principal, via string) error {
	return db.Transact(ctx, func(tx *store.Tx) error {
		return audit.Append(ctx, tx, p.Event(audit.ActionExport, "initiative", "", "programme register", "IATI 2.03 export of the register via "+via))
	})
}
