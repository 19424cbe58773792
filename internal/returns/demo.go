package returns

import (
	"context"
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"strings"
	"time"

	"kompas/internal/platform/audit"
	"kompas/internal/platform/auth"
	"kompas/internal/platform/store"
)

// DemoCases is how many synthetic cases the demo holds.
const DemoCases = 200

// demoPartners are the five reintegration partners of the Frontex
// programme in the seed ("five reintegration partners … with the capacity
// to cover 26 partner countries"): the demo's own partner and four more.
var demoPartners = []struct {
	Slug, Name string
	Countries  []string
}{
	{"reintegration", "Reintegration Partner (demo)", []string{"AF", "AM", "GE", "IQ", "IR", "PK", "TR"}},
	{"reintegration-maghreb", "Maghreb Reintegration Partner (demo)", []string{"DZ", "EG", "MA", "TN"}},
	{"reintegration-west-africa", "West Africa Reintegration Partner (demo)", []string{"CI", "CM", "GH", "GM", "GN", "ML", "NE", "NG", "SN"}},
	{"reintegration-horn", "Horn of Africa Reintegration Partner (demo)", []string{"ET", "SD", "SO"}},
	{"reintegration-asia", "South Asia and Balkans Reintegration Partner (demo)", []string{"AL", "BD", "LK", "PK"}},
}

// demoCountries are the countries of return the seed names (Iraq, Nigeria,
// Ethiopia, Morocco, Tunisia, Turkey, Afghanistan, Algeria …) with weights;
// Eritrea has no partner, so its returns get no reintegration assistance.
var demoCountries = []struct {
	Code   string
	Weight int
}{
	{"IQ", 14}, {"NG", 10}, {"MA", 10}, {"ET", 8}, {"TR", 8}, {"AF", 8}, {"TN", 7}, {"DZ", 7}, {"EG", 4}, {"SD", 3}, {"SO", 3},
	{"GH", 3}, {"SN", 3}, {"GN", 2}, {"PK", 3}, {"GE", 3}, {"AL", 2}, {"ER", 2},
}

var demoNames = map[string][2][]string{
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

// demoStageWeights is how the demo's cases end up spread over the stages.
var demoStageWeights = []struct {
	Stage  Stage
	Weight int
}{
	{Registered, 6}, {Counselling, 12}, {Documents, 10}, {TravelBooked, 6}, {Departed, 6}, {Reintegration, 14}, {Monitoring, 10},
	{Closed, 26}, {Withdrawn, 7}, {NoShow, 3},
}

// demoStageDays is the usual time in a stage, min and max days.
var demoStageDays = map[Stage][2]int{
	Registered: {1, 10}, Counselling: {5, 50}, Documents: {10, 80}, TravelBooked: {5, 25}, Departed: {1, 20},
	Reintegration: {60, 300}, Monitoring: {30, 170},
}

// rowBatch collects rows for one table and writes them as multi-row
// INSERTs, so the demo loads in a few statements on either engine.
type rowBatch struct {
	table string
	cols  []string
	rows  [][]any
}

func (b *rowBatch) add(vals ...any) { b.rows = append(b.rows, vals) }

func (b *rowBatch) flush(ctx context.Context, tx *store.Tx) error {
	per := max(1, 4000/len(b.cols))
	one := "(" + placeholders(len(b.cols)) + ")"
	for start := 0; start < len(b.rows); start += per {
		end := min(len(b.rows), start+per)
		var args []any
		vals := make([]string, 0, end-start)
		for _, r := range b.rows[start:end] {
			vals = append(vals, one)
			args = append(args, r...)
		}
		q := "INSERT INTO " + b.table + " (" + strings.Join(b.cols, ", ") + ") VALUES " + strings.Join(vals, ", ")
		if _, err := tx.Exec(ctx, q, args...); err != nil {
			return fmt.Errorf("returns: demo %s: %w", b.table, err)
		}
	}
	b.rows = nil
	return nil
}

// LoadDemo adds the demo's reintegration partners, the countries they
// cover and about 200 synthetic cases spread over the stages, unless the
// cases are there already. It is deterministic (a seeded generator; dates
// count back from now) and idempotent. It reports how many cases it added.
func LoadDemo(ctx context.Context, db *store.DB) (int, error) {
	added := 0
	err := db.Transact(ctx, func(tx *store.Tx) error {
		svc := &auth.Service{DB: db}
		partnerIDs := map[string]int64{}
		for _, p := range demoPartners {
			id, err := svc.EnsureOrg(ctx, tx, auth.Org{Slug: p.Slug, Name: p.Name, Kind: "reintegration_partner"})
			if err != nil {
				return err
			}
			partnerIDs[p.Slug] = id
			var n int
			if err := tx.QueryRow(ctx, `SELECT COUNT(*) FROM return_partner_countries WHERE org_id = ?`, id).Scan(&n); err != nil {
				return err
			}
			if n == 0 {
				for _, c := range p.Countries {
					if _, err := tx.Exec(ctx, `INSERT INTO return_partner_countries (org_id, country) VALUES (?, ?)`, id, c); err != nil {
						return err
					}
				}
			}
		}
		var n int
		if err := tx.QueryRow(ctx, `SELECT COUNT(*) FROM return_cases WHERE demo_key IS NOT NULL`).Scan(&n); err != nil {
			return err
		}
		if n > 0 {
			return nil
		}
		g, err := newDemoGen(ctx, tx, partnerIDs)
		if err != nil {
			return err
		}
		if err := g.generate(ctx, tx); err != nil {
			return err
		}
		added = DemoCases
		return audit.Append(ctx, tx, audit.Event{Actor: "system", Action: audit.ActionImport, ObjectType: "return_case", Purpose: "demo data",
			Detail: fmt.Sprintf("%d synthetic return cases", DemoCases)})
	})
	return added, err
}

type demoGen struct {
	rng       *rand.Rand
	now       time.Time
	orgs      map[string]int64 // slug → id
	users     map[string]int64 // email → id
	covering  map[string][]string
	cases     *rowBatch
	migrants  *rowBatch
	trans     *rowBatch
	choices   *rowBatch
	consents  *rowBatch
	docs      *rowBatch
	flights   *rowBatch
	plans     *rowBatch
	items     *rowBatch
	delivs    *rowBatch
	visits    *rowBatch
	referrals *rowBatch
	stageDays map[[2]any]int
	pending   []demoCase
	indicator *IndicatorSet
	shownVuln bool
}

// demoCase is a generated case waiting for its id.
type demoCase struct {
	key     string
	records func(id int64)
}

func newDemoGen(ctx context.Context, tx *store.Tx, partners map[string]int64) (*demoGen, error) {
	g := &demoGen{rng: rand.New(rand.NewPCG(2026, 21)), now: store.Now(), orgs: map[string]int64{}, users: map[string]int64{},
		covering: map[string][]string{}, stageDays: map[[2]any]int{}}
	for slug, id := range partners {
		g.orgs[slug] = id
	}
	for _, p := range demoPartners {
		for _, c := range p.Countries {
			g.covering[c] = append(g.covering[c], p.Slug)
		}
	}
	err := each(ctx, tx, `SELECT slug, id FROM organisations WHERE slug IN ('rds', 'iom', 'ngo-one', 'ngo-two')`, nil, func(sc scanner) error {
		var slug string
		var id int64
		if err := sc.Scan(&slug, &id); err != nil {
			return err
		}
		g.orgs[slug] = id
		return nil
	})
	if err != nil {
		return nil, err
	}
	for _, slug := range []string{"rds", "iom", "ngo-one", "ngo-two"} {
		if g.orgs[slug] == 0 {
			return nil, fmt.Errorf("returns: demo needs the organisation %s (load the demo organisations first)", slug)
		}
	}
	err = each(ctx, tx, `SELECT email, id FROM users WHERE email IN ('caseworker@rds.example', 'officer@iom.example', 'counsellor@ngo-one.example', 'counsellor@ngo-two.example', 'partner@reintegration.example')`, nil, func(sc scanner) error {
		var email string
		var id int64
		if err := sc.Scan(&email, &id); err != nil {
			return err
		}
		g.users[email] = id
		return nil
	})
	if err != nil {
		return nil, err
	}
	if g.indicator, err = indicatorSet(ctx, tx, ""); err != nil {
		return nil, err
	}
	g.cases = &rowBatch{table: "return_cases", cols: []string{"reference", "demo_key", "stage", "stage_since", "country_of_return", "counselling_org_id", "programme",
		"partner_org_id", "intake_org_id", "immigration_history", "persons", "departed", "departed_at", "assisted", "version", "created_at", "created_by", "updated_at"}}
	g.migrants = &rowBatch{table: "return_migrants", cols: []string{"case_id", "seq", "relationship", "given_name", "family_name", "birth_date", "sex", "nationality", "documents_held", "vulnerabilities"}}
	g.trans = &rowBatch{table: "return_transitions", cols: []string{"case_id", "from_stage", "to_stage", "at", "days", "actor_id", "actor", "org_id", "reason"}}
	g.choices = &rowBatch{table: "return_choices", cols: []string{"case_id", "from_org_id", "to_org_id", "chosen_on", "reason", "recorded_by", "recorded_at"}}
	g.consents = &rowBatch{table: "return_consents", cols: []string{"case_id", "written", "given_on", "scope", "recorded_by", "recorded_at"}}
	g.docs = &rowBatch{table: "return_travel_documents", cols: []string{"case_id", "seq", "migrant_seq", "kind", "authority", "authority_country", "status", "requested_on", "decided_on", "valid_until", "reference", "recorded_by"}}
	g.flights = &rowBatch{table: "return_flights", cols: []string{"case_id", "seq", "flight_date", "route", "carrier", "escort", "medical_needs", "status", "confirmed_at", "confirmed_by", "recorded_by"}}
	g.plans = &rowBatch{table: "return_plans", cols: []string{"case_id", "needs", "aspirations", "start_on", "months", "currency", "version", "updated_at", "updated_by"}}
	g.items = &rowBatch{table: "return_support_items", cols: []string{"case_id", "seq", "type", "description", "amount_minor"}}
	g.delivs = &rowBatch{table: "return_deliveries", cols: []string{"case_id", "seq", "item_seq", "delivered_on", "amount_minor", "note", "recorded_by", "recorded_at"}}
	g.visits = &rowBatch{table: "return_visits", cols: []string{"case_id", "seq", "visited_on", "set_code", "scores", "economic", "social", "psychosocial", "overall", "notes", "recorded_by", "recorded_at"}}
	g.referrals = &rowBatch{table: "return_referrals", cols: []string{"case_id", "seq", "service", "kind", "country", "status", "sent_on", "updated_on", "note", "recorded_by"}}
	return g, nil
}

func (g *demoGen) pick(n int) int { return g.rng.IntN(n) }

func (g *demoGen) chance(p float64) bool { return g.rng.Float64() < p }

func (g *demoGen) between(lo, hi int) int { return lo + g.rng.IntN(hi-lo+1) }

func (g *demoGen) generate(ctx context.Context, tx *store.Tx) error {
	countryTotal, stageTotal := 0, 0
	for _, c := range demoCountries {
		countryTotal += c.Weight
	}
	for _, s := range demoStageWeights {
		stageTotal += s.Weight
	}
	for i := 1; i <= DemoCases; i++ {
		w := g.pick(countryTotal)
		country := demoCountries[0].Code
		for _, c := range demoCountries {
			if w < c.Weight {
				country = c.Code
				break
			}
			w -= c.Weight
		}
		w = g.pick(stageTotal)
		final := demoStageWeights[0].Stage
		for _, s := range demoStageWeights {
			if w < s.Weight {
				final = s.Stage
				break
			}
			w -= s.Weight
		}
		g.addCase(i, country, final)
	}
	if err := g.cases.flush(ctx, tx); err != nil {
		return err
	}
	ids := map[string]int64{}
	err := each(ctx, tx, `SELECT demo_key, id FROM return_cases WHERE demo_key IS NOT NULL`, nil, func(sc scanner) error {
		var key string
		var id int64
		if err := sc.Scan(&key, &id); err != nil {
			return err
		}
		ids[key] = id
		return nil
	})
	if err != nil {
		return err
	}
	for _, c := range g.pending {
		c.records(ids[c.key])
	}
	for _, b := range []*rowBatch{g.migrants, g.trans, g.choices, g.consents, g.docs, g.flights, g.plans, g.items, g.delivs, g.visits, g.referrals} {
		if err := b.flush(ctx, tx); err != nil {
			return err
		}
	}
	if err := CountCases(ctx, tx, `demo_key IS NOT NULL`); err != nil {
		return err
	}
	for k, n := range g.stageDays {
		if _, err := tx.Exec(ctx, `INSERT INTO return_stage_days (stage, days, n) VALUES (?, ?, ?) ON CONFLICT (stage, days) DO UPDATE SET n = return_stage_days.n + excluded.n`,
			k[0], k[1], n); err != nil {
			return err
		}
	}
	return nil
}

// pathTo is the stages a case passes through to reach final; assisted says
// whether a closed case went through reintegration.
func pathTo(final Stage, assisted bool) []Stage {
	pre := []Stage{Registered, Counselling, Documents, TravelBooked}
	switch final {
	case Registered, Counselling, Documents, TravelBooked:
		for i, s := range pre {
			if s == final {
				return pre[:i+1]
			}
		}
	case Departed:
		return append(pre, Departed)
	case Reintegration:
		return append(pre, Departed, Reintegration)
	case Monitoring:
		return append(pre, Departed, Reintegration, Monitoring)
	case Closed:
		if assisted {
			return append(pre, Departed, Reintegration, Monitoring, Closed)
		}
		return append(pre, Departed, Closed)
	case NoShow:
		return append(pre, NoShow)
	}
	return nil
}

func (g *demoGen) addCase(i int, country string, final Stage) {
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
	if !covered && (final == Reintegration || final == Monitoring) {
		final = Closed
	}
	if !assisted && (final == Reintegration || final == Monitoring) {
		final = Departed
	}
	var path []Stage
	if final == Withdrawn {
		path = append(pathTo([]Stage{Registered, Counselling, Documents, TravelBooked}[g.pick(4)], false), Withdrawn)
	} else {
		path = pathTo(final, assisted)
	}
	if final != Closed {
		assisted = oneOf(string(Reintegration), stagesToStrings(path))
	}

	intake := map[string]string{"iom": "iom", "ngo-one": "ngo-one", "ngo-two": "ngo-two"}[counsel]
	if programme == "national" && g.chance(0.3) {
		intake = "rds"
	}
	actorOf := map[string]string{"iom": "officer@iom.example", "ngo-one": "counsellor@ngo-one.example", "ngo-two": "counsellor@ngo-two.example", "rds": "caseworker@rds.example"}
	officeActor, officeOrg := "caseworker@rds.example", "rds"
	if programme == "iom_return" || programme == "iom_stranded" {
		officeActor, officeOrg = "officer@iom.example", "iom"
	}
	partner := ""
	if assisted || (covered && (final == TravelBooked || final == Departed) && g.chance(0.5)) {
		cands := g.covering[country]
		partner = cands[g.pick(len(cands))]
	}

	// Times: durations of the stages passed, then how long in the last.
	durs := make([]int, len(path))
	total := 0
	for k, s := range path {
		r, ok := demoStageDays[s]
		if !ok {
			r = [2]int{1, 60}
		}
		durs[k] = g.between(r[0], r[1])
		if k == len(path)-1 && s.Open() {
			durs[k] = g.between(0, r[1]*3/2) // some run over: overdue
		}
		total += durs[k]
	}
	start := g.now.Add(-time.Duration(total)*24*time.Hour - time.Duration(g.pick(24*60))*time.Minute)
	at := make([]time.Time, len(path)) // when the case entered path[k]
	t := start
	for k := range path {
		at[k] = t
		t = t.Add(time.Duration(durs[k]) * 24 * time.Hour)
	}
	last := len(path) - 1
	departedAt := ""
	for k, s := range path {
		if s == Departed {
			departedAt = store.FormatTime(at[k])
		}
	}

	region := demoNames[nameRegion(country)]
	family := region[1][g.pick(len(region[1]))]
	type person struct {
		rel, given, birth, sex, docs, vulns string
	}
	people := []person{{rel: "principal"}}
	if g.chance(0.3) {
		people = append(people, person{rel: "spouse"})
		for k := g.between(0, 2); k > 0; k-- {
			people = append(people, person{rel: "child"})
		}
	}
	for k := range people {
		p := &people[k]
		p.given = region[0][g.pick(len(region[0]))]
		p.sex = []string{"female", "male"}[g.pick(2)]
		age := g.between(19, 58)
		if p.rel == "child" {
			age = g.between(1, 16)
		}
		p.birth = start.AddDate(-age, -g.pick(12), -g.pick(28)).Format("2006-01-02")
		switch r := g.rng.Float64(); {
		case r < 0.45:
			p.docs = "passport"
		case r < 0.65:
			p.docs = "expired_passport"
		case r < 0.8:
			p.docs = "national_id,birth_certificate"
		default:
			p.docs = "none"
		}
		var v []string
		if g.chance(0.08) {
			v = append(v, "medical_needs")
		}
		if g.chance(0.05) {
			v = append(v, "mental_health")
		}
		if k == 0 && g.chance(0.04) {
			v = append(v, "trafficking_victim")
		}
		if k == 0 && len(people) > 2 && g.chance(0.3) {
			v = append(v, "single_parent")
		}
		p.vulns = strings.Join(v, ",")
	}
	// The demo partner's first assisted case always carries special-category
	// data, so the partner's projection visibly leaves it out.
	if partner == "reintegration" && !g.shownVuln {
		people[0].vulns = "medical_needs,trafficking_victim"
		g.shownVuln = true
	}

	key := fmt.Sprintf("demo-%03d", i)
	ref := fmt.Sprintf("RET-%d-%s", start.Year(), g.refSuffix())
	var partnerID any
	if partner != "" {
		partnerID = g.orgs[partner]
	}
	var dep any
	if departedAt != "" {
		dep = departedAt
	}
	history := []string{
		"Asylum application rejected; no further procedure pending.",
		"Regular stay ended (residence permit expired); wishes to return.",
		"Dublin procedure concluded; applied for assisted voluntary return.",
		"Stranded in transit; asked IOM for help to return.",
	}[g.pick(4)]
	g.cases.add(ref, key, string(path[last]), store.FormatTime(at[last]), country, g.orgs[counsel], programme, partnerID, g.orgs[intake],
		history, len(people), departedAt != "", dep, assisted, 1+len(path), store.FormatTime(start), actorOf[intake], store.FormatTime(at[last]))

	g.pending = append(g.pending, demoCase{key: key, records: func(id int64) {
		for k, p := range people {
			g.migrants.add(id, k, p.rel, p.given, family, p.birth, p.sex, country, p.docs, p.vulns)
		}
		day := func(t time.Time) string { return t.Format("2006-01-02") }
		g.choices.add(id, nil, g.orgs[counsel], day(start), "initial choice", actorOf[intake], store.FormatTime(start))
		// Transitions, with who made each move.
		for k, s := range path {
			actor, org := officeActor, officeOrg
			switch s {
			case Registered:
				actor, org = actorOf[intake], intake
			case Counselling, Documents, Withdrawn:
				actor, org = actorOf[counsel], counsel
			case Reintegration, Monitoring:
				if partner == "reintegration" {
					actor, org = "partner@reintegration.example", partner
				}
			}
			if k == last && s == Closed && partner == "reintegration" && assisted {
				actor, org = "partner@reintegration.example", partner
			}
			from, days, reason := "", 0, ""
			if k > 0 {
				from, days = string(path[k-1]), durs[k-1]
				g.stageDays[[2]any{from, days}]++
			}
			switch {
			case s == Withdrawn:
				reason = "The migrant decided not to return."
			case s == NoShow:
				reason = "Did not come to the airport; no contact since."
			case s == Closed && !assisted:
				reason = "Returned without reintegration assistance."
			}
			var actorID any
			if uid := g.users[actor]; uid != 0 {
				actorID = uid
			}
			g.trans.add(id, from, string(s), store.FormatTime(at[k]), days, actorID, actor, g.orgs[org], reason)
		}
		reached := func(s Stage) int {
			for k, x := range path {
				if x == s {
					return k
				}
			}
			return -1
		}
		if k := reached(Counselling); k >= 0 && g.chance(0.9) {
			g.consents.add(id, true, day(at[k].Add(48*time.Hour)), "reintegration_partner,referrals", actorOf[counsel], store.FormatTime(at[k].Add(48*time.Hour)))
		}
		if k := reached(Documents); k >= 0 {
			kind := "passport"
			if !strings.Contains(people[0].docs, "passport") || strings.Contains(people[0].docs, "expired") {
				kind = "laissez_passer"
			}
			status, decided, valid := "requested", "", ""
			if reached(TravelBooked) >= 0 {
				status = "issued"
				d := at[k].Add(time.Duration(durs[k]) * 24 * time.Hour / 2)
				decided, valid = day(d), day(d.AddDate(0, 6, 0))
			}
			g.docs.add(id, 1, 0, kind, "embassy", country, status, day(at[k].Add(24*time.Hour)), decided, valid, "", officeActor)
		}
		if k := reached(TravelBooked); k >= 0 {
			flightDate := at[k].Add(time.Duration(durs[k]) * 24 * time.Hour)
			status, confirmed, by := "booked", "", ""
			if d := reached(Departed); d >= 0 {
				status, confirmed, by = "flown", store.FormatTime(at[d]), officeActor
				flightDate = at[d]
			}
			medical := ""
			if strings.Contains(people[0].vulns, "medical_needs") {
				medical = "Needs daily medication during travel."
			}
			g.flights.add(id, 1, day(flightDate), "AMS-IST-"+hub(country), "", medical != "", medical, status, confirmed, by, officeActor)
		}
		if assisted {
			d := reached(Departed)
			writer := officeActor
			if partner == "reintegration" {
				writer = "partner@reintegration.example"
			}
			needs := []string{"Housing for the first months; work.", "Income for the family; school for the children.", "A small business; medical follow-up."}[g.pick(3)]
			g.plans.add(id, needs, []string{"Open a shop", "Work as a driver", "Go back to farming", "Train as an electrician"}[g.pick(4)],
				day(at[d].Add(7*24*time.Hour)), g.between(6, 12), "EUR", 1, store.FormatTime(at[d].Add(7*24*time.Hour)), writer)
			types := []string{"post_arrival", "housing", "business_startup", "job_counselling", "education", "medical", "in_kind"}
			n := g.between(1, 3)
			amounts := make([]int64, n)
			for k := 0; k < n; k++ {
				amounts[k] = int64(g.between(2, 6)) * 10000
				g.items.add(id, k+1, types[(k+g.pick(3))%len(types)], "Support item "+fmt.Sprint(k+1), amounts[k])
			}
			if r := reached(Reintegration); r >= 0 {
				seq := 0
				for k := 0; k < n; k++ {
					if path[last] == Reintegration && k > 0 {
						break
					}
					seq++
					when := at[r].Add(time.Duration(10+20*k) * 24 * time.Hour)
					g.delivs.add(id, seq, k+1, day(when), amounts[k], "", writer, store.FormatTime(when))
				}
			}
			if m := reached(Monitoring); m >= 0 {
				for k := 0; k < g.between(1, 2); k++ {
					when := at[m].Add(time.Duration(5+30*k) * 24 * time.Hour)
					if when.After(g.now) {
						break
					}
					scores := map[string]int{}
					for _, ind := range g.indicator.Indicators {
						scores[ind.Key] = g.between(2, 5)
					}
					e, s, ps, o := Score(g.indicator, scores)
					b, _ := json.Marshal(scores)
					g.visits.add(id, k+1, day(when), g.indicator.Code, string(b), e, s, ps, o, "", writer, store.FormatTime(when))
				}
			}
			if g.chance(0.3) {
				st := []string{"sent", "accepted", "done", "rejected"}[g.pick(4)]
				g.referrals.add(id, 1, []string{"District health centre", "Vocational training institute", "Legal aid office"}[g.pick(3)],
					[]string{"health", "employment", "legal"}[g.pick(3)], country, st, day(at[d].Add(20*24*time.Hour)), day(at[d].Add(30*24*time.Hour)), "", writer)
			}
		}
	}})
}

func (g *demoGen) refSuffix() string {
	b := make([]byte, 10)
	for i := range b {
		b[i] = refAlphabet[g.pick(len(refAlphabet))]
	}
	return string(b)
}

func stagesToStrings(ss []Stage) []string {
	out := make([]string, len(ss))
	for i, s := range ss {
		out[i] = string(s)
	}
	return out
}

// hub is the airport a demo flight lands at.
func hub(country string) string {
	return map[string]string{"IQ": "EBL", "NG": "LOS", "MA": "CMN", "ET": "ADD", "TR": "ESB", "AF": "KBL", "TN": "TUN", "DZ": "ALG",
		"EG": "CAI", "SD": "KRT", "SO": "MGQ", "GH": "ACC", "SN": "DSS", "GN": "CKY", "PK": "ISB", "GE": "TBS", "AL": "TIA", "ER": "ASM"}[country]
}
