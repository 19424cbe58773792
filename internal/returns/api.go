package returns

import (
	"fmt"
	"net/http"
	"time"

	"kompas/internal/platform/auth"
	"kompas/internal/platform/fault"
	"kompas/internal/platform/web"
)

// Ack answers a write to a case's records.
type Ack struct {
	ID  int64 `json:"id" doc:"the case"`
	Seq int   `json:"seq,omitempty" doc:"the number of the record added"`
}

const (
	recordsCases  = "caseworkers and return officers the cases of their programmes, counsellors the cases of the NGO the migrant chose, the assigned reintegration partner its cases (a projection without special-category fields); a case the caller may not see is a 404"
	recordsOffice = "caseworkers and return officers the cases of their programmes"
)

// The case routes serve personal data: a 403 or 404 they answer is audited
// as a refused read (an IDOR probe leaves a trace), declared per route.
var (
	personalCase  = web.Personal{ObjectType: "return_case", IDParam: "id"}
	personalCases = web.Personal{ObjectType: "return_case"}
)

func (h *Handlers) registerAPI() {
	tags := []string{"returns"}
	api := h.srv.API
	api("POST /api/v1/returns/cases", web.Op{Summary: "Register a return case; 201 with id, reference and stage", Tags: tags,
		Access: ruleCreate, Request: CreateInput{}, Response: Created{}, Status: http.StatusCreated}, h.apiCreate)
	api("GET /api/v1/returns/cases", web.Op{Summary: "The caller's work queue, oldest in stage first; the read is audited", Tags: tags, Access: ruleCase, Records: recordsCases,
		Query: queueParams, Response: Queue{}, Personal: personalCases}, h.apiQueue)
	api("GET /api/v1/returns/cases/{id}", web.Op{Summary: "One case as the caller may see it (view full or partner); the read is audited with its purpose", Tags: tags, Access: ruleCase, Conceal: "Case", Records: recordsCases,
		Response: CaseView{}, Personal: personalCase}, h.apiGet)
	api("POST /api/v1/returns/cases/{id}/transitions", web.Op{Summary: "Move a case to another stage (409 when the stage machine or a precondition refuses)", Tags: tags,
		Access: ruleCase, Conceal: "Case", Records: "which moves depend on the stage and the caller: see docs/returns.md", Request: TransitionInput{}, Response: Moved{}, Personal: personalCase}, h.apiTransition)
	api("POST /api/v1/returns/cases/{id}/consents", web.Op{Summary: "Record the migrant's consent to share data outside the intake organisation", Tags: tags,
		Access: actConsent.access(), Conceal: "Case", Knows: ruleCase, Records: recordsOffice + ", counsellors the cases of the NGO the migrant chose", Request: ConsentInput{}, Response: Ack{}, Status: http.StatusCreated, Personal: personalCase}, h.apiConsent)
	api("POST /api/v1/returns/cases/{id}/counselling-org", web.Op{Summary: "Record that the migrant chose another counselling organisation (with date and reason)", Tags: tags,
		Access: actChoice.access(), Conceal: "Case", Knows: ruleCase, Records: recordsOffice + ", counsellors the cases of the NGO the migrant chose", Request: ChoiceInput{}, Response: Ack{}, Personal: personalCase}, h.apiChoice)
	api("POST /api/v1/returns/cases/{id}/travel-documents", web.Op{Summary: "Request a travel document from an embassy or consulate", Tags: tags,
		Access: actDocument.access(), Conceal: "Case", Knows: ruleCase, Records: recordsOffice, Request: TravelDocumentInput{}, Response: Ack{}, Status: http.StatusCreated, Personal: personalCase}, h.apiTravelDocument)
	api("POST /api/v1/returns/cases/{id}/travel-documents/{seq}/decision", web.Op{Summary: "Record that a travel document was issued or refused", Tags: tags,
		Access: actDecision.access(), Conceal: "Case", Knows: ruleCase, Records: recordsOffice, Request: DecisionInput{}, Response: Ack{}, Personal: personalCase}, h.apiDecision)
	api("POST /api/v1/returns/cases/{id}/flights", web.Op{Summary: "Book a flight (an earlier booking is cancelled)", Tags: tags,
		Access: actFlight.access(), Conceal: "Case", Knows: ruleCase, Records: recordsOffice, Request: FlightInput{}, Response: Ack{}, Status: http.StatusCreated, Personal: personalCase}, h.apiFlight)
	api("POST /api/v1/returns/cases/{id}/partner", web.Op{Summary: "Assign the reintegration partner; it must cover the country of return (422) and the migrant must have consented (409)", Tags: tags,
		Access: actPartner.access(), Conceal: "Case", Knows: ruleCase, Records: recordsOffice, Request: PartnerInput{}, Response: Ack{}, Personal: personalCase}, h.apiPartner)
	api("POST /api/v1/returns/cases/{id}/plan", web.Op{Summary: "Write the reintegration plan (support only after departure, within the programme's cap, for at most 12 months)", Tags: tags,
		Access: actPlan.access(), Conceal: "Case", Knows: ruleCase, Records: recordsOffice + ", the assigned partner its cases, counsellors (needs and aspirations before departure) the cases of their NGO", Request: PlanInput{}, Response: Ack{}, Personal: personalCase}, h.apiPlan)
	api("POST /api/v1/returns/cases/{id}/deliveries", web.Op{Summary: "Record support delivered", Tags: tags,
		Access: actDelivery.access(), Conceal: "Case", Knows: ruleCase, Records: recordsOffice + ", the assigned partner its cases", Request: DeliveryInput{}, Response: Ack{}, Status: http.StatusCreated, Personal: personalCase}, h.apiDelivery)
	api("POST /api/v1/returns/cases/{id}/visits", web.Op{Summary: "Record a monitoring visit; answers its sustainability scores (0-1)", Tags: tags,
		Access: actVisit.access(), Conceal: "Case", Knows: ruleCase, Records: recordsOffice + ", the assigned partner its cases", Request: VisitInput{}, Response: Visit{}, Status: http.StatusCreated, Personal: personalCase}, h.apiVisit)
	api("POST /api/v1/returns/cases/{id}/referrals", web.Op{Summary: "Refer the returnee to a service in the country of return (needs consent)", Tags: tags,
		Access: actReferral.access(), Conceal: "Case", Knows: ruleCase, Records: recordsOffice + ", the assigned partner its cases", Request: ReferralInput{}, Response: Ack{}, Status: http.StatusCreated, Personal: personalCase}, h.apiReferral)
	api("POST /api/v1/returns/cases/{id}/referrals/{seq}/status", web.Op{Summary: "Move a referral on: accepted or rejected, then done", Tags: tags,
		Access: actReferralStatus.access(), Conceal: "Case", Knows: ruleCase, Records: recordsOffice + ", the assigned partner its cases", Request: ReferralStatusInput{}, Response: Ack{}, Personal: personalCase}, h.apiReferralStatus)
	api("GET /api/v1/returns/partners", web.Op{Summary: "Reintegration partners and the countries they cover", Tags: tags, Access: ruleRead, Response: []PartnerCoverage{}}, h.apiPartners)
	api("PUT /api/v1/returns/partners/{org}/countries", web.Op{Summary: "Declare the countries a reintegration partner covers (replaces the list)", Tags: tags,
		Access: ruleDeclareRoute, Records: "a partner only its own countries", Request: CountriesInput{}, Response: PartnerCoverage{}}, h.apiDeclare)
	api("GET /api/v1/returns/programmes", web.Op{Summary: "Return programmes with their budget caps and operators", Tags: tags, Access: ruleRead, Response: []Programme{}}, h.apiProgrammes)
	api("GET /api/v1/returns/indicators", web.Op{Summary: "The sustainability indicator set (default: 15 indicators, 5 per dimension)", Tags: tags, Access: ruleRead,
		Query: []web.Param{{Name: "set", Description: "indicator set code; default the default set"}}, Response: IndicatorSet{}}, h.apiIndicators)
	api("GET /api/v1/returns/stats", web.Op{Summary: "Statistics by stage, country, counselling organisation and programme; counts under 5 suppressed", Tags: tags,
		Access: ruleRead, Response: Stats{}}, h.apiStats)
	api("GET /api/v1/returns/export", web.Op{Summary: "The caller's queue (filters as for the list) as CSV or XLSX; audited", Tags: tags, Access: ruleExport, Records: recordsOffice,
		Query: append([]web.Param{{Name: "format", Description: "csv (default) or xlsx"}}, queueParams...), Produces: []string{"text/csv", xlsxType}, Personal: personalCases}, h.apiExport)
}

// caller returns the principal and the case id of a case route.
func caller(r *http.Request) (*auth.Principal, int64, error) {
	id, err := web.PathID(r, "id", "Case")
	return auth.Caller(r.Context()), id, err
}

// recordSeq reads the {seq} wildcard: the number of a record of the case.
func recordSeq(r *http.Request, what string) (int, error) {
	n, err := web.PathID(r, "seq", what)
	return int(n), err
}

func (h *Handlers) apiCreate(w http.ResponseWriter, r *http.Request) error {
	p := auth.Caller(r.Context())
	var in CreateInput
	if err := web.DecodeJSON(r, &in); err != nil {
		return err
	}
	out, err := h.Svc.Create(r.Context(), p, in)
	if err != nil {
		return err
	}
	w.Header().Set("Location", fmt.Sprintf("/api/v1/returns/cases/%d", out.ID))
	return web.WriteJSON(w, http.StatusCreated, out)
}

func (h *Handlers) apiQueue(w http.ResponseWriter, r *http.Request) error {
	p := auth.Caller(r.Context())
	f, err := ParseQueueFilter(r.URL.Query())
	if err != nil {
		return err
	}
	q, err := h.Svc.Queue(r.Context(), p, f)
	if err != nil {
		return err
	}
	return web.WriteJSON(w, http.StatusOK, q)
}

func (h *Handlers) apiGet(w http.ResponseWriter, r *http.Request) error {
	p, id, err := caller(r)
	if err != nil {
		return err
	}
	v, err := h.Svc.Case(r.Context(), p, id)
	if err != nil {
		return err
	}
	w.Header().Set("Cache-Control", "no-store")
	return web.WriteJSON(w, http.StatusOK, v)
}

func (h *Handlers) apiTransition(w http.ResponseWriter, r *http.Request) error {
	p, id, err := caller(r)
	if err != nil {
		return err
	}
	var in TransitionInput
	if err := web.DecodeJSON(r, &in); err != nil {
		return err
	}
	out, err := h.Svc.Transition(r.Context(), p, id, in)
	if err != nil {
		return err
	}
	return web.WriteJSON(w, http.StatusOK, out)
}

// decodeAndDo is the shape of the record endpoints: decode the body into a
// T, then call do.
func decodeAndDo[T any](w http.ResponseWriter, r *http.Request, status int, do func(p *auth.Principal, id int64, in T) (any, error)) error {
	p, id, err := caller(r)
	if err != nil {
		return err
	}
	var in T
	if err := web.DecodeJSON(r, &in); err != nil {
		return err
	}
	out, err := do(p, id, in)
	if err != nil {
		return err
	}
	return web.WriteJSON(w, status, out)
}

func (h *Handlers) apiConsent(w http.ResponseWriter, r *http.Request) error {
	return decodeAndDo(w, r, http.StatusCreated, func(p *auth.Principal, id int64, in ConsentInput) (any, error) {
		return Ack{ID: id}, h.Svc.RecordConsent(r.Context(), p, id, in)
	})
}

func (h *Handlers) apiChoice(w http.ResponseWriter, r *http.Request) error {
	return decodeAndDo(w, r, http.StatusOK, func(p *auth.Principal, id int64, in ChoiceInput) (any, error) {
		return Ack{ID: id}, h.Svc.ChangeChoice(r.Context(), p, id, in)
	})
}

func (h *Handlers) apiTravelDocument(w http.ResponseWriter, r *http.Request) error {
	return decodeAndDo(w, r, http.StatusCreated, func(p *auth.Principal, id int64, in TravelDocumentInput) (any, error) {
		seq, err := h.Svc.RequestTravelDocument(r.Context(), p, id, in)
		return Ack{ID: id, Seq: seq}, err
	})
}

func (h *Handlers) apiDecision(w http.ResponseWriter, r *http.Request) error {
	seq, err := recordSeq(r, "Travel document")
	if err != nil {
		return err
	}
	return decodeAndDo(w, r, http.StatusOK, func(p *auth.Principal, id int64, in DecisionInput) (any, error) {
		return Ack{ID: id, Seq: seq}, h.Svc.DecideTravelDocument(r.Context(), p, id, seq, in)
	})
}

func (h *Handlers) apiFlight(w http.ResponseWriter, r *http.Request) error {
	return decodeAndDo(w, r, http.StatusCreated, func(p *auth.Principal, id int64, in FlightInput) (any, error) {
		seq, err := h.Svc.BookFlight(r.Context(), p, id, in)
		return Ack{ID: id, Seq: seq}, err
	})
}

func (h *Handlers) apiPartner(w http.ResponseWriter, r *http.Request) error {
	return decodeAndDo(w, r, http.StatusOK, func(p *auth.Principal, id int64, in PartnerInput) (any, error) {
		return Ack{ID: id}, h.Svc.AssignPartner(r.Context(), p, id, in)
	})
}

func (h *Handlers) apiPlan(w http.ResponseWriter, r *http.Request) error {
	return decodeAndDo(w, r, http.StatusOK, func(p *auth.Principal, id int64, in PlanInput) (any, error) {
		return Ack{ID: id}, h.Svc.SavePlan(r.Context(), p, id, in)
	})
}

func (h *Handlers) apiDelivery(w http.ResponseWriter, r *http.Request) error {
	return decodeAndDo(w, r, http.StatusCreated, func(p *auth.Principal, id int64, in DeliveryInput) (any, error) {
		seq, err := h.Svc.RecordDelivery(r.Context(), p, id, in)
		return Ack{ID: id, Seq: seq}, err
	})
}

func (h *Handlers) apiVisit(w http.ResponseWriter, r *http.Request) error {
	return decodeAndDo(w, r, http.StatusCreated, func(p *auth.Principal, id int64, in VisitInput) (any, error) {
		return h.Svc.RecordVisit(r.Context(), p, id, in)
	})
}

func (h *Handlers) apiReferral(w http.ResponseWriter, r *http.Request) error {
	return decodeAndDo(w, r, http.StatusCreated, func(p *auth.Principal, id int64, in ReferralInput) (any, error) {
		seq, err := h.Svc.SendReferral(r.Context(), p, id, in)
		return Ack{ID: id, Seq: seq}, err
	})
}

func (h *Handlers) apiReferralStatus(w http.ResponseWriter, r *http.Request) error {
	seq, err := recordSeq(r, "Referral")
	if err != nil {
		return err
	}
	return decodeAndDo(w, r, http.StatusOK, func(p *auth.Principal, id int64, in ReferralStatusInput) (any, error) {
		return Ack{ID: id, Seq: seq}, h.Svc.UpdateReferral(r.Context(), p, id, seq, in)
	})
}

func (h *Handlers) apiPartners(w http.ResponseWriter, r *http.Request) error {
	ps, err := h.Svc.Partners(r.Context())
	if err != nil {
		return err
	}
	if ps == nil {
		ps = []PartnerCoverage{}
	}
	return web.WriteJSON(w, http.StatusOK, ps)
}

func (h *Handlers) apiDeclare(w http.ResponseWriter, r *http.Request) error {
	p := auth.Caller(r.Context())
	var in CountriesInput
	if err := web.DecodeJSON(r, &in); err != nil {
		return err
	}
	out, err := h.Svc.DeclareCountries(r.Context(), p, r.PathValue("org"), in)
	if err != nil {
		return err
	}
	return web.WriteJSON(w, http.StatusOK, out)
}

func (h *Handlers) apiProgrammes(w http.ResponseWriter, r *http.Request) error {
	ps, err := h.Svc.Programmes(r.Context())
	if err != nil {
		return err
	}
	return web.WriteJSON(w, http.StatusOK, ps)
}

func (h *Handlers) apiIndicators(w http.ResponseWriter, r *http.Request) error {
	set, err := h.Svc.Indicators(r.Context(), r.URL.Query().Get("set"))
	if err != nil {
		if e := web.AsError(err); web.Status(e.Kind) == http.StatusUnprocessableEntity {
			return fault.NotFound("Indicator set")
		}
		return err
	}
	return web.WriteJSON(w, http.StatusOK, set)
}

func (h *Handlers) apiStats(w http.ResponseWriter, r *http.Request) error {
	st, err := h.Svc.Stats(r.Context())
	if err != nil {
		return err
	}
	return web.WriteJSON(w, http.StatusOK, st)
}

// serveExport answers an export in the format asked for.
func (h *Handlers) serveExport(w http.ResponseWriter, r *http.Request, format string) error {
	p := auth.Caller(r.Context())
	if format != "csv" && format != "xlsx" {
		return fault.Malformed("Unknown export format.", fault.FieldError{Field: "format", Message: "must be csv or xlsx"})
	}
	f, err := ParseQueueFilter(r.URL.Query())
	if err != nil {
		return err
	}
	items, err := h.Svc.Export(r.Context(), p, f, format)
	if err != nil {
		return err
	}
	name := "return-cases-" + time.Now().UTC().Format("2006-01-02")
	w.Header().Set("Cache-Control", "no-store")
	if format == "xlsx" {
		w.Header().Set("Content-Type", xlsxType)
		w.Header().Set("Content-Disposition", `attachment; filename="`+name+`.xlsx"`)
		return WriteXLSX(w, items)
	}
	w.Header().Set("Content-Type", "text/csv; charset=utf-8")
	w.Header().Set("Content-Disposition", `attachment; filename="`+name+`.csv"`)
	return WriteCSV(w, items)
}

func (h *Handlers) apiExport(w http.ResponseWriter, r *http.Request) error {
	format := r.URL.Query().Get("format")
	if format == "" {
		format = "csv"
	}
	return h.serveExport(w, r, format)
}

// queueParams documents the queue's query parameters.
var queueParams = []web.Param{
	{Name: "stage", Description: "one stage; default every open stage"},
	{Name: "all", Description: "1: include closed, withdrawn and no-show cases", Type: "boolean"},
	{Name: "mine", Description: "1: only cases the caller registered or moved", Type: "boolean"},
	{Name: "overdue", Description: "1: only cases longer in their stage than it should take", Type: "boolean"},
	{Name: "country", Description: "country of return, ISO 3166-1 alpha-2"},
	{Name: "page", Type: "integer"},
	{Name: "per_page", Description: "1-100, default 25", Type: "integer"},
}
