package programmes

import (
	"context"
	"fmt"
	"time"

	"kompas/internal/gcm"
	"kompas/internal/platform/facts"
)

// Facts supplies the register's figures to the GCM review (it implements
// facts.Source): initiatives in all and per GCM objective, the budgets
// summed per currency, and the organisations and countries involved. Each
// figure links to the live page that shows it.
func (r *Register) Facts(ctx context.Context) ([]facts.Fact, error) {
	period := "as of " + time.Now().UTC().Format("2006-01-02")
	var out []facts.Fact
	var total int
	if err := r.DB.QueryRow(ctx, `SELECT COUNT(*) FROM initiatives`).Scan(&total); err != nil {
		return nil, fmt.Errorf("programmes: facts: %w", err)
	}
	out = append(out, facts.Fact{Key: "programmes.initiatives", Label: "Initiatives in the register", Value: float64(total),
		Unit: "initiatives", Period: period, Module: "programmes", Source: "/initiatives"})

	perObjective := map[int]int{}
	rows, err := r.DB.Query(ctx, `SELECT objective, COUNT(*) FROM initiative_objectives GROUP BY objective`)
	if err != nil {
		return nil, fmt.Errorf("programmes: facts: %w", err)
	}
	for rows.Next() {
		var o, n int
		if err := rows.Scan(&o, &n); err != nil {
			rows.Close()
			return nil, fmt.Errorf("programmes: facts: %w", err)
		}
		perObjective[o] = n
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("programmes: facts: %w", err)
	}
	for _, o := range gcm.Objectives() {
		out = append(out, facts.Fact{
			Key:        fmt.Sprintf("programmes.initiatives.objective.%d", o.Number),
			Label:      fmt.Sprintf("Initiatives serving GCM objective %d", o.Number),
			Value:      float64(perObjective[o.Number]),
			Unit:       "initiatives",
			Period:     period,
			Module:     "programmes",
			Source:     fmt.Sprintf("/initiatives?objective=%d", o.Number),
			Objectives: []int{o.Number},
		})
	}

	rows, err = r.DB.Query(ctx, `SELECT currency, SUM(budget_minor), COUNT(*) FROM initiatives WHERE budget_minor IS NOT NULL GROUP BY currency ORDER BY currency`)
	if err != nil {
		return nil, fmt.Errorf("programmes: facts: %w", err)
	}
	var money []facts.Fact
	for rows.Next() {
		var cur string
		var minor int64
		var n int
		if err := rows.Scan(&cur, &minor, &n); err != nil {
			rows.Close()
			return nil, fmt.Errorf("programmes: facts: %w", err)
		}
		money = append(money, facts.Fact{Key: "programmes.money." + cur, Label: fmt.Sprintf("Budgets recorded in %s (%s)", cur, initiativesText(n)),
			Value: float64(minor) / 100, Unit: cur, Period: period, Module: "programmes", Source: "/money"})
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("programmes: facts: %w", err)
	}
	out = append(out, money...)

	var partners, countries int
	if err := r.DB.QueryRow(ctx, `SELECT COUNT(DISTINCT org_id) FROM initiative_partners`).Scan(&partners); err != nil {
		return nil, fmt.Errorf("programmes: facts: %w", err)
	}
	if err := r.DB.QueryRow(ctx, `SELECT COUNT(DISTINCT code) FROM initiative_countries`).Scan(&countries); err != nil {
		return nil, fmt.Errorf("programmes: facts: %w", err)
	}
	out = append(out,
		facts.Fact{Key: "programmes.partners", Label: "Organisations taking part in initiatives", Value: float64(partners),
			Unit: "organisations", Period: period, Module: "programmes", Source: "/initiatives"},
		facts.Fact{Key: "programmes.countries", Label: "Countries where initiatives work", Value: float64(countries),
			Unit: "countries", Period: period, Module: "programmes", Source: "/initiatives"},
	)
	return out, nil
}

var _ facts.Source = (*Register)(nil)

func initiativesText(n int) string {
	if n == 1 {
		return "1 initiative"
	}
	return fmt.Sprintf("%d initiatives", n)
}
