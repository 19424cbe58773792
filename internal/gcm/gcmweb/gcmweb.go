// Package gcmweb serves the GCM catalogue (objectives, guiding principles,
// national frameworks) over the API, so that package gcm stays pure data.
package gcmweb

import (
	"net/http"

	"kompas/internal/gcm"
	"kompas/internal/platform/auth"
	"kompas/internal/platform/web"
)

// Register adds the catalogue's API routes; the frameworks are cat's.
func Register(srv *web.Server, cat *gcm.Catalogue) {
	tags := []string{"gcm"}
	srv.API("GET /api/v1/gcm/objectives", web.Op{Summary: "The 23 GCM objectives with their official titles", Tags: tags, Access: auth.SignedIn, Response: []gcm.Objective{}},
		func(w http.ResponseWriter, r *http.Request) error {
			return web.WriteJSON(w, http.StatusOK, gcm.Objectives())
		})
	srv.API("GET /api/v1/gcm/principles", web.Op{Summary: "The 10 GCM guiding principles", Tags: tags, Access: auth.SignedIn, Response: []gcm.Principle{}},
		func(w http.ResponseWriter, r *http.Request) error {
			return web.WriteJSON(w, http.StatusOK, gcm.Principles())
		})
	srv.API("GET /api/v1/frameworks", web.Op{Summary: "National policy frameworks and their pillars", Tags: tags, Access: auth.SignedIn, Response: []gcm.Framework{}},
		func(w http.ResponseWriter, r *http.Request) error {
			return web.WriteJSON(w, http.StatusOK, cat.Frameworks())
		})
}
