package programmes

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"strconv"
	"strings"

	"kompas/internal/platform/auth"
	"kompas/internal/platform/fault"
	"kompas/internal/platform/web"
)

// Handlers serves the register's pages and API.
type Handlers struct {
	Reg *Register
	// Orgs lists the organisations the pages offer as partners and filters.
	Orgs Orgs
	srv  *web.Server
	tmpl *web.Templates
}

// Orgs is what the pages need of the accounts service (auth.Service).
type Orgs interface {
	Orgs(ctx context.Context) ([]auth.Org, error)
}

var filterParams = []web.Param{
	{Name: "q", Description: "full-text search over title, summary, partners, countries and regions"},
	{Name: "objective", Description: "GCM objective number 1-23", Type: "integer"},
	{Name: "pillar", Description: "pillar number of the default framework", Type: "integer"},
	{Name: "country", Description: "ISO 3166-1 alpha-2 code"},
	{Name: "partner", Description: "organisation slug"},
	{Name: "kind", Description: "policy_measure, law, programme, project, dialogue or fund"},
	{Name: "status", Description: "planned, active, completed or discontinued"},
	{Name: "year", Description: "active in that year", Type: "integer"},
	{Name: "page", Type: "integer"},
	{Name: "per_page", Description: "1-100, default 25", Type: "integer"},
}

func (h *Handlers) registerAPI() {
	tags := []string{"programmes"}
	const owned = "policy officers only those their organisation recorded"
	h.srv.API("GET /api/v1/initiatives", web.Op{Summary: "List and search initiatives", Tags: tags, Access: ruleRead, Query: filterParams, Response: Page{}}, h.apiList)
	h.srv.API("POST /api/v1/initiatives", web.Op{Summary: "Add an initiative", Tags: tags, Access: ruleCreate, Request: Input{}, Response: Initiative{}, Status: http.StatusCreated}, h.apiCreate)
	h.srv.API("GET /api/v1/initiatives/{id}", web.Op{Summary: "One initiative; its ETag carries the version", Tags: tags, Access: ruleRead, Response: Initiative{}}, h.apiGet)
	h.srv.API("PUT /api/v1/initiatives/{id}", web.Op{Summary: "Replace an initiative; send the version you read (or If-Match); a stale version is a 409", Tags: tags, Access: ruleChange, Records: owned, Request: Input{}, Response: Initiative{}}, h.apiUpdate)
	h.srv.API("DELETE /api/v1/initiatives/{id}", web.Op{Summary: "Delete an initiative (If-Match optional)", Tags: tags, Access: ruleChange, Records: owned, Status: http.StatusNoContent}, h.apiDelete)
	h.srv.API("GET /api/v1/coverage", web.Op{Summary: "Initiatives per GCM objective and pillar", Tags: tags, Access: ruleRead, Response: []CoverageRow{}}, h.apiCoverage)
	h.srv.API("GET /api/v1/money", web.Op{Summary: "Budgets summed by objective, partner or country", Tags: tags, Access: ruleRead,
		Query: []web.Param{{Name: "by", Description: "objective, partner or country"}}, Response: []MoneyRow{}}, h.apiMoney)
	h.srv.API("GET /api/v1/exports/initiatives", web.Op{Summary: "All initiatives matching the filters as CSV", Tags: tags, Access: ruleRead, Query: filterParams, Produces: []string{"text/csv"}}, h.exportCSV)
	h.srv.API("POST /api/v1/imports/initiatives", web.Op{Summary: "Import initiatives from CSV (text/csv body) or XLSX (the workbook media type): all rows or none", Tags: tags, Access: ruleCreate, BodyLimit: maxImport, Response: ImportResult{}}, h.apiImport)
}

func (h *Handlers) apiList(w http.ResponseWriter, r *http.Request) error {
	f, err := ParseFilter(r.URL.Query())
	if err != nil {
		return err
	}
	page, err := h.Reg.List(r.Context(), f)
	if err != nil {
		return err
	}
	return web.WriteJSON(w, http.StatusOK, page)
}

func (h *Handlers) apiCreate(w http.ResponseWriter, r *http.Request) error {
	p := auth.Caller(r.Context())
	var in Input
	if err := web.DecodeJSON(r, &in); err != nil {
		return err
	}
	it, err := h.Reg.Create(r.Context(), p, in)
	if err != nil {
		return err
	}
	w.Header().Set("Location", fmt.Sprintf("/api/v1/initiatives/%d", it.ID))
	w.Header().Set("ETag", etag(it.Version))
	return web.WriteJSON(w, http.StatusCreated, it)
}

func etag(v int) string { return fmt.Sprintf(`"v%d"`, v) }

// ifMatch reads a version from If-Match ("v3" or W/"v3"); 0 when absent.
func ifMatch(r *http.Request) (int, error) {
	h := strings.TrimSpace(r.Header.Get("If-Match"))
	if h == "" {
		return 0, nil
	}
	h = strings.Trim(strings.TrimPrefix(h, "W/"), `"`)
	v, err := strconv.Atoi(strings.TrimPrefix(h, "v"))
	if err != nil || v <= 0 {
		return 0, fault.Malformed("If-Match must be an ETag this API gave, such as \"v3\".", fault.FieldError{Field: "If-Match", Message: "not a version"})
	}
	return v, nil
}

func (h *Handlers) apiGet(w http.ResponseWriter, r *http.Request) error {
	id, err := web.PathID(r, "id", "Initiative")
	if err != nil {
		return err
	}
	it, err := h.Reg.Get(r.Context(), id)
	if err != nil {
		return err
	}
	w.Header().Set("ETag", etag(it.Version))
	return web.WriteJSON(w, http.StatusOK, it)
}

func (h *Handlers) apiUpdate(w http.ResponseWriter, r *http.Request) error {
	p := auth.Caller(r.Context())
	id, err := web.PathID(r, "id", "Initiative")
	if err != nil {
		return err
	}
	cur, err := h.Reg.Get(r.Context(), id)
	if err != nil {
		return err
	}
	if err := canEdit(p, cur); err != nil {
		return err
	}
	// A client may send back what GET gave it: the read-only fields are
	// accepted and ignored, but a different id is refused.
	var body struct {
		Input
		ID        int64           `json:"id"`
		Owner     json.RawMessage `json:"owner"`
		LeadName  json.RawMessage `json:"lead_name"`
		CreatedAt json.RawMessage `json:"created_at"`
		UpdatedAt json.RawMessage `json:"updated_at"`
	}
	if err := web.DecodeJSON(r, &body); err != nil {
		return err
	}
	if body.ID != 0 && body.ID != id {
		return fault.Invalid(fault.FieldError{Field: "id", Message: fmt.Sprintf("is %d but the address is for initiative %d", body.ID, id)})
	}
	in := body.Input
	v, err := ifMatch(r)
	if err != nil {
		return err
	}
	if in.Version == 0 {
		in.Version = v
	} else if v != 0 && v != in.Version {
		return fault.Malformed("If-Match and version disagree.", fault.FieldError{Field: "version", Message: "differs from If-Match"})
	}
	it, err := h.Reg.Update(r.Context(), p, id, in)
	if err != nil {
		return err
	}
	w.Header().Set("ETag", etag(it.Version))
	return web.WriteJSON(w, http.StatusOK, it)
}

func (h *Handlers) apiDelete(w http.ResponseWriter, r *http.Request) error {
	p := auth.Caller(r.Context())
	id, err := web.PathID(r, "id", "Initiative")
	if err != nil {
		return err
	}
	v, err := ifMatch(r)
	if err != nil {
		return err
	}
	if err := h.Reg.Delete(r.Context(), p, id, v); err != nil {
		return err
	}
	w.WriteHeader(http.StatusNoContent)
	return nil
}

// CoverageRow is one objective's line of the coverage matrix.
type CoverageRow struct {
	Objective int         `json:"objective"`
	Title     string      `json:"title"`
	Total     int         `json:"total"`
	ByPillar  map[int]int `json:"by_pillar"`
	NoPillar  int         `json:"no_pillar"`
}

func (h *Handlers) coverageRows(r *http.Request) ([]CoverageRow, []int, error) {
	cov, err := h.Reg.Coverage(r.Context())
	if err != nil {
		return nil, nil, err
	}
	pillars, err := h.Reg.pillarSet()
	if err != nil {
		return nil, nil, err
	}
	var nums []int
	for n := 1; n <= 99; n++ {
		if pillars[n] {
			nums = append(nums, n)
		}
	}
	rows := make([]CoverageRow, 0, 23)
	for o := 1; o <= 23; o++ {
		row := CoverageRow{Objective: o, Title: objectiveTitleOf(o), Total: cov.Totals[o], ByPillar: map[int]int{}, NoPillar: cov.NoPillar[o]}
		for _, p := range nums {
			row.ByPillar[p] = cov.Counts[o][p]
		}
		rows = append(rows, row)
	}
	return rows, nums, nil
}

func (h *Handlers) apiCoverage(w http.ResponseWriter, r *http.Request) error {
	rows, _, err := h.coverageRows(r)
	if err != nil {
		return err
	}
	return web.WriteJSON(w, http.StatusOK, rows)
}

func (h *Handlers) apiMoney(w http.ResponseWriter, r *http.Request) error {
	by := r.URL.Query().Get("by")
	if by == "" {
		by = "objective"
	}
	rows, err := h.Reg.Money(r.Context(), by)
	if err != nil {
		return err
	}
	return web.WriteJSON(w, http.StatusOK, rows)
}
