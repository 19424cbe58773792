// Package auth holds organisations, users and roles, browser sessions and API
// tokens (both stored only as hashes), login throttling, and the permission
// check every handler calls: organisation + role + the record's relation to
// the caller.
package auth

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"database/sql"
	"embed"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	"strings"
	"time"
	"unicode/utf8"

	"kompas/internal/platform/audit"
	"kompas/internal/platform/fault"
	"kompas/internal/platform/store"
	"kompas/internal/platform/web"
)

//go:embed migrations/*.sql
var migrationFiles embed.FS

// Migrations creates organisations, users, sessions, tokens and the login
// throttle table.
var Migrations = store.Embedded("auth", migrationFiles)

// Session settings.
const (
	SessionCookie   = "kompas_session"
	SessionLifetime = 12 * time.Hour
	TokenLifetime   = 90 * 24 * time.Hour
	// maxEmailLength is the longest address an account may have.
	maxEmailLength = 254
)

// Principal is the signed-in caller.
type Principal struct {
	UserID  int64
	Email   string
	Name    string
	Role    Role
	OrgID   int64
	OrgSlug string
	OrgName string
	OrgKind string
	Via     string // "session" or "token"
}

// Event makes an audit event acted by p.
func (p *Principal) Event(action, objectType, objectID, purpose, detail string) audit.Event {
	e := audit.Event{Action: action, ObjectType: objectType, ObjectID: objectID, Purpose: purpose, Detail: detail}
	if p != nil {
		e.ActorID, e.Actor, e.Org = p.UserID, p.Email, p.OrgSlug
	} else {
		e.Actor, e.Org = "system", ""
	}
	return e
}

type ctxKey struct{}

// WithPrincipal returns ctx carrying p.
func WithPrincipal(ctx context.Context, p *Principal) context.Context {
	return context.WithValue(ctx, ctxKey{}, p)
}

// FromContext returns the caller, or nil.
func FromContext(ctx context.Context) *Principal {
	p, _ := ctx.Value(ctxKey{}).(*Principal)
	return p
}

// Relation is how a record stands to the caller's organisation: the owner
// that recorded it, the NGO the migrant chose, the partner assigned, the
// employer who filed. RelNone means no relation.
type Relation string

const (
	RelNone     Relation = ""
	RelOwner    Relation = "owner"
	RelChosen   Relation = "chosen"
	RelAssigned Relation = "assigned"
	RelFiler    Relation = "filer"
)

// Rule is one permission: who (roles) may do Action to a record, and in
// which relation the record must stand to their organisation (empty: any).
type Rule struct {
	Action    string
	Roles     []Role
	Relations []Relation
}

// Allows reports whether p may act under r on a record standing in rel.
func (r Rule) Allows(p *Principal, rel Relation) bool {
	if p == nil {
		return false
	}
	roleOK := false
	for _, x := range r.Roles {
		if x == p.Role {
			roleOK = true
			break
		}
	}
	if !roleOK {
		return false
	}
	if len(r.Relations) == 0 {
		return true
	}
	for _, x := range r.Relations {
		if x == rel {
			return true
		}
	}
	return false
}

// Check returns nil when p may act under r on a record in relation rel;
// otherwise ErrUnauthenticated (no caller) or a 403 naming the rule.
func Check(p *Principal, r Rule, rel Relation) error {
	if p == nil {
		return fault.ErrUnauthenticated
	}
	if r.Allows(p, rel) {
		return nil
	}
	return fault.Forbidden(fmt.Sprintf("A %s of %s may not %s.", p.Role.Label(), p.OrgName, r.Action))
}

// Service is the accounts store.
type Service struct {
	DB *store.DB
	// Now is the clock of sign-in and its throttle; nil means time.Now.
	// Tests set it to step through the throttle's delays without sleeping.
	Now func() time.Time

	// checkPassword is CheckPassword unless a test counts the checks.
	checkPassword func(hash, pw string) bool
}

func (s *Service) now() time.Time {
	if s.Now != nil {
		return s.Now()
	}
	return time.Now()
}

func (s *Service) passwordMatches(hash, pw string) bool {
	if s.checkPassword != nil {
		return s.checkPassword(hash, pw)
	}
	return CheckPassword(hash, pw)
}

// Org is an organisation.
type Org struct {
	ID      int64  `json:"-"`
	Slug    string `json:"slug"`
	Name    string `json:"name"`
	Kind    string `json:"kind"`
	Country string `json:"country,omitempty"`
}

// User is an account.
type User struct {
	ID       int64
	Email    string
	Name     string
	Role     Role
	OrgSlug  string
	Disabled bool
	Created  time.Time
}

// EnsureOrg creates the organisation if its slug is new and returns its id;
// an existing one keeps its name and kind.
func (s *Service) EnsureOrg(ctx context.Context, tx *store.Tx, o Org) (int64, error) {
	if err := validSlug(o.Slug); err != nil {
		return 0, err
	}
	if !ValidOrgKind(o.Kind) {
		return 0, fmt.Errorf("auth: unknown organisation kind %q (one of %s)", o.Kind, strings.Join(OrgKinds, ", "))
	}
	var id int64
	err := tx.QueryRow(ctx, `SELECT id FROM organisations WHERE slug = ?`, o.Slug).Scan(&id)
	if err == nil {
		return id, nil
	}
	if !errors.Is(err, sql.ErrNoRows) {
		return 0, fmt.Errorf("auth: find organisation: %w", err)
	}
	id, err = tx.InsertID(ctx, `INSERT INTO organisations (slug, name, kind, country, created_at) VALUES (?, ?, ?, ?, ?) RETURNING id`,
		o.Slug, o.Name, o.Kind, o.Country, store.FormatTime(time.Now()))
	if err != nil {
		return 0, fmt.Errorf("auth: create organisation %s: %w", o.Slug, err)
	}
	return id, nil
}

func validSlug(s string) error {
	if s == "" || len(s) > 64 {
		return fmt.Errorf("auth: organisation slug must be 1 to 64 characters")
	}
	for _, c := range s {
		if !(c >= 'a' && c <= 'z' || c >= '0' && c <= '9' || c == '-') {
			return fmt.Errorf("auth: organisation slug %q may hold only a-z, 0-9 and -", s)
		}
	}
	return nil
}

// Orgs lists organisations by name.
func (s *Service) Orgs(ctx context.Context) ([]Org, error) {
	rows, err := s.DB.Query(ctx, `SELECT id, slug, name, kind, country FROM organisations ORDER BY name`)
	if err != nil {
		return nil, fmt.Errorf("auth: list organisations: %w", err)
	}
	defer rows.Close()
	var out []Org
	for rows.Next() {
		var o Org
		if err := rows.Scan(&o.ID, &o.Slug, &o.Name, &o.Kind, &o.Country); err != nil {
			return nil, err
		}
		out = append(out, o)
	}
	return out, rows.Err()
}

// OrgBySlug finds an organisation; sql.ErrNoRows when there is none.
func (s *Service) OrgBySlug(ctx context.Context, q store.Querier, slug string) (Org, error) {
	var o Org
	err := q.QueryRow(ctx, `SELECT id, slug, name, kind, country FROM organisations WHERE slug = ?`, slug).Scan(&o.ID, &o.Slug, &o.Name, &o.Kind, &o.Country)
	return o, err
}

// NewUser is the input of CreateUser.
type NewUser struct {
	Email, Name, Password, OrgSlug string
	Role                           Role
}

// CreateUser adds an account; actor is who did it (nil for the CLI).
func (s *Service) CreateUser(ctx context.Context, actor *Principal, u NewUser) (int64, error) {
	u.Email = strings.ToLower(strings.TrimSpace(u.Email))
	if !strings.Contains(u.Email, "@") || len(u.Email) > maxEmailLength {
		return 0, fmt.Errorf("auth: %q is not an e-mail address", u.Email)
	}
	if !u.Role.Valid() {
		return 0, fmt.Errorf("auth: unknown role %q", u.Role)
	}
	hash, err := HashPassword(u.Password)
	if err != nil {
		return 0, err
	}
	var id int64
	err = s.DB.Transact(ctx, func(tx *store.Tx) error {
		org, err := s.OrgBySlug(ctx, tx, u.OrgSlug)
		if errors.Is(err, sql.ErrNoRows) {
			return fmt.Errorf("auth: no organisation %q", u.OrgSlug)
		} else if err != nil {
			return err
		}
		id, err = tx.InsertID(ctx, `INSERT INTO users (org_id, email, name, role, password_hash, disabled, created_at) VALUES (?, ?, ?, ?, ?, ?, ?) RETURNING id`,
			org.ID, u.Email, u.Name, string(u.Role), hash, false, store.FormatTime(time.Now()))
		if store.IsUniqueViolation(err) {
			return fmt.Errorf("auth: a user %s exists already", u.Email)
		} else if err != nil {
			return err
		}
		return audit.Append(ctx, tx, actor.Event(audit.ActionCreate, "user", u.Email, "account administration", "role="+string(u.Role)+" org="+u.OrgSlug))
	})
	if err != nil {
		return 0, fmt.Errorf("auth: create user: %w", err)
	}
	return id, nil
}

// SetPassword replaces a user's password and ends their sessions.
func (s *Service) SetPassword(ctx context.Context, actor *Principal, email, pw string) error {
	hash, err := HashPassword(pw)
	if err != nil {
		return err
	}
	return s.DB.Transact(ctx, func(tx *store.Tx) error {
		res, err := tx.Exec(ctx, `UPDATE users SET password_hash = ? WHERE email = ?`, hash, strings.ToLower(email))
		if err != nil {
			return err
		}
		if n, _ := res.RowsAffected(); n == 0 {
			return fmt.Errorf("auth: no user %s", email)
		}
		if _, err := tx.Exec(ctx, `DELETE FROM sessions WHERE user_id = (SELECT id FROM users WHERE email = ?)`, strings.ToLower(email)); err != nil {
			return err
		}
		return audit.Append(ctx, tx, actor.Event(audit.ActionUpdate, "user", email, "account administration", "password set"))
	})
}

// SetDisabled disables or re-enables an account; disabling ends its
// sessions and revokes its tokens.
func (s *Service) SetDisabled(ctx context.Context, actor *Principal, email string, disabled bool) error {
	email = strings.ToLower(email)
	return s.DB.Transact(ctx, func(tx *store.Tx) error {
		res, err := tx.Exec(ctx, `UPDATE users SET disabled = ? WHERE email = ?`, disabled, email)
		if err != nil {
			return err
		}
		if n, _ := res.RowsAffected(); n == 0 {
			return fmt.Errorf("auth: no user %s", email)
		}
		if disabled {
			if _, err := tx.Exec(ctx, `DELETE FROM sessions WHERE user_id = (SELECT id FROM users WHERE email = ?)`, email); err != nil {
				return err
			}
			if _, err := tx.Exec(ctx, `UPDATE api_tokens SET revoked_at = ? WHERE revoked_at IS NULL AND user_id = (SELECT id FROM users WHERE email = ?)`, store.FormatTime(time.Now()), email); err != nil {
				return err
			}
		}
		return audit.Append(ctx, tx, actor.Event(audit.ActionUpdate, "user", email, "account administration", fmt.Sprintf("disabled=%v", disabled)))
	})
}

// Users lists accounts.
func (s *Service) Users(ctx context.Context) ([]User, error) {
	rows, err := s.DB.Query(ctx, `SELECT u.id, u.email, u.name, u.role, o.slug, u.disabled, u.created_at
		FROM users u JOIN organisations o ON o.id = u.org_id ORDER BY o.slug, u.email`)
	if err != nil {
		return nil, fmt.Errorf("auth: list users: %w", err)
	}
	defer rows.Close()
	var out []User
	for rows.Next() {
		var u User
		var created string
		if err := rows.Scan(&u.ID, &u.Email, &u.Name, &u.Role, &u.OrgSlug, &u.Disabled, &created); err != nil {
			return nil, err
		}
		u.Created, _ = store.ParseTime(created)
		out = append(out, u)
	}
	return out, rows.Err()
}

func newSecret(prefix string) (token, hash string) {
	b := make([]byte, 32)
	if _, err := rand.Read(b); err != nil {
		panic(err)
	}
	token = prefix + base64.RawURLEncoding.EncodeToString(b)
	return token, hashSecret(token)
}

func hashSecret(token string) string {
	sum := sha256.Sum256([]byte(token))
	return hex.EncodeToString(sum[:])
}

// ErrBadCredentials is a failed login. It does not say which part was wrong.
var ErrBadCredentials = &fault.Error{Kind: fault.KindUnauthenticated, Title: "Sign-in failed", Detail: "The e-mail address or password is not right."}

// Login checks a password and on success opens a session. It returns the
// session token (to be put in a cookie or given to an API client). The
// throttle (throttle.go) reserves the attempt first; a refused one returns a
// *ThrottledError without checking the password.
func (s *Service) Login(ctx context.Context, email, password, client string) (string, *Principal, error) {
	// Checked before ToLower, which would turn bad bytes into U+FFFD.
	valid := utf8.ValidString(email)
	email = strings.ToLower(strings.TrimSpace(email))
	if len(email) > maxEmailLength || !valid {
		// No account can have it; nothing to count or check.
		return "", nil, ErrBadCredentials
	}
	now := s.now()
	keys := throttleKeys(email, client)
	wait, err := s.reserve(ctx, keys, now)
	if err != nil {
		return "", nil, fmt.Errorf("auth: login: %w", err)
	}
	if wait > 0 {
		// Not audited: an attacker's thousands of refused guesses would
		// flood the chain. The checked failures before them are audited.
		web.Logger(ctx).Info("sign-in throttled", "client", client, "wait", wait)
		return "", nil, throttled(wait)
	}
	var p Principal
	var hash string
	var disabled bool
	err = s.DB.QueryRow(ctx, `SELECT u.id, u.email, u.name, u.role, u.password_hash, u.disabled, o.id, o.slug, o.name, o.kind
		FROM users u JOIN organisations o ON o.id = u.org_id WHERE u.email = ?`, email).
		Scan(&p.UserID, &p.Email, &p.Name, &p.Role, &hash, &disabled, &p.OrgID, &p.OrgSlug, &p.OrgName, &p.OrgKind)
	if err != nil && !errors.Is(err, sql.ErrNoRows) {
		return "", nil, fmt.Errorf("auth: login: %w", err)
	}
	found := err == nil
	if !found {
		hash = dummyHash
	}
	ok := s.passwordMatches(hash, password) && found && !disabled
	if !ok {
		// The attempt stays counted: it was reserved before the check.
		err := s.DB.Transact(ctx, func(tx *store.Tx) error {
			if err := forgetOldCounters(ctx, tx, now); err != nil {
				return err
			}
			return audit.Append(ctx, tx, audit.Event{Actor: email, Action: audit.ActionLoginFailed, ObjectType: "session", ObjectID: "", Purpose: "sign-in", Detail: "client=" + client})
		})
		if err != nil {
			return "", nil, fmt.Errorf("auth: login: %w", err)
		}
		return "", nil, ErrBadCredentials
	}
	token, tokenHash := newSecret("ks_")
	p.Via = "session"
	err = s.DB.Transact(ctx, func(tx *store.Tx) error {
		if _, err := tx.Exec(ctx, `INSERT INTO sessions (token_hash, user_id, created_at, expires_at, client) VALUES (?, ?, ?, ?, ?)`,
			tokenHash, p.UserID, store.FormatTime(now), store.FormatTime(now.Add(SessionLifetime)), client); err != nil {
			return err
		}
		if err := releaseOnSuccess(ctx, tx, keys); err != nil {
			return err
		}
		if _, err := tx.Exec(ctx, `DELETE FROM sessions WHERE expires_at < ?`, store.FormatTime(now)); err != nil {
			return err
		}
		return audit.Append(ctx, tx, p.Event(audit.ActionLogin, "session", tokenHash[:12], "sign-in", "client="+client))
	})
	if err != nil {
		return "", nil, fmt.Errorf("auth: login: %w", err)
	}
	return token, &p, nil
}

// Logout ends the session or revokes the token the caller used.
func (s *Service) Logout(ctx context.Context, p *Principal, secret string) error {
	h := hashSecret(secret)
	return s.DB.Transact(ctx, func(tx *store.Tx) error {
		if _, err := tx.Exec(ctx, `DELETE FROM sessions WHERE token_hash = ?`, h); err != nil {
			return err
		}
		return audit.Append(ctx, tx, p.Event(audit.ActionLogout, "session", h[:12], "sign-out", ""))
	})
}

// CreateToken issues an API token for a user. The token is shown once.
func (s *Service) CreateToken(ctx context.Context, actor *Principal, email, name string, lifetime time.Duration) (string, error) {
	if lifetime <= 0 {
		lifetime = TokenLifetime
	}
	token, hash := newSecret("kt_")
	now := time.Now()
	err := s.DB.Transact(ctx, func(tx *store.Tx) error {
		var uid int64
		var disabled bool
		if err := tx.QueryRow(ctx, `SELECT id, disabled FROM users WHERE email = ?`, strings.ToLower(email)).Scan(&uid, &disabled); err != nil {
			if errors.Is(err, sql.ErrNoRows) {
				return fmt.Errorf("no user %s", email)
			}
			return err
		}
		if disabled {
			return fmt.Errorf("user %s is disabled", email)
		}
		if _, err := tx.Exec(ctx, `INSERT INTO api_tokens (user_id, name, token_hash, created_at, expires_at) VALUES (?, ?, ?, ?, ?)`,
			uid, name, hash, store.FormatTime(now), store.FormatTime(now.Add(lifetime))); err != nil {
			return err
		}
		return audit.Append(ctx, tx, actor.Event(audit.ActionCreate, "api_token", hash[:12], "account administration", "for "+email+" name="+name))
	})
	if err != nil {
		return "", fmt.Errorf("auth: create token: %w", err)
	}
	return token, nil
}

// RevokeToken revokes a token given the token itself or the first 12
// characters of its hash (as `kompas token create` prints).
func (s *Service) RevokeToken(ctx context.Context, actor *Principal, tokenOrID string) error {
	h := tokenOrID
	if strings.HasPrefix(tokenOrID, "kt_") {
		h = hashSecret(tokenOrID)
	}
	if len(h) < 12 {
		return errors.New("auth: revoke: give the token or its 12-character id")
	}
	return s.DB.Transact(ctx, func(tx *store.Tx) error {
		res, err := tx.Exec(ctx, `UPDATE api_tokens SET revoked_at = ? WHERE revoked_at IS NULL AND substr(token_hash, 1, ?) = ?`, store.FormatTime(time.Now()), len(h), h)
		if err != nil {
			return err
		}
		if n, _ := res.RowsAffected(); n == 0 {
			return errors.New("auth: revoke: no active token matches")
		}
		return audit.Append(ctx, tx, actor.Event(audit.ActionUpdate, "api_token", h[:12], "account administration", "revoked"))
	})
}

const principalColumns = `u.id, u.email, u.name, u.role, o.id, o.slug, o.name, o.kind`

// Authenticate resolves a session or API token to its principal; nil when it
// is unknown, expired, revoked or the account is disabled.
func (s *Service) Authenticate(ctx context.Context, secret string) (*Principal, error) {
	var q string
	p := &Principal{}
	switch {
	case strings.HasPrefix(secret, "ks_"):
		p.Via = "session"
		q = `SELECT ` + principalColumns + ` FROM sessions t JOIN users u ON u.id = t.user_id JOIN organisations o ON o.id = u.org_id
			WHERE t.token_hash = ? AND t.expires_at > ? AND NOT u.disabled`
	case strings.HasPrefix(secret, "kt_"):
		p.Via = "token"
		q = `SELECT ` + principalColumns + ` FROM api_tokens t JOIN users u ON u.id = t.user_id JOIN organisations o ON o.id = u.org_id
			WHERE t.token_hash = ? AND t.expires_at > ? AND t.revoked_at IS NULL AND NOT u.disabled`
	default:
		return nil, nil
	}
	err := s.DB.QueryRow(ctx, q, hashSecret(secret), store.FormatTime(time.Now())).
		Scan(&p.UserID, &p.Email, &p.Name, &p.Role, &p.OrgID, &p.OrgSlug, &p.OrgName, &p.OrgKind)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("auth: authenticate: %w", err)
	}
	return p, nil
}

// TokenID is the short id of a token: the first 12 characters of its hash,
// as stored and audited.
func TokenID(token string) string { return hashSecret(token)[:12] }
