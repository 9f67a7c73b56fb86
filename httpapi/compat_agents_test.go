package httpapi_test

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"testing"
)

// TestRemoveEventsAnswersTheAgent sends "Remove agent's events" exactly as
// Tines' Postman collection does (2019 headers, a JSON content type, no
// body) on both spellings, and checks Tines' documented answer: 200 with
// the agent's JSON, its events gone.
func TestRemoveEventsAnswersTheAgent(t *testing.T) {
	t.Parallel()
	eachEnv(t, func(t *testing.T, e *env) {
		ctx := context.Background()
		for _, noun := range []string{"agents", "actions"} {
			a := createAgent(t, e, e.AdminKey, map[string]any{"type": "Agents::WebhookAgent", "name": "Intake " + noun})
			id := int64(a["id"].(float64))
			act, err := e.DB.FindActionByID(ctx, e.Admin.TenantID, id)
			if err != nil {
				t.Fatal(err)
			}
			if _, err := e.DB.EmitEvents(ctx, act, []json.RawMessage{json.RawMessage(`{"n":1}`), json.RawMessage(`{"n":2}`)}); err != nil {
				t.Fatal(err)
			}
			r := e.send("DELETE", fmt.Sprintf("/api/v1/%s/%d/remove_events", noun, id), map[string]string{
				"X-USER-EMAIL": "owner@acme.example", "X-USER-TOKEN": e.AdminKey, "Content-Type": "application/json",
			}, nil)
			want(t, r, http.StatusOK)
			if ct := r.Header.Get("Content-Type"); ct != "application/json" && ct != "application/json; charset=utf-8" {
				t.Errorf("%s: content type %q", noun, ct)
			}
			got := r.JSON(t)
			if got["id"] != a["id"] || got["name"] != "Intake "+noun || got["type"] != "Agents::WebhookAgent" || got["guid"] != a["guid"] {
				t.Errorf("%s: body is not the agent: %s", noun, r.Body)
			}
			events := e.do("GET", fmt.Sprintf("/api/v1/agents/%d/events", id), e.AdminKey, nil)
			want(t, events, http.StatusOK)
			if n := events.JSON(t)["meta"].(map[string]any)["count"]; n != 0.0 {
				t.Errorf("%s: %v events left", noun, n)
			}
		}
		want(t, e.send("DELETE", "/api/v1/agents/999999/remove_events", map[string]string{
			"X-USER-EMAIL": "owner@acme.example", "X-USER-TOKEN": e.AdminKey, "Content-Type": "application/json",
		}, nil), http.StatusNotFound)
	})
}
