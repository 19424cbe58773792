package demo

import (
	"context"
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"slices"
	"strconv"
	"strings"
	"time"

	"kompas/internal/platform/auth"
	"kompas/internal/platform/store"
	"kompas/internal/returns"
)

// ReturnCases is how many synthetic return cases the demo holds.
const ReturnCases = 200

// returnPartners are the five reintegration partners of the Frontex
// programme in the seed ("five reintegration partners … with the capacity
// to cover 26 partner countries"): the demo's own partner and four more.
var returnPartners = []struct {
	Slug, Name string
	Countries  []string
}{
	{"reintegration", "Reintegration Partner (demo)", []string{"AF", "AM", "GE", "IQ", "IR", "PK", "TR"}},
	{"reintegration-maghreb", "Maghreb Reintegration Partner (demo)", []string{"DZ", "EG", "MA", "TN"}},
	{"reintegration-west-africa", "West Africa Reintegration Partner (demo)", []string{"CI", "CM", "GH", "GM", "GN", "ML", "NE", "NG", "SN"}},
	{"reintegration-horn", "Horn of Africa Reintegration Partner (demo)", []string{"ET", "SD", "SO"}},
	{"reintegration-asia", "South Asia and Balkans Reintegration Partner (demo)", []string{"AL", "BD", "LK", "PK"}},
}

// returnCountries are the countries of return the seed names (Iraq,
// Nigeria, Ethiopia, Morocco, Tunisia, Turkey, Afghanistan, Algeria …) with
// weights; Eritrea has no partner, so its returns get no reintegration
// assistance.
var returnCountries = []struct {
	Code   string
	Weight int
}{
	{"IQ", 14}, {"NG", 10}, {"MA", 10}, {"ET", 8}, {"TR", 8}, {"AF", 8}, {"TN", 7}, {"DZ", 7}, {"EG", 4}, {"SD", 3}, {"SO", 3},
	{"GH", 3}, {"SN", 3}, {"GN", 2}, {"PK", 3}, {"GE", 3}, {"AL", 2}, {"ER", 2},
}

var migrantNames = map[string][2][]string{
	"arabic":    {{"Ahmed", "Fatima", "Omar", "Layla", "Yusuf", "Amina", "Karim", "Nour", "Hassan", "Salma"}, {"Al-Sayed", "Haddad", "Mansour", "Benali", "Aziz", "Khalil", "Saleh", "Nasser"}},
	"west":      {{"Chinedu", "Aisha", "Emeka", "Ngozi", "Kwame", "Fatou", "Ibrahima", "Adaeze", "Mamadou", "Awa"}, {"Okafor", "Adeyemi", "Diallo", "Mensah", "Sow", "Balogun", "Camara", "Eze"}},
	"horn":      {{"Abebe", "Selam", "Dawit", "Hiwot", "Yonas", "Meron", "Abdi", "Hodan", "Tesfaye", "Saba"}, {"Bekele", "Tadesse", "Haile", "Mohamed", "Girma", "Warsame", "Tesfay", "Ali"}},
	"turkic":    {{"Mehmet", "Ayşe", "Emre", "Zeynep", "Giorgi", "Nino", "Arben", "Elira", "Murat", "Elif"}, {"Yılmaz", "Kaya", "Demir", "Beridze", "Hoxha", "Çelik", "Lomidze", "Krasniqi"}},
	"southasia": {{"Ahmad", "Zahra", "Farid", "Maryam", "Bilal", "Sana", "Rahim", "Nadia", "Imran", "Parisa"}, {"Karimi", "Ahmadzai", "Khan", "Hussain", "Rahimi", "Hossain", "Perera", "Sultani"}},
}

func nameRegion(country string) string {
	switch country {
	case "IQ", "MA", "TN", "DZ", "EG", "SD":
		return "arabic"
	case "NG", "GH", "SN", "GN":
		return "west"
	case "ET", "SO", "ER":
		return "horn"
	case "TR", "GE", "AL":
		return "turkic"
	}
	return "southasia"
}

// stageWeights is how the demo's cases end up spread over the stages.
var stageWeights = []struct {
	Stage  returns.Stage
	Weight int
}{
	{returns.Registered, 6}, {returns.Counselling, 12}, {returns.Documents, 10}, {returns.TravelBooked, 6}, {returns.Departed, 6},
	{returns.Reintegration, 14}, {returns.Monitoring, 10}, {returns.Closed, 26}, {returns.Withdrawn, 7}, {returns.NoShow, 3},
}

// stageDays is the usual time in a stage, min and max days.
var stageDays = map[returns.Stage][2]int{
	returns.Registered: {1, 10}, returns.Counselling: {5, 50}, returns.Documents: {10, 80}, returns.TravelBooked: {5, 25},
	returns.Departed: {1, 20}, returns.Reintegration: {60, 300}, returns.Monitoring: {30, 170},
}

// The demo accounts that work on return cases.
const (
	caseworkerRDS = "caseworker@rds.example"
	officerIOM    = "officer@iom.example"
	partnerDemo   = "partner@reintegration.example"
	adminMFA      = "admin@mfa.example"
)

// counsellorOf is the demo account that acts for an organisation that
// counsels or registers cases.
var counsellorOf = map[string]string{"iom": officerIOM, "ngo-one": "counsellor@ngo-one.example", "ngo-two": "counsellor@ngo-two.example", "rds": caseworkerRDS}

// loadReturns adds the demo's reintegration partners, the countries they
// cover and ReturnCases synthetic cases spread over the stages, unless the
// case register holds cases already. It reports how many cases it added.
//
// The cases go through returns.Service as a user's would: each is
// registered, moved and given its records (consent, travel documents,
// flights, partner, plan, deliveries, visits, referrals) by the demo
// account whose role does that, one service call and one transaction at a
// time, with the service's clock set to when that step happens, so the
// timelines reach back over the past year and every rule of the stage
// machine holds. The plan is drawn from a seeded generator, so the figures
// are the same on every load; only the references (random, as for any
// case) and the audit times differ.
func loadReturns(ctx context.Context, db *store.DB) (int, error) {
	clock := time.Time{}
	svc := &returns.Service{DB: db, Now: func() time.Time { return clock }}
	st, err := svc.Stats(ctx)
	if err != nil {
		return 0, err
	}
	if st.Cases.Suppressed || (st.Cases.Count != nil && *st.Cases.Count > 0) {
		return 0, nil
	}
	who, err := demoPrincipals(ctx, db)
	if err != nil {
		return 0, err
	}
	if err := ensurePartners(ctx, db, svc, who[adminMFA]); err != nil {
		return 0, err
	}
	set, err := svc.Indicators(ctx, "")
	if err != nil {
		return 0, err
	}
	caps := map[string]int64{}
	progs, err := svc.Programmes(ctx)
	if err != nil {
		return 0, err
	}
	for _, pr := range progs {
		whole, _, _ := strings.Cut(pr.BudgetCap, ".")
		eur, err := strconv.ParseInt(whole, 10, 64)
		if err != nil {
			return 0, fmt.Errorf("demo: budget cap of %s: %w", pr.Code, err)
		}
		caps[pr.Code] = eur
	}
	cases := planReturnCases(store.Now(), set, caps)
	for i, c := range cases {
		clock = c.at
		created, err := svc.Create(ctx, who[c.as], c.in)
		if err != nil {
			return i, fmt.Errorf("demo: return case %d: register: %w", i+1, err)
		}
		for _, s := range c.steps {
			clock = s.at
			if err := s.run(ctx, svc, who[s.as], created.ID); err != nil {
				return i + 1, fmt.Errorf("demo: return case %d (%s): %s: %w", i+1, created.Reference, s.what, err)
			}
		}
	}
	return len(cases), nil
}

// demoPrincipals signs in, as it were, every demo account that works on
// return cases, and the administrator who declares partners' countries.
func demoPrincipals(ctx context.Context, db *store.DB) (map[string]*auth.Principal, error) {
	svc := &auth.Service{DB: db}
	users, err := svc.Users(ctx)
	if err != nil {
		return nil, err
	}
	out := map[string]*auth.Principal{}
	for _, u := range users {
		if u.Disabled {
			continue
		}
		o, err := svc.OrgBySlug(ctx, db, u.OrgSlug)
		if err != nil {
			return nil, err
		}
		out[u.Email] = &auth.Principal{UserID: u.ID, Email: u.Email, Name: u.Name, Role: u.Role, OrgID: o.ID, OrgSlug: o.Slug, OrgName: o.Name, OrgKind: o.Kind}
	}
	for _, email := range []string{caseworkerRDS, officerIOM, partnerDemo, adminMFA, counsellorOf["ngo-one"], counsellorOf["ngo-two"]} {
		if out[email] == nil {
			return nil, fmt.Errorf("demo: return cases need the account %s", email)
		}
	}
	return out, nil
}

// ensurePartners adds the partners that are missing and declares the
// countries of those that cover none yet.
func ensurePartners(ctx context.Context, db *store.DB, svc *returns.Service, admin *auth.Principal) error {
	as := &auth.Service{DB: db}
	err := db.Transact(ctx, func(tx *store.Tx) error {
		for _, p := range returnPartners {
			if _, err := as.EnsureOrg(ctx, tx, auth.Org{Slug: p.Slug, Name: p.Name, Kind: "reintegration_partner"}); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		return fmt.Errorf("demo: reintegration partners: %w", err)
	}
	have, err := svc.Partners(ctx)
	if err != nil {
		return err
	}
	covers := map[string]int{}
	for _, p := range have {
		covers[p.Slug] = len(p.Countries)
	}
	for _, p := range returnPartners {
		if covers[p.Slug] > 0 {
			continue
		}
		if _, err := svc.DeclareCountries(ctx, admin, p.Slug, returns.CountriesInput{Countries: p.Countries}); err != nil {
			return fmt.Errorf("demo: countries of %s: %w", p.Slug, err)
		}
	}
	return nil
}

// plannedCase is one synthetic case: who registers it when, and the steps
// that follow, in time order.
type plannedCase struct {
	at    time.Time
	as    string
	in    returns.CreateInput
	steps []step
}

// step is one service call on a case, made by the demo account as at at.
type step struct {
	at   time.Time
	as   string
	what string
	run  func(ctx context.Context, s *returns.Service, p *auth.Principal, id int64) error
}

// planner draws the demo's cases. Its draws come in a fixed order (every
// case first, then every case's records), so the seeded generator gives
// the same cases, and so the same statistics and review figures, on every
// load.
type planner struct {
	rng       *rand.Rand
	now       time.Time
	covering  map[string][]string // country → partners covering it
	indicator *returns.IndicatorSet
	caps      map[string]int64 // programme → budget cap in whole units
	shownVuln bool
}

func (g *planner) pick(n int) int { return g.rng.IntN(n) }

func (g *planner) chance(p float64) bool { return g.rng.Float64() < p }

func (g *planner) between(lo, hi int) int { return lo + g.rng.IntN(hi-lo+1) }

// planReturnCases draws ReturnCases cases whose timelines end at now.
func planReturnCases(now time.Time, set *returns.IndicatorSet, caps map[string]int64) []*plannedCase {
	g := &planner{rng: rand.New(rand.NewPCG(2026, 21)), now: now, covering: map[string][]string{}, indicator: set, caps: caps}
	for _, p := range returnPartners {
		for _, c := range p.Countries {
			g.covering[c] = append(g.covering[c], p.Slug)
		}
	}
	countryTotal, stageTotal := 0, 0
	for _, c := range returnCountries {
		countryTotal += c.Weight
	}
	for _, s := range stageWeights {
		stageTotal += s.Weight
	}
	cases := make([]*plannedCase, 0, ReturnCases)
	var records []func()
	for range ReturnCases {
		w := g.pick(countryTotal)
		country := returnCountries[0].Code
		for _, c := range returnCountries {
			if w < c.Weight {
				country = c.Code
				break
			}
			w -= c.Weight
		}
		w = g.pick(stageTotal)
		final := stageWeights[0].Stage
		for _, s := range stageWeights {
			if w < s.Weight {
				final = s.Stage
				break
			}
			w -= s.Weight
		}
		c, rec := g.planCase(country, final)
		cases = append(cases, c)
		records = append(records, rec)
	}
	for _, rec := range records {
		rec()
	}
	for _, c := range cases {
		slices.SortStableFunc(c.steps, func(a, b step) int { return a.at.Compare(b.at) })
	}
	return cases
}

// pathTo is the stages a case passes through to reach final; assisted says
// whether a closed case went through reintegration.
func pathTo(final returns.Stage, assisted bool) []returns.Stage {
	pre := []returns.Stage{returns.Registered, returns.Counselling, returns.Documents, returns.TravelBooked}
	switch final {
	case returns.Registered, returns.Counselling, returns.Documents, returns.TravelBooked:
		return pre[:slices.Index(pre, final)+1]
	case returns.Departed:
		return append(pre, returns.Departed)
	case returns.Reintegration:
		return append(pre, returns.Departed, returns.Reintegration)
	case returns.Monitoring:
		return append(pre, returns.Departed, returns.Reintegration, returns.Monitoring)
	case returns.Closed:
		if assisted {
			return append(pre, returns.Departed, returns.Reintegration, returns.Monitoring, returns.Closed)
		}
		return append(pre, returns.Departed, returns.Closed)
	case returns.NoShow:
		return append(pre, returns.NoShow)
	}
	return nil
}

// planCase draws a case that ends in final (or near it: a country no
// partner covers gets no reintegration). It returns the case with its
// moves, and a function that draws its records, to be called after every
// case has been drawn.
func (g *planner) planCase(country string, final returns.Stage) (*plannedCase, func()) {
	// The migrant's choice: IOM for about six in ten, then the two NGOs.
	counsel := "iom"
	switch r := g.rng.Float64(); {
	case r < 0.20:
		counsel = "ngo-one"
	case r < 0.38:
		counsel = "ngo-two"
	}
	programme := "national"
	if counsel == "iom" {
		programme = "iom_return"
		if g.chance(0.12) {
			programme = "iom_stranded"
		}
	} else if g.chance(0.3) {
		programme = "frontex_reintegration"
	}
	// IOM carries most returns with reintegration assistance (the seed's
	// "around 80%"): its departed cases are far more often assisted.
	assistP := 0.35
	if counsel == "iom" {
		assistP = 0.9
	}
	covered := len(g.covering[country]) > 0
	assisted := covered && g.chance(assistP)
	if !covered && (final == returns.Reintegration || final == returns.Monitoring) {
		final = returns.Closed
	}
	if !assisted && (final == returns.Reintegration || final == returns.Monitoring) {
		final = returns.Departed
	}
	var path []returns.Stage
	if final == returns.Withdrawn {
		path = append(pathTo([]returns.Stage{returns.Registered, returns.Counselling, returns.Documents, returns.TravelBooked}[g.pick(4)], false), returns.Withdrawn)
	} else {
		path = pathTo(final, assisted)
	}
	if final != returns.Closed {
		assisted = slices.Contains(path, returns.Reintegration)
	}

	intake := counsel
	if programme == "national" && g.chance(0.3) {
		intake = "rds"
	}
	// The programme's operator books, moves and closes; IOM for its own.
	office := caseworkerRDS
	if programme == "iom_return" || programme == "iom_stranded" {
		office = officerIOM
	}
	partner := ""
	if assisted || (covered && (final == returns.TravelBooked || final == returns.Departed) && g.chance(0.5)) {
		cands := g.covering[country]
		partner = cands[g.pick(len(cands))]
	}

	durs, at := g.drawTimes(path)
	start, day, last := at[0], 24*time.Hour, len(path)-1

	people := g.drawPeople(country, start)
	// The demo partner's first assisted case always carries special-category
	// data, so the partner's projection visibly leaves it out.
	if partner == "reintegration" && !g.shownVuln {
		people[0].Vulnerabilities = []string{"medical_needs", "trafficking_victim"}
		g.shownVuln = true
	}
	// Ten draws once made the case's reference; the service makes it now,
	// but the draws stay so the cases drawn after this one stay the same.
	for range 10 {
		g.pick(32)
	}
	history := []string{
		"Asylum application rejected; no further procedure pending.",
		"Regular stay ended (residence permit expired); wishes to return.",
		"Dublin procedure concluded; applied for assisted voluntary return.",
		"Stranded in transit; asked IOM for help to return.",
	}[g.pick(4)]

	c := &plannedCase{at: start, as: counsellorOf[intake], in: returns.CreateInput{
		CountryOfReturn: country, CounsellingOrg: counsel, Programme: programme, ChosenOn: start.Format("2006-01-02"),
		ImmigrationHistory: history, Migrants: people,
	}}
	// add schedules a step unless it would fall after now (the case has
	// not got that far yet).
	add := func(when time.Time, as, what string, run func(ctx context.Context, s *returns.Service, p *auth.Principal, id int64) error) {
		if !when.After(g.now) {
			c.steps = append(c.steps, step{at: when, as: as, what: what, run: run})
		}
	}
	// The moves, each by the party whose work it is.
	for k := 1; k <= last; k++ {
		s := path[k]
		as := office
		switch s {
		case returns.Counselling, returns.Documents, returns.Withdrawn:
			as = counsellorOf[counsel]
		case returns.Reintegration, returns.Monitoring:
			if partner == "reintegration" {
				as = partnerDemo
			}
		}
		if k == last && s == returns.Closed && partner == "reintegration" && assisted {
			as = partnerDemo
		}
		reason := ""
		switch {
		case s == returns.Withdrawn:
			reason = "The migrant decided not to return."
		case s == returns.NoShow:
			reason = "Did not come to the airport; no contact since."
		case s == returns.Closed && !assisted:
			reason = "Returned without reintegration assistance."
		}
		in := returns.TransitionInput{To: string(s), Reason: reason}
		add(at[k], as, "move to "+string(s), func(ctx context.Context, sv *returns.Service, p *auth.Principal, id int64) error {
			_, err := sv.Transition(ctx, p, id, in)
			return err
		})
	}
	reached := func(s returns.Stage) int { return slices.Index(path, s) }
	// until is when the case leaves the stage at index k (or far ahead).
	until := func(k int) time.Time {
		if k < last {
			return at[k+1]
		}
		return g.now.Add(time.Hour)
	}
	ymd := func(t time.Time) string { return t.Format("2006-01-02") }

	records := func() {
		counsellor := counsellorOf[counsel]
		// A partner can be assigned only with written consent, so every
		// case with a partner has it; nine in ten of the others.
		k := reached(returns.Counselling)
		consented := k >= 0 && (g.chance(0.9) || partner != "")
		if consented {
			when := at[k].Add(48 * time.Hour)
			in := returns.ConsentInput{Written: true, GivenOn: ymd(when), Scope: []string{"reintegration_partner", "referrals"}}
			add(when, counsellor, "consent", func(ctx context.Context, s *returns.Service, p *auth.Principal, id int64) error {
				return s.RecordConsent(ctx, p, id, in)
			})
			if partner != "" {
				in := returns.PartnerInput{Partner: partner}
				add(when.Add(time.Minute), office, "assign partner", func(ctx context.Context, s *returns.Service, p *auth.Principal, id int64) error {
					return s.AssignPartner(ctx, p, id, in)
				})
			}
		}
		if k := reached(returns.Documents); k >= 0 {
			kind := "passport"
			if held := people[0].DocumentsHeld[0]; held != "passport" {
				kind = "laissez_passer"
			}
			when := at[k].Add(24 * time.Hour)
			in := returns.TravelDocumentInput{Kind: kind, Authority: "embassy", AuthorityCountry: country, RequestedOn: ymd(when)}
			add(when, office, "request travel document", func(ctx context.Context, s *returns.Service, p *auth.Principal, id int64) error {
				_, err := s.RequestTravelDocument(ctx, p, id, in)
				return err
			})
			if reached(returns.TravelBooked) >= 0 {
				d := at[k].Add(time.Duration(durs[k]) * day / 2)
				in := returns.DecisionInput{Status: "issued", DecidedOn: ymd(d), ValidUntil: ymd(d.AddDate(0, 6, 0))}
				add(d, office, "travel document issued", func(ctx context.Context, s *returns.Service, p *auth.Principal, id int64) error {
					return s.DecideTravelDocument(ctx, p, id, 1, in)
				})
			}
		}
		if k := reached(returns.TravelBooked); k >= 0 {
			// Booked the hour before the move, for the day the case leaves
			// the stage (departs, or does not show).
			flightDate := at[k].Add(time.Duration(durs[k]) * day)
			medical := ""
			if slices.Contains(people[0].Vulnerabilities, "medical_needs") {
				medical = "Needs daily medication during travel."
			}
			in := returns.FlightInput{Date: ymd(flightDate), Route: "AMS-IST-" + hub(country), Escort: medical != "", MedicalNeeds: medical}
			add(at[k].Add(-time.Hour), office, "book flight", func(ctx context.Context, s *returns.Service, p *auth.Principal, id int64) error {
				_, err := s.BookFlight(ctx, p, id, in)
				return err
			})
		}
		if !assisted {
			return
		}
		d := reached(returns.Departed)
		writer := office
		if partner == "reintegration" {
			writer = partnerDemo
		}
		plan := returns.PlanInput{
			Needs:       []string{"Housing for the first months; work.", "Income for the family; school for the children.", "A small business; medical follow-up."}[g.pick(3)],
			Aspirations: []string{"Open a shop", "Work as a driver", "Go back to farming", "Train as an electrician"}[g.pick(4)],
			StartOn:     ymd(at[d].Add(7 * day)),
			Months:      g.between(6, 12),
		}
		types := []string{"post_arrival", "housing", "business_startup", "job_counselling", "education", "medical", "in_kind"}
		n := g.between(1, 3)
		amounts := make([]int64, n)
		for k := range n {
			// Within the programme's cap, as the service insists.
			amounts[k] = min(int64(g.between(2, 6))*100, g.caps[programme]/int64(n))
			plan.Support = append(plan.Support, returns.SupportInput{Type: types[(k+g.pick(3))%len(types)],
				Description: "Support item " + strconv.Itoa(k+1), Amount: json.Number(strconv.FormatInt(amounts[k], 10))})
		}
		// Planned while the case is in departed, before reintegration.
		add(at[d].Add(time.Duration(durs[d])*day/2), writer, "plan", func(ctx context.Context, s *returns.Service, p *auth.Principal, id int64) error {
			return s.SavePlan(ctx, p, id, plan)
		})
		if r := reached(returns.Reintegration); r >= 0 {
			for k := range n {
				if path[last] == returns.Reintegration && k > 0 {
					break
				}
				when := at[r].Add(time.Duration(10+20*k) * day)
				in := returns.DeliveryInput{Item: k + 1, DeliveredOn: ymd(when), Amount: json.Number(strconv.FormatInt(amounts[k], 10))}
				add(when, writer, "delivery", func(ctx context.Context, s *returns.Service, p *auth.Principal, id int64) error {
					_, err := s.RecordDelivery(ctx, p, id, in)
					return err
				})
			}
		}
		if m := reached(returns.Monitoring); m >= 0 {
			// The bound is drawn again each round, as it always was.
			for k := 0; k < g.between(1, 2); k++ {
				when := at[m].Add(time.Duration(5+30*k) * day)
				if when.After(g.now) {
					break
				}
				scores := map[string]int{}
				for _, ind := range g.indicator.Indicators {
					scores[ind.Key] = g.between(2, 5)
				}
				if !when.Before(until(m)) {
					continue // the case was closed by then
				}
				in := returns.VisitInput{VisitedOn: ymd(when), IndicatorSet: g.indicator.Code, Scores: scores}
				add(when, writer, "visit", func(ctx context.Context, s *returns.Service, p *auth.Principal, id int64) error {
					_, err := s.RecordVisit(ctx, p, id, in)
					return err
				})
			}
		}
		if g.chance(0.3) {
			status := []string{"sent", "accepted", "done", "rejected"}[g.pick(4)]
			in := returns.ReferralInput{Service: []string{"District health centre", "Vocational training institute", "Legal aid office"}[g.pick(3)],
				Kind: []string{"health", "employment", "legal"}[g.pick(3)], Country: country}
			if !consented {
				return
			}
			add(at[d].Add(20*day), writer, "referral", func(ctx context.Context, s *returns.Service, p *auth.Principal, id int64) error {
				_, err := s.SendReferral(ctx, p, id, in)
				return err
			})
			var moves []string
			switch status {
			case "accepted", "rejected":
				moves = []string{status}
			case "done":
				moves = []string{"accepted", "done"}
			}
			for k, to := range moves {
				add(at[d].Add(time.Duration(25+5*k)*day), writer, "referral "+to, func(ctx context.Context, s *returns.Service, p *auth.Principal, id int64) error {
					return s.UpdateReferral(ctx, p, id, 1, returns.ReferralStatusInput{Status: to})
				})
			}
		}
	}
	return c, records
}

// drawTimes draws how many days a case spends in each stage of path (the
// last, when open, sometimes over its time: overdue) and returns them with
// when the case entered each stage, ending now.
func (g *planner) drawTimes(path []returns.Stage) (durs []int, at []time.Time) {
	durs = make([]int, len(path))
	total := 0
	for k, s := range path {
		r, ok := stageDays[s]
		if !ok {
			r = [2]int{1, 60}
		}
		durs[k] = g.between(r[0], r[1])
		if k == len(path)-1 && s.Open() {
			durs[k] = g.between(0, r[1]*3/2) // some run over: overdue
		}
		total += durs[k]
	}
	day := 24 * time.Hour
	t := g.now.Add(-time.Duration(total)*day - time.Duration(g.pick(24*60))*time.Minute)
	at = make([]time.Time, len(path))
	for k := range path {
		at[k] = t
		t = t.Add(time.Duration(durs[k]) * day)
	}
	return durs, at
}

// drawPeople draws the migrants of a case to country: the principal and
// maybe a family, with names of the region, ages from start, documents and
// vulnerabilities.
func (g *planner) drawPeople(country string, start time.Time) []returns.MigrantInput {
	region := migrantNames[nameRegion(country)]
	family := region[1][g.pick(len(region[1]))]
	people := []returns.MigrantInput{{Relationship: "principal"}}
	if g.chance(0.3) {
		people = append(people, returns.MigrantInput{Relationship: "spouse"})
		for k := g.between(0, 2); k > 0; k-- {
			people = append(people, returns.MigrantInput{Relationship: "child"})
		}
	}
	for k := range people {
		p := &people[k]
		p.GivenName, p.FamilyName, p.Nationality = region[0][g.pick(len(region[0]))], family, country
		p.Sex = []string{"female", "male"}[g.pick(2)]
		age := g.between(19, 58)
		if p.Relationship == "child" {
			age = g.between(1, 16)
		}
		p.BirthDate = start.AddDate(-age, -g.pick(12), -g.pick(28)).Format("2006-01-02")
		switch r := g.rng.Float64(); {
		case r < 0.45:
			p.DocumentsHeld = []string{"passport"}
		case r < 0.65:
			p.DocumentsHeld = []string{"expired_passport"}
		case r < 0.8:
			p.DocumentsHeld = []string{"national_id", "birth_certificate"}
		default:
			p.DocumentsHeld = []string{"none"}
		}
		if g.chance(0.08) {
			p.Vulnerabilities = append(p.Vulnerabilities, "medical_needs")
		}
		if g.chance(0.05) {
			p.Vulnerabilities = append(p.Vulnerabilities, "mental_health")
		}
		if k == 0 && g.chance(0.04) {
			p.Vulnerabilities = append(p.Vulnerabilities, "trafficking_victim")
		}
		if k == 0 && len(people) > 2 && g.chance(0.3) {
			p.Vulnerabilities = append(p.Vulnerabilities, "single_parent")
		}
	}
	return people
}

// hub is the airport a demo flight lands at.
func hub(country string) string {
	return map[string]string{"IQ": "EBL", "NG": "LOS", "MA": "CMN", "ET": "ADD", "TR": "ESB", "AF": "KBL", "TN": "TUN", "DZ": "ALG",
		"EG": "CAI", "SD": "KRT", "SO": "MGQ", "GH": "ACC", "SN": "DSS", "GN": "CKY", "PK": "ISB", "GE": "TBS", "AL": "TIA", "ER": "ASM"}[country]
}
