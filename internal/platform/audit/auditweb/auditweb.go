// Package auditweb lets privacy officers and administrators read the audit
// log and check its chain, in the browser and through the API, with a
// filter for refused requests for personal data ("Refused reads"). Reading
// the log is itself audited: it tells who did what to whose data.
package auditweb

import (
	"embed"
	"html/template"
	"io/fs"
	"net/http"
	"strconv"
	"strings"

	"kompas/internal/platform/audit"
	"kompas/internal/platform/audit/refusals"
	"kompas/internal/platform/auth"
	"kompas/internal/platform/store"
	"kompas/internal/platform/web"
)

//go:embed templates/*.html
var templateFiles embed.FS

var ruleRead = auth.Rule{Action: "read the audit log", Roles: []auth.Role{auth.RolePrivacyOfficer, auth.RoleAdmin}}

type handlers struct {
	db   *store.DB
	rec  *refusals.Recorder
	tmpl *web.Templates
}

// Register adds /audit and the audit API to srv. rec, when not nil, writes
// the summaries of finished rate-limit windows before refusals are listed.
func Register(srv *web.Server, db *store.DB, rec *refusals.Recorder) {
	sub, err := fs.Sub(templateFiles, "templates")
	if err != nil {
		panic(err)
	}
	h := &handlers{db: db, rec: rec, tmpl: srv.Templates(sub, template.FuncMap{"describe": Describe})}
	srv.AddNav(web.NavItem{Label: "Audit log", Path: "/audit", Roles: []string{string(auth.RolePrivacyOfficer), string(auth.RoleAdmin)}, Order: 90})
	srv.Page("GET /audit", web.Op{Access: ruleRead}, h.page)
	tags := []string{"audit"}
	srv.API("GET /api/v1/audit/events", web.Op{Summary: "Audit events, newest first", Tags: tags, Access: ruleRead,
		Query: []web.Param{{Name: "actor"}, {Name: "object_type"}, {Name: "object_id"}, {Name: "refused", Description: "1: only refused requests for personal data (action denied)"},
			{Name: "before", Type: "integer", Description: "events with a smaller id"}, {Name: "limit", Type: "integer"}},
		Response: []Event{}}, h.apiEvents)
	srv.API("GET /api/v1/audit/verify", web.Op{Summary: "Recompute the hash chain", Tags: tags, Access: ruleRead, Response: VerifyResult{}}, h.apiVerify)
}

// Event is an audit event in the API.
type Event struct {
	ID         int64  `json:"id"`
	At         string `json:"at"`
	Actor      string `json:"actor"`
	Org        string `json:"org"`
	Action     string `json:"action"`
	ObjectType string `json:"object_type"`
	ObjectID   string `json:"object_id"`
	Purpose    string `json:"purpose"`
	Detail     string `json:"detail"`
	Hash       string `json:"hash"`
}

// VerifyResult is the answer of the chain check.
type VerifyResult struct {
	Intact   bool   `json:"intact"`
	Events   int    `json:"events"`
	BrokenAt int64  `json:"broken_at,omitempty"`
	Reason   string `json:"reason,omitempty"`
}

// filter is the page's and the API's filter: audit.Filter's, and whether to
// list refusals only.
type filter struct {
	audit.Filter
	Refused bool
}

func filterOf(r *http.Request) (filter, error) {
	q := r.URL.Query()
	f := filter{Filter: audit.Filter{Actor: strings.TrimSpace(q.Get("actor")), ObjectType: strings.TrimSpace(q.Get("object_type")), ObjectID: strings.TrimSpace(q.Get("object_id")), Limit: 100}}
	var errs []web.FieldError
	switch q.Get("refused") {
	case "", "0":
	case "1":
		f.Refused = true
	default:
		errs = append(errs, web.FieldError{Field: "refused", Message: "must be 1 (only refused reads) or left out"})
	}
	if s := q.Get("before"); s != "" {
		n, err := strconv.ParseInt(s, 10, 64)
		if err != nil || n <= 0 {
			errs = append(errs, web.FieldError{Field: "before", Message: "must be a positive whole number"})
		}
		f.BeforeID = n
	}
	if s := q.Get("limit"); s != "" {
		n, err := strconv.Atoi(s)
		if err != nil || n < 1 || n > 500 {
			errs = append(errs, web.FieldError{Field: "limit", Message: "must be a whole number from 1 to 500"})
		}
		f.Limit = n
	}
	if len(errs) > 0 {
		return f, web.BadRequest("Some filters are not valid.", errs...)
	}
	return f, nil
}

// read lists events and records that p read them. Refusals are listed
// after the summaries of finished rate-limit windows are written, so that
// the count of suppressed refusals shows as soon as a window has ended.
func (h *handlers) read(r *http.Request, p *auth.Principal, f filter) ([]audit.Event, error) {
	var events []audit.Event
	var err error
	detail := "actor=" + f.Actor + " object=" + f.ObjectType + "/" + f.ObjectID
	if f.Refused {
		if h.rec != nil {
			if _, err := h.rec.Flush(r.Context()); err != nil {
				return nil, err
			}
		}
		events, err = refusals.List(r.Context(), h.db, f.Filter)
		detail += " refused=1"
	} else {
		events, err = audit.List(r.Context(), h.db, f.Filter)
	}
	if err != nil {
		return nil, err
	}
	err = h.db.Transact(r.Context(), func(tx *store.Tx) error {
		return audit.Append(r.Context(), tx, p.Event(audit.ActionRead, "audit_log", "", "audit review", detail))
	})
	return events, err
}

// Describe says in words what a refusal was; other events are their detail.
func Describe(e audit.Event) string {
	if e.Action != audit.ActionDenied {
		return e.Detail
	}
	what := strings.ReplaceAll(e.ObjectType, "_", " ")
	switch {
	case e.ObjectID != "":
		what += " " + e.ObjectID
	case strings.Contains(e.Detail, "suppressed"):
		what += "s"
	default:
		what = "the list of " + what + "s"
	}
	return "Refused access to " + what + ": " + strings.TrimPrefix(e.Detail, "refused with ")
}

type pageData struct {
	Rate   string // of recording refusals one by one
	Events []audit.Event
	Filter filter
	Form   *web.Form
	Older  string
	Verify *VerifyResult
}

func (h *handlers) page(w http.ResponseWriter, r *http.Request) error {
	p, err := auth.RequireRule(r.Context(), ruleRead)
	if err != nil {
		return err
	}
	form := &web.Form{Values: r.URL.Query()}
	f, err := filterOf(r)
	if err != nil {
		form.Errors = web.AsError(err).Fields
		return h.tmpl.Render(w, r, http.StatusBadRequest, "audit.html", "Audit log", pageData{Rate: h.rec.Rate(), Form: form})
	}
	events, err := h.read(r, p, f)
	if err != nil {
		return err
	}
	d := pageData{Rate: h.rec.Rate(), Events: events, Filter: f, Form: form}
	if len(events) == f.Limit {
		v := r.URL.Query()
		v.Set("before", strconv.FormatInt(events[len(events)-1].ID, 10))
		d.Older = v.Encode()
	}
	if r.URL.Query().Get("verify") == "1" {
		res := verify(r, h.db)
		d.Verify = &res
	}
	return h.tmpl.Render(w, r, http.StatusOK, "audit.html", "Audit log", d)
}

func verify(r *http.Request, db *store.DB) VerifyResult {
	n, err := audit.Verify(r.Context(), db)
	res := VerifyResult{Intact: err == nil, Events: n}
	if be, ok := err.(*audit.BrokenLinkError); ok {
		res.BrokenAt, res.Reason = be.ID, be.Reason
	} else if err != nil {
		res.Reason = "the chain could not be read"
	}
	return res
}

func (h *handlers) apiEvents(w http.ResponseWriter, r *http.Request) error {
	p, err := auth.RequireRule(r.Context(), ruleRead)
	if err != nil {
		return err
	}
	f, err := filterOf(r)
	if err != nil {
		return err
	}
	events, err := h.read(r, p, f)
	if err != nil {
		return err
	}
	out := make([]Event, len(events))
	for i, e := range events {
		out[i] = Event{ID: e.ID, At: store.FormatTime(e.At), Actor: e.Actor, Org: e.Org, Action: e.Action, ObjectType: e.ObjectType,
			ObjectID: e.ObjectID, Purpose: e.Purpose, Detail: e.Detail, Hash: e.Hash}
	}
	return web.WriteJSON(w, http.StatusOK, out)
}

func (h *handlers) apiVerify(w http.ResponseWriter, r *http.Request) error {
	_, err := auth.RequireRule(r.Context(), ruleRead)
	if err != nil {
		return err
	}
	return web.WriteJSON(w, http.StatusOK, verify(r, h.db))
}
