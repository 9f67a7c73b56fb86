package httpapi

import (
	"context"
	"net/http"
	"strings"

	"github.com/steward-dev/steward"
	"github.com/steward-dev/steward/password"
)

// tykCallerKey carries the authenticated caller of /api/users. It sits
// apart from the iota block in middleware.go so keys added there cannot
// collide with it.
const tykCallerKey ctxKey = 100

// tykCaller is the user calling /api/users, with the scope of users they
// can reach: their organisation's, or every organisation's for a super user.
type tykCaller struct {
	*steward.TykUser
	Scope steward.UserScope
}

// tykCallerOf returns the authenticated caller; only valid behind
// requireTykUser.
func tykCallerOf(ctx context.Context) *tykCaller {
	c, _ := ctx.Value(tykCallerKey).(*tykCaller)
	return c
}

// requireTykUser admits active users presenting an access key (or any of
// their Steward API keys, or a session) in the authorization header, raw
// as Tyk clients send it. Failures are Tyk's 401 "Not authorised".
func (s *Server) requireTykUser(h handlerFunc) http.Handler {
	return s.tykHandle(func(w http.ResponseWriter, r *http.Request) error {
		p, err := s.authenticate(r)
		if code := steward.ErrorCode(err); code == steward.EUNAUTHORIZED || code == steward.EFORBIDDEN {
			return tykErr(code, tykNotAuthorised)
		} else if err != nil {
			return err
		}
		u, err := s.TykUsers.FindTykUser(r.Context(), steward.UserScope{TenantID: p.User.TenantID}, p.User.ID)
		if steward.ErrorCode(err) == steward.ENOTFOUND {
			return tykErr(steward.EUNAUTHORIZED, tykNotAuthorised)
		} else if err != nil {
			return err
		}
		auditActor(r, p.User)
		c := &tykCaller{TykUser: u, Scope: steward.UserScope{TenantID: u.TenantID, AllTenants: u.SuperUser}}
		ctx := context.WithValue(r.Context(), principalKey, p)
		return h(w, r.WithContext(context.WithValue(ctx, tykCallerKey, c)))
	})
}

// accessDenied is Tyk's 403.
func accessDenied(what string) error {
	return steward.Errorf(steward.EFORBIDDEN, "access denied: %s", what)
}

// canReadUsers reports whether the caller may see other users: admins, and
// super users, and users whose user_permissions grant "users" read or
// write.
func (c *tykCaller) canReadUsers() bool {
	return c.Admin || c.SuperUser || c.Permissions["users"] == "read" || c.Permissions["users"] == "write"
}

// tykTarget finds the user named by the path within the caller's scope. Users
// outside it are not found, exactly like users that do not exist.
func (s *Server) tykTarget(r *http.Request) (*steward.TykUser, error) {
	c := tykCallerOf(r.Context())
	id, err := tykUserID(r, tykUserNotFound)
	if err != nil {
		return nil, err
	}
	u, err := s.TykUsers.FindTykUser(r.Context(), c.Scope, id)
	if err != nil {
		return nil, tykUserErr(err, tykUserNotFound)
	}
	if u.ID != c.ID && !c.canReadUsers() {
		return nil, accessDenied("you may only see your own user")
	}
	return u, nil
}

func (s *Server) handleTykUserList(w http.ResponseWriter, r *http.Request) error {
	c := tykCallerOf(r.Context())
	if !c.canReadUsers() {
		return accessDenied("you do not have permission to list users")
	}
	return s.writeTykUserList(w, r, c.Scope)
}

func (s *Server) handleTykUserGet(w http.ResponseWriter, r *http.Request) error {
	u, err := s.tykTarget(r)
	if err != nil {
		return err
	}
	writeTyk(w, http.StatusOK, newTykUserView(u))
	return nil
}

func (s *Server) handleTykUserCreate(w http.ResponseWriter, r *http.Request) error {
	c := tykCallerOf(r.Context())
	if !c.Admin {
		return accessDenied("only admins may create users")
	}
	var req tykUserRequest
	if err := decodeTyk(r, &req); err != nil {
		return err
	}
	if err := req.validate(); err != nil {
		return err
	}
	tenantID := c.TenantID
	if c.SuperUser {
		id, err := s.orgTenant(r.Context(), req.OrgID)
		if err != nil {
			return err
		}
		tenantID = id
	} else if req.OrgID != nil && strings.TrimSpace(*req.OrgID) != "" && strings.ToLower(strings.TrimSpace(*req.OrgID)) != tykOrgIDOf(c.TenantID, c.OrgTykID) {
		return accessDenied("you may only create users in your own organisation")
	}
	u, err := s.newTykUser(&req, tenantID)
	if err != nil {
		return err
	}
	if err := s.TykUsers.CreateTykUser(r.Context(), u, nil); err != nil {
		return tykUserErr(err, tykUserNotFound)
	}
	writeTykOK(w, "User and session have been created", tykID(u.ID))
	return nil
}

func (s *Server) handleTykUserUpdate(w http.ResponseWriter, r *http.Request) error {
	c := tykCallerOf(r.Context())
	u, err := s.tykTarget(r)
	if err != nil {
		return err
	}
	var req tykUserRequest
	if err := decodeTyk(r, &req); err != nil {
		return err
	}
	if err := req.validate(); err != nil {
		return err
	}
	if req.Password != nil {
		return steward.FieldErrorf("password", "password cannot be set here; use POST /api/users/{id}/actions/reset")
	}
	if !c.Admin {
		if u.ID != c.ID {
			return accessDenied("only admins may update other users")
		}
		if req.UserPermissions != nil && !samePermissions(*req.UserPermissions, tykPermissions(u)) {
			return accessDenied("only admins may change user_permissions")
		}
		if req.Active != nil && *req.Active != u.IsActive {
			return accessDenied("only admins may change active")
		}
		if req.PasswordMaxDays != nil && *req.PasswordMaxDays != u.PasswordMaxDays {
			return accessDenied("only admins may change password_max_days")
		}
		if req.GroupID != nil && *req.GroupID != u.GroupID {
			return accessDenied("only admins may change group_id")
		}
	}
	if err := sameOrg(&req, u); err != nil {
		return err
	}
	upd, err := s.tykUpdate(&req)
	if err != nil {
		return err
	}
	if _, err := s.TykUsers.UpdateTykUser(r.Context(), u.TenantID, u.ID, upd); err != nil {
		return tykUserErr(err, tykUserNotFound)
	}
	writeTykOK(w, "User updated", nil)
	return nil
}

// samePermissions reports whether two user_permissions maps are equal.
func samePermissions(a, b map[string]string) bool {
	if len(a) != len(b) {
		return false
	}
	for k, v := range a {
		if bv, ok := b[k]; !ok || bv != v {
			return false
		}
	}
	return true
}

func (s *Server) handleTykUserDelete(w http.ResponseWriter, r *http.Request) error {
	c := tykCallerOf(r.Context())
	u, err := s.tykTarget(r)
	if err != nil {
		return err
	}
	if !c.Admin {
		return accessDenied("only admins may delete users")
	}
	if err := s.Users.DeleteUser(r.Context(), u.TenantID, u.ID); err != nil {
		return tykUserErr(err, tykUserNotFound)
	}
	writeTykOK(w, "User deleted", nil)
	return nil
}

// handleTykUserResetPassword sets a password. Users change their own, and
// must give current_password once they have one; an admin with the
// ResetPassword permission sets other users' passwords without it.
// user_permissions in the body (the Kubernetes bootstrap sends them) never
// change anything here.
func (s *Server) handleTykUserResetPassword(w http.ResponseWriter, r *http.Request) error {
	c := tykCallerOf(r.Context())
	u, err := s.tykTarget(r)
	if err != nil {
		return err
	}
	var req struct {
		CurrentPassword *string `json:"current_password"`
		NewPassword     *string `json:"new_password"`
	}
	if err := decodeTyk(r, &req); err != nil {
		return err
	}
	if u.ID != c.ID && (!c.Admin || c.Permissions[steward.ResetPasswordPermission] != "admin") {
		return accessDenied("resetting other users' passwords needs the ResetPassword permission (PUT /admin/users/{id}/actions/allow_reset_passwords)")
	}
	if req.NewPassword == nil {
		return steward.FieldErrorf("new_password", "new_password is required")
	}
	// The cheap rule first: bcrypt runs only for a password it accepts.
	if err := s.Config.passwordPolicy().Check("new_password", *req.NewPassword); err != nil {
		return err
	}
	if u.ID == c.ID && u.PasswordHash != "" && (req.CurrentPassword == nil || !password.Check(u.PasswordHash, *req.CurrentPassword)) {
		return accessDenied("current_password is missing or wrong")
	}
	h, err := s.hashPassword("new_password", *req.NewPassword)
	if err != nil {
		return err
	}
	upd := steward.TykUserUpdate{UserUpdate: steward.UserUpdate{PasswordHash: &h, Unlock: true}}
	if _, err := s.TykUsers.UpdateTykUser(r.Context(), u.TenantID, u.ID, upd); err != nil {
		return tykUserErr(err, tykUserNotFound)
	}
	writeTykOK(w, "User password updated", nil)
	return nil
}

// tykForbidResetAccessToken is the 403 message when an admin resets another
// user's access key while Config.TykForbidAdminResetAccessToken is on.
const tykForbidResetAccessToken = "Not allowed to reset access token of other users"

// handleTykUserResetKey replaces a user's access key: the old one stops
// working and the new one is shown in this response only. Only the user
// themself may, unless Config.TykForbidAdminResetAccessToken is off, when
// admins may reset the keys of users in their reach too.
func (s *Server) handleTykUserResetKey(w http.ResponseWriter, r *http.Request) error {
	c := tykCallerOf(r.Context())
	u, err := s.tykTarget(r)
	if err != nil {
		return err
	}
	if u.ID != c.ID && !c.Admin {
		return accessDenied("only admins may reset other users' access keys")
	}
	if u.ID != c.ID && s.Config.TykForbidAdminResetAccessToken {
		return tykErr(steward.EFORBIDDEN, tykForbidResetAccessToken)
	}
	key, plaintext := newAccessKey()
	if err := s.TykUsers.RenewAccessKey(r.Context(), u.TenantID, u.ID, key); err != nil {
		return tykUserErr(err, tykUserNotFound)
	}
	v := newTykUserView(u)
	v.AccessKey = plaintext
	w.Header().Set("Cache-Control", "no-store")
	writeTykOK(w, "User session renewed", v)
	return nil
}
