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
	{Name: "import templates, replace", Method: "POST", Path: "/api/v1/admin/templates/import?mode=replace", Status: 200,
		Body: map[string]any{"templates": []any{map[string]any{"name": "Notify", "agent_type": "Agents::SendToStoryAgent", "agent_options": map[string]any{"secret": "s3"}}}}},
	{Name: "import templates, unknown mode", Method: "POST", Path: "/api/v1/admin/templates/import?mode=overwrite", Status: 400,
		Body: map[string]any{"templates": []any{}}},
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
	{Name: "Tyk import organisation", Method: "POST", Path: "/admin/organisations/import", Auth: authTykAdmin, Status: 200,
		Body: map[string]any{"id": "5e9d9544a1dcd60001d0ed20", "owner_name": "Tyk Demo", "owner_slug": "tyk-demo"}},
	{Name: "Tyk import organisation again", Method: "POST", Path: "/admin/organisations/import/", Auth: authTykAdmin, Status: 403,
		Body: map[string]any{"id": "5e9d9544a1dcd60001d0ed20", "owner_name": "Tyk Demo"}},
	{Name: "Tyk import organisation, malformed id", Method: "POST", Path: "/admin/organisations/import", Auth: authTykAdmin, Status: 400,
		Body: map[string]any{"id": "5e9d9544", "owner_name": "Tyk Demo"}},
	{Name: "Tyk import organisation, wrong secret", Method: "POST", Path: "/admin/organisations/import", Auth: authTykWrongSecret, Status: 401,
		Body: map[string]any{"id": "5e9d9544a1dcd60001d0ed21", "owner_name": "Tyk Demo"}},
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
	{Name: "Tyk admin resets another's key", Method: "PUT", Path: "/api/users/{tyk_member}/actions/key/reset", Auth: authRawKey, Status: 403},
	{Name: "Tyk member resets own key", Method: "PUT", Path: "/api/users/{tyk_member}/actions/key/reset", Auth: authTykMember, Status: 200},
	{Name: "Tyk old key stops working", Method: "GET", Path: "/api/users/{tyk_member}", Auth: authTykMember, Status: 401},
	{Name: "Tyk reset key of unknown user", Method: "PUT", Path: "/api/users/" + unknownHexID + "/actions/key/reset", Auth: authRawKey, Status: 404},
	{Name: "Tyk delete user", Method: "DELETE", Path: "/api/users/{tyk_member}", Auth: authRawKey, Status: 200},
	{Name: "Tyk delete deleted user", Method: "DELETE", Path: "/api/users/{tyk_member}", Auth: authRawKey, Status: 404},
	// ---- end of section A ----

	// ---- section B: stories, agents, events, webhooks, jobs, metrics ----
	{Name: "create story", Method: "POST", Path: "/api/v1/stories",
		Body: map[string]any{"name": "Phishing triage", "description": "Reported emails"}, Status: 201, Save: "story"},
	{Name: "create story to delete", Method: "POST", Path: "/api/v1/stories", Body: map[string]any{"name": "Scratch"}, Status: 201, Save: "scratch_story"},
	{Name: "create story without name", Method: "POST", Path: "/api/v1/stories", Body: map[string]any{"description": "x"}, Status: 422},
	{Name: "create story, name of wrong type", Method: "POST", Path: "/api/v1/stories", Body: `{"name": 7}`, Status: 422},
	{Name: "create story, body not JSON", Method: "POST", Path: "/api/v1/stories", Body: `{"name":`, Status: 400},
	{Name: "create story, body too large", Method: "POST", Path: "/api/v1/stories",
		Body: `{"name":"` + strings.Repeat("x", 2<<20) + `"}`, Status: 413},
	{Name: "list stories", Method: "GET", Path: "/api/v1/stories?per_page=1", Status: 200},
	{Name: "list stories, bad per_page", Method: "GET", Path: "/api/v1/stories?per_page=none", Status: 400},
	{Name: "list stories without credentials", Method: "GET", Path: "/api/v1/stories", Auth: authNone, Status: 401},
	{Name: "get story", Method: "GET", Path: "/api/v1/stories/{story}", Status: 200},
	{Name: "get unknown story", Method: "GET", Path: "/api/v1/stories/999999", Status: 404},
	{Name: "update story", Method: "PUT", Path: "/api/v1/stories/{story}", Body: map[string]any{"description": "Triage"}, Status: 200},
	{Name: "patch story", Method: "PATCH", Path: "/api/v1/stories/{story}", Body: map[string]any{"name": "Phishing"}, Status: 200},
	{Name: "update story, empty name", Method: "PUT", Path: "/api/v1/stories/{story}", Body: map[string]any{"name": ""}, Status: 422},
	{Name: "update unknown story", Method: "PATCH", Path: "/api/v1/stories/999999", Body: map[string]any{"name": "x"}, Status: 404},
	{Name: "delete story", Method: "DELETE", Path: "/api/v1/stories/{scratch_story}", Status: 204},
	{Name: "delete deleted story", Method: "DELETE", Path: "/api/v1/stories/{scratch_story}", Status: 404},

	{Name: "create HTTP Request agent", Method: "POST", Path: "/api/v1/agents",
		Body: `{"type": "Agents::HTTPRequestAgent", "name": "Fetch", "story_id": {story},
			"options": {"url": "http://127.0.0.1:1/{{.alert}}", "method": "post", "payload": {"host": "{{.host}}"}}}`,
		Status: 201, Save: "agent"},
	{Name: "create Webhook agent as an action", Method: "POST", Path: "/api/v1/actions",
		Body:   `{"type": "webhook", "name": "Alerts", "story_id": {story}, "receiver_ids": [{agent}], "options": {"secret": "s3cret"}}`,
		Status: 201, Save: "hook"},
	{Name: "create agent in the first story", Method: "POST", Path: "/api/v1/agents",
		Body: map[string]any{"type": "Agents::EventTransformationAgent", "name": "Scratch",
			"options": map[string]any{"mode": "message_only", "payload": map[string]any{"ok": true}}}, Status: 201, Save: "scratch_agent"},
	{Name: "create scratch action", Method: "POST", Path: "/api/v1/actions",
		Body: map[string]any{"type": "Agents::WebhookAgent", "name": "Scratch hook"}, Status: 201, Save: "scratch_action"},
	{Name: "create agent, unknown template", Method: "POST", Path: "/api/v1/agents", Auth: authAfter(storeTemplate),
		Body: map[string]any{"template_id": 999999}, Status: 422},
	{Name: "create agent from template", Method: "POST", Path: "/api/v1/agents",
		Body: `{"template_id": {template}, "story_id": {story}, "options": {"method": null, "payload": {"alert": "{{.alert}}"}}}`, Status: 201},
	{Name: "create action from template", Method: "POST", Path: "/api/v1/actions",
		Body: `{"template_id": {template}, "name": "Notify on-call"}`, Status: 201},
	{Name: "create agent without type", Method: "POST", Path: "/api/v1/agents", Body: map[string]any{"name": "x"}, Status: 422},
	{Name: "create agent of unknown type", Method: "POST", Path: "/api/v1/agents", Body: map[string]any{"type": "Agents::NoSuchAgent", "name": "x"}, Status: 422},
	{Name: "create agent without name", Method: "POST", Path: "/api/v1/actions", Body: map[string]any{"type": "webhook"}, Status: 422},
	{Name: "create agent without url", Method: "POST", Path: "/api/v1/agents",
		Body: map[string]any{"type": "http_request", "name": "x", "options": map[string]any{"method": "get"}}, Status: 422},
	{Name: "create agent with broken template", Method: "POST", Path: "/api/v1/agents",
		Body: map[string]any{"type": "http_request", "name": "x", "options": map[string]any{"url": "https://example.com/{{.a"}}, Status: 422},
	{Name: "create agent in unknown story", Method: "POST", Path: "/api/v1/agents",
		Body: map[string]any{"type": "webhook", "name": "x", "story_id": 999999}, Status: 422},
	{Name: "create agent, source_ids of wrong type", Method: "POST", Path: "/api/v1/agents",
		Body: `{"type": "webhook", "name": "x", "source_ids": "1"}`, Status: 422},
	{Name: "create agent, body not JSON", Method: "POST", Path: "/api/v1/actions", Body: `[1]`, Status: 400},
	{Name: "create agent, body too large", Method: "POST", Path: "/api/v1/agents",
		Body: `{"name":"` + strings.Repeat("x", 2<<20) + `"}`, Status: 413},
	{Name: "list agents", Method: "GET", Path: "/api/v1/agents?story_id={story}", Status: 200},
	{Name: "list actions", Method: "GET", Path: "/api/v1/actions?per_page=2&page=2", Status: 200},
	{Name: "list agents, bad story_id", Method: "GET", Path: "/api/v1/agents?story_id=abc", Status: 400},
	{Name: "list actions without credentials", Method: "GET", Path: "/api/v1/actions", Auth: authNone, Status: 401},
	{Name: "get agent", Method: "GET", Path: "/api/v1/agents/{agent}", Status: 200},
	{Name: "get webhook action", Method: "GET", Path: "/api/v1/actions/{hook}", Auth: authAfter(saveWebhookGUID), Status: 200},
	{Name: "get unknown agent", Method: "GET", Path: "/api/v1/agents/999999", Status: 404},
	{Name: "get unknown action", Method: "GET", Path: "/api/v1/actions/0", Status: 404},
	{Name: "update agent", Method: "PUT", Path: "/api/v1/agents/{agent}", Body: map[string]any{"name": "Fetch alert", "keep_events_for": 3600}, Status: 200},
	{Name: "patch agent", Method: "PATCH", Path: "/api/v1/agents/{agent}",
		Body: map[string]any{"options": map[string]any{"url": "http://127.0.0.1:1/alerts", "method": "post"}}, Status: 200},
	{Name: "update action", Method: "PUT", Path: "/api/v1/actions/{hook}", Body: map[string]any{"type": "Agents::WebhookAgent", "name": "Alert hook"}, Status: 200},
	{Name: "patch action", Method: "PATCH", Path: "/api/v1/actions/{hook}", Body: map[string]any{"options": map[string]any{}}, Status: 200},
	{Name: "update agent, changed type", Method: "PUT", Path: "/api/v1/agents/{agent}", Body: map[string]any{"type": "webhook"}, Status: 422},
	{Name: "update agent, moved story", Method: "PATCH", Path: "/api/v1/actions/{agent}", Body: map[string]any{"story_id": 999999}, Status: 422},
	{Name: "update agent, link to unknown agent", Method: "PATCH", Path: "/api/v1/agents/{agent}", Body: map[string]any{"receiver_ids": []int{999999}}, Status: 422},
	{Name: "update unknown agent", Method: "PUT", Path: "/api/v1/agents/999999", Body: map[string]any{"name": "x"}, Status: 404},

	{Name: "webhook, JSON", Method: "POST", Path: "/webhook/{hook_guid}/s3cret", Auth: authNone,
		Body: map[string]any{"alert": "disk", "host": "web-1"}, Status: 201},
	{Name: "webhook, form", Method: "POST", Path: "/webhook/{hook_guid}/s3cret", Auth: authNoneWithType("application/x-www-form-urlencoded"),
		Body: "alert=cpu&host=web-2", Status: 201},
	{Name: "webhook, text", Method: "POST", Path: "/webhook/{hook_guid}/s3cret", Auth: authNoneWithType("text/plain"),
		Body: "all systems down", Status: 201},
	{Name: "webhook, GET", Method: "GET", Path: "/webhook/{hook_guid}/s3cret?alert=load&host=web-3", Auth: authNone, Status: 201},
	{Name: "webhook, wrong secret", Method: "POST", Path: "/webhook/{hook_guid}/wrong", Auth: authNone, Body: map[string]any{}, Status: 404},
	{Name: "webhook, unknown agent", Method: "GET", Path: "/webhook/no-such-guid/s3cret", Auth: authNone, Status: 404},
	{Name: "webhook, bad JSON", Method: "POST", Path: "/webhook/{hook_guid}/s3cret", Auth: authNone, Body: `{"alert":`, Status: 400},
	{Name: "webhook, body too large", Method: "POST", Path: "/webhook/{hook_guid}/s3cret", Auth: authNone,
		Body: `{"a":"` + strings.Repeat("x", 2<<20) + `"}`, Status: 413},

	{Name: "list events", Method: "GET", Path: "/api/v1/events", Auth: authAfter(saveNewestEvent), Status: 200},
	{Name: "list events since", Method: "GET", Path: "/api/v1/events?since_id=1&agent_id={hook}", Status: 200},
	{Name: "list events, bad since_id", Method: "GET", Path: "/api/v1/events?since_id=-1", Status: 400},
	{Name: "list events, unknown agent", Method: "GET", Path: "/api/v1/events?agent_id=999999", Status: 404},
	{Name: "get event", Method: "GET", Path: "/api/v1/events/{event}", Status: 200},
	{Name: "get unknown event", Method: "GET", Path: "/api/v1/events/999999", Status: 404},
	{Name: "list agent events", Method: "GET", Path: "/api/v1/agents/{hook}/events?per_page=1", Status: 200},
	{Name: "list action events", Method: "GET", Path: "/api/v1/actions/{hook}/events?since_id={event}", Status: 200},
	{Name: "list agent events, bad page", Method: "GET", Path: "/api/v1/agents/{hook}/events?page=x", Status: 400},
	{Name: "list events of unknown agent", Method: "GET", Path: "/api/v1/actions/999999/events", Status: 404},

	{Name: "run agent", Method: "POST", Path: "/api/v1/agents/{agent}/run", Status: 200},
	{Name: "run action", Method: "POST", Path: "/api/v1/actions/{agent}/run", Body: map[string]any{}, Status: 200},
	{Name: "run scratch agent", Method: "POST", Path: "/api/v1/agents/{scratch_agent}/run", Status: 200},
	{Name: "run unknown agent", Method: "POST", Path: "/api/v1/agents/999999/run", Status: 404},
	{Name: "run agent, body too large", Method: "POST", Path: "/api/v1/actions/{agent}/run",
		Body: `{"a":"` + strings.Repeat("x", 2<<20) + `"}`, Status: 413},

	{Name: "list queued jobs", Method: "GET", Path: "/api/v1/admin/queued_jobs", Auth: authAfter(spreadJobStates), Status: 200},
	{Name: "list an action's queued jobs", Method: "GET", Path: "/api/v1/admin/queued_jobs?action_id={agent}&per_page=1", Status: 200},
	{Name: "list retry jobs", Method: "GET", Path: "/api/v1/admin/retry_jobs", Status: 200},
	{Name: "list dead jobs", Method: "GET", Path: "/api/v1/admin/dead_jobs?agent_id={agent}", Status: 200},
	{Name: "list in-progress jobs", Method: "GET", Path: "/api/v1/admin/in_progress_jobs", Status: 200},
	{Name: "list jobs, bad action_id", Method: "GET", Path: "/api/v1/admin/retry_jobs?action_id=x", Status: 400},
	{Name: "list jobs, unknown action", Method: "GET", Path: "/api/v1/admin/dead_jobs?action_id=999999", Status: 404},
	{Name: "list jobs as a member", Method: "GET", Path: "/api/v1/admin/queued_jobs", Auth: authMember, Status: 403},
	{Name: "list jobs without credentials", Method: "GET", Path: "/api/v1/admin/in_progress_jobs", Auth: authNone, Status: 401},
	{Name: "job stats", Method: "GET", Path: "/api/v1/admin/job_stats", Status: 200},
	{Name: "an action's job stats", Method: "GET", Path: "/api/v1/admin/job_stats?agent_id={agent}", Status: 200},
	{Name: "job stats, bad action_id", Method: "GET", Path: "/api/v1/admin/job_stats?action_id=0", Status: 400},
	{Name: "job stats as a member", Method: "GET", Path: "/api/v1/admin/job_stats", Auth: authMember, Status: 403},
	{Name: "agents' job stats", Method: "GET", Path: "/api/v1/admin/job_stats/actions?per_page=5", Status: 200},
	{Name: "agents' job stats, bad page", Method: "GET", Path: "/api/v1/admin/job_stats/actions?page=0", Status: 400},
	{Name: "agents' job stats as a member", Method: "GET", Path: "/api/v1/admin/job_stats/actions", Auth: authMember, Status: 403},
	{Name: "get retry job", Method: "GET", Path: "/api/v1/admin/jobs/{retry_job}", Status: 200},
	{Name: "get dead job", Method: "GET", Path: "/api/v1/admin/jobs/{dead_job}", Status: 200},
	{Name: "get in-progress job", Method: "GET", Path: "/api/v1/admin/jobs/{running_job}", Status: 200},
	{Name: "get unknown job", Method: "GET", Path: "/api/v1/admin/jobs/999999", Status: 404},
	{Name: "retry job", Method: "POST", Path: "/api/v1/admin/jobs/{retry_job}/retry", Status: 200},
	{Name: "retry in-progress job", Method: "POST", Path: "/api/v1/admin/jobs/{running_job}/retry", Status: 422},
	{Name: "retry unknown job", Method: "POST", Path: "/api/v1/admin/jobs/999999/retry", Status: 404},
	{Name: "delete job", Method: "DELETE", Path: "/api/v1/admin/jobs/{queued_job}", Status: 204},
	{Name: "delete deleted job", Method: "DELETE", Path: "/api/v1/admin/jobs/{queued_job}", Status: 404},
	{Name: "delete in-progress job", Method: "DELETE", Path: "/api/v1/admin/jobs/{running_job}", Status: 422},
	{Name: "retry an action's dead jobs", Method: "POST", Path: "/api/v1/admin/actions/{agent}/retry_all_dead_jobs", Status: 200},
	{Name: "retry an agent's dead jobs", Method: "POST", Path: "/api/v1/admin/agents/{agent}/retry_all_dead_jobs", Status: 200},
	{Name: "retry dead jobs of an unknown action", Method: "POST", Path: "/api/v1/admin/actions/999999/retry_all_dead_jobs", Status: 404},
	{Name: "retry all dead jobs", Method: "POST", Path: "/api/v1/admin/retry_all_dead_jobs", Status: 200},
	{Name: "retry all dead jobs of one action", Method: "POST", Path: "/api/v1/admin/retry_all_dead_jobs?action_id={agent}", Status: 200},
	{Name: "retry all dead jobs, bad action_id", Method: "POST", Path: "/api/v1/admin/retry_all_dead_jobs?action_id=x", Status: 400},
	{Name: "retry all dead jobs as a member", Method: "POST", Path: "/api/v1/admin/retry_all_dead_jobs", Auth: authMember, Status: 403},
	{Name: "delete an action's queued jobs", Method: "DELETE", Path: "/api/v1/admin/actions/{scratch_agent}/delete_all_queued_jobs", Status: 204},
	{Name: "delete an action's retry jobs", Method: "DELETE", Path: "/api/v1/admin/actions/{agent}/delete_all_retry_jobs", Status: 204},
	{Name: "delete an action's dead jobs", Method: "DELETE", Path: "/api/v1/admin/actions/{agent}/delete_all_dead_jobs", Status: 204},
	{Name: "delete an agent's queued jobs", Method: "DELETE", Path: "/api/v1/admin/agents/{agent}/delete_all_queued_jobs", Status: 204},
	{Name: "delete an agent's retry jobs", Method: "DELETE", Path: "/api/v1/admin/agents/{agent}/delete_all_retry_jobs", Status: 204},
	{Name: "delete an agent's dead jobs", Method: "DELETE", Path: "/api/v1/admin/agents/{agent}/delete_all_dead_jobs", Status: 204},
	{Name: "delete an unknown action's jobs", Method: "DELETE", Path: "/api/v1/admin/actions/999999/delete_all_dead_jobs", Status: 404},
	{Name: "delete an unknown agent's jobs", Method: "DELETE", Path: "/api/v1/admin/agents/999999/delete_all_queued_jobs", Status: 404},
	{Name: "delete all queued jobs", Method: "DELETE", Path: "/api/v1/admin/delete_all_queued_jobs", Status: 204},
	{Name: "delete all retry jobs", Method: "DELETE", Path: "/api/v1/admin/delete_all_retry_jobs", Status: 204},
	{Name: "delete all dead jobs", Method: "DELETE", Path: "/api/v1/admin/delete_all_dead_jobs", Status: 204},
	{Name: "delete all dead jobs as a member", Method: "DELETE", Path: "/api/v1/admin/delete_all_dead_jobs", Auth: authMember, Status: 403},
	{Name: "metrics", Method: "GET", Path: "/metrics", Auth: authNone, Status: 200},

	{Name: "export story", Method: "GET", Path: "/api/v1/stories/{story}/export", Status: 200},
	{Name: "export unknown story", Method: "GET", Path: "/api/v1/stories/999999/export", Status: 404},
	{Name: "remove agent events", Method: "DELETE", Path: "/api/v1/agents/{hook}/remove_events", Status: 200},
	{Name: "remove action events", Method: "DELETE", Path: "/api/v1/actions/{agent}/remove_events", Status: 200},
	{Name: "remove events of unknown agent", Method: "DELETE", Path: "/api/v1/agents/999999/remove_events", Status: 404},
	{Name: "delete agent", Method: "DELETE", Path: "/api/v1/agents/{scratch_agent}", Status: 204},
	{Name: "delete action", Method: "DELETE", Path: "/api/v1/actions/{scratch_action}", Status: 204},
	{Name: "delete deleted agent", Method: "DELETE", Path: "/api/v1/actions/{scratch_agent}", Status: 404},

	// The audit log (audit.go).
	{Name: "list audit log", Method: "GET", Path: "/api/v1/audit_logs?per_page=5", Status: 200},
	{Name: "list audit log, filtered", Method: "GET",
		Path: "/api/v1/audit_logs?operation_name[]=UserCreation&operation_name[]=SignIn&user_id[]=1&after=2020-01-01&before=2999-01-01T00:00:00Z", Status: 200},
	{Name: "list audit log, bad before", Method: "GET", Path: "/api/v1/audit_logs?before=soon", Status: 400},
	{Name: "list audit log as a member", Method: "GET", Path: "/api/v1/audit_logs", Auth: authMember, Status: 403},
	{Name: "list audit log without credentials", Method: "GET", Path: "/api/v1/audit_logs", Auth: authNone, Status: 401},
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
		audit := newAuditWatch(t, e, e.AdminKey, s.ids["member_key"], s.ids["session"])
		for _, c := range contractCalls {
			c.run(t, e, v, s, audit)
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
