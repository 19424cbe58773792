package iati

import (
	"context"
	"encoding/xml"
	"fmt"
	"io"
	"strconv"
	"time"

	"kompas/internal/gcm"
	"kompas/internal/platform/store"
	"kompas/internal/programmes"
)

func objectiveTitle(n int) string { return gcm.ObjectiveTitle(n) }

// Exporter writes the register as an IATI 2.03 activity file.
type Exporter struct {
	DB     *store.DB
	Reg    Register
	Config Config
}

// exportOrg is what the export needs of an organisation.
type exportOrg struct {
	name, kind, ref string
}

func (e *Exporter) orgs(ctx context.Context) (map[string]exportOrg, error) {
	rows, err := e.DB.Query(ctx, `SELECT o.slug, o.name, o.kind, COALESCE((SELECT MIN(r.ref) FROM iati_org_refs r WHERE r.org_id = o.id), '') FROM organisations o`)
	if err != nil {
		return nil, fmt.Errorf("iati: read organisations: %w", err)
	}
	defer rows.Close()
	out := map[string]exportOrg{}
	for rows.Next() {
		var slug string
		var o exportOrg
		if err := rows.Scan(&slug, &o.name, &o.kind, &o.ref); err != nil {
			return nil, err
		}
		out[slug] = o
	}
	return out, rows.Err()
}

// xw is a small streaming writer over xml.Encoder. Names with a prefix
// ("kompas:kind", "xml:lang") are written as given: the root declares the
// prefix once.
type xw struct {
	enc *xml.Encoder
	err error
}

func attrs(kv ...string) []xml.Attr {
	var out []xml.Attr
	for i := 0; i+1 < len(kv); i += 2 {
		out = append(out, xml.Attr{Name: xml.Name{Local: kv[i]}, Value: kv[i+1]})
	}
	return out
}

func (w *xw) start(name string, kv ...string) {
	if w.err == nil {
		w.err = w.enc.EncodeToken(xml.StartElement{Name: xml.Name{Local: name}, Attr: attrs(kv...)})
	}
}

func (w *xw) end(name string) {
	if w.err == nil {
		w.err = w.enc.EncodeToken(xml.EndElement{Name: xml.Name{Local: name}})
	}
}

func (w *xw) text(s string) {
	if w.err == nil && s != "" {
		w.err = w.enc.EncodeToken(xml.CharData(s))
	}
}

// elem writes <name attrs>text</name>.
func (w *xw) elem(name, text string, kv ...string) {
	w.start(name, kv...)
	w.text(text)
	w.end(name)
}

// narrative writes <name attrs><narrative>text</narrative></name>.
func (w *xw) narrative(name, text string, kv ...string) {
	w.start(name, kv...)
	w.elem("narrative", text)
	w.end(name)
}

// Write streams every initiative as an iati-activity, in id order, a page at
// a time. It returns the number written.
func (e *Exporter) Write(ctx context.Context, out io.Writer) (int, error) {
	orgs, err := e.orgs(ctx)
	if err != nil {
		return 0, err
	}
	w := &xw{enc: xml.NewEncoder(out)}
	w.enc.Indent("", " ")
	if _, err := io.WriteString(out, xml.Header); err != nil {
		return 0, err
	}
	w.start("iati-activities", "version", "2.03", "generated-datetime", time.Now().UTC().Format(time.RFC3339), "xmlns:kompas", Namespace)
	n := 0
	var after int64
	for {
		page, err := e.Reg.ExportPage(ctx, after, 500)
		if err != nil {
			return n, err
		}
		if len(page) == 0 {
			break
		}
		for _, it := range page {
			e.activity(w, it, orgs)
			if w.err != nil {
				return n, w.err
			}
			n++
			after = it.ID
		}
		if err := w.enc.Flush(); err != nil {
			return n, err
		}
	}
	w.end("iati-activities")
	if w.err == nil {
		w.err = w.enc.Flush()
	}
	if w.err == nil {
		_, w.err = io.WriteString(out, "\n")
	}
	return n, w.err
}

// Identifier is the IATI identifier an initiative is exported under.
func (e *Exporter) Identifier(it *programmes.Initiative) string {
	if id := it.IATIIdentifier(); id != "" {
		return id
	}
	return e.Config.publisher() + "-" + strconv.FormatInt(it.ID, 10)
}

var statusCode = map[string]string{"planned": "1", "active": "2", "completed": "4", "discontinued": "5"}

var roleCode = map[string]string{"funder": "1", "lead": "2", "co-funder": "3", "implementer": "4"}

func (e *Exporter) activity(w *xw, it *programmes.Initiative, orgs map[string]exportOrg) {
	kv := []string{"last-updated-datetime", it.UpdatedAt.UTC().Format(time.RFC3339), "xml:lang", "en"}
	if it.Budget != nil {
		kv = append(kv, "default-currency", it.Budget.Currency)
	}
	w.start("iati-activity", kv...)
	w.elem("iati-identifier", e.Identifier(it))
	owner := orgs[it.Owner]
	w.narrative("reporting-org", owner.name, "ref", e.Config.publisher(), "type", orgTypeForKind(owner.kind))
	w.narrative("title", it.Title)
	w.narrative("description", it.Summary, "type", "1")

	// Participating organisations: the partners whose role IATI knows; the
	// owner as accountable when there is none (IATI needs one).
	wrote := false
	for _, p := range it.Partners {
		code, ok := roleCode[p.Role]
		if !ok {
			continue
		}
		o := orgs[p.Org]
		kv := []string{}
		if o.ref != "" {
			kv = append(kv, "ref", o.ref)
		}
		kv = append(kv, "role", code, "type", orgTypeForKind(o.kind), "kompas:org", p.Org)
		w.narrative("participating-org", o.name, kv...)
		wrote = true
	}
	if !wrote {
		w.narrative("participating-org", owner.name, "role", "2", "type", orgTypeForKind(owner.kind), "kompas:org", it.Owner)
	}
	w.elem("activity-status", "", "code", statusCode[it.Status])

	// Dates: actual once the initiative has begun (or ended), planned before.
	startDate, endDate := it.Period()
	startType, endType := "1", "3"
	if it.Status != "planned" {
		startType = "2"
	}
	if it.Status == "completed" || it.Status == "discontinued" {
		endType = "4"
	}
	if startDate != "" {
		w.elem("activity-date", "", "type", startType, "iso-date", startDate, "kompas:date", it.Start)
	}
	if endDate != "" {
		w.elem("activity-date", "", "type", endType, "iso-date", endDate, "kompas:date", it.End)
	}
	if startDate == "" && endDate == "" {
		// IATI needs an activity date; the day it was recorded stands in,
		// marked as no date for Kompas.
		w.elem("activity-date", "", "type", "1", "iso-date", it.CreatedAt.UTC().Format("2006-01-02"), "kompas:date", "")
	}

	for _, c := range it.Countries {
		w.elem("recipient-country", "", "code", c)
	}
	for _, r := range it.Regions {
		w.narrative("recipient-region", r, "code", r, "vocabulary", "99", "vocabulary-uri", RegionVocabularyURI)
	}
	for _, o := range it.Objectives {
		w.narrative("tag", fmt.Sprintf("GCM objective %d: %s", o, gcm.ObjectiveTitle(o)), "vocabulary", "99", "vocabulary-uri", GCMVocabularyURI, "code", strconv.Itoa(o))
	}
	if len(it.Objectives) > 0 {
		w.narrative("tag", "SDG target 10.7: Facilitate orderly, safe, regular and responsible migration and mobility of people", "vocabulary", "3", "code", "10.7")
	}
	if it.Budget != nil {
		ps, pe := budgetPeriod(startDate, endDate, it.CreatedAt)
		w.start("budget", "type", "1", "status", "2")
		w.elem("period-start", "", "iso-date", ps)
		w.elem("period-end", "", "iso-date", pe)
		w.elem("value", string(it.Budget.Amount), "currency", it.Budget.Currency, "value-date", ps)
		w.end("budget")
	}
	for _, s := range it.Sources {
		if s.URL == "" {
			continue
		}
		w.start("document-link", "format", "text/html", "url", s.URL)
		w.narrative("title", s.Title)
		w.elem("category", "", "code", "A12")
		w.end("document-link")
	}

	// Kompas's extension: what IATI has no place for.
	w.elem("kompas:kind", it.Kind)
	if it.Lead != "" {
		o := orgs[it.Lead]
		kv := []string{"name", o.name}
		if o.ref != "" {
			kv = append(kv, "ref", o.ref)
		}
		w.elem("kompas:lead", it.Lead, kv...)
	}
	for _, p := range it.Principles {
		w.elem("kompas:principle", p)
	}
	for _, p := range it.Pillars {
		w.elem("kompas:pillar", strconv.Itoa(p))
	}
	if it.ReportSection != "" {
		w.elem("kompas:report-section", it.ReportSection)
	}
	for _, p := range it.Partners {
		o := orgs[p.Org]
		kv := []string{"org", p.Org, "role", p.Role, "name", o.name}
		if o.ref != "" {
			kv = append(kv, "ref", o.ref)
		}
		w.elem("kompas:partner", "", kv...)
	}
	for _, r := range it.Results {
		w.elem("kompas:result", "", "indicator", r.Indicator, "value", string(r.Value), "unit", r.Unit, "date", r.Date, "source", r.Source)
	}
	for _, s := range it.Sources {
		w.elem("kompas:source", "", "title", s.Title, "url", s.URL)
	}
	w.end("iati-activity")
}

// budgetPeriod is the period a budget covers: the initiative's, or the
// year it was recorded in when it has none.
func budgetPeriod(start, end string, created time.Time) (string, string) {
	switch {
	case start != "" && end != "":
		return start, end
	case start != "":
		t, _ := time.Parse("2006-01-02", start)
		return start, t.AddDate(1, 0, -1).Format("2006-01-02")
	case end != "":
		t, _ := time.Parse("2006-01-02", end)
		return t.AddDate(-1, 0, 1).Format("2006-01-02"), end
	}
	y := created.UTC().Year()
	return fmt.Sprintf("%d-01-01", y), fmt.Sprintf("%d-12-31", y)
}
