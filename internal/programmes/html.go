package programmes

import (
	"embed"
	"encoding/json"
	"fmt"
	"html/template"
	"io/fs"
	"net/http"
	"net/url"
	"strconv"
	"strings"

	"kompas/internal/gcm"
	"kompas/internal/platform/auth"
	"kompas/internal/platform/facts"
	"kompas/internal/platform/geo"
	"kompas/internal/platform/web"
)

//go:embed templates/*.html
var templateFiles embed.FS

func objectiveTitleOf(n int) string { return gcm.ObjectiveTitle(n) }

// NewHandlers wires the register's pages, API and navigation into srv.
func NewHandlers(srv *web.Server, reg *Register) *Handlers {
	sub, err := fs.Sub(templateFiles, "templates")
	if err != nil {
		panic(err)
	}
	h := &Handlers{Reg: reg, srv: srv}
	h.tmpl = srv.Templates(sub, template.FuncMap{
		"label":          Label,
		"country":        geo.Name,
		"objectiveTitle": gcm.ObjectiveTitle,
		"principleTitle": func(l string) string {
			for _, p := range gcm.Principles() {
				if p.Letter == l {
					return p.Title
				}
			}
			return l
		},
		"money": func(m *Money) string {
			if m == nil {
				return ""
			}
			return m.Currency + " " + facts.GroupDigits(string(m.Amount))
		},
		"amount": facts.GroupDigits,
	})
	srv.AddNav(
		web.NavItem{Label: "Register", Path: "/initiatives", Order: 10},
		web.NavItem{Label: "Coverage", Path: "/coverage", Order: 11},
		web.NavItem{Label: "Money", Path: "/money", Order: 12},
	)
	srv.Page("GET /initiatives", web.Op{Access: ruleRead}, h.listPage)
	srv.Page("GET /initiatives/new", web.Op{Access: ruleCreate}, h.newPage)
	srv.Page("POST /initiatives", web.Op{Access: ruleCreate}, h.createForm)
	srv.Page("GET /initiatives/{id}", web.Op{Access: ruleRead}, h.showPage)
	srv.Page("GET /initiatives/{id}/edit", web.Op{Access: ruleChange}, h.editPage)
	srv.Page("POST /initiatives/{id}", web.Op{Access: ruleChange}, h.updateForm)
	srv.Page("GET /initiatives/{id}/delete", web.Op{Access: ruleChange}, h.deletePage)
	srv.Page("POST /initiatives/{id}/delete", web.Op{Access: ruleChange}, h.deleteForm)
	srv.Page("GET /initiatives/export.csv", web.Op{Access: ruleRead}, h.exportCSV)
	srv.Page("GET /initiatives/import", web.Op{Access: ruleCreate}, h.importPage)
	srv.Page("POST /initiatives/import", web.Op{Access: ruleCreate, BodyLimit: maxImport + (1 << 20)}, h.importUploadForm)
	srv.Page("GET /coverage", web.Op{Access: ruleRead}, h.coveragePage)
	srv.Page("GET /money", web.Op{Access: ruleRead}, h.moneyPage)
	h.registerAPI()
	h.registerXLSX()
	return h
}

type option struct {
	Value, Label string
}

type formData struct {
	Form       *web.Form
	Action     string
	Heading    string
	ID         int64
	Kinds      []option
	Statuses   []option
	Roles      []option
	Orgs       []option
	Objectives []gcm.Objective
	Principles []gcm.Principle
	Pillars    []gcm.Pillar
	PartnerRow []int
	Conflict   string
}

func options(codes []string) []option {
	out := make([]option, len(codes))
	for i, c := range codes {
		out[i] = option{c, Label(c)}
	}
	return out
}

func (h *Handlers) formData(r *http.Request, form *web.Form) (*formData, error) {
	fw, err := h.Reg.defaultFramework()
	if err != nil {
		return nil, err
	}
	orgs, err := (&auth.Service{DB: h.Reg.DB}).Orgs(r.Context())
	if err != nil {
		return nil, err
	}
	d := &formData{Form: form, Kinds: options(Kinds), Statuses: options(Statuses), Roles: options(PartnerRoles),
		Objectives: gcm.Objectives(), Principles: gcm.Principles(), Pillars: fw.Pillars}
	for _, o := range orgs {
		d.Orgs = append(d.Orgs, option{o.Slug, o.Name})
	}
	n := len(form.Values["partner_org"]) + 3
	for i := 0; i < n; i++ {
		d.PartnerRow = append(d.PartnerRow, i)
	}
	return d, nil
}

// valuesOf fills form values from an initiative, for the edit page.
func valuesOf(it *Initiative) url.Values {
	v := url.Values{}
	v.Set("title", it.Title)
	v.Set("summary", it.Summary)
	v.Set("kind", it.Kind)
	v.Set("status", it.Status)
	v.Set("lead", it.Lead)
	v.Set("start", it.Start)
	v.Set("end", it.End)
	v.Set("countries", strings.Join(it.Countries, ", "))
	v.Set("regions", strings.Join(it.Regions, "; "))
	v.Set("report_section", it.ReportSection)
	v.Set("version", strconv.Itoa(it.Version))
	for _, n := range it.Objectives {
		v.Add("objectives", strconv.Itoa(n))
	}
	for _, p := range it.Principles {
		v.Add("principles", p)
	}
	for _, n := range it.Pillars {
		v.Add("pillars", strconv.Itoa(n))
	}
	for _, p := range it.Partners {
		v.Add("partner_org", p.Org)
		v.Add("partner_role", p.Role)
	}
	if it.Budget != nil {
		v.Set("budget_amount", string(it.Budget.Amount))
		v.Set("budget_currency", it.Budget.Currency)
	}
	var lines []string
	for _, res := range it.Results {
		lines = append(lines, joinFields(res.Indicator, string(res.Value), res.Unit, res.Date, res.Source))
	}
	v.Set("results", strings.Join(lines, "\n"))
	lines = nil
	for _, s := range it.Sources {
		lines = append(lines, joinFields(s.Title, s.URL))
	}
	v.Set("sources", strings.Join(lines, "\n"))
	return v
}

// inputOf reads the form into an Input; lines that cannot be split are
// field errors of their own.
func inputOf(v url.Values) (Input, []web.FieldError) {
	var errs []web.FieldError
	in := Input{Title: v.Get("title"), Summary: v.Get("summary"), Kind: v.Get("kind"), Status: v.Get("status"), Lead: v.Get("lead"),
		Start: v.Get("start"), End: v.Get("end"), ReportSection: v.Get("report_section"), Principles: v["principles"],
		Countries: strings.FieldsFunc(v.Get("countries"), func(r rune) bool { return r == ',' || r == ';' || r == ' ' || r == '\n' || r == '\r' || r == '\t' }),
		Regions:   splitList(v.Get("regions"))}
	in.Version, _ = strconv.Atoi(v.Get("version"))
	for _, pair := range []struct {
		name string
		dst  *[]int
	}{{"objectives", &in.Objectives}, {"pillars", &in.Pillars}} {
		for _, s := range v[pair.name] {
			n, err := strconv.Atoi(s)
			if err != nil {
				errs = append(errs, web.FieldError{Field: pair.name, Message: "must be numbers"})
				continue
			}
			*pair.dst = append(*pair.dst, n)
		}
	}
	orgs, roles := v["partner_org"], v["partner_role"]
	for i, org := range orgs {
		role := ""
		if i < len(roles) {
			role = roles[i]
		}
		if org == "" && role == "" {
			continue
		}
		in.Partners = append(in.Partners, Partner{Org: org, Role: role})
	}
	if a, c := strings.TrimSpace(v.Get("budget_amount")), strings.TrimSpace(v.Get("budget_currency")); a != "" {
		if c == "" {
			c = "EUR"
		}
		in.Budget = &Money{Amount: json.Number(strings.ReplaceAll(a, ",", "")), Currency: c}
	}
	for i, line := range nonEmptyLines(v.Get("results")) {
		parts := splitFields(line)
		if len(parts) < 2 || len(parts) > 5 {
			errs = append(errs, web.FieldError{Field: fmt.Sprintf("results[%d]", i), Message: "write each result as: indicator | value | unit | date | source"})
			continue
		}
		for len(parts) < 5 {
			parts = append(parts, "")
		}
		in.Results = append(in.Results, Result{Indicator: parts[0], Value: Value(strings.TrimSpace(parts[1])), Unit: parts[2], Date: strings.TrimSpace(parts[3]), Source: parts[4]})
	}
	for i, line := range nonEmptyLines(v.Get("sources")) {
		parts := splitFields(line)
		if strings.TrimSpace(parts[0]) == "" || len(parts) > 2 {
			errs = append(errs, web.FieldError{Field: fmt.Sprintf("sources[%d]", i), Message: "write each source as: title | address"})
			continue
		}
		u := ""
		if len(parts) == 2 {
			u = strings.TrimSpace(parts[1])
		}
		in.Sources = append(in.Sources, Source{Title: parts[0], URL: u})
	}
	return in, errs
}

// fieldEscaper writes a field of the results and sources boxes so that a
// "|" inside it is not taken for the separator.
var fieldEscaper = strings.NewReplacer(`\`, `\\`, `|`, `\|`)

func joinFields(fields ...string) string {
	for i, f := range fields {
		fields[i] = fieldEscaper.Replace(f)
	}
	return strings.Join(fields, " | ")
}

// splitFields splits a line of the results or sources box at each "|" that
// is not written as "\|" ("\\" is a backslash; any other backslash is
// itself).
func splitFields(line string) []string {
	var parts []string
	var b strings.Builder
	for i := 0; i < len(line); i++ {
		switch c := line[i]; {
		case c == '\\' && i+1 < len(line) && (line[i+1] == '|' || line[i+1] == '\\'):
			b.WriteByte(line[i+1])
			i++
		case c == '|':
			parts = append(parts, b.String())
			b.Reset()
		default:
			b.WriteByte(c)
		}
	}
	return append(parts, b.String())
}

func nonEmptyLines(s string) []string {
	var out []string
	for _, l := range strings.Split(s, "\n") {
		if l = strings.TrimSpace(l); l != "" {
			out = append(out, l)
		}
	}
	return out
}

type listData struct {
	Page       *Page
	Filter     Filter
	Form       *web.Form
	Kinds      []option
	Statuses   []option
	Objectives []gcm.Objective
	Pillars    []gcm.Pillar
	Orgs       []option
	Pager      pager
	CanCreate  bool
	ExportQS   template.URL
}

type pager struct {
	Page, Pages int
	Prev, Next  template.URL
}

func (h *Handlers) listPage(w http.ResponseWriter, r *http.Request) error {
	p, err := auth.Require(r.Context())
	if err != nil {
		return err
	}
	form := &web.Form{Values: r.URL.Query()}
	f, ferr := ParseFilter(r.URL.Query())
	status := http.StatusOK
	if ferr != nil {
		form.Errors = web.AsError(ferr).Fields
		f = Filter{Page: 1, PerPage: 25}
		status = http.StatusBadRequest
	}
	page, err := h.Reg.List(r.Context(), f)
	if err != nil {
		return err
	}
	fw, err := h.Reg.defaultFramework()
	if err != nil {
		return err
	}
	orgs, err := (&auth.Service{DB: h.Reg.DB}).Orgs(r.Context())
	if err != nil {
		return err
	}
	d := listData{Page: page, Filter: f, Form: form, Kinds: options(Kinds), Statuses: options(Statuses), Objectives: gcm.Objectives(), Pillars: fw.Pillars,
		CanCreate: ruleCreate.Allows(p, auth.RelNone), ExportQS: template.URL(f.Values().Encode())}
	for _, o := range orgs {
		d.Orgs = append(d.Orgs, option{o.Slug, o.Name})
	}
	d.Pager = pager{Page: f.Page, Pages: max(1, (page.Total+f.PerPage-1)/f.PerPage)}
	if f.Page > 1 {
		v := f.Values()
		v.Set("page", strconv.Itoa(f.Page-1))
		d.Pager.Prev = template.URL(v.Encode())
	}
	if f.Page < d.Pager.Pages {
		v := f.Values()
		v.Set("page", strconv.Itoa(f.Page+1))
		d.Pager.Next = template.URL(v.Encode())
	}
	return h.tmpl.Render(w, r, status, "list.html", "Register of initiatives", d)
}

func (h *Handlers) newPage(w http.ResponseWriter, r *http.Request) error {
	_, err := auth.RequireRule(r.Context(), ruleCreate)
	if err != nil {
		return err
	}
	d, err := h.formData(r, &web.Form{Values: url.Values{"status": {"active"}, "budget_currency": {"EUR"}}})
	if err != nil {
		return err
	}
	d.Action, d.Heading = "/initiatives", "Add an initiative"
	return h.tmpl.Render(w, r, http.StatusOK, "form.html", d.Heading, d)
}

func (h *Handlers) renderForm(w http.ResponseWriter, r *http.Request, status int, form *web.Form, id int64, conflict string) error {
	d, err := h.formData(r, form)
	if err != nil {
		return err
	}
	d.ID, d.Conflict = id, conflict
	if id == 0 {
		d.Action, d.Heading = "/initiatives", "Add an initiative"
	} else {
		d.Action, d.Heading = fmt.Sprintf("/initiatives/%d", id), "Change the initiative"
	}
	return h.tmpl.Render(w, r, status, "form.html", d.Heading, d)
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
		return h.renderForm(w, r, http.StatusUnprocessableEntity, form, 0, "")
	}
	it, err := h.Reg.Create(r.Context(), p, in)
	if err != nil {
		if e := web.AsError(err); e.Status == http.StatusUnprocessableEntity {
			form.Errors = e.Fields
			return h.renderForm(w, r, e.Status, form, 0, "")
		}
		return err
	}
	return h.srv.Redirect(w, r, fmt.Sprintf("/initiatives/%d", it.ID), "The initiative was added to the register.")
}

type showData struct {
	It      *Initiative
	CanEdit bool
}

func (h *Handlers) showPage(w http.ResponseWriter, r *http.Request) error {
	p, err := auth.Require(r.Context())
	if err != nil {
		return err
	}
	id, err := pathID(r)
	if err != nil {
		return err
	}
	it, err := h.Reg.Get(r.Context(), id)
	if err != nil {
		return err
	}
	return h.tmpl.Render(w, r, http.StatusOK, "show.html", it.Title, showData{It: it, CanEdit: canEdit(p, it) == nil})
}

func (h *Handlers) editable(r *http.Request) (*auth.Principal, *Initiative, error) {
	p, err := auth.Require(r.Context())
	if err != nil {
		return nil, nil, err
	}
	id, err := pathID(r)
	if err != nil {
		return nil, nil, err
	}
	it, err := h.Reg.Get(r.Context(), id)
	if err != nil {
		return nil, nil, err
	}
	if err := canEdit(p, it); err != nil {
		return nil, nil, err
	}
	return p, it, nil
}

func (h *Handlers) editPage(w http.ResponseWriter, r *http.Request) error {
	_, it, err := h.editable(r)
	if err != nil {
		return err
	}
	return h.renderForm(w, r, http.StatusOK, &web.Form{Values: valuesOf(it)}, it.ID, "")
}

func (h *Handlers) updateForm(w http.ResponseWriter, r *http.Request) error {
	p, it, err := h.editable(r)
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
		return h.renderForm(w, r, http.StatusUnprocessableEntity, form, it.ID, "")
	}
	_, err = h.Reg.Update(r.Context(), p, it.ID, in)
	if err != nil {
		e := web.AsError(err)
		switch e.Status {
		case http.StatusUnprocessableEntity:
			form.Errors = e.Fields
			return h.renderForm(w, r, e.Status, form, it.ID, "")
		case http.StatusConflict:
			// Keep what the user typed; let them save over the newer
			// version knowingly.
			cur, gerr := h.Reg.Get(r.Context(), it.ID)
			if gerr != nil {
				return gerr
			}
			form.Values.Set("version", strconv.Itoa(cur.Version))
			form.Errors = []web.FieldError{{Field: "version", Message: "someone else changed this initiative while you were editing"}}
			msg := fmt.Sprintf("Someone else changed this initiative on %s (now version %d). Your changes are below and have not been saved. Compare with the current version, then save again to replace it.",
				cur.UpdatedAt.UTC().Format("2 Jan 2006 15:04 MST"), cur.Version)
			return h.renderForm(w, r, http.StatusConflict, form, it.ID, msg)
		}
		return err
	}
	return h.srv.Redirect(w, r, fmt.Sprintf("/initiatives/%d", it.ID), "Your changes were saved.")
}

func (h *Handlers) deletePage(w http.ResponseWriter, r *http.Request) error {
	_, it, err := h.editable(r)
	if err != nil {
		return err
	}
	return h.tmpl.Render(w, r, http.StatusOK, "delete.html", "Delete "+it.Title, it)
}

func (h *Handlers) deleteForm(w http.ResponseWriter, r *http.Request) error {
	p, it, err := h.editable(r)
	if err != nil {
		return err
	}
	if err := r.ParseForm(); err != nil {
		return web.BadRequest("The form could not be read.")
	}
	v, _ := strconv.Atoi(r.PostForm.Get("version"))
	if err := h.Reg.Delete(r.Context(), p, it.ID, v); err != nil {
		return err
	}
	return h.srv.Redirect(w, r, "/initiatives", fmt.Sprintf("%q was deleted.", it.Title))
}

type coverageData struct {
	Rows    []CoverageRow
	Pillars []gcm.Pillar
	Gaps    int
}

func (h *Handlers) coveragePage(w http.ResponseWriter, r *http.Request) error {
	if _, err := auth.Require(r.Context()); err != nil {
		return err
	}
	rows, _, err := h.coverageRows(r)
	if err != nil {
		return err
	}
	fw, err := h.Reg.defaultFramework()
	if err != nil {
		return err
	}
	d := coverageData{Rows: rows, Pillars: fw.Pillars}
	for _, row := range rows {
		if row.Total == 0 {
			d.Gaps++
		}
	}
	return h.tmpl.Render(w, r, http.StatusOK, "coverage.html", "Coverage of the GCM objectives", d)
}

type moneyData struct {
	By, Title string
	Rows      []MoneyRow
	Max       int64
}

func (h *Handlers) moneyPage(w http.ResponseWriter, r *http.Request) error {
	if _, err := auth.Require(r.Context()); err != nil {
		return err
	}
	var sections []moneyData
	for _, by := range []string{"objective", "partner", "country"} {
		rows, err := h.Reg.Money(r.Context(), by)
		if err != nil {
			return err
		}
		d := moneyData{By: by, Title: "By " + by, Rows: rows}
		for _, row := range rows {
			d.Max = max(d.Max, row.AmountMinor)
		}
		sections = append(sections, d)
	}
	return h.tmpl.Render(w, r, http.StatusOK, "money.html", "Money", sections)
}

type importData struct {
	Form   *web.Form
	Result *ImportResult
}

func (h *Handlers) importPage(w http.ResponseWriter, r *http.Request) error {
	_, err := auth.RequireRule(r.Context(), ruleCreate)
	if err != nil {
		return err
	}
	return h.tmpl.Render(w, r, http.StatusOK, "import.html", "Import initiatives", importData{Form: &web.Form{}})
}

func (h *Handlers) importForm(w http.ResponseWriter, r *http.Request) error {
	p, err := auth.RequireRule(r.Context(), ruleCreate)
	if err != nil {
		return err
	}
	form := &web.Form{}
	file, _, err := r.FormFile("file")
	if err != nil {
		if tooLarge := web.BodyTooLarge(r); tooLarge != nil {
			return h.renderTooLarge(w, r, tooLarge)
		}
		form.Errors = []web.FieldError{{Field: "file", Message: "Choose a CSV file to import"}}
		return h.tmpl.Render(w, r, http.StatusUnprocessableEntity, "import.html", "Import initiatives", importData{Form: form})
	}
	defer file.Close()
	res, err := h.Reg.ImportCSV(r.Context(), p, file)
	if err != nil {
		e := web.AsError(err)
		if e.Status >= 500 || e.Status == http.StatusForbidden {
			return err
		}
		form.Errors = e.Fields
		if len(form.Errors) == 0 {
			form.Errors = []web.FieldError{{Field: "file", Message: e.Detail}}
		}
		return h.tmpl.Render(w, r, e.Status, "import.html", "Import initiatives", importData{Form: form})
	}
	return h.tmpl.Render(w, r, http.StatusOK, "import.html", "Import initiatives", importData{Form: form, Result: &res})
}

// renderTooLarge shows the import form again with the 413 beside the file
// input.
func (h *Handlers) renderTooLarge(w http.ResponseWriter, r *http.Request, e *web.Error) error {
	return h.tmpl.Render(w, r, e.Status, "import.html", "Import initiatives", importData{Form: &web.Form{Errors: e.Fields}})
}
