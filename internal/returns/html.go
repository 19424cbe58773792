package returns

import (
	"embed"
	"fmt"
	"html/template"
	"io/fs"
	"net/http"
	"strconv"
	"strings"

	"kompas/internal/platform/auth"
	"kompas/internal/platform/fault"
	"kompas/internal/platform/geo"
	"kompas/internal/platform/web"
)

//go:embed all:templates
var templateFiles embed.FS

// Handlers serves the module's pages and API.
type Handlers struct {
	Svc  *Service
	srv  *web.Server
	tmpl *web.Templates
}

// pages is the module's page templates; templates/pages/_partials.html
// holds the partials they share.
func pages() fs.FS {
	sub, err := fs.Sub(templateFiles, "templates/pages")
	if err != nil {
		panic(err)
	}
	return sub
}

// caseRoleNames are the roles that see the work queue in the navigation.
var caseRoleNames = []string{string(auth.RoleCaseworker), string(auth.RoleReturnOfficer), string(auth.RoleCounsellor), string(auth.RolePartner)}

// NewHandlers wires the module's pages, API and navigation into srv.
func NewHandlers(srv *web.Server, svc *Service) *Handlers {
	h := &Handlers{Svc: svc, srv: srv}
	h.tmpl = srv.Templates(pages(), template.FuncMap{
		"label":   Label,
		"country": geo.Name,
		"stage":   func(s Stage) string { return s.Label() },
		"score":   func(f float64) string { return strconv.FormatFloat(f, 'f', 2, 64) },
		"share": func(f *float64) string {
			if f == nil {
				return ""
			}
			return strconv.FormatFloat(*f, 'f', 1, 64) + "%"
		},
		"describedby": func(name, hint string, err string) string {
			var ids []string
			if hint != "" {
				ids = append(ids, web.FieldID(name)+"-hint")
			}
			if err != "" {
				ids = append(ids, web.FieldID(name)+"-error")
			}
			return strings.Join(ids, " ")
		},
		"int64": func(p *int) int64 {
			if p == nil {
				return 0
			}
			return int64(*p)
		},
		"deref": func(p *int) int {
			if p == nil {
				return 0
			}
			return *p
		},
		"derefF": func(p *float64) string {
			if p == nil {
				return ""
			}
			return strconv.FormatFloat(*p, 'f', -1, 64)
		},
		"codes": func(cs []string) string {
			out := make([]string, len(cs))
			for i, c := range cs {
				out[i] = Label(c)
			}
			return strings.Join(out, ", ")
		},
	})
	srv.AddNav(
		web.NavItem{Label: "Return cases", Path: "/returns", Roles: caseRoleNames, Order: 20},
		web.NavItem{Label: "Return statistics", Path: "/statistics/returns", Order: 21},
	)
	// Every signed-in user: a role that works on no cases is sent on to the
	// statistics rather than refused.
	srv.Page("GET /returns", web.Op{Access: ruleRead, Personal: personalCases}, h.queuePage)
	srv.Page("GET /returns/new", web.Op{Access: ruleCreate}, h.newPage)
	srv.Page("POST /returns/cases", web.Op{Access: ruleCreate}, h.createForm)
	srv.Page("GET /returns/cases/{id}", web.Op{Access: ruleCase, Conceal: "Case", Personal: personalCase}, h.casePage)
	srv.Form("/returns/cases/{id}/move/{to}", web.Op{Access: ruleCase, Conceal: "Case", Personal: personalCase}, web.FormPage{Show: h.showMove, Submit: h.submitMove})
	h.registerCaseForms()
	srv.Page("GET /returns/export.csv", web.Op{Access: ruleExport, Personal: personalCases}, func(w http.ResponseWriter, r *http.Request) error { return h.serveExport(w, r, "csv") })
	srv.Page("GET /returns/export.xlsx", web.Op{Access: ruleExport, Personal: personalCases}, func(w http.ResponseWriter, r *http.Request) error { return h.serveExport(w, r, "xlsx") })
	srv.Page("GET /statistics/returns", web.Op{Access: ruleRead}, h.statsPage)
	h.registerAPI()
	return h
}

type option struct{ Value, Label string }

func options(codes []string) []option {
	out := make([]option, len(codes))
	for i, c := range codes {
		out[i] = option{c, Label(c)}
	}
	return out
}

func stageOptions(stages []Stage) []option {
	out := make([]option, len(stages))
	for i, s := range stages {
		out[i] = option{string(s), s.Label()}
	}
	return out
}

type pager struct {
	Page, Pages int
	Prev, Next  template.URL
}

type queueData struct {
	Queue     *Queue
	Filter    QueueFilter
	Form      *web.Form
	Stages    []option
	CanCreate bool
	CanExport bool
	ExportQS  template.URL
	Pager     pager
	OrgName   string
}

func (h *Handlers) queuePage(w http.ResponseWriter, r *http.Request) error {
	p := auth.Caller(r.Context())
	if !WorksOnCases(p) {
		return h.srv.Redirect(w, r, "/statistics/returns", "Your role sees the statistics of return cases, not the cases.")
	}
	form := &web.Form{Values: r.URL.Query()}
	f, ferr := ParseQueueFilter(r.URL.Query())
	status := http.StatusOK
	if ferr != nil {
		form.Errors = web.AsError(ferr).Fields
		f = QueueFilter{Page: 1, PerPage: 25}
		status = http.StatusBadRequest
	}
	q, err := h.Svc.Queue(r.Context(), p, f)
	if err != nil {
		return err
	}
	d := queueData{Queue: q, Filter: f, Form: form, Stages: stageOptions(Stages), CanCreate: ruleCreate.Allows(p, auth.RelNone),
		CanExport: ruleExport.Allows(p, auth.RelNone), ExportQS: template.URL(f.Values().Encode()), OrgName: p.OrgName}
	pages := max(1, (q.Total+f.PerPage-1)/f.PerPage)
	if q.TotalMore {
		pages = f.Page + 1
	}
	d.Pager = pager{Page: f.Page, Pages: pages}
	if f.Page > 1 {
		v := f.Values()
		v.Set("page", strconv.Itoa(f.Page-1))
		d.Pager.Prev = template.URL(v.Encode())
	}
	if f.Page < pages {
		v := f.Values()
		v.Set("page", strconv.Itoa(f.Page+1))
		d.Pager.Next = template.URL(v.Encode())
	}
	return h.tmpl.Render(w, r, status, "queue.html", "Return cases", d)
}

// caseLinks are the actions a caller may take on a case, for its page.
type caseLinks struct {
	Moves   []option
	Actions []option
}

func (h *Handlers) links(p *auth.Principal, hd *head) caseLinks {
	var l caseLinks
	for _, m := range Moves {
		if m.From == hd.Stage && m.Allows(p, hd.Rels) {
			l.Moves = append(l.Moves, option{string(m.To), m.To.Label()})
		}
	}
	for _, c := range caseForms {
		if c.act.allows(p, hd.Rels) {
			l.Actions = append(l.Actions, option{c.slug, c.title})
		}
	}
	return l
}

type caseData struct {
	Full      *CaseView
	Partner   *PartnerCaseView
	Links     caseLinks
	CanDecide bool
	CanRefer  bool
}

func (h *Handlers) casePage(w http.ResponseWriter, r *http.Request) error {
	p := auth.Caller(r.Context())
	id, err := web.PathID(r, "id", "Case")
	if err != nil {
		return err
	}
	v, hd, err := h.Svc.casePage(r.Context(), p, id)
	if err != nil {
		return err
	}
	d := caseData{Links: h.links(p, hd), CanDecide: actDecision.allows(p, hd.Rels), CanRefer: actReferralStatus.allows(p, hd.Rels)}
	switch cv := v.(type) {
	case *CaseView:
		d.Full = cv
		return h.tmpl.Render(w, r, http.StatusOK, "case.html", "Case "+cv.Reference, d)
	case *PartnerCaseView:
		d.Partner = cv
		return h.tmpl.Render(w, r, http.StatusOK, "case_partner.html", "Case "+cv.Reference, d)
	}
	return fmt.Errorf("returns: unknown view %T", v)
}

type moveData struct {
	ID        int64
	Reference string
	From, To  Stage
	Reason    bool
	Reopen    bool
	Hint      string
	Form      *web.Form
	Conflict  string
}

func (h *Handlers) showMove(w http.ResponseWriter, r *http.Request, f *web.Form) error {
	id, err := web.PathID(r, "id", "Case")
	if err != nil {
		return err
	}
	fc, m, err := h.Svc.OpenMove(r.Context(), auth.Caller(r.Context()), id, Stage(r.PathValue("to")))
	if err != nil {
		return err
	}
	d := moveData{ID: fc.ID, Reference: fc.Reference, From: m.From, To: m.To, Reason: m.Reason, Reopen: m.Reopen, Form: f, Conflict: f.Conflict, Hint: "Optional."}
	if m.Reason {
		d.Hint = "Required: say why, in a few words."
	}
	return h.tmpl.Render(w, r, f.Status, "move.html", "Move case "+fc.Reference+" to "+m.To.Label(), d)
}

func (h *Handlers) submitMove(w http.ResponseWriter, r *http.Request, f *web.Form) error {
	id, err := web.PathID(r, "id", "Case")
	if err != nil {
		return err
	}
	to := Stage(r.PathValue("to"))
	if !to.Valid() {
		return fault.NotFound("Stage")
	}
	moved, err := h.Svc.Transition(r.Context(), auth.Caller(r.Context()), id, TransitionInput{To: string(to), Reason: f.Get("reason")})
	if err != nil {
		return err
	}
	return h.srv.Redirect(w, r, fmt.Sprintf("/returns/cases/%d", id), fmt.Sprintf("Case %s moved to %s.", moved.Reference, to.Label()))
}

// statsData feeds the statistics page.
type statsData struct {
	S *Stats
}

func (h *Handlers) statsPage(w http.ResponseWriter, r *http.Request) error {
	st, err := h.Svc.Stats(r.Context())
	if err != nil {
		return err
	}
	return h.tmpl.Render(w, r, http.StatusOK, "stats.html", "Return statistics", statsData{S: st})
}
