package httpapi

import (
	"context"
	"net/http"
	"strings"
	"time"

	"github.com/steward-dev/steward"
)

// tykAccessKeyName names the API key that is a user's Tyk access key.
const tykAccessKeyName = "Tyk access key"

// tykUserView is a user as Tyk shows one. It has no field for any secret:
// access_key is the plaintext key only in the response that creates or
// resets it, "" everywhere else (Steward keeps only the key's hash), and
// there is no password or password history field at all.
type tykUserView struct {
	ID              string            `json:"id"`
	OrgID           string            `json:"org_id"`
	FirstName       string            `json:"first_name"`
	LastName        string            `json:"last_name"`
	EmailAddress    string            `json:"email_address"`
	Active          bool              `json:"active"`
	AccessKey       string            `json:"access_key"`
	UserPermissions map[string]string `json:"user_permissions"`
	GroupID         string            `json:"group_id"`
	PasswordMaxDays int               `json:"password_max_days"`
	PasswordUpdated time.Time         `json:"password_updated"`
	CreatedAt       time.Time         `json:"created_at"`
	LastLoginDate   time.Time         `json:"last_login_date"`
	APIModel        struct{}          `json:"api_model"`
}

// newTykUserView renders u. Times never set show as Go's zero time, as in
// Tyk. last_login_date is when the user was last seen by any Steward API.
func newTykUserView(u *steward.TykUser) tykUserView {
	v := tykUserView{
		ID: tykID(u.ID), FirstName: u.FirstName, LastName: u.LastName, EmailAddress: u.Email,
		Active: u.IsActive, UserPermissions: tykPermissions(u), GroupID: u.GroupID,
		PasswordMaxDays: u.PasswordMaxDays, CreatedAt: tykTime(u.CreatedAt),
	}
	if !u.SuperUser {
		v.OrgID = tykOrgIDOf(u.TenantID, u.OrgTykID)
	}
	if u.PasswordUpdatedAt != nil {
		v.PasswordUpdated = tykTime(*u.PasswordUpdatedAt)
	}
	if u.LastSeenAt != nil {
		v.LastLoginDate = tykTime(*u.LastSeenAt)
	}
	return v
}

// tykTime renders a time as stored (UTC, whole microseconds), so the
// response that creates a user shows the same times as later reads.
func tykTime(t time.Time) time.Time { return t.UTC().Truncate(time.Microsecond) }

// tykPermissions renders user_permissions: IsAdmin "admin" for tenant
// admins. A non-admin never shows an empty map, which Tyk reads as admin:
// with no other entries it shows {"IsAdmin":"deny"}.
func tykPermissions(u *steward.TykUser) map[string]string {
	m := make(map[string]string, len(u.Permissions)+1)
	for k, v := range u.Permissions {
		m[k] = v
	}
	if u.Admin {
		m["IsAdmin"] = "admin"
	} else if len(m) == 0 {
		m["IsAdmin"] = "deny"
	}
	return m
}

// tykPermissionValues are the levels Tyk's user_permissions take.
var tykPermissionValues = map[string]bool{"read": true, "write": true, "deny": true, "admin": true}

// parseTykPermissions splits user_permissions into the admin role and the
// other entries. An empty map means admin, as in Tyk.
func parseTykPermissions(in map[string]string) (admin bool, others map[string]string, err error) {
	if len(in) > 100 {
		return false, nil, steward.FieldErrorf("user_permissions", "user_permissions may have at most 100 entries")
	}
	others = map[string]string{}
	for k, v := range in {
		if k == "" || len(k) > 64 {
			return false, nil, steward.FieldErrorf("user_permissions", "user_permissions names must be 1 to 64 characters")
		}
		if !tykPermissionValues[v] {
			return false, nil, steward.FieldErrorf("user_permissions",
				"user_permissions.%s must be \"read\", \"write\", \"deny\" or \"admin\", got %q", k, v)
		}
		if k == "IsAdmin" {
			admin = v == "admin"
			continue
		}
		others[k] = v
	}
	return admin || len(in) == 0, others, nil
}

// tykUserRequest is the body of the Tyk user create and update calls.
// Pointers tell absent fields from zero values; read-only fields a client
// echoes back (id, access_key, created_at, …) are ignored.
type tykUserRequest struct {
	OrgID           *string            `json:"org_id"`
	FirstName       *string            `json:"first_name"`
	LastName        *string            `json:"last_name"`
	EmailAddress    *string            `json:"email_address"`
	Active          *bool              `json:"active"`
	Password        *string            `json:"password"`
	UserPermissions *map[string]string `json:"user_permissions"`
	GroupID         *string            `json:"group_id"`
	PasswordMaxDays *int               `json:"password_max_days"`
}

// validate checks and normalises the fields present with the rules for a
// user (steward.UserInput), before any expensive work.
func (req *tykUserRequest) validate() error {
	in := steward.UserInput{Email: req.EmailAddress, FirstName: req.FirstName, LastName: req.LastName, EmailField: "email_address"}
	if err := in.Normalize(); err != nil {
		return err
	}
	if req.GroupID != nil {
		g, err := steward.NormalizeName("group_id", *req.GroupID)
		if err != nil {
			return err
		}
		req.GroupID = &g
	}
	if req.PasswordMaxDays != nil && (*req.PasswordMaxDays < 0 || *req.PasswordMaxDays > 36500) {
		return steward.FieldErrorf("password_max_days", "password_max_days must be between 0 (no expiry) and 36500")
	}
	return nil
}

// newTykUser builds the user a create request describes, in tenantID.
func (s *Server) newTykUser(req *tykUserRequest, tenantID int64) (*steward.TykUser, error) {
	if req.EmailAddress == nil {
		return nil, steward.FieldErrorf("email_address", "email_address is required")
	}
	// Tenant 0 is the instance tenant of super users, which the store
	// finds or creates in the transaction that creates the user.
	u := &steward.TykUser{User: &steward.User{TenantID: tenantID, Email: *req.EmailAddress, IsActive: true}, SuperUser: tenantID == 0}
	var perms map[string]string
	if req.UserPermissions != nil {
		perms = *req.UserPermissions
	}
	admin, others, err := parseTykPermissions(perms)
	if err != nil {
		return nil, err
	}
	u.Admin, u.Permissions = admin, others
	if req.FirstName != nil {
		u.FirstName = *req.FirstName
	}
	if req.LastName != nil {
		u.LastName = *req.LastName
	}
	if req.Active != nil {
		u.IsActive = *req.Active
	}
	if req.GroupID != nil {
		u.GroupID = *req.GroupID
	}
	if req.PasswordMaxDays != nil {
		u.PasswordMaxDays = *req.PasswordMaxDays
	}
	if req.Password != nil {
		h, err := s.hashPassword("password", *req.Password)
		if err != nil {
			return nil, err
		}
		u.PasswordHash = h
	}
	return u, nil
}

// tykUpdate turns an update request into a store update.
func (s *Server) tykUpdate(req *tykUserRequest) (steward.TykUserUpdate, error) {
	upd := steward.TykUserUpdate{
		UserUpdate: steward.UserUpdate{Email: req.EmailAddress, FirstName: req.FirstName, LastName: req.LastName, IsActive: req.Active},
		GroupID:    req.GroupID, PasswordMaxDays: req.PasswordMaxDays,
	}
	if req.UserPermissions != nil {
		admin, others, err := parseTykPermissions(*req.UserPermissions)
		if err != nil {
			return upd, err
		}
		upd.Admin, upd.Permissions = &admin, &others
	}
	if req.Password != nil {
		h, err := s.hashPassword("password", *req.Password)
		if err != nil {
			return upd, err
		}
		upd.PasswordHash, upd.Unlock = &h, true
	}
	return upd, nil
}

// tykUserErr gives store errors Tyk's messages.
func tykUserErr(err error, notFound string) error {
	switch steward.ErrorCode(err) {
	case steward.ENOTFOUND:
		return tykErr(steward.ENOTFOUND, notFound)
	case steward.ECONFLICT:
		return tykErr(steward.ECONFLICT, tykEmailExists)
	}
	return err
}

// tykUserID parses the {id} of a user path.
func tykUserID(r *http.Request, notFound string) (int64, error) {
	id, ok := parseTykID(r.PathValue("id"))
	if !ok {
		return 0, tykErr(steward.ENOTFOUND, notFound)
	}
	return id, nil
}

// orgTenant resolves a request's org_id to a tenant: "" (or absent) is
// the instance tenant of super users, returned as 0 (see newTykUser).
func (s *Server) orgTenant(ctx context.Context, orgID *string) (int64, error) {
	if orgID == nil || strings.TrimSpace(*orgID) == "" {
		return 0, nil
	}
	if o, err := s.findTykOrg(ctx, *orgID); err == nil {
		return o.ID, nil
	} else if steward.ErrorCode(err) != steward.ENOTFOUND {
		return 0, err
	}
	return 0, steward.FieldErrorf("org_id", "org_id %q does not name an organisation; omit it to create a super user", *orgID)
}

// sameOrg reports whether a request's org_id (if present) names u's
// organisation; Steward does not move users between organisations.
func sameOrg(req *tykUserRequest, u *steward.TykUser) error {
	if req.OrgID == nil {
		return nil
	}
	current := ""
	if !u.SuperUser {
		current = tykOrgIDOf(u.TenantID, u.OrgTykID)
	}
	if strings.ToLower(strings.TrimSpace(*req.OrgID)) != current {
		return steward.FieldErrorf("org_id", "org_id cannot be changed; create the user in the other organisation instead")
	}
	return nil
}

// newAccessKey makes a user's access key; the plaintext is shown once.
func newAccessKey() (*steward.APIKey, string) {
	return NewAPIKey(tykAccessKeyName, 0, 0, nil)
}

var allTenants = steward.UserScope{AllTenants: true}

func (s *Server) handleTykAdminUserList(w http.ResponseWriter, r *http.Request) error {
	return s.writeTykUserList(w, r, allTenants)
}

// writeTykUserList writes {"users":[…],"pages":N} for the users in scope.
func (s *Server) writeTykUserList(w http.ResponseWriter, r *http.Request, scope steward.UserScope) error {
	page, err := parseTykPage(r)
	if err != nil {
		return err
	}
	users, total, err := s.TykUsers.FindTykUsers(r.Context(), scope, page)
	if err != nil {
		return err
	}
	views := make([]tykUserView, len(users))
	for i, u := range users {
		views[i] = newTykUserView(u)
	}
	writeTyk(w, http.StatusOK, struct {
		Users []tykUserView `json:"users"`
		Pages int           `json:"pages"`
	}{views, tykPages(total)})
	return nil
}

func (s *Server) handleTykAdminUserCreate(w http.ResponseWriter, r *http.Request) error {
	var req tykUserRequest
	if err := decodeTyk(r, &req); err != nil {
		return err
	}
	if err := req.validate(); err != nil {
		return err
	}
	tenantID, err := s.orgTenant(r.Context(), req.OrgID)
	if err != nil {
		return err
	}
	u, err := s.newTykUser(&req, tenantID)
	if err != nil {
		return err
	}
	key, plaintext := newAccessKey()
	if err := s.TykUsers.CreateTykUser(r.Context(), u, key); err != nil {
		return tykUserErr(err, tykUserNotFound)
	}
	v := newTykUserView(u)
	v.AccessKey = plaintext
	w.Header().Set("Cache-Control", "no-store")
	writeTykOK(w, plaintext, v)
	return nil
}

func (s *Server) handleTykAdminUserGet(w http.ResponseWriter, r *http.Request) error {
	id, err := tykUserID(r, tykUserNotRetrieve)
	if err != nil {
		return err
	}
	u, err := s.TykUsers.FindTykUser(r.Context(), allTenants, id)
	if err != nil {
		return tykUserErr(err, tykUserNotRetrieve)
	}
	writeTyk(w, http.StatusOK, newTykUserView(u))
	return nil
}

func (s *Server) handleTykAdminUserUpdate(w http.ResponseWriter, r *http.Request) error {
	id, err := tykUserID(r, tykUserNotFound)
	if err != nil {
		return err
	}
	u, err := s.TykUsers.FindTykUser(r.Context(), allTenants, id)
	if err != nil {
		return tykUserErr(err, tykUserNotFound)
	}
	var req tykUserRequest
	if err := decodeTyk(r, &req); err != nil {
		return err
	}
	if err := req.validate(); err != nil {
		return err
	}
	if err := sameOrg(&req, u); err != nil {
		return err
	}
	upd, err := s.tykUpdate(&req)
	if err != nil {
		return err
	}
	u, err = s.TykUsers.UpdateTykUser(r.Context(), u.TenantID, id, upd)
	if err != nil {
		return tykUserErr(err, tykUserNotFound)
	}
	writeTykOK(w, "User updated", newTykUserView(u))
	return nil
}

func (s *Server) handleTykAdminUserDelete(w http.ResponseWriter, r *http.Request) error {
	id, err := tykUserID(r, tykUserNotFound)
	if err != nil {
		return err
	}
	u, err := s.TykUsers.FindTykUser(r.Context(), allTenants, id)
	if err != nil {
		return tykUserErr(err, tykUserNotFound)
	}
	if err := s.Users.DeleteUser(r.Context(), u.TenantID, id); err != nil {
		return tykUserErr(err, tykUserNotFound)
	}
	writeTykOK(w, "User deleted", nil)
	return nil
}

// handleTykAllowResetPasswords grants or withdraws the ResetPassword
// permission, which lets an admin reset other users' passwords.
func (s *Server) handleTykAllowResetPasswords(allow bool) handlerFunc {
	return func(w http.ResponseWriter, r *http.Request) error {
		id, err := tykUserID(r, tykUserNotFound)
		if err != nil {
			return err
		}
		u, err := s.TykUsers.FindTykUser(r.Context(), allTenants, id)
		if err != nil {
			return tykUserErr(err, tykUserNotFound)
		}
		perms := make(map[string]string, len(u.Permissions)+1)
		for k, v := range u.Permissions {
			perms[k] = v
		}
		if allow {
			perms[steward.ResetPasswordPermission] = "admin"
		} else {
			delete(perms, steward.ResetPasswordPermission)
		}
		if _, err := s.TykUsers.UpdateTykUser(r.Context(), u.TenantID, id, steward.TykUserUpdate{Permissions: &perms}); err != nil {
			return tykUserErr(err, tykUserNotFound)
		}
		writeTykOK(w, "User updated", nil)
		return nil
	}
}
