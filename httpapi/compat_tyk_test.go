package httpapi_test

import (
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/steward-dev/steward/httpapi"
	"github.com/steward-dev/steward/sqlstore"
	"github.com/steward-dev/steward/storetest"
)

// eachTykWith runs fn against a fresh Tyk-enabled API on every test
// database, with the configuration changed by configure.
func eachTykWith(t *testing.T, configure func(*httpapi.Config), fn func(t *testing.T, c *tykClient)) {
	t.Helper()
	storetest.Each(t, func(t *testing.T, db *sqlstore.DB) {
		c := &tykClient{env: newEnv(t, db, func(cfg *httpapi.Config) { cfg.AdminSecret = tykSecret; configure(cfg) })}
		fn(t, c)
		c.assertNoSecrets(t)
	})
}

// tykSetupScript replays Tyk's setup script: an organisation, a first user
// made with the instance admin API (no password), the user's id read from
// /api/users with the key, then a password reset with new_password, all
// sent as curl sends them. It returns the reset's answer and the email.
func tykSetupScript(t *testing.T, c *tykClient, newPassword string) (response, string) {
	t.Helper()
	org := c.call("POST", "/admin/organisations", map[string]string{"admin-auth": tykSecret, "Content-Type": "application/json"},
		`{"owner_name": "Default Org.", "owner_slug": "default", "cname_enabled": true, "cname": ""}`)
	orgID := wantMatch(t, org, http.StatusOK, `\{"Status":"OK","Message":"Org created","Meta":"(`+hexID+`)"\}`)[1]
	email := "12345@test.com"
	user := c.call("POST", "/admin/users", map[string]string{"admin-auth": tykSecret, "Content-Type": "application/json"},
		`{"first_name": "John", "last_name": "Smith", "email_address": "`+email+`", "active": true, "org_id": "`+orgID+`"}`)
	want(t, user, http.StatusOK)
	key := decodeEnvelope(t, user).Message
	var list struct {
		Users []struct {
			ID string `json:"id"`
		} `json:"users"`
	}
	decodeInto(t, c.call("GET", "/api/users", map[string]string{"authorization": key}, nil), &list)
	if len(list.Users) != 1 {
		t.Fatalf("users: %+v", list)
	}
	r := c.call("POST", "/api/users/"+list.Users[0].ID+"/actions/reset", map[string]string{"authorization": key, "Content-Type": "application/json"},
		`{"new_password":"`+newPassword+`"}`)
	return r, email
}

// TestPasswordMinLength checks STEWARD_PASSWORD_MIN_LENGTH on every API
// that sets a password: Tyk's setup script with a 6-character password,
// the Tines and Tyk user APIs, and invitation acceptance.
func TestPasswordMinLength(t *testing.T) {
	t.Parallel()
	const six = "test12"
	t.Run("default 8", func(t *testing.T) {
		eachTykWith(t, func(*httpapi.Config) {}, func(t *testing.T, c *tykClient) {
			r, _ := tykSetupScript(t, c, six)
			want(t, r, http.StatusBadRequest)
			if m := decodeEnvelope(t, r).Message; !strings.Contains(m, "new_password must be at least 8 characters") {
				t.Errorf("message %q does not name the minimum", m)
			}
			r = c.do("POST", "/api/v1/admin/users", c.AdminKey, `{"email":"six@acme.example","password":"`+six+`"}`)
			want(t, r, http.StatusUnprocessableEntity)
			if !strings.Contains(string(r.Body), "at least 8 characters") {
				t.Errorf("Tines create: %s", r.Body)
			}
		})
	})
	t.Run("configured 6", func(t *testing.T) {
		eachTykWith(t, func(c *httpapi.Config) { c.PasswordMinLength = 6 }, func(t *testing.T, c *tykClient) {
			r, email := tykSetupScript(t, c, six)
			wantBody(t, r, http.StatusOK, `{"Status":"OK","Message":"User password updated","Meta":null}`)
			// The login the script prints works.
			signIn, _ := c.signIn(email, six)
			want(t, signIn, http.StatusOK)

			r = c.call("POST", "/admin/users", adminAuth(), `{"email_address":"five@test.com","password":"five5"}`)
			want(t, r, http.StatusBadRequest)
			if m := decodeEnvelope(t, r).Message; !strings.Contains(m, "at least 6 characters") {
				t.Errorf("message %q does not name the configured minimum", m)
			}
			want(t, c.call("POST", "/admin/users", adminAuth(), `{"email_address":"six@test.com","password":"`+six+`"}`), http.StatusOK)

			// The Tines API, the same rule.
			r = c.do("POST", "/api/v1/admin/users", c.AdminKey, `{"email":"five@acme.example","password":"five5"}`)
			want(t, r, http.StatusUnprocessableEntity)
			if !strings.Contains(string(r.Body), "at least 6 characters") {
				t.Errorf("Tines create: %s", r.Body)
			}
			want(t, c.do("POST", "/api/v1/admin/users", c.AdminKey, `{"email":"six@acme.example","password":"`+six+`"}`), http.StatusCreated)
			// Characters, not bytes: "pässw" is 6 bytes but 5 characters.
			want(t, c.do("POST", "/api/v1/admin/users", c.AdminKey, `{"email":"umlaut@acme.example","password":"pässw"}`), http.StatusUnprocessableEntity)

			// Invitation acceptance, the same rule.
			c.createUser(`{"email":"iris@acme.example"}`)
			token := latestInvitationToken(t, c.env, "iris@acme.example")
			r, _ = c.browse(browserReq{Method: "POST", Path: "/users/invitation", JSON: map[string]string{"invitation_token": token, "password": "five5"}})
			want(t, r, http.StatusUnprocessableEntity)
			if !strings.Contains(string(r.Body), "at least 6 characters") {
				t.Errorf("invitation: %s", r.Body)
			}
			page, _ := c.browse(browserReq{Method: "GET", Path: "/users/invitation/accept?invitation_token=" + url.QueryEscape(token)})
			if !strings.Contains(string(page.Body), `minlength="6"`) {
				t.Errorf("the invitation form does not ask for 6 characters: %s", page.Body)
			}
			r, _ = c.browse(browserReq{Method: "POST", Path: "/users/invitation", JSON: map[string]string{"invitation_token": token, "password": six}})
			want(t, r, http.StatusOK)
			signIn, _ = c.signIn("iris@acme.example", six)
			want(t, signIn, http.StatusOK)
		})
	})
}

// TestTykForbidAdminResetAccessToken checks Tyk Dashboard's
// forbid_admin_reset_access_token, on by default: an admin resetting
// another user's access key gets 403 with Tyk's message, while users still
// reset their own; turned off, admins reset anyone's in reach.
func TestTykForbidAdminResetAccessToken(t *testing.T) {
	t.Parallel()
	memberOf := func(t *testing.T, c *tykClient, orgID string) (id, key string) {
		t.Helper()
		r := c.call("POST", "/admin/users", adminAuth(), `{"org_id":"`+orgID+`","email_address":"member@org.example","user_permissions":{"IsAdmin":"deny"}}`)
		want(t, r, http.StatusOK)
		e := decodeEnvelope(t, r)
		return decodeUser(t, e.Meta).ID, e.Message
	}
	t.Run("default on", func(t *testing.T) {
		eachTykWith(t, func(*httpapi.Config) {}, func(t *testing.T, c *tykClient) {
			orgID, adminID, adminKey := c.createOrgAdmin(t, "org")
			memberID, memberKey := memberOf(t, c, orgID)
			wantBody(t, c.call("PUT", "/api/users/"+memberID+"/actions/key/reset", userAuth(adminKey), nil),
				http.StatusForbidden, `{"Status":"Error","Message":"Not allowed to reset access token of other users","Meta":null}`)
			want(t, c.call("GET", "/api/users/"+memberID, userAuth(memberKey), nil), http.StatusOK) // the key still works
			// Each resets their own.
			for _, u := range []struct{ id, key string }{{adminID, adminKey}, {memberID, memberKey}} {
				r := c.call("PUT", "/api/users/"+u.id+"/actions/key/reset/", userAuth(u.key), nil)
				want(t, r, http.StatusOK)
				if fresh := decodeUser(t, decodeEnvelope(t, r).Meta).AccessKey; fresh == "" {
					t.Errorf("no new key: %s", r.Body)
				}
			}
		})
	})
	t.Run("off", func(t *testing.T) {
		eachTykWith(t, func(c *httpapi.Config) { c.TykForbidAdminResetAccessToken = false }, func(t *testing.T, c *tykClient) {
			orgID, _, adminKey := c.createOrgAdmin(t, "org")
			memberID, memberKey := memberOf(t, c, orgID)
			r := c.call("PUT", "/api/users/"+memberID+"/actions/key/reset", userAuth(adminKey), nil)
			want(t, r, http.StatusOK)
			fresh := decodeUser(t, decodeEnvelope(t, r).Meta).AccessKey
			want(t, c.call("GET", "/api/users/"+memberID, userAuth(fresh), nil), http.StatusOK)
			want(t, c.call("GET", "/api/users/"+memberID, userAuth(memberKey), nil), http.StatusUnauthorized)
		})
	})
}
