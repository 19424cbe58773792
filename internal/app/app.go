// Package app is Kompas's composition root: the one place that knows every
// module, wires them onto the web server in order and lists their
// migrations. cmd/kompas and the end-to-end tests build the server here.
package app

import (
	"context"
	"fmt"
	"log/slog"
	"net/http"
	"net/netip"

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
	// TrustedProxies are the proxies whose X-Forwarded-For names the client
	// (for the login throttle and the audit log); empty trusts none.
	TrustedProxies []netip.Prefix
	// IATI sets the IATI import size limit and the export's publisher reference.
	IATI iati.Config
}

// NewServer builds the web server with every module registered. It reads
// the GCM frameworks catalogue once, here: the frameworks change only by
// migration, so no request reads them again.
func NewServer(ctx context.Context, db *store.DB, log *slog.Logger, opts Options) (*web.Server, error) {
	cat, err := gcm.Load(ctx, db)
	if err != nil {
		return nil, fmt.Errorf("app: %w", err)
	}
	srv := web.NewServer(log)
	srv.Secure = opts.Secure
	srv.TrustedProxies = opts.TrustedProxies
	srv.Ready = db.Ping
	reg := &programmes.Register{DB: db, GCM: cat}
	auth.Register(srv, &auth.Service{DB: db})
	gcm.Register(srv, cat)
	auditweb.Register(srv, db)
	programmes.NewHandlers(srv, reg)
	returns.NewHandlers(srv, &returns.Service{DB: db})
	iati.NewHandlers(srv, db, IATIRegister(reg), opts.IATI)
	report.NewHandlers(srv, &report.Editions{DB: db, Builder: ReviewBuilder(db, cat)})
	srv.Handle("GET /{$}", func(w http.ResponseWriter, r *http.Request) error {
		if auth.FromContext(r.Context()) == nil {
			http.Redirect(w, r, "/login", http.StatusSeeOther)
			return nil
		}
		http.Redirect(w, r, "/initiatives", http.StatusSeeOther)
		return nil
	})
	return srv, nil
}

// ReviewBuilder builds the GCM review from the register and every module
// that supplies facts (as modules are added, they join Sources here). cat is
// the catalogue gcm.Load read at start.
func ReviewBuilder(db *store.DB, cat *gcm.Catalogue) *report.Builder {
	reg := &programmes.Register{DB: db, GCM: cat}
	return &report.Builder{DB: db, Register: reg, GCM: cat, Sources: []facts.Source{reg, &returns.Service{DB: db}}}
}
