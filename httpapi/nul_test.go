package httpapi_test

import (
	"net/http"
	"testing"
)

// A NUL character in a string (JSON \u0000, form or query %00) is a
// client's mistake that PostgreSQL text columns cannot store: it must get a
// 4xx saying so, never reach a query and come back as a 500.
func TestNULCharactersAreRefused(t *testing.T) {
	eachContractEnv(t, func(t *testing.T, e *env) {
		bearer := map[string]string{"Authorization": "Bearer " + e.AdminKey, "Content-Type": "application/json"}
		anon := map[string]string{"Content-Type": "application/json"}
		form := map[string]string{"Content-Type": "application/x-www-form-urlencoded"}
		tyk := map[string]string{"admin-auth": contractAdminSecret}
		for _, c := range []struct {
			name, method, path, body string
			headers                  map[string]string
			status                   int
		}{
			{"template name", "POST", "/api/v1/admin/templates", `{"name":"x\u0000","agent_type":"Webhook"}`, bearer, 422},
			{"template options key", "POST", "/api/v1/admin/templates", `{"name":"x","agent_type":"Webhook","agent_options":{"a\u0000":1}}`, bearer, 422},
			{"template import", "POST", "/api/v1/admin/templates/import", `{"templates":[{"name":"\u0000","agent_type":"Webhook"}]}`, bearer, 422},
			{"template search", "GET", "/api/v1/admin/templates?search=a%00", "", bearer, 400},
			{"user search", "GET", "/api/v1/admin/users?search=%00", "", bearer, 400},
			{"sign-in email", "POST", "/users/sign_in", `{"email":"a\u0000@example.com","password":"long enough"}`, anon, 422},
			{"sign-in form email", "POST", "/users/sign_in", "email=a%00%40example.com&password=long+enough", form, 422},
			{"Tyk organisation name", "POST", "/admin/organisations", `{"owner_name":"x\u0000y"}`, tyk, 400},
			{"Tyk user name", "POST", "/admin/users", `{"email_address":"n@example.com","first_name":"x\u0000"}`, tyk, 400},
			{"Tyk user group", "POST", "/admin/users", `{"email_address":"g@example.com","group_id":"\u0000"}`, tyk, 400},
		} {
			t.Run(c.name, func(t *testing.T) {
				var body any
				if c.body != "" {
					body = c.body
				}
				r := e.send(c.method, c.path, c.headers, body)
				want(t, r, c.status)
			})
		}
		// An escaped backslash before u0000 is not a NUL: it is accepted.
		r := e.send("POST", "/api/v1/admin/templates", bearer, `{"name":"back\\u0000slash","agent_type":"Webhook"}`)
		want(t, r, http.StatusCreated)
	})
}
