// Package auditweb lets privacy officers and administrators read the audit
// log and check its chain, in the browser and through the API. Reading the
// log is itself audited: it tells who did what to whose data.
package auditweb

import (
	"embed"
	"io/fs"
	"net/http"
	"strconv"
	"strings"

	"kompas/internal/platform/audit"
	"kompas/internal/platform/auth"
	"kompas/internal/platform/store"
	"kompas/internal/platform/web"
)

//go:embed templates/*.html
var templateFiles embed.FS

var ruleRead = auth.Rule{Action: "read the audit log", Roles: []auth.Role{auth.RolePrivacyOfficer, auth.RoleAdmin}}

type handlers struct {
	db   *store.DB
	tmpl *web.Templates
}

// Register adds /audit and the audit API to srv.
func Register(srv *web.Server, db *store.DB) {
	sub, err := fs.Sub(templateFiles, "templates")
	if err != nil {
		panic(err)
	}
	h := &handlers{db: db, tmpl: srv.Templates(sub)}
	srv.AddNav(web.NavItem{Label: "Audit log", Path: "/audit", Roles: []string{string(auth.RolePrivacyOfficer), string(auth.RoleAdmin)}, Order: 90})
	srv.Page("GET /audit", web.Op{Access: ruleRead}, h.page)
	tags := []string{"audit"}
	srv.API("GET /api/v1/audit/events", web.Op{Summary: "Audit events, newest first", Tags: tags, Access: ruleRead,
		Query:    []web.Param{{Name: "actor"}, {Name: "object_type"}, {Name: "object_id"}, {Name: "before", Type: "integer", Description: "events with a smaller id"}, {Name: "limit", Type: "integer"}},
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

func filterOf(r *http.Request) (audit.Filter, error) {
	q := r.URL.Query()
	f := audit.Filter{Actor: strings.TrimSpace(q.Get("actor")), ObjectType: strings.TrimSpace(q.Get("object_type")), ObjectID: strings.TrimSpace(q.Get("object_id")), Limit: 100}
	var errs []web.FieldError
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

// read lists events and records that p read them.
func (h *handlers) read(r *http.Request, p *auth.Principal, f audit.Filter) ([]audit.Event, error) {
	events, err := audit.List(r.Context(), h.db, f)
	if err != nil {
		return nil, err
	}
	err = h.db.Transact(r.Context(), func(tx *store.Tx) error {
		return audit.Append(r.Context(), tx, p.Event(audit.ActionRead, "audit_log", "", "audit review",
			"actor="+f.Actor+" object="+f.ObjectType+"/"+f.ObjectID))
	})
	return events, err
}

type pageData struct {
	Events []audit.Event
	Filter audit.Filter
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
		return h.tmpl.Render(w, r, http.StatusBadRequest, "audit.html", "Audit log", pageData{Form: form})
	}
	events, err := h.read(r, p, f)
	if err != nil {
		return err
	}
	d := pageData{Events: events, Filter: f, Form: form}
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
