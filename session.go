package steward

import (
	"context"
	"time"
)

// Session is a signed-in browser session. The cookie carries a random
// token; only its hash is stored, so a database leak does not leak sessions.
type Session struct {
	ID        int64
	TenantID  int64
	UserID    int64
	TokenHash []byte `json:"-"`
	IP        string
	UserAgent string
	CreatedAt time.Time
	ExpiresAt time.Time
}

// Sign-in failure reasons recorded in login activity.
const (
	LoginUnknownUser   = "unknown_user"
	LoginWrongPassword = "wrong_password"
	LoginLocked        = "locked"
	LoginInactive      = "inactive"
	LoginNotAccepted   = "invitation_not_accepted"
)

// LoginActivity is one sign-in attempt, successful or not.
type LoginActivity struct {
	ID            int64
	TenantID      *int64 // nil when the email matched no user
	UserID        *int64
	Email         string
	IP            string
	UserAgent     string
	Referrer      string
	Success       bool
	FailureReason string
	CreatedAt     time.Time
}

// LoginActivityFilter selects one user's sign-in attempts.
type LoginActivityFilter struct {
	TenantID int64
	UserID   int64
	Before   *time.Time
	After    *time.Time
	PageRequest
}

// SessionService stores sessions and sign-in activity.
type SessionService interface {
	// CreateSession inserts s.
	CreateSession(ctx context.Context, s *Session) error
	// FindSessionByTokenHash returns a live session and its user, or ENOTFOUND.
	FindSessionByTokenHash(ctx context.Context, hash []byte, now time.Time) (*Session, *User, error)
	// DeleteSession ends one session (sign-out). Deleting a missing one is not an error.
	DeleteSession(ctx context.Context, hash []byte) error
	// DeleteUserSessions ends every session of a user. ENOTFOUND for an unknown user.
	DeleteUserSessions(ctx context.Context, tenantID, userID int64) error

	// RecordLoginActivity inserts a.
	RecordLoginActivity(ctx context.Context, a *LoginActivity) error
	// FindLoginActivities returns one page, newest first, and the total.
	FindLoginActivities(ctx context.Context, f LoginActivityFilter) ([]*LoginActivity, int, error)
	// CountFailedLogins counts a user's wrong-password attempts since a
	// time that were recorded after the last reset (a successful sign-in,
	// the start of a lock, or an admin unlock), so old failures never re-lock.
	CountFailedLogins(ctx context.Context, userID int64, since time.Time) (int, error)
	// LockUser refuses sign-in for the user until a time and resets the
	// failure count.
	LockUser(ctx context.Context, userID int64, until time.Time) error
	// ResetFailedLogins makes every attempt recorded so far stop counting
	// towards a lockout (after a successful sign-in).
	ResetFailedLogins(ctx context.Context, userID int64) error
	// PruneLoginActivities deletes attempts older than a time, returning how many.
	PruneLoginActivities(ctx context.Context, before time.Time) (int, error)
}

// InvitationService manages invitation tokens on users.
type InvitationService interface {
	// SetInvitation stores a new token hash for the user (replacing any
	// previous one, so old links stop working) and when it expires.
	SetInvitation(ctx context.Context, tenantID, userID int64, hash []byte, sentAt, expiresAt time.Time) error
	// FindUserByInvitationHash returns the invited user, or ENOTFOUND.
	FindUserByInvitationHash(ctx context.Context, hash []byte) (*User, error)
	// AcceptInvitation sets the password, marks the invitation accepted and
	// clears the token, only if the token is still the current one.
	// ENOTFOUND when it is not.
	AcceptInvitation(ctx context.Context, hash []byte, passwordHash string, now time.Time) (*User, error)
}
