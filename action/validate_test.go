package action_test

import (
	"encoding/json"
	"testing"

	"github.com/steward-dev/steward"
	"github.com/steward-dev/steward/action"
)

// The option bodies Tines' Postman collection sends, as sent.
const (
	postmanExtract = `{"mode":"extract","matchers":[{"path":"{{.text}}","regexp":"\\b[a-zA-Z0-9._%+-]+@[a-zA-Z0-9.-]+\\.[a-zA-Z]{2,4}\\b","to":"email_addresses"},{"path":"{{.text}}","regexp":"https?:\\/\\/[\\S]+","to":"urls"}],"message":"This is an optional message"}`
	postmanEmail   = `{"mode":"extract+Update","matchers":[{"path":"{{.text}}","regexp":"x","to":"email_addresses"}],"message":"This is an optional message+Update"}`
	postmanMessage = `{"mode":"message_only","message":"{% credential hi %}"}`
)

func TestValidateOptions(t *testing.T) {
	t.Parallel()
	ok := []struct {
		typ  steward.ActionType
		opts string
	}{
		{steward.ActionEventTransformation, postmanExtract},
		{steward.ActionEmail, postmanEmail},
		{steward.ActionEventTransformation, postmanMessage},
		{steward.ActionHTTPRequest, `{"url":"https://example.com/{{.id}}","method":"POST","headers":{"X-A":"b"},"payload":{"a":"{{.b}}"}}`},
		{steward.ActionHTTPRequest, `{"url":"{{.target}}"}`},
		{steward.ActionTrigger, `{"rules":[{"type":"field>value","path":"{{.n}}","value":"3"}]}`},
		{steward.ActionWebhook, `null`},
		{steward.ActionEventTransformation, `{"mode":"explode","path":"{{.items}}","to":"item"}`},
	}
	for _, c := range ok {
		if _, err := action.ValidateOptions(c.typ, "options", json.RawMessage(c.opts)); err != nil {
			t.Errorf("%s %s: %v", c.typ, c.opts, err)
		}
	}
	bad := []struct {
		typ   steward.ActionType
		opts  string
		field string
	}{
		{steward.ActionHTTPRequest, `{}`, "options.url"},
		{steward.ActionHTTPRequest, `{"url":"ftp://x"}`, "options.url"},
		{steward.ActionHTTPRequest, `{"url":"https://x","method":"FETCH"}`, "options.method"},
		{steward.ActionHTTPRequest, `{"url":"https://x","headers":{"a":1}}`, "options.headers.a"},
		{steward.ActionEventTransformation, `{"mode":"teleport"}`, "options.mode"},
		{steward.ActionEventTransformation, `{"mode":"extract","matchers":[{"path":"{{.a}}","regexp":"(","to":"x"}]}`, "options.matchers[0].regexp"},
		{steward.ActionEventTransformation, `{"mode":"message_only","message":"{{.a"}`, "options.message"},
		{steward.ActionTrigger, `{"rules":[]}`, "options.rules"},
		{steward.ActionTrigger, `{"rules":[{"type":"near","path":"a","value":1}]}`, "options.rules[0].type"},
		{steward.ActionEmail, `{"recipients":["not an address"]}`, "options.recipients"},
		{steward.ActionWebhook, `[1]`, "options"},
	}
	for _, c := range bad {
		_, err := action.ValidateOptions(c.typ, "options", json.RawMessage(c.opts))
		if steward.ErrorCode(err) != steward.EINVALID || steward.ErrorField(err) != c.field {
			t.Errorf("%s %s: got %v (field %q), want EINVALID on %s", c.typ, c.opts, err, steward.ErrorField(err), c.field)
		}
	}
}

func TestRenderValue(t *testing.T) {
	t.Parallel()
	event := map[string]any{"text": "hi", "n": 3.0, "items": []any{"a", map[string]any{"b": "c"}}}
	got, err := action.RenderValue(map[string]any{
		"plain":  "say {{.text}} {{ .n }} {{.items.1.b}}{{.missing}}",
		"whole":  "{{.items}}",
		"liquid": "{% credential hi %}",
	}, event)
	if err != nil {
		t.Fatal(err)
	}
	m := got.(map[string]any)
	if m["plain"] != "say hi 3 c" || m["liquid"] != "{% credential hi %}" {
		t.Errorf("rendered %#v", m)
	}
	if items, ok := m["whole"].([]any); !ok || len(items) != 2 {
		t.Errorf("a lone reference should keep the value's type, got %#v", m["whole"])
	}
}
