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
	"io/fs"
	"net/http"
	"strconv"
	"strings"

	"kompas/internal/platform/auth"
	"kompas/internal/platform/store"
	"kompas/internal/platform/web"
)

//go:embed data/*.txt
var dataFiles embed.FS

//go:embed migrations/*.sql
var migrationFiles embed.FS

// Migrations creates frameworks and pillars and ships the six pillars.
var Migrations = func() store.Migrations {
	sub, err := fs.Sub(migrationFiles, "migrations")
	if err != nil {
		panic(err)
	}
	return store.Migrations{Module: "gcm", FS: sub}
}()

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

// Frameworks lists the frameworks, the default first.
func Frameworks(ctx context.Context, db store.Querier) ([]Framework, error) {
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
	return out, rows.Err()
}

// DefaultFramework returns the default framework.
func DefaultFramework(ctx context.Context, db store.Querier) (Framework, error) {
	fs, err := Frameworks(ctx, db)
	if err != nil {
		return Framework{}, err
	}
	if len(fs) == 0 || !fs[0].Default {
		return Framework{}, fmt.Errorf("gcm: no default framework")
	}
	return fs[0], nil
}

// Register adds the catalogue's API routes.
func Register(srv *web.Server, db *store.DB) {
	srv.API("GET /api/v1/gcm/objectives", web.Op{Summary: "The 23 GCM objectives with their official titles", Tags: []string{"gcm"}, Roles: "any signed-in user", Response: []Objective{}},
		func(w http.ResponseWriter, r *http.Request) error {
			if _, err := auth.Require(r.Context()); err != nil {
				return err
			}
			return web.WriteJSON(w, http.StatusOK, Objectives())
		})
	srv.API("GET /api/v1/gcm/principles", web.Op{Summary: "The 10 GCM guiding principles", Tags: []string{"gcm"}, Roles: "any signed-in user", Response: []Principle{}},
		func(w http.ResponseWriter, r *http.Request) error {
			if _, err := auth.Require(r.Context()); err != nil {
				return err
			}
			return web.WriteJSON(w, http.StatusOK, Principles())
		})
	srv.API("GET /api/v1/frameworks", web.Op{Summary: "National policy frameworks and their pillars", Tags: []string{"gcm"}, Roles: "any signed-in user", Response: []Framework{}},
		func(w http.ResponseWriter, r *http.Request) error {
			if _, err := auth.Require(r.Context()); err != nil {
				return err
			}
			fs, err := Frameworks(r.Context(), db)
			if err != nil {
				return err
			}
			return web.WriteJSON(w, http.StatusOK, fs)
		})
}
