// Package gcm is the catalogue of the Global Compact for Safe, Orderly and
// Regular Migration: its 23 objectives and 10 guiding principles with their
// official titles (A/RES/73/195), and the national policy frameworks whose
// pillars initiatives are mapped to. The Netherlands' six-pillar agenda is
// the default framework.
package gcm

import (
	"bufio"
	"context"
	"embed"
	"fmt"
	"strconv"
	"strings"

	"kompas/internal/platform/store"
)

//go:embed data/*.txt
var dataFiles embed.FS

//go:embed migrations/*.sql
var migrationFiles embed.FS

// Migrations creates frameworks and pillars and ships the six pillars.
var Migrations = store.Embedded("gcm", migrationFiles)

// Objective is one of the 23 GCM objectives.
type Objective struct {
	Number int    `json:"number"`
	Title  string `json:"title"`
	Short  string `json:"short" doc:"the UN Migration Network Hub's short label"`
}

// Principle is one of the 10 guiding principles (para. 15 a–j).
type Principle struct {
	Letter string `json:"letter"`
	Title  string `json:"title"`
}

var (
	objectives []Objective
	principles []Principle
)

func init() {
	titles := readTSV("data/gcm-objectives.txt")
	shorts := readTSV("data/gcm-hub-short-labels.txt")
	for i := 1; i <= 23; i++ {
		k := strconv.Itoa(i)
		objectives = append(objectives, Objective{Number: i, Title: titles[k], Short: shorts[k]})
	}
	for c := 'a'; c <= 'j'; c++ {
		principles = append(principles, Principle{Letter: string(c), Title: titles[string(c)]})
	}
	for _, o := range objectives {
		if o.Title == "" {
			panic(fmt.Sprintf("gcm: objective %d has no title", o.Number))
		}
	}
}

func readTSV(name string) map[string]string {
	f, err := dataFiles.Open(name)
	if err != nil {
		panic(err)
	}
	defer f.Close()
	m := map[string]string{}
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		line := sc.Text()
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		k, v, ok := strings.Cut(line, "\t")
		if ok {
			m[k] = strings.TrimSpace(v)
		}
	}
	return m
}

// Objectives returns the 23 objectives in order.
func Objectives() []Objective { return append([]Objective(nil), objectives...) }

// Principles returns the 10 guiding principles in order.
func Principles() []Principle { return append([]Principle(nil), principles...) }

// ObjectiveTitle returns objective n's title, or "" when n is not 1–23.
func ObjectiveTitle(n int) string {
	if n < 1 || n > 23 {
		return ""
	}
	return objectives[n-1].Title
}

// ValidPrinciple reports whether letter is a–j.
func ValidPrinciple(letter string) bool {
	return len(letter) == 1 && letter[0] >= 'a' && letter[0] <= 'j'
}

// Framework is a national policy framework.
type Framework struct {
	Slug      string   `json:"slug"`
	Title     string   `json:"title"`
	Country   string   `json:"country"`
	SourceURL string   `json:"source_url"`
	Default   bool     `json:"default"`
	Pillars   []Pillar `json:"pillars"`
}

// Pillar is one pillar of a framework.
type Pillar struct {
	Number int    `json:"number"`
	Title  string `json:"title"`
}

// Catalogue is the national policy frameworks with their pillars as the
// database held them at start. Only migrations change the frameworks table,
// so a process reads it once (Load) and hands the catalogue to whatever
// needs it: no request reads the table, and none can read it through the
// pool while it holds a transaction.
type Catalogue struct {
	frameworks []Framework // the default first
}

// Load reads the frameworks and pillars once; there must be a default
// framework.
func Load(ctx context.Context, q store.Querier) (*Catalogue, error) {
	fws, err := readFrameworks(ctx, q)
	if err != nil {
		return nil, err
	}
	if len(fws) == 0 || !fws[0].Default {
		return nil, fmt.Errorf("gcm: no default framework")
	}
	return &Catalogue{frameworks: fws}, nil
}

// Frameworks lists the frameworks, the default first. The result is the
// caller's to change.
func (c *Catalogue) Frameworks() []Framework {
	out := make([]Framework, len(c.frameworks))
	for i, f := range c.frameworks {
		out[i] = f.clone()
	}
	return out
}

// Default returns the default framework.
func (c *Catalogue) Default() Framework { return c.frameworks[0].clone() }

// Framework returns the framework with slug ("" for the default) and
// whether there is one.
func (c *Catalogue) Framework(slug string) (Framework, bool) {
	if slug == "" {
		return c.Default(), true
	}
	for _, f := range c.frameworks {
		if f.Slug == slug {
			return f.clone(), true
		}
	}
	return Framework{}, false
}

func (f Framework) clone() Framework {
	f.Pillars = append([]Pillar{}, f.Pillars...)
	return f
}

// readFrameworks lists the frameworks, the default first.
func readFrameworks(ctx context.Context, db store.Querier) ([]Framework, error) {
	rows, err := db.Query(ctx, `SELECT f.slug, f.title, f.country, f.source_url, f.is_default, p.number, p.title
		FROM frameworks f LEFT JOIN pillars p ON p.framework_id = f.id ORDER BY f.is_default DESC, f.slug, p.number`)
	if err != nil {
		return nil, fmt.Errorf("gcm: frameworks: %w", err)
	}
	defer rows.Close()
	var out []Framework
	for rows.Next() {
		var f Framework
		var num *int
		var title *string
		if err := rows.Scan(&f.Slug, &f.Title, &f.Country, &f.SourceURL, &f.Default, &num, &title); err != nil {
			return nil, fmt.Errorf("gcm: frameworks: %w", err)
		}
		if len(out) == 0 || out[len(out)-1].Slug != f.Slug {
			f.Pillars = []Pillar{}
			out = append(out, f)
		}
		if num != nil {
			last := &out[len(out)-1]
			last.Pillars = append(last.Pillars, Pillar{Number: *num, Title: *title})
		}
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("gcm: frameworks: %w", err)
	}
	return out, nil
}
