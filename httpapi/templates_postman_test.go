package httpapi_test

import (
	"bytes"
	"encoding/json"
	"fmt"
	"net/http"
	"strings"
	"testing"
)

// The bodies of Tines' Postman requests "Create a private template" and
// "Update a private template", byte for byte as the collection sends them.
const (
	postmanCreateTemplate = `{
    "name": "Test API Name",
    "description": "test",
    "agent_type": "Event Transformation",
    "vendor": "API",
    "product": "API",
    "agent_options": {
        "mode": "extract",
        "matchers": [
            {
                "path": "{{.text}}",
                "regexp": "\\b[a-zA-Z0-9._%+-]+@[a-zA-Z0-9.-]+\\.[a-zA-Z]{2,4}\\b",
                "to": "email_addresses"
            },
            {
                "path": "{{.text}}",
                "regexp": "https?:\\/\\/[\\S]+",
                "to": "urls"
            }
        ],
        "message": "This is an optional message"
    }
}`
	postmanUpdateTemplate = `{
    "name": "Name+Update",
    "description": "test+Update",
    "agent_type": "Email",
    "vendor": "API+Update",
    "product": "AP+UpdateI",
    "agent_options": {
        "mode": "extract+Update",
        "matchers": [
            {
                "path": "{{.text}}",
                "regexp": "\\b[a-zA-Z0-9._%+-]+@[a-zA-Z0-9.-]+\\.[a-zA-Z]{2,4}\\b",
                "to": "email_addresses"
            },
            {
                "path": "{{.text}}",
                "regexp": "https?:\\/\\/[\\S]+",
                "to": "urls"
            }
        ],
        "message": "This is an optional message+Update"
    }
}`
)

// doPostman sends a request the way the Postman collection does: the 2019
// X-USER-EMAIL and X-USER-TOKEN headers and a JSON content type.
func (e *env) doPostman(method, path, email, key, body string) response {
	e.t.Helper()
	req, err := http.NewRequest(method, e.Server.URL+path, strings.NewReader(body))
	if err != nil {
		e.t.Fatal(err)
	}
	req.Header.Set("X-USER-EMAIL", email)
	req.Header.Set("X-USER-TOKEN", key)
	req.Header.Set("Content-Type", "application/json")
	resp, err := e.Server.Client().Do(req)
	if err != nil {
		e.t.Fatal(err)
	}
	defer resp.Body.Close()
	var b bytes.Buffer
	if _, err := b.ReadFrom(resp.Body); err != nil {
		e.t.Fatal(err)
	}
	return response{Status: resp.StatusCode, Header: resp.Header, Body: b.Bytes()}
}

// sentOptions returns the agent_options member of a request body as the
// client wrote it, compacted.
func sentOptions(t *testing.T, body string) string {
	t.Helper()
	var req struct {
		AgentOptions json.RawMessage `json:"agent_options"`
	}
	if err := json.Unmarshal([]byte(body), &req); err != nil {
		t.Fatal(err)
	}
	var b bytes.Buffer
	if err := json.Compact(&b, req.AgentOptions); err != nil {
		t.Fatal(err)
	}
	return b.String()
}

// rawOptions returns the agent_options member of a response, as sent.
func rawOptions(t *testing.T, r response) string {
	t.Helper()
	var v struct {
		AgentOptions json.RawMessage `json:"agent_options"`
	}
	if err := json.Unmarshal(r.Body, &v); err != nil {
		t.Fatal(err)
	}
	return string(v.AgentOptions)
}

func TestTemplatePostmanRequests(t *testing.T) {
	t.Parallel()
	eachEnv(t, func(t *testing.T, e *env) {
		email := e.Admin.Email
		r := e.doPostman("POST", "/api/v1/admin/templates", email, e.AdminKey, postmanCreateTemplate)
		want(t, r, http.StatusCreated)
		created := r.JSON(t)
		if created["name"] != "Test API Name" || created["description"] != "test" || created["vendor"] != "API" ||
			created["product"] != "API" || created["agent_type"] != "Agents::EventTransformationAgent" {
			t.Errorf("created: %s", r.Body)
		}
		if got, want := rawOptions(t, r), sentOptions(t, postmanCreateTemplate); got != want {
			t.Errorf("agent_options changed:\n got  %s\n want %s", got, want)
		}
		by, _ := created["created_by"].(map[string]any)
		if by["id"] != float64(e.Admin.UserID) || by["email"] != email {
			t.Errorf("created_by = %v", created["created_by"])
		}
		path := fmt.Sprintf("/api/v1/admin/templates/%d", int64(created["id"].(float64)))

		r = e.doPostman("PUT", path, email, e.AdminKey, postmanUpdateTemplate)
		want(t, r, http.StatusOK)
		updated := r.JSON(t)
		if updated["id"] != created["id"] || updated["name"] != "Name+Update" || updated["description"] != "test+Update" ||
			updated["vendor"] != "API+Update" || updated["product"] != "AP+UpdateI" || updated["agent_type"] != "Agents::EmailAgent" {
			t.Errorf("updated: %s", r.Body)
		}
		if got, want := rawOptions(t, r), sentOptions(t, postmanUpdateTemplate); got != want {
			t.Errorf("agent_options changed:\n got  %s\n want %s", got, want)
		}

		r = e.doPostman("GET", path, email, e.AdminKey, "")
		want(t, r, http.StatusOK)
		if got, want := rawOptions(t, r), sentOptions(t, postmanUpdateTemplate); got != want || r.JSON(t)["name"] != "Name+Update" {
			t.Errorf("read back after update: %s", r.Body)
		}
		r = e.doPostman("GET", "/api/v1/admin/templates", email, e.AdminKey, "")
		want(t, r, http.StatusOK)
		if list := r.JSON(t)["admin/templates"].([]any); len(list) != 1 {
			t.Errorf("list: %s", r.Body)
		}
		want(t, e.doPostman("DELETE", path, email, e.AdminKey, ""), http.StatusNoContent)
		want(t, e.doPostman("GET", path, email, e.AdminKey, ""), http.StatusNotFound)
	})
}
