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

// Invitation is a new invitation for a user: the hash of its token (the
// token itself is only in the link Mail carries), when it was sent and
// when it expires.
type Invitation struct {
	TokenHash []byte
	SentAt    time.Time
	ExpiresAt time.Time
	// Mail is the email carrying the link; the store addresses it to the
	// user (To, TenantID) and queues it with the invitation.
	Mail *MailMessage
}

// InvitationService manages invitation tokens on users.
type InvitationService interface {
	// CreateInvitedUser inserts u, which has no password, with the
	// invitation inv, and queues inv.Mail, in one transaction: if any step
	// fails nothing is stored. ECONFLICT if the email is taken in the
	// tenant, EINVALID for a user the rules refuse.
	CreateInvitedUser(ctx context.Context, u *User, inv *Invitation) error
	// SetInvitation gives the user the invitation inv (replacing any
	// previous one, so old links stop working) and queues inv.Mail, in one
	// transaction. ENOTFOUND if the user is not in the tenant.
	SetInvitation(ctx context.Context, tenantID, userID int64, inv *Invitation) error
	// FindUserByInvitationHash returns the invited user, or ENOTFOUND.
	FindUserByInvitationHash(ctx context.Context, hash []byte) (*User, error)
	// AcceptInvitation sets the password (and when it was set), marks the
	// invitation accepted and clears the token, only if the token is still
	// the current one and has not expired.
	// ENOTFOUND when it is not.
	AcceptInvitation(ctx context.Context, hash []byte, passwordHash string, now time.Time) (*User, error)
}
