package httpapi_test

import (
	"context"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/steward-dev/steward"
	"github.com/steward-dev/steward/httpapi"
)

// Authentication variants for contract calls.
func authNone(*env, *contractState, http.Header) {}

func authRawKey(e *env, _ *contractState, h http.Header) { h.Set("Authorization", e.AdminKey) }

func authUserToken(e *env, _ *contractState, h http.Header) { h.Set("X-User-Token", e.AdminKey) }

func authUserTokenEmail(e *env, _ *contractState, h http.Header) {
	h.Set("X-User-Token", e.AdminKey)
	h.Set("X-User-Email", e.Admin.Email)
}

func authWrongEmail(e *env, _ *contractState, h http.Header) {
	h.Set("X-User-Token", e.AdminKey)
	h.Set("X-User-Email", "someone-else@example.com")
}

func authSession(_ *env, s *contractState, h http.Header) {
	h.Set("Cookie", httpapi.SessionCookie+"="+s.ids["session"])
}

func authMember(_ *env, s *contractState, h http.Header) {
	h.Set("Authorization", "Bearer "+s.ids["member_key"])
}

// contractCalls exercises every documented operation: each needs at least
// one successful call here, and its documented errors should have calls
// too. Calls run in order on one tenant; {name} is an id saved by Save.
var contractCalls = []contractCall{
	{Name: "liveness", Method: "GET", Path: "/healthz", Auth: authNone, Status: 200},
	{Name: "readiness", Method: "GET", Path: "/readyz", Auth: authNone, Status: 200},
	{Name: "document", Method: "GET", Path: "/api/openapi.json", Auth: authNone, Status: 200},
	{Name: "reference page", Method: "GET", Path: "/api/docs", Auth: authNone, Status: 200},
	{Name: "reference script", Method: "GET", Path: "/api/docs/redoc.standalone.js", Auth: authNone, Status: 200},

	{Name: "create key", Method: "POST", Path: "/api/v1/api_keys", Body: map[string]any{"name": "contract"}, Status: 201, Save: "key"},
	{Name: "create expiring key", Method: "POST", Path: "/api/v1/api_keys",
		Body: map[string]any{"name": "short", "expires_at": time.Now().Add(time.Hour).UTC().Format(time.RFC3339)}, Status: 201},
	{Name: "key without name", Method: "POST", Path: "/api/v1/api_keys", Body: map[string]any{"name": " "}, Status: 422},
	{Name: "key name of wrong type", Method: "POST", Path: "/api/v1/api_keys", Body: `{"name": 7}`, Status: 422},
	{Name: "key body not JSON", Method: "POST", Path: "/api/v1/api_keys", Body: `{"name":`, Status: 400},
	{Name: "key body too large", Method: "POST", Path: "/api/v1/api_keys",
		Body: `{"name":"` + strings.Repeat("x", 2<<20) + `"}`, Status: 413},
	{Name: "list keys", Method: "GET", Path: "/api/v1/api_keys", Status: 200},
	{Name: "list keys without credentials", Method: "GET", Path: "/api/v1/api_keys", Auth: authNone, Status: 401},
	{Name: "revoke key", Method: "DELETE", Path: "/api/v1/api_keys/{key}", Status: 204},
	{Name: "revoke unknown key", Method: "DELETE", Path: "/api/v1/api_keys/999999", Status: 404},

	{Name: "create user", Method: "POST", Path: "/api/v1/admin/users",
		Body: map[string]any{"email": "jane@example.com", "first_name": "Jane", "last_name": "Doe",
			"tenant_permissions": []string{"AUDIT_LOG_READ"}}, Status: 201, Save: "user"},
	{Name: "create user, Postman's capitalised Admin", Method: "POST", Path: "/api/v1/admin/users",
		Body: `{"first_name": "Joe", "last_name": "Bloggs", "Admin": true, "email": "joe@example.com", "password": "correct horse battery"}`, Status: 201},
	{Name: "create user with taken email", Method: "POST", Path: "/api/v1/admin/users", Body: map[string]any{"email": "jane@example.com"}, Status: 409},
	{Name: "create user without email", Method: "POST", Path: "/api/v1/admin/users", Body: map[string]any{"first_name": "X"}, Status: 422},
	{Name: "create user, bad permission", Method: "POST", Path: "/api/v1/admin/users",
		Body: map[string]any{"email": "p@example.com", "tenant_permissions": []string{"no spaces"}}, Status: 422},
	{Name: "list users", Method: "GET", Path: "/api/v1/admin/users?per_page=1", Status: 200},
	{Name: "list admins", Method: "GET", Path: "/api/v1/admin/users?filter=TENANT_OWNER&search=example", Status: 200},
	{Name: "list users, bad page", Method: "GET", Path: "/api/v1/admin/users?page=0", Status: 400},
	{Name: "list users, raw Authorization", Method: "GET", Path: "/api/v1/admin/users", Auth: authRawKey, Status: 200},
	{Name: "list users, X-User-Token", Method: "GET", Path: "/api/v1/admin/users", Auth: authUserToken, Status: 200},
	{Name: "list users, X-User-Token and X-User-Email", Method: "GET", Path: "/api/v1/admin/users", Auth: authUserTokenEmail, Status: 200},
	{Name: "list users, session cookie", Method: "GET", Path: "/api/v1/admin/users", Auth: authSession, Status: 200},
	{Name: "list users, mismatched X-User-Email", Method: "GET", Path: "/api/v1/admin/users", Auth: authWrongEmail, Status: 401},
	{Name: "list users as a member", Method: "GET", Path: "/api/v1/admin/users", Auth: authMember, Status: 403},
	{Name: "get user", Method: "GET", Path: "/api/v1/admin/users/{user}", Status: 200},
	{Name: "get unknown user", Method: "GET", Path: "/api/v1/admin/users/999999", Status: 404},
	{Name: "update user", Method: "PUT", Path: "/api/v1/admin/users/{user}", Body: map[string]any{"first_name": "New name"}, Status: 200},
	{Name: "patch user", Method: "PATCH", Path: "/api/v1/admin/users/{user}", Body: map[string]any{"is_active": false, "admin": true}, Status: 200},
	{Name: "update user, name too long", Method: "PUT", Path: "/api/v1/admin/users/{user}",
		Body: map[string]any{"last_name": strings.Repeat("x", 256)}, Status: 422},
	{Name: "update user, email taken", Method: "PATCH", Path: "/api/v1/admin/users/{user}", Body: map[string]any{"email": "joe@example.com"}, Status: 409},
	{Name: "delete user", Method: "DELETE", Path: "/api/v1/admin/users/{user}", Status: 204},
	{Name: "delete deleted user", Method: "DELETE", Path: "/api/v1/admin/users/{user}", Status: 404},

	// ---- section A: templates, sign-in and invitations, Tyk ----
	// ---- end of section A ----

	// ---- section B: stories, agents, events, webhooks, jobs, metrics ----
	// ---- end of section B ----
}

func TestContractResponses(t *testing.T) {
	v := contractValidator(t)
	eachEnv(t, func(t *testing.T, e *env) {
		s := &contractState{ids: map[string]string{}}
		ctx := context.Background()
		// A member (non-admin) with a key, and a signed-in session for the admin.
		member := &steward.User{TenantID: e.Admin.TenantID, Email: "member@example.com", IsActive: true, TenantPermissions: []string{}}
		if err := e.DB.CreateUser(ctx, member); err != nil {
			t.Fatal(err)
		}
		s.ids["member_key"] = newKeyFor(t, e, e.Admin.TenantID, member.ID)
		token, hash := steward.NewSecret("")
		sess := &steward.Session{TenantID: e.Admin.TenantID, UserID: e.Admin.UserID, TokenHash: hash,
			ExpiresAt: time.Now().Add(time.Hour)}
		if err := e.DB.CreateSession(ctx, sess); err != nil {
			t.Fatal(err)
		}
		s.ids["session"] = token

		documented := documentedOperations(t)
		succeeded := map[string]bool{}
		for _, c := range contractCalls {
			c.run(t, e, v, s)
			if op := matchOperation(documented, c.Method, s.fill(c.Path)); op == "" {
				t.Errorf("%s: %s %s matches no documented operation", c.Name, c.Method, c.Path)
			} else if c.Status < 300 {
				succeeded[op] = true
			}
		}
		for _, op := range documented {
			if !succeeded[op] {
				t.Errorf("%s has no successful call in contractCalls; add one so its responses are checked", op)
			}
		}
	})
}

// matchOperation finds the documented "METHOD /path" (parameters as {})
// that a concrete request matches, or "".
func matchOperation(documented []string, method, path string) string {
	path, _, _ = strings.Cut(path, "?")
	segs := strings.Split(path, "/")
	for _, op := range documented {
		m, p, _ := strings.Cut(op, " ")
		if m == method && segmentsMatch(strings.Split(p, "/"), segs) {
			return op
		}
	}
	return ""
}

// segmentsMatch reports whether a path's segments fit a template's, where
// the template segment {} matches any one segment.
func segmentsMatch(template, segs []string) bool {
	if len(template) != len(segs) {
		return false
	}
	for i := range template {
		if template[i] != "{}" && template[i] != segs[i] {
			return false
		}
	}
	return true
}
