// Package httpapi serves Steward's HTTP API: the Tines-compatible /api/v1
// (with its admin API), sign-in and invitations, and the Tyk-compatible
// instance admin API. Handlers return errors; one adapter renders them.
package httpapi

import (
	"context"
	"log/slog"
	"net/http"
	"net/netip"
	"time"

	"github.com/steward-dev/steward"
	"github.com/steward-dev/steward/console"
	"github.com/steward-dev/steward/metrics"
)

// Config holds the HTTP layer's settings.
type Config struct {
	// BaseURL is the public URL used in links (pagination, invitations).
	// Empty means "derive from each request".
	BaseURL string
	// SessionTTL is how long a sign-in session lasts.
	SessionTTL time.Duration
	// InvitationTTL is how long an invitation link stays valid.
	InvitationTTL time.Duration
	// LockoutThreshold failed sign-ins within LockoutWindow lock the account
	// for LockoutDuration.
	LockoutThreshold int
	LockoutWindow    time.Duration
	LockoutDuration  time.Duration
	// LoginRetention is how long sign-in activity is kept (0 keeps it forever).
	LoginRetention time.Duration
	// BcryptCost is the password hashing work factor (0 = bcrypt default).
	BcryptCost int
	// PasswordMinLength is the fewest characters a new password may have
	// (0 = steward.MinPasswordLength).
	PasswordMinLength int
	// CredentialCacheTTL is how long an API key's lookup is reused (0
	// disables the cache). See credentialCache for how staleness is bounded.
	CredentialCacheTTL time.Duration
	// AdminSecret enables the instance admin API (admin-auth header); empty disables it.
	AdminSecret string
	// MetricsToken, when set, is the bearer token /metrics requires;
	// empty leaves /metrics open (for scrapers on a private network).
	MetricsToken string
	// AuditRetention is how long audit records are kept (0 keeps them forever).
	AuditRetention time.Duration

	// ---- access control and credential-guessing throttling ----
	// TrustedProxies are the proxies whose X-Forwarded-For is believed
	// when they are the connection's peer; empty believes no header.
	TrustedProxies []netip.Prefix
	// AuthFailureLimit failed authentications from one client address
	// within AuthFailureWindow get the address refused with 429 for
	// AuthBanDuration. 0 disables the throttle.
	AuthFailureLimit  int
	AuthFailureWindow time.Duration
	AuthBanDuration   time.Duration
	// TykForbidAdminResetAccessToken refuses admins resetting another
	// user's access key on /api/users/{id}/actions/key/reset (Tyk
	// Dashboard's security.forbid_admin_reset_access_token).
	TykForbidAdminResetAccessToken bool

	// Console configures the web console served beside the API.
	Console console.Config
}

// DefaultConfig returns the documented defaults.
func DefaultConfig() Config {
	return Config{
		SessionTTL:         14 * 24 * time.Hour,
		InvitationTTL:      7 * 24 * time.Hour,
		LockoutThreshold:   10,
		LockoutWindow:      15 * time.Minute,
		LockoutDuration:    30 * time.Minute,
		CredentialCacheTTL: 2 * time.Second,
		PasswordMinLength:  steward.MinPasswordLength,
		LoginRetention:     30 * 24 * time.Hour,
		AuditRetention:     defaultAuditRetention,
		AuthFailureLimit:   20,
		AuthFailureWindow:  time.Minute,
		AuthBanDuration:    5 * time.Minute,

		TykForbidAdminResetAccessToken: true,
	}
}

// Services are the domain services the API calls.
type Services struct {
	Tenants     steward.TenantService
	Users       steward.UserService
	APIKeys     steward.APIKeyService
	Sessions    steward.SessionService
	Invitations steward.InvitationService
	Outbox      steward.OutboxService
	Templates   steward.TemplateService
	// EgressRules are tenants' action egress control rules.
	EgressRules steward.EgressRuleService
	// Organisations and TykUsers serve the Tyk-compatible API.
	Organisations steward.OrganisationService
	TykUsers      steward.TykUserService
	// Stories, actions, events and jobs.
	Stories steward.StoryService
	Actions steward.ActionService
	Events  steward.EventService
	Jobs    steward.JobService
	// IPAccessRules are tenants' IP access control rules; AuthThrottle
	// counts failed authentications per client address (nil: not counted).
	IPAccessRules steward.IPAccessRuleService
	AuthThrottle  steward.AuthThrottleService
	// Queue gives /metrics its queue sizes (nil: none reported).
	Queue steward.JobQueue
	// Metrics is shared with the job engine; nil makes a new registry.
	Metrics *metrics.Registry
	// MailQueued, when set, is called after a use case stored mail in its
	// own transaction (an invitation), to wake the mail dispatcher.
	MailQueued func()
	// Ping checks the database for /readyz.
	Ping func(ctx context.Context) error
	// AuditLogs stores the audit log (records of changes are written by
	// the store itself; see audit.go).
	AuditLogs steward.AuditLogService
}

// Store is one database implementing every service the API uses, as
// *sqlstore.DB does.
type Store interface {
	steward.TenantService
	steward.UserService
	steward.APIKeyService
	steward.SessionService
	steward.InvitationService
	steward.OutboxService
	steward.TemplateService
	steward.EgressRuleService
	steward.OrganisationService
	steward.TykUserService
	steward.StoryService
	steward.ActionService
	steward.EventService
	steward.JobService
	steward.JobQueue
	steward.AuditLogService
	steward.IPAccessRuleService
	steward.AuthThrottleService
	Ping(ctx context.Context) error
}

// StoreServices wires every service to one store.
func StoreServices(db Store) Services {
	return Services{
		Tenants: db, Users: db, APIKeys: db, Sessions: db, Invitations: db, Outbox: db,
		Templates:     db,
		EgressRules:   db,
		Organisations: db, TykUsers: db,
		Stories: db, Actions: db, Events: db, Jobs: db, Queue: db,
		IPAccessRules: db, AuthThrottle: db,
		AuditLogs: db,
		Ping:      db.Ping,
	}
}

// Server is the HTTP API.
type Server struct {
	Services
	Config Config
	Log    *slog.Logger
	Clock  steward.Clock

	usage    *usageRecorder
	creds    *credentialCache
	ipRules  *ipRuleCache
	throttle *authThrottle
	timing   timingHash
	mux      *recordingMux
	handler  http.Handler
	console  *console.Console
}

// NewServer builds the API and its routes.
func NewServer(svc Services, cfg Config, log *slog.Logger, clock steward.Clock) *Server {
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	if clock == nil {
		clock = steward.SystemClock{}
	}
	if svc.Metrics == nil {
		svc.Metrics = metrics.NewRegistry()
	}
	s := &Server{Services: svc, Config: cfg, Log: log, Clock: clock}
	s.usage = newUsageRecorder()
	s.creds = newCredentialCache(cfg.CredentialCacheTTL, 100_000)
	s.ipRules = newIPRuleCache(cfg.CredentialCacheTTL, 100_000)
	s.throttle = newAuthThrottle()
	s.mux = newRecordingMux()
	s.mux.wrap = s.auditRoute
	s.routes(s.mux)
	s.mountConsole()
	s.handler = s.middleware(s.mux.ServeMux)
	return s
}

// ServeHTTP implements http.Handler.
func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	s.handler.ServeHTTP(w, r)
}

// Run does the API's background work until ctx ends: it writes API-key and
// user last-seen times in batches, so authenticating a request never waits
// on a database write.
func (s *Server) Run(ctx context.Context) {
	t := time.NewTicker(5 * time.Second)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			s.FlushUsage(context.WithoutCancel(ctx))
			return
		case <-t.C:
			s.FlushUsage(ctx)
		}
	}
}

// FlushUsage writes recorded last-used and last-seen times now.
func (s *Server) FlushUsage(ctx context.Context) {
	keys, users := s.usage.take()
	if err := s.APIKeys.TouchAPIKeys(ctx, keys); err != nil {
		s.Log.Warn("record API key use", "error", err)
	}
	if err := s.Users.TouchUsers(ctx, users); err != nil {
		s.Log.Warn("record user last seen", "error", err)
	}
}

// handlerFunc is an HTTP handler that returns its error for rendering.
type handlerFunc func(w http.ResponseWriter, r *http.Request) error

// handle adapts a handlerFunc: a returned error becomes a problem response.
func (s *Server) handle(h handlerFunc) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if err := h(w, r); err != nil {
			s.auditRefusal(r, err)
			writeError(w, r, s.Log, err)
		}
	})
}
