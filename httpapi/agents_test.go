package httpapi_test

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"testing"

	"github.com/steward-dev/steward/httpapi"
	"golang.org/x/crypto/bcrypt"
)

func TestStoriesAgentsEventsAreTenantScoped(t *testing.T) {
	eachEnv(t, func(t *testing.T, e *env) {
		ctx := context.Background()
		other, err := httpapi.Bootstrap(ctx, services(e.DB), "Other", "boss@other.example", "", bcrypt.MinCost)
		if err != nil {
			t.Fatal(err)
		}
		story := e.do("POST", "/api/v1/stories", e.AdminKey, `{"name":"Intake","description":"d"}`)
		want(t, story, http.StatusCreated)
		sid := fmt.Sprint(story.JSON(t)["id"])
		a := createAgent(t, e, e.AdminKey, map[string]any{"type": "Webhook", "name": "mine", "story_id": story.JSON(t)["id"]})
		aid := fmt.Sprint(a["id"])
		act, err := e.DB.FindActionByID(ctx, e.Admin.TenantID, int64(a["id"].(float64)))
		if err != nil {
			t.Fatal(err)
		}
		evs, err := e.DB.EmitEvents(ctx, act, []json.RawMessage{json.RawMessage(`{"secret":"mine"}`)})
		if err != nil {
			t.Fatal(err)
		}
		eid := fmt.Sprint(evs[0].ID)
		for _, c := range []struct{ method, path string }{
			{"GET", "/api/v1/stories/" + sid},
			{"PUT", "/api/v1/stories/" + sid},
			{"DELETE", "/api/v1/stories/" + sid},
			{"GET", "/api/v1/stories/" + sid + "/export"},
			{"GET", "/api/v1/agents/" + aid},
			{"PUT", "/api/v1/agents/" + aid},
			{"DELETE", "/api/v1/agents/" + aid},
			{"POST", "/api/v1/agents/" + aid + "/run"},
			{"GET", "/api/v1/agents/" + aid + "/events"},
			{"DELETE", "/api/v1/agents/" + aid + "/remove_events"},
			{"GET", "/api/v1/events/" + eid},
			{"GET", "/api/v1/events?agent_id=" + aid},
		} {
			var body any
			if c.method == "PUT" {
				body = `{"name":"stolen"}`
			}
			want(t, e.do(c.method, c.path, other.APIKey, body), http.StatusNotFound)
		}
		if list := e.do("GET", "/api/v1/events", other.APIKey, nil).JSON(t); list["meta"].(map[string]any)["count"] != 0.0 {
			t.Errorf("another tenant sees events: %v", list)
		}
		// Links and stories must be the caller's own.
		r := e.do("POST", "/api/v1/agents", other.APIKey, map[string]any{"type": "Webhook", "name": "x", "receiver_ids": []any{a["id"]}})
		want(t, r, http.StatusUnprocessableEntity)
		r = e.do("POST", "/api/v1/agents", other.APIKey, map[string]any{"type": "Webhook", "name": "x", "story_id": story.JSON(t)["id"]})
		want(t, r, http.StatusUnprocessableEntity)
		// Nothing changed for the owner.
		got := e.do("GET", "/api/v1/agents/"+aid, e.AdminKey, nil)
		want(t, got, http.StatusOK)
		if got.JSON(t)["name"] != "mine" {
			t.Errorf("agent changed: %s", got.Body)
		}
		want(t, e.do("GET", "/api/v1/events/"+eid, e.AdminKey, nil), http.StatusOK)
		// Bad input.
		want(t, e.do("GET", "/api/v1/events?since_id=-1", e.AdminKey, nil), http.StatusBadRequest)
		want(t, e.do("POST", "/api/v1/agents", e.AdminKey, `{"type":"Webhook","name":"x","source_ids":"1"}`), http.StatusUnprocessableEntity)
		want(t, e.do("POST", "/api/v1/agents", e.AdminKey, `{"type":`), http.StatusBadRequest)
		want(t, e.do("POST", "/api/v1/stories", e.AdminKey, `{"name":""}`), http.StatusUnprocessableEntity)
		want(t, e.do("PUT", "/api/v1/agents/"+aid, e.AdminKey, `{"type":"Agents::TriggerAgent"}`), http.StatusUnprocessableEntity)
		ex := e.do("GET", "/api/v1/stories/"+sid+"/export", e.AdminKey, nil)
		want(t, ex, http.StatusOK)
		agents := ex.JSON(t)["agents"].([]any)
		if len(agents) != 1 || agents[0].(map[string]any)["options"].(map[string]any)["secret"] != nil {
			t.Errorf("export should list the agent without its webhook secret: %s", ex.Body)
		}
		// Deleting the story takes its agents with it.
		want(t, e.do("DELETE", "/api/v1/stories/"+sid, e.AdminKey, nil), http.StatusNoContent)
		want(t, e.do("GET", "/api/v1/agents/"+aid, e.AdminKey, nil), http.StatusNotFound)
		want(t, e.do("GET", "/api/v1/events/"+eid, e.AdminKey, nil), http.StatusNotFound)
	})
}
