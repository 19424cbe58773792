package programmes

import (
	"embed"
	"encoding/json"
	"fmt"
	"html/template"
	"io/fs"
	"net/http"
	"net/url"
	"regexp"
	"strconv"
	"strings"

	"kompas/internal/gcm"
	"kompas/internal/platform/auth"
	"kompas/internal/platform/facts"
	"kompas/internal/platform/fault"
	"kompas/internal/platform/web"
)

//go:embed templates/*.html
var templateFiles embed.FS

func objectiveTitleOf(n int) string { return gcm.ObjectiveTitle(n) }

// NewHandlers wires the register's pages, API and navigation into srv;
// orgs lists the organisations (the accounts service).
func NewHandlers(srv *web.Server, reg *Register, orgs Orgs) *Handlers {
	sub, err := fs.Sub(templateFiles, "templates")
	if err != nil {
		panic(err)
	}
	h := &Handlers{Reg: reg, Orgs: orgs, srv: srv}
	h.tmpl = srv.Templates(sub, template.FuncMap{
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
	srv.Page("POST /initiatives", web.Op{Access: ruleCreate}, srv.SubmitForm(web.FormPage{Show: h.showCreate, Submit: h.submitCreate}))
	srv.Page("GET /initiatives/{id}", web.Op{Access: ruleRead}, h.showPage)
	srv.Page("GET /initiatives/{id}/edit", web.Op{Access: ruleChange}, h.editPage)
	srv.Page("POST /initiatives/{id}", web.Op{Access: ruleChange}, srv.SubmitForm(web.FormPage{Show: h.showUpdate, Submit: h.submitUpdate}))
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
	// The rows of the repeated fields (0 first), each list's filled rows
	// and a few empty ones.
	Partners, Results, Sources []int
	Conflict                   string
}

// The repeated fields of the form: each list's inputs, one value per row in
// each (so a row's fields share an index), with the list's name in errors.
var (
	partnerFields = []string{"partner_org", "partner_role"}
	resultFields  = []string{"result_indicator", "result_value", "result_unit", "result_date", "result_source"}
	sourceFields  = []string{"source_title", "source_url"}
	repeated      = map[string][]string{"partners": partnerFields, "results": resultFields, "sources": sourceFields}
)

// emptyRows is how many empty rows each list offers; "Add another" adds one.
const emptyRows = 2

// formNames are the labels of the initiative form's fields and the ids of
// their inputs, for the error summary.
var formNames = web.FieldNames{
	"title":               {Label: "Title", ID: "f-title"},
	"summary":             {Label: "Summary", ID: "f-summary"},
	"kind":                {Label: "Kind of initiative", ID: "f-kind"},
	"status":              {Label: "Status", ID: "f-status"},
	"lead":                {Label: "Lead ministry or agency", ID: "f-lead"},
	"start":               {Label: "Start", ID: "f-start"},
	"end":                 {Label: "End", ID: "f-end"},
	"countries":           {Label: "Countries", ID: "f-countries"},
	"countries[]":         {Label: "Country %d", ID: "f-countries"},
	"regions":             {Label: "Regions", ID: "f-regions"},
	"regions[]":           {Label: "Region %d", ID: "f-regions"},
	"objectives":          {Label: "GCM objectives", ID: "f-objectives"},
	"principles":          {Label: "Guiding principles", ID: "f-principles"},
	"pillars":             {Label: "Pillars of the national framework", ID: "f-pillars"},
	"partners":            {Label: "Partners", ID: "f-partners"},
	"partners[]":          {Label: "Partner %d", ID: "f-partners-%d-org"},
	"partners[].org":      {Label: "Partner %d: organisation", ID: "f-partners-%d-org"},
	"partners[].role":     {Label: "Partner %d: role", ID: "f-partners-%d-role"},
	"budget":              {Label: "Budget", ID: "f-budget-amount"},
	"budget.amount":       {Label: "Budget: amount", ID: "f-budget-amount"},
	"budget.currency":     {Label: "Budget: currency", ID: "f-budget-currency"},
	"results":             {Label: "Results", ID: "f-results"},
	"results[]":           {Label: "Result %d", ID: "f-results-%d-indicator"},
	"results[].indicator": {Label: "Result %d: indicator", ID: "f-results-%d-indicator"},
	"results[].value":     {Label: "Result %d: value", ID: "f-results-%d-value"},
	"results[].unit":      {Label: "Result %d: unit", ID: "f-results-%d-unit"},
	"results[].date":      {Label: "Result %d: date", ID: "f-results-%d-date"},
	"results[].source":    {Label: "Result %d: source", ID: "f-results-%d-source"},
	"sources":             {Label: "Sources", ID: "f-sources"},
	"sources[]":           {Label: "Source %d", ID: "f-sources-%d-title"},
	"sources[].title":     {Label: "Source %d: title", ID: "f-sources-%d-title"},
	"sources[].url":       {Label: "Source %d: web address", ID: "f-sources-%d-url"},
	"report_section":      {Label: "Section of the review", ID: "f-report_section"},
	"version":             {Label: "Version", ID: "f-version"},
}

func options(codes []string) []option {
	out := make([]option, len(codes))
	for i, c := range codes {
		out[i] = option{c, web.Label(c)}
	}
	return out
}

// formData is what the form page needs; adding names the list that gets
// one more row ("" for none).
func (h *Handlers) formData(r *http.Request, form *web.Form, adding string) (*formData, error) {
	fw, err := h.Reg.defaultFramework()
	if err != nil {
		return nil, err
	}
	orgs, err := h.Orgs.Orgs(r.Context())
	if err != nil {
		return nil, err
	}
	form.Names = formNames
	d := &formData{Form: form, Kinds: options(Kinds), Statuses: options(Statuses), Roles: options(PartnerRoles),
		Objectives: gcm.Objectives(), Principles: gcm.Principles(), Pillars: fw.Pillars}
	for _, o := range orgs {
		d.Orgs = append(d.Orgs, option{o.Slug, o.Name})
	}
	rows := func(list string) []int {
		n := 0
		for _, name := range repeated[list] {
			n = max(n, len(form.Values[name]))
		}
		if list == adding {
			n++
		} else {
			n += emptyRows
		}
		out := make([]int, n)
		for i := range out {
			out[i] = i
		}
		return out
	}
	d.Partners, d.Results, d.Sources = rows("partners"), rows("results"), rows("sources")
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
	for _, res := range it.Results {
		for name, val := range map[string]string{"result_indicator": res.Indicator, "result_value": string(res.Value), "result_unit": res.Unit,
			"result_date": res.Date, "result_source": res.Source} {
			v.Add(name, val)
		}
	}
	for _, s := range it.Sources {
		v.Add("source_title", s.Title)
		v.Add("source_url", s.URL)
	}
	return v
}

// filledRows returns the indices of the rows of a repeated field with
// anything typed in them.
func filledRows(v url.Values, fields []string) []int {
	n := 0
	for _, name := range fields {
		n = max(n, len(v[name]))
	}
	var out []int
	for i := 0; i < n; i++ {
		for _, name := range fields {
			if i < len(v[name]) && strings.TrimSpace(v[name][i]) != "" {
				out = append(out, i)
				break
			}
		}
	}
	return out
}

// compact drops the empty rows of the repeated fields, so that row k of
// the form is item k of the input and an error about results[k] is shown
// at row k.
func compact(v url.Values) url.Values {
	out := url.Values{}
	for k, vals := range v {
		out[k] = vals
	}
	for _, fields := range repeated {
		rows := filledRows(v, fields)
		for _, name := range fields {
			vals := make([]string, len(rows))
			for j, i := range rows {
				if i < len(v[name]) {
					vals[j] = v[name][i]
				}
			}
			if len(vals) == 0 {
				delete(out, name)
			} else {
				out[name] = vals
			}
		}
	}
	return out
}

// inputOf reads the form into an Input. Rows of the repeated fields left
// empty are skipped.
func inputOf(v url.Values) (Input, []fault.FieldError) {
	var errs []fault.FieldError
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
				errs = append(errs, fault.FieldError{Field: pair.name, Message: "must be numbers"})
				continue
			}
			*pair.dst = append(*pair.dst, n)
		}
	}
	at := func(name string, i int) string { return (&web.Form{Values: v}).At(name, i) }
	for _, i := range filledRows(v, partnerFields) {
		in.Partners = append(in.Partners, Partner{Org: at("partner_org", i), Role: at("partner_role", i)})
	}
	if a, c := strings.TrimSpace(v.Get("budget_amount")), strings.TrimSpace(v.Get("budget_currency")); a != "" {
		if c == "" {
			c = "EUR"
		}
		in.Budget = &Money{Amount: json.Number(strings.ReplaceAll(a, ",", "")), Currency: c}
	}
	for _, i := range filledRows(v, resultFields) {
		in.Results = append(in.Results, Result{Indicator: at("result_indicator", i), Value: Value(strings.TrimSpace(at("result_value", i))),
			Unit: at("result_unit", i), Date: strings.TrimSpace(at("result_date", i)), Source: at("result_source", i)})
	}
	for _, i := range filledRows(v, sourceFields) {
		in.Sources = append(in.Sources, Source{Title: at("source_title", i), URL: strings.TrimSpace(at("source_url", i))})
	}
	return in, errs
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
	p := auth.Caller(r.Context())
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
	orgs, err := h.Orgs.Orgs(r.Context())
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
	d, err := h.formData(r, &web.Form{Values: url.Values{"status": {"active"}, "budget_currency": {"EUR"}}}, "")
	if err != nil {
		return err
	}
	d.Action, d.Heading = "/initiatives", "Add an initiative"
	return h.tmpl.Render(w, r, http.StatusOK, "form.html", d.Heading, d)
}

// renderForm shows the form again: after an error (with the empty rows
// dropped, so each error sits at its row), or with one more row of the
// list adding names.
func (h *Handlers) renderForm(w http.ResponseWriter, r *http.Request, status int, form *web.Form, id int64, conflict, adding string) error {
	if adding == "" {
		form.Values = compact(form.Values)
	}
	form.Errors = forThePage(form.Errors)
	d, err := h.formData(r, form, adding)
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

// chosenFromList matches the paths of the form's fields that are chosen from
// a list (selects).
var chosenFromList = regexp.MustCompile(`^(kind|status|partners\[\d+\]\.role)$`)

// forThePage rewrites the API's messages that list codes for a field the
// page offers as a list ("must be one of policy_measure, law, …") into
// what the person can do about it; the API keeps its message.
func forThePage(fields []fault.FieldError) []fault.FieldError {
	out := make([]fault.FieldError, len(fields))
	for i, f := range fields {
		if chosenFromList.MatchString(f.Field) && strings.HasPrefix(f.Message, "must be one of ") {
			f.Message = "choose one from the list"
		}
		out[i] = f
	}
	return out
}

// addingRow names the list whose "Add another" button sent the form, or
// "": such a post only shows the form again with one more row, and saves
// nothing.
func addingRow(v url.Values) string {
	if list := v.Get("add"); repeated[list] != nil {
		return list
	}
	return ""
}

// The initiative form is written the one way (web.FormPage): Submit reads
// and saves, and the adapter calls Show again with what was typed and every
// error on a 422 or 409. An "Add another" post only shows the form again
// with one more row of that list, saving nothing.

func (h *Handlers) showCreate(w http.ResponseWriter, r *http.Request, f *web.Form) error {
	return h.renderForm(w, r, f.Status, f, 0, "", "")
}

func (h *Handlers) submitCreate(w http.ResponseWriter, r *http.Request, f *web.Form) error {
	if list := addingRow(f.Values); list != "" {
		return h.renderForm(w, r, http.StatusOK, f, 0, "", list)
	}
	in, errs := inputOf(f.Values)
	if len(errs) > 0 {
		return fault.Invalid(errs...)
	}
	it, err := h.Reg.Create(r.Context(), auth.Caller(r.Context()), in)
	if err != nil {
		return err
	}
	return h.srv.Redirect(w, r, fmt.Sprintf("/initiatives/%d", it.ID), "The initiative was added to the register.")
}

type showData struct {
	It      *Initiative
	CanEdit bool
}

func (h *Handlers) showPage(w http.ResponseWriter, r *http.Request) error {
	p := auth.Caller(r.Context())
	id, err := web.PathID(r, "id", "Initiative")
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
	p := auth.Caller(r.Context())
	id, err := web.PathID(r, "id", "Initiative")
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
	return h.renderForm(w, r, http.StatusOK, &web.Form{Values: valuesOf(it)}, it.ID, "", "")
}

func (h *Handlers) showUpdate(w http.ResponseWriter, r *http.Request, f *web.Form) error {
	_, it, err := h.editable(r)
	if err != nil {
		return err
	}
	msg := ""
	if f.Status == http.StatusConflict {
		// Keep what the user typed; let them save over the newer version
		// knowingly.
		f.Values.Set("version", strconv.Itoa(it.Version))
		f.Errors = []fault.FieldError{{Field: "version", Message: "someone else changed this initiative while you were editing"}}
		msg = fmt.Sprintf("Someone else changed this initiative on %s (now version %d). Your changes are below and have not been saved. Compare with the current version, then save again to replace it.",
			it.UpdatedAt.UTC().Format("2 Jan 2006 15:04 MST"), it.Version)
	}
	return h.renderForm(w, r, f.Status, f, it.ID, msg, "")
}

func (h *Handlers) submitUpdate(w http.ResponseWriter, r *http.Request, f *web.Form) error {
	p, it, err := h.editable(r)
	if err != nil {
		return err
	}
	if list := addingRow(f.Values); list != "" {
		return h.renderForm(w, r, http.StatusOK, f, it.ID, "", list)
	}
	in, errs := inputOf(f.Values)
	if len(errs) > 0 {
		return fault.Invalid(errs...)
	}
	if _, err := h.Reg.Update(r.Context(), p, it.ID, in); err != nil {
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
		return fault.Malformed("The form could not be read.")
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
	return h.tmpl.Render(w, r, http.StatusOK, "import.html", "Import initiatives", importData{Form: &web.Form{}})
}

func (h *Handlers) importForm(w http.ResponseWriter, r *http.Request) error {
	p := auth.Caller(r.Context())
	form := &web.Form{}
	file, _, err := r.FormFile("file")
	if err != nil {
		if tooLarge := web.BodyTooLarge(r); tooLarge != nil {
			return h.renderTooLarge(w, r, tooLarge)
		}
		form.Errors = []fault.FieldError{{Field: "file", Message: "Choose a CSV file to import"}}
		return h.tmpl.Render(w, r, http.StatusUnprocessableEntity, "import.html", "Import initiatives", importData{Form: form})
	}
	defer file.Close()
	res, err := h.Reg.ImportCSV(r.Context(), p, file)
	if err != nil {
		e := web.AsError(err)
		if web.Status(e.Kind) >= 500 || web.Status(e.Kind) == http.StatusForbidden {
			return err
		}
		form.Errors = e.Fields
		if len(form.Errors) == 0 {
			form.Errors = []fault.FieldError{{Field: "file", Message: e.Detail}}
		}
		return h.tmpl.Render(w, r, web.Status(e.Kind), "import.html", "Import initiatives", importData{Form: form})
	}
	return h.tmpl.Render(w, r, http.StatusOK, "import.html", "Import initiatives", importData{Form: form, Result: &res})
}

// renderTooLarge shows the import form again with the 413 beside the file
// input.
func (h *Handlers) renderTooLarge(w http.ResponseWriter, r *http.Request, e *fault.Error) error {
	return h.tmpl.Render(w, r, web.Status(e.Kind), "import.html", "Import initiatives", importData{Form: &web.Form{Errors: e.Fields}})
}
