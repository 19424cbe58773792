package auth_test

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/url"
	"regexp"
	"strings"
	"testing"
	"time"

	"kompas/internal/platform/audit"
	"kompas/internal/platform/auth"
	"kompas/internal/platform/fault"
	"kompas/internal/platform/store"
	"kompas/internal/platform/store/storetest"
	"kompas/internal/platform/web"
)

func TestPasswordHash(t *testing.T) {
	format := regexp.MustCompile(`^\$argon2id\$v=19\$m=19456,t=2,p=1\$[A-Za-z0-9+/]{22}\$[A-Za-z0-9+/]{43}$`)
	h, err := auth.HashPassword(password)
	if err != nil {
		t.Fatal(err)
	}
	if !format.MatchString(h) {
		t.Errorf("hash %q is not a PHC argon2id hash", h)
	}
	h2, err := auth.HashPassword(password)
	if err != nil {
		t.Fatal(err)
	}
	if h == h2 {
		t.Error("two hashes of one password are equal: no salt")
	}
	tests := []struct {
		name string
		hash string
		pw   string
		want bool
	}{
		{"right password", h, password, true},
		{"right password, other salt", h2, password, true},
		{"wrong password", h, "correct-horse-battery!", false},
		{"empty password", h, "", false},
		{"case matters", h, strings.ToUpper(password), false},
		{"empty hash", "", password, false},
		{"bcrypt-style hash", "$2a$10$abcdefghijklmnopqrstuuABCDEFGHIJKLMNOPQRSTUVWXYZ01234", password, false},
		{"argon2i is not argon2id", strings.Replace(h, "argon2id", "argon2i", 1), password, false},
		{"broken salt", strings.Replace(h, "p=1$", "p=1$!!", 1), password, false},
		{"broken parameters", strings.Replace(h, "m=19456", "m=x", 1), password, false},
		{"overlong password", h, strings.Repeat("a", 1025), false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := auth.CheckPassword(tt.hash, tt.pw); got != tt.want {
				t.Errorf("CheckPassword = %v, want %v", got, tt.want)
			}
		})
	}
	refused := []struct {
		name string
		pw   string
	}{
		{"empty", ""},
		{"one short of the minimum", strings.Repeat("x", auth.MinPasswordLength-1)},
		{"over 1024", strings.Repeat("x", 1025)},
	}
	for _, tt := range refused {
		t.Run("refuse "+tt.name, func(t *testing.T) {
			if h, err := auth.HashPassword(tt.pw); err == nil {
				t.Errorf("HashPassword accepted a %d-character password: %q", len(tt.pw), h)
			}
		})
	}
	if _, err := auth.HashPassword(strings.Repeat("x", auth.MinPasswordLength)); err != nil {
		t.Errorf("a password of exactly the minimum length was refused: %v", err)
	}
}

func TestRuleCheck(t *testing.T) {
	rule := auth.Rule{Action: "edit cases", Roles: []auth.Role{auth.RoleCaseworker, auth.RoleCounsellor}, Relations: []auth.Relation{auth.RelOwner, auth.RelChosen}}
	anyRel := auth.Rule{Action: "read the register", Roles: []auth.Role{auth.RolePolicyOfficer, auth.RoleAnalyst}}
	p := func(role auth.Role) *auth.Principal {
		return &auth.Principal{UserID: 1, Email: "x@y.example", Role: role, OrgSlug: "y", OrgName: "Y Org"}
	}
	tests := []struct {
		name   string
		p      *auth.Principal
		rule   auth.Rule
		rel    auth.Relation
		status int // 0 means allowed
	}{
		{"no caller", nil, rule, auth.RelOwner, http.StatusUnauthorized},
		{"no caller, any relation", nil, anyRel, auth.RelNone, http.StatusUnauthorized},
		{"caseworker owner", p(auth.RoleCaseworker), rule, auth.RelOwner, 0},
		{"counsellor chosen", p(auth.RoleCounsellor), rule, auth.RelChosen, 0},
		{"counsellor not chosen", p(auth.RoleCounsellor), rule, auth.RelNone, http.StatusForbidden},
		{"caseworker assigned (not listed)", p(auth.RoleCaseworker), rule, auth.RelAssigned, http.StatusForbidden},
		{"partner, right relation, wrong role", p(auth.RolePartner), rule, auth.RelOwner, http.StatusForbidden},
		{"admin is not implicitly allowed", p(auth.RoleAdmin), rule, auth.RelOwner, http.StatusForbidden},
		{"policy officer, any relation", p(auth.RolePolicyOfficer), anyRel, auth.RelNone, 0},
		{"analyst, any relation, filer", p(auth.RoleAnalyst), anyRel, auth.RelFiler, 0},
		{"employer, any-relation rule", p(auth.RoleEmployer), anyRel, auth.RelFiler, http.StatusForbidden},
		{"empty role list allows nobody", p(auth.RoleAdmin), auth.Rule{Action: "x"}, auth.RelOwner, http.StatusForbidden},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := auth.Check(tt.p, tt.rule, tt.rel)
			if allowed := tt.rule.Allows(tt.p, tt.rel); allowed != (tt.status == 0) {
				t.Errorf("Allows = %v, want %v", allowed, tt.status == 0)
			}
			if tt.status == 0 {
				if err != nil {
					t.Errorf("Check = %v, want allowed", err)
				}
				return
			}
			if err == nil {
				t.Fatalf("Check allowed, want %d", tt.status)
			}
			e := web.AsError(err)
			if web.Status(e.Kind) != tt.status {
				t.Errorf("status = %d, want %d (%v)", web.Status(e.Kind), tt.status, err)
			}
			if tt.status == http.StatusForbidden && (!strings.Contains(e.Detail, tt.rule.Action) || !strings.Contains(e.Detail, tt.p.Role.Label())) {
				t.Errorf("403 detail %q does not name the role and the action", e.Detail)
			}
			if tt.status == http.StatusUnauthorized && !errors.Is(err, fault.ErrUnauthenticated) {
				t.Errorf("Check = %v, want fault.ErrUnauthenticated", err)
			}
		})
	}
}

func TestRoles(t *testing.T) {
	seen := map[auth.Role]bool{}
	for _, r := range auth.Roles {
		if seen[r.Role] {
			t.Errorf("role %s listed twice", r.Role)
		}
		seen[r.Role] = true
		if !r.Role.Valid() || r.Role.Label() != r.Label || r.Label == "" {
			t.Errorf("role %s: Valid=%v Label=%q", r.Role, r.Role.Valid(), r.Role.Label())
		}
	}
	if auth.Role("king").Valid() || auth.Role("king").Label() != "king" {
		t.Error("an unknown role is valid or has a label")
	}
	if !auth.ValidOrgKind("ngo") || auth.ValidOrgKind("cartel") {
		t.Error("ValidOrgKind is wrong")
	}
}

func TestPrincipalFromContext(t *testing.T) {
	ctx := context.Background()
	if auth.FromContext(ctx) != nil {
		t.Error("FromContext of an empty context is not nil")
	}
	if err := auth.SignedIn.Admit(ctx); !errors.Is(err, fault.ErrUnauthenticated) {
		t.Errorf("SignedIn admits no caller: %v", err)
	}
	p := &auth.Principal{UserID: 7, Email: "a@b.example", OrgSlug: "b"}
	if err := auth.SignedIn.Admit(auth.WithPrincipal(ctx, p)); err != nil || auth.FromContext(auth.WithPrincipal(ctx, p)) != p {
		t.Errorf("SignedIn refuses a caller: %v", err)
	}
	e := p.Event(audit.ActionRead, "case", "3", "care", "d")
	if e.ActorID != 7 || e.Actor != "a@b.example" || e.Org != "b" || e.ObjectID != "3" || e.Purpose != "care" {
		t.Errorf("Event = %+v", e)
	}
	var nobody *auth.Principal
	if e := nobody.Event(audit.ActionCreate, "user", "x", "", ""); e.Actor != "system" || e.ActorID != 0 {
		t.Errorf("nil principal Event = %+v", e)
	}
}

// dump renders every row of table as text, to look for secrets in it.
func dump(t *testing.T, db *store.DB, table string) string {
	t.Helper()
	rows, err := db.Query(context.Background(), `SELECT * FROM `+table)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	cols, _ := rows.Columns()
	var b strings.Builder
	for rows.Next() {
		vals := make([]any, len(cols))
		ptrs := make([]any, len(cols))
		for i := range vals {
			ptrs[i] = &vals[i]
		}
		if err := rows.Scan(ptrs...); err != nil {
			t.Fatal(err)
		}
		for _, v := range vals {
			if bs, ok := v.([]byte); ok {
				v = string(bs)
			}
			fmt.Fprintf(&b, "%v|", v)
		}
		b.WriteByte('\n')
	}
	return b.String()
}

func sha(s string) string {
	sum := sha256.Sum256([]byte(s))
	return hex.EncodeToString(sum[:])
}

func TestSecretsStoredOnlyAsHashes(t *testing.T) {
	eachKernel(t, func(t *testing.T, k *kernel) {
		ctx := context.Background()
		session, _ := k.apiLogin("policy@mfa.example", password)
		if !strings.HasPrefix(session, "ks_") || len(session) < 40 {
			t.Fatalf("session token %q", session)
		}
		token, err := k.svc.CreateToken(ctx, nil, "admin@mfa.example", "ci", 0)
		if err != nil {
			t.Fatal(err)
		}
		if !strings.HasPrefix(token, "kt_") || len(token) < 40 {
			t.Fatalf("API token %q", token)
		}
		if got := auth.TokenID(token); got != sha(token)[:12] {
			t.Errorf("TokenID = %q, want the first 12 of its SHA-256", got)
		}
		tables := map[string]string{}
		for _, table := range []string{"sessions", "api_tokens", "users", "audit_events", "login_throttle"} {
			tables[table] = dump(t, k.db, table)
		}
		for table, text := range tables {
			for _, secret := range []string{session, token, strings.TrimPrefix(session, "ks_"), strings.TrimPrefix(token, "kt_"), password} {
				if strings.Contains(text, secret) {
					t.Errorf("table %s holds a secret in clear text", table)
				}
			}
		}
		if !strings.Contains(tables["sessions"], sha(session)) {
			t.Errorf("sessions does not hold the session's hash:\n%s", tables["sessions"])
		}
		if !strings.Contains(tables["api_tokens"], sha(token)) {
			t.Errorf("api_tokens does not hold the token's hash:\n%s", tables["api_tokens"])
		}
		// Both work.
		for _, s := range []string{session, token} {
			if p, err := k.svc.Authenticate(ctx, s); err != nil || p == nil {
				t.Errorf("Authenticate(%s…) = %v, %v", s[:3], p, err)
			}
		}
		// The hash itself is not a credential.
		for _, s := range []string{"ks_" + sha(session), "kt_" + sha(token), sha(session)} {
			if p, err := k.svc.Authenticate(ctx, s); err != nil || p != nil {
				t.Errorf("Authenticate(hash) = %v, %v; want nil", p, err)
			}
		}
	})
}

func TestAuthenticate(t *testing.T) {
	type setup func(t *testing.T, k *kernel) string
	ctx := context.Background()
	session := func(email string) setup {
		return func(t *testing.T, k *kernel) string {
			s, res := k.apiLogin(email, password)
			if s == "" {
				t.Fatalf("login %s: %d %s", email, res.status, res.body)
			}
			return s
		}
	}
	token := func(email string) setup {
		return func(t *testing.T, k *kernel) string {
			s, err := k.svc.CreateToken(ctx, nil, email, "t", 0)
			if err != nil {
				t.Fatal(err)
			}
			return s
		}
	}
	past := store.FormatTime(time.Now().Add(-time.Minute))
	then := func(s setup, sql string, args ...any) setup {
		return func(t *testing.T, k *kernel) string {
			secret := s(t, k)
			if _, err := k.db.Exec(ctx, sql, append(args, sha(secret))...); err != nil {
				t.Fatal(err)
			}
			return secret
		}
	}
	disable := func(s setup) setup {
		return func(t *testing.T, k *kernel) string {
			if _, err := k.db.Exec(ctx, `UPDATE users SET disabled = ? WHERE email = ?`, false, "counsellor@ngo-one.example"); err != nil {
				t.Fatal(err)
			}
			secret := s(t, k)
			// Straight in the table, so only Authenticate's check stands
			// between the still-stored credential and the account.
			if _, err := k.db.Exec(ctx, `UPDATE users SET disabled = ? WHERE email = ?`, true, "counsellor@ngo-one.example"); err != nil {
				t.Fatal(err)
			}
			return secret
		}
	}
	tests := []struct {
		name    string
		secret  setup
		want    string // e-mail, "" for rejected
		wantVia string
	}{
		{"session", session("policy@mfa.example"), "policy@mfa.example", "session"},
		{"API token", token("admin@mfa.example"), "admin@mfa.example", "token"},
		{"expired session", then(session("policy@mfa.example"), `UPDATE sessions SET expires_at = ? WHERE token_hash = ?`, past), "", ""},
		{"expired token", then(token("policy@mfa.example"), `UPDATE api_tokens SET expires_at = ? WHERE token_hash = ?`, past), "", ""},
		{"revoked token", then(token("policy@mfa.example"), `UPDATE api_tokens SET revoked_at = ? WHERE token_hash = ?`, past), "", ""},
		{"revoked through RevokeToken", func(t *testing.T, k *kernel) string {
			s := token("admin@mfa.example")(t, k)
			if err := k.svc.RevokeToken(ctx, nil, s); err != nil {
				t.Fatal(err)
			}
			return s
		}, "", ""},
		{"revoked by its id", func(t *testing.T, k *kernel) string {
			s := token("admin@mfa.example")(t, k)
			if err := k.svc.RevokeToken(ctx, nil, auth.TokenID(s)); err != nil {
				t.Fatal(err)
			}
			return s
		}, "", ""},
		{"disabled account's session", disable(session("counsellor@ngo-one.example")), "", ""},
		{"disabled account's token", disable(token("counsellor@ngo-one.example")), "", ""},
		{"unknown session", func(*testing.T, *kernel) string { return "ks_" + strings.Repeat("A", 43) }, "", ""},
		{"unknown token", func(*testing.T, *kernel) string { return "kt_" + strings.Repeat("A", 43) }, "", ""},
		{"no prefix", func(*testing.T, *kernel) string { return strings.Repeat("A", 43) }, "", ""},
		{"empty", func(*testing.T, *kernel) string { return "" }, "", ""},
	}
	// One kernel per engine; each case makes its own credential (the two
	// disabled cases share the one account they enable, use and disable).
	eachKernel(t, func(t *testing.T, k *kernel) {
		for _, tt := range tests {
			t.Run(tt.name, func(t *testing.T) {
				k := k.with(t)
				secret := tt.secret(t, k)
				p, err := k.svc.Authenticate(ctx, secret)
				if err != nil {
					t.Fatalf("Authenticate: %v", err)
				}
				res := k.do("GET", "/api/v1/me", secret, nil)
				if tt.want == "" {
					if p != nil {
						t.Errorf("Authenticate accepted it as %s", p.Email)
					}
					if res.status != http.StatusUnauthorized {
						t.Errorf("/api/v1/me = %d, want 401", res.status)
					}
					return
				}
				if p == nil {
					t.Fatal("Authenticate rejected a valid credential")
				}
				if p.Email != tt.want || p.Via != tt.wantVia {
					t.Errorf("principal = %s via %s, want %s via %s", p.Email, p.Via, tt.want, tt.wantVia)
				}
				if res.status != http.StatusOK {
					t.Errorf("/api/v1/me = %d %s", res.status, res.body)
				}
			})
		}
	})
}

func TestAccountAdministration(t *testing.T) {
	eachKernel(t, func(t *testing.T, k *kernel) {
		ctx := context.Background()
		session, _ := k.apiLogin("counsellor@ngo-one.example", password)
		token, err := k.svc.CreateToken(ctx, nil, "counsellor@ngo-one.example", "t", time.Hour)
		if err != nil {
			t.Fatal(err)
		}
		// A new password ends the sessions (not the tokens) and the old
		// password stops working.
		if err := k.svc.SetPassword(ctx, nil, "counsellor@ngo-one.example", "a-brand-new-password"); err != nil {
			t.Fatal(err)
		}
		if p, _ := k.svc.Authenticate(ctx, session); p != nil {
			t.Error("the session outlived a password change")
		}
		if _, _, err := k.svc.Login(ctx, "counsellor@ngo-one.example", password, "10.0.0.1"); err == nil {
			t.Error("the old password still works")
		}
		if _, _, err := k.svc.Login(ctx, "counsellor@ngo-one.example", "a-brand-new-password", "10.0.0.1"); err != nil {
			t.Errorf("the new password does not work: %v", err)
		}
		if err := k.svc.SetPassword(ctx, nil, "nobody@mfa.example", "a-brand-new-password"); err == nil {
			t.Error("SetPassword for an unknown user succeeded")
		}
		if err := k.svc.SetPassword(ctx, nil, "counsellor@ngo-one.example", "short"); err == nil {
			t.Error("SetPassword accepted a short password")
		}
		// Disabling ends sessions and revokes tokens for good; enabling
		// does not bring them back.
		session, _ = k.apiLogin("counsellor@ngo-one.example", "a-brand-new-password")
		if err := k.svc.SetDisabled(ctx, nil, "counsellor@ngo-one.example", true); err != nil {
			t.Fatal(err)
		}
		if n := k.count(`SELECT COUNT(*) FROM sessions s JOIN users u ON u.id = s.user_id WHERE u.email = ?`, "counsellor@ngo-one.example"); n != 0 {
			t.Errorf("%d sessions left after disabling", n)
		}
		if n := k.count(`SELECT COUNT(*) FROM api_tokens WHERE revoked_at IS NULL`); n != 0 {
			t.Errorf("%d tokens left active after disabling", n)
		}
		if _, _, err := k.svc.Login(ctx, "counsellor@ngo-one.example", "a-brand-new-password", "10.0.0.2"); !errors.Is(err, auth.ErrBadCredentials) {
			t.Errorf("login to a disabled account = %v, want ErrBadCredentials", err)
		}
		if _, err := k.svc.CreateToken(ctx, nil, "counsellor@ngo-one.example", "t", 0); err == nil {
			t.Error("a token was issued for a disabled account")
		}
		if err := k.svc.SetDisabled(ctx, nil, "counsellor@ngo-one.example", false); err != nil {
			t.Fatal(err)
		}
		for _, s := range []string{session, token} {
			if p, _ := k.svc.Authenticate(ctx, s); p != nil {
				t.Errorf("%s… came back after re-enabling", s[:3])
			}
		}
		users, err := k.svc.Users(ctx)
		if err != nil {
			t.Fatal(err)
		}
		if len(users) != len(accounts) {
			t.Errorf("Users() = %d, want %d", len(users), len(accounts))
		}
		for _, u := range users {
			if u.Disabled || u.Created.IsZero() || u.OrgSlug == "" {
				t.Errorf("user %+v", u)
			}
		}
		if err := k.svc.SetDisabled(ctx, nil, "nobody@mfa.example", true); err == nil {
			t.Error("SetDisabled for an unknown user succeeded")
		}
		if err := k.svc.RevokeToken(ctx, nil, "abc"); err == nil {
			t.Error("RevokeToken accepted a 3-character id")
		}
		if err := k.svc.RevokeToken(ctx, nil, auth.TokenID(token)); err == nil {
			t.Error("revoking an already revoked token succeeded")
		}
		if n, err := audit.Verify(ctx, k.db); err != nil || n == 0 {
			t.Errorf("audit Verify = %d, %v", n, err)
		}
		if n := k.count(`SELECT COUNT(*) FROM audit_events WHERE action = ? AND object_type = ? AND object_id = ?`, audit.ActionUpdate, "user", "counsellor@ngo-one.example"); n != 3 {
			t.Errorf("%d audited account updates, want 3 (password, disable, enable)", n)
		}
	})
}

func TestCreateUserValidation(t *testing.T) {
	tests := []struct {
		name    string
		u       auth.NewUser
		wantErr string
	}{
		{"valid, e-mail normalised", auth.NewUser{Email: "  New.Person@MFA.example ", Name: "N", OrgSlug: "mfa", Role: auth.RoleAnalyst, Password: password}, ""},
		{"not an e-mail", auth.NewUser{Email: "nobody", Name: "N", OrgSlug: "mfa", Role: auth.RoleAnalyst, Password: password}, "not an e-mail"},
		{"unknown role", auth.NewUser{Email: "x@mfa.example", Name: "N", OrgSlug: "mfa", Role: "king", Password: password}, "unknown role"},
		{"short password", auth.NewUser{Email: "x@mfa.example", Name: "N", OrgSlug: "mfa", Role: auth.RoleAnalyst, Password: "short"}, "at least 12"},
		{"unknown organisation", auth.NewUser{Email: "x@mfa.example", Name: "N", OrgSlug: "nowhere", Role: auth.RoleAnalyst, Password: password}, "no organisation"},
		{"duplicate, other case", auth.NewUser{Email: "POLICY@mfa.example", Name: "N", OrgSlug: "mfa", Role: auth.RoleAnalyst, Password: password}, "exists already"},
	}
	eachKernel(t, func(t *testing.T, k *kernel) {
		ctx := context.Background()
		for _, tt := range tests {
			t.Run(tt.name, func(t *testing.T) {
				k := k.with(t)
				before := k.count(`SELECT COUNT(*) FROM users`)
				events := k.count(`SELECT COUNT(*) FROM audit_events`)
				_, err := k.svc.CreateUser(ctx, nil, tt.u)
				if tt.wantErr == "" {
					if err != nil {
						t.Fatal(err)
					}
					if n := k.count(`SELECT COUNT(*) FROM users WHERE email = ?`, "new.person@mfa.example"); n != 1 {
						t.Errorf("normalised e-mail not stored")
					}
					if k.count(`SELECT COUNT(*) FROM audit_events`) != events+1 {
						t.Errorf("creating a user was not audited")
					}
					return
				}
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Errorf("CreateUser = %v, want %q", err, tt.wantErr)
				}
				if k.count(`SELECT COUNT(*) FROM users`) != before || k.count(`SELECT COUNT(*) FROM audit_events`) != events {
					t.Error("a refused user changed the database")
				}
			})
		}
	})
}

func TestEnsureOrg(t *testing.T) {
	tests := []struct {
		name    string
		org     auth.Org
		wantErr string
	}{
		{"new", auth.Org{Slug: "ngo-two", Name: "NGO Two", Kind: "ngo", Country: "NL"}, ""},
		{"existing keeps its name", auth.Org{Slug: "mfa", Name: "Renamed", Kind: "ngo"}, ""},
		{"upper case slug", auth.Org{Slug: "MFA", Name: "x", Kind: "ngo"}, "may hold only"},
		{"empty slug", auth.Org{Slug: "", Name: "x", Kind: "ngo"}, "1 to 64"},
		{"long slug", auth.Org{Slug: strings.Repeat("a", 65), Name: "x", Kind: "ngo"}, "1 to 64"},
		{"unknown kind", auth.Org{Slug: "gang", Name: "x", Kind: "cartel"}, "unknown organisation kind"},
	}
	eachKernel(t, func(t *testing.T, k *kernel) {
		ctx := context.Background()
		for _, tt := range tests {
			t.Run(tt.name, func(t *testing.T) {
				k := k.with(t)
				var id int64
				err := k.db.Transact(ctx, func(tx *store.Tx) error {
					var err error
					id, err = k.svc.EnsureOrg(ctx, tx, tt.org)
					return err
				})
				if tt.wantErr != "" {
					if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
						t.Errorf("EnsureOrg = %v, want %q", err, tt.wantErr)
					}
					return
				}
				if err != nil || id == 0 {
					t.Fatalf("EnsureOrg = %d, %v", id, err)
				}
				o, err := k.svc.OrgBySlug(ctx, k.db, tt.org.Slug)
				if err != nil || o.ID != id {
					t.Errorf("OrgBySlug = %+v, %v", o, err)
				}
			})
		}
		o, _ := k.svc.OrgBySlug(ctx, k.db, "mfa")
		if o.Name != "Ministry of Foreign Affairs" || o.Kind != "ministry" {
			t.Errorf("existing organisation changed: %+v", o)
		}
		orgs, err := k.svc.Orgs(ctx)
		if err != nil || len(orgs) != 3 {
			t.Errorf("Orgs = %+v, %v", orgs, err)
		}
	})
}

func TestAPILoginAndMe(t *testing.T) {
	eachKernel(t, func(t *testing.T, k *kernel) {
		tests := []struct {
			name       string
			body       any
			wantStatus int
			wantField  string
		}{
			{"right", map[string]string{"email": "policy@mfa.example", "password": password}, http.StatusOK, ""},
			{"e-mail case and spaces ignored", map[string]string{"email": " Policy@MFA.example ", "password": password}, http.StatusOK, ""},
			{"wrong password", map[string]string{"email": "policy@mfa.example", "password": "wrong-password-here"}, http.StatusUnauthorized, ""},
			{"unknown account", map[string]string{"email": "ghost@mfa.example", "password": password}, http.StatusUnauthorized, ""},
			{"missing password", map[string]string{"email": "policy@mfa.example"}, http.StatusUnprocessableEntity, "password"},
			{"missing e-mail", map[string]string{"password": password}, http.StatusUnprocessableEntity, "email"},
			{"unknown field", map[string]string{"email": "policy@mfa.example", "password": password, "otp": "1"}, http.StatusBadRequest, "otp"},
			{"wrong type", map[string]any{"email": 5, "password": password}, http.StatusBadRequest, "email"},
		}
		for _, tt := range tests {
			t.Run(tt.name, func(t *testing.T) {
				k := k.with(t)
				res := k.do("POST", "/api/v1/auth/login", "", tt.body)
				if res.status != tt.wantStatus {
					t.Fatalf("status %d, want %d: %s", res.status, tt.wantStatus, res.body)
				}
				if tt.wantStatus == http.StatusOK {
					if !strings.Contains(string(res.body), `"token":"ks_`) || !strings.Contains(string(res.body), `"expires_in":43200`) {
						t.Errorf("body %s", res.body)
					}
					return
				}
				p := res.problem(t)
				if p.Status != tt.wantStatus {
					t.Errorf("problem status %d", p.Status)
				}
				if tt.wantStatus == http.StatusUnauthorized && p.Detail != auth.ErrBadCredentials.Detail {
					t.Errorf("detail %q should not say which part was wrong", p.Detail)
				}
				if tt.wantField != "" && (len(p.Errors) == 0 || p.Errors[0].Field != tt.wantField) {
					t.Errorf("errors %+v, want field %q", p.Errors, tt.wantField)
				}
			})
		}
		tok, _ := k.apiLogin("counsellor@ngo-one.example", password)
		res := k.do("GET", "/api/v1/me", tok, nil)
		if res.status != http.StatusOK {
			t.Fatalf("/me = %d %s", res.status, res.body)
		}
		want := `{"email":"counsellor@ngo-one.example","name":"Noor Counsellor","role":"counsellor","organisation":{"slug":"ngo-one","name":"NGO One","kind":"ngo"}}`
		if got := strings.TrimSpace(string(res.body)); got != want {
			t.Errorf("/me = %s, want %s", got, want)
		}
		for _, bad := range []string{"", "garbage", "ks_nope"} {
			res := k.do("GET", "/api/v1/me", bad, nil)
			if res.status != http.StatusUnauthorized {
				t.Errorf("/me with %q = %d, want 401", bad, res.status)
			}
			if p := res.problem(t); p.Status != http.StatusUnauthorized {
				t.Errorf("problem status %d", p.Status)
			}
			if !strings.Contains(res.header.Get("WWW-Authenticate"), "Bearer") {
				t.Errorf("401 without WWW-Authenticate: %v", res.header)
			}
		}
		// A non-Bearer Authorization header is not a credential, even with
		// a valid cookie next to it.
		req, _ := http.NewRequest("GET", k.hs.URL+"/api/v1/me", nil)
		req.Header.Set("Authorization", "Basic "+tok)
		if res := k.send(k.hs.Client(), req); res.status != http.StatusUnauthorized {
			t.Errorf("Basic auth with a token = %d, want 401", res.status)
		}
	})
}

// TestSuccessResetsAccountThrottle: failures before a successful sign-in do
// not count towards the next lock-out.
func TestSuccessResetsAccountThrottle(t *testing.T) {
	eachKernel(t, func(t *testing.T, k *kernel) {
		ctx := context.Background()
		for round := range 2 {
			for range 4 {
				if _, _, err := k.svc.Login(ctx, "admin@mfa.example", "wrong-password-x", "10.1.1.1"); !errors.Is(err, auth.ErrBadCredentials) {
					t.Fatalf("round %d: %v", round, err)
				}
			}
			if _, _, err := k.svc.Login(ctx, "admin@mfa.example", password, "10.1.1.1"); err != nil {
				t.Fatalf("round %d: right password after 4 failures: %v", round, err)
			}
		}
	})
}

func TestLoginAudited(t *testing.T) {
	eachKernel(t, func(t *testing.T, k *kernel) {
		ctx := context.Background()
		k.apiLogin("policy@mfa.example", "wrong-password-x")
		k.apiLogin("policy@mfa.example", password)
		events, err := audit.List(ctx, k.db, audit.Filter{ObjectType: "session"})
		if err != nil {
			t.Fatal(err)
		}
		if len(events) != 2 {
			t.Fatalf("%d session events, want 2: %+v", len(events), events)
		}
		ok, failed := events[0], events[1]
		if failed.Action != audit.ActionLoginFailed || failed.Actor != "policy@mfa.example" || failed.ActorID != 0 || !strings.Contains(failed.Detail, "client=127.0.0.1") {
			t.Errorf("failed login event = %+v", failed)
		}
		if ok.Action != audit.ActionLogin || ok.Actor != "policy@mfa.example" || ok.ActorID == 0 || ok.Org != "mfa" || ok.Purpose != "sign-in" {
			t.Errorf("login event = %+v", ok)
		}
		if n, err := audit.Verify(ctx, k.db); err != nil || n < 2 {
			t.Errorf("Verify = %d, %v", n, err)
		}
	})
}

func TestLoginForm(t *testing.T) {
	tests := []struct {
		name         string
		form         url.Values
		wantStatus   int
		wantLocation string
		wantBody     string
		wantSession  bool
	}{
		{"right, to next", url.Values{"email": {"policy@mfa.example"}, "password": {password}, "next": {"/private?x=1"}}, http.StatusSeeOther, "/private?x=1", "", true},
		{"right, no next", url.Values{"email": {"policy@mfa.example"}, "password": {password}}, http.StatusSeeOther, "/", "", true},
		{"other-site next", url.Values{"email": {"policy@mfa.example"}, "password": {password}, "next": {"//evil.example/x"}}, http.StatusSeeOther, "/", "", true},
		{"absolute next", url.Values{"email": {"policy@mfa.example"}, "password": {password}, "next": {"https://evil.example/"}}, http.StatusSeeOther, "/", "", true},
		{"backslash next", url.Values{"email": {"policy@mfa.example"}, "password": {password}, "next": {`/\evil.example`}}, http.StatusSeeOther, "/", "", true},
		// Browsers drop tabs and newlines from URLs, so "/\t/evil.example"
		// is "//evil.example" to them.
		{"tab next", url.Values{"email": {"policy@mfa.example"}, "password": {password}, "next": {"/\t/evil.example"}}, http.StatusSeeOther, "/", "", true},
		{"newline next", url.Values{"email": {"policy@mfa.example"}, "password": {password}, "next": {"/\n/evil.example"}}, http.StatusSeeOther, "/", "", true},
		{"wrong password", url.Values{"email": {"policy@mfa.example"}, "password": {"wrong-password-x"}}, http.StatusUnauthorized, "", "not right", false},
		{"empty", url.Values{}, http.StatusUnprocessableEntity, "", "Enter your e-mail address", false},
		{"no password", url.Values{"email": {"policy@mfa.example"}}, http.StatusUnprocessableEntity, "", "Enter your password", false},
	}
	eachKernel(t, func(t *testing.T, k *kernel) {
		page := k.get(k.browser(), "/login?next=/private")
		if page.status != http.StatusOK || !strings.Contains(string(page.body), `action="/login"`) || !strings.Contains(string(page.body), `value="/private"`) {
			t.Errorf("GET /login = %d: %s", page.status, page.body)
		}
		for _, tt := range tests {
			t.Run(tt.name, func(t *testing.T) {
				k := k.with(t)
				c := k.browser()
				res := k.postForm(c, "/login", tt.form)
				if res.status != tt.wantStatus {
					t.Fatalf("status %d, want %d", res.status, tt.wantStatus)
				}
				if loc := res.header.Get("Location"); loc != tt.wantLocation {
					t.Errorf("Location = %q, want %q", loc, tt.wantLocation)
				}
				if tt.wantBody != "" && !strings.Contains(string(res.body), tt.wantBody) {
					t.Errorf("body does not contain %q", tt.wantBody)
				}
				if strings.Contains(string(res.body), "wrong-password-x") || (tt.form.Get("password") != "" && strings.Contains(string(res.body), tt.form.Get("password"))) {
					t.Error("the page echoes the password")
				}
				priv := k.get(c, "/private")
				if tt.wantSession {
					if priv.status != http.StatusOK || string(priv.body) != "hello policy@mfa.example" {
						t.Errorf("/private after sign-in = %d %s", priv.status, priv.body)
					}
				} else if priv.status != http.StatusSeeOther {
					t.Errorf("/private without sign-in = %d, want a redirect", priv.status)
				}
			})
		}
		// A signed-in visitor of /login goes on to next.
		c := k.browser()
		k.postForm(c, "/login", url.Values{"email": {"policy@mfa.example"}, "password": {password}})
		if res := k.get(c, "/login?next=/private"); res.status != http.StatusSeeOther || res.header.Get("Location") != "/private" {
			t.Errorf("GET /login signed in = %d → %q", res.status, res.header.Get("Location"))
		}
	})
}

func sessionCookie(t *testing.T, res *response) *http.Cookie {
	t.Helper()
	r := http.Response{Header: res.header}
	for _, c := range r.Cookies() {
		if c.Name == auth.SessionCookie {
			return c
		}
	}
	t.Fatalf("no %s cookie in %v", auth.SessionCookie, res.header.Values("Set-Cookie"))
	return nil
}

func TestSessionCookieFlags(t *testing.T) {
	tests := []struct {
		name       string
		secure     bool
		tls        bool
		wantSecure bool
	}{
		{"plain HTTP", false, false, false},
		{"behind a TLS proxy (--secure-cookies)", true, false, true},
		{"TLS", false, true, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			storetest.Each(t, func(t *testing.T, db *store.DB) {
				start := httptest.NewServer
				if tt.tls {
					start = httptest.NewTLSServer
				}
				k := newKernel(t, db, start)
				k.srv.Secure = tt.secure
				res := k.postForm(k.browser(), "/login", url.Values{"email": {"policy@mfa.example"}, "password": {password}})
				if res.status != http.StatusSeeOther {
					t.Fatalf("login: %d", res.status)
				}
				c := sessionCookie(t, res)
				if !c.HttpOnly {
					t.Error("cookie is not HttpOnly")
				}
				if c.SameSite != http.SameSiteLaxMode {
					t.Errorf("SameSite = %v, want Lax", c.SameSite)
				}
				if c.Secure != tt.wantSecure {
					t.Errorf("Secure = %v, want %v", c.Secure, tt.wantSecure)
				}
				if c.Path != "/" || c.MaxAge != int(auth.SessionLifetime.Seconds()) {
					t.Errorf("Path %q MaxAge %d", c.Path, c.MaxAge)
				}
				if !strings.HasPrefix(c.Value, "ks_") {
					t.Errorf("cookie value %q is not a session token", c.Value)
				}
				if got := res.header.Get("Strict-Transport-Security") != ""; got != tt.wantSecure {
					t.Errorf("HSTS present = %v, want %v", got, tt.wantSecure)
				}
			}, audit.Migrations, auth.Migrations)
		})
	}
}

func TestLogout(t *testing.T) {
	eachKernel(t, func(t *testing.T, k *kernel) {
		ctx := context.Background()
		t.Run("form", func(t *testing.T) {
			k := k.with(t)
			c := k.browser()
			login := k.postForm(c, "/login", url.Values{"email": {"policy@mfa.example"}, "password": {password}})
			secret := sessionCookie(t, login).Value
			if res := k.get(c, "/private"); res.status != http.StatusOK {
				t.Fatalf("/private = %d", res.status)
			}
			res := k.postForm(c, "/logout", nil)
			if res.status != http.StatusSeeOther || res.header.Get("Location") != "/login" {
				t.Errorf("logout = %d → %q", res.status, res.header.Get("Location"))
			}
			if cleared := sessionCookie(t, res); cleared.Value != "" || cleared.MaxAge >= 0 {
				t.Errorf("cookie not cleared: %+v", cleared)
			}
			if n := k.count(`SELECT COUNT(*) FROM sessions WHERE token_hash = ?`, sha(secret)); n != 0 {
				t.Error("the session row outlived the logout")
			}
			// The old cookie value, replayed, no longer works.
			if p, _ := k.svc.Authenticate(ctx, secret); p != nil {
				t.Error("the session still authenticates")
			}
			if res := k.get(c, "/private"); res.status != http.StatusSeeOther || !strings.HasPrefix(res.header.Get("Location"), "/login?next=") {
				t.Errorf("/private after logout = %d → %q", res.status, res.header.Get("Location"))
			}
			if n := k.count(`SELECT COUNT(*) FROM audit_events WHERE action = ?`, audit.ActionLogout); n != 1 {
				t.Errorf("%d logout events, want 1", n)
			}
		})
		t.Run("API", func(t *testing.T) {
			k := k.with(t)
			tok, _ := k.apiLogin("admin@mfa.example", password)
			if res := k.do("POST", "/api/v1/auth/logout", tok, nil); res.status != http.StatusNoContent {
				t.Errorf("logout = %d %s", res.status, res.body)
			}
			if res := k.do("GET", "/api/v1/me", tok, nil); res.status != http.StatusUnauthorized {
				t.Errorf("/me after logout = %d, want 401", res.status)
			}
			if res := k.do("POST", "/api/v1/auth/logout", "", nil); res.status != http.StatusUnauthorized {
				t.Errorf("logout without a token = %d, want 401", res.status)
			}
		})
		t.Run("form without a session", func(t *testing.T) {
			k := k.with(t)
			res := k.postForm(k.browser(), "/logout", nil)
			if res.status != http.StatusSeeOther {
				t.Errorf("logout = %d, want 303", res.status)
			}
		})
	})
}

func TestCaller(t *testing.T) {
	p := &auth.Principal{UserID: 7, Email: "a@b.example"}
	if got := auth.Caller(auth.WithPrincipal(context.Background(), p)); got != p {
		t.Errorf("Caller = %v, want %v", got, p)
	}
	// Without a caller the route was registered public yet asks for one: a
	// programming error, which must not pass as an anonymous caller.
	defer func() {
		if recover() == nil {
			t.Error("Caller without a signed-in user did not panic")
		}
	}()
	auth.Caller(context.Background())
}

// TestRuleAdmit: a route's rule admits by role alone, before any record is
// read; the relation is the service's to check.
func TestRuleAdmit(t *testing.T) {
	rule := auth.Rule{Action: "do it", Roles: []auth.Role{auth.RoleAdmin}, Relations: []auth.Relation{auth.RelOwner}}
	if err := rule.Admit(context.Background()); !errors.Is(err, fault.ErrUnauthenticated) {
		t.Errorf("no caller: %v", err)
	}
	analyst := auth.WithPrincipal(context.Background(), &auth.Principal{Role: auth.RoleAnalyst, OrgName: "DTM"})
	if err := rule.Admit(analyst); web.StatusOf(err) != 403 || !strings.Contains(err.Error(), "may not do it") {
		t.Errorf("wrong role: %v", err)
	}
	admin := auth.WithPrincipal(context.Background(), &auth.Principal{Role: auth.RoleAdmin, Email: "a@x"})
	if err := rule.Admit(admin); err != nil {
		t.Errorf("allowed: %v", err)
	}
	either := auth.AnyOf("do either", rule, auth.Rule{Roles: []auth.Role{auth.RoleAnalyst}})
	if err := either.Admit(analyst); err != nil {
		t.Errorf("AnyOf refuses a role one of its rules names: %v", err)
	}
	if err := either.Admit(auth.WithPrincipal(context.Background(), &auth.Principal{Role: auth.RolePolice})); web.StatusOf(err) != 403 {
		t.Errorf("AnyOf admits police: %v", err)
	}
}
