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
	{Name: "create template", Method: "POST", Path: "/api/v1/admin/templates", Status: 201, Save: "template",
		Body: map[string]any{"name": "Extract email addresses", "description": "Finds addresses", "vendor": "Steward", "product": "Mail",
			"agent_type": "Event Transformation", "agent_options": map[string]any{"mode": "extract",
				"matchers": []any{map[string]any{"path": "{{.text}}", "regexp": `\S+@\S+`, "to": "emails"}}}}},
	{Name: "create second template", Method: "POST", Path: "/api/v1/admin/templates", Status: 201, Save: "template2",
		Body: map[string]any{"name": "Notify", "agent_type": "Agents::WebhookAgent"}},
	{Name: "create template, name taken", Method: "POST", Path: "/api/v1/admin/templates", Status: 409,
		Body: map[string]any{"name": "Notify", "agent_type": "Agents::WebhookAgent"}},
	{Name: "create template, unknown type", Method: "POST", Path: "/api/v1/admin/templates", Status: 422,
		Body: map[string]any{"name": "X", "agent_type": "Agents::NoSuchAgent"}},
	{Name: "create template, options not an object", Method: "POST", Path: "/api/v1/admin/templates", Status: 422,
		Body: map[string]any{"name": "X", "agent_type": "Webhook", "agent_options": []int{1}}},
	{Name: "create template, body not JSON", Method: "POST", Path: "/api/v1/admin/templates", Body: `{"name":`, Status: 400},
	{Name: "create template as a member", Method: "POST", Path: "/api/v1/admin/templates", Auth: authMember, Status: 403,
		Body: map[string]any{"name": "X", "agent_type": "Webhook"}},
	{Name: "list templates", Method: "GET", Path: "/api/v1/admin/templates?search=email&per_page=5", Status: 200},
	{Name: "list templates, bad per_page", Method: "GET", Path: "/api/v1/admin/templates?per_page=x", Status: 400},
	{Name: "list templates without credentials", Method: "GET", Path: "/api/v1/admin/templates", Auth: authNone, Status: 401},
	{Name: "get template", Method: "GET", Path: "/api/v1/admin/templates/{template}", Status: 200},
	{Name: "get unknown template", Method: "GET", Path: "/api/v1/admin/templates/999999", Status: 404},
	{Name: "update template", Method: "PUT", Path: "/api/v1/admin/templates/{template}", Status: 200,
		Body: map[string]any{"description": "Finds every address"}},
	{Name: "patch template type", Method: "PATCH", Path: "/api/v1/admin/templates/{template2}", Status: 200,
		Body: map[string]any{"agent_type": "Send to Story", "agent_options": map[string]any{"secret": "s3"}}},
	{Name: "update template, name taken", Method: "PATCH", Path: "/api/v1/admin/templates/{template2}", Status: 409,
		Body: map[string]any{"name": "Extract email addresses"}},
	{Name: "update template, name too long", Method: "PUT", Path: "/api/v1/admin/templates/{template}", Status: 422,
		Body: map[string]any{"name": strings.Repeat("n", 256)}},
	{Name: "update unknown template", Method: "PUT", Path: "/api/v1/admin/templates/999999", Status: 404,
		Body: map[string]any{"name": "Y"}},
	{Name: "export templates", Method: "GET", Path: "/api/v1/admin/templates/export", Status: 200},
	{Name: "import templates", Method: "POST", Path: "/api/v1/admin/templates/import", Status: 200,
		Body: map[string]any{"version": 1, "templates": []any{
			map[string]any{"name": "Notify", "agent_type": "Agents::SendToStoryAgent", "agent_options": map[string]any{"secret": "s3"}},
			map[string]any{"name": "Page on-call", "agent_type": "HTTP Request",
				"agent_options": map[string]any{"url": "https://paging.example.com/alerts", "method": "post"}}}}},
	{Name: "import templates, unknown version", Method: "POST", Path: "/api/v1/admin/templates/import", Status: 422,
		Body: map[string]any{"version": 2, "templates": []any{}}},
	{Name: "import templates, bad entry", Method: "POST", Path: "/api/v1/admin/templates/import", Status: 422,
		Body: map[string]any{"templates": []any{map[string]any{"name": "Z", "agent_type": "nope"}}}},
	{Name: "import templates, not JSON", Method: "POST", Path: "/api/v1/admin/templates/import", Body: `[1,`, Status: 400},
	{Name: "member lists templates", Method: "GET", Path: "/api/v1/templates?page=1", Auth: authMember, Status: 200},
	{Name: "member lists templates, bad page", Method: "GET", Path: "/api/v1/templates?page=0", Auth: authMember, Status: 400},
	{Name: "list templates without credentials (user API)", Method: "GET", Path: "/api/v1/templates", Auth: authNone, Status: 401},
	{Name: "member gets template", Method: "GET", Path: "/api/v1/templates/{template}", Auth: authMember, Status: 200},
	{Name: "member gets unknown template", Method: "GET", Path: "/api/v1/templates/999999", Auth: authMember, Status: 404},
	{Name: "delete template", Method: "DELETE", Path: "/api/v1/admin/templates/{template}", Status: 204},
	{Name: "delete deleted template", Method: "DELETE", Path: "/api/v1/admin/templates/{template}", Status: 404},

	{Name: "create user who signs in", Method: "POST", Path: "/api/v1/admin/users", Status: 201, Save: "signer",
		Body: map[string]any{"email": "signer@example.com", "password": "correct horse battery"}},
	{Name: "create invited user", Method: "POST", Path: "/api/v1/admin/users", Status: 201, Save: "invitee",
		Body: map[string]any{"email": "invitee@example.com"}},
	{Name: "sign in", Method: "POST", Path: "/users/sign_in", Auth: authNone, Status: 200,
		Body: map[string]any{"email": "Signer@example.com", "password": "correct horse battery"}},
	{Name: "sign in with a form", Method: "POST", Path: "/users/sign_in", Auth: authForm, Status: 200,
		Body: "email=signer%40example.com&password=correct+horse+battery"},
	{Name: "sign in, wrong password", Method: "POST", Path: "/users/sign_in", Auth: authNone, Status: 401,
		Body: map[string]any{"email": "signer@example.com", "password": "wrong password"}},
	{Name: "sign in without password", Method: "POST", Path: "/users/sign_in", Auth: authNone, Status: 422,
		Body: map[string]any{"email": "signer@example.com"}},
	{Name: "sign in, body not JSON", Method: "POST", Path: "/users/sign_in", Auth: authNone, Body: `{"email"`, Status: 400},
	{Name: "sign in from another site", Method: "POST", Path: "/users/sign_in", Auth: authCrossSite, Status: 403,
		Body: map[string]any{"email": "signer@example.com", "password": "correct horse battery"}},
	{Name: "sign out", Method: "DELETE", Path: "/users/sign_out", Auth: authNone, Status: 204},
	{Name: "sign out from another site", Method: "DELETE", Path: "/users/sign_out", Auth: authCrossSite, Status: 403},
	{Name: "sign-in activity", Method: "GET", Path: "/api/v1/admin/users/{signer}/signin_activities?after=2019-07-01&per_page=10", Status: 200},
	{Name: "sign-in activity, bad before", Method: "GET", Path: "/api/v1/admin/users/{signer}/signin_activities?before=yesterday", Status: 400},
	{Name: "sign-in activity of unknown user", Method: "GET", Path: "/api/v1/admin/users/999999/signin_activities", Status: 404},
	{Name: "sign-in activity as a member", Method: "GET", Path: "/api/v1/admin/users/{signer}/signin_activities", Auth: authMember, Status: 403},
	{Name: "resend invitation", Method: "POST", Path: "/api/v1/admin/users/{invitee}/resend_invitation", Status: 200},
	{Name: "resend invitation, already accepted", Method: "POST", Path: "/api/v1/admin/users/{signer}/resend_invitation", Status: 200},
	{Name: "resend invitation, unknown user", Method: "POST", Path: "/api/v1/admin/users/999999/resend_invitation", Status: 404},
	{Name: "expire sessions", Method: "POST", Path: "/api/v1/admin/users/{signer}/expire_session", Status: 204},
	{Name: "expire sessions, unknown user", Method: "POST", Path: "/api/v1/admin/users/999999/expire_session", Status: 404},
	{Name: "expire sessions as a member", Method: "POST", Path: "/api/v1/admin/users/{signer}/expire_session", Auth: authMember, Status: 403},
	{Name: "invitation page", Method: "GET", Path: "/users/invitation/accept?invitation_token={invitation_token}", Auth: authNone, Status: 200},
	{Name: "invitation page, unknown token", Method: "GET", Path: "/users/invitation/accept?invitation_token=inv_nope", Auth: authNone, Status: 404},
	{Name: "invitation page without token", Method: "GET", Path: "/users/invitation/accept", Auth: authNone, Status: 422},
	{Name: "accept invitation, short password", Method: "POST", Path: "/users/invitation", Auth: authNone, Status: 422,
		Body: map[string]any{"invitation_token": "{invitation_token}", "password": "short"}},
	{Name: "accept invitation, unknown token", Method: "POST", Path: "/users/invitation", Auth: authNone, Status: 404,
		Body: map[string]any{"invitation_token": "inv_nope", "password": "correct horse battery"}},
	{Name: "accept invitation, body not JSON", Method: "POST", Path: "/users/invitation", Auth: authNone, Body: `{`, Status: 400},
	{Name: "accept invitation", Method: "POST", Path: "/users/invitation", Auth: authNone, Status: 200,
		Body: map[string]any{"invitation_token": "{invitation_token}", "password": "correct horse battery"}},
	{Name: "accept used invitation", Method: "POST", Path: "/users/invitation", Auth: authNone, Status: 404,
		Body: map[string]any{"invitation_token": "{invitation_token}", "password": "correct horse battery"}},
	{Name: "accept invitation by form, short password", Method: "POST", Path: "/users/invitation", Auth: authForm, Status: 422,
		Body: "invitation_token={invitation_token_form}&password=short"},
	{Name: "accept invitation by form", Method: "POST", Path: "/users/invitation", Auth: authForm, Status: 200,
		Body: "invitation_token={invitation_token_form}&password=correct+horse+battery"},
	{Name: "accept used invitation by form", Method: "POST", Path: "/users/invitation", Auth: authForm, Status: 404,
		Body: "invitation_token={invitation_token_form}&password=correct+horse+battery"},

	{Name: "Tyk hello", Method: "GET", Path: "/admin/hello", Auth: authTykAdmin, Status: 200},
	{Name: "Tyk hello, trailing slash", Method: "GET", Path: "/admin/hello/", Auth: authTykAdmin, Status: 200},
	{Name: "Tyk hello, wrong secret", Method: "GET", Path: "/admin/hello", Auth: authTykWrongSecret, Status: 401},
	{Name: "Tyk list organisations", Method: "GET", Path: "/admin/organisations?p=-1", Auth: authTykAdmin, Status: 200},
	{Name: "Tyk list organisations, bad page", Method: "GET", Path: "/admin/organisations?p=x", Auth: authTykAdmin, Status: 400},
	{Name: "Tyk create organisation", Method: "POST", Path: "/admin/organisations/", Auth: authTykAdmin, Status: 200,
		Body: map[string]any{"owner_name": "Widgets Ltd", "owner_slug": "widgets", "cname_enabled": true, "cname": "api.widgets.example"}},
	{Name: "Tyk create organisation without owner_name", Method: "POST", Path: "/admin/organisations", Auth: authTykAdmin, Status: 400,
		Body: map[string]any{"owner_slug": "x"}},
	{Name: "Tyk create organisation, body not JSON", Method: "POST", Path: "/admin/organisations", Auth: authTykAdmin, Body: `{`, Status: 400},
	{Name: "Tyk create organisation, wrong secret", Method: "POST", Path: "/admin/organisations", Auth: authTykWrongSecret, Status: 401,
		Body: map[string]any{"owner_name": "X"}},
	{Name: "Tyk get organisation", Method: "GET", Path: "/admin/organisations/{tyk_org}", Auth: authTykAdmin, Status: 200},
	{Name: "Tyk get unknown organisation", Method: "GET", Path: "/admin/organisations/" + unknownHexID, Auth: authTykAdmin, Status: 404},
	{Name: "Tyk replace organisation", Method: "PUT", Path: "/admin/organisations/{tyk_org_spare}", Auth: authTykAdmin, Status: 200,
		Body: map[string]any{"owner_name": "Spare Org", "hybrid_enabled": true}},
	{Name: "Tyk replace unknown organisation", Method: "PUT", Path: "/admin/organisations/" + unknownHexID, Auth: authTykAdmin, Status: 404,
		Body: map[string]any{"owner_name": "X"}},
	{Name: "Tyk delete organisation", Method: "DELETE", Path: "/admin/organisations/{tyk_org_spare}", Auth: authTykAdmin, Status: 200},
	{Name: "Tyk delete deleted organisation", Method: "DELETE", Path: "/admin/organisations/{tyk_org_spare}", Auth: authTykAdmin, Status: 404},

	{Name: "Tyk admin lists users", Method: "GET", Path: "/admin/users?p=1", Auth: authTykAdmin, Status: 200},
	{Name: "Tyk admin creates user", Method: "POST", Path: "/admin/users/", Auth: authTykAdmin, Status: 200,
		Body: map[string]any{"org_id": "{tyk_org}", "first_name": "Jane", "last_name": "Doe", "email_address": "jane@acme.example",
			"password": "correct horse battery", "active": true, "user_permissions": map[string]string{"IsAdmin": "admin"}}},
	{Name: "Tyk admin creates super user", Method: "POST", Path: "/admin/users", Auth: authTykAdmin, Status: 200,
		Body: map[string]any{"email_address": "root@example.com"}},
	{Name: "Tyk admin creates user, email taken", Method: "POST", Path: "/admin/users", Auth: authTykAdmin, Status: 403,
		Body: map[string]any{"org_id": "{tyk_org}", "email_address": "JANE@acme.example"}},
	{Name: "Tyk admin creates user, unknown org", Method: "POST", Path: "/admin/users", Auth: authTykAdmin, Status: 400,
		Body: map[string]any{"org_id": unknownHexID, "email_address": "x@acme.example"}},
	{Name: "Tyk admin creates user, bad permission", Method: "POST", Path: "/admin/users", Auth: authTykAdmin, Status: 400,
		Body: map[string]any{"email_address": "y@acme.example", "user_permissions": map[string]string{"users": "all"}}},
	{Name: "Tyk admin gets user", Method: "GET", Path: "/admin/users/{tyk_member}", Auth: authTykAdmin, Status: 200},
	{Name: "Tyk admin gets unknown user", Method: "GET", Path: "/admin/users/" + unknownHexID, Auth: authTykAdmin, Status: 404},
	{Name: "Tyk admin updates user", Method: "PUT", Path: "/admin/users/{tyk_member}", Auth: authTykAdmin, Status: 200,
		Body: map[string]any{"first_name": "Tyk", "last_name": "Member", "group_id": "ops", "password_max_days": 90}},
	{Name: "Tyk admin updates user, email taken", Method: "PUT", Path: "/admin/users/{tyk_member}", Auth: authTykAdmin, Status: 403,
		Body: map[string]any{"email_address": "jane@acme.example"}},
	{Name: "Tyk admin updates unknown user", Method: "PUT", Path: "/admin/users/" + unknownHexID, Auth: authTykAdmin, Status: 404,
		Body: map[string]any{"first_name": "X"}},
	{Name: "Tyk allow reset passwords", Method: "PUT", Path: "/admin/users/{tyk_owner}/actions/allow_reset_passwords", Auth: authTykAdmin, Status: 200},
	{Name: "Tyk allow reset passwords, unknown user", Method: "PUT", Path: "/admin/users/" + unknownHexID + "/actions/allow_reset_passwords", Auth: authTykAdmin, Status: 404},
	{Name: "Tyk disallow reset passwords", Method: "PUT", Path: "/admin/users/{tyk_member}/actions/disallow_reset_passwords", Auth: authTykAdmin, Status: 200},
	{Name: "Tyk disallow reset passwords, wrong secret", Method: "PUT", Path: "/admin/users/{tyk_member}/actions/disallow_reset_passwords", Auth: authTykWrongSecret, Status: 401},
	{Name: "Tyk admin deletes user", Method: "DELETE", Path: "/admin/users/{tyk_spare}", Auth: authTykAdmin, Status: 200},
	{Name: "Tyk admin deletes deleted user", Method: "DELETE", Path: "/admin/users/{tyk_spare}", Auth: authTykAdmin, Status: 404},

	{Name: "Tyk list users", Method: "GET", Path: "/api/users?p=-1", Auth: authRawKey, Status: 200},
	{Name: "Tyk list users without a key", Method: "GET", Path: "/api/users", Auth: authNone, Status: 401},
	{Name: "Tyk list users, no permission", Method: "GET", Path: "/api/users/", Auth: authTykMember, Status: 403},
	{Name: "Tyk create user", Method: "POST", Path: "/api/users", Auth: authRawKey, Status: 200,
		Body: map[string]any{"first_name": "Joe", "email_address": "joe@acme.example", "user_permissions": map[string]string{"users": "read"}}},
	{Name: "Tyk create user, not an admin", Method: "POST", Path: "/api/users", Auth: authTykMember, Status: 403,
		Body: map[string]any{"email_address": "z@acme.example"}},
	{Name: "Tyk create user, bad email", Method: "POST", Path: "/api/users", Auth: authRawKey, Status: 400,
		Body: map[string]any{"email_address": "not an email"}},
	{Name: "Tyk get user", Method: "GET", Path: "/api/users/{tyk_member}", Auth: authRawKey, Status: 200},
	{Name: "Tyk member gets self", Method: "GET", Path: "/api/users/{tyk_member}", Auth: authTykMember, Status: 200},
	{Name: "Tyk member gets another user", Method: "GET", Path: "/api/users/{tyk_owner}", Auth: authTykMember, Status: 403},
	{Name: "Tyk get unknown user", Method: "GET", Path: "/api/users/" + unknownHexID, Auth: authRawKey, Status: 404},
	{Name: "Tyk update user", Method: "PUT", Path: "/api/users/{tyk_member}", Auth: authRawKey, Status: 200,
		Body: map[string]any{"last_name": "Member", "active": true}},
	{Name: "Tyk update user with a password", Method: "PUT", Path: "/api/users/{tyk_member}", Auth: authRawKey, Status: 400,
		Body: map[string]any{"password": "correct horse battery"}},
	{Name: "Tyk member makes self admin", Method: "PUT", Path: "/api/users/{tyk_member}", Auth: authTykMember, Status: 403,
		Body: map[string]any{"user_permissions": map[string]string{"IsAdmin": "admin"}}},
	{Name: "Tyk member sets own password", Method: "POST", Path: "/api/users/{tyk_member}/actions/reset", Auth: authTykMember, Status: 200,
		Body: map[string]any{"new_password": "correct horse battery"}},
	{Name: "Tyk member resets own password, wrong current", Method: "POST", Path: "/api/users/{tyk_member}/actions/reset", Auth: authTykMember, Status: 403,
		Body: map[string]any{"current_password": "wrong", "new_password": "a much longer passphrase"}},
	{Name: "Tyk admin resets a password", Method: "POST", Path: "/api/users/{tyk_member}/actions/reset", Auth: authRawKey, Status: 200,
		Body: map[string]any{"new_password": "a much longer passphrase"}},
	{Name: "Tyk reset password, too short", Method: "POST", Path: "/api/users/{tyk_member}/actions/reset", Auth: authRawKey, Status: 400,
		Body: map[string]any{"new_password": "short"}},
	{Name: "Tyk reset password of unknown user", Method: "POST", Path: "/api/users/" + unknownHexID + "/actions/reset", Auth: authRawKey, Status: 404,
		Body: map[string]any{"new_password": "a much longer passphrase"}},
	{Name: "Tyk member deletes a user", Method: "DELETE", Path: "/api/users/{tyk_owner}", Auth: authTykMember, Status: 403},
	{Name: "Tyk member resets another's key", Method: "PUT", Path: "/api/users/{tyk_owner}/actions/key/reset", Auth: authTykMember, Status: 403},
	{Name: "Tyk member resets own key", Method: "PUT", Path: "/api/users/{tyk_member}/actions/key/reset", Auth: authTykMember, Status: 200},
	{Name: "Tyk old key stops working", Method: "GET", Path: "/api/users/{tyk_member}", Auth: authTykMember, Status: 401},
	{Name: "Tyk reset key of unknown user", Method: "PUT", Path: "/api/users/" + unknownHexID + "/actions/key/reset", Auth: authRawKey, Status: 404},
	{Name: "Tyk delete user", Method: "DELETE", Path: "/api/users/{tyk_member}", Auth: authRawKey, Status: 200},
	{Name: "Tyk delete deleted user", Method: "DELETE", Path: "/api/users/{tyk_member}", Auth: authRawKey, Status: 404},
	// ---- end of section A ----

	// ---- section B: stories, agents, events, webhooks, jobs, metrics ----
	// ---- end of section B ----
}

func TestContractResponses(t *testing.T) {
	v := contractValidator(t)
	eachContractEnv(t, func(t *testing.T, e *env) {
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
		seedSectionA(t, e, s)

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
	if twin, ok := strings.CutSuffix(path, "/"); ok && twin != "" {
		path = twin // a trailing-slash twin is the same operation
	}
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
