// Package app is Kompas's composition root: the one place that knows every
// module, wires them onto the web server in order and lists their
// migrations. cmd/kompas and the end-to-end tests build the server here.
package app

import (
	"context"
	"fmt"
	"html/template"
	"log/slog"
	"net/http"
	"net/netip"

	"kompas/internal/gcm"
	"kompas/internal/gcm/gcmweb"
	"kompas/internal/iati"
	"kompas/internal/platform/audit"
	"kompas/internal/platform/audit/auditweb"
	"kompas/internal/platform/audit/refusals"
	"kompas/internal/platform/auth"
	"kompas/internal/platform/facts"
	"kompas/internal/platform/store"
	"kompas/internal/platform/web"
	"kompas/internal/programmes"
	"kompas/internal/report"
	"kompas/internal/returns"
)

// Migrations lists every module's migrations in dependency order.
var Migrations = []store.Migrations{audit.Migrations, auth.Migrations, refusals.Migrations, gcm.Migrations, programmes.Migrations, returns.Migrations, report.Migrations, iati.Migrations}

// Migrate brings db's schema up to date.
func Migrate(ctx context.Context, db *store.DB) ([]string, error) {
	return db.Migrate(ctx, Migrations...)
}

// Options tune the server.
type Options struct {
	Secure bool // cookies only over TLS
	// TrustedProxies are the proxies whose X-Forwarded-For names the client
	// (for the login throttle and the audit log); empty trusts none.
	TrustedProxies []netip.Prefix
	// IATI sets the IATI import size limit and the export's publisher reference.
	IATI iati.Config
	// Refusals audits refused requests for personal data; nil means one
	// with the default rate limit. Its DB is set here when empty.
	Refusals *refusals.Recorder
	// Checkpointer signs the audit log's checkpoints (nil: no audit key,
	// the log is not tamper-evident). The caller runs it and configures
	// the same key for audit.Append.
	Checkpointer *audit.Checkpointer
}

// Services are every module's services, built once for a database and
// handed their dependencies here; the server and every command of
// cmd/kompas take theirs from one Services.
type Services struct {
	DB       *store.DB
	GCM      *gcm.Catalogue // read once at start: frameworks change only by migration
	Accounts *auth.Service  // sign-in, and the organisations modules list, look up and add
	Register *programmes.Register
	Returns  *returns.Service
	Review   *report.Builder
	Editions *report.Editions
}

// Build makes every service for db (which must be migrated).
func Build(ctx context.Context, db *store.DB) (*Services, error) {
	cat, err := gcm.Load(ctx, db)
	if err != nil {
		return nil, fmt.Errorf("app: %w", err)
	}
	return services(db, cat), nil
}

// services wires every service on db and the catalogue read from it.
func services(db *store.DB, cat *gcm.Catalogue) *Services {
	s := &Services{DB: db, GCM: cat, Accounts: &auth.Service{DB: db}, Returns: &returns.Service{DB: db}}
	s.Register = &programmes.Register{DB: db, GCM: cat}
	s.Review = &report.Builder{DB: db, Register: s.Register, GCM: cat, Orgs: s.Accounts, Sources: []facts.Source{s.Register, s.Returns}}
	s.Editions = &report.Editions{DB: db, Builder: s.Review, Orgs: s.Accounts}
	return s
}

// NewServer builds the services and the web server with every module
// registered.
func NewServer(ctx context.Context, db *store.DB, log *slog.Logger, opts Options) (*web.Server, error) {
	s, err := Build(ctx, db)
	if err != nil {
		return nil, err
	}
	return s.Server(log, opts), nil
}

// Server is the web server with every module's routes on s's services.
func (s *Services) Server(log *slog.Logger, opts Options) *web.Server {
	srv := web.NewServer(log)
	srv.Secure = opts.Secure
	srv.TrustedProxies = opts.TrustedProxies
	srv.Ready = s.DB.Ping
	rec := opts.Refusals
	if rec == nil {
		rec = &refusals.Recorder{}
	}
	if rec.DB == nil {
		rec.DB = s.DB
	}
	srv.OnRefusal = rec.Record
	// Template helpers several modules use whose data is a module's.
	srv.Funcs(template.FuncMap{"objectiveTitle": gcm.ObjectiveTitle})
	auth.Register(srv, s.Accounts)
	gcmweb.Register(srv, s.GCM)
	auditweb.Register(srv, s.DB, rec, opts.Checkpointer)
	programmes.NewHandlers(srv, s.Register, s.Accounts)
	returns.NewHandlers(srv, s.Returns)
	iati.NewHandlers(srv, s.DB, IATIRegister(s.Register), s.Accounts, opts.IATI)
	report.NewHandlers(srv, s.Editions)
	srv.Page("GET /{$}", web.Op{Public: true}, func(w http.ResponseWriter, r *http.Request) error {
		if auth.FromContext(r.Context()) == nil {
			http.Redirect(w, r, "/login", http.StatusSeeOther)
			return nil
		}
		http.Redirect(w, r, "/initiatives", http.StatusSeeOther)
		return nil
	})
	return srv
}

// ReviewBuilder builds the GCM review from the register and every module
// that supplies facts (as modules are added, they join Sources in Build).
// cat is the catalogue gcm.Load read at start.
func ReviewBuilder(db *store.DB, cat *gcm.Catalogue) *report.Builder {
	return services(db, cat).Review
}
