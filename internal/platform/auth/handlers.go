package auth

import (
	"embed"
	"errors"
	"io/fs"
	"net/http"
	"net/url"
	"strings"

	"kompas/internal/platform/fault"
	"kompas/internal/platform/web"
)

//go:embed templates/*.html
var templateFiles embed.FS

// Handlers serves sign-in and sign-out for browsers and the API.
type Handlers struct {
	Svc  *Service
	srv  *web.Server
	tmpl *web.Templates
}

// Register wires authentication into srv: the middleware that resolves the
// caller, the layout's viewer, and the sign-in routes.
func Register(srv *web.Server, svc *Service) *Handlers {
	sub, _ := fs.Sub(templateFiles, "templates")
	h := &Handlers{Svc: svc, srv: srv, tmpl: srv.Templates(sub)}
	srv.Authenticate = h.middleware
	srv.Viewer = func(r *http.Request) *web.Viewer {
		p := FromContext(r.Context())
		if p == nil {
			return nil
		}
		return &web.Viewer{Name: p.Name, Email: p.Email, OrgName: p.OrgName, Role: string(p.Role), RoleLabel: p.Role.Label()}
	}
	srv.Page("GET /login", web.Op{Public: true}, h.loginPage)
	srv.Page("POST /login", web.Op{Public: true}, h.loginForm)
	srv.Page("POST /logout", web.Op{Public: true}, h.logoutForm) // signing out needs no live session: an expired one still lands on the sign-in page
	srv.API("POST /api/v1/auth/login", web.Op{Summary: "Sign in; returns a bearer token valid for 12 hours", Tags: []string{"auth"}, Public: true,
		Request: LoginRequest{}, Response: LoginResponse{}}, h.apiLogin)
	srv.API("POST /api/v1/auth/logout", web.Op{Summary: "End the session of the bearer token used (an API token is revoked)", Tags: []string{"auth"}, Access: SignedIn, Status: http.StatusNoContent}, h.apiLogout)
	srv.API("GET /api/v1/me", web.Op{Summary: "Who the caller is", Tags: []string{"auth"}, Access: SignedIn, Response: Me{}}, h.apiMe)
	return h
}

// secret returns the bearer token or session cookie of r.
func secret(r *http.Request) string {
	if a := r.Header.Get("Authorization"); a != "" {
		if t, ok := strings.CutPrefix(a, "Bearer "); ok {
			return strings.TrimSpace(t)
		}
		return ""
	}
	if c, err := r.Cookie(SessionCookie); err == nil {
		return c.Value
	}
	return ""
}

func (h *Handlers) middleware(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if s := secret(r); s != "" && !strings.HasPrefix(r.URL.Path, "/static/") {
			p, err := h.Svc.Authenticate(r.Context(), s)
			if err != nil {
				h.srv.Error(w, r, err)
				return
			}
			if p != nil {
				r = r.WithContext(WithPrincipal(r.Context(), p))
				web.Logger(r.Context()).Debug("caller", "user", p.Email, "via", p.Via)
			}
		}
		next.ServeHTTP(w, r)
	})
}

// setRetryAfter sends Retry-After when err is a throttled sign-in.
func setRetryAfter(w http.ResponseWriter, err error) {
	var t *ThrottledError
	if errors.As(err, &t) {
		w.Header().Set("Retry-After", t.RetryAfter())
	}
}

type loginData struct {
	Form *web.Form
	Next string
}

func safeNext(next string) string {
	if next == "" || !strings.HasPrefix(next, "/") || strings.HasPrefix(next, "//") || strings.HasPrefix(next, "/\\") {
		return "/"
	}
	// Browsers drop tabs and newlines from a URL, which would turn
	// "/\t/evil.example" into "//evil.example": refuse control characters.
	if strings.ContainsFunc(next, func(r rune) bool { return r < 0x20 || r == 0x7f }) {
		return "/"
	}
	return next
}

func (h *Handlers) loginPage(w http.ResponseWriter, r *http.Request) error {
	if FromContext(r.Context()) != nil {
		http.Redirect(w, r, safeNext(r.URL.Query().Get("next")), http.StatusSeeOther)
		return nil
	}
	return h.tmpl.Render(w, r, http.StatusOK, "login.html", "Sign in", loginData{Form: &web.Form{}, Next: safeNext(r.URL.Query().Get("next"))})
}

func (h *Handlers) loginForm(w http.ResponseWriter, r *http.Request) error {
	if err := r.ParseForm(); err != nil {
		return fault.Malformed("The form could not be read.")
	}
	form := &web.Form{Values: url.Values{"email": {r.PostForm.Get("email")}}}
	next := safeNext(r.PostForm.Get("next"))
	email, pw := strings.TrimSpace(r.PostForm.Get("email")), r.PostForm.Get("password")
	if email == "" {
		form.Errors = append(form.Errors, fault.FieldError{Field: "email", Message: "Enter your e-mail address"})
	}
	if pw == "" {
		form.Errors = append(form.Errors, fault.FieldError{Field: "password", Message: "Enter your password"})
	}
	if len(form.Errors) > 0 {
		return h.tmpl.Render(w, r, http.StatusUnprocessableEntity, "login.html", "Sign in", loginData{Form: form, Next: next})
	}
	token, _, err := h.Svc.Login(r.Context(), email, pw, web.ClientAddr(r))
	if err != nil {
		setRetryAfter(w, err)
		e := web.AsError(err)
		if web.Status(e.Kind) == http.StatusUnauthorized || web.Status(e.Kind) == http.StatusTooManyRequests {
			form.Errors = append(form.Errors, fault.FieldError{Field: "email", Message: e.Detail})
			return h.tmpl.Render(w, r, web.Status(e.Kind), "login.html", "Sign in", loginData{Form: form, Next: next})
		}
		return err
	}
	http.SetCookie(w, &http.Cookie{Name: SessionCookie, Value: token, Path: "/", HttpOnly: true, SameSite: http.SameSiteLaxMode,
		Secure: h.srv.Secure || r.TLS != nil, MaxAge: int(SessionLifetime.Seconds())})
	http.Redirect(w, r, next, http.StatusSeeOther)
	return nil
}

func (h *Handlers) logoutForm(w http.ResponseWriter, r *http.Request) error {
	if p := FromContext(r.Context()); p != nil {
		if err := h.Svc.Logout(r.Context(), p, secret(r)); err != nil {
			return err
		}
	}
	http.SetCookie(w, &http.Cookie{Name: SessionCookie, Value: "", Path: "/", MaxAge: -1, HttpOnly: true, SameSite: http.SameSiteLaxMode, Secure: h.srv.Secure || r.TLS != nil})
	return h.srv.Redirect(w, r, "/login", "You are signed out.")
}

// LoginRequest is the body of POST /api/v1/auth/login.
type LoginRequest struct {
	Email    string `json:"email" required:"true"`
	Password string `json:"password" required:"true"`
}

// LoginResponse carries the bearer token.
type LoginResponse struct {
	Token     string `json:"token"`
	ExpiresIn int    `json:"expires_in" doc:"seconds"`
}

func (h *Handlers) apiLogin(w http.ResponseWriter, r *http.Request) error {
	var req LoginRequest
	if err := web.DecodeJSON(r, &req); err != nil {
		return err
	}
	var fields []fault.FieldError
	if strings.TrimSpace(req.Email) == "" {
		fields = append(fields, fault.FieldError{Field: "email", Message: "required"})
	}
	if req.Password == "" {
		fields = append(fields, fault.FieldError{Field: "password", Message: "required"})
	}
	if len(fields) > 0 {
		return fault.Invalid(fields...)
	}
	token, _, err := h.Svc.Login(r.Context(), req.Email, req.Password, web.ClientAddr(r))
	if err != nil {
		setRetryAfter(w, err)
		return err
	}
	return web.WriteJSON(w, http.StatusOK, LoginResponse{Token: token, ExpiresIn: int(SessionLifetime.Seconds())})
}

func (h *Handlers) apiLogout(w http.ResponseWriter, r *http.Request) error {
	p := Caller(r.Context())
	// A session ends; a long-lived API token used to log out is revoked.
	if p.Via == "token" {
		if err := h.Svc.RevokeToken(r.Context(), p, secret(r)); err != nil {
			return err
		}
	} else if err := h.Svc.Logout(r.Context(), p, secret(r)); err != nil {
		return err
	}
	w.WriteHeader(http.StatusNoContent)
	return nil
}

// Me describes the caller.
type Me struct {
	Email        string `json:"email"`
	Name         string `json:"name"`
	Role         string `json:"role"`
	Organisation Org    `json:"organisation"`
}

func (h *Handlers) apiMe(w http.ResponseWriter, r *http.Request) error {
	p := Caller(r.Context())
	return web.WriteJSON(w, http.StatusOK, Me{Email: p.Email, Name: p.Name, Role: string(p.Role), Organisation: Org{Slug: p.OrgSlug, Name: p.OrgName, Kind: p.OrgKind}})
}
