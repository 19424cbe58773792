package returns

import (
	"fmt"
	"strings"

	"kompas/internal/platform/auth"
)

// Stage is where a case stands.
type Stage string

// The stages of a case, in their usual order, then the two ways a case ends
// before departure.
const (
	Registered    Stage = "registered"
	Counselling   Stage = "counselling"
	Documents     Stage = "documents"
	TravelBooked  Stage = "travel_booked"
	Departed      Stage = "departed"
	Reintegration Stage = "reintegration"
	Monitoring    Stage = "monitoring"
	Closed        Stage = "closed"
	Withdrawn     Stage = "withdrawn"
	NoShow        Stage = "no_show"
)

// Stages lists every stage in display order.
var Stages = []Stage{Registered, Counselling, Documents, TravelBooked, Departed, Reintegration, Monitoring, Closed, Withdrawn, NoShow}

// Valid reports whether s is a known stage.
func (s Stage) Valid() bool {
	for _, x := range Stages {
		if x == s {
			return true
		}
	}
	return false
}

// Open reports whether a case in s is still being worked on.
func (s Stage) Open() bool { return s != Closed && s != Withdrawn && s != NoShow }

// Label is the stage's name for people.
func (s Stage) Label() string { return Label(string(s)) }

// closedStages are the stages a work queue leaves out unless asked.
var closedStages = []Stage{Closed, Withdrawn, NoShow}

// overdueDays is how long a case may stay in a stage before the work queue
// calls it overdue.
var overdueDays = map[Stage]int{
	Registered:    14,
	Counselling:   60,
	Documents:     90,
	TravelBooked:  30,
	Departed:      30,
	Reintegration: 365,
	Monitoring:    180,
}

// caseState is what the preconditions of a move look at.
type caseState struct {
	Stage        Stage
	Departed     bool   // departure was confirmed at some point
	Partner      bool   // a reintegration partner is assigned
	DocIssued    bool   // a travel document was issued
	FlightBooked bool   // a flight is booked (not cancelled, not flown)
	FlightDate   string // the booked flight's date
	PlanItems    int    // support items in the reintegration plan
	Deliveries   int
	Visits       int
	Today        string // YYYY-MM-DD
}

// Move is one allowed transition: who may make it, whether it needs a
// reason, and its preconditions.
type Move struct {
	From, To Stage
	Who      []auth.Rule // any one of them suffices
	Reason   bool        // a reason must be given
	Reopen   bool        // brings back a case that had ended
	// Check returns what is missing for the move, or "" when it may happen;
	// nil when the move has no precondition beyond the stage.
	Check func(s caseState) string
}

func needFlight(s caseState) string {
	if !s.FlightBooked {
		return "a flight must be booked first"
	}
	return ""
}

func needDeparture(s caseState) string {
	var missing []string
	if !s.DocIssued {
		missing = append(missing, "an issued travel document")
	}
	if !s.FlightBooked {
		missing = append(missing, "a booked flight")
	} else if s.FlightDate > s.Today {
		missing = append(missing, fmt.Sprintf("the flight's date (%s) to have come", s.FlightDate))
	}
	if len(missing) > 0 {
		return "departure needs " + strings.Join(missing, " and ")
	}
	return ""
}

func needPlan(s caseState) string {
	var missing []string
	if !s.Departed {
		missing = append(missing, "a confirmed departure")
	}
	if !s.Partner {
		missing = append(missing, "an assigned reintegration partner")
	}
	if s.PlanItems == 0 {
		missing = append(missing, "a reintegration plan with at least one support item")
	}
	if len(missing) > 0 {
		return "reintegration needs " + strings.Join(missing, " and ")
	}
	return ""
}

func needDelivery(s caseState) string {
	if s.Deliveries == 0 {
		return "monitoring needs at least one recorded delivery of support"
	}
	return ""
}

func needVisit(s caseState) string {
	if s.Visits == 0 {
		return "closing after monitoring needs at least one monitoring visit"
	}
	return ""
}

func needNoShow(s caseState) string {
	if !s.FlightBooked {
		return "a no-show needs a booked flight"
	}
	if s.FlightDate > s.Today {
		return fmt.Sprintf("a no-show can be recorded only from the flight's date (%s)", s.FlightDate)
	}
	return ""
}

// Moves is the stage machine: every allowed transition. Anything not listed
// is refused (409).
var Moves = []Move{
	{From: Registered, To: Counselling, Who: officeCounsellor},
	{From: Counselling, To: Documents, Who: officeCounsellor},
	{From: Documents, To: TravelBooked, Who: office, Check: needFlight},
	{From: TravelBooked, To: Departed, Who: office, Check: needDeparture},
	{From: Departed, To: Reintegration, Who: officePartner, Check: needPlan},
	{From: Departed, To: Closed, Who: office, Reason: true},
	{From: Reintegration, To: Monitoring, Who: officePartner, Check: needDelivery},
	{From: Reintegration, To: Closed, Who: office, Reason: true},
	{From: Monitoring, To: Closed, Who: officePartner, Check: needVisit},
	{From: Registered, To: Withdrawn, Who: officeCounsellor, Reason: true},
	{From: Counselling, To: Withdrawn, Who: officeCounsellor, Reason: true},
	{From: Documents, To: Withdrawn, Who: officeCounsellor, Reason: true},
	{From: TravelBooked, To: Withdrawn, Who: officeCounsellor, Reason: true},
	{From: TravelBooked, To: NoShow, Who: office, Reason: true, Check: needNoShow},
	// Reopening: always with a reason.
	{From: Withdrawn, To: Counselling, Who: officeCounsellor, Reason: true, Reopen: true},
	{From: NoShow, To: Counselling, Who: officeCounsellor, Reason: true, Reopen: true},
	{From: Closed, To: Reintegration, Who: office, Reason: true, Reopen: true, Check: needPlan},
}

// FindMove returns the move from → to, or false when there is none.
func FindMove(from, to Stage) (Move, bool) {
	for _, m := range Moves {
		if m.From == from && m.To == to {
			return m, true
		}
	}
	return Move{}, false
}

// NextStages lists the stages a case in from may move to.
func NextStages(from Stage) []Stage {
	var out []Stage
	for _, m := range Moves {
		if m.From == from {
			out = append(out, m.To)
		}
	}
	return out
}

// Allows reports whether p, standing in rels to a case, may make m.
func (m Move) Allows(p *auth.Principal, rels []auth.Relation) bool {
	return allowsAny(p, rels, m.Who...)
}

// allowsAny reports whether any rule allows p on a record standing in any
// of rels to p's organisation.
func allowsAny(p *auth.Principal, rels []auth.Relation, rules ...auth.Rule) bool {
	if p == nil {
		return false
	}
	for _, r := range rules {
		if len(r.Relations) == 0 && r.Allows(p, auth.RelNone) {
			return true
		}
		for _, rel := range rels {
			if r.Allows(p, rel) {
				return true
			}
		}
	}
	return false
}
