// Package demo loads the demo data set built from the seed report (the
// Netherlands' GCM implementation review): the organisations it names, the
// demo accounts of DESIGN.md, and every initiative, partner, country and
// figure of the report. Loading is idempotent: organisations by slug,
// accounts by e-mail and initiatives by a stable key.
package demo

import (
	"context"
	"embed"
	"encoding/json"
	"errors"
	"fmt"
	"strings"

	"kompas/internal/gcm"
	"kompas/internal/platform/auth"
	"kompas/internal/platform/store"
	"kompas/internal/programmes"
)

//go:embed data/*.json
var dataFiles embed.FS

// Account is a demo account.
type Account struct {
	Email string
	Name  string
	Role  auth.Role
}

// Accounts are the demo accounts DESIGN.md lists, one per role; the
// organisation is the first label of the e-mail domain.
var Accounts = []Account{
	{"admin@mfa.example", "Anne Admin", auth.RoleAdmin},
	{"policy@mfa.example", "Pieter Policy", auth.RolePolicyOfficer},
	{"caseworker@rds.example", "Carla Caseworker", auth.RoleCaseworker},
	{"counsellor@ngo-one.example", "Noor Counsellor", auth.RoleCounsellor},
	{"counsellor@ngo-two.example", "Tomas Counsellor", auth.RoleCounsellor},
	{"officer@iom.example", "Ingrid Officer", auth.RoleReturnOfficer},
	{"partner@reintegration.example", "Rami Partner", auth.RolePartner},
	{"employer@posting-firm.example", "Piotr Employer", auth.RoleEmployer},
	{"inspector@labour.example", "Lotte Inspector", auth.RoleInspector},
	{"police@police.example", "Paul Police", auth.RolePolice},
	{"prosecutor@prosecution.example", "Petra Prosecutor", auth.RoleProsecutor},
	{"care@care.example", "Cees Care", auth.RoleCareCoord},
	{"shelter@shelter.example", "Sara Shelter", auth.RoleShelterWorker},
	{"analyst@dtm.example", "Amir Analyst", auth.RoleAnalyst},
	{"privacy@mfa.example", "Priya Privacy", auth.RolePrivacyOfficer},
	{"officer@permits.example", "Olga Officer", auth.RolePermitOfficer},
	{"founder@startup.example", "Femke Founder", auth.RoleEmployer},
}

// OrgSlug returns the organisation slug of a demo e-mail address.
func OrgSlug(email string) string {
	_, domain, _ := strings.Cut(email, "@")
	slug, _, _ := strings.Cut(domain, ".")
	return slug
}

type initiative struct {
	Key string `json:"key"`
	programmes.Input
}

// Organisations returns the demo organisations.
func Organisations() ([]auth.Org, error) {
	var orgs []auth.Org
	b, err := dataFiles.ReadFile("data/organisations.json")
	if err != nil {
		return nil, err
	}
	if err := json.Unmarshal(b, &orgs); err != nil {
		return nil, fmt.Errorf("demo: organisations.json: %w", err)
	}
	return orgs, nil
}

func initiatives() ([]initiative, error) {
	var items []initiative
	b, err := dataFiles.ReadFile("data/initiatives.json")
	if err != nil {
		return nil, err
	}
	if err := json.Unmarshal(b, &items); err != nil {
		return nil, fmt.Errorf("demo: initiatives.json: %w", err)
	}
	return items, nil
}

// Summary counts what a Load added.
type Summary struct {
	Organisations, Accounts, Initiatives int
	ReturnCases                          int
}

// Load adds whatever of the demo data set is missing. The accounts get
// password; existing accounts keep theirs.
//
// Nodes started together with --demo may all call Load at once. On
// PostgreSQL the "demo" lock (store.WithLock) lets one load at a time, and
// the others find everything there; on SQLite, where processes are not
// serialised by it, every step checks what is there inside the
// transaction that writes, or takes a unique key's refusal as "there".
func Load(ctx context.Context, db *store.DB, password string) (Summary, error) {
	if len(password) < auth.MinPasswordLength {
		return Summary{}, fmt.Errorf("demo: KOMPAS_DEMO_PASSWORD must be at least %d characters", auth.MinPasswordLength)
	}
	var sum Summary
	err := db.WithLock(ctx, "demo", func() error {
		var err error
		sum, err = load(ctx, db, password)
		return err
	})
	return sum, err
}

func load(ctx context.Context, db *store.DB, password string) (Summary, error) {
	var sum Summary
	orgs, err := Organisations()
	if err != nil {
		return sum, err
	}
	svc := &auth.Service{DB: db}
	err = db.Transact(ctx, func(tx *store.Tx) error {
		for _, o := range orgs {
			if _, err := svc.OrgBySlug(ctx, tx, o.Slug); err == nil {
				continue
			}
			if _, err := svc.EnsureOrg(ctx, tx, o); err != nil {
				return err
			}
			sum.Organisations++
		}
		return nil
	})
	if err != nil {
		return sum, fmt.Errorf("demo: organisations: %w", err)
	}
	existing, err := svc.Users(ctx)
	if err != nil {
		return sum, err
	}
	have := map[string]bool{}
	for _, u := range existing {
		have[u.Email] = true
	}
	for _, a := range Accounts {
		if have[a.Email] {
			continue
		}
		if _, err := svc.CreateUser(ctx, nil, auth.NewUser{Email: a.Email, Name: a.Name, Role: a.Role, OrgSlug: OrgSlug(a.Email), Password: password}); err != nil {
			// Another process may have added it since Users was read.
			var n int
			if qerr := db.QueryRow(ctx, `SELECT COUNT(*) FROM users WHERE email = ?`, a.Email); qerr.Scan(&n) == nil && n > 0 {
				continue
			}
			return sum, fmt.Errorf("demo: account %s: %w", a.Email, err)
		}
		sum.Accounts++
	}
	items, err := initiatives()
	if err != nil {
		return sum, err
	}
	mfa, err := svc.OrgBySlug(ctx, db, "mfa")
	if err != nil {
		return sum, fmt.Errorf("demo: organisation mfa: %w", err)
	}
	// The MFA drew up the report, so it records the demo initiatives.
	owner := &auth.Principal{Email: "demo-loader", Name: "Demo loader", Role: auth.RolePolicyOfficer, OrgID: mfa.ID, OrgSlug: mfa.Slug, OrgName: mfa.Name, OrgKind: mfa.Kind}
	cat, err := gcm.Load(ctx, db)
	if err != nil {
		return sum, fmt.Errorf("demo: %w", err)
	}
	reg := &programmes.Register{DB: db, GCM: cat}
	err = db.Transact(ctx, func(tx *store.Tx) error {
		have, err := reg.DemoKeys(ctx, tx)
		if err != nil {
			return err
		}
		var batch []programmes.Item
		for _, it := range items {
			if !have[it.Key] {
				batch = append(batch, programmes.Item{Input: it.Input, DemoKey: it.Key})
			}
		}
		ids, err := reg.CreateMany(ctx, tx, owner, batch)
		var bad programmes.ItemErrors
		if errors.As(err, &bad) {
			return fmt.Errorf("initiative %s: %w", batch[bad[0].Index].DemoKey, bad[0].Err)
		}
		sum.Initiatives = len(ids)
		return err
	})
	if err != nil {
		return sum, fmt.Errorf("demo: %w", err)
	}
	if sum.ReturnCases, err = loadReturns(ctx, db); err != nil {
		return sum, fmt.Errorf("demo: return cases: %w", err)
	}
	return sum, nil
}
