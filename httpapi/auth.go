package httpapi

import (
	"context"
	"crypto/subtle"
	"net/http"
	"net/url"
	"strings"

	"github.com/steward-dev/steward"
	"github.com/steward-dev/steward/console"
)

// SessionCookie names the sign-in session cookie.
const SessionCookie = "steward_session"

// principal returns the authenticated caller; only valid behind requireUser.
func principal(ctx context.Context) *steward.Principal {
	p, _ := ctx.Value(principalKey).(*steward.Principal)
	return p
}

// bearerToken extracts an API key from the headers Tines clients send:
// "Authorization: Bearer KEY", a bare "Authorization: KEY", or X-User-Token.
func bearerToken(r *http.Request) string {
	if v := strings.TrimSpace(r.Header.Get("Authorization")); v != "" {
		if len(v) > 7 && strings.EqualFold(v[:7], "bearer ") {
			return strings.TrimSpace(v[7:])
		}
		return v
	}
	return strings.TrimSpace(r.Header.Get("X-User-Token"))
}

// authenticate identifies the caller by API key or, failing that, by the
// session cookie, and checks the tenant's IP access control rules admit
// the client address. It returns EUNAUTHORIZED with a message saying why
// (counted as a failed authentication when credentials were sent), or
// EFORBIDDEN from an address the rules refuse.
func (s *Server) authenticate(r *http.Request) (*steward.Principal, error) {
	if p := console.CallerFrom(r.Context()); p != nil {
		// A console page's in-process request: the page authenticated its
		// session (and client address) already, with consoleAuthenticate.
		return p, nil
	}
	return s.admit(r, s.identify)
}

// admit identifies the caller of r with identify, counts a failed
// authentication that sent credentials towards the client's throttle, and
// applies the tenant's IP access control rules.
func (s *Server) admit(r *http.Request, identify func(*http.Request) (*steward.Principal, error)) (*steward.Principal, error) {
	p, err := identify(r)
	if steward.ErrorCode(err) == steward.EUNAUTHORIZED && sentCredentials(r) {
		s.authFailed(r)
	}
	if err != nil {
		return nil, err
	}
	if err := s.checkIPAccess(r, p.User.TenantID); err != nil {
		return nil, err
	}
	return p, nil
}

// sentCredentials reports whether a request carries an API key or a
// session cookie, so that a request without any is not counted as guessing.
func sentCredentials(r *http.Request) bool {
	if bearerToken(r) != "" {
		return true
	}
	c, err := r.Cookie(SessionCookie)
	return err == nil && c.Value != ""
}

// checkIPAccess returns EFORBIDDEN unless the tenant's IP access control
// rules admit the request's client address.
func (s *Server) checkIPAccess(r *http.Request, tenantID int64) error {
	if s.IPAccessRules == nil {
		return nil
	}
	ranges, err := s.ipRules.ranges(r.Context(), s.IPAccessRules, tenantID, s.Clock.Now())
	if err != nil {
		return err
	}
	if addr := s.clientAddr(r); !steward.IPAllowed(ranges, addr) {
		return refusedByIP(addr)
	}
	return nil
}

// consoleAuthenticate is authenticate for the console's pages: the
// session cookie alone (never an API key), with the same failure counting
// and IP access control rules.
func (s *Server) consoleAuthenticate(r *http.Request) (*steward.Principal, error) {
	return s.admit(r, s.authenticateSession)
}

// identify finds the caller by API key or session cookie; see authenticate.
func (s *Server) identify(r *http.Request) (*steward.Principal, error) {
	now := s.Clock.Now()
	if token := bearerToken(r); token != "" {
		hash := steward.HashSecret(token)
		key, user, cached := s.creds.get(hash, now)
		if !cached {
			var err error
			key, user, err = s.APIKeys.FindAPIKeyByHash(r.Context(), hash)
			if steward.ErrorCode(err) == steward.ENOTFOUND {
				return nil, steward.Errorf(steward.EUNAUTHORIZED, "the API key is not valid")
			} else if err != nil {
				return nil, err
			}
			s.creds.put(hash, key, user, now)
		}
		// The lookup matched on the hash; compare again in constant time so
		// no code path depends on how much of a secret matched.
		if subtle.ConstantTimeCompare(key.Hash, hash) != 1 {
			return nil, steward.Errorf(steward.EUNAUTHORIZED, "the API key is not valid")
		}
		if key.RevokedAt != nil {
			return nil, steward.Errorf(steward.EUNAUTHORIZED, "the API key has been revoked")
		}
		if !key.Usable(now) {
			return nil, steward.Errorf(steward.EUNAUTHORIZED, "the API key has expired")
		}
		if email := strings.TrimSpace(r.Header.Get("X-User-Email")); email != "" && !strings.EqualFold(email, user.Email) {
			return nil, steward.Errorf(steward.EUNAUTHORIZED, "X-User-Email does not match the owner of the API key")
		}
		if !user.IsActive {
			return nil, steward.Errorf(steward.EUNAUTHORIZED, "the user is not active")
		}
		s.usage.record(key.ID, user.ID, now, key.LastUsedAt, user.LastSeenAt)
		return &steward.Principal{User: user, Key: key}, nil
	}
	return s.authenticateSession(r)
}

// authenticateSession identifies the caller by the session cookie alone,
// as the console does. It returns EUNAUTHORIZED with a message saying why.
func (s *Server) authenticateSession(r *http.Request) (*steward.Principal, error) {
	now := s.Clock.Now()
	if c, err := r.Cookie(SessionCookie); err == nil && c.Value != "" && s.Sessions != nil {
		sess, user, err := s.Sessions.FindSessionByTokenHash(r.Context(), steward.HashSecret(c.Value), now)
		if steward.ErrorCode(err) == steward.ENOTFOUND {
			return nil, steward.Errorf(steward.EUNAUTHORIZED, "the session has ended; sign in again")
		} else if err != nil {
			return nil, err
		}
		if !user.IsActive {
			return nil, steward.Errorf(steward.EUNAUTHORIZED, "the user is not active")
		}
		if err := s.checkSameOrigin(r); err != nil {
			return nil, err
		}
		s.usage.record(0, user.ID, now, nil, user.LastSeenAt)
		return &steward.Principal{User: user, Session: sess}, nil
	}
	return nil, steward.Errorf(steward.EUNAUTHORIZED, "authentication required: send Authorization: Bearer <API key>, or sign in")
}

// checkSameOrigin refuses a cookie-authenticated, state-changing request
// that a browser says came from another site (CSRF).
func (s *Server) checkSameOrigin(r *http.Request) error {
	switch r.Method {
	case http.MethodGet, http.MethodHead, http.MethodOptions:
		return nil
	}
	if r.Header.Get("Sec-Fetch-Site") == "cross-site" {
		return steward.Errorf(steward.EFORBIDDEN, "cross-site request refused; use an API key for requests from other sites")
	}
	origin := r.Header.Get("Origin")
	if origin == "" {
		return nil
	}
	u, err := url.Parse(origin)
	if err != nil || u.Host == "" {
		return steward.Errorf(steward.EFORBIDDEN, "cross-site request refused: Origin %q is not this site", origin)
	}
	if strings.EqualFold(u.Host, r.Host) {
		return nil
	}
	if base, err := url.Parse(s.Config.BaseURL); err == nil && base.Host != "" && strings.EqualFold(u.Host, base.Host) {
		return nil
	}
	return steward.Errorf(steward.EFORBIDDEN, "cross-site request refused: Origin %q is not this site", origin)
}

// requireUser admits authenticated, active users.
func (s *Server) requireUser(h handlerFunc) http.Handler {
	return s.handle(func(w http.ResponseWriter, r *http.Request) error {
		p, err := s.authenticate(r)
		if err != nil {
			return err
		}
		auditActor(r, p.User)
		return h(w, r.WithContext(context.WithValue(r.Context(), principalKey, p)))
	})
}

// requireAdmin admits authenticated tenant admins: the one place the admin
// API's authorization policy lives.
func (s *Server) requireAdmin(h handlerFunc) http.Handler {
	return s.requireUser(func(w http.ResponseWriter, r *http.Request) error {
		if !principal(r.Context()).User.Admin {
			return steward.Errorf(steward.EFORBIDDEN, "only tenant admins may use the admin API")
		}
		return h(w, r)
	})
}
