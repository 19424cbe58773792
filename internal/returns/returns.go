// Package returns is return and reintegration case management: a case from
// intake to closure (registered → counselling → documents → travel booked →
// departed → reintegration → monitoring → closed, or withdrawn and no-show),
// the migrant's free choice of counselling organisation, consent before data
// leaves the intake organisation, travel documents and flights, reintegration
// partners and the countries they cover, reintegration plans and what was
// delivered, monitoring visits scored for sustainability, and referrals to
// services in the country of return.
//
// Each party sees only its cases and only the fields its role needs. That is
// decided where the data is read (access.go): the list queries carry the
// caller's scope in their WHERE clause, and a case is loaded into one of two
// projection types — CaseView for the return service, IOM and the chosen
// NGO, PartnerCaseView for the assigned reintegration partner — whose
// queries select only the columns the type has. A case the caller may not
// see is a 404, and every read is audited with its purpose.
package returns

import (
	"embed"
	"fmt"
	"strings"
	"time"
	"unicode/utf8"

	"kompas/internal/platform/store"
)

//go:embed migrations/*.sql
var migrationFiles embed.FS

// Migrations creates the returns tables (after auth's organisations).
var Migrations = store.Embedded("returns", migrationFiles)

// Code lists. Each is the set of values an input field accepts.
var (
	// Relationships of a family member to the principal.
	Relationships = []string{"principal", "spouse", "partner", "child", "parent", "sibling", "other_relative"}
	// Sexes as recorded on identity documents (X: unspecified).
	Sexes = []string{"female", "male", "x"}
	// DocumentKinds are the identity and travel documents a migrant may hold.
	DocumentKinds = []string{"passport", "expired_passport", "national_id", "birth_certificate", "other_identity_document", "none"}
	// Vulnerabilities are special-category data: health, victim status,
	// minority.
	Vulnerabilities = []string{"unaccompanied_minor", "medical_needs", "mental_health", "disability", "pregnancy", "trafficking_victim", "torture_survivor", "elderly", "single_parent"}
	// TravelDocumentKinds are what an embassy or consulate issues for return.
	TravelDocumentKinds = []string{"passport", "laissez_passer", "emergency_travel_document"}
	// Authorities that issue travel documents.
	Authorities = []string{"embassy", "consulate"}
	// TravelDocumentStatuses: a request is requested, then issued or refused.
	TravelDocumentStatuses = []string{"requested", "issued", "refused"}
	// FlightStatuses: a flight is booked, cancelled (by a newer booking) or
	// flown (departure confirmed).
	FlightStatuses = []string{"booked", "cancelled", "flown"}
	// SupportTypes are the kinds of reintegration support.
	SupportTypes = []string{"post_arrival", "housing", "medical", "education", "job_counselling", "business_startup", "cash", "in_kind"}
	// ReferralKinds are the services a returnee can be referred to.
	ReferralKinds = []string{"health", "mental_health", "education", "employment", "housing", "legal", "social_protection", "family_tracing", "other"}
	// ReferralStatuses: sent, then accepted or rejected; accepted then done.
	ReferralStatuses = []string{"sent", "accepted", "rejected", "done"}
	// ConsentScopes are what a migrant may consent to sharing.
	ConsentScopes = []string{"reintegration_partner", "referrals"}
	// Dimensions of the sustainability score.
	Dimensions = []string{"economic", "social", "psychosocial"}
)

// Input limits, so no field grows without bound.
const (
	maxName      = 100
	maxText      = 4000
	maxShort     = 300
	maxMigrants  = 20
	maxItems     = 30
	maxMonths    = 12
	ReasonMinLen = 5
)

// Label turns a code such as "travel_booked" into "Travel booked".
func Label(code string) string {
	s := strings.ReplaceAll(code, "_", " ")
	if s == "" {
		return s
	}
	switch s {
	case "x":
		return "X (unspecified)"
	case "no show":
		return "No-show"
	}
	return strings.ToUpper(s[:1]) + s[1:]
}

func oneOf(s string, list []string) bool {
	for _, x := range list {
		if s == x {
			return true
		}
	}
	return false
}

func truncate(s string, n int) string {
	if utf8.RuneCountInString(s) <= n {
		return s
	}
	return string([]rune(s)[:n]) + "…"
}

// splitCodes reads a stored comma-separated code list.
func splitCodes(s string) []string {
	if s == "" {
		return []string{}
	}
	return strings.Split(s, ",")
}

// formatMinor writes minor units as a decimal amount with two decimals.
func formatMinor(m int64) string {
	neg := m < 0
	if neg {
		m = -m
	}
	s := fmt.Sprintf("%d.%02d", m/100, m%100)
	if neg {
		s = "-" + s
	}
	return s
}

// parseMinor reads "1500", "1500.5" or "1500.50" into minor units.
func parseMinor(s string) (int64, bool) {
	s = strings.TrimSpace(s)
	if s == "" || len(s) > 15 {
		return 0, false
	}
	whole, frac, hasFrac := strings.Cut(s, ".")
	if whole == "" || (hasFrac && (len(frac) == 0 || len(frac) > 2)) {
		return 0, false
	}
	var n int64
	for _, c := range whole {
		if c < '0' || c > '9' {
			return 0, false
		}
		n = n*10 + int64(c-'0')
	}
	n *= 100
	if hasFrac {
		for len(frac) < 2 {
			frac += "0"
		}
		for i, c := range frac {
			if c < '0' || c > '9' {
				return 0, false
			}
			if i == 0 {
				n += int64(c-'0') * 10
			} else {
				n += int64(c - '0')
			}
		}
	}
	return n, true
}

// today is the date of t in UTC as YYYY-MM-DD.
func today(t time.Time) string { return t.UTC().Format("2006-01-02") }
