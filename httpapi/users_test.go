package httpapi_test

import (
	"context"
	"fmt"
	"net/http"
	"strings"
	"testing"

	"github.com/steward-dev/steward"
	"github.com/steward-dev/steward/httpapi"
	"golang.org/x/crypto/bcrypt"
)

func TestUsersAdminAPI(t *testing.T) {
	t.Parallel()
	eachEnv(t, func(t *testing.T, e *env) {
		var id float64
		t.Run("create with the Postman body", func(t *testing.T) {
			r := e.do("POST", "/api/v1/admin/users", e.AdminKey, `{"first_name":"Joe","last_name":"Bloggs","Admin":true,"email":"Joe@Tines.xyz"}`)
			want(t, r, http.StatusCreated)
			u := r.JSON(t)
			if u["email"] != "joe@tines.xyz" || u["admin"] != true || u["is_active"] != true || u["invitation_status"] != "pending" {
				t.Errorf("created user: %s", r.Body)
			}
			id = u["id"].(float64)
		})
		path := fmt.Sprintf("/api/v1/admin/users/%d", int64(id))

		t.Run("get, update with PUT and PATCH", func(t *testing.T) {
			want(t, e.do("GET", path, e.AdminKey, nil), http.StatusOK)
			r := e.do("PUT", path, e.AdminKey, `{"first_name":"New name"}`)
			want(t, r, http.StatusOK)
			if u := r.JSON(t); u["first_name"] != "New name" || u["last_name"] != "Bloggs" {
				t.Errorf("PUT changed more than it was asked: %s", r.Body)
			}
			r = e.do("PATCH", path, e.AdminKey, `{"tenant_permissions":["audit_log_read"]}`)
			want(t, r, http.StatusOK)
			if perms := r.JSON(t)["tenant_permissions"].([]any); len(perms) != 1 || perms[0] != "AUDIT_LOG_READ" {
				t.Errorf("tenant_permissions = %v", perms)
			}
		})

		t.Run("list envelope and absolute pagination links", func(t *testing.T) {
			r := e.do("GET", "/api/v1/admin/users?per_page=1", e.AdminKey, nil)
			want(t, r, http.StatusOK)
			body := r.JSON(t)
			meta := body["meta"].(map[string]any)
			if len(body["admin/users"].([]any)) != 1 || meta["count"] != 2.0 || meta["pages"] != 2.0 || meta["next_page_number"] != 2.0 {
				t.Errorf("list: %s", r.Body)
			}
			if next := meta["next_page"].(string); next != e.Server.URL+"/api/v1/admin/users?page=2&per_page=1" {
				t.Errorf("next_page = %q", next)
			}
			r = e.do("GET", "/api/v1/admin/users?filter=TENANT_OWNER&search=joe", e.AdminKey, nil)
			want(t, r, http.StatusOK)
			if n := r.JSON(t)["meta"].(map[string]any)["count"]; n != 1.0 {
				t.Errorf("admins matching joe: %v", n)
			}
		})

		t.Run("bad input gets a clear 4xx", func(t *testing.T) {
			cases := []struct {
				name, method, path, body string
				status                   int
				field                    string
			}{
				{"malformed JSON", "POST", "/api/v1/admin/users", `{"email":`, 400, ""},
				{"not an object", "POST", "/api/v1/admin/users", `["a"]`, 400, ""},
				{"empty body", "POST", "/api/v1/admin/users", ``, 400, ""},
				{"missing email", "POST", "/api/v1/admin/users", `{"first_name":"x"}`, 422, "email"},
				{"invalid email", "POST", "/api/v1/admin/users", `{"email":"not-an-email"}`, 422, "email"},
				{"wrong type", "POST", "/api/v1/admin/users", `{"email":"a@b.co","admin":"yes"}`, 422, "admin"},
				{"short password", "POST", "/api/v1/admin/users", `{"email":"a@b.co","password":"x"}`, 422, "password"},
				{"duplicate email", "POST", "/api/v1/admin/users", `{"email":"JOE@tines.xyz"}`, 409, "email"},
				{"unknown id", "GET", "/api/v1/admin/users/999999", ``, 404, ""},
				{"non-numeric id", "GET", "/api/v1/admin/users/abc", ``, 404, ""},
				{"bad page", "GET", "/api/v1/admin/users?page=0", ``, 400, "page"},
				{"bad filter", "GET", "/api/v1/admin/users?filter=EVERYONE", ``, 400, "filter"},
				{"oversized body", "POST", "/api/v1/admin/users", `{"first_name":"` + strings.Repeat("a", httpapi.MaxBodyBytes) + `"}`, 413, ""},
				{"demote last admin", "PUT", fmt.Sprintf("/api/v1/admin/users/%d", e.Admin.UserID), `{"admin":false,"is_active":true}`, 422, "admin"},
			}
			// joe is an admin too; make them a member so the owner is the last admin.
			want(t, e.do("PUT", path, e.AdminKey, `{"admin":false}`), http.StatusOK)
			for _, c := range cases {
				t.Run(c.name, func(t *testing.T) {
					var body any
					if c.body != "" {
						body = c.body
					}
					r := e.do(c.method, c.path, e.AdminKey, body)
					want(t, r, c.status)
					if ct := r.Header.Get("Content-Type"); ct != "application/problem+json" {
						t.Errorf("Content-Type = %q", ct)
					}
					p := r.JSON(t)
					errs := p["errors"].([]any)
					first := errs[0].(map[string]any)
					if p["status"] != float64(c.status) || p["detail"] == "" || first["message"] != p["detail"] {
						t.Errorf("problem body: %s", r.Body)
					}
					if c.field != "" && first["field"] != c.field {
						t.Errorf("field = %v, want %s", first["field"], c.field)
					}
				})
			}
		})

		t.Run("authentication and authorization", func(t *testing.T) {
			want(t, e.do("GET", "/api/v1/admin/users", "", nil), http.StatusUnauthorized)
			want(t, e.do("GET", "/api/v1/admin/users", "stw_wrong", nil), http.StatusUnauthorized)
			// A member with a key is authenticated but not an admin.
			memberKey := newKeyFor(t, e, e.Admin.TenantID, int64(id))
			want(t, e.do("GET", "/api/v1/api_keys", memberKey, nil), http.StatusOK)
			want(t, e.do("GET", "/api/v1/admin/users", memberKey, nil), http.StatusForbidden)
			// Other header forms Tines clients send.
			req, _ := http.NewRequest("GET", e.Server.URL+"/api/v1/admin/users", nil)
			req.Header.Set("X-USER-TOKEN", e.AdminKey)
			req.Header.Set("X-USER-EMAIL", "OWNER@acme.example")
			resp, err := http.DefaultClient.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			resp.Body.Close()
			if resp.StatusCode != 200 {
				t.Errorf("X-User-Token with matching email: %d", resp.StatusCode)
			}
			req.Header.Set("X-USER-EMAIL", "someone@else.example")
			resp, err = http.DefaultClient.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			resp.Body.Close()
			if resp.StatusCode != 401 {
				t.Errorf("X-User-Email of another user: %d, want 401", resp.StatusCode)
			}
		})

		t.Run("another tenant's user is 404", func(t *testing.T) {
			other, err := httpapi.Bootstrap(context.Background(), services(e.DB), "Other", "boss@other.example", "", bcrypt.MinCost)
			if err != nil {
				t.Fatal(err)
			}
			theirs := fmt.Sprintf("/api/v1/admin/users/%d", other.UserID)
			for _, m := range []string{"GET", "PUT", "DELETE"} {
				r := e.do(m, theirs, e.AdminKey, `{"first_name":"pwned"}`)
				want(t, r, http.StatusNotFound)
			}
			u, err := e.DB.FindUserByID(context.Background(), other.TenantID, other.UserID)
			if err != nil || u.FirstName == "pwned" {
				t.Errorf("other tenant's user changed: %v %v", u, err)
			}
		})

		t.Run("passwords are bcrypt hashed and never serialised", func(t *testing.T) {
			r := e.do("POST", "/api/v1/admin/users", e.AdminKey, `{"email":"pw@acme.example","password":"correct horse battery"}`)
			want(t, r, http.StatusCreated)
			if strings.Contains(string(r.Body), "$2a$") || strings.Contains(strings.ToLower(string(r.Body)), "password") {
				t.Errorf("response mentions the password: %s", r.Body)
			}
			u, err := e.DB.FindUserByID(context.Background(), e.Admin.TenantID, int64(r.JSON(t)["id"].(float64)))
			if err != nil {
				t.Fatal(err)
			}
			if bcrypt.CompareHashAndPassword([]byte(u.PasswordHash), []byte("correct horse battery")) != nil {
				t.Errorf("stored password is not a bcrypt hash of the password: %q", u.PasswordHash)
			}
			list := e.do("GET", "/api/v1/admin/users?per_page=500", e.AdminKey, nil)
			if strings.Contains(string(list.Body), u.PasswordHash) || strings.Contains(string(list.Body), "$2a$") {
				t.Errorf("list leaks a password hash")
			}
		})

		t.Run("delete", func(t *testing.T) {
			want(t, e.do("DELETE", path, e.AdminKey, nil), http.StatusNoContent)
			want(t, e.do("GET", path, e.AdminKey, nil), http.StatusNotFound)
			want(t, e.do("DELETE", fmt.Sprintf("/api/v1/admin/users/%d", e.Admin.UserID), e.AdminKey, nil), http.StatusUnprocessableEntity)
		})
	})
}

// newKeyFor creates an API key for a user straight in the store.
func newKeyFor(t *testing.T, e *env, tenantID, userID int64) string {
	t.Helper()
	k, plaintext := httpapi.NewAPIKey("test", tenantID, userID, nil)
	if err := e.DB.CreateAPIKey(context.Background(), k); err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(plaintext, steward.APIKeyPrefix) {
		t.Fatalf("key %q lacks the prefix", plaintext)
	}
	return plaintext
}
