// Package auditweb lets privacy officers and administrators read the audit
// log and check it, in the browser and through the API, with a filter for
// refused requests for personal data ("Refused reads"); fetch its signed
// checkpoints (for a witness to keep) and inclusion proofs for single
// events. Reading the log is itself audited: it tells who did what to
// whose data.
package auditweb

import (
	"embed"
	"encoding/base64"
	"fmt"
	"html/template"
	"io/fs"
	"net/http"
	"strconv"
	"strings"

	"golang.org/x/mod/sumdb/tlog"

	"kompas/internal/platform/audit"
	"kompas/internal/platform/audit/refusals"
	"kompas/internal/platform/auth"
	"kompas/internal/platform/fault"
	"kompas/internal/platform/store"
	"kompas/internal/platform/web"
)

//go:embed templates/*.html
var templateFiles embed.FS

var ruleRead = auth.Rule{Action: "read the audit log", Roles: []auth.Role{auth.RolePrivacyOfficer, auth.RoleAdmin}}

type handlers struct {
	db   *store.DB
	rec  *refusals.Recorder
	cp   *audit.Checkpointer // nil without an audit key
	tmpl *web.Templates
}

// Register adds /audit and the audit API to srv. rec, when not nil, writes
// the summaries of finished rate-limit windows before refusals are listed;
// cp signs checkpoints, and nil (no audit key) leaves the log without them.
func Register(srv *web.Server, db *store.DB, rec *refusals.Recorder, cp *audit.Checkpointer) {
	sub, err := fs.Sub(templateFiles, "templates")
	if err != nil {
		panic(err)
	}
	h := &handlers{db: db, rec: rec, cp: cp, tmpl: srv.Templates(sub, template.FuncMap{"describe": Describe})}
	srv.AddNav(web.NavItem{Label: "Audit log", Path: "/audit", Roles: []string{string(auth.RolePrivacyOfficer), string(auth.RoleAdmin)}, Order: 90})
	srv.Page("GET /audit", web.Op{Access: ruleRead}, h.page)
	tags := []string{"audit"}
	srv.API("GET /api/v1/audit/events", web.Op{Summary: "Audit events, newest first", Tags: tags, Access: ruleRead,
		Query: []web.Param{{Name: "actor"}, {Name: "object_type"}, {Name: "object_id"}, {Name: "refused", Description: "1: only refused requests for personal data (action denied)"},
			{Name: "before", Type: "integer", Description: "events with a smaller id"}, {Name: "limit", Type: "integer"}},
		Response: []Event{}}, h.apiEvents)
	srv.API("GET /api/v1/audit/verify", web.Op{Summary: "Verify the log: chain, signatures, stored tree and the checkpoints it holds", Tags: tags, Access: ruleRead, Response: VerifyResult{}}, h.apiVerify)
	srv.API("GET /api/v1/audit/checkpoint", web.Op{Summary: "The latest signed checkpoint (tree size and root, a signed note) for a witness to keep", Tags: tags,
		Access: ruleRead, Produces: []string{"text/plain"}}, h.apiCheckpoint)
	srv.API("POST /api/v1/audit/checkpoint", web.Op{Summary: "Sign a checkpoint now (when the log grew since the latest) and return it", Tags: tags,
		Access: ruleRead, Produces: []string{"text/plain"}}, h.apiCheckpointNow)
	srv.API("GET /api/v1/audit/events/{id}/proof", web.Op{Summary: "Inclusion proof of one event (RFC 6962; check with tlog.CheckRecord)", Tags: tags,
		Access: ruleRead, Response: Proof{},
		Query: []web.Param{{Name: "size", Type: "integer", Description: "tree size to prove against; default: the latest checkpoint's (signed now if it does not cover the event)"}}}, h.apiProof)
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

// VerifyResult is the answer of the check. Without an audit key only the
// chain and the stored tree are checked, not signatures or checkpoints.
type VerifyResult struct {
	Intact   bool     `json:"intact"`
	Events   int      `json:"events"` // events before the first broken link
	BrokenAt int64    `json:"broken_at,omitempty"`
	Reason   string   `json:"reason,omitempty"`
	Problems []string `json:"problems,omitempty"` // everything wrong, each naming the events concerned
	Signed   int      `json:"signed"`             // events with a valid signature
	TreeSize int64    `json:"tree_size"`
	Root     string   `json:"root"` // base64, of the tree recomputed from the events
}

// Proof is an inclusion proof: tlog.CheckRecord(hashes, tree_size, root,
// leaf_index, tlog.RecordHash(leaf)) holds, and root is the checkpoint's.
type Proof struct {
	EventID    int64    `json:"event_id"`
	LeafIndex  int64    `json:"leaf_index"`
	TreeSize   int64    `json:"tree_size"`
	Root       string   `json:"root"`      // base64
	Leaf       string   `json:"leaf"`      // base64 of the leaf data (audit.LeafData)
	LeafHash   string   `json:"leaf_hash"` // base64 of tlog.RecordHash(leaf)
	Hashes     []string `json:"hashes"`    // base64, the audit path
	Checkpoint string   `json:"checkpoint,omitempty"`
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
	var errs []fault.FieldError
	switch q.Get("refused") {
	case "", "0":
	case "1":
		f.Refused = true
	default:
		errs = append(errs, fault.FieldError{Field: "refused", Message: "must be 1 (only refused reads) or left out"})
	}
	if s := q.Get("before"); s != "" {
		n, err := strconv.ParseInt(s, 10, 64)
		if err != nil || n <= 0 {
			errs = append(errs, fault.FieldError{Field: "before", Message: "must be a positive whole number"})
		}
		f.BeforeID = n
	}
	if s := q.Get("limit"); s != "" {
		n, err := strconv.Atoi(s)
		if err != nil || n < 1 || n > 500 {
			errs = append(errs, fault.FieldError{Field: "limit", Message: "must be a whole number from 1 to 500"})
		}
		f.Limit = n
	}
	if len(errs) > 0 {
		return f, fault.Malformed("Some filters are not valid.", errs...)
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
	p := auth.Caller(r.Context())
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
		res := h.verify(r)
		d.Verify = &res
	}
	return h.tmpl.Render(w, r, http.StatusOK, "audit.html", "Audit log", d)
}

func (h *handlers) verify(r *http.Request) VerifyResult {
	var opts audit.CheckOptions
	if h.cp != nil {
		opts.Verifier = h.cp.Key.Verifier()
	}
	rep, err := audit.Check(r.Context(), h.db, opts)
	if err != nil {
		return VerifyResult{Reason: "the log could not be read"}
	}
	res := VerifyResult{Intact: len(rep.Problems) == 0, Events: rep.Intact, Problems: rep.Problems, Signed: rep.Signed,
		TreeSize: rep.Size, Root: rep.Root.String()}
	switch {
	case rep.Broken != nil:
		res.BrokenAt, res.Reason = rep.Broken.ID, rep.Broken.Reason
	case len(rep.Problems) > 0:
		res.Reason = rep.Problems[0]
	}
	return res
}

func (h *handlers) apiEvents(w http.ResponseWriter, r *http.Request) error {
	p := auth.Caller(r.Context())
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
	return web.WriteJSON(w, http.StatusOK, h.verify(r))
}

// errNoKey: without an audit key there are no checkpoints.
var errNoKey = &fault.Error{Kind: fault.KindNotFound, Title: "No checkpoints",
	Detail: "This server has no audit key (serve --audit-key), so it signs no checkpoints: the log is not tamper-evident."}

// apiCheckpoint serves the latest checkpoint, signing the first one if
// there is none yet. Fetching it is not audited: it holds no personal data,
// and a witness fetching every minute would grow the log for nothing.
func (h *handlers) apiCheckpoint(w http.ResponseWriter, r *http.Request) error {
	if h.cp == nil {
		return errNoKey
	}
	c, err := audit.Latest(r.Context(), h.db, h.cp.Key.Verifier())
	if err == nil && c == nil {
		c, err = h.cp.Checkpoint(r.Context())
	}
	if err != nil {
		return err
	}
	return writeNote(w, c)
}

func (h *handlers) apiCheckpointNow(w http.ResponseWriter, r *http.Request) error {
	if h.cp == nil {
		return errNoKey
	}
	c, err := h.cp.Checkpoint(r.Context())
	if err != nil {
		return err
	}
	return writeNote(w, c)
}

func writeNote(w http.ResponseWriter, c *audit.Checkpoint) error {
	w.Header().Set("Content-Type", "text/plain; charset=utf-8")
	w.Header().Set("Cache-Control", "no-store")
	_, err := w.Write(c.Note)
	return err
}

func (h *handlers) apiProof(w http.ResponseWriter, r *http.Request) error {
	p := auth.Caller(r.Context())
	id, err := web.PathID(r, "id", "Audit event")
	if err != nil {
		return err
	}
	var size int64
	if s := r.URL.Query().Get("size"); s != "" {
		if size, err = strconv.ParseInt(s, 10, 64); err != nil || size <= 0 {
			return fault.Malformed("The tree size is not valid.", fault.FieldError{Field: "size", Message: "must be a positive whole number"})
		}
	}
	ctx := r.Context()
	var c *audit.Checkpoint
	if size == 0 && h.cp != nil {
		// The latest checkpoint, or a new one if it does not cover the event.
		seq, err := audit.LeafIndex(ctx, h.db, id)
		if err != nil {
			return err
		}
		if c, err = audit.Latest(ctx, h.db, h.cp.Key.Verifier()); err != nil {
			return err
		}
		if c == nil || c.Size <= seq {
			if c, err = h.cp.Checkpoint(ctx); err != nil {
				return err
			}
		}
		size = c.Size
	}
	proof, err := audit.Prove(ctx, h.db, id, size)
	if err != nil {
		return err
	}
	if c != nil && proof.Root != c.Root {
		return fmt.Errorf("auditweb: the stored tree does not match checkpoint %d", c.Size)
	}
	err = h.db.Transact(ctx, func(tx *store.Tx) error {
		return audit.Append(ctx, tx, p.Event(audit.ActionRead, "audit_log", strconv.FormatInt(id, 10), "audit review", "inclusion proof"))
	})
	if err != nil {
		return err
	}
	leafHash := tlog.RecordHash(proof.Leaf)
	out := Proof{EventID: id, LeafIndex: proof.Index, TreeSize: proof.Size, Root: proof.Root.String(),
		Leaf: base64.StdEncoding.EncodeToString(proof.Leaf), LeafHash: leafHash.String(), Hashes: make([]string, len(proof.Hashes))}
	for i, h := range proof.Hashes {
		out.Hashes[i] = h.String()
	}
	if c != nil {
		out.Checkpoint = string(c.Note)
	}
	return web.WriteJSON(w, http.StatusOK, out)
}
