package httpapi_test

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"testing"

	"github.com/steward-dev/steward/password"
)

const notAuthorised = `{"Status":"Error","Message":"Not authorised","Meta":null}`

func TestTykAdminAuth(t *testing.T) {
	t.Parallel()
	eachTyk(t, func(t *testing.T, c *tykClient) {
		for _, path := range []string{"/admin/hello", "/admin/hello/"} {
			wantBody(t, c.call("GET", path, adminAuth(), nil), http.StatusOK, `{"Status":"OK","Message":"Hello","Meta":null}`)
		}
		for name, h := range map[string]map[string]string{
			"missing":              nil,
			"wrong":                {"admin-auth": "1234"},
			"longer":               {"admin-auth": tykSecret + "5"},
			"empty":                {"admin-auth": ""},
			"a user's key instead": userAuth(c.AdminKey),
		} {
			t.Run(name, func(t *testing.T) {
				wantBody(t, c.call("GET", "/admin/organisations", h, nil), http.StatusUnauthorized, notAuthorised)
				wantBody(t, c.call("POST", "/admin/users", h, `{"email_address":"x@example.com"}`), http.StatusUnauthorized, notAuthorised)
			})
		}
		want(t, c.call("GET", "/admin/organisations", map[string]string{"Admin-Auth": tykSecret}, nil), http.StatusOK)
		wantBody(t, c.call("GET", "/api/users", nil, nil), http.StatusUnauthorized, notAuthorised)
		wantBody(t, c.call("GET", "/api/users", userAuth("stw_not-a-key"), nil), http.StatusUnauthorized, notAuthorised)
	})
}

func TestTykAdminDisabledWithoutSecret(t *testing.T) {
	t.Parallel()
	eachTykDisabled(t, func(t *testing.T, c *tykClient) {
		for _, h := range []map[string]string{nil, {"admin-auth": ""}, {"admin-auth": tykSecret}} {
			wantBody(t, c.call("GET", "/admin/hello/", h, nil), http.StatusUnauthorized, notAuthorised)
			wantBody(t, c.call("POST", "/admin/organisations", h, `{"owner_name":"x"}`), http.StatusUnauthorized, notAuthorised)
		}
	})
}

// TestTykKubernetesBootstrap replays the Helm chart's bootstrap job: look
// for existing organisations, create one, create its admin, set the admin's
// password with the admin's own new key, then use the key.
func TestTykKubernetesBootstrap(t *testing.T) {
	t.Parallel()
	eachTyk(t, func(t *testing.T, c *tykClient) {
		json := map[string]string{"admin-auth": tykSecret, "Content-Type": "application/json"}
		r := c.call("GET", "/admin/organisations", json, nil)
		want(t, r, http.StatusOK)
		var orgs struct {
			Organisations []map[string]any `json:"organisations"`
			Pages         int              `json:"pages"`
		}
		decodeInto(t, r, &orgs)
		if len(orgs.Organisations) != 1 || orgs.Organisations[0]["owner_name"] != "Acme" || orgs.Pages != 1 {
			t.Fatalf("existing organisations: %s", r.Body)
		}

		r = c.call("POST", "/admin/organisations", json, map[string]any{"owner_name": "Tyk Org", "cname_enabled": true, "cname": "tyk-portal.local"})
		orgID := wantMatch(t, r, http.StatusOK, `\{"Status":"OK","Message":"Org created","Meta":"(`+hexID+`)"\}`)[1]

		r = c.call("POST", "/admin/users", json, map[string]any{"org_id": orgID, "first_name": "Admin", "last_name": "User",
			"email_address": "Default@Example.com", "active": true, "user_permissions": map[string]string{"IsAdmin": "admin"}})
		m := wantMatch(t, r, http.StatusOK, `\{"Status":"OK","Message":"([^"]+)","Meta":\{"id":"(`+hexID+`)",.*\}`)
		key, userID := m[1], m[2]
		meta := decodeUser(t, decodeEnvelope(t, r).Meta)
		if meta.AccessKey != key || meta.OrgID != orgID || meta.EmailAddress != "default@example.com" || !meta.Active ||
			meta.UserPermissions["IsAdmin"] != "admin" {
			t.Errorf("created admin: %s", r.Body)
		}

		reset := map[string]string{"authorization": key, "Content-Type": "application/json"}
		r = c.call("POST", "/api/users/"+userID+"/actions/reset", reset,
			map[string]any{"new_password": "topsecretpassword", "user_permissions": map[string]string{"IsAdmin": "admin"}})
		wantBody(t, r, http.StatusOK, `{"Status":"OK","Message":"User password updated","Meta":null}`)
		c.checkPassword(t, userID, "topsecretpassword")

		l := decodeUserList(t, c.call("GET", "/api/users", userAuth(key), nil))
		if len(l.Users) != 1 || l.Users[0].ID != userID || l.Users[0].AccessKey != "" || l.Pages != 1 {
			t.Errorf("users seen with the new key: %+v", l)
		}
		// The access key is a Steward API key: it works on /api/v1 too,
		// inside the new organisation only.
		r = c.do("GET", "/api/v1/admin/users", key, nil)
		want(t, r, http.StatusOK)
		if n := r.JSON(t)["meta"].(map[string]any)["count"]; n != 1.0 {
			t.Errorf("/api/v1 sees %v users in the new organisation, want 1", n)
		}
	})
}

// TestTykDashboardSetup replays the Dashboard's end-to-end setup: hello,
// organisation, user, password through PUT — with trailing slashes and
// curl's form Content-Type.
func TestTykDashboardSetup(t *testing.T) {
	t.Parallel()
	eachTyk(t, func(t *testing.T, c *tykClient) {
		form := map[string]string{"admin-auth": tykSecret, "Content-Type": "application/x-www-form-urlencoded"}
		want(t, c.call("GET", "/admin/hello/", adminAuth(), nil), http.StatusOK)
		r := c.call("POST", "/admin/organisations/", form, `{"owner_name":"e2e org","owner_slug":"e2e"}`)
		orgID := wantMatch(t, r, http.StatusOK, `\{"Status":"OK","Message":"Org created","Meta":"(`+hexID+`)"\}`)[1]
		r = c.call("POST", "/admin/users/", form, `{"org_id":"`+orgID+`","first_name":"e2e","last_name":"user","email_address":"e2e@tyk.io","active":true}`)
		want(t, r, http.StatusOK)
		env := decodeEnvelope(t, r)
		u := decodeUser(t, env.Meta)
		key := env.Message
		if key == "" || key != u.AccessKey || u.UserPermissions["IsAdmin"] != "admin" {
			t.Errorf("created user (empty user_permissions means admin): %s", r.Body)
		}
		r = c.call("PUT", "/admin/users/"+u.ID, form, `{"password":"e2e-password-1"}`)
		want(t, r, http.StatusOK)
		env = decodeEnvelope(t, r)
		if env.Status != "OK" || env.Message != "User updated" || decodeUser(t, env.Meta).ID != u.ID || decodeUser(t, env.Meta).AccessKey != "" {
			t.Errorf("PUT password: %s", r.Body)
		}
		if !strings.HasPrefix(string(r.Body), `{"Status":"OK","Message":"User updated","Meta":{"id":"`+u.ID+`"`) {
			t.Errorf("envelope key order: %s", r.Body)
		}
		c.checkPassword(t, u.ID, "e2e-password-1")

		t.Run("once a password is set, resetting it needs the current one", func(t *testing.T) {
			path := "/api/users/" + u.ID + "/actions/reset"
			for _, body := range []string{`{"new_password":"another-password"}`, `{"current_password":"wrong-password","new_password":"another-password"}`} {
				r := c.call("POST", path, userAuth(key), body)
				want(t, r, http.StatusForbidden)
				if e := decodeEnvelope(t, r); e.Status != "Error" || !strings.HasPrefix(e.Message, "access denied: ") {
					t.Errorf("wrong current_password: %s", r.Body)
				}
			}
			c.checkPassword(t, u.ID, "e2e-password-1")
			wantBody(t, c.call("POST", path, userAuth(key), `{"current_password":"e2e-password-1","new_password":"another-password"}`),
				http.StatusOK, `{"Status":"OK","Message":"User password updated","Meta":null}`)
			c.checkPassword(t, u.ID, "another-password")
		})
	})
}

// TestTykOrganisationCRUD replays tyk-demo's organisation checks, with a
// GET-edit-PUT round trip of fields Steward does not know.
func TestTykOrganisationCRUD(t *testing.T) {
	t.Parallel()
	eachTyk(t, func(t *testing.T, c *tykClient) {
		body := `{"owner_name":"Demo Org","owner_slug":"demo","cname_enabled":true,"cname":"demo.local",` +
			`"developer_quota":123,"hybrid_enabled":false,"event_options":{"key_event":{"webhook":"https://x.example/h","email":"","redis":true}},` +
			`"ui":{"languages":{},"hide_help":true},"x_custom":{"n":1.50,"list":[1,"two",null]}}`
		r := c.call("POST", "/admin/organisations", adminAuth(), body)
		orgID := wantMatch(t, r, http.StatusOK, `\{"Status":"OK","Message":"Org created","Meta":"(`+hexID+`)"\}`)[1]
		path := "/admin/organisations/" + orgID

		r = c.call("GET", path, adminAuth(), nil)
		want(t, r, http.StatusOK)
		if !strings.HasPrefix(string(r.Body), `{"id":"`+orgID+`","owner_name":"Demo Org",`) {
			t.Errorf("org body starts %s", r.Body)
		}
		org := r.JSON(t)
		if org["developer_quota"] != 123.0 || org["cname"] != "demo.local" || org["sso_enabled"] != false ||
			!strings.Contains(string(r.Body), `"x_custom":{"n":1.50,"list":[1,"two",null]}`) {
			t.Errorf("stored org: %s", r.Body)
		}

		t.Run("GET-edit-PUT loses nothing", func(t *testing.T) {
			org["owner_name"] = "Demo Org Renamed"
			org["cname"] = "renamed.local"
			wantBody(t, c.call("PUT", path+"/", adminAuth(), org), http.StatusOK, `{"Status":"OK","Message":"Org updated","Meta":null}`)
			again := c.call("GET", path, adminAuth(), nil).JSON(t)
			a, _ := json.Marshal(again)
			b, _ := json.Marshal(org)
			if string(a) != string(b) {
				t.Errorf("after round trip:\n got %s\nwant %s", a, b)
			}
		})

		t.Run("PUT is a full replace", func(t *testing.T) {
			want(t, c.call("PUT", path, adminAuth(), `{"owner_name":"Bare"}`), http.StatusOK)
			got := c.call("GET", path, adminAuth(), nil).JSON(t)
			if got["owner_name"] != "Bare" || got["cname"] != "" || got["x_custom"] != nil || got["developer_quota"] != 0.0 {
				t.Errorf("after replace: %v", got)
			}
		})

		t.Run("bad input", func(t *testing.T) {
			wantBody(t, c.call("POST", "/admin/organisations", adminAuth(), `{"owner_name":`), http.StatusBadRequest,
				`{"Status":"Error","Message":"Request body malformed","Meta":null}`)
			wantBody(t, c.call("PUT", path, adminAuth(), `not json`), http.StatusBadRequest,
				`{"Status":"Error","Message":"Request body malformed","Meta":null}`)
			r := c.call("POST", "/admin/organisations", adminAuth(), `{"cname":"x"}`)
			want(t, r, http.StatusBadRequest)
			if e := decodeEnvelope(t, r); e.Status != "Error" || !strings.Contains(e.Message, "owner_name") {
				t.Errorf("missing owner_name: %s", r.Body)
			}
			want(t, c.call("POST", "/admin/organisations", adminAuth(), `{"owner_name":42}`), http.StatusBadRequest)
			huge := `{"owner_name":"big","blob":"` + strings.Repeat("x", 1<<20) + `"}`
			r = c.call("POST", "/admin/organisations", adminAuth(), huge)
			want(t, r, http.StatusRequestEntityTooLarge)
			if e := decodeEnvelope(t, r); e.Status != "Error" {
				t.Errorf("oversized body: %s", r.Body)
			}
			want(t, c.call("GET", "/admin/organisations?p=two", adminAuth(), nil), http.StatusBadRequest)
			notFound := `{"Status":"Error","Message":"Could not retrieve org detail","Meta":null}`
			for _, id := range []string{"000000000000000000000999", "1", "zz0000000000000000000001", strings.ToUpper(orgID) + "0"} {
				wantBody(t, c.call("GET", "/admin/organisations/"+id, adminAuth(), nil), http.StatusNotFound, notFound)
			}
		})

		t.Run("pages", func(t *testing.T) {
			for i := 0; i < 10; i++ {
				want(t, c.call("POST", "/admin/organisations", adminAuth(), fmt.Sprintf(`{"owner_name":"org %d"}`, i)), http.StatusOK)
			}
			count := func(q string) (int, int) {
				var l struct {
					Organisations []map[string]any `json:"organisations"`
					Pages         int              `json:"pages"`
				}
				decodeInto(t, c.call("GET", "/admin/organisations"+q, adminAuth(), nil), &l)
				return len(l.Organisations), l.Pages
			}
			for q, wantN := range map[string]int{"": 12, "?p=-1": 12, "?p=0": 12, "?p=1": 10, "?p=2": 2, "?p=3": 0} {
				if n, pages := count(q); n != wantN || pages != 2 {
					t.Errorf("%q: %d organisations, %d pages; want %d, 2", q, n, pages, wantN)
				}
			}
		})

		t.Run("delete, then 404", func(t *testing.T) {
			wantBody(t, c.call("DELETE", path, adminAuth(), nil), http.StatusOK, `{"Status":"OK","Message":"Org deleted","Meta":null}`)
			wantBody(t, c.call("GET", path, adminAuth(), nil), http.StatusNotFound, `{"Status":"Error","Message":"Could not retrieve org detail","Meta":null}`)
			want(t, c.call("DELETE", path, adminAuth(), nil), http.StatusNotFound)
		})
	})
}

// decodeInto decodes a 200 response body into v.
func decodeInto(t *testing.T, r response, v any) {
	t.Helper()
	want(t, r, http.StatusOK)
	if err := json.Unmarshal(r.Body, v); err != nil {
		t.Fatalf("%v: %s", err, r.Body)
	}
}

// checkPassword fails unless the user's stored password is plaintext.
func (c *tykClient) checkPassword(t *testing.T, tykUserID, plaintext string) {
	t.Helper()
	id, err := strconv.ParseInt(tykUserID, 16, 64)
	if err != nil {
		t.Fatal(err)
	}
	var hash string
	err = c.DB.Read.QueryRowContext(context.Background(), c.DB.Q(`SELECT password_hash FROM users WHERE id = ?`), id).Scan(&hash)
	if err != nil {
		t.Fatal(err)
	}
	if !password.Check(hash, plaintext) {
		t.Errorf("user %s: password %q does not match the stored hash", tykUserID, plaintext)
	}
}
