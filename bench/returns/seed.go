package main

import (
	"context"
	"fmt"
	"strings"
	"time"

	"kompas/internal/platform/store"
)

// benchOrgs is how many counselling organisations the cases are spread
// over: IOM, the demo's two NGOs and 47 more NGOs.
const benchOrgs = 50

// seedStages is how the seeded cases are spread over the stages (20
// slots), with the stage before each and what a case there has.
var seedStages = []struct {
	Stage, Prev                    string
	Slots                          int
	Departed, Assisted, HasPartner bool
}{
	{"registered", "", 1, false, false, false},
	{"counselling", "registered", 2, false, false, false},
	{"documents", "counselling", 2, false, false, false},
	{"travel_booked", "documents", 1, false, false, false},
	{"departed", "travel_booked", 1, true, false, true},
	{"reintegration", "departed", 3, true, true, true},
	{"monitoring", "reintegration", 2, true, true, true},
	{"closed", "monitoring", 6, true, true, true},
	{"withdrawn", "counselling", 1, false, false, false},
	{"no_show", "travel_booked", 1, false, false, false},
}

// seedCountries are the countries of return, with the demo partner that
// covers each ("" for none).
var seedCountries = []struct{ Code, Partner string }{
	{"IQ", "reintegration"}, {"NG", "reintegration-west-africa"}, {"MA", "reintegration-maghreb"}, {"ET", "reintegration-horn"},
	{"TR", "reintegration"}, {"AF", "reintegration"}, {"TN", "reintegration-maghreb"}, {"DZ", "reintegration-maghreb"},
	{"EG", "reintegration-maghreb"}, {"SD", "reintegration-horn"}, {"SO", "reintegration-horn"}, {"GH", "reintegration-west-africa"},
	{"SN", "reintegration-west-africa"}, {"GN", "reintegration-west-africa"}, {"PK", "reintegration-asia"}, {"GE", "reintegration"},
	{"AL", "reintegration-asia"}, {"BD", "reintegration-asia"}, {"IR", "reintegration"}, {"ER", ""},
}

// seeder bulk-loads cases with INSERT … SELECT over a generated series:
// raw SQL, no API, no audit.
type seeder struct {
	db  *store.DB
	now time.Time
}

// series returns the WITH prefix and FROM item that yield s.i from lo to hi.
func (s *seeder) series() (with, from string) {
	if s.db.Dialect() == store.Postgres {
		return "", "generate_series(CAST(? AS BIGINT), CAST(? AS BIGINT)) AS s(i)"
	}
	return "WITH RECURSIVE s(i) AS (SELECT ? UNION ALL SELECT i + 1 FROM s WHERE i < ?) ", "s"
}

// helpers creates the small lookup tables the bulk INSERTs join.
func (s *seeder) helpers(ctx context.Context) error {
	ddl := []string{
		`CREATE TABLE bench_org (k INTEGER PRIMARY KEY, org_id BIGINT NOT NULL, programme TEXT NOT NULL)`,
		`CREATE TABLE bench_country (k INTEGER PRIMARY KEY, code TEXT NOT NULL, partner_id BIGINT)`,
		`CREATE TABLE bench_stage (k INTEGER PRIMARY KEY, stage TEXT NOT NULL, prev TEXT NOT NULL, departed BOOLEAN NOT NULL, assisted BOOLEAN NOT NULL, has_partner BOOLEAN NOT NULL)`,
		`CREATE TABLE bench_time (k INTEGER PRIMARY KEY, ts TEXT NOT NULL)`,
	}
	return s.db.Transact(ctx, func(tx *store.Tx) error {
		for _, q := range ddl {
			if _, err := tx.Exec(ctx, q); err != nil {
				return err
			}
		}
		// The 50 counselling organisations: IOM, the demo NGOs, and more.
		slugs := []string{"iom", "ngo-one", "ngo-two"}
		for i := len(slugs); i < benchOrgs; i++ {
			slug := fmt.Sprintf("bench-ngo-%02d", i)
			if _, err := tx.Exec(ctx, `INSERT INTO organisations (slug, name, kind, country, created_at) VALUES (?, ?, 'ngo', 'NL', ?) ON CONFLICT (slug) DO NOTHING`,
				slug, fmt.Sprintf("Bench NGO %02d", i), store.FormatTime(s.now)); err != nil {
				return err
			}
			slugs = append(slugs, slug)
		}
		for k, slug := range slugs {
			programme := "national"
			switch {
			case slug == "iom":
				programme = "iom_return"
			case k%3 == 0:
				programme = "frontex_reintegration"
			}
			if _, err := tx.Exec(ctx, `INSERT INTO bench_org (k, org_id, programme) SELECT ?, id, ? FROM organisations WHERE slug = ?`, k, programme, slug); err != nil {
				return err
			}
		}
		for k, c := range seedCountries {
			if _, err := tx.Exec(ctx, `INSERT INTO bench_country (k, code, partner_id) VALUES (?, ?, (SELECT id FROM organisations WHERE slug = ?))`, k, c.Code, c.Partner); err != nil {
				return err
			}
		}
		k := 0
		for _, st := range seedStages {
			for j := 0; j < st.Slots; j++ {
				if _, err := tx.Exec(ctx, `INSERT INTO bench_stage (k, stage, prev, departed, assisted, has_partner) VALUES (?, ?, ?, ?, ?, ?)`,
					k, st.Stage, st.Prev, st.Departed, st.Assisted, st.HasPartner); err != nil {
					return err
				}
				k++
			}
		}
		// 1,000 moments over the last two years, a little under a day apart.
		for k := 0; k < 1000; k++ {
			ts := s.now.Add(-time.Duration(k)*17*time.Hour - time.Duration(k*37%60)*time.Minute)
			if _, err := tx.Exec(ctx, `INSERT INTO bench_time (k, ts) VALUES (?, ?)`, k, store.FormatTime(ts)); err != nil {
				return err
			}
		}
		return nil
	})
}

func (s *seeder) dropHelpers(ctx context.Context) error {
	for _, t := range []string{"bench_org", "bench_country", "bench_stage", "bench_time"} {
		if _, err := s.db.Exec(ctx, `DROP TABLE IF EXISTS `+t); err != nil {
			return err
		}
	}
	return nil
}

// seed adds n cases (each with its principal and two transitions) in
// chunks, calling progress after each.
func (s *seeder) seed(ctx context.Context, n, chunk int, progress func(done int)) error {
	if err := s.helpers(ctx); err != nil {
		return fmt.Errorf("seed: helper tables: %w", err)
	}
	with, from := s.series()
	stages := 0
	for _, st := range seedStages {
		stages += st.Slots
	}
	insertCases := with + `INSERT INTO return_cases (reference, stage, stage_since, country_of_return, counselling_org_id, programme, partner_org_id,
		intake_org_id, immigration_history, persons, departed, departed_at, assisted, version, created_at, created_by, updated_at)
		SELECT 'RET-B-' || s.i, st.stage, t.ts, co.code, o.org_id, o.programme, CASE WHEN st.has_partner THEN co.partner_id END,
		o.org_id, '', 1, st.departed, CASE WHEN st.departed THEN t.ts END, CASE WHEN co.partner_id IS NULL THEN FALSE ELSE st.assisted END, 2, t.ts, 'bench', t.ts
		FROM ` + from + `
		JOIN bench_org o ON o.k = s.i % ` + fmt.Sprint(benchOrgs) + `
		JOIN bench_country co ON co.k = (s.i / ` + fmt.Sprint(benchOrgs) + `) % ` + fmt.Sprint(len(seedCountries)) + `
		JOIN bench_stage st ON st.k = (s.i / 7) % ` + fmt.Sprint(stages) + `
		JOIN bench_time t ON t.k = (s.i * 31) % 1000`
	var firstID int64
	for lo := 1; lo <= n; lo += chunk {
		hi := min(n, lo+chunk-1)
		err := s.db.Transact(ctx, func(tx *store.Tx) error {
			var before int64
			if err := tx.QueryRow(ctx, `SELECT COALESCE(MAX(id), 0) FROM return_cases`).Scan(&before); err != nil {
				return err
			}
			if lo == 1 {
				firstID = before + 1
			}
			if _, err := tx.Exec(ctx, insertCases, lo, hi); err != nil {
				return fmt.Errorf("cases: %w", err)
			}
			if _, err := tx.Exec(ctx, `INSERT INTO return_migrants (case_id, seq, relationship, given_name, family_name, birth_date, sex, nationality, documents_held, vulnerabilities)
				SELECT c.id, 0, 'principal', 'Given' || (c.id % 97), 'Family' || (c.id % 89), '1985-06-15', CASE WHEN c.id % 2 = 0 THEN 'female' ELSE 'male' END,
				c.country_of_return, 'passport', CASE WHEN c.id % 13 = 0 THEN 'medical_needs' ELSE '' END
				FROM return_cases c WHERE c.id > ? AND c.created_by = 'bench'`, before); err != nil {
				return fmt.Errorf("migrants: %w", err)
			}
			if _, err := tx.Exec(ctx, `INSERT INTO return_transitions (case_id, from_stage, to_stage, at, days, actor_id, actor, org_id, reason)
				SELECT c.id, '', 'registered', c.created_at, 0, NULL, 'bench', c.intake_org_id, '' FROM return_cases c WHERE c.id > ? AND c.created_by = 'bench'`, before); err != nil {
				return fmt.Errorf("transitions: %w", err)
			}
			if _, err := tx.Exec(ctx, `INSERT INTO return_transitions (case_id, from_stage, to_stage, at, days, actor_id, actor, org_id, reason)
				SELECT c.id, p.prev, c.stage, c.stage_since, c.id % 60, NULL, 'bench', c.counselling_org_id, ''
				FROM return_cases c JOIN (SELECT DISTINCT stage, prev FROM bench_stage) p ON p.stage = c.stage
				WHERE c.id > ? AND c.created_by = 'bench' AND c.stage <> 'registered'`, before); err != nil {
				return fmt.Errorf("transitions: %w", err)
			}
			return nil
		})
		if err != nil {
			return fmt.Errorf("seed %d-%d: %w", lo, hi, err)
		}
		if progress != nil {
			progress(hi)
		}
	}
	// The running counts per dimension and the stage-duration histogram,
	// as the service's writes would have kept them.
	if _, err := s.db.Exec(ctx, `INSERT INTO return_case_counts (stage, country_of_return, counselling_org_id, programme, departed, assisted, cases, persons)
		SELECT stage, country_of_return, counselling_org_id, programme, departed, assisted, COUNT(*), SUM(persons)
		FROM return_cases WHERE id >= ? GROUP BY stage, country_of_return, counselling_org_id, programme, departed, assisted
		ON CONFLICT (stage, country_of_return, counselling_org_id, programme, departed, assisted)
		DO UPDATE SET cases = return_case_counts.cases + excluded.cases, persons = return_case_counts.persons + excluded.persons`, firstID); err != nil {
		return fmt.Errorf("seed: counts: %w", err)
	}
	if _, err := s.db.Exec(ctx, `INSERT INTO return_stage_days (stage, days, n)
		SELECT from_stage, days, COUNT(*) FROM return_transitions WHERE from_stage <> '' AND case_id >= ? GROUP BY from_stage, days
		ON CONFLICT (stage, days) DO UPDATE SET n = return_stage_days.n + excluded.n`, firstID); err != nil {
		return fmt.Errorf("seed: stage days: %w", err)
	}
	if err := s.dropHelpers(ctx); err != nil {
		return err
	}
	// Fresh statistics for the planner (and, on PostgreSQL, the visibility
	// map that index-only scans need, as autovacuum would set it).
	if s.db.Dialect() == store.Postgres {
		for _, t := range []string{"return_cases", "return_migrants", "return_transitions", "return_case_counts", "organisations", "audit_events"} {
			if _, err := s.db.Exec(ctx, `VACUUM ANALYZE `+t); err != nil {
				return fmt.Errorf("seed: vacuum %s: %w", t, err)
			}
		}
	} else if _, err := s.db.Exec(ctx, `ANALYZE`); err != nil {
		return fmt.Errorf("seed: analyze: %w", err)
	}
	return nil
}

// thousands writes n with grouped digits.
func thousands(n int) string {
	s := fmt.Sprint(n)
	var b strings.Builder
	for i, c := range s {
		if i > 0 && (len(s)-i)%3 == 0 {
			b.WriteByte(',')
		}
		b.WriteRune(c)
	}
	return b.String()
}
