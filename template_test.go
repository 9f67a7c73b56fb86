package steward_test

import (
	"encoding/json"
	"testing"

	"github.com/steward-dev/steward"
)

func TestTemplateSameContent(t *testing.T) {
	t.Parallel()
	base := func(opts string) *steward.Template {
		return &steward.Template{Name: "n", Description: "d", Vendor: "v", Product: "p",
			AgentType: steward.ActionHTTPRequest, AgentOptions: json.RawMessage(opts)}
	}
	a := base(`{"url":"https://x/{{.a}}","h":{"b":1,"c":[1,2]}}`)
	cases := []struct {
		name string
		b    *steward.Template
		same bool
	}{
		{"whitespace and key order", base(" {\"h\": {\"c\": [1, 2], \"b\": 1}, \"url\": \"https://x/{{.a}}\"} "), true},
		{"escaped the same string", base(`{"url":"https:\/\/x\/{{.a}}","h":{"b":1,"c":[1,2]}}`), true},
		{"a value differs", base(`{"url":"https://x/{{.b}}","h":{"b":1,"c":[1,2]}}`), false},
		{"array order differs", base(`{"url":"https://x/{{.a}}","h":{"b":1,"c":[2,1]}}`), false},
		{"a number spelled differently", base(`{"url":"https://x/{{.a}}","h":{"b":1.0,"c":[1,2]}}`), false},
		{"a description differs", func() *steward.Template { b := base(string(a.AgentOptions)); b.Description = "D"; return b }(), false},
		{"a type differs", func() *steward.Template {
			b := base(string(a.AgentOptions))
			b.AgentType = steward.ActionWebhook
			return b
		}(), false},
	}
	for _, c := range cases {
		if got := a.SameContent(c.b); got != c.same {
			t.Errorf("%s: SameContent = %v, want %v", c.name, got, c.same)
		}
	}
	if !base("").SameContent(base("null")) || !base("{}").SameContent(base("")) {
		t.Errorf("empty, null and {} options should be the same")
	}
}
