package action_test

import (
	"context"
	"encoding/json"
	"errors"
	"strings"
	"testing"

	"github.com/steward-dev/steward"
	"github.com/steward-dev/steward/action"
	"github.com/steward-dev/steward/queue"
)

// fixedRules is an EgressRuleService holding one tenant's rules.
type fixedRules struct {
	steward.EgressRuleService
	rules []*steward.EgressRule
}

func (f fixedRules) AllEgressRules(context.Context, int64) ([]*steward.EgressRule, error) {
	return f.rules, nil
}

// outbox records enqueued mail.
type outbox struct {
	steward.OutboxService
	to []string
}

func (o *outbox) EnqueueMail(_ context.Context, m *steward.MailMessage) error {
	o.to = append(o.to, m.To)
	return nil
}

// TestPermanentFailures checks which failures skip retries.
func TestPermanentFailures(t *testing.T) {
	t.Parallel()
	cases := []struct {
		name      string
		typ       steward.ActionType
		opts      string
		event     any
		class     string
		permanent bool
	}{
		{"invalid url", steward.ActionHTTPRequest, `{"url":"{{.u}}"}`, map[string]any{"u": "not a url"}, "HTTPRequest::InvalidURL", true},
		{"refused destination", steward.ActionHTTPRequest, `{"url":"http://10.1.2.3/"}`, nil, "HTTPRequest::EgressRefused", true},
		{"explode of a string", steward.ActionEventTransformation, `{"mode":"explode","path":"{{.s}}"}`, map[string]any{"s": "x"}, "EventTransformation::NotAnArray", true},
		{"template past its limit", steward.ActionEventTransformation, `{"mode":"message_only","m":"big: {{.s}}"}`,
			map[string]any{"s": strings.Repeat("x", action.MaxRenderedBytes+1)}, "Template::Invalid", true},
		{"connection refused", steward.ActionHTTPRequest, `{"url":"http://127.0.0.1:1/"}`, nil, "HTTPRequest::ConnectionFailed", false},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			o, err := action.ValidateOptions(c.typ, "options", json.RawMessage(c.opts))
			if err != nil {
				t.Fatal(err)
			}
			r := &action.Runner{Egress: loopbackPolicy(t)}
			_, err = r.Execute(context.Background(), &steward.Action{Type: c.typ, Options: o}, c.event)
			var f *action.Failure
			if !errors.As(err, &f) || f.Class != c.class || queue.IsPermanent(err) != c.permanent {
				t.Errorf("err %v (%T), want class %s, permanent %v", err, err, c.class, c.permanent)
			}
		})
	}
}

// TestSendEmailRules checks that a tenant's send-email rules limit the
// domains Email actions may mail.
func TestSendEmailRules(t *testing.T) {
	t.Parallel()
	opts := map[string]any{"recipients": "{{.to}}", "subject": "s", "body": "b"}
	rules := fixedRules{rules: []*steward.EgressRule{
		{ID: 1, FQDN: "example.com", AllowedActionTypes: []string{steward.EgressSendEmail}},
		{ID: 2, FQDN: "other.example", AllowedActionTypes: []string{steward.EgressHTTPRequest}},
	}}
	out := &outbox{}
	r := &action.Runner{Outbox: out, EgressRules: rules}
	a := &steward.Action{Type: steward.ActionEmail, Options: opts}
	if _, err := r.Execute(context.Background(), a, map[string]any{"to": []any{"A@Example.com"}}); err != nil {
		t.Fatalf("allowed domain: %v", err)
	}
	_, err := r.Execute(context.Background(), a, map[string]any{"to": []any{"b@example.com", "c@other.example"}})
	var f *action.Failure
	if !errors.As(err, &f) || f.Class != "Email::EgressRefused" || !queue.IsPermanent(err) || !strings.Contains(err.Error(), "other.example") {
		t.Errorf("refused domain: %v", err)
	}
	if len(out.to) != 1 || out.to[0] != "a@example.com" {
		t.Errorf("mail queued to %v, want only a@example.com (nothing from the refused run)", out.to)
	}
}
