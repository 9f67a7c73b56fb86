package httpapi_test

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"sync"
	"testing"

	"github.com/steward-dev/steward/httpapi"
	"golang.org/x/crypto/bcrypt"
)

// TestAgentFromTemplateRuns creates an agent from a private template, with
// the request overriding one option and removing another, runs it, and
// checks the request the template's options describe is the one made.
func TestAgentFromTemplateRuns(t *testing.T) {
	eachEnv(t, func(t *testing.T, e *env) {
		var mu sync.Mutex
		var seen []string
		upstream := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			body, _ := io.ReadAll(r.Body)
			mu.Lock()
			seen = append(seen, fmt.Sprintf("%s %s %s %s", r.Method, r.URL.Path, r.Header.Get("X-Team"), body))
			mu.Unlock()
			fmt.Fprint(w, `{"found": true}`)
		}))
		defer upstream.Close()
		startWorkers(t, e, 1)

		tr := e.do("POST", "/api/v1/admin/templates", e.AdminKey, map[string]any{
			"name": "Lookup user", "agent_type": "HTTP Request",
			"agent_options": map[string]any{"url": upstream.URL + "/users", "method": "post",
				"payload": map[string]any{"q": "template"}, "headers": map[string]any{"X-Team": "blue"}}})
		want(t, tr, http.StatusCreated)
		tmplID := tr.JSON(t)["id"]

		agent := createAgent(t, e, e.AdminKey, map[string]any{"template_id": tmplID,
			"options": map[string]any{"payload": map[string]any{"q": "request"}, "headers": nil}})
		if agent["type"] != "Agents::HTTPRequestAgent" || agent["name"] != "Lookup user" || agent["template_id"] != tmplID {
			t.Errorf("agent from template: %v", agent)
		}
		opts, _ := json.Marshal(agent["options"])
		if want := `{"method":"post","payload":{"q":"request"},"url":"` + upstream.URL + `/users"}`; string(opts) != want {
			t.Errorf("options %s, want %s", opts, want)
		}
		path := fmt.Sprintf("/api/v1/agents/%v", agent["id"])
		if got := e.do("GET", path, e.AdminKey, nil).JSON(t); got["template_id"] != tmplID {
			t.Errorf("stored template_id %v, want %v", got["template_id"], tmplID)
		}

		want(t, e.do("POST", path+"/run", e.AdminKey, nil), http.StatusOK)
		var events []any
		waitFor(t, "the agent's event", func() bool {
			r := e.do("GET", path+"/events", e.AdminKey, nil)
			events, _ = r.JSON(t)["events"].([]any)
			return len(events) == 1
		})
		payload := events[0].(map[string]any)["payload"].(map[string]any)
		if payload["status"] != 200.0 {
			t.Errorf("event %v, want status 200", payload)
		}
		mu.Lock()
		if len(seen) != 1 || seen[0] != `POST /users  {"q":"request"}` {
			t.Errorf("upstream saw %q, want one POST /users without X-Team and the request's payload", seen)
		}
		mu.Unlock()

		// A name and a type of the request win over the template's.
		own := createAgent(t, e, e.AdminKey, map[string]any{"template_id": tmplID, "name": "Mine"})
		if own["name"] != "Mine" || own["type"] != "Agents::HTTPRequestAgent" {
			t.Errorf("named agent from template: %v", own)
		}
		// Deleting the template leaves the agent, no longer linked.
		want(t, e.do("DELETE", fmt.Sprintf("/api/v1/admin/templates/%v", tmplID), e.AdminKey, nil), http.StatusNoContent)
		if got := e.do("GET", path, e.AdminKey, nil).JSON(t); got["template_id"] != nil || got["name"] != "Lookup user" {
			t.Errorf("agent after its template was deleted: %v", got)
		}
	})
}

func TestAgentFromTemplateErrors(t *testing.T) {
	eachEnv(t, func(t *testing.T, e *env) {
		tr := e.do("POST", "/api/v1/admin/templates", e.AdminKey, map[string]any{
			"name": "Notify", "agent_type": "Agents::HTTPRequestAgent",
			"agent_options": map[string]any{"url": "https://example.com/notify"}})
		want(t, tr, http.StatusCreated)
		tmplID := tr.JSON(t)["id"]

		// Another tenant's template is unknown here.
		res, err := httpapi.Bootstrap(context.Background(), services(e.DB), "Other", "boss@other.example", "", bcrypt.MinCost)
		if err != nil {
			t.Fatal(err)
		}
		other := res.APIKey
		for _, c := range []struct {
			name   string
			key    string
			body   any
			status int
			field  string
		}{
			{"unknown template", e.AdminKey, map[string]any{"template_id": 999999}, 422, "template_id"},
			{"other tenant's template", other, map[string]any{"template_id": tmplID}, 422, "template_id"},
			{"template_id of wrong type", e.AdminKey, `{"template_id": "one"}`, 422, "template_id"},
			{"options removing the url", e.AdminKey, map[string]any{"template_id": tmplID, "options": map[string]any{"url": nil}}, 422, "options.url"},
			{"options not an object", e.AdminKey, map[string]any{"template_id": tmplID, "options": []int{1}}, 422, "options"},
			{"type the options do not fit", e.AdminKey, map[string]any{"template_id": tmplID, "type": "trigger"}, 422, "options.rules"},
		} {
			t.Run(c.name, func(t *testing.T) {
				r := e.do("POST", "/api/v1/agents", c.key, c.body)
				want(t, r, c.status)
				errs, _ := r.JSON(t)["errors"].([]any)
				if len(errs) == 0 || errs[0].(map[string]any)["field"] != c.field {
					t.Errorf("errors %s, want field %s", r.Body, c.field)
				}
			})
		}

		agent := createAgent(t, e, e.AdminKey, map[string]any{"template_id": tmplID})
		path := fmt.Sprintf("/api/v1/agents/%v", agent["id"])
		want(t, e.do("PATCH", path, e.AdminKey, map[string]any{"template_id": tmplID, "name": "Renamed"}), http.StatusOK)
		want(t, e.do("PATCH", path, e.AdminKey, map[string]any{"template_id": 999999}), http.StatusUnprocessableEntity)
		plain := createAgent(t, e, e.AdminKey, map[string]any{"type": "webhook", "name": "plain"})
		if _, ok := plain["template_id"]; !ok || plain["template_id"] != nil {
			t.Errorf("agent without template: template_id %v, want null", plain["template_id"])
		}
	})
}
