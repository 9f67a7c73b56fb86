package httpapi_test

import (
	"context"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/steward-dev/steward/httpapi"
	"golang.org/x/crypto/bcrypt"
)

// createTemplate creates a template through the API and returns its path.
func createTemplate(t *testing.T, e *env, key, body string) string {
	t.Helper()
	r := e.do("POST", "/api/v1/admin/templates", key, body)
	want(t, r, http.StatusCreated)
	return fmt.Sprintf("/api/v1/admin/templates/%d", int64(r.JSON(t)["id"].(float64)))
}

// wantProblem fails unless r has the status and names the field.
func wantProblem(t *testing.T, r response, status int, field string) {
	t.Helper()
	want(t, r, status)
	errs, _ := r.JSON(t)["errors"].([]any)
	if len(errs) == 0 {
		t.Fatalf("no errors in problem body: %s", r.Body)
	}
	if got := errs[0].(map[string]any)["field"]; field != "" && got != field {
		t.Errorf("field = %v, want %s; body: %s", got, field, r.Body)
	}
}

func TestTemplatesAdminAPI(t *testing.T) {
	t.Parallel()
	eachEnv(t, func(t *testing.T, e *env) {
		lookup := createTemplate(t, e, e.AdminKey, `{"name":"Lookup user","description":"Finds a user in the directory",
			"vendor":"Acme","product":"Directory","agent_type":"Agents::HTTPRequestAgent",
			"agent_options":{"url":"https://dir.internal/users/{{.email}}","method":"get"}}`)

		t.Run("get shows every field", func(t *testing.T) {
			r := e.do("GET", lookup, e.AdminKey, nil)
			want(t, r, http.StatusOK)
			v := r.JSON(t)
			for k, w := range map[string]any{"name": "Lookup user", "vendor": "Acme", "product": "Directory",
				"agent_type": "Agents::HTTPRequestAgent", "description": "Finds a user in the directory"} {
				if v[k] != w {
					t.Errorf("%s = %v, want %v", k, v[k], w)
				}
			}
			if got := rawOptions(t, r); got != `{"url":"https://dir.internal/users/{{.email}}","method":"get"}` {
				t.Errorf("agent_options = %s", got)
			}
			for _, k := range []string{"id", "created_at", "updated_at", "created_by", "updated_by"} {
				if v[k] == nil {
					t.Errorf("%s missing: %s", k, r.Body)
				}
			}
		})

		t.Run("PATCH and PUT change only the fields sent", func(t *testing.T) {
			r := e.do("PATCH", lookup, e.AdminKey, `{"description":"Finds anyone"}`)
			want(t, r, http.StatusOK)
			if v := r.JSON(t); v["description"] != "Finds anyone" || v["vendor"] != "Acme" || v["agent_type"] != "Agents::HTTPRequestAgent" {
				t.Errorf("after PATCH: %s", r.Body)
			}
			r = e.do("PUT", lookup, e.AdminKey, `{"agent_options":{"url":"https://dir.internal/v2/{{.email}}"}}`)
			want(t, r, http.StatusOK)
			if v := r.JSON(t); v["description"] != "Finds anyone" || rawOptions(t, r) != `{"url":"https://dir.internal/v2/{{.email}}"}` {
				t.Errorf("after PUT: %s", r.Body)
			}
		})

		t.Run("a change of only the type or only the options is checked against the other", func(t *testing.T) {
			// Event Transformation needs a mode, which these HTTP options lack.
			wantProblem(t, e.do("PATCH", lookup, e.AdminKey, `{"agent_type":"Event Transformation"}`), 422, "agent_options.mode")
			// HTTP Request needs a url.
			wantProblem(t, e.do("PATCH", lookup, e.AdminKey, `{"agent_options":{"method":"post"}}`), 422, "agent_options.url")
			r := e.do("GET", lookup, e.AdminKey, nil)
			if v := r.JSON(t); v["agent_type"] != "Agents::HTTPRequestAgent" || !strings.Contains(rawOptions(t, r), "v2") {
				t.Errorf("a refused update changed the template: %s", r.Body)
			}
			// Both together, consistent: accepted.
			r = e.do("PATCH", lookup, e.AdminKey, `{"agent_type":"Trigger","agent_options":{"rules":[{"type":"regex","path":"{{.email}}","value":"@acme"}]}}`)
			want(t, r, http.StatusOK)
			if r.JSON(t)["agent_type"] != "Agents::TriggerAgent" {
				t.Errorf("type after change: %s", r.Body)
			}
			want(t, e.do("PATCH", lookup, e.AdminKey, `{"agent_type":"HTTP Request","agent_options":{"url":"https://dir.internal/{{.email}}"}}`), http.StatusOK)
		})

		t.Run("bad input gets a clear 4xx naming the field", func(t *testing.T) {
			cases := []struct {
				name, method, path, body string
				status                   int
				field                    string
			}{
				{"missing name", "POST", "", `{"agent_type":"Webhook"}`, 422, "name"},
				{"blank name", "POST", "", `{"name":"  ","agent_type":"Webhook"}`, 422, "name"},
				{"missing type", "POST", "", `{"name":"x"}`, 422, "agent_type"},
				{"unknown type", "POST", "", `{"name":"x","agent_type":"Agents::TeleportAgent"}`, 422, "agent_type"},
				{"HTTP Request without a url", "POST", "", `{"name":"x","agent_type":"HTTP Request","agent_options":{}}`, 422, "agent_options.url"},
				{"options not an object", "POST", "", `{"name":"x","agent_type":"Webhook","agent_options":[1]}`, 422, "agent_options"},
				{"broken placeholder", "POST", "", `{"name":"x","agent_type":"Email","agent_options":{"subject":"{{.a"}}`, 422, "agent_options.subject"},
				{"name of the wrong type", "POST", "", `{"name":7,"agent_type":"Webhook"}`, 422, "name"},
				{"long vendor", "POST", "", `{"name":"x","agent_type":"Webhook","vendor":"` + strings.Repeat("v", 256) + `"}`, 422, "vendor"},
				{"duplicate name", "POST", "", `{"name":"Lookup user","agent_type":"Webhook"}`, 409, "name"},
				{"unknown type on update", "PUT", lookup, `{"agent_type":"Fax"}`, 422, "agent_type"},
				{"blank name on update", "PATCH", lookup, `{"name":""}`, 422, "name"},
				{"malformed JSON", "POST", "", `{"name":`, 400, ""},
				{"not an object", "POST", "", `["x"]`, 400, ""},
				{"oversized body", "POST", "", `{"description":"` + strings.Repeat("a", httpapi.MaxBodyBytes) + `"}`, 413, ""},
				{"unknown id", "GET", "/api/v1/admin/templates/999999", ``, 404, ""},
				{"non-numeric id", "PUT", "/api/v1/admin/templates/abc", `{}`, 404, ""},
				{"unknown id on delete", "DELETE", "/api/v1/admin/templates/999999", ``, 404, ""},
				{"bad page", "GET", "/api/v1/admin/templates?per_page=x", ``, 400, "per_page"},
			}
			for _, c := range cases {
				t.Run(c.name, func(t *testing.T) {
					path := c.path
					if path == "" {
						path = "/api/v1/admin/templates"
					}
					var body any
					if c.body != "" {
						body = c.body
					}
					r := e.do(c.method, path, e.AdminKey, body)
					wantProblem(t, r, c.status, c.field)
					if ct := r.Header.Get("Content-Type"); ct != "application/problem+json" {
						t.Errorf("Content-Type = %q", ct)
					}
				})
			}
			other := createTemplate(t, e, e.AdminKey, `{"name":"Other","agent_type":"webhook"}`)
			wantProblem(t, e.do("PATCH", other, e.AdminKey, `{"name":"Lookup user"}`), 409, "name")
			want(t, e.do("DELETE", other, e.AdminKey, nil), http.StatusNoContent)
		})

		t.Run("search matches each field and the options text", func(t *testing.T) {
			createTemplate(t, e, e.AdminKey, `{"name":"Page on-call","description":"Wakes someone up","vendor":"PagerCo",
				"product":"Alerts","agent_type":"HTTP Request","agent_options":{"url":"https://pager.example/v1/incidents","payload":{"severity":"{{.sev}}"}}}`)
			for _, c := range []struct{ search, want string }{
				{"on-call", "Page on-call"}, {"WAKES", "Page on-call"}, {"pagerco", "Page on-call"}, {"alerts", "Page on-call"},
				{"{{.sev}}", "Page on-call"}, {"incidents", "Page on-call"},
				{"lookup", "Lookup user"}, {"anyone", "Lookup user"}, {"acme", "Lookup user"}, {"directory", "Lookup user"},
				{"dir.internal", "Lookup user"},
			} {
				for _, base := range []string{"/api/v1/admin/templates", "/api/v1/templates"} {
					r := e.do("GET", base+"?search="+url.QueryEscape(c.search), e.AdminKey, nil)
					want(t, r, http.StatusOK)
					envelope := strings.TrimPrefix(base, "/api/v1/")
					list, _ := r.JSON(t)[envelope].([]any)
					if len(list) != 1 || list[0].(map[string]any)["name"] != c.want {
						t.Errorf("%s search %q: %s", base, c.search, r.Body)
					}
				}
			}
		})

		t.Run("list envelope and pagination", func(t *testing.T) {
			r := e.do("GET", "/api/v1/admin/templates?per_page=1&search=e", e.AdminKey, nil)
			want(t, r, http.StatusOK)
			body := r.JSON(t)
			meta := body["meta"].(map[string]any)
			if len(body["admin/templates"].([]any)) != 1 || meta["count"] != 2.0 || meta["next_page_number"] != 2.0 {
				t.Errorf("list: %s", r.Body)
			}
			if next := meta["next_page"]; next != e.Server.URL+"/api/v1/admin/templates?page=2&per_page=1&search=e" {
				t.Errorf("next_page = %v", next)
			}
		})

		t.Run("delete", func(t *testing.T) {
			path := createTemplate(t, e, e.AdminKey, `{"name":"Short-lived","agent_type":"Webhook"}`)
			r := e.do("DELETE", path, e.AdminKey, nil)
			want(t, r, http.StatusNoContent)
			if len(r.Body) != 0 {
				t.Errorf("204 with a body: %s", r.Body)
			}
			want(t, e.do("GET", path, e.AdminKey, nil), http.StatusNotFound)
			want(t, e.do("DELETE", path, e.AdminKey, nil), http.StatusNotFound)
		})
	})
}

func TestTemplatesAccess(t *testing.T) {
	t.Parallel()
	eachEnv(t, func(t *testing.T, e *env) {
		path := createTemplate(t, e, e.AdminKey, `{"name":"Lookup user","agent_type":"HTTP Request","agent_options":{"url":"https://dir.internal/{{.email}}"}}`)
		id := strings.TrimPrefix(path, "/api/v1/admin/templates/")
		r := e.do("POST", "/api/v1/admin/users", e.AdminKey, `{"email":"member@acme.example","password":"member password"}`)
		want(t, r, http.StatusCreated)
		memberKey := newKeyFor(t, e, e.Admin.TenantID, int64(r.JSON(t)["id"].(float64)))

		t.Run("members read templates but do not change them", func(t *testing.T) {
			r := e.do("GET", "/api/v1/templates", memberKey, nil)
			want(t, r, http.StatusOK)
			body := r.JSON(t)
			if list, _ := body["templates"].([]any); len(list) != 1 || body["meta"] == nil {
				t.Errorf("read-only list: %s", r.Body)
			}
			r = e.do("GET", "/api/v1/templates/"+id, memberKey, nil)
			want(t, r, http.StatusOK)
			if r.JSON(t)["name"] != "Lookup user" {
				t.Errorf("read-only get: %s", r.Body)
			}
			want(t, e.do("GET", "/api/v1/templates/999999", memberKey, nil), http.StatusNotFound)
			for _, c := range []struct{ method, path, body string }{
				{"GET", "/api/v1/admin/templates", ""},
				{"GET", path, ""},
				{"POST", "/api/v1/admin/templates", `{"name":"Mine","agent_type":"Webhook"}`},
				{"PUT", path, `{"name":"Mine"}`},
				{"PATCH", path, `{"name":"Mine"}`},
				{"DELETE", path, ""},
				{"GET", "/api/v1/admin/templates/export", ""},
				{"POST", "/api/v1/admin/templates/import", `{"templates":[]}`},
			} {
				var body any
				if c.body != "" {
					body = c.body
				}
				want(t, e.do(c.method, c.path, memberKey, body), http.StatusForbidden)
				want(t, e.do(c.method, c.path, "", body), http.StatusUnauthorized)
			}
			want(t, e.do("POST", "/api/v1/templates", memberKey, `{"name":"Mine","agent_type":"Webhook"}`), http.StatusMethodNotAllowed)
			if r := e.do("GET", path, e.AdminKey, nil); r.JSON(t)["name"] != "Lookup user" {
				t.Errorf("a member changed the template: %s", r.Body)
			}
		})

		t.Run("another tenant's template is 404", func(t *testing.T) {
			other, err := httpapi.Bootstrap(context.Background(), services(e.DB), "Other", "boss@other.example", "", bcrypt.MinCost)
			if err != nil {
				t.Fatal(err)
			}
			for _, m := range []string{"GET", "PUT", "PATCH", "DELETE"} {
				wantProblem(t, e.do(m, path, other.APIKey, `{"name":"pwned"}`), http.StatusNotFound, "")
			}
			want(t, e.do("GET", "/api/v1/templates/"+id, other.APIKey, nil), http.StatusNotFound)
			r := e.do("GET", "/api/v1/admin/templates", other.APIKey, nil)
			want(t, r, http.StatusOK)
			if n := r.JSON(t)["meta"].(map[string]any)["count"]; n != 0.0 {
				t.Errorf("other tenant lists %v templates", n)
			}
			if r := e.do("GET", path, e.AdminKey, nil); r.Status != 200 || r.JSON(t)["name"] != "Lookup user" {
				t.Errorf("template after another tenant's attempts: %d %s", r.Status, r.Body)
			}
		})
	})
}
