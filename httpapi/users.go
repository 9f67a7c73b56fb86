package httpapi

import (
	"net/http"
	"strconv"
	"strings"

	"github.com/steward-dev/steward"
)

// userRequest is the body of user create and update. Pointers tell absent
// fields from zero values; key names match case-insensitively.
type userRequest struct {
	Email             *string   `json:"email"`
	FirstName         *string   `json:"first_name"`
	LastName          *string   `json:"last_name"`
	Admin             *bool     `json:"admin"`
	TenantPermissions *[]string `json:"tenant_permissions"`
	IsActive          *bool     `json:"is_active"`
	Password          *string   `json:"password"`
}

// validate checks and normalises the fields present with the rules for a
// user (steward.UserInput), before any expensive work.
func (req *userRequest) validate() error {
	if err := (steward.UserInput{Email: req.Email, FirstName: req.FirstName, LastName: req.LastName}).Normalize(); err != nil {
		return err
	}
	if req.TenantPermissions != nil {
		perms, err := steward.NormalizeTenantPermissions(*req.TenantPermissions)
		if err != nil {
			return err
		}
		*req.TenantPermissions = perms
	}
	return nil
}

func (s *Server) handleUserList(w http.ResponseWriter, r *http.Request) error {
	p := principal(r.Context())
	page, err := parsePage(r)
	if err != nil {
		return err
	}
	f := steward.UserFilter{TenantID: p.User.TenantID, Search: r.URL.Query().Get("search"), PageRequest: page}
	switch filter := r.URL.Query().Get("filter"); strings.ToUpper(filter) {
	case "":
	case "TENANT_OWNER":
		f.AdminOnly = true
	default:
		return &steward.Error{Code: steward.EMALFORMED, Field: "filter", Message: "filter must be TENANT_OWNER, got " + strconv.Quote(filter)}
	}
	users, total, err := s.Users.FindUsers(r.Context(), f)
	if err != nil {
		return err
	}
	now := s.Clock.Now()
	views := make([]userView, len(users))
	for i, u := range users {
		views[i] = newUserView(u, now)
	}
	writeJSON(w, http.StatusOK, map[string]any{"admin/users": views, "meta": s.pageMeta(r, page, total)})
	return nil
}

func (s *Server) handleUserGet(w http.ResponseWriter, r *http.Request) error {
	id, err := pathID(r, "id")
	if err != nil {
		return err
	}
	u, err := s.Users.FindUserByID(r.Context(), principal(r.Context()).User.TenantID, id)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, newUserView(u, s.Clock.Now()))
	return nil
}

func (s *Server) handleUserCreate(w http.ResponseWriter, r *http.Request) error {
	p := principal(r.Context())
	var req userRequest
	if err := decodeJSON(r, &req); err != nil {
		return err
	}
	if req.Email == nil {
		return steward.FieldErrorf("email", "email is required")
	}
	if err := req.validate(); err != nil {
		return err
	}
	u := &steward.User{TenantID: p.User.TenantID, Email: *req.Email, IsActive: true, TenantPermissions: []string{}}
	if req.FirstName != nil {
		u.FirstName = *req.FirstName
	}
	if req.LastName != nil {
		u.LastName = *req.LastName
	}
	if req.Admin != nil {
		u.Admin = *req.Admin
	}
	if req.IsActive != nil {
		u.IsActive = *req.IsActive
	}
	if req.TenantPermissions != nil {
		u.TenantPermissions = *req.TenantPermissions
	}
	if req.Password == nil {
		// No password: the user, the invitation and its email are stored
		// together or not at all.
		if err := s.Invitations.CreateInvitedUser(r.Context(), u, s.newInvitation(r, u.Email)); err != nil {
			return err
		}
		s.invitationQueued(u)
	} else {
		h, err := s.hashPassword("password", *req.Password)
		if err != nil {
			return err
		}
		u.PasswordHash = h
		if err := s.Users.CreateUser(r.Context(), u); err != nil {
			return err
		}
	}
	writeJSON(w, http.StatusCreated, newUserView(u, s.Clock.Now()))
	return nil
}

func (s *Server) handleUserUpdate(w http.ResponseWriter, r *http.Request) error {
	id, err := pathID(r, "id")
	if err != nil {
		return err
	}
	var req userRequest
	if err := decodeJSON(r, &req); err != nil {
		return err
	}
	if err := req.validate(); err != nil {
		return err
	}
	upd := steward.UserUpdate{Email: req.Email, FirstName: req.FirstName, LastName: req.LastName, Admin: req.Admin,
		TenantPermissions: req.TenantPermissions, IsActive: req.IsActive, Unlock: true}
	if req.Password != nil {
		h, err := s.hashPassword("password", *req.Password)
		if err != nil {
			return err
		}
		upd.PasswordHash = &h
	}
	u, err := s.Users.UpdateUser(r.Context(), principal(r.Context()).User.TenantID, id, upd)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, newUserView(u, s.Clock.Now()))
	return nil
}

func (s *Server) handleUserDelete(w http.ResponseWriter, r *http.Request) error {
	id, err := pathID(r, "id")
	if err != nil {
		return err
	}
	if err := s.Users.DeleteUser(r.Context(), principal(r.Context()).User.TenantID, id); err != nil {
		return err
	}
	w.WriteHeader(http.StatusNoContent)
	return nil
}
