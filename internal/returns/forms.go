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

	"kompas/internal/platform/auth"
	"kompas/internal/platform/fault"
	"kompas/internal/platform/geo"
	"kompas/internal/platform/web"
)

// caseForm is one form that adds a record to a case, at
// /returns/cases/{id}/act/<slug>; T is the service input its values become.
type caseForm[T any] struct {
	slug, title string
	act         caseAct
	// first fills the form shown empty (today's date, the record asked for).
	first func(ctx context.Context, r *http.Request, fc *FormCase, v url.Values) error
	// spec is the form's introduction and inputs.
	spec func(ctx context.Context, fc *FormCase, f *web.Form) (formSpec, error)
	// input turns the posted values into the service's input. A number
	// that cannot be read is listed in bad and given a value the service
	// refuses, so the service still checks every other field and the form
	// answers once with all that needs correcting.
	input func(v url.Values) (in T, bad []fault.FieldError, err error)
	// save records it and says what was done, for the case page.
	save func(ctx context.Context, p *auth.Principal, id int64, in T) (string, error)
}

// formSpec is what a case form shows besides its values.
type formSpec struct {
	Intro  string
	Fields []fieldSpec
	Rows   []int    // support rows of the plan form
	Types  []option // the support types of those rows
}

// fieldSpec describes one input of a case form; action.html draws them.
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
	Submit    string
	formSpec
	Form     *web.Form
	Conflict string
}

// caseLink is one form a caller may open from a case's page.
type caseLink struct {
	slug, title string
	act         caseAct
}

// caseForms lists the forms in the order the case page offers them; the
// decision and referral-status forms are opened from their record's row.
var caseForms = []caseLink{
	{"consent", "Record consent", actConsent},
	{"choice", "Change of counselling organisation", actChoice},
	{"document", "Request a travel document", actDocument},
	{"flight", "Book a flight", actFlight},
	{"partner", "Assign a reintegration partner", actPartner},
	{"plan", "Write the reintegration plan", actPlan},
	{"delivery", "Record support delivered", actDelivery},
	{"visit", "Record a monitoring visit", actVisit},
	{"referral", "Refer to a service", actReferral},
}

// registerCaseForm routes cf's page and submission, admitting the roles
// of its act (others who work on cases are told 403, anyone else 404).
func registerCaseForm[T any](h *Handlers, cf caseForm[T]) {
	op := web.Op{Access: cf.act.access(), Conceal: "Case", Knows: ruleCase, Personal: personalCase}
	h.srv.Form("/returns/cases/{id}/act/"+cf.slug, op, web.FormPage{
		Show: func(w http.ResponseWriter, r *http.Request, f *web.Form) error {
			ctx := r.Context()
			id, err := web.PathID(r, "id", "Case")
			if err != nil {
				return err
			}
			fc, err := h.Svc.OpenForm(ctx, auth.Caller(ctx), id, cf.act, cf.slug)
			if err != nil {
				return err
			}
			if f.Values == nil {
				f.Values = url.Values{}
				if cf.first != nil {
					if err := cf.first(ctx, r, fc, f.Values); err != nil {
						return err
					}
				}
			}
			spec, err := cf.spec(ctx, fc, f)
			if err != nil {
				return err
			}
			f.Names = actionNames(spec.Fields)
			d := actionData{ID: fc.ID, Reference: fc.Reference, Stage: fc.Stage, Action: cf.slug, Title: cf.title, Submit: "Save",
				formSpec: spec, Form: f, Conflict: f.Conflict}
			return h.tmpl.Render(w, r, f.Status, "action.html", cf.title+" – "+fc.Reference, d)
		},
		Submit: func(w http.ResponseWriter, r *http.Request, f *web.Form) error {
			ctx := r.Context()
			id, err := web.PathID(r, "id", "Case")
			if err != nil {
				return err
			}
			in, bad, err := cf.input(f.Values)
			if err != nil {
				return err
			}
			msg, err := cf.save(ctx, auth.Caller(ctx), id, in)
			if err != nil || len(bad) > 0 {
				return formError(err, bad)
			}
			return h.srv.Redirect(w, r, fmt.Sprintf("/returns/cases/%d", id), msg)
		},
	})
}

// formError is a submission's error as its form shows it: the numbers
// that could not be read first (in place of what the service said of
// the value that stood in for them), each field under its input's name.
func formError(err error, bad []fault.FieldError) error {
	var fields []fault.FieldError
	if err != nil {
		e := web.AsError(err)
		if web.Status(e.Kind) != http.StatusUnprocessableEntity {
			return err
		}
		fields = e.Fields
		if len(fields) == 0 && len(bad) == 0 {
			fields = []fault.FieldError{{Field: "form", Message: e.Detail}}
		}
	}
	out := append([]fault.FieldError(nil), bad...)
	for _, fe := range fields {
		if !hasField(bad, fe.Field) {
			out = append(out, fe)
		}
	}
	for i := range out {
		out[i].Field = htmlField(out[i].Field)
	}
	return fault.Invalid(out...)
}

func hasField(list []fault.FieldError, field string) bool {
	for _, fe := range list {
		if fe.Field == field {
			return true
		}
	}
	return false
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

// actionNames labels a case form's fields in its error summary as the
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

var digits = regexp.MustCompile(`^[0-9]{1,9}$`)

// formNumber reads a whole number from a form. One that cannot be read is
// added to bad and read as unreadable, a value the caller's service
// refuses.
func formNumber(v url.Values, name string, required bool, unreadable int, bad *[]fault.FieldError) int {
	s := strings.TrimSpace(v.Get(name))
	if s == "" && !required {
		return 0
	}
	if !digits.MatchString(s) {
		*bad = append(*bad, fault.FieldError{Field: name, Message: "must be a whole number"})
		return unreadable
	}
	n, _ := strconv.Atoi(s)
	return n
}

// recordNumber reads the hidden number of the record a form changes; one
// that cannot be read is a record that is not there.
func recordNumber(v url.Values, name, what string) (int, error) {
	s := strings.TrimSpace(v.Get(name))
	if !digits.MatchString(s) {
		return 0, fault.NotFound(what)
	}
	n, _ := strconv.Atoi(s)
	return n, nil
}

func (h *Handlers) today() string { return today(h.Svc.now()) }

// startsToday fills a form shown empty with today's date in field.
func (h *Handlers) startsToday(field string) func(context.Context, *http.Request, *FormCase, url.Values) error {
	return func(_ context.Context, _ *http.Request, _ *FormCase, v url.Values) error {
		v.Set(field, h.today())
		return nil
	}
}

// registerCaseForms routes every case form.
func (h *Handlers) registerCaseForms() {
	registerCaseForm(h, h.consentForm())
	registerCaseForm(h, h.choiceForm())
	registerCaseForm(h, h.documentForm())
	registerCaseForm(h, h.decisionForm())
	registerCaseForm(h, h.flightForm())
	registerCaseForm(h, h.partnerForm())
	registerCaseForm(h, h.planForm())
	registerCaseForm(h, h.deliveryForm())
	registerCaseForm(h, h.visitForm())
	registerCaseForm(h, h.referralForm())
	registerCaseForm(h, h.referralStatusForm())
}

// decision is the decision form's input: which document, and the answer.
type decision struct {
	doc int
	in  DecisionInput
}

// referralStatus is the referral-status form's input.
type referralStatus struct {
	ref int
	in  ReferralStatusInput
}

func (h *Handlers) consentForm() caseForm[ConsentInput] {
	svc := h.Svc
	return caseForm[ConsentInput]{slug: "consent", title: "Record consent", act: actConsent,
		first: func(_ context.Context, _ *http.Request, _ *FormCase, v url.Values) error {
			v.Set("given_on", h.today())
			v.Set("written", "1")
			return nil
		},
		spec: func(context.Context, *FormCase, *web.Form) (formSpec, error) {
			return formSpec{Intro: "Data leaves the organisation that took the case in (to a reintegration partner, or to services through referrals) only with the migrant's written consent.",
				Fields: []fieldSpec{
					{Name: "written", Label: "The migrant signed the consent form", Type: "checkbox", Hint: "Only written consent lets data leave the intake organisation."},
					{Name: "given_on", Label: "Date of consent", Type: "date", Required: true},
					{Name: "scope", Label: "The migrant consents to sharing with", Type: "checkboxes", Required: true, Options: options(ConsentScopes)},
				}}, nil
		},
		input: func(v url.Values) (ConsentInput, []fault.FieldError, error) {
			return ConsentInput{Written: v.Get("written") == "1", GivenOn: v.Get("given_on"), Scope: v["scope"]}, nil, nil
		},
		save: func(ctx context.Context, p *auth.Principal, id int64, in ConsentInput) (string, error) {
			return "The consent was recorded.", svc.RecordConsent(ctx, p, id, in)
		},
	}
}

func (h *Handlers) choiceForm() caseForm[ChoiceInput] {
	svc := h.Svc
	return caseForm[ChoiceInput]{slug: "choice", title: "Change of counselling organisation", act: actChoice,
		first: h.startsToday("chosen_on"),
		spec: func(ctx context.Context, _ *FormCase, _ *web.Form) (formSpec, error) {
			orgs, err := svc.CounsellingOrgs(ctx)
			if err != nil {
				return formSpec{}, err
			}
			opts := make([]option, len(orgs))
			for i, o := range orgs {
				opts[i] = option{o.Slug, o.Name}
			}
			return formSpec{Intro: "The migrant chooses the organisation that guides them. The organisation chosen before keeps no access; the history keeps every choice.",
				Fields: []fieldSpec{
					{Name: "counselling_org", Label: "Counselling organisation now chosen", Type: "select", Required: true, Options: opts},
					{Name: "chosen_on", Label: "Date of the choice", Type: "date", Required: true},
					{Name: "reason", Label: "Reason", Type: "textarea", Required: true},
				}}, nil
		},
		input: func(v url.Values) (ChoiceInput, []fault.FieldError, error) {
			return ChoiceInput{CounsellingOrg: v.Get("counselling_org"), ChosenOn: v.Get("chosen_on"), Reason: v.Get("reason")}, nil, nil
		},
		save: func(ctx context.Context, p *auth.Principal, id int64, in ChoiceInput) (string, error) {
			return "The change of counselling organisation was recorded.", svc.ChangeChoice(ctx, p, id, in)
		},
	}
}

func (h *Handlers) documentForm() caseForm[TravelDocumentInput] {
	svc := h.Svc
	return caseForm[TravelDocumentInput]{slug: "document", title: "Request a travel document", act: actDocument,
		first: func(_ context.Context, _ *http.Request, fc *FormCase, v url.Values) error {
			v.Set("requested_on", h.today())
			v.Set("authority", "embassy")
			v.Set("authority_country", fc.Country)
			return nil
		},
		spec: func(ctx context.Context, fc *FormCase, _ *web.Form) (formSpec, error) {
			people, err := svc.People(ctx, fc)
			if err != nil {
				return formSpec{}, err
			}
			opts := make([]option, len(people))
			for i, pr := range people {
				opts[i] = option{strconv.Itoa(pr.Seq), pr.Name}
			}
			return formSpec{Fields: []fieldSpec{
				{Name: "migrant_seq", Label: "For", Type: "select", Required: true, Options: opts},
				{Name: "kind", Label: "Document", Type: "select", Required: true, Options: options(TravelDocumentKinds)},
				{Name: "authority", Label: "Requested from", Type: "select", Required: true, Options: options(Authorities)},
				{Name: "authority_country", Label: "Of the country", Hint: "ISO 3166-1 two-letter code; the country of return unless the document comes from elsewhere."},
				{Name: "requested_on", Label: "Requested on", Type: "date"},
			}}, nil
		},
		input: func(v url.Values) (TravelDocumentInput, []fault.FieldError, error) {
			var bad []fault.FieldError
			seq := formNumber(v, "migrant_seq", true, -1, &bad)
			return TravelDocumentInput{MigrantSeq: seq, Kind: v.Get("kind"), Authority: v.Get("authority"),
				AuthorityCountry: v.Get("authority_country"), RequestedOn: v.Get("requested_on")}, bad, nil
		},
		save: func(ctx context.Context, p *auth.Principal, id int64, in TravelDocumentInput) (string, error) {
			_, err := svc.RequestTravelDocument(ctx, p, id, in)
			return "The travel document request was recorded.", err
		},
	}
}

func (h *Handlers) decisionForm() caseForm[decision] {
	svc := h.Svc
	return caseForm[decision]{slug: "decision", title: "Record a travel document decision", act: actDecision,
		first: func(_ context.Context, r *http.Request, _ *FormCase, v url.Values) error {
			v.Set("doc", r.URL.Query().Get("doc"))
			v.Set("decided_on", h.today())
			return nil
		},
		spec: func(_ context.Context, _ *FormCase, f *web.Form) (formSpec, error) {
			return formSpec{Intro: "Travel document " + f.Get("doc") + ".", Fields: []fieldSpec{
				{Name: "doc", Type: "hidden"},
				{Name: "status", Label: "Decision", Type: "select", Required: true, Options: options([]string{"issued", "refused"})},
				{Name: "decided_on", Label: "Decided on", Type: "date", Required: true},
				{Name: "valid_until", Label: "Valid until", Type: "date"},
				{Name: "reference", Label: "Document number"},
			}}, nil
		},
		input: func(v url.Values) (decision, []fault.FieldError, error) {
			doc, err := recordNumber(v, "doc", "Travel document")
			return decision{doc, DecisionInput{Status: v.Get("status"), DecidedOn: v.Get("decided_on"), ValidUntil: v.Get("valid_until"), Reference: v.Get("reference")}}, nil, err
		},
		save: func(ctx context.Context, p *auth.Principal, id int64, d decision) (string, error) {
			return "The decision was recorded.", svc.DecideTravelDocument(ctx, p, id, d.doc, d.in)
		},
	}
}

func (h *Handlers) flightForm() caseForm[FlightInput] {
	svc := h.Svc
	return caseForm[FlightInput]{slug: "flight", title: "Book a flight", act: actFlight,
		spec: func(context.Context, *FormCase, *web.Form) (formSpec, error) {
			return formSpec{Intro: "Booking a flight cancels any flight booked before for this case.", Fields: []fieldSpec{
				{Name: "date", Label: "Flight date", Type: "date", Required: true},
				{Name: "route", Label: "Route", Required: true, Hint: "IATA airport codes joined by dashes, for example AMS-IST-EBL."},
				{Name: "carrier", Label: "Carrier"},
				{Name: "escort", Label: "An escort travels with the returnee", Type: "checkbox"},
				{Name: "medical_needs", Label: "Medical needs during travel", Type: "textarea", Hint: "Special-category data: only what the escort and the carrier need."},
			}}, nil
		},
		input: func(v url.Values) (FlightInput, []fault.FieldError, error) {
			return FlightInput{Date: v.Get("date"), Route: v.Get("route"), Carrier: v.Get("carrier"), Escort: v.Get("escort") == "1", MedicalNeeds: v.Get("medical_needs")}, nil, nil
		},
		save: func(ctx context.Context, p *auth.Principal, id int64, in FlightInput) (string, error) {
			_, err := svc.BookFlight(ctx, p, id, in)
			return "The flight was booked.", err
		},
	}
}

func (h *Handlers) partnerForm() caseForm[PartnerInput] {
	svc := h.Svc
	return caseForm[PartnerInput]{slug: "partner", title: "Assign a reintegration partner", act: actPartner,
		spec: func(ctx context.Context, fc *FormCase, _ *web.Form) (formSpec, error) {
			ps, err := svc.Partners(ctx)
			if err != nil {
				return formSpec{}, err
			}
			opts := make([]option, len(ps))
			for i, pc := range ps {
				covers := "does not cover " + geo.Name(fc.Country)
				if oneOf(fc.Country, pc.Countries) {
					covers = "covers " + geo.Name(fc.Country)
				}
				opts[i] = option{pc.Slug, pc.Name + " (" + covers + ")"}
			}
			return formSpec{Intro: "The partner must cover the country of return, " + geo.Name(fc.Country) + ", and the migrant must have given written consent to share with a reintegration partner.",
				Fields: []fieldSpec{{Name: "partner", Label: "Reintegration partner", Type: "select", Required: true, Options: opts}}}, nil
		},
		input: func(v url.Values) (PartnerInput, []fault.FieldError, error) {
			return PartnerInput{Partner: v.Get("partner")}, nil, nil
		},
		save: func(ctx context.Context, p *auth.Principal, id int64, in PartnerInput) (string, error) {
			return "The reintegration partner was assigned.", svc.AssignPartner(ctx, p, id, in)
		},
	}
}

func (h *Handlers) planForm() caseForm[PlanInput] {
	svc := h.Svc
	return caseForm[PlanInput]{slug: "plan", title: "Write the reintegration plan", act: actPlan,
		first: func(ctx context.Context, _ *http.Request, fc *FormCase, v url.Values) error {
			plan, err := svc.CurrentPlan(ctx, fc)
			if err != nil || plan == nil {
				return err
			}
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
			return nil
		},
		spec: func(_ context.Context, _ *FormCase, f *web.Form) (formSpec, error) {
			s := formSpec{Intro: "Before departure the plan holds only what pre-departure counselling gives: needs and aspirations. Support is planned after departure, within the programme's budget cap, for at most 12 months.",
				Fields: []fieldSpec{
					{Name: "needs", Label: "Needs", Type: "textarea", Hint: "Only what the reintegration work needs to know, including health needs the migrant agreed to share."},
					{Name: "aspirations", Label: "Aspirations", Type: "textarea"},
					{Name: "start_on", Label: "Support starts on", Type: "date"},
					{Name: "months", Label: "Months of support", Type: "number", Hint: "1 to 12."},
				},
				Types: options(SupportTypes)}
			n := len(f.Values["support_type"]) + 2
			for i := 0; i < n && i < maxItems; i++ {
				s.Rows = append(s.Rows, i)
			}
			return s, nil
		},
		input: planInput,
		save: func(ctx context.Context, p *auth.Principal, id int64, in PlanInput) (string, error) {
			return "The reintegration plan was saved.", svc.SavePlan(ctx, p, id, in)
		},
	}
}

func (h *Handlers) deliveryForm() caseForm[DeliveryInput] {
	svc := h.Svc
	return caseForm[DeliveryInput]{slug: "delivery", title: "Record support delivered", act: actDelivery,
		first: h.startsToday("delivered_on"),
		spec: func(ctx context.Context, fc *FormCase, _ *web.Form) (formSpec, error) {
			plan, err := svc.CurrentPlan(ctx, fc)
			if err != nil {
				return formSpec{}, err
			}
			var items []option
			if plan != nil {
				for _, it := range plan.Support {
					items = append(items, option{strconv.Itoa(it.Seq), fmt.Sprintf("%d. %s: %s (%s %s, delivered %s)", it.Seq, Label(it.Type), it.Description, plan.Currency, it.Amount, it.Delivered)})
				}
			}
			return formSpec{Fields: []fieldSpec{
				{Name: "item", Label: "Support item", Type: "select", Required: true, Options: items},
				{Name: "delivered_on", Label: "Delivered on", Type: "date", Required: true},
				{Name: "amount", Label: "Amount", Required: true, Hint: "In the plan's currency, for example 250 or 249.50."},
				{Name: "note", Label: "Note"},
			}}, nil
		},
		input: func(v url.Values) (DeliveryInput, []fault.FieldError, error) {
			var bad []fault.FieldError
			item := formNumber(v, "item", true, -1, &bad)
			return DeliveryInput{Item: item, DeliveredOn: v.Get("delivered_on"), Amount: json.Number(strings.TrimSpace(v.Get("amount"))), Note: v.Get("note")}, bad, nil
		},
		save: func(ctx context.Context, p *auth.Principal, id int64, in DeliveryInput) (string, error) {
			_, err := svc.RecordDelivery(ctx, p, id, in)
			return "The delivery was recorded.", err
		},
	}
}

func (h *Handlers) visitForm() caseForm[VisitInput] {
	svc := h.Svc
	return caseForm[VisitInput]{slug: "visit", title: "Record a monitoring visit", act: actVisit,
		first: h.startsToday("visited_on"),
		spec: func(ctx context.Context, _ *FormCase, _ *web.Form) (formSpec, error) {
			set, err := svc.Indicators(ctx, "")
			if err != nil {
				return formSpec{}, err
			}
			s := formSpec{Intro: "Score each indicator from 1 (worst) to 5 (best). Each dimension's score is the average of its indicators, normalised to 0–1.",
				Fields: []fieldSpec{{Name: "visited_on", Label: "Visited on", Type: "date", Required: true}}}
			scores := []option{{"1", "1"}, {"2", "2"}, {"3", "3"}, {"4", "4"}, {"5", "5"}}
			dim := ""
			for _, in := range set.Indicators {
				if in.Dimension != dim {
					dim = in.Dimension
					s.Fields = append(s.Fields, fieldSpec{Type: "heading", Label: Label(dim) + " dimension"})
				}
				s.Fields = append(s.Fields, fieldSpec{Name: "score_" + in.Key, Label: in.Label, Type: "select", Required: true, Options: scores})
			}
			s.Fields = append(s.Fields, fieldSpec{Name: "notes", Label: "Notes", Type: "textarea"})
			return s, nil
		},
		input: visitInput,
		save: func(ctx context.Context, p *auth.Principal, id int64, in VisitInput) (string, error) {
			visit, err := svc.RecordVisit(ctx, p, id, in)
			if err != nil {
				return "", err
			}
			return fmt.Sprintf("The visit was recorded: overall sustainability %.2f.", visit.Overall), nil
		},
	}
}

func (h *Handlers) referralForm() caseForm[ReferralInput] {
	svc := h.Svc
	return caseForm[ReferralInput]{slug: "referral", title: "Refer to a service", act: actReferral,
		first: func(_ context.Context, _ *http.Request, fc *FormCase, v url.Values) error {
			v.Set("country", fc.Country)
			return nil
		},
		spec: func(context.Context, *FormCase, *web.Form) (formSpec, error) {
			return formSpec{Intro: "Referring shares the returnee's data with the service: it needs the migrant's written consent to referrals.", Fields: []fieldSpec{
				{Name: "service", Label: "Service", Required: true, Hint: "The name of the service in the country of return."},
				{Name: "kind", Label: "Kind of service", Type: "select", Required: true, Options: options(ReferralKinds)},
				{Name: "country", Label: "Country", Hint: "ISO 3166-1 two-letter code."},
				{Name: "note", Label: "Note"},
			}}, nil
		},
		input: func(v url.Values) (ReferralInput, []fault.FieldError, error) {
			return ReferralInput{Service: v.Get("service"), Kind: v.Get("kind"), Country: v.Get("country"), Note: v.Get("note")}, nil, nil
		},
		save: func(ctx context.Context, p *auth.Principal, id int64, in ReferralInput) (string, error) {
			_, err := svc.SendReferral(ctx, p, id, in)
			return "The referral was sent.", err
		},
	}
}

func (h *Handlers) referralStatusForm() caseForm[referralStatus] {
	svc := h.Svc
	return caseForm[referralStatus]{slug: "referral-status", title: "Update a referral", act: actReferralStatus,
		first: func(_ context.Context, r *http.Request, _ *FormCase, v url.Values) error {
			v.Set("ref", r.URL.Query().Get("ref"))
			return nil
		},
		spec: func(_ context.Context, _ *FormCase, f *web.Form) (formSpec, error) {
			return formSpec{Intro: "Referral " + f.Get("ref") + ".", Fields: []fieldSpec{
				{Name: "ref", Type: "hidden"},
				{Name: "status", Label: "Status", Type: "select", Required: true, Options: options(ReferralStatuses[1:])},
				{Name: "note", Label: "Note"},
			}}, nil
		},
		input: func(v url.Values) (referralStatus, []fault.FieldError, error) {
			ref, err := recordNumber(v, "ref", "Referral")
			return referralStatus{ref, ReferralStatusInput{Status: v.Get("status"), Note: v.Get("note")}}, nil, err
		},
		save: func(ctx context.Context, p *auth.Principal, id int64, rs referralStatus) (string, error) {
			return "The referral was updated.", svc.UpdateReferral(ctx, p, id, rs.ref, rs.in)
		},
	}
}

// planInput reads the plan form: its rows of support, the empty ones left
// out.
func planInput(v url.Values) (PlanInput, []fault.FieldError, error) {
	var bad []fault.FieldError
	months := formNumber(v, "months", false, -1, &bad)
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
	return in, bad, nil
}

// visitInput reads the visit form: one score_<indicator> per indicator;
// what is left empty is missing, which the service reports with the rest.
func visitInput(v url.Values) (VisitInput, []fault.FieldError, error) {
	in := VisitInput{VisitedOn: v.Get("visited_on"), Notes: v.Get("notes"), Scores: map[string]int{}}
	var bad []fault.FieldError
	for name, vals := range v {
		key, ok := strings.CutPrefix(name, "score_")
		if !ok || len(vals) == 0 || vals[0] == "" {
			continue
		}
		n, err := strconv.Atoi(vals[0])
		if err != nil {
			// 0 is refused as out of range, under the same field.
			bad = append(bad, fault.FieldError{Field: "scores." + key, Message: "must be from 1 to 5"})
		}
		in.Scores[key] = n
	}
	return in, bad, nil
}
