package httpapi

import (
	"net/http"
	"strings"
	"sync"

	"github.com/steward-dev/steward"
	"github.com/steward-dev/steward/password"
)

// signInFailed is the one message for every failed sign-in, so a response
// never tells whether an email exists, is locked or has no password yet.
// The recorded login activity keeps the real reason for administrators.
const signInFailed = "invalid email or password; after repeated failures an account is locked for a while (an administrator can unlock it)"

// signInRequest is the body of POST /users/sign_in.
type signInRequest struct {
	Email    string `json:"email"`
	Password string `json:"password"`
	// TenantID chooses the account when the email exists in several tenants.
	TenantID *int64 `json:"tenant_id"`
}

// readSignIn reads a sign-in request from JSON or a form.
func readSignIn(w http.ResponseWriter, r *http.Request) (signInRequest, error) {
	var req signInRequest
	if isForm(r) {
		v, err := formValues(w, r)
		if err != nil {
			return req, err
		}
		req.Email, req.Password = v.Get("email"), v.Get("password")
		if req.TenantID, err = formInt(v, "tenant_id"); err != nil {
			return req, err
		}
	} else if err := decodeJSON(r, &req); err != nil {
		return req, err
	}
	req.Email = strings.ToLower(strings.TrimSpace(req.Email))
	if req.Email == "" {
		return req, steward.FieldErrorf("email", "email is required")
	}
	if req.Password == "" {
		return req, steward.FieldErrorf("password", "password is required")
	}
	return req, nil
}

// timingHash is a bcrypt hash compared against when there is no real one
// (unknown email, no password yet), so every attempt costs the same time.
type timingHash struct {
	once sync.Once
	hash string
}

func (t *timingHash) get(cost int) string {
	t.once.Do(func() {
		t.hash, _ = password.Hash("password", "steward-timing-equaliser", cost)
	})
	return t.hash
}

// attempt is the outcome of checking a password against one account.
type attempt struct {
	user   *steward.User
	reason string // "" on success
}

// checkAccounts checks the password against every candidate account,
// always running bcrypt once per account (or once when there is none) so
// that timing reveals nothing.
func (s *Server) checkAccounts(users []*steward.User, plaintext string) []attempt {
	now := s.Clock.Now()
	if len(users) == 0 {
		password.Check(s.timing.get(s.Config.BcryptCost), plaintext)
		return []attempt{{reason: steward.LoginUnknownUser}}
	}
	out := make([]attempt, 0, len(users))
	for _, u := range users {
		hash := u.PasswordHash
		if hash == "" || u.Locked(now) {
			hash = s.timing.get(s.Config.BcryptCost)
		}
		ok := password.Check(hash, plaintext)
		a := attempt{user: u}
		switch {
		case u.Locked(now):
			a.reason = steward.LoginLocked
		case u.PasswordHash == "":
			a.reason = steward.LoginNotAccepted
		case !ok:
			a.reason = steward.LoginWrongPassword
		case !u.IsActive:
			a.reason = steward.LoginInactive
		}
		out = append(out, a)
	}
	return out
}

// handleSignIn starts a session for an email and password (JSON or form).
// Every attempt is recorded; repeated wrong passwords lock the account.
func (s *Server) handleSignIn(w http.ResponseWriter, r *http.Request) error {
	if err := s.checkSameOrigin(r); err != nil {
		return err
	}
	req, err := readSignIn(w, r)
	if err != nil {
		return err
	}
	users, err := s.Users.FindUsersByEmail(r.Context(), req.Email)
	if err != nil {
		return err
	}
	if req.TenantID != nil {
		kept := users[:0]
		for _, u := range users {
			if u.TenantID == *req.TenantID {
				kept = append(kept, u)
			}
		}
		users = kept
	}
	attempts := s.checkAccounts(users, req.Password)
	var ok []*steward.User
	for _, a := range attempts {
		if a.reason == "" {
			ok = append(ok, a.user)
		}
	}
	ok, refused, err := s.admittedByIP(r, req.Email, ok)
	if err != nil {
		return err
	}
	switch len(ok) {
	case 0:
		if refused {
			return refusedByIP(s.clientAddr(r))
		}
		for _, a := range attempts {
			if err := s.recordFailure(r, req.Email, a); err != nil {
				return err
			}
		}
		s.authFailed(r)
		return steward.Errorf(steward.EUNAUTHORIZED, signInFailed)
	case 1:
		return s.startSession(w, r, ok[0])
	default:
		// Only someone who knows the password learns that it opens
		// accounts in several tenants.
		return steward.FieldErrorf("tenant_id", "this email and password sign in to %d tenants; send tenant_id to choose one", len(ok))
	}
}

// admittedByIP keeps the accounts whose tenant's IP access control rules
// admit the client address. Each refused account gets a failed sign-in
// activity (ip_not_allowed); refused reports whether there was one.
func (s *Server) admittedByIP(r *http.Request, email string, users []*steward.User) (kept []*steward.User, refused bool, err error) {
	for _, u := range users {
		if err := s.checkIPAccess(r, u.TenantID); steward.ErrorCode(err) == steward.EFORBIDDEN {
			refused = true
			if err := s.recordFailure(r, email, attempt{user: u, reason: steward.LoginIPNotAllowed}); err != nil {
				return nil, refused, err
			}
			continue
		} else if err != nil {
			return nil, refused, err
		}
		kept = append(kept, u)
	}
	return kept, refused, nil
}

// recordFailure records a failed attempt and locks the account once it
// has failed LockoutThreshold times within LockoutWindow.
func (s *Server) recordFailure(r *http.Request, email string, a attempt) error {
	now := s.Clock.Now()
	act := s.newActivity(r, email, a.user)
	act.FailureReason = a.reason
	steward.PendingAuditFrom(r.Context()).Update(func(e *steward.AuditLog) {
		e.OperationName = opSignInFailure
		e.Outputs = map[string]any{"reason": a.reason}
	})
	if a.user != nil {
		auditActor(r, a.user)
	}
	if err := s.Sessions.RecordLoginActivity(r.Context(), act); err != nil {
		return err
	}
	if a.reason != steward.LoginWrongPassword || s.Config.LockoutThreshold <= 0 {
		return nil
	}
	n, err := s.Sessions.CountFailedLogins(r.Context(), a.user.ID, now.Add(-s.Config.LockoutWindow))
	if err != nil {
		return err
	}
	if n >= s.Config.LockoutThreshold {
		until := now.Add(s.Config.LockoutDuration)
		if err := s.Sessions.LockUser(r.Context(), a.user.ID, until); err != nil {
			return err
		}
		s.Log.Warn("account locked after repeated failed sign-ins", "user_id", a.user.ID, "tenant_id", a.user.TenantID,
			"failures", n, "locked_until", until, "ip", act.IP)
	}
	return nil
}

// newActivity describes the request as a login activity.
func (s *Server) newActivity(r *http.Request, email string, u *steward.User) *steward.LoginActivity {
	act := &steward.LoginActivity{
		Email: steward.Truncate(email, 254), IP: steward.Truncate(s.clientIP(r), 64), UserAgent: steward.Truncate(r.UserAgent(), 512),
		Referrer: steward.Truncate(r.Referer(), 1024), CreatedAt: s.Clock.Now(),
	}
	if u != nil {
		act.TenantID, act.UserID = &u.TenantID, &u.ID
	}
	return act
}

// startSession creates a session for u, records the success and sets the
// session cookie.
func (s *Server) startSession(w http.ResponseWriter, r *http.Request, u *steward.User) error {
	now := s.Clock.Now()
	token, hash := steward.NewSecret("ses_")
	act := s.newActivity(r, u.Email, u)
	auditActor(r, u)
	sess := &steward.Session{TenantID: u.TenantID, UserID: u.ID, TokenHash: hash, IP: act.IP, UserAgent: act.UserAgent,
		CreatedAt: now, ExpiresAt: now.Add(s.Config.SessionTTL)}
	if err := s.Sessions.CreateSession(r.Context(), sess); err != nil {
		return err
	}
	act.Success = true
	if err := s.Sessions.RecordLoginActivity(r.Context(), act); err != nil {
		return err
	}
	if err := s.Sessions.ResetFailedLogins(r.Context(), u.ID); err != nil {
		return err
	}
	http.SetCookie(w, &http.Cookie{
		Name: SessionCookie, Value: token, Path: "/", MaxAge: int(s.Config.SessionTTL.Seconds()),
		HttpOnly: true, Secure: r.TLS != nil, SameSite: http.SameSiteLaxMode,
	})
	w.Header().Set("Cache-Control", "no-store")
	writeJSON(w, http.StatusOK, map[string]any{"message": "Signed in.", "user": newUserView(u, now)})
	return nil
}

// handleSignOut ends the caller's session and clears the cookie. Signing
// out without a session is not an error.
func (s *Server) handleSignOut(w http.ResponseWriter, r *http.Request) error {
	if err := s.checkSameOrigin(r); err != nil {
		return err
	}
	if c, err := r.Cookie(SessionCookie); err == nil && c.Value != "" {
		if _, u, err := s.Sessions.FindSessionByTokenHash(r.Context(), steward.HashSecret(c.Value), s.Clock.Now()); err == nil {
			auditActor(r, u)
		}
		if err := s.Sessions.DeleteSession(r.Context(), steward.HashSecret(c.Value)); err != nil {
			return err
		}
	}
	http.SetCookie(w, &http.Cookie{Name: SessionCookie, Value: "", Path: "/", MaxAge: -1,
		HttpOnly: true, Secure: r.TLS != nil, SameSite: http.SameSiteLaxMode})
	w.WriteHeader(http.StatusNoContent)
	return nil
}
