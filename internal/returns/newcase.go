package returns

import (
	"context"
	"fmt"
	"net/http"
	"net/url"
	"strconv"
	"strings"

	"kompas/internal/platform/auth"
	"kompas/internal/platform/fault"
	"kompas/internal/platform/web"
)

// maxFormRows is how many people the registration form offers.
const maxFormRows = 4

// newCaseNames label the registration form's fields in its error summary:
// "Family member 2: date of birth", not m2_birth_date.
var newCaseNames = func() web.FieldNames {
	names := web.FieldNames{
		"country_of_return":   {Label: "Country of return", ID: "f-country_of_return"},
		"counselling_org":     {Label: "Counselling organisation", ID: "f-counselling_org"},
		"programme":           {Label: "Programme", ID: "f-programme"},
		"chosen_on":           {Label: "Date the migrant chose", ID: "f-chosen_on"},
		"immigration_history": {Label: "Immigration history", ID: "f-immigration_history"},
	}
	fields := map[string]string{"given_name": "given name", "family_name": "family name", "birth_date": "date of birth", "sex": "sex",
		"nationality": "nationality", "relationship": "relationship to the principal", "documents_held": "documents held", "vulnerabilities": "vulnerabilities"}
	for i := 0; i < maxFormRows; i++ {
		person := "The principal"
		if i > 0 {
			person = fmt.Sprintf("Family member %d", i)
		}
		for f, label := range fields {
			name := fmt.Sprintf("m%d_%s", i, f)
			names[name] = web.FieldName{Label: person + ": " + label, ID: web.FieldID(name)}
		}
	}
	return names
}()

type newData struct {
	Form            *web.Form
	Orgs            []option
	Programmes      []option
	Sexes           []option
	Relationships   []option
	Documents       []option
	Vulnerabilities []option
	Rows            []int
}

func (h *Handlers) programmeOptions(ctx context.Context) ([]option, error) {
	ps, err := h.Svc.Programmes(ctx)
	if err != nil {
		return nil, err
	}
	out := make([]option, len(ps))
	for i, p := range ps {
		out[i] = option{p.Code, p.Name}
	}
	return out, nil
}

func (h *Handlers) renderNew(w http.ResponseWriter, r *http.Request, status int, form *web.Form) error {
	counsellors, err := h.Svc.CounsellingOrgs(r.Context())
	if err != nil {
		return err
	}
	orgs := make([]option, len(counsellors))
	for i, o := range counsellors {
		orgs[i] = option{o.Slug, o.Name}
	}
	progs, err := h.programmeOptions(r.Context())
	if err != nil {
		return err
	}
	form.Names = newCaseNames
	d := newData{Form: form, Orgs: orgs, Programmes: progs, Sexes: options(Sexes), Relationships: options(Relationships[1:]),
		Documents: options(DocumentKinds), Vulnerabilities: options(Vulnerabilities)}
	for i := 0; i < maxFormRows; i++ {
		d.Rows = append(d.Rows, i)
	}
	return h.tmpl.Render(w, r, status, "new.html", "Register a return case", d)
}

func (h *Handlers) newPage(w http.ResponseWriter, r *http.Request) error {
	p := auth.Caller(r.Context())
	v := url.Values{"chosen_on": {today(h.Svc.now())}}
	switch p.Role {
	case auth.RoleCounsellor:
		v.Set("counselling_org", p.OrgSlug)
		v.Set("programme", "national")
	case auth.RoleReturnOfficer:
		v.Set("counselling_org", p.OrgSlug)
		v.Set("programme", "iom_return")
	default:
		v.Set("programme", "national")
	}
	return h.renderNew(w, r, http.StatusOK, &web.Form{Values: v})
}

func (h *Handlers) createForm(w http.ResponseWriter, r *http.Request) error {
	p := auth.Caller(r.Context())
	if err := r.ParseForm(); err != nil {
		return fault.Malformed("The form could not be read.")
	}
	v := r.PostForm
	in := CreateInput{CountryOfReturn: v.Get("country_of_return"), CounsellingOrg: v.Get("counselling_org"), Programme: v.Get("programme"),
		ChosenOn: v.Get("chosen_on"), ImmigrationHistory: v.Get("immigration_history")}
	var rowOf []int
	for i := 0; i < maxFormRows; i++ {
		k := func(f string) string { return v.Get(fmt.Sprintf("m%d_%s", i, f)) }
		m := MigrantInput{GivenName: k("given_name"), FamilyName: k("family_name"), BirthDate: k("birth_date"), Sex: k("sex"),
			Nationality: k("nationality"), Relationship: k("relationship"),
			DocumentsHeld: v[fmt.Sprintf("m%d_documents_held", i)], Vulnerabilities: v[fmt.Sprintf("m%d_vulnerabilities", i)]}
		if i > 0 && strings.TrimSpace(m.GivenName+m.FamilyName+m.BirthDate+m.Nationality) == "" {
			continue
		}
		in.Migrants = append(in.Migrants, m)
		rowOf = append(rowOf, i)
	}
	out, err := h.Svc.Create(r.Context(), p, in)
	if err != nil {
		e := web.AsError(err)
		if web.Status(e.Kind) != http.StatusUnprocessableEntity {
			return err
		}
		form := &web.Form{Values: v}
		for _, fe := range e.Fields {
			name := fe.Field
			if rest, ok := strings.CutPrefix(name, "migrants["); ok {
				if n, field, ok := strings.Cut(rest, "]."); ok {
					k, _ := strconv.Atoi(n)
					if k < len(rowOf) {
						k = rowOf[k]
					}
					field, _, _ = strings.Cut(field, "[")
					name = fmt.Sprintf("m%d_%s", k, field)
				}
			} else {
				name = htmlField(name)
			}
			form.Errors = append(form.Errors, fault.FieldError{Field: name, Message: fe.Message})
		}
		return h.renderNew(w, r, web.Status(e.Kind), form)
	}
	return h.srv.Redirect(w, r, fmt.Sprintf("/returns/cases/%d", out.ID), "Case "+out.Reference+" was registered.")
}
