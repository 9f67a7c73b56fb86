package steward_test

import (
	"testing"

	"github.com/steward-dev/steward"
)

func TestParseActionType(t *testing.T) {
	t.Parallel()
	for in, want := range map[string]steward.ActionType{
		"Event Transformation":             steward.ActionEventTransformation,
		"Agents::EventTransformationAgent": steward.ActionEventTransformation,
		"http request":                     steward.ActionHTTPRequest,
		"Agents::HTTPRequestAgent":         steward.ActionHTTPRequest,
		"Email":                            steward.ActionEmail,
		"Webhook":                          steward.ActionWebhook,
		"TriggerAgent":                     steward.ActionTrigger,
	} {
		got, err := steward.ParseActionType("type", in)
		if err != nil || got != want {
			t.Errorf("ParseActionType(%q) = %q, %v; want %q", in, got, err, want)
		}
	}
	for _, bad := range []string{"", "Agents::NopeAgent", "Emailer"} {
		if _, err := steward.ParseActionType("type", bad); steward.ErrorCode(err) != steward.EINVALID || steward.ErrorField(err) != "type" {
			t.Errorf("ParseActionType(%q): got %v, want EINVALID on field type", bad, err)
		}
	}
}
