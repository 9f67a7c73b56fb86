package httpapi_test

import (
	"fmt"
	"net/http"
	"strings"
	"testing"
)

// createOrgAdmin makes an organisation and its admin through the instance
// admin API and returns the org id, the admin's id and access key.
func (c *tykClient) createOrgAdmin(t *testing.T, name string) (orgID, adminID, key string) {
	t.Helper()
	r := c.call("POST", "/admin/organisations", adminAuth(), map[string]any{"owner_name": name})
	orgID = wantMatch(t, r, http.StatusOK, `\{"Status":"OK","Message":"Org created","Meta":"(`+hexID+`)"\}`)[1]
	r = c.call("POST", "/admin/users", adminAuth(), map[string]any{"org_id": orgID, "email_address": "admin@" + name + ".example",
		"first_name": "Admin", "active": true, "user_permissions": map[string]string{"IsAdmin": "admin"}})
	m := wantMatch(t, r, http.StatusOK, `\{"Status":"OK","Message":"([^"]+)","Meta":\{"id":"(`+hexID+`)",.*\}`)
	return orgID, m[2], m[1]
}

// TestTykUserCRUD replays tyk-demo's /api/users checks.
func TestTykUserCRUD(t *testing.T) {
	t.Parallel()
	eachTyk(t, func(t *testing.T, c *tykClient) {
		orgID, adminID, key := c.createOrgAdmin(t, "demo")
		r := c.call("POST", "/api/users", userAuth(key), `{"first_name":"Test","last_name":"User","email_address":"Test.User@Example.com",`+
			`"password":"test-password","active":true,"user_permissions":{"apis":"read"}}`)
		id := wantMatch(t, r, http.StatusOK, `\{"Status":"OK","Message":"User and session have been created","Meta":"(`+hexID+`)"\}`)[1]
		path := "/api/users/" + id

		wantBody(t, c.call("POST", "/api/users/", userAuth(key), `{"email_address":"test.user@example.com"}`),
			http.StatusForbidden, `{"Status":"Error","Message":"User email already exists for this Org","Meta":null}`)
		wantBody(t, c.call("POST", "/admin/users", adminAuth(), `{"org_id":"`+orgID+`","email_address":"TEST.USER@example.com"}`),
			http.StatusForbidden, `{"Status":"Error","Message":"User email already exists for this Org","Meta":null}`)

		r = c.call("GET", path, userAuth(key), nil)
		want(t, r, http.StatusOK)
		if !strings.HasPrefix(string(r.Body), `{"id":"`+id+`","org_id":"`+orgID+`",`) || !strings.HasSuffix(string(r.Body), `"api_model":{}}`) {
			t.Errorf("bare user: %s", r.Body)
		}
		u := decodeUser(t, r.Body)
		if u.EmailAddress != "test.user@example.com" || u.FirstName != "Test" || !u.Active || u.AccessKey != "" ||
			u.UserPermissions["apis"] != "read" || u.UserPermissions["IsAdmin"] == "admin" {
			t.Errorf("user: %s", r.Body)
		}
		c.checkPassword(t, id, "test-password")

		l := decodeUserList(t, c.call("GET", "/api/users?p=-1", userAuth(key), nil))
		if len(l.Users) != 2 || l.Users[0].ID != adminID || l.Users[1].ID != id || l.Pages != 1 {
			t.Errorf("list: %+v", l)
		}

		t.Run("update", func(t *testing.T) {
			wantBody(t, c.call("PUT", path, userAuth(key), `{"first_name":"Renamed","email_address":"Renamed@Example.com"}`),
				http.StatusOK, `{"Status":"OK","Message":"User updated","Meta":null}`)
			got := decodeUser(t, c.call("GET", path+"/", userAuth(key), nil).Body)
			if got.FirstName != "Renamed" || got.LastName != "User" || got.EmailAddress != "renamed@example.com" {
				t.Errorf("after update: %+v", got)
			}
			want(t, c.call("PUT", path, userAuth(key), `{"password":"sneaky-password"}`), http.StatusBadRequest)
			want(t, c.call("PUT", path, userAuth(key), `{"active":"yes"}`), http.StatusBadRequest)
			want(t, c.call("PUT", path, userAuth(key), `{"user_permissions":{"apis":"everything"}}`), http.StatusBadRequest)
			want(t, c.call("PUT", path, userAuth(key), `{"org_id":"000000000000000000000001"}`), http.StatusBadRequest)
			wantBody(t, c.call("PUT", path, userAuth(key), `{"first_name":`), http.StatusBadRequest,
				`{"Status":"Error","Message":"Request body malformed","Meta":null}`)
		})

		t.Run("access key reset", func(t *testing.T) {
			// The admin may not reset it (forbid_admin_reset_access_token is on
			// by default); the user, signed in, resets their own.
			wantBody(t, c.call("PUT", path+"/actions/key/reset", userAuth(key), nil), http.StatusForbidden,
				`{"Status":"Error","Message":"Not allowed to reset access token of other users","Meta":null}`)
			_, cookie := c.signIn("renamed@example.com", "test-password")
			r, _ := c.browse(browserReq{Method: "PUT", Path: path + "/actions/key/reset", Cookie: cookie})
			want(t, r, http.StatusOK)
			e := decodeEnvelope(t, r)
			fresh := decodeUser(t, e.Meta).AccessKey
			if e.Status != "OK" || e.Message != "User session renewed" || fresh == "" || r.Header.Get("Cache-Control") != "no-store" {
				t.Fatalf("key reset: %s", r.Body)
			}
			want(t, c.call("GET", path, userAuth(fresh), nil), http.StatusOK)
			r = c.call("PUT", path+"/actions/key/reset", userAuth(fresh), nil)
			want(t, r, http.StatusOK)
			wantBody(t, c.call("GET", path, userAuth(fresh), nil), http.StatusUnauthorized, notAuthorised)
			want(t, c.call("GET", path, userAuth(decodeUser(t, decodeEnvelope(t, r).Meta).AccessKey), nil), http.StatusOK)
		})

		t.Run("password reset of another user needs ResetPassword", func(t *testing.T) {
			reset := path + "/actions/reset"
			body := `{"new_password":"set-by-admin"}`
			want(t, c.call("POST", reset, userAuth(key), body), http.StatusForbidden)
			wantBody(t, c.call("PUT", "/admin/users/"+adminID+"/actions/allow_reset_passwords", adminAuth(), nil),
				http.StatusOK, `{"Status":"OK","Message":"User updated","Meta":null}`)
			admin := decodeUser(t, c.call("GET", "/admin/users/"+adminID, adminAuth(), nil).Body)
			if admin.UserPermissions["ResetPassword"] != "admin" || admin.UserPermissions["IsAdmin"] != "admin" {
				t.Errorf("after allow: %v", admin.UserPermissions)
			}
			wantBody(t, c.call("POST", reset, userAuth(key), body), http.StatusOK, `{"Status":"OK","Message":"User password updated","Meta":null}`)
			c.checkPassword(t, id, "set-by-admin")
			want(t, c.call("PUT", "/admin/users/"+adminID+"/actions/disallow_reset_passwords/", adminAuth(), nil), http.StatusOK)
			want(t, c.call("POST", reset, userAuth(key), body), http.StatusForbidden)
			want(t, c.call("PUT", "/admin/users/000000000000000000000999/actions/allow_reset_passwords", adminAuth(), nil), http.StatusNotFound)
			r := c.call("POST", "/api/users/"+adminID+"/actions/reset", userAuth(key), `{"new_password":"short"}`)
			want(t, r, http.StatusBadRequest)
			if e := decodeEnvelope(t, r); !strings.Contains(e.Message, "new_password must be at least") {
				t.Errorf("short password: %s", r.Body)
			}
		})

		t.Run("delete, then 404", func(t *testing.T) {
			wantBody(t, c.call("DELETE", path, userAuth(key), nil), http.StatusOK, `{"Status":"OK","Message":"User deleted","Meta":null}`)
			wantBody(t, c.call("GET", path, userAuth(key), nil), http.StatusNotFound, `{"Status":"Error","Message":"User not found","Meta":null}`)
			want(t, c.call("DELETE", path, userAuth(key), nil), http.StatusNotFound)
			r := c.call("DELETE", "/api/users/"+adminID, userAuth(key), nil)
			want(t, r, http.StatusBadRequest)
			if !strings.Contains(decodeEnvelope(t, r).Message, "last active admin") {
				t.Errorf("deleting the last admin: %s", r.Body)
			}
		})

		t.Run("pages of ten", func(t *testing.T) {
			for i := 0; i < 11; i++ {
				want(t, c.call("POST", "/api/users", userAuth(key), fmt.Sprintf(`{"email_address":"u%d@demo.example"}`, i)), http.StatusOK)
			}
			for q, n := range map[string]int{"": 12, "?p=0": 12, "?p=-1": 12, "?p=1": 10, "?p=2": 2} {
				if l := decodeUserList(t, c.call("GET", "/api/users"+q, userAuth(key), nil)); len(l.Users) != n || l.Pages != 2 {
					t.Errorf("%q: %d users, %d pages; want %d, 2", q, len(l.Users), l.Pages, n)
				}
			}
		})
	})
}

// TestTykAdminUsers covers the instance admin's user calls beyond the
// client replays: bare GET, list, delete, and Tyk's not-found messages.
func TestTykAdminUsers(t *testing.T) {
	t.Parallel()
	eachTyk(t, func(t *testing.T, c *tykClient) {
		orgID, adminID, _ := c.createOrgAdmin(t, "acme2")
		r := c.call("GET", "/admin/users/"+adminID, adminAuth(), nil)
		want(t, r, http.StatusOK)
		if u := decodeUser(t, r.Body); u.OrgID != orgID || u.AccessKey != "" {
			t.Errorf("bare user: %s", r.Body)
		}
		wantBody(t, c.call("GET", "/admin/users/000000000000000000000999", adminAuth(), nil), http.StatusNotFound,
			`{"Status":"Error","Message":"Could not retrieve user detail","Meta":null}`)
		wantBody(t, c.call("PUT", "/admin/users/not-an-id", adminAuth(), `{}`), http.StatusNotFound,
			`{"Status":"Error","Message":"User not found","Meta":null}`)
		want(t, c.call("POST", "/admin/users", adminAuth(), `{"org_id":"ffffffffffffffffffffffff","email_address":"a@b.example"}`), http.StatusBadRequest)
		want(t, c.call("POST", "/admin/users", adminAuth(), `{"email_address":"not an email"}`), http.StatusBadRequest)
		want(t, c.call("POST", "/admin/users", adminAuth(), `{"email_address":"a@b.example","password":"short"}`), http.StatusBadRequest)

		r = c.call("POST", "/admin/users", adminAuth(), `{"org_id":"`+orgID+`","email_address":"second@acme2.example","user_permissions":{"IsAdmin":"admin"}}`)
		created := decodeUser(t, decodeEnvelope(t, r).Meta)
		second := created.ID
		if got := decodeUser(t, c.call("GET", "/admin/users/"+second, adminAuth(), nil).Body); got.CreatedAt != created.CreatedAt {
			t.Errorf("created_at %s when created, %s when read", created.CreatedAt, got.CreatedAt)
		}
		// The Acme owner, two users of acme2.
		if l := decodeUserList(t, c.call("GET", "/admin/users", adminAuth(), nil)); len(l.Users) != 3 || l.Pages != 1 {
			t.Errorf("all users: %+v", l)
		}
		wantBody(t, c.call("DELETE", "/admin/users/"+second+"/", adminAuth(), nil), http.StatusOK, `{"Status":"OK","Message":"User deleted","Meta":null}`)
		want(t, c.call("GET", "/admin/users/"+second, adminAuth(), nil), http.StatusNotFound)

		t.Run("a non-admin never shows the empty permissions that mean admin", func(t *testing.T) {
			r := c.call("PUT", "/admin/users/"+adminID, adminAuth(), `{"user_permissions":{"IsAdmin":"deny"}}`)
			want(t, r, http.StatusBadRequest) // the organisation's last admin
			r = c.call("POST", "/admin/users", adminAuth(), `{"org_id":"`+orgID+`","email_address":"plain@acme2.example","user_permissions":{"IsAdmin":"deny"}}`)
			want(t, r, http.StatusOK)
			u := decodeUser(t, decodeEnvelope(t, r).Meta)
			if len(u.UserPermissions) == 0 || u.UserPermissions["IsAdmin"] == "admin" {
				t.Errorf("non-admin permissions: %v", u.UserPermissions)
			}
		})
	})
}

// TestTykIsolation checks that organisation users reach only their own
// organisation, that only admins manage other users, and that super users
// read across organisations on /api/users but stay in their own tenant on
// /api/v1.
func TestTykIsolation(t *testing.T) {
	t.Parallel()
	eachTyk(t, func(t *testing.T, c *tykClient) {
		_, adminA, keyA := c.createOrgAdmin(t, "alpha")
		_, adminB, keyB := c.createOrgAdmin(t, "beta")

		t.Run("another organisation's users are not found", func(t *testing.T) {
			other := "/api/users/" + adminB
			notFound := `{"Status":"Error","Message":"User not found","Meta":null}`
			wantBody(t, c.call("GET", other, userAuth(keyA), nil), http.StatusNotFound, notFound)
			wantBody(t, c.call("PUT", other, userAuth(keyA), `{"first_name":"x"}`), http.StatusNotFound, notFound)
			wantBody(t, c.call("DELETE", other, userAuth(keyA), nil), http.StatusNotFound, notFound)
			wantBody(t, c.call("POST", other+"/actions/reset", userAuth(keyA), `{"new_password":"whatever-1"}`), http.StatusNotFound, notFound)
			wantBody(t, c.call("PUT", other+"/actions/key/reset", userAuth(keyA), nil), http.StatusNotFound, notFound)
			l := decodeUserList(t, c.call("GET", "/api/users", userAuth(keyA), nil))
			if len(l.Users) != 1 || l.Users[0].ID != adminA {
				t.Errorf("alpha sees %+v", l.Users)
			}
			r := c.call("POST", "/api/users", userAuth(keyA), `{"org_id":"`+strings.Repeat("0", 23)+`1","email_address":"x@y.example"}`)
			want(t, r, http.StatusForbidden)
			want(t, c.call("GET", "/api/users/"+adminA, userAuth(keyB), nil), http.StatusNotFound)
		})

		t.Run("only admins manage other users", func(t *testing.T) {
			r := c.call("POST", "/api/users", userAuth(keyA), `{"email_address":"plain@alpha.example","password":"plain-password","user_permissions":{"apis":"read"}}`)
			plainID := decodeEnvelope(t, r).Meta
			id := strings.Trim(string(plainID), `"`)
			// Admins may not reset other users' keys (the default), so the
			// user signs in and resets their own.
			_, cookie := c.signIn("plain@alpha.example", "plain-password")
			r, _ = c.browse(browserReq{Method: "PUT", Path: "/api/users/" + id + "/actions/key/reset", Cookie: cookie})
			plainKey := decodeUser(t, decodeEnvelope(t, r).Meta).AccessKey

			for _, tc := range []struct{ method, path, body string }{
				{"GET", "/api/users", ""},
				{"GET", "/api/users/" + adminA, ""},
				{"POST", "/api/users", `{"email_address":"new@alpha.example"}`},
				{"PUT", "/api/users/" + adminA, `{"first_name":"x"}`},
				{"DELETE", "/api/users/" + adminA, ""},
				{"PUT", "/api/users/" + adminA + "/actions/key/reset", ""},
				{"POST", "/api/users/" + adminA + "/actions/reset", `{"new_password":"taken-over-1"}`},
				{"PUT", "/api/users/" + id, `{"user_permissions":{"IsAdmin":"admin"}}`},
				{"PUT", "/api/users/" + id, `{"user_permissions":{}}`},
			} {
				var body any
				if tc.body != "" {
					body = tc.body
				}
				r := c.call(tc.method, tc.path, userAuth(plainKey), body)
				want(t, r, http.StatusForbidden)
				if e := decodeEnvelope(t, r); e.Status != "Error" || !strings.HasPrefix(e.Message, "access denied: ") {
					t.Errorf("%s %s: %s", tc.method, tc.path, r.Body)
				}
			}
			self := decodeUser(t, c.call("GET", "/api/users/"+id, userAuth(plainKey), nil).Body)
			if self.UserPermissions["IsAdmin"] == "admin" {
				t.Fatalf("a non-admin made themselves admin: %v", self.UserPermissions)
			}
			// A GET-edit-PUT of one's own user is allowed.
			edited := map[string]any{"id": self.ID, "org_id": self.OrgID, "first_name": "Me", "email_address": self.EmailAddress,
				"active": true, "user_permissions": self.UserPermissions}
			wantBody(t, c.call("PUT", "/api/users/"+id, userAuth(plainKey), edited), http.StatusOK, `{"Status":"OK","Message":"User updated","Meta":null}`)
		})

		t.Run("super users", func(t *testing.T) {
			r := c.call("POST", "/admin/users", adminAuth(), `{"email_address":"root@example.com","first_name":"Root","user_permissions":{}}`)
			want(t, r, http.StatusOK)
			e := decodeEnvelope(t, r)
			root := decodeUser(t, e.Meta)
			if root.OrgID != "" || root.UserPermissions["IsAdmin"] != "admin" {
				t.Errorf("super user: %s", r.Body)
			}
			l := decodeUserList(t, c.call("GET", "/api/users?p=-1", userAuth(e.Message), nil))
			seen := map[string]bool{}
			for _, u := range l.Users {
				seen[u.ID] = true
			}
			if !seen[adminA] || !seen[adminB] || !seen[root.ID] || len(l.Users) != 5 {
				t.Errorf("super user sees %d users: %+v", len(l.Users), l.Users)
			}
			want(t, c.call("GET", "/api/users/"+adminB, userAuth(e.Message), nil), http.StatusOK)
			// An admin super user manages users in any organisation.
			orgB := decodeUser(t, c.call("GET", "/admin/users/"+adminB, adminAuth(), nil).Body).OrgID
			r = c.call("POST", "/api/users", userAuth(e.Message), `{"org_id":"`+orgB+`","email_address":"made-by-root@beta.example"}`)
			made := strings.Trim(string(decodeEnvelope(t, r).Meta), `"`)
			if got := decodeUser(t, c.call("GET", "/api/users/"+made, userAuth(keyB), nil).Body); got.OrgID != orgB {
				t.Errorf("user made by a super user: %+v", got)
			}
			want(t, c.call("DELETE", "/api/users/"+made, userAuth(e.Message), nil), http.StatusOK)
			// On the Tines API the super user's tenant holds only super users.
			r = c.do("GET", "/api/v1/admin/users", e.Message, nil)
			want(t, r, http.StatusOK)
			if n := r.JSON(t)["meta"].(map[string]any)["count"]; n != 1.0 {
				t.Errorf("/api/v1 shows a super user %v users, want only itself", n)
			}
			// The hidden tenant is not an organisation.
			var orgs struct {
				Organisations []map[string]any `json:"organisations"`
			}
			decodeInto(t, c.call("GET", "/admin/organisations", adminAuth(), nil), &orgs)
			if len(orgs.Organisations) != 3 {
				t.Errorf("%d organisations listed, want 3 (Acme, alpha, beta)", len(orgs.Organisations))
			}
			// Organisation users still cannot see super users.
			want(t, c.call("GET", "/api/users/"+root.ID, userAuth(keyA), nil), http.StatusNotFound)
		})

		t.Run("an inactive user's key stops working", func(t *testing.T) {
			want(t, c.call("PUT", "/admin/users/"+adminB, adminAuth(), `{"active":false}`), http.StatusBadRequest) // last admin of beta
			orgB := decodeUser(t, c.call("GET", "/admin/users/"+adminB, adminAuth(), nil).Body).OrgID
			r := c.call("POST", "/admin/users", adminAuth(), `{"org_id":"`+orgB+`","email_address":"two@beta.example","user_permissions":{"IsAdmin":"admin"}}`)
			e := decodeEnvelope(t, r)
			second, secondKey := decodeUser(t, e.Meta).ID, e.Message
			want(t, c.call("PUT", "/admin/users/"+second, adminAuth(), `{"active":false}`), http.StatusOK)
			wantBody(t, c.call("GET", "/api/users", userAuth(secondKey), nil), http.StatusUnauthorized, notAuthorised)
		})
	})
}
