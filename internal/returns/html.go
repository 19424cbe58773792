package returns

import (
	"embed"
	"fmt"
	"html/template"
	"io/fs"
	"net/http"
	"net/url"
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
	srv.Page("GET /returns/cases/{id}/move/{to}", web.Op{Access: ruleCase, Conceal: "Case", Personal: personalCase}, h.movePage)
	srv.Page("POST /returns/cases/{id}/move/{to}", web.Op{Access: ruleCase, Conceal: "Case", Personal: personalCase}, h.moveForm)
	srv.Page("GET /returns/cases/{id}/act/{action}", web.Op{Access: ruleCase, Conceal: "Case", Personal: personalCase}, h.actionPage)
	srv.Page("POST /returns/cases/{id}/act/{action}", web.Op{Access: ruleCase, Conceal: "Case", Personal: personalCase}, h.actionForm)
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
	p, err := auth.Require(r.Context())
	if err != nil {
		return err
	}
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

var actionTitles = map[string]string{
	"consent":  "Record consent",
	"choice":   "Change of counselling organisation",
	"document": "Request a travel document",
	"flight":   "Book a flight",
	"partner":  "Assign a reintegration partner",
	"plan":     "Write the reintegration plan",
	"delivery": "Record support delivered",
	"visit":    "Record a monitoring visit",
	"referral": "Refer to a service",
}

var actionOrder = []string{"consent", "choice", "document", "flight", "partner", "plan", "delivery", "visit", "referral"}

func (h *Handlers) links(p *auth.Principal, hd *head) caseLinks {
	var l caseLinks
	for _, m := range Moves {
		if m.From == hd.Stage && m.Allows(p, hd.Rels) {
			l.Moves = append(l.Moves, option{string(m.To), m.To.Label()})
		}
	}
	for _, a := range actionOrder {
		if allowsAny(p, hd.Rels, actionRules[a]...) {
			l.Actions = append(l.Actions, option{a, actionTitles[a]})
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
	p, id, err := caller(r)
	if err != nil {
		return err
	}
	hd, err := loadHead(r.Context(), h.Svc.DB, p, id, false)
	if err != nil {
		return err
	}
	v, err := h.Svc.Case(r.Context(), p, id)
	if err != nil {
		return err
	}
	d := caseData{Links: h.links(p, hd), CanDecide: allowsAny(p, hd.Rels, actionRules["decision"]...),
		CanRefer: allowsAny(p, hd.Rels, actionRules["referral-status"]...)}
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

func newMoveData(hd *head, m Move, form *web.Form) moveData {
	d := moveData{ID: hd.ID, Reference: hd.Reference, From: m.From, To: m.To, Reason: m.Reason, Reopen: m.Reopen, Form: form, Hint: "Optional."}
	if m.Reason {
		d.Hint = "Required: say why, in a few words."
	}
	return d
}

func (h *Handlers) moveTarget(r *http.Request) (*auth.Principal, *head, Move, error) {
	p, id, err := caller(r)
	if err != nil {
		return nil, nil, Move{}, err
	}
	hd, err := loadHead(r.Context(), h.Svc.DB, p, id, false)
	if err != nil {
		return nil, nil, Move{}, err
	}
	to := Stage(r.PathValue("to"))
	if !to.Valid() {
		return nil, nil, Move{}, fault.NotFound("Stage")
	}
	m, ok := FindMove(hd.Stage, to)
	if !ok {
		return nil, nil, Move{}, fault.Conflict(fmt.Sprintf("A case in stage %s cannot move to %s.", hd.Stage.Label(), to.Label()))
	}
	if !m.Allows(p, hd.Rels) {
		return nil, nil, Move{}, fault.Forbidden(fmt.Sprintf("A %s of %s may not move a case from %s to %s.", p.Role.Label(), p.OrgName, m.From.Label(), m.To.Label()))
	}
	return p, hd, m, nil
}

func (h *Handlers) movePage(w http.ResponseWriter, r *http.Request) error {
	_, hd, m, err := h.moveTarget(r)
	if err != nil {
		return err
	}
	d := newMoveData(hd, m, &web.Form{})
	return h.tmpl.Render(w, r, http.StatusOK, "move.html", "Move case "+hd.Reference+" to "+m.To.Label(), d)
}

func (h *Handlers) moveForm(w http.ResponseWriter, r *http.Request) error {
	p, hd, m, err := h.moveTarget(r)
	if err != nil {
		return err
	}
	if err := r.ParseForm(); err != nil {
		return fault.Malformed("The form could not be read.")
	}
	form := &web.Form{Values: r.PostForm}
	_, err = h.Svc.Transition(r.Context(), p, hd.ID, TransitionInput{To: string(m.To), Reason: r.PostForm.Get("reason")})
	if err != nil {
		e := web.AsError(err)
		d := newMoveData(hd, m, form)
		switch web.Status(e.Kind) {
		case http.StatusUnprocessableEntity:
			form.Errors = e.Fields
			return h.tmpl.Render(w, r, web.Status(e.Kind), "move.html", "Move case "+hd.Reference+" to "+m.To.Label(), d)
		case http.StatusConflict:
			d.Conflict = e.Detail
			return h.tmpl.Render(w, r, web.Status(e.Kind), "move.html", "Move case "+hd.Reference+" to "+m.To.Label(), d)
		}
		return err
	}
	return h.srv.Redirect(w, r, fmt.Sprintf("/returns/cases/%d", hd.ID), fmt.Sprintf("Case %s moved to %s.", hd.Reference, m.To.Label()))
}

// fieldSpec describes one input of a generic action form.
type fieldSpec struct {
	Name, Label, Type, Hint string
	Required                bool
	Options                 []option
}

type actionData struct {
	ID        int64
	Reference string
	Stage     Stage
	Action    string
	Title     string
	Intro     string
	Submit    string
	Fields    []fieldSpec
	Rows      []int // support rows of the plan form
	Types     []option
	Form      *web.Form
	Conflict  string
}

func (h *Handlers) actionTarget(r *http.Request) (*auth.Principal, *head, string, error) {
	p, id, err := caller(r)
	if err != nil {
		return nil, nil, "", err
	}
	hd, err := loadHead(r.Context(), h.Svc.DB, p, id, false)
	if err != nil {
		return nil, nil, "", err
	}
	action := r.PathValue("action")
	rules, ok := actionRules[action]
	if !ok {
		return nil, nil, "", fault.NotFound("Form")
	}
	if !allowsAny(p, hd.Rels, rules...) {
		return nil, nil, "", fault.Forbidden(fmt.Sprintf("A %s of %s may not do this on this case.", p.Role.Label(), p.OrgName))
	}
	return p, hd, action, nil
}

func (h *Handlers) actionPage(w http.ResponseWriter, r *http.Request) error {
	p, hd, action, err := h.actionTarget(r)
	if err != nil {
		return err
	}
	form := &web.Form{Values: url.Values{}}
	if err := h.prefill(r, p, hd, action, form.Values); err != nil {
		return err
	}
	return h.renderAction(w, r, http.StatusOK, p, hd, action, form, "")
}

func (h *Handlers) actionForm(w http.ResponseWriter, r *http.Request) error {
	p, hd, action, err := h.actionTarget(r)
	if err != nil {
		return err
	}
	if err := r.ParseForm(); err != nil {
		return fault.Malformed("The form could not be read.")
	}
	form := &web.Form{Values: r.PostForm}
	msg, err := h.submit(r, p, hd, action, r.PostForm)
	if err != nil {
		e := web.AsError(err)
		switch web.Status(e.Kind) {
		case http.StatusUnprocessableEntity, http.StatusBadRequest:
			for _, fe := range e.Fields {
				form.Errors = append(form.Errors, fault.FieldError{Field: htmlField(fe.Field), Message: fe.Message})
			}
			if len(form.Errors) == 0 {
				form.Errors = []fault.FieldError{{Field: "form", Message: e.Detail}}
			}
			return h.renderAction(w, r, http.StatusUnprocessableEntity, p, hd, action, form, "")
		case http.StatusConflict:
			return h.renderAction(w, r, web.Status(e.Kind), p, hd, action, form, e.Detail)
		}
		return err
	}
	return h.srv.Redirect(w, r, fmt.Sprintf("/returns/cases/%d", hd.ID), msg)
}

// htmlField maps an API field path to the form's input name.
func htmlField(f string) string {
	switch {
	case strings.HasPrefix(f, "scores."):
		return "score_" + strings.TrimPrefix(f, "scores.")
	case strings.HasPrefix(f, "support["):
		return "support"
	case strings.HasPrefix(f, "migrants["):
		rest := strings.TrimPrefix(f, "migrants[")
		n, field, ok := strings.Cut(rest, "].")
		if ok {
			return "m" + n + "_" + field
		}
		return "m0_given_name"
	case f == "migrants":
		return "m0_given_name"
	case strings.HasPrefix(f, "documents_held") || strings.HasPrefix(f, "scope["):
		return strings.SplitN(f, "[", 2)[0]
	}
	return f
}

func (h *Handlers) renderAction(w http.ResponseWriter, r *http.Request, status int, p *auth.Principal, hd *head, action string, form *web.Form, conflict string) error {
	d := actionData{ID: hd.ID, Reference: hd.Reference, Stage: hd.Stage, Action: action, Title: actionTitles[action], Form: form, Conflict: conflict, Submit: "Save"}
	if err := h.describe(r, p, hd, &d); err != nil {
		return err
	}
	form.Names = actionNames(d.Fields)
	return h.tmpl.Render(w, r, status, "action.html", d.Title+" – "+hd.Reference, d)
}

// actionNames labels an action form's fields in its error summary as the
// form labels them.
func actionNames(fields []fieldSpec) web.FieldNames {
	names := web.FieldNames{
		"support": {Label: "Support", ID: "f-support"},
		"form":    {Label: "This form", ID: "f-form"},
	}
	for _, f := range fields {
		if f.Name != "" && f.Label != "" {
			names[f.Name] = web.FieldName{Label: f.Label, ID: web.FieldID(f.Name)}
		}
	}
	return names
}

// statsData feeds the statistics page.
type statsData struct {
	S *Stats
}

func (h *Handlers) statsPage(w http.ResponseWriter, r *http.Request) error {
	if _, err := auth.Require(r.Context()); err != nil {
		return err
	}
	st, err := h.Svc.Stats(r.Context())
	if err != nil {
		return err
	}
	return h.tmpl.Render(w, r, http.StatusOK, "stats.html", "Return statistics", statsData{S: st})
}
