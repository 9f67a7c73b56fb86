package httpapi_test

import (
	"context"
	"fmt"
	"net/http"
	"strings"
	"testing"
)

// tykDemoOrganisation is the organisation document Tyk's demo bootstrap
// posts to /admin/organisations/import (curl -d, so a form content type).
const tykDemoOrganisation = `{
  "id": "5e9d9544a1dcd60001d0ed20",
  "owner_name": "Tyk Demo",
  "owner_slug": "tyk-demo",
  "cname_enabled": true,
  "cname": "tyk-portal.localhost",
  "apis": [],
  "developer_quota": 500,
  "developer_count": 0,
  "event_options": {},
  "hybrid_enabled": false,
  "ui": {"languages": {}, "hide_help": true},
  "org_options_meta": {}
}`

// TestTykOrgImport replays Tyk's demo bootstrap: the organisation is
// imported under its own id, and every later call uses that id.
func TestTykOrgImport(t *testing.T) {
	t.Parallel()
	eachTyk(t, func(t *testing.T, c *tykClient) {
		const id = "5e9d9544a1dcd60001d0ed20"
		curl := map[string]string{"admin-auth": tykSecret, "Content-Type": "application/x-www-form-urlencoded"}
		wantBody(t, c.call("POST", "/admin/organisations/import", curl, tykDemoOrganisation), http.StatusOK,
			`{"Status":"OK","Message":"Org imported","Meta":"`+id+`"}`)

		var org map[string]any
		decodeInto(t, c.call("GET", "/admin/organisations/"+id, adminAuth(), nil), &org)
		if org["id"] != id || org["owner_name"] != "Tyk Demo" || org["cname"] != "tyk-portal.localhost" || org["developer_quota"] != 500.0 {
			t.Errorf("imported organisation: %v", org)
		}
		var orgs struct {
			Organisations []map[string]any `json:"organisations"`
		}
		decodeInto(t, c.call("GET", "/admin/organisations?p=-1", adminAuth(), nil), &orgs)
		found := false
		for _, o := range orgs.Organisations {
			found = found || o["id"] == id
		}
		if !found {
			t.Errorf("list lacks the imported organisation: %v", orgs)
		}

		// Users are created in it by that id and show it as their org_id.
		r := c.call("POST", "/admin/users", curl, `{"org_id":"`+id+`","first_name":"Demo","last_name":"Admin","email_address":"admin@tyk-demo.example",`+
			`"active":true,"user_permissions":{"IsAdmin":"admin"}}`)
		want(t, r, http.StatusOK)
		e := decodeEnvelope(t, r)
		key, user := e.Message, decodeUser(t, e.Meta)
		if user.OrgID != id {
			t.Errorf("user org_id %q, want %q", user.OrgID, id)
		}
		r = c.call("POST", "/api/users", userAuth(key), `{"org_id":"`+id+`","email_address":"dev@tyk-demo.example","password":"demo-password"}`)
		want(t, r, http.StatusOK)
		made := strings.Trim(string(decodeEnvelope(t, r).Meta), `"`)
		if got := decodeUser(t, c.call("GET", "/api/users/"+made, userAuth(key), nil).Body); got.OrgID != id {
			t.Errorf("second user: %+v", got)
		}
		want(t, c.call("PUT", "/api/users/"+made, userAuth(key), `{"org_id":"`+id+`","first_name":"Dev"}`), http.StatusOK)
		// Like every new organisation, it starts with a default story.
		stories := c.do("GET", "/api/v1/stories", key, nil)
		want(t, stories, http.StatusOK)
		if list := stories.JSON(t)["stories"].([]any); len(list) != 1 || list[0].(map[string]any)["name"] != "Default story" {
			t.Errorf("stories: %s", stories.Body)
		}

		// The same id again, in any case, is Tyk's 403.
		saveFailed := `{"Status":"Error","Message":"Failed to save new Org object to DB","Meta":null}`
		wantBody(t, c.call("POST", "/admin/organisations/import", curl, tykDemoOrganisation), http.StatusForbidden, saveFailed)
		wantBody(t, c.call("POST", "/admin/organisations/import/", adminAuth(), `{"id":"5E9D9544A1DCD60001D0ED20","owner_name":"Again"}`),
			http.StatusForbidden, saveFailed)
		// So is the id of an organisation Steward created.
		wantBody(t, c.call("POST", "/admin/organisations/import", adminAuth(), `{"id":"000000000000000000000001","owner_name":"Acme again"}`),
			http.StatusForbidden, saveFailed)

		// Malformed ids are 400s naming id.
		for _, body := range []string{
			`{"owner_name":"No id"}`,
			`{"id":"","owner_name":"Empty"}`,
			`{"id":"5e9d9544a1dcd60001d0ed2","owner_name":"Short"}`,
			`{"id":"5e9d9544a1dcd60001d0ed200","owner_name":"Long"}`,
			`{"id":"5e9d9544a1dcd60001d0edzz","owner_name":"Not hex"}`,
			`{"id":12345,"owner_name":"A number"}`,
			`{"id":"000000000000000000000999","owner_name":"Steward's own id space"}`,
			`{"id":"000000000000000000000000","owner_name":"Zero"}`,
		} {
			r := c.call("POST", "/admin/organisations/import", adminAuth(), body)
			want(t, r, http.StatusBadRequest)
			if m := decodeEnvelope(t, r).Message; !strings.Contains(m, "id") {
				t.Errorf("%s: %s", body, r.Body)
			}
		}
		want(t, c.call("POST", "/admin/organisations/import", adminAuth(), `{"id":"5e9d9544a1dcd60001d0ed21"}`), http.StatusBadRequest) // no owner_name
		want(t, c.call("POST", "/admin/organisations/import", nil, tykDemoOrganisation), http.StatusUnauthorized)

		// Ordinary creates never hand the id out; they keep Steward's ids.
		for range 3 {
			r := c.call("POST", "/admin/organisations", adminAuth(), `{"owner_name":"Ordinary"}`)
			newID := wantMatch(t, r, http.StatusOK, `\{"Status":"OK","Message":"Org created","Meta":"(`+hexID+`)"\}`)[1]
			if newID == id || !strings.HasPrefix(newID, "00000000") {
				t.Errorf("ordinary create got %s", newID)
			}
		}

		// The imported organisation answers only to its own id, not to the
		// one Steward would derive from its row.
		imported, err := c.DB.FindOrganisationByTykID(context.Background(), id)
		if err != nil {
			t.Fatal(err)
		}
		want(t, c.call("GET", fmt.Sprintf("/admin/organisations/%024x", imported.ID), adminAuth(), nil), http.StatusNotFound)

		// Replace and delete by the imported id.
		wantBody(t, c.call("PUT", "/admin/organisations/"+id, adminAuth(), `{"id":"`+id+`","owner_name":"Tyk Demo 2"}`), http.StatusOK,
			`{"Status":"OK","Message":"Org updated","Meta":null}`)
		decodeInto(t, c.call("GET", "/admin/organisations/"+id, adminAuth(), nil), &org)
		if org["owner_name"] != "Tyk Demo 2" || org["id"] != id {
			t.Errorf("after PUT: %v", org)
		}
		wantBody(t, c.call("DELETE", "/admin/organisations/"+id, adminAuth(), nil), http.StatusOK, `{"Status":"OK","Message":"Org deleted","Meta":null}`)
		want(t, c.call("GET", "/admin/organisations/"+id, adminAuth(), nil), http.StatusNotFound)
		// Once deleted, it may be imported again.
		wantBody(t, c.call("POST", "/admin/organisations/import", curl, tykDemoOrganisation), http.StatusOK,
			`{"Status":"OK","Message":"Org imported","Meta":"`+id+`"}`)
	})
}
