package console

import (
	"fmt"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/steward-dev/steward"
)

// user is a user as the admin API shows one.
type user struct {
	ID               int64      `json:"id"`
	Email            string     `json:"email"`
	FirstName        string     `json:"first_name"`
	LastName         string     `json:"last_name"`
	Admin            bool       `json:"admin"`
	IsActive         bool       `json:"is_active"`
	LastSeen         *time.Time `json:"last_seen"`
	InvitationStatus string     `json:"invitation_status"`
	Locked           bool       `json:"locked"`
	LockedUntil      *time.Time `json:"locked_until"`
	CreatedAt        time.Time  `json:"created_at"`
}

// Name is the user's full name, or "".
func (u user) Name() string { return strings.TrimSpace(u.FirstName + " " + u.LastName) }

// loginActivity is one sign-in attempt.
type loginActivity struct {
	IP            string    `json:"ip"`
	UserAgent     string    `json:"user_agent"`
	CreatedAt     time.Time `json:"created_at"`
	Success       bool      `json:"success"`
	FailureReason *string   `json:"failure_reason"`
}

const usersPerPage = 20

// usersPage is the users list's data.
type usersPage struct {
	Users         []user
	Search        string
	Pager         pager
	InvitationURL string
}

// userFields are the fields of the invite and edit forms.
var userFields = []string{"email", "first_name", "last_name", "admin", "is_active"}

// handleUsers lists the tenant's users, with search and the invite form.
func (c *Console) handleUsers(w http.ResponseWriter, r *http.Request) error {
	return c.renderUsers(w, r, http.StatusOK, &view{})
}

func (c *Console) renderUsers(w http.ResponseWriter, r *http.Request, status int, v *view) error {
	search := strings.TrimSpace(r.URL.Query().Get("search"))
	page := pageParam(r, "page")
	q := url.Values{"page": {strconv.Itoa(page)}, "per_page": {strconv.Itoa(usersPerPage)}}
	if search != "" {
		q.Set("search", search)
	}
	var body struct {
		Users []user `json:"admin/users"`
		Meta  meta   `json:"meta"`
	}
	if _, err := c.call(r, "GET", "/api/v1/admin/users?"+q.Encode(), nil, &body); err != nil {
		return err
	}
	v.Title, v.Nav = "Users", "users"
	d, _ := v.Data.(usersPage)
	d.Users, d.Search, d.Pager = body.Users, search, newPager(r, "page", page, body.Meta)
	v.Data = d
	c.render(w, r, status, "users", v)
	return nil
}

// handleUserInvite creates a user without a password, which invites them.
func (c *Console) handleUserInvite(w http.ResponseWriter, r *http.Request) error {
	f := r.PostForm
	req := map[string]any{"email": f.Get("email"), "first_name": f.Get("first_name"), "last_name": f.Get("last_name"),
		"admin": f.Get("admin") == "on"}
	var u user
	res, err := c.call(r, "POST", "/api/v1/admin/users", req, &u)
	if err != nil {
		v := &view{Form: f}
		status, ok := formError(v, err, userFields...)
		if !ok {
			return err
		}
		return c.renderUsers(w, r, status, v)
	}
	v := &view{Flash: fmt.Sprintf("Invited %s.", u.Email)}
	if c.cfg.ShowInvitationLinks && res.report.InvitationURL != "" {
		v.Data = usersPage{InvitationURL: res.report.InvitationURL}
		v.Flash += " No mail server is configured: send them this link yourself."
	}
	return c.renderUsers(w, r, http.StatusOK, v)
}

// userPage is one user's page: the edit form, actions and sign-ins.
type userPage struct {
	User          user
	Activities    []loginActivity
	Pager         pager
	InvitationURL string
}

// handleUser shows one user.
func (c *Console) handleUser(w http.ResponseWriter, r *http.Request) error {
	return c.renderUser(w, r, http.StatusOK, &view{})
}

func (c *Console) renderUser(w http.ResponseWriter, r *http.Request, status int, v *view) error {
	id, err := pathID(r)
	if err != nil {
		return err
	}
	d, _ := v.Data.(userPage)
	if _, err := c.call(r, "GET", fmt.Sprintf("/api/v1/admin/users/%d", id), nil, &d.User); err != nil {
		return err
	}
	page := pageParam(r, "page")
	var acts struct {
		Activities []loginActivity `json:"admin/login_activities"`
		Meta       meta            `json:"meta"`
	}
	if _, err := c.call(r, "GET", fmt.Sprintf("/api/v1/admin/users/%d/signin_activities?page=%d&per_page=%d", id, page, usersPerPage), nil, &acts); err != nil {
		return err
	}
	d.Activities, d.Pager = acts.Activities, newPager(r, "page", page, acts.Meta)
	if v.Form == nil {
		u := d.User
		v.Form = url.Values{"first_name": {u.FirstName}, "last_name": {u.LastName}}
		if u.Admin {
			v.Form.Set("admin", "on")
		}
		if u.IsActive {
			v.Form.Set("is_active", "on")
		}
	}
	v.Title, v.Nav, v.Data = d.User.Email, "users", d
	c.render(w, r, status, "user", v)
	return nil
}

// handleUserUpdate saves the edit form: names, admin and active.
func (c *Console) handleUserUpdate(w http.ResponseWriter, r *http.Request) error {
	id, err := pathID(r)
	if err != nil {
		return err
	}
	f := r.PostForm
	req := map[string]any{"first_name": f.Get("first_name"), "last_name": f.Get("last_name"),
		"admin": f.Get("admin") == "on", "is_active": f.Get("is_active") == "on"}
	if _, err := c.call(r, "PATCH", fmt.Sprintf("/api/v1/admin/users/%d", id), req, nil); err != nil {
		v := &view{Form: f}
		status, ok := formError(v, err, userFields...)
		if !ok || steward.ErrorCode(err) == steward.ENOTFOUND {
			return err
		}
		return c.renderUser(w, r, status, v)
	}
	redirectWith(w, r, fmt.Sprintf("/console/users/%d", id), "Saved.")
	return nil
}

// userAction runs one of the user page's buttons through the API.
func (c *Console) userAction(w http.ResponseWriter, r *http.Request, method, path string, body any, done string) error {
	id, err := pathID(r)
	if err != nil {
		return err
	}
	var out struct {
		Message string `json:"message"`
	}
	res, err := c.call(r, method, fmt.Sprintf(path, id), body, &out)
	if err != nil {
		v := &view{}
		if _, ok := formError(v, err); !ok || steward.ErrorCode(err) == steward.ENOTFOUND {
			return err
		}
		return c.renderUser(w, r, ErrorStatus(err), v)
	}
	if out.Message != "" {
		done = out.Message
	}
	if res.report.InvitationURL != "" && c.cfg.ShowInvitationLinks {
		v := &view{Flash: done + " No mail server is configured: send them this link yourself.",
			Data: userPage{InvitationURL: res.report.InvitationURL}}
		return c.renderUser(w, r, http.StatusOK, v)
	}
	redirectWith(w, r, fmt.Sprintf("/console/users/%d", id), done)
	return nil
}

func (c *Console) handleUserUnlock(w http.ResponseWriter, r *http.Request) error {
	// Any admin update of a user clears a lock; an empty one changes nothing else.
	return c.userAction(w, r, "PATCH", "/api/v1/admin/users/%d", map[string]any{}, "Unlocked.")
}

func (c *Console) handleUserExpireSessions(w http.ResponseWriter, r *http.Request) error {
	return c.userAction(w, r, "POST", "/api/v1/admin/users/%d/expire_session", nil, "Signed out everywhere.")
}

func (c *Console) handleUserResendInvitation(w http.ResponseWriter, r *http.Request) error {
	return c.userAction(w, r, "POST", "/api/v1/admin/users/%d/resend_invitation", nil, "Invitation sent again.")
}

// handleUserDeleteConfirm asks before deleting a user.
func (c *Console) handleUserDeleteConfirm(w http.ResponseWriter, r *http.Request) error {
	id, err := pathID(r)
	if err != nil {
		return err
	}
	var u user
	if _, err := c.call(r, "GET", fmt.Sprintf("/api/v1/admin/users/%d", id), nil, &u); err != nil {
		return err
	}
	c.render(w, r, http.StatusOK, "confirm", &view{Title: "Confirm", Nav: "users", Data: confirmation{
		Question: fmt.Sprintf("Delete the user %s?", u.Email),
		Detail:   "Their API keys and sessions stop working at once. This cannot be undone.",
		Action:   fmt.Sprintf("/console/users/%d/delete", id), Button: "Delete user", Danger: true,
		Cancel: fmt.Sprintf("/console/users/%d", id),
	}})
	return nil
}

// handleUserDelete deletes a user; the API's guard keeps the last admin.
func (c *Console) handleUserDelete(w http.ResponseWriter, r *http.Request) error {
	id, err := pathID(r)
	if err != nil {
		return err
	}
	if _, err := c.call(r, "DELETE", fmt.Sprintf("/api/v1/admin/users/%d", id), nil, nil); err != nil {
		v := &view{}
		if _, ok := formError(v, err); !ok || steward.ErrorCode(err) == steward.ENOTFOUND {
			return err
		}
		return c.renderUser(w, r, ErrorStatus(err), v)
	}
	redirectWith(w, r, "/console/users", "Deleted the user.")
	return nil
}

// ErrorStatus is the HTTP status the API gives an error's code.
func ErrorStatus(err error) int {
	code := steward.ErrorCode(err)
	for s, cd := range statusCode {
		if cd == code {
			return s
		}
	}
	return http.StatusInternalServerError
}
