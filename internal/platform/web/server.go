// Package web is Kompas's HTTP shell: the server with its middleware
// (client address behind trusted proxies, request ids, structured logs,
// security headers, body limits, cross-origin protection, timeouts, graceful
// shutdown), the adapter that turns a
// handler's error into an HTML page or RFC 9457 problem JSON, the one layout
// template with role-based navigation, embedded static files with hashed
// URLs, and the registry of API routes that the OpenAPI document is built
// from.
package web

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"html/template"
	"io"
	"kompas/internal/platform/fault"
	"log/slog"
	"net"
	"net/http"
	"net/netip"
	"net/url"
	"runtime/debug"
	"sort"
	"strings"
	"sync"
	"time"
)

// HandlerFunc is a handler that returns its error instead of writing it.
type HandlerFunc func(w http.ResponseWriter, r *http.Request) error

// DefaultBodyLimit caps request bodies unless a route asks for more.
const DefaultBodyLimit = 1 << 20

// Viewer is what the layout shows of the signed-in user.
type Viewer struct {
	Name      string
	Email     string
	OrgName   string
	Role      string
	RoleLabel string
}

// NavItem is one entry of the main navigation. Roles lists who sees it;
// empty means every signed-in user. Hiding a link is for convenience only:
// every handler checks access itself.
type NavItem struct {
	Label string
	Path  string
	Roles []string
	Order int
}

// Server is the HTTP server and its registries.
type Server struct {
	Log *slog.Logger
	// Viewer returns who is signed in, or nil. Set by auth.
	Viewer func(*http.Request) *Viewer
	// Authenticate runs before the mux to put the principal in the context.
	Authenticate func(http.Handler) http.Handler
	// Ready reports whether the database answers.
	Ready func(context.Context) error
	// Secure marks cookies Secure (behind TLS or a TLS-terminating proxy).
	Secure bool
	// TrustedProxies are the peers whose X-Forwarded-For is believed when
	// deciding the client address (see ClientAddr). Empty: none.
	TrustedProxies []netip.Prefix
	// OnRefusal, when set, is told of every 403 and 404 that a route
	// declared Personal answers, after the answer is written. The audit
	// log's refusal recorder is wired in here.
	OnRefusal func(*http.Request, Refusal)

	mux    *http.ServeMux
	mu     sync.Mutex
	nav    []NavItem
	routes []Route
	layout *Templates
	funcs  template.FuncMap // added to every page's functions (Funcs)
}

// Route is one registered route: an API operation (described in the
// OpenAPI document) or a page.
type Route struct {
	Method string
	Path   string
	Op     Op
	Page   bool // an HTML page or form, not part of the API document
}

// Access decides, before a route's handler runs, whether the caller may
// reach the route at all: by being signed in and holding one of its roles.
// auth.Rule implements it. The handler (or its service) then checks only
// the record's relation to the caller, where one matters.
type Access interface {
	// Admit returns nil, fault.ErrUnauthenticated when no one is signed in,
	// or a fault.Forbidden naming what the caller's role may not do.
	Admit(ctx context.Context) error
	// Describe says in words who is admitted, for the API document.
	Describe() string
}

// Op declares a route: who may call it (Public, or Access) and, for the API
// document, what it does and takes. Every route declares its access; a
// route that declares none is refused when it is registered.
type Op struct {
	Summary string
	Tags    []string
	// Public routes need no sign-in; every other route names its Access.
	Public bool
	Access Access
	// Conceal, when set, names the route's records ("Case"): a caller whom
	// Access refuses is answered that it is not found, as for a record that
	// is not there, for routes of records about people where even a refusal
	// should not say what the address holds. A caller whom Knows admits (a
	// party that works on such records, just not in this way) is told 403.
	Conceal string
	Knows   Access
	// Records says, where it matters, which records of the route a caller
	// admitted by Access may reach ("a case the caller may not see is a
	// 404"); the document prints it after the roles.
	Records   string
	Request   any // a value of the request body type, or nil
	Response  any // a value of the response body type, or nil
	Status    int // success status; 200 when zero
	Query     []Param
	Produces  []string
	BodyLimit int64 // largest request body; DefaultBodyLimit when zero
	// Personal marks a route of personal data: its refusals are reported
	// to OnRefusal.
	Personal Personal
}

// Personal declares that a route serves personal data of ObjectType, so
// that a 403 or 404 it answers is reported to Server.OnRefusal (and so
// audited as a refused read, which an IDOR probe otherwise would not be).
// IDParam names the path wildcard holding the id asked for; "" for a list.
type Personal struct {
	ObjectType string
	IDParam    string
}

// Refusal is what OnRefusal is told: which object was asked for and the
// status the caller got.
type Refusal struct {
	ObjectType string
	ObjectID   string
	Status     int
}

// Param is a query parameter.
type Param struct {
	Name, Description, Type string
}

// NewServer makes a server with the health endpoints and static files.
func NewServer(log *slog.Logger) *Server {
	if log == nil {
		log = slog.Default()
	}
	s := &Server{Log: log, mux: http.NewServeMux()}
	s.layout = s.Templates(nil)
	s.mux.Handle("GET /static/", http.StripPrefix("/static/", staticHandler()))
	ops := []string{"operations"}
	s.API("GET /healthz", Op{Summary: "Liveness: 200 while the process serves", Tags: ops, Public: true, Produces: []string{"text/plain"}},
		func(w http.ResponseWriter, r *http.Request) error {
			w.Header().Set("Content-Type", "text/plain; charset=utf-8")
			fmt.Fprintln(w, "ok")
			return nil
		})
	s.API("GET /readyz", Op{Summary: "Readiness: 200 when the database answers, 503 otherwise", Tags: ops, Public: true, Produces: []string{"text/plain"}},
		func(w http.ResponseWriter, r *http.Request) error {
			if s.Ready != nil {
				ctx, cancel := context.WithTimeout(r.Context(), 2*time.Second)
				defer cancel()
				if err := s.Ready(ctx); err != nil {
					return &fault.Error{Kind: fault.KindUnavailable, Title: "Not ready", Detail: "The database does not answer.", Err: err}
				}
			}
			w.Header().Set("Content-Type", "text/plain; charset=utf-8")
			fmt.Fprintln(w, "ready")
			return nil
		})
	s.mux.Handle("/api/", s.adapt(Op{Public: true}, s.apiFallback))
	s.API("GET /api/v1/openapi.json", Op{Summary: "This OpenAPI 3.1 document", Tags: ops, Public: true}, s.serveOpenAPI)
	return s
}

// Page registers an HTML page or form: pattern is a ServeMux pattern with a
// method, e.g. "GET /initiatives/{id}".
func (s *Server) Page(pattern string, op Op, h HandlerFunc) {
	s.register(pattern, op, true, h)
}

// API registers a JSON API route and records it for the OpenAPI document.
func (s *Server) API(pattern string, op Op, h HandlerFunc) {
	s.register(pattern, op, false, h)
}

func (s *Server) register(pattern string, op Op, page bool, h HandlerFunc) {
	method, path, ok := strings.Cut(pattern, " ")
	if !ok {
		panic("web: route pattern needs a method: " + pattern)
	}
	switch {
	case op.Public && op.Access != nil:
		panic("web: route " + pattern + " is declared both public and with an access rule")
	case !op.Public && op.Access == nil:
		panic("web: route " + pattern + " declares no access: set Op.Access (who may call it) or Op.Public")
	}
	s.mu.Lock()
	s.routes = append(s.routes, Route{Method: method, Path: path, Op: op, Page: page})
	s.mu.Unlock()
	s.mux.Handle(pattern, s.adapt(op, h))
}

// Routes returns every registered route, API and pages, by path.
func (s *Server) Routes() []Route {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := append([]Route(nil), s.routes...)
	sort.Slice(out, func(i, j int) bool {
		if out[i].Path != out[j].Path {
			return out[i].Path < out[j].Path
		}
		return out[i].Method < out[j].Method
	})
	return out
}

// AddNav adds navigation entries.
func (s *Server) AddNav(items ...NavItem) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.nav = append(s.nav, items...)
	sort.SliceStable(s.nav, func(i, j int) bool { return s.nav[i].Order < s.nav[j].Order })
}

// navFor lists the entries role may see, marking the current one.
func (s *Server) navFor(v *Viewer, path string) []navLink {
	if v == nil {
		return nil
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	var out []navLink
	for _, it := range s.nav {
		if len(it.Roles) > 0 && !contains(it.Roles, v.Role) {
			continue
		}
		cur := path == it.Path || (it.Path != "/" && strings.HasPrefix(path, it.Path+"/"))
		out = append(out, navLink{Label: it.Label, Path: it.Path, Current: cur})
	}
	return out
}

type navLink struct {
	Label, Path string
	Current     bool
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}

// adapt turns a HandlerFunc into an http.Handler: it applies the body
// limit, admits the caller under the route's access rule before the handler
// runs, and renders a returned error. When the body went over the limit,
// the error is a 413 however the handler wrapped (or flattened) the read
// error; a route that raises its limit takes a file, and its 413 says so.
func (s *Server) adapt(op Op, h HandlerFunc) http.Handler {
	limit := op.BodyLimit
	if limit <= 0 {
		limit = DefaultBodyLimit
	}
	upload := op.BodyLimit > 0
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Body != nil {
			r.Body = &limitedBody{ReadCloser: http.MaxBytesReader(w, r.Body, limit), upload: upload}
		}
		// A personal-data route's status is watched, whether a returned
		// error or the handler itself wrote it.
		var sw *statusWriter
		if op.Personal.ObjectType != "" && s.OnRefusal != nil {
			sw = &statusWriter{ResponseWriter: w}
			w = sw
		}
		var err error
		if op.Access != nil {
			err = op.Access.Admit(r.Context())
			if op.Conceal != "" && errors.Is(err, fault.ErrForbidden) && (op.Knows == nil || op.Knows.Admit(r.Context()) != nil) {
				err = fault.NotFound(op.Conceal)
			}
		}
		if err == nil {
			err = h(w, r)
		}
		if err != nil {
			if tooLarge := BodyTooLarge(r); tooLarge != nil && AsError(err).Kind != fault.KindTooLarge {
				tooLarge.Err = err
				err = tooLarge
			}
			s.Error(w, r, err)
		}
		if sw != nil && (sw.status == http.StatusForbidden || sw.status == http.StatusNotFound) {
			id := ""
			if op.Personal.IDParam != "" {
				id = r.PathValue(op.Personal.IDParam)
			}
			s.OnRefusal(r, Refusal{ObjectType: op.Personal.ObjectType, ObjectID: id, Status: sw.status})
		}
	})
}

// limitedBody remembers that the body went over its limit, so that adapt
// can answer 413 even when a parser turned the read error into text.
type limitedBody struct {
	io.ReadCloser
	upload bool
	over   *http.MaxBytesError
}

// BodyTooLarge is the 413 to answer when r's body went over its route's
// limit, and nil otherwise. Handlers that render a form themselves ask it
// (an error they return is turned into the 413 by the adapter anyway).
func BodyTooLarge(r *http.Request) *fault.Error {
	b, ok := r.Body.(*limitedBody)
	if !ok || b.over == nil {
		return nil
	}
	return TooLarge(b.over.Limit, b.upload)
}

func (b *limitedBody) Read(p []byte) (int, error) {
	n, err := b.ReadCloser.Read(p)
	if err != nil && b.over == nil {
		errors.As(err, &b.over)
	}
	return n, err
}

// apiFallback answers API requests no route matched with problem JSON: 405
// naming the allowed methods when the path exists, 404 otherwise.
func (s *Server) apiFallback(w http.ResponseWriter, r *http.Request) error {
	var allowed []string
	for _, m := range []string{http.MethodGet, http.MethodPost, http.MethodPut, http.MethodPatch, http.MethodDelete} {
		probe := r.Clone(r.Context())
		probe.Method = m
		if _, pattern := s.mux.Handler(probe); pattern != "" && pattern != "/api/" {
			allowed = append(allowed, m)
		}
	}
	if len(allowed) > 0 {
		w.Header().Set("Allow", strings.Join(allowed, ", "))
		return &fault.Error{Kind: fault.KindMethodNotAllowed, Title: "Method not allowed", Detail: "This address answers " + strings.Join(allowed, ", ") + "."}
	}
	return fault.NotFound("API endpoint")
}

// IsAPI reports whether r is for the JSON API.
func IsAPI(r *http.Request) bool {
	return strings.HasPrefix(r.URL.Path, "/api/")
}

// Error writes err as problem JSON (API) or an HTML page. An unauthenticated
// browser request for a page is sent to the sign-in page instead.
func (s *Server) Error(w http.ResponseWriter, r *http.Request, err error) {
	e := AsError(err)
	status := Status(e.Kind)
	log := Logger(r.Context())
	if status >= 500 {
		log.Error("request failed", "err", err)
	} else {
		log.Info("request refused", "status", status, "err", err)
	}
	if IsAPI(r) {
		if status == http.StatusUnauthorized {
			w.Header().Set("WWW-Authenticate", `Bearer realm="kompas"`)
		}
		writeProblem(w, r, e)
		return
	}
	if status == http.StatusUnauthorized && (r.Method == http.MethodGet || r.Method == http.MethodHead) {
		http.Redirect(w, r, "/login?next="+url.QueryEscape(r.URL.RequestURI()), http.StatusSeeOther)
		return
	}
	_ = s.layout.Render(w, r, status, "error.html", e.Title, e)
}

// Handler is the full middleware chain around the mux.
func (s *Server) Handler() http.Handler {
	var h http.Handler = s.mux
	if s.Authenticate != nil {
		h = s.Authenticate(h)
	}
	cop := http.NewCrossOriginProtection()
	cop.SetDenyHandler(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		s.Error(w, r, fault.Forbidden("Cross-origin form posts are refused."))
	}))
	h = cop.Handler(h)
	h = securityHeaders(h, s)
	h = s.recoverer(h)
	h = s.logRequests(h)
	h = s.withClientAddr(h)
	return h
}

func securityHeaders(next http.Handler, s *Server) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		h := w.Header()
		h.Set("Content-Security-Policy", "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; font-src 'self'; connect-src 'self'; form-action 'self'; base-uri 'none'; frame-ancestors 'none'")
		h.Set("X-Content-Type-Options", "nosniff")
		h.Set("Referrer-Policy", "same-origin")
		h.Set("X-Frame-Options", "DENY")
		h.Set("Cross-Origin-Opener-Policy", "same-origin")
		h.Set("Permissions-Policy", "camera=(), microphone=(), geolocation=()")
		if s.Secure || r.TLS != nil {
			h.Set("Strict-Transport-Security", "max-age=31536000")
		}
		next.ServeHTTP(w, r)
	})
}

func (s *Server) recoverer(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		defer func() {
			if p := recover(); p != nil {
				if p == http.ErrAbortHandler {
					panic(p)
				}
				Logger(r.Context()).Error("panic", "panic", p, "stack", string(debug.Stack()))
				s.Error(w, r, fmt.Errorf("panic: %v", p))
			}
		}()
		next.ServeHTTP(w, r)
	})
}

type ctxKey int

const (
	keyRequestID ctxKey = iota
	keyLogger
	keyClientAddr
)

// RequestID returns the id of the request in ctx.
func RequestID(ctx context.Context) string {
	id, _ := ctx.Value(keyRequestID).(string)
	return id
}

// Logger returns the request's logger (carrying its id), or the default.
func Logger(ctx context.Context) *slog.Logger {
	if l, ok := ctx.Value(keyLogger).(*slog.Logger); ok {
		return l
	}
	return slog.Default()
}

type statusWriter struct {
	http.ResponseWriter
	status int
	bytes  int64
}

func (w *statusWriter) WriteHeader(code int) {
	if w.status == 0 {
		w.status = code
	}
	w.ResponseWriter.WriteHeader(code)
}

func (w *statusWriter) Write(b []byte) (int, error) {
	if w.status == 0 {
		w.status = http.StatusOK
	}
	n, err := w.ResponseWriter.Write(b)
	w.bytes += int64(n)
	return n, err
}

func (w *statusWriter) Unwrap() http.ResponseWriter { return w.ResponseWriter }

func (s *Server) logRequests(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		start := time.Now()
		id := r.Header.Get("X-Request-Id")
		if !validRequestID(id) {
			var b [8]byte
			_, _ = rand.Read(b[:])
			id = hex.EncodeToString(b[:])
		}
		w.Header().Set("X-Request-Id", id)
		log := s.Log.With("request_id", id)
		ctx := context.WithValue(context.WithValue(r.Context(), keyRequestID, id), keyLogger, log)
		sw := &statusWriter{ResponseWriter: w}
		next.ServeHTTP(sw, r.WithContext(ctx))
		if r.URL.Path == "/healthz" || r.URL.Path == "/readyz" {
			return
		}
		log.Debug("request", "method", r.Method, "path", r.URL.Path, "status", sw.status, "bytes", sw.bytes, "duration", time.Since(start), "client", ClientAddr(r))
	})
}

// validRequestID reports whether a client-sent X-Request-Id may be kept: it
// is echoed in a header and in problem JSON and written to every log line,
// so only 1 to 64 characters of A-Z, a-z, 0-9, '.', '_' and '-' pass.
func validRequestID(id string) bool {
	if id == "" || len(id) > 64 {
		return false
	}
	for i := 0; i < len(id); i++ {
		c := id[i]
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '.' || c == '_' || c == '-') {
			return false
		}
	}
	return true
}

// ListenAndServe serves on addr until ctx is cancelled, then shuts down
// gracefully, giving open requests up to 15 seconds. ready, if not nil,
// receives the bound address.
func (s *Server) ListenAndServe(ctx context.Context, addr string, ready chan<- string) error {
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return fmt.Errorf("web: listen %s: %w", addr, err)
	}
	srv := &http.Server{
		Handler:           s.Handler(),
		ReadHeaderTimeout: 10 * time.Second,
		ReadTimeout:       2 * time.Minute,
		WriteTimeout:      5 * time.Minute,
		IdleTimeout:       2 * time.Minute,
		MaxHeaderBytes:    64 << 10,
		ErrorLog:          slog.NewLogLogger(s.Log.Handler(), slog.LevelWarn),
	}
	s.Log.Info("serving", "addr", ln.Addr().String())
	if ready != nil {
		ready <- ln.Addr().String()
	}
	errc := make(chan error, 1)
	go func() { errc <- srv.Serve(ln) }()
	select {
	case err := <-errc:
		return err
	case <-ctx.Done():
	}
	s.Log.Info("shutting down")
	sctx, cancel := context.WithTimeout(context.Background(), 15*time.Second)
	defer cancel()
	if err := srv.Shutdown(sctx); err != nil {
		return fmt.Errorf("web: shutdown: %w", err)
	}
	if err := <-errc; err != nil && !errors.Is(err, http.ErrServerClosed) {
		return err
	}
	return nil
}
