package returns

import (
	"strings"
	"testing"

	"kompas/internal/platform/auth"
)

// wantMoves is the stage machine written out independently of Moves: every
// allowed transition, who may make it ("office" = caseworkers and return
// officers of the programme, "counsellor" = the chosen NGO, "partner" =
// the assigned partner) and whether it needs a reason.
var wantMoves = map[[2]Stage]struct {
	who    []string
	reason bool
}{
	{Registered, Counselling}:   {[]string{"office", "counsellor"}, false},
	{Counselling, Documents}:    {[]string{"office", "counsellor"}, false},
	{Documents, TravelBooked}:   {[]string{"office"}, false},
	{TravelBooked, Departed}:    {[]string{"office"}, false},
	{Departed, Reintegration}:   {[]string{"office", "partner"}, false},
	{Departed, Closed}:          {[]string{"office"}, true},
	{Reintegration, Monitoring}: {[]string{"office", "partner"}, false},
	{Reintegration, Closed}:     {[]string{"office"}, true},
	{Monitoring, Closed}:        {[]string{"office", "partner"}, false},
	{Registered, Withdrawn}:     {[]string{"office", "counsellor"}, true},
	{Counselling, Withdrawn}:    {[]string{"office", "counsellor"}, true},
	{Documents, Withdrawn}:      {[]string{"office", "counsellor"}, true},
	{TravelBooked, Withdrawn}:   {[]string{"office", "counsellor"}, true},
	{TravelBooked, NoShow}:      {[]string{"office"}, true},
	{Withdrawn, Counselling}:    {[]string{"office", "counsellor"}, true},
	{NoShow, Counselling}:       {[]string{"office", "counsellor"}, true},
	{Closed, Reintegration}:     {[]string{"office"}, true},
}

// actor is a caller with the relations a case has to their organisation.
type actor struct {
	name string
	kind string // office, counsellor, partner or "" (may never move)
	p    *auth.Principal
	rels []auth.Relation
}

func principal(role auth.Role, org int64) *auth.Principal {
	return &auth.Principal{UserID: 1, Email: string(role) + "@example", Role: role, OrgID: org, OrgSlug: "org", OrgName: "Org"}
}

var actors = []actor{
	{"caseworker of the programme", "office", principal(auth.RoleCaseworker, 1), []auth.Relation{RelProgramme}},
	{"return officer of the programme", "office", principal(auth.RoleReturnOfficer, 2), []auth.Relation{RelProgramme}},
	{"return officer of IOM, chosen", "office", principal(auth.RoleReturnOfficer, 2), []auth.Relation{auth.RelChosen}},
	{"caseworker of another programme", "", principal(auth.RoleCaseworker, 1), nil},
	{"counsellor of the chosen NGO", "counsellor", principal(auth.RoleCounsellor, 3), []auth.Relation{auth.RelChosen}},
	{"counsellor of another NGO", "", principal(auth.RoleCounsellor, 4), nil},
	{"assigned partner", "partner", principal(auth.RolePartner, 5), []auth.Relation{auth.RelAssigned}},
	{"partner not assigned", "", principal(auth.RolePartner, 6), nil},
	{"counsellor who is somehow assigned", "", principal(auth.RoleCounsellor, 5), []auth.Relation{auth.RelAssigned}},
	{"partner with the programme relation", "", principal(auth.RolePartner, 1), []auth.Relation{RelProgramme}},
	{"policy officer", "", principal(auth.RolePolicyOfficer, 7), []auth.Relation{RelProgramme, auth.RelChosen, auth.RelAssigned}},
	{"analyst", "", principal(auth.RoleAnalyst, 8), []auth.Relation{RelProgramme, auth.RelChosen, auth.RelAssigned}},
	{"administrator", "", principal(auth.RoleAdmin, 9), []auth.Relation{RelProgramme, auth.RelChosen, auth.RelAssigned}},
	{"privacy officer", "", principal(auth.RolePrivacyOfficer, 9), []auth.Relation{RelProgramme}},
}

// TestStageMachine checks every ordered pair of stages: the pairs in
// wantMoves are allowed for exactly the callers listed, with a reason when
// listed; every other pair is refused for everyone.
func TestStageMachine(t *testing.T) {
	n := 0
	for _, from := range Stages {
		for _, to := range Stages {
			want, allowed := wantMoves[[2]Stage{from, to}]
			m, ok := FindMove(from, to)
			if ok != allowed {
				t.Errorf("%s → %s: allowed = %v, want %v", from, to, ok, allowed)
				continue
			}
			if !ok {
				n++
				continue
			}
			if m.Reason != want.reason {
				t.Errorf("%s → %s: reason required = %v, want %v", from, to, m.Reason, want.reason)
			}
			if m.Reopen != (from == Withdrawn || from == NoShow || from == Closed) {
				t.Errorf("%s → %s: reopen = %v", from, to, m.Reopen)
			}
			for _, a := range actors {
				wantAllowed := a.kind != "" && oneOf(a.kind, want.who)
				if got := m.Allows(a.p, a.rels); got != wantAllowed {
					t.Errorf("%s → %s by %s: allowed = %v, want %v", from, to, a.name, got, wantAllowed)
				}
			}
			n++
		}
	}
	if n != len(Stages)*len(Stages) {
		t.Errorf("checked %d pairs, want %d", n, len(Stages)*len(Stages))
	}
	// Moves without a check are exactly those without a precondition.
	for _, m := range Moves {
		guarded := m.To == TravelBooked || m.To == Departed || m.To == NoShow || m.To == Reintegration || m.To == Monitoring || (m.From == Monitoring && m.To == Closed)
		if (m.Check != nil) != guarded {
			t.Errorf("%s → %s: has a precondition check = %v, want %v", m.From, m.To, m.Check != nil, guarded)
		}
	}
	if len(Moves) != len(wantMoves) {
		t.Errorf("Moves has %d entries, the table %d", len(Moves), len(wantMoves))
	}
}

// TestPreconditions checks each guarded move refuses a case that lacks
// what it needs, names what is missing, and passes once it is there.
func TestPreconditions(t *testing.T) {
	ready := caseState{Departed: true, Partner: true, DocIssued: true, FlightBooked: true, FlightDate: "2026-03-01",
		PlanItems: 2, Deliveries: 1, Visits: 1, Today: "2026-03-01"}
	cases := []struct {
		from, to Stage
		breakIt  func(*caseState)
		want     string
	}{
		{Documents, TravelBooked, func(s *caseState) { s.FlightBooked = false }, "flight must be booked"},
		{TravelBooked, Departed, func(s *caseState) { s.DocIssued = false }, "an issued travel document"},
		{TravelBooked, Departed, func(s *caseState) { s.FlightBooked = false }, "a booked flight"},
		{TravelBooked, Departed, func(s *caseState) { s.FlightDate = "2026-03-02" }, "the flight's date (2026-03-02) to have come"},
		{TravelBooked, NoShow, func(s *caseState) { s.FlightDate = "2026-03-05" }, "from the flight's date"},
		{TravelBooked, NoShow, func(s *caseState) { s.FlightBooked = false }, "needs a booked flight"},
		{Departed, Reintegration, func(s *caseState) { s.Partner = false }, "an assigned reintegration partner"},
		{Departed, Reintegration, func(s *caseState) { s.PlanItems = 0 }, "a reintegration plan with at least one support item"},
		{Closed, Reintegration, func(s *caseState) { s.Departed = false }, "a confirmed departure"},
		{Reintegration, Monitoring, func(s *caseState) { s.Deliveries = 0 }, "at least one recorded delivery"},
		{Monitoring, Closed, func(s *caseState) { s.Visits = 0 }, "at least one monitoring visit"},
	}
	for _, c := range cases {
		m, ok := FindMove(c.from, c.to)
		if !ok {
			t.Fatalf("%s → %s is not a move", c.from, c.to)
		}
		if m.Check == nil {
			t.Fatalf("%s → %s has no precondition check", c.from, c.to)
		}
		if got := m.Check(ready); got != "" {
			t.Errorf("%s → %s with everything in place: %q", c.from, c.to, got)
		}
		st := ready
		c.breakIt(&st)
		if got := m.Check(st); !strings.Contains(got, c.want) {
			t.Errorf("%s → %s: missing %q, got %q", c.from, c.to, c.want, got)
		}
	}
	// Departure needs both at once; the message names both.
	m, _ := FindMove(TravelBooked, Departed)
	if got := m.Check(caseState{Today: "2026-03-01"}); !strings.Contains(got, "an issued travel document and a booked flight") {
		t.Errorf("departure with nothing: %q", got)
	}
}

func TestViewFor(t *testing.T) {
	for _, a := range actors {
		got := viewFor(a.p, a.rels)
		want := ViewNone
		switch a.kind {
		case "office", "counsellor":
			want = ViewFull
		case "partner":
			want = ViewPartner
		}
		if got != want {
			t.Errorf("%s: view %s, want %s", a.name, got, want)
		}
	}
}

func TestScore(t *testing.T) {
	set := &IndicatorSet{Code: "t", Indicators: []Indicator{
		{"e1", "economic", ""}, {"e2", "economic", ""}, {"s1", "social", ""}, {"p1", "psychosocial", ""}, {"p2", "psychosocial", ""},
	}}
	e, s, p, o := Score(set, map[string]int{"e1": 5, "e2": 5, "s1": 1, "p1": 3, "p2": 4})
	if e != 1 || s != 0 || p != 0.625 || o != 0.542 {
		t.Errorf("scores = %v %v %v %v, want 1 0 0.625 0.542", e, s, p, o)
	}
}

func TestSuppression(t *testing.T) {
	cells := []Count{newCount("a", "A", 40, 5), newCount("b", "B", 7, 5), newCount("c", "C", 3, 5), newCount("d", "D", 0, 5)}
	cells = suppressBreakdown(cells, 5, true)
	if cells[0].Count == nil || *cells[0].Count != 40 || cells[0].Share == nil || *cells[0].Share != 80 {
		t.Errorf("a: %+v", cells[0])
	}
	if !cells[2].Suppressed || cells[2].Count != nil || cells[2].Share != nil {
		t.Errorf("c (3) must be suppressed: %+v", cells[2])
	}
	if !cells[1].Suppressed || cells[1].Count != nil {
		t.Errorf("b (7) must be suppressed too, or 50 - 40 - 7 gives c away: %+v", cells[1])
	}
	if cells[3].Suppressed || cells[3].Count == nil || *cells[3].Count != 0 {
		t.Errorf("d (0) is shown as 0: %+v", cells[3])
	}
	if got := median([][2]int64{{1, 2}, {4, 1}, {10, 1}}, 4); got != 2.5 {
		t.Errorf("median = %v, want 2.5", got)
	}
	if got := median([][2]int64{{3, 3}}, 3); got != 3 {
		t.Errorf("median = %v, want 3", got)
	}
}

// TestSuppressionBoundary pins the threshold on both sides: a count of
// exactly 5 is shown, 4 is suppressed, in a single count and in a
// breakdown (where two suppressed cells need no complementary one).
func TestSuppressionBoundary(t *testing.T) {
	for _, c := range []struct {
		n          int
		suppressed bool
	}{{0, false}, {1, true}, {4, true}, {5, false}, {6, false}} {
		got := newCount("k", "K", c.n, 5)
		if got.Suppressed != c.suppressed || (got.Count == nil) != c.suppressed {
			t.Errorf("newCount(%d): suppressed %v, count %v; want suppressed %v", c.n, got.Suppressed, got.Count, c.suppressed)
		}
		if got.Count != nil && *got.Count != c.n {
			t.Errorf("newCount(%d) shows %d", c.n, *got.Count)
		}
	}
	cells := suppressBreakdown([]Count{newCount("a", "A", 20, 5), newCount("b", "B", 5, 5), newCount("c", "C", 4, 5), newCount("d", "D", 4, 5)}, 5, true)
	for i, want := range []bool{false, false, true, true} {
		if cells[i].Suppressed != want || (cells[i].Count == nil) != want || (cells[i].Share == nil) != want {
			t.Errorf("breakdown 20, 5, 4, 4: cell %s (%d) suppressed %v with count %v share %v; want suppressed %v", cells[i].Key, cells[i].raw, cells[i].Suppressed, cells[i].Count, cells[i].Share, want)
		}
	}
	// One 4 alone takes the next smallest, a 5, with it.
	cells = suppressBreakdown([]Count{newCount("a", "A", 20, 5), newCount("b", "B", 5, 5), newCount("c", "C", 4, 5)}, 5, false)
	if cells[0].Suppressed || !cells[1].Suppressed || !cells[2].Suppressed {
		t.Errorf("breakdown 20, 5, 4: suppressed %v %v %v, want false true true", cells[0].Suppressed, cells[1].Suppressed, cells[2].Suppressed)
	}
}

func TestParseMinor(t *testing.T) {
	for in, want := range map[string]int64{"1500": 150000, "1500.5": 150050, "0.05": 5, "12.34": 1234} {
		if got, ok := parseMinor(in); !ok || got != want {
			t.Errorf("parseMinor(%q) = %d, %v; want %d", in, got, ok, want)
		}
	}
	for _, bad := range []string{"", "-1", "1.234", "1e5", "abc", ".5", "1.", "99999999999999999"} {
		if _, ok := parseMinor(bad); ok {
			t.Errorf("parseMinor(%q) accepted", bad)
		}
	}
	if formatMinor(150050) != "1500.50" {
		t.Errorf("formatMinor = %s", formatMinor(150050))
	}
}
