package steward

import (
	"context"
	"time"
)

// Invitation states shown on users.
const (
	InvitationPending  = "pending"
	InvitationAccepted = "accepted"
	InvitationExpired  = "expired"
)

// User is a person in a tenant. Admin users are tenant admins and may call
// the admin API. Secrets (the password hash, invitation token hash) are
// tagged so that no JSON encoder ever writes them.
type User struct {
	ID                int64
	TenantID          int64
	Email             string
	FirstName         string
	LastName          string
	Admin             bool
	TenantPermissions []string
	IsActive          bool
	ScimUID           *string

	PasswordHash        string `json:"-"`
	InvitationTokenHash []byte `json:"-"`

	InvitationSentAt     *time.Time
	InvitationExpiresAt  *time.Time
	InvitationAcceptedAt *time.Time
	LockedUntil          *time.Time
	LastSeenAt           *time.Time
	CreatedAt            time.Time
	UpdatedAt            time.Time
}

// InvitationStatus tells whether the user has accepted their invitation.
// A user created with a password never had one and counts as accepted.
func (u *User) InvitationStatus(now time.Time) string {
	switch {
	case u.InvitationAcceptedAt != nil || (u.PasswordHash != "" && u.InvitationExpiresAt == nil):
		return InvitationAccepted
	case u.InvitationExpiresAt != nil && !now.Before(*u.InvitationExpiresAt):
		return InvitationExpired
	default:
		return InvitationPending
	}
}

// Locked reports whether sign-in is refused because of repeated failures.
func (u *User) Locked(now time.Time) bool {
	return u.LockedUntil != nil && now.Before(*u.LockedUntil)
}

// UserFilter selects users of one tenant.
type UserFilter struct {
	TenantID  int64
	AdminOnly bool   // Tines' filter=TENANT_OWNER
	Search    string // case-insensitive substring of email, first or last name
	PageRequest
}

// UserUpdate holds the fields an update changes; nil means unchanged.
type UserUpdate struct {
	Email             *string
	FirstName         *string
	LastName          *string
	Admin             *bool
	TenantPermissions *[]string
	IsActive          *bool
	PasswordHash      *string
	// Unlock clears a sign-in lockout and the failures that led to it;
	// admin updates always set it.
	Unlock bool
}

// UserService stores users. Every method is scoped to one tenant.
type UserService interface {
	// CreateUser inserts u and sets its ID and timestamps.
	// ECONFLICT if the email is taken in the tenant.
	CreateUser(ctx context.Context, u *User) error
	// FindUserByID returns ENOTFOUND if there is no such user in the tenant.
	FindUserByID(ctx context.Context, tenantID, id int64) (*User, error)
	// FindUsers returns one page of matching users, ordered by id, and the
	// total number of matches.
	FindUsers(ctx context.Context, f UserFilter) ([]*User, int, error)
	// FindUsersByEmail returns the users with this email across tenants
	// (sign-in does not know the tenant).
	FindUsersByEmail(ctx context.Context, email string) ([]*User, error)
	// UpdateUser applies upd and returns the updated user. ENOTFOUND,
	// ECONFLICT for a taken email, EINVALID when the change would leave the
	// tenant without an active admin.
	UpdateUser(ctx context.Context, tenantID, id int64, upd UserUpdate) (*User, error)
	// DeleteUser removes the user with their keys and sessions. ENOTFOUND,
	// EINVALID when the user is the tenant's last active admin.
	DeleteUser(ctx context.Context, tenantID, id int64) error
	// TouchUsers records last-seen times in one batch (user id → time).
	TouchUsers(ctx context.Context, seen map[int64]time.Time) error
}
