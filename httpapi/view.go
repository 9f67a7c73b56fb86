package httpapi

import (
	"time"

	"github.com/steward-dev/steward"
)

// Time renders timestamps as Tines does: ISO 8601 in UTC with milliseconds
// (2019-07-08T14:16:11.967Z).
type Time time.Time

// MarshalJSON implements json.Marshaler.
func (t Time) MarshalJSON() ([]byte, error) {
	return []byte(`"` + time.Time(t).UTC().Format("2006-01-02T15:04:05.000Z07:00") + `"`), nil
}

// timePtr converts an optional time for rendering.
func timePtr(t *time.Time) *Time {
	if t == nil {
		return nil
	}
	v := Time(*t)
	return &v
}

// userView is a user as the Tines admin API shows one, plus Steward's
// invitation and lockout state. It has no field for any secret.
type userView struct {
	ID                int64    `json:"id"`
	ScimUID           *string  `json:"scim_uid"`
	Email             string   `json:"email"`
	Admin             bool     `json:"admin"`
	TenantPermissions []string `json:"tenant_permissions"`
	IsActive          bool     `json:"is_active"`
	CreatedAt         Time     `json:"created_at"`
	UpdatedAt         Time     `json:"updated_at"`
	FirstName         string   `json:"first_name"`
	LastName          string   `json:"last_name"`
	LastSeen          *Time    `json:"last_seen"`
	InvitationStatus  string   `json:"invitation_status"`
	Locked            bool     `json:"locked"`
	LockedUntil       *Time    `json:"locked_until"`
}

func newUserView(u *steward.User, now time.Time) userView {
	perms := u.TenantPermissions
	if perms == nil {
		perms = []string{}
	}
	v := userView{
		ID: u.ID, ScimUID: u.ScimUID, Email: u.Email, Admin: u.Admin, TenantPermissions: perms,
		IsActive: u.IsActive, CreatedAt: Time(u.CreatedAt), UpdatedAt: Time(u.UpdatedAt),
		FirstName: u.FirstName, LastName: u.LastName, LastSeen: timePtr(u.LastSeenAt),
		InvitationStatus: u.InvitationStatus(now), Locked: u.Locked(now),
	}
	if v.Locked {
		v.LockedUntil = timePtr(u.LockedUntil)
	}
	return v
}
