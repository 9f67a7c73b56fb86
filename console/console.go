// Package console is Steward's operator console: server-rendered HTML
// pages for queues, users, API keys, templates, security rules and the
// audit log, served by the same binary as the API.
//
// The console is a client of the JSON API, in process: every read and
// every change is an API request made with the signed-in user's session,
// so the console has exactly the API's rules, messages and authorization
// and duplicates none of them. It adds what a browser needs: pages that
// work without JavaScript, a CSRF token on every form, a strict Content
// Security Policy, and answers that put the API's message beside the field
// at fault.
package console

import (
	"context"
	"embed"
	"html/template"
	"io/fs"
	"log/slog"
	"net/http"
	"strings"

	"github.com/steward-dev/steward"
)

//go:embed templates/*.html
var templateFS embed.FS

//go:embed static
var staticFS embed.FS

// Config holds the console's settings.
type Config struct {
	// ShowInvitationLinks shows an invited user's link to the admin who
	// invited them, for copying, when no mail server is configured.
	ShowInvitationLinks bool
}

// Deps are what the console needs from the HTTP layer that mounts it.
type Deps struct {
	// API is the JSON API; the console sends it in-process requests.
	API http.Handler
	// Authenticate returns the user signed in with the request's session
	// cookie, or an EUNAUTHORIZED error.
	Authenticate func(r *http.Request) (*steward.Principal, error)
	// SessionCookie names the session cookie the API sets at sign-in.
	SessionCookie string
	Log           *slog.Logger
}

// Console serves the console's pages.
type Console struct {
	cfg   Config
	deps  Deps
	pages map[string]*template.Template
}

// New builds the console.
func New(cfg Config, deps Deps) *Console {
	if deps.Log == nil {
		deps.Log = slog.New(slog.DiscardHandler)
	}
	return &Console{cfg: cfg, deps: deps, pages: parsePages()}
}

// Register adds the console's routes to mux. They are HTML pages, not part
// of the API contract:
//
//	GET  /                                  home (redirects to the first page the user may see)
//	GET  /users/sign_in                     the sign-in form (it posts to the API's POST /users/sign_in)
//	POST /console/sign_out
//	GET  /console/static/...                CSS and JavaScript
//	GET  /console/...                       any other console path: an HTML "not found" page
//	GET  /console/jobs, /console/jobs/counts, /console/jobs/confirm
//	POST /console/jobs/bulk, /console/jobs/{id}/retry, /console/jobs/{id}/delete
//	GET  /console/users, /console/users/{id}, /console/users/{id}/delete
//	POST /console/users, /console/users/{id}, /console/users/{id}/{unlock,expire_sessions,resend_invitation,delete}
//	GET  /console/api_keys, /console/api_keys/{id}/revoke
//	POST /console/api_keys, /console/api_keys/{id}/revoke
//	GET  /console/audit                     the tenant's audit log, filtered and paged
//	GET  /console/security; POST /console/security/{ip_rules,egress_rules}, .../{id}/delete
//	GET  /console/templates, /console/templates/new, /console/templates/{id}, /console/templates/{id}/delete
//	GET  /console/templates/export, /console/templates/import
//	POST /console/templates, /console/templates/{id}, /console/templates/{id}/delete, /console/templates/import
func (c *Console) Register(mux *http.ServeMux) {
	mux.Handle("GET /{$}", c.page(c.handleHome))
	mux.Handle("GET /users/sign_in", c.public(c.handleSignInPage))
	mux.Handle("POST /console/sign_out", c.page(c.handleSignOut))
	static, _ := fs.Sub(staticFS, "static")
	mux.Handle("GET /console/static/", http.StripPrefix("/console/static/", staticHandler(http.FileServerFS(static))))

	mux.Handle("GET /console/", c.page(func(http.ResponseWriter, *http.Request) error {
		return steward.Errorf(steward.ENOTFOUND, "there is no such page")
	}))
	mux.Handle("GET /console/jobs", c.page(c.handleJobs))
	mux.Handle("GET /console/jobs/counts", c.page(c.handleJobCounts))
	mux.Handle("GET /console/jobs/confirm", c.page(c.handleJobConfirm))
	mux.Handle("POST /console/jobs/bulk", c.page(c.handleJobBulk))
	mux.Handle("POST /console/jobs/{id}/retry", c.page(c.handleJobRetry))
	mux.Handle("POST /console/jobs/{id}/delete", c.page(c.handleJobDelete))

	mux.Handle("GET /console/users", c.page(c.handleUsers))
	mux.Handle("POST /console/users", c.page(c.handleUserInvite))
	mux.Handle("GET /console/users/{id}", c.page(c.handleUser))
	mux.Handle("POST /console/users/{id}", c.page(c.handleUserUpdate))
	mux.Handle("POST /console/users/{id}/unlock", c.page(c.handleUserUnlock))
	mux.Handle("POST /console/users/{id}/expire_sessions", c.page(c.handleUserExpireSessions))
	mux.Handle("POST /console/users/{id}/resend_invitation", c.page(c.handleUserResendInvitation))
	mux.Handle("GET /console/users/{id}/delete", c.page(c.handleUserDeleteConfirm))
	mux.Handle("POST /console/users/{id}/delete", c.page(c.handleUserDelete))

	mux.Handle("GET /console/api_keys", c.page(c.handleAPIKeys))
	mux.Handle("POST /console/api_keys", c.page(c.handleAPIKeyCreate))
	mux.Handle("GET /console/api_keys/{id}/revoke", c.page(c.handleAPIKeyRevokeConfirm))
	mux.Handle("POST /console/api_keys/{id}/revoke", c.page(c.handleAPIKeyRevoke))

	mux.Handle("GET /console/audit", c.page(c.handleAudit))

	mux.Handle("GET /console/security", c.page(c.handleSecurity))
	mux.Handle("POST /console/security/ip_rules", c.page(c.handleIPRuleCreate))
	mux.Handle("POST /console/security/ip_rules/{id}/delete", c.page(c.handleRuleDelete("ip")))
	mux.Handle("POST /console/security/egress_rules", c.page(c.handleEgressRuleCreate))
	mux.Handle("POST /console/security/egress_rules/{id}/delete", c.page(c.handleRuleDelete("egress")))

	mux.Handle("GET /console/templates", c.page(c.handleTemplates))
	mux.Handle("POST /console/templates", c.page(c.handleTemplateCreate))
	mux.Handle("GET /console/templates/new", c.page(c.handleTemplateNew))
	mux.Handle("GET /console/templates/export", c.page(c.handleTemplateExport))
	mux.Handle("GET /console/templates/import", c.page(c.handleTemplateImportPage))
	mux.Handle("POST /console/templates/import", c.page(c.handleTemplateImport))
	mux.Handle("GET /console/templates/{id}", c.page(c.handleTemplate))
	mux.Handle("POST /console/templates/{id}", c.page(c.handleTemplateUpdate))
	mux.Handle("GET /console/templates/{id}/delete", c.page(c.handleTemplateDeleteConfirm))
	mux.Handle("POST /console/templates/{id}/delete", c.page(c.handleTemplateDelete))
}

// ContentSecurityPolicy is sent with every console page: nothing from other
// sites, no inline script or style, forms post only here.
const ContentSecurityPolicy = "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; " +
	"connect-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'; object-src 'none'"

// securityHeaders sets the headers every console response carries.
func securityHeaders(h http.Header) {
	h.Set("Content-Security-Policy", ContentSecurityPolicy)
	h.Set("X-Content-Type-Options", "nosniff")
	h.Set("X-Frame-Options", "DENY")
	h.Set("Referrer-Policy", "same-origin")
}

// staticHandler serves the embedded assets with security headers and a
// short cache lifetime (they change only with the binary).
func staticHandler(h http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		securityHeaders(w.Header())
		w.Header().Set("Cache-Control", "public, max-age=300")
		h.ServeHTTP(w, r)
	})
}

// session is one console request's signed-in user and CSRF token.
type session struct {
	p    *steward.Principal
	csrf string
}

type sessionKey struct{}

func sessionFrom(ctx context.Context) *session {
	s, _ := ctx.Value(sessionKey{}).(*session)
	return s
}

// handlerFunc is a console handler that returns its error for rendering.
type handlerFunc func(w http.ResponseWriter, r *http.Request) error

// page wraps a handler for signed-in users: without a session it redirects
// to the sign-in form; state-changing requests need the CSRF token.
func (c *Console) page(h handlerFunc) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		securityHeaders(w.Header())
		w.Header().Set("Cache-Control", "no-store")
		p, err := c.deps.Authenticate(r)
		if err != nil {
			if steward.ErrorCode(err) == steward.EUNAUTHORIZED {
				c.redirectToSignIn(w, r)
				return
			}
			c.renderError(w, r, err)
			return
		}
		sess := &session{p: p, csrf: c.csrfToken(w, r)}
		r = r.WithContext(context.WithValue(r.Context(), sessionKey{}, sess))
		if r.Method != http.MethodGet && r.Method != http.MethodHead {
			if err := c.checkCSRF(r); err != nil {
				c.renderError(w, r, err)
				return
			}
		}
		if err := h(w, r); err != nil {
			c.renderError(w, r, err)
		}
	})
}

// public wraps a handler that needs no session (the sign-in form).
func (c *Console) public(h handlerFunc) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		securityHeaders(w.Header())
		w.Header().Set("Cache-Control", "no-store")
		if err := h(w, r); err != nil {
			c.renderError(w, r, err)
		}
	})
}

func (c *Console) redirectToSignIn(w http.ResponseWriter, r *http.Request) {
	if r.Method == http.MethodGet && strings.HasSuffix(r.URL.Path, "/counts") {
		// The live-count fetch: tell the script, do not redirect it.
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(http.StatusUnauthorized)
		_, _ = w.Write([]byte(`{"error":"signed out"}`))
		return
	}
	http.Redirect(w, r, "/users/sign_in", http.StatusSeeOther)
}

// handleHome sends admins to the queues and other users to their API keys.
func (c *Console) handleHome(w http.ResponseWriter, r *http.Request) error {
	if sessionFrom(r.Context()).p.User.Admin {
		http.Redirect(w, r, "/console/jobs", http.StatusSeeOther)
	} else {
		http.Redirect(w, r, "/console/templates", http.StatusSeeOther)
	}
	return nil
}

// handleSignOut ends the session through the API and returns to sign-in.
func (c *Console) handleSignOut(w http.ResponseWriter, r *http.Request) error {
	res, err := c.call(r, http.MethodDelete, "/users/sign_out", nil, nil)
	if err != nil {
		return err
	}
	for _, v := range res.header.Values("Set-Cookie") {
		w.Header().Add("Set-Cookie", v)
	}
	http.Redirect(w, r, "/users/sign_in", http.StatusSeeOther)
	return nil
}
