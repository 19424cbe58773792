package returns

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"regexp"
	"strconv"
	"strings"

	"kompas/internal/platform/audit"
	"kompas/internal/platform/auth"
	"kompas/internal/platform/fault"
	"kompas/internal/platform/geo"
	"kompas/internal/platform/store"
	"kompas/internal/platform/web"
)

func init() {
	actionTitles["decision"] = "Record a travel document decision"
	actionTitles["referral-status"] = "Update a referral"
}

// auditForm records that a form page showed a case's data.
func (h *Handlers) auditForm(ctx context.Context, p *auth.Principal, hd *head, action string) error {
	return h.Svc.DB.Transact(ctx, func(tx *store.Tx) error {
		return audit.Append(ctx, tx, p.Event(audit.ActionRead, "return_case", strconv.FormatInt(hd.ID, 10), purposeOf(p), hd.Reference+" form "+action))
	})
}

// orgOptions lists the organisations a migrant may choose for counselling.
func (h *Handlers) orgOptions(ctx context.Context) ([]option, error) {
	var out []option
	err := each(ctx, h.Svc.DB, `SELECT slug, name FROM organisations WHERE kind = 'ngo' OR slug = 'iom' ORDER BY name`, nil, func(sc scanner) error {
		var o option
		if err := sc.Scan(&o.Value, &o.Label); err != nil {
			return err
		}
		out = append(out, o)
		return nil
	})
	return out, err
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

// prefill sets a form's first values: today's dates, the query's record
// number, the current plan.
func (h *Handlers) prefill(r *http.Request, p *auth.Principal, hd *head, action string, v url.Values) error {
	td := today(h.Svc.now())
	switch action {
	case "consent":
		v.Set("given_on", td)
		v.Set("written", "1")
	case "choice":
		v.Set("chosen_on", td)
	case "document":
		v.Set("requested_on", td)
		v.Set("authority", "embassy")
		v.Set("authority_country", hd.Country)
	case "decision":
		v.Set("doc", r.URL.Query().Get("doc"))
		v.Set("decided_on", td)
	case "delivery":
		v.Set("delivered_on", td)
	case "visit":
		v.Set("visited_on", td)
	case "referral":
		v.Set("country", hd.Country)
	case "referral-status":
		v.Set("ref", r.URL.Query().Get("ref"))
	case "plan":
		cm, err := loadCommon(r.Context(), h.Svc.DB, hd.ID)
		if err != nil {
			return err
		}
		plan, _, _, _, err := loadWork(r.Context(), h.Svc.DB, hd.ID, cm)
		if err != nil {
			return err
		}
		if plan != nil {
			v.Set("needs", plan.Needs)
			v.Set("aspirations", plan.Aspirations)
			v.Set("start_on", plan.StartOn)
			if plan.Months > 0 {
				v.Set("months", strconv.Itoa(plan.Months))
			}
			for _, it := range plan.Support {
				v.Add("support_type", it.Type)
				v.Add("support_description", it.Description)
				v.Add("support_amount", it.Amount)
			}
		}
	}
	return nil
}

// describe fills the form's fields and texts for action.
func (h *Handlers) describe(r *http.Request, p *auth.Principal, hd *head, d *actionData) error {
	ctx := r.Context()
	if err := h.auditForm(ctx, p, hd, d.Action); err != nil {
		return err
	}
	switch d.Action {
	case "consent":
		d.Intro = "Data leaves the organisation that took the case in (to a reintegration partner, or to services through referrals) only with the migrant's written consent."
		d.Fields = []fieldSpec{
			{Name: "written", Label: "The migrant signed the consent form", Type: "checkbox", Hint: "Only written consent lets data leave the intake organisation."},
			{Name: "given_on", Label: "Date of consent", Type: "date", Required: true},
			{Name: "scope", Label: "The migrant consents to sharing with", Type: "checkboxes", Required: true, Options: options(ConsentScopes)},
		}
	case "choice":
		orgs, err := h.orgOptions(ctx)
		if err != nil {
			return err
		}
		d.Intro = "The migrant chooses the organisation that guides them. The organisation chosen before keeps no access; the history keeps every choice."
		d.Fields = []fieldSpec{
			{Name: "counselling_org", Label: "Counselling organisation now chosen", Type: "select", Required: true, Options: orgs},
			{Name: "chosen_on", Label: "Date of the choice", Type: "date", Required: true},
			{Name: "reason", Label: "Reason", Type: "textarea", Required: true},
		}
	case "document":
		var people []option
		err := each(ctx, h.Svc.DB, `SELECT seq, given_name, family_name FROM return_migrants WHERE case_id = ? ORDER BY seq`, []any{hd.ID}, func(sc scanner) error {
			var seq int
			var g, f string
			if err := sc.Scan(&seq, &g, &f); err != nil {
				return err
			}
			people = append(people, option{strconv.Itoa(seq), g + " " + f})
			return nil
		})
		if err != nil {
			return err
		}
		d.Fields = []fieldSpec{
			{Name: "migrant_seq", Label: "For", Type: "select", Required: true, Options: people},
			{Name: "kind", Label: "Document", Type: "select", Required: true, Options: options(TravelDocumentKinds)},
			{Name: "authority", Label: "Requested from", Type: "select", Required: true, Options: options(Authorities)},
			{Name: "authority_country", Label: "Of the country", Hint: "ISO 3166-1 two-letter code; the country of return unless the document comes from elsewhere."},
			{Name: "requested_on", Label: "Requested on", Type: "date"},
		}
	case "decision":
		d.Intro = "Travel document " + d.Form.Get("doc") + "."
		d.Fields = []fieldSpec{
			{Name: "doc", Type: "hidden"},
			{Name: "status", Label: "Decision", Type: "select", Required: true, Options: options([]string{"issued", "refused"})},
			{Name: "decided_on", Label: "Decided on", Type: "date", Required: true},
			{Name: "valid_until", Label: "Valid until", Type: "date"},
			{Name: "reference", Label: "Document number"},
		}
	case "flight":
		d.Intro = "Booking a flight cancels any flight booked before for this case."
		d.Fields = []fieldSpec{
			{Name: "date", Label: "Flight date", Type: "date", Required: true},
			{Name: "route", Label: "Route", Required: true, Hint: "IATA airport codes joined by dashes, for example AMS-IST-EBL."},
			{Name: "carrier", Label: "Carrier"},
			{Name: "escort", Label: "An escort travels with the returnee", Type: "checkbox"},
			{Name: "medical_needs", Label: "Medical needs during travel", Type: "textarea", Hint: "Special-category data: only what the escort and the carrier need."},
		}
	case "partner":
		ps, err := h.Svc.Partners(ctx)
		if err != nil {
			return err
		}
		var opts []option
		for _, pc := range ps {
			covers := "does not cover " + geo.Name(hd.Country)
			if oneOf(hd.Country, pc.Countries) {
				covers = "covers " + geo.Name(hd.Country)
			}
			opts = append(opts, option{pc.Slug, pc.Name + " (" + covers + ")"})
		}
		d.Intro = "The partner must cover the country of return, " + geo.Name(hd.Country) + ", and the migrant must have given written consent to share with a reintegration partner."
		d.Fields = []fieldSpec{{Name: "partner", Label: "Reintegration partner", Type: "select", Required: true, Options: opts}}
	case "plan":
		d.Intro = "Before departure the plan holds only what pre-departure counselling gives: needs and aspirations. Support is planned after departure, within the programme's budget cap, for at most 12 months."
		d.Fields = []fieldSpec{
			{Name: "needs", Label: "Needs", Type: "textarea", Hint: "Only what the reintegration work needs to know, including health needs the migrant agreed to share."},
			{Name: "aspirations", Label: "Aspirations", Type: "textarea"},
			{Name: "start_on", Label: "Support starts on", Type: "date"},
			{Name: "months", Label: "Months of support", Type: "number", Hint: "1 to 12."},
		}
		n := len(d.Form.Values["support_type"]) + 2
		for i := 0; i < n && i < maxItems; i++ {
			d.Rows = append(d.Rows, i)
		}
		d.Types = options(SupportTypes)
	case "delivery":
		cm, err := loadCommon(ctx, h.Svc.DB, hd.ID)
		if err != nil {
			return err
		}
		plan, _, _, _, err := loadWork(ctx, h.Svc.DB, hd.ID, cm)
		if err != nil {
			return err
		}
		var items []option
		if plan != nil {
			for _, it := range plan.Support {
				items = append(items, option{strconv.Itoa(it.Seq), fmt.Sprintf("%d. %s: %s (%s %s, delivered %s)", it.Seq, Label(it.Type), it.Description, plan.Currency, it.Amount, it.Delivered)})
			}
		}
		d.Fields = []fieldSpec{
			{Name: "item", Label: "Support item", Type: "select", Required: true, Options: items},
			{Name: "delivered_on", Label: "Delivered on", Type: "date", Required: true},
			{Name: "amount", Label: "Amount", Required: true, Hint: "In the plan's currency, for example 250 or 249.50."},
			{Name: "note", Label: "Note"},
		}
	case "visit":
		set, err := h.Svc.Indicators(ctx, "")
		if err != nil {
			return err
		}
		d.Intro = "Score each indicator from 1 (worst) to 5 (best). Each dimension's score is the average of its indicators, normalised to 0–1."
		d.Fields = []fieldSpec{{Name: "visited_on", Label: "Visited on", Type: "date", Required: true}}
		scores := []option{{"1", "1"}, {"2", "2"}, {"3", "3"}, {"4", "4"}, {"5", "5"}}
		dim := ""
		for _, in := range set.Indicators {
			if in.Dimension != dim {
				dim = in.Dimension
				d.Fields = append(d.Fields, fieldSpec{Type: "heading", Label: Label(dim) + " dimension"})
			}
			d.Fields = append(d.Fields, fieldSpec{Name: "score_" + in.Key, Label: in.Label, Type: "select", Required: true, Options: scores})
		}
		d.Fields = append(d.Fields, fieldSpec{Name: "notes", Label: "Notes", Type: "textarea"})
	case "referral":
		d.Intro = "Referring shares the returnee's data with the service: it needs the migrant's written consent to referrals."
		d.Fields = []fieldSpec{
			{Name: "service", Label: "Service", Required: true, Hint: "The name of the service in the country of return."},
			{Name: "kind", Label: "Kind of service", Type: "select", Required: true, Options: options(ReferralKinds)},
			{Name: "country", Label: "Country", Hint: "ISO 3166-1 two-letter code."},
			{Name: "note", Label: "Note"},
		}
	case "referral-status":
		d.Intro = "Referral " + d.Form.Get("ref") + "."
		d.Fields = []fieldSpec{
			{Name: "ref", Type: "hidden"},
			{Name: "status", Label: "Status", Type: "select", Required: true, Options: options(ReferralStatuses[1:])},
			{Name: "note", Label: "Note"},
		}
	}
	return nil
}

var digits = regexp.MustCompile(`^[0-9]{1,9}$`)

// intField reads a whole number from a form; a bad one is a field error.
func intField(v url.Values, name string, required bool) (int, error) {
	s := strings.TrimSpace(v.Get(name))
	if s == "" && !required {
		return 0, nil
	}
	if !digits.MatchString(s) {
		return 0, fault.Invalid(fault.FieldError{Field: name, Message: "must be a whole number"})
	}
	n, _ := strconv.Atoi(s)
	return n, nil
}

// submit turns a posted form into the action's input and runs it; it
// returns the message for the next page.
func (h *Handlers) submit(r *http.Request, p *auth.Principal, hd *head, action string, v url.Values) (string, error) {
	ctx, svc, id := r.Context(), h.Svc, hd.ID
	switch action {
	case "consent":
		return "The consent was recorded.", svc.RecordConsent(ctx, p, id, ConsentInput{Written: v.Get("written") == "1", GivenOn: v.Get("given_on"), Scope: v["scope"]})
	case "choice":
		return "The change of counselling organisation was recorded.", svc.ChangeChoice(ctx, p, id, ChoiceInput{CounsellingOrg: v.Get("counselling_org"), ChosenOn: v.Get("chosen_on"), Reason: v.Get("reason")})
	case "document":
		seq, err := intField(v, "migrant_seq", true)
		if err != nil {
			return "", err
		}
		_, err = svc.RequestTravelDocument(ctx, p, id, TravelDocumentInput{MigrantSeq: seq, Kind: v.Get("kind"), Authority: v.Get("authority"),
			AuthorityCountry: v.Get("authority_country"), RequestedOn: v.Get("requested_on")})
		return "The travel document request was recorded.", err
	case "decision":
		doc, err := intField(v, "doc", true)
		if err != nil {
			return "", fault.NotFound("Travel document")
		}
		return "The decision was recorded.", svc.DecideTravelDocument(ctx, p, id, doc, DecisionInput{Status: v.Get("status"), DecidedOn: v.Get("decided_on"),
			ValidUntil: v.Get("valid_until"), Reference: v.Get("reference")})
	case "flight":
		_, err := svc.BookFlight(ctx, p, id, FlightInput{Date: v.Get("date"), Route: v.Get("route"), Carrier: v.Get("carrier"), Escort: v.Get("escort") == "1", MedicalNeeds: v.Get("medical_needs")})
		return "The flight was booked.", err
	case "partner":
		return "The reintegration partner was assigned.", svc.AssignPartner(ctx, p, id, PartnerInput{Partner: v.Get("partner")})
	case "plan":
		months, err := intField(v, "months", false)
		if err != nil {
			return "", err
		}
		in := PlanInput{Needs: v.Get("needs"), Aspirations: v.Get("aspirations"), StartOn: v.Get("start_on"), Months: months}
		types, descs, amounts := v["support_type"], v["support_description"], v["support_amount"]
		for i := range types {
			desc, amount := "", ""
			if i < len(descs) {
				desc = descs[i]
			}
			if i < len(amounts) {
				amount = amounts[i]
			}
			if types[i] == "" && strings.TrimSpace(desc) == "" && strings.TrimSpace(amount) == "" {
				continue
			}
			in.Support = append(in.Support, SupportInput{Type: types[i], Description: desc, Amount: json.Number(strings.ReplaceAll(strings.TrimSpace(amount), ",", ""))})
		}
		return "The reintegration plan was saved.", svc.SavePlan(ctx, p, id, in)
	case "delivery":
		item, err := intField(v, "item", true)
		if err != nil {
			return "", err
		}
		_, err = svc.RecordDelivery(ctx, p, id, DeliveryInput{Item: item, DeliveredOn: v.Get("delivered_on"), Amount: json.Number(strings.TrimSpace(v.Get("amount"))), Note: v.Get("note")})
		return "The delivery was recorded.", err
	case "visit":
		set, err := svc.Indicators(ctx, "")
		if err != nil {
			return "", err
		}
		in := VisitInput{VisitedOn: v.Get("visited_on"), Notes: v.Get("notes"), Scores: map[string]int{}}
		for _, ind := range set.Indicators {
			if s := v.Get("score_" + ind.Key); s != "" {
				n, err := strconv.Atoi(s)
				if err != nil {
					return "", fault.Invalid(fault.FieldError{Field: "scores." + ind.Key, Message: "must be from 1 to 5"})
				}
				in.Scores[ind.Key] = n
			}
		}
		visit, err := svc.RecordVisit(ctx, p, id, in)
		if err != nil {
			return "", err
		}
		return fmt.Sprintf("The visit was recorded: overall sustainability %.2f.", visit.Overall), nil
	case "referral":
		_, err := svc.SendReferral(ctx, p, id, ReferralInput{Service: v.Get("service"), Kind: v.Get("kind"), Country: v.Get("country"), Note: v.Get("note")})
		return "The referral was sent.", err
	case "referral-status":
		ref, err := intField(v, "ref", true)
		if err != nil {
			return "", fault.NotFound("Referral")
		}
		return "The referral was updated.", svc.UpdateReferral(ctx, p, id, ref, ReferralStatusInput{Status: v.Get("status"), Note: v.Get("note")})
	}
	return "", fault.NotFound("Form")
}

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

func (h *Handlers) renderNew(w http.ResponseWriter, r *http.Request, status int, form *web.Form) error {
	orgs, err := h.orgOptions(r.Context())
	if err != nil {
		return err
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
	p, err := auth.RequireRule(r.Context(), ruleCreate)
	if err != nil {
		return err
	}
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
	p, err := auth.RequireRule(r.Context(), ruleCreate)
	if err != nil {
		return err
	}
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
