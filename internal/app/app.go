// Package app is Kompas's composition root: the one place that knows every
// module, wires them onto the web server in order and lists their
// migrations. cmd/kompas and the end-to-end tests build the server here.
package app

import (
	"context"
	"log/slog"
	"net/http"

	"kompas/internal/gcm"
	"kompas/internal/iati"
	"kompas/internal/platform/audit"
	"kompas/internal/platform/audit/auditweb"
	"kompas/internal/platform/auth"
	"kompas/internal/platform/facts"
	"kompas/internal/platform/store"
	"kompas/internal/platform/web"
	"kompas/internal/programmes"
	"kompas/internal/report"
	"kompas/internal/returns"
)

// Migrations lists every module's migrations in dependency order.
var Migrations = []store.Migrations{audit.Migrations, auth.Migrations, gcm.Migrations, programmes.Migrations, returns.Migrations, report.Migrations, iati.Migrations}

// Migrate brings db's schema up to date.
func Migrate(ctx context.Context, db *store.DB) ([]string, error) {
	return db.Migrate(ctx, Migrations...)
}

// Options tune the server.
type Options struct {
	Secure bool // cookies only over TLS
	// IATI sets the IATI import size limit and the export's publisher reference.
	IATI iati.Config
	// Checkpointer signs the audit log's checkpoints (nil: no audit key,
	// the log is not tamper-evident). The caller runs it and configures
	// the same key for audit.Append.
	Checkpointer *audit.Checkpointer
}

// NewServer builds the web server with every module registered.
func NewServer(db *store.DB, log *slog.Logger, opts Options) *web.Server {
	srv := web.NewServer(log)
	srv.Secure = opts.Secure
	srv.Ready = db.Ping
	auth.Register(srv, &auth.Service{DB: db})
	gcm.Register(srv, db)
	auditweb.Register(srv, db, opts.Checkpointer)
	programmes.NewHandlers(srv, &programmes.Register{DB: db})
	returns.NewHandlers(srv, &returns.Service{DB: db})
	iati.NewHandlers(srv, &programmes.Register{DB: db}, opts.IATI)
	report.NewHandlers(srv, &report.Editions{DB: db, Builder: ReviewBuilder(db)})
	srv.Handle("GET /{$}", func(w http.ResponseWriter, r *http.Request) error {
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
// that supplies facts (as modules are added, they join Sources here).
func ReviewBuilder(db *store.DB) *report.Builder {
	reg := &programmes.Register{DB: db}
	return &report.Builder{DB: db, Register: reg, Sources: []facts.Source{reg, &returns.Service{DB: db}}}
}
