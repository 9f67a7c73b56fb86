package action_test

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"reflect"
	"testing"
	"time"

	"github.com/steward-dev/steward"
	"github.com/steward-dev/steward/action"
	"github.com/steward-dev/steward/egress"
)

func run(t *testing.T, typ steward.ActionType, opts string, event any) ([]any, error) {
	t.Helper()
	o, err := action.ValidateOptions(typ, "options", json.RawMessage(opts))
	if err != nil {
		t.Fatalf("options %s: %v", opts, err)
	}
	r := &action.Runner{Egress: loopbackPolicy(t)}
	return r.Execute(context.Background(), &steward.Action{Type: typ, Options: o}, event)
}

// loopbackPolicy is an egress policy that opens loopback, where the
// tests' servers listen; the default refuses it.
func loopbackPolicy(t *testing.T) *egress.Policy {
	t.Helper()
	p, err := egress.New(egress.Config{Allow: []string{"127.0.0.0/8", "::1"}})
	if err != nil {
		t.Fatal(err)
	}
	return p
}

func TestEventTransformation(t *testing.T) {
	t.Parallel()
	event := map[string]any{"text": "mail a@b.io and c@d.org at https://x.example/p", "items": []any{1.0, "two"}}
	out, err := run(t, steward.ActionEventTransformation, postmanExtract, event)
	if err != nil {
		t.Fatal(err)
	}
	got := out[0].(map[string]any)
	if !reflect.DeepEqual(got["email_addresses"], []string{"a@b.io", "c@d.org"}) || !reflect.DeepEqual(got["urls"], []string{"https://x.example/p"}) ||
		got["message"] != "This is an optional message" {
		t.Errorf("extract: %#v", got)
	}
	out, err = run(t, steward.ActionEventTransformation, `{"mode":"explode","path":"{{.items}}","to":"item"}`, event)
	if err != nil || len(out) != 2 || out[1].(map[string]any)["item"] != "two" {
		t.Errorf("explode: %#v %v", out, err)
	}
	out, err = run(t, steward.ActionEventTransformation, `{"mode":"message_only","message":"got {{.items.1}}","n":"{{.items}}"}`, event)
	if m := out[0].(map[string]any); err != nil || m["message"] != "got two" || len(m["n"].([]any)) != 2 || m["mode"] != nil {
		t.Errorf("message_only: %#v %v", out, err)
	}
	if _, err := run(t, steward.ActionEventTransformation, `{"mode":"explode","path":"{{.text}}"}`, event); err == nil {
		t.Error("exploding a string should fail the job")
	}
}

func TestTriggerRules(t *testing.T) {
	t.Parallel()
	event := map[string]any{"status": "open", "n": 5.0}
	cases := []struct {
		rules string
		match bool
	}{
		{`[{"type":"field==value","path":"{{.status}}","value":"open"}]`, true},
		{`[{"type":"field!=value","path":"{{.status}}","value":"open"}]`, false},
		{`[{"type":"regex","path":"{{.status}}","value":"^op"}]`, true},
		{`[{"type":"!regex","path":"{{.status}}","value":"^op"}]`, false},
		{`[{"type":"field>value","path":"{{.n}}","value":"4"}]`, true},
		{`[{"type":"field<value","path":"{{.n}}","value":4}]`, false},
		{`[{"type":"field>=value","path":"{{.n}}","value":"5"},{"type":"field<=value","path":"{{.n}}","value":"5"}]`, true},
		{`[{"type":"field>value","path":"{{.status}}","value":"1"}]`, false},
		{`[{"type":"field==value","path":"{{.status}}","value":"open"},{"type":"field==value","path":"{{.n}}","value":"6"}]`, false},
	}
	for _, c := range cases {
		out, err := run(t, steward.ActionTrigger, `{"rules":`+c.rules+`}`, event)
		if err != nil || (len(out) == 1) != c.match {
			t.Errorf("%s: emitted %v (%v), want match=%v", c.rules, out, err, c.match)
		}
		if c.match && !reflect.DeepEqual(out[0], any(event)) {
			t.Errorf("%s: a trigger emits the incoming event, got %v", c.rules, out[0])
		}
	}
}

func TestHTTPRequest(t *testing.T) {
	t.Parallel()
	var got struct {
		method, path, ctype, auth string
		body                      map[string]any
	}
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		got.method, got.path, got.ctype, got.auth = r.Method, r.URL.RequestURI(), r.Header.Get("Content-Type"), r.Header.Get("Authorization")
		b, _ := io.ReadAll(r.Body)
		json.Unmarshal(b, &got.body)
		switch r.URL.Path {
		case "/down":
			w.WriteHeader(http.StatusServiceUnavailable)
		case "/missing":
			w.WriteHeader(http.StatusNotFound)
		case "/slow":
			time.Sleep(2 * time.Second)
		default:
			w.Header().Set("Content-Type", "application/json")
			w.Write([]byte(`{"ok":true}`))
		}
	}))
	defer srv.Close()
	event := map[string]any{"id": 42.0, "token": "t0k"}
	out, err := run(t, steward.ActionHTTPRequest, `{"url":"`+srv.URL+`/things/{{.id}}","method":"post","content_type":"json",
		"payload":{"id":"{{.id}}","name":"n-{{.id}}"},"headers":{"Authorization":"Bearer {{.token}}"}}`, event)
	if err != nil {
		t.Fatal(err)
	}
	res := out[0].(map[string]any)
	if res["status"] != 200 || res["body"].(map[string]any)["ok"] != true {
		t.Errorf("emitted %#v", res)
	}
	if got.method != "POST" || got.path != "/things/42" || got.ctype != "application/json" || got.auth != "Bearer t0k" ||
		got.body["id"] != 42.0 || got.body["name"] != "n-42" {
		t.Errorf("upstream saw %+v", got)
	}
	if _, err := run(t, steward.ActionHTTPRequest, `{"url":"`+srv.URL+`/q","payload":{"a":"{{.id}}"}}`, event); err != nil || got.path != "/q?a=42" {
		t.Errorf("GET payload as query: %q %v", got.path, err)
	}
	if out, err := run(t, steward.ActionHTTPRequest, `{"url":"`+srv.URL+`/missing"}`, event); err != nil || out[0].(map[string]any)["status"] != 404 {
		t.Errorf("a 4xx is an answer, not a failure: %v %v", out, err)
	}
	for _, c := range []struct{ opts, class string }{
		{`{"url":"` + srv.URL + `/down"}`, "HTTPRequest::ServerError"},
		{`{"url":"http://127.0.0.1:1/refused"}`, "HTTPRequest::ConnectionFailed"},
		{`{"url":"` + srv.URL + `/slow","timeout":0.2}`, "HTTPRequest::Timeout"},
		{`{"url":"{{.token}}"}`, "HTTPRequest::InvalidURL"},
	} {
		_, err := run(t, steward.ActionHTTPRequest, c.opts, event)
		var f *action.Failure
		if err == nil || !asFailure(err, &f) || f.ErrorClass() != c.class {
			t.Errorf("%s: %v, want a %s failure", c.opts, err, c.class)
		}
	}
}

func asFailure(err error, f **action.Failure) bool {
	v, ok := err.(*action.Failure)
	*f = v
	return ok
}
