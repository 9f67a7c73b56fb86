package action_test

import (
	"encoding/json"
	"strings"
	"testing"

	"github.com/steward-dev/steward"
	"github.com/steward-dev/steward/action"
)

func TestMergeTemplateOptions(t *testing.T) {
	t.Parallel()
	tmpl := `{"url": "https://api.internal/{{.user}}", "method":"get", "headers":{"A":"1","B":"2"}, "n": 1.50, "keep": null}`
	cases := []struct {
		name, template, request, want string
	}{
		{"request overrides top-level keys, others kept in template order",
			tmpl, `{"method":"post","extra":[1, 2]}`,
			`{"url":"https://api.internal/{{.user}}","method":"post","headers":{"A":"1","B":"2"},"n":1.50,"keep":null,"extra":[1,2]}`},
		{"objects are replaced whole, not merged inside",
			tmpl, `{"headers":{"C":"3"}}`,
			`{"url":"https://api.internal/{{.user}}","method":"get","headers":{"C":"3"},"n":1.50,"keep":null}`},
		{"null in the request removes the template's key",
			tmpl, `{"headers":null,"absent":null}`,
			`{"url":"https://api.internal/{{.user}}","method":"get","n":1.50,"keep":null}`},
		{"no request options keeps the template's", `{"a":"<b>&"}`, ``, `{"a":"<b>&"}`},
		{"null request options keeps the template's", `{"a":1}`, `null`, `{"a":1}`},
		{"no template options takes the request's", ``, `{"b":"{{.x}}"}`, `{"b":"{{.x}}"}`},
		{"both empty", `null`, `  `, `{}`},
		{"repeated request key: last value wins", `{"a":1}`, `{"a":2,"a":3}`, `{"a":3}`},
		{"keys needing escapes survive", `{"a\"<b":1}`, `{"c":2}`, `{"a\"<b":1,"c":2}`},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			got, err := action.MergeTemplateOptions(json.RawMessage(c.template), json.RawMessage(c.request))
			if err != nil {
				t.Fatal(err)
			}
			if string(got) != c.want {
				t.Errorf("got  %s\nwant %s", got, c.want)
			}
			if !json.Valid(got) {
				t.Errorf("result is not valid JSON: %s", got)
			}
		})
	}

	bad := []struct {
		name, template, request, field string
	}{
		{"request is an array", `{}`, `[1]`, "options"},
		{"request is a string", `{}`, `"x"`, "options"},
		{"request is broken JSON", `{}`, `{"a":`, "options"},
		{"request has data after the object", `{}`, `{"a":1} x`, "options"},
		{"template is not an object", `3`, `{}`, "template.agent_options"},
	}
	for _, c := range bad {
		t.Run(c.name, func(t *testing.T) {
			_, err := action.MergeTemplateOptions(json.RawMessage(c.template), json.RawMessage(c.request))
			if steward.ErrorCode(err) != steward.EINVALID || steward.ErrorField(err) != c.field {
				t.Errorf("got %v (field %q), want EINVALID on %s", err, steward.ErrorField(err), c.field)
			}
		})
	}
}

func TestMergedOptionsValidateForTheType(t *testing.T) {
	t.Parallel()
	// A template missing the url is completed by the request, and a request
	// that removes the url makes the result invalid.
	tmpl := json.RawMessage(`{"method":"post","payload":{"id":"{{.id}}"}}`)
	merged, err := action.MergeTemplateOptions(tmpl, json.RawMessage(`{"url":"https://example.com/hook"}`))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := action.ValidateOptions(steward.ActionHTTPRequest, "options", merged); err != nil {
		t.Errorf("completed options rejected: %v", err)
	}
	merged, err = action.MergeTemplateOptions(json.RawMessage(`{"url":"https://example.com"}`), json.RawMessage(`{"url":null}`))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := action.ValidateOptions(steward.ActionHTTPRequest, "options", merged); steward.ErrorField(err) != "options.url" {
		t.Errorf("options without url: got %v, want an error on options.url", err)
	}
}

func TestValidateTemplate(t *testing.T) {
	t.Parallel()
	valid := func() *steward.Template {
		return &steward.Template{Name: "  Lookup  ", AgentType: "Event Transformation", AgentOptions: json.RawMessage(postmanExtract)}
	}
	tmpl := valid()
	if err := action.ValidateTemplate(tmpl, ""); err != nil {
		t.Fatal(err)
	}
	if tmpl.Name != "Lookup" || tmpl.AgentType != steward.ActionEventTransformation {
		t.Errorf("not normalised: name %q type %q", tmpl.Name, tmpl.AgentType)
	}
	email := &steward.Template{Name: "Name+Update", AgentType: "Email", AgentOptions: json.RawMessage(postmanEmail)}
	if err := action.ValidateTemplate(email, ""); err != nil || email.AgentType != steward.ActionEmail {
		t.Errorf("Postman Email template: %v, type %q", err, email.AgentType)
	}

	cases := []struct {
		name   string
		change func(*steward.Template)
		prefix string
		field  string
	}{
		{"missing name", func(t *steward.Template) { t.Name = " " }, "", "name"},
		{"long name", func(t *steward.Template) { t.Name = strings.Repeat("n", 256) }, "", "name"},
		{"long vendor", func(t *steward.Template) { t.Vendor = strings.Repeat("é", 256) }, "", "vendor"},
		{"long description", func(t *steward.Template) { t.Description = strings.Repeat("d", 10001) }, "", "description"},
		{"unknown type", func(t *steward.Template) { t.AgentType = "Teleport" }, "", "agent_type"},
		{"missing type", func(t *steward.Template) { t.AgentType = "" }, "", "agent_type"},
		{"options the type rejects", func(t *steward.Template) { t.AgentType = "HTTP Request" }, "", "agent_options.url"},
		{"options not an object", func(t *steward.Template) { t.AgentOptions = json.RawMessage(`[]`) }, "", "agent_options"},
		{"prefixed field in an import", func(t *steward.Template) { t.AgentType = "HTTP Request" }, "templates[2].", "templates[2].agent_options.url"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			tmpl := valid()
			c.change(tmpl)
			err := action.ValidateTemplate(tmpl, c.prefix)
			if steward.ErrorCode(err) != steward.EINVALID || steward.ErrorField(err) != c.field {
				t.Errorf("got %v (field %q), want EINVALID on %s", err, steward.ErrorField(err), c.field)
			}
		})
	}
}
