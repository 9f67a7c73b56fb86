package steward

import "strings"

// ActionType is an action's kind, named by its Tines class name
// (Agents::HTTPRequestAgent). Tines calls actions "agents".
type ActionType string

// The action types Steward knows.
const (
	ActionWebhook             ActionType = "Agents::WebhookAgent"
	ActionHTTPRequest         ActionType = "Agents::HTTPRequestAgent"
	ActionEventTransformation ActionType = "Agents::EventTransformationAgent"
	ActionTrigger             ActionType = "Agents::TriggerAgent"
	ActionEmail               ActionType = "Agents::EmailAgent"
	ActionSendToStory         ActionType = "Agents::SendToStoryAgent"
)

// ActionTypes lists every type with its display name, in display order.
var ActionTypes = []struct {
	Type        ActionType
	DisplayName string
}{
	{ActionWebhook, "Webhook"},
	{ActionHTTPRequest, "HTTP Request"},
	{ActionEventTransformation, "Event Transformation"},
	{ActionTrigger, "Trigger"},
	{ActionEmail, "Email"},
	{ActionSendToStory, "Send to Story"},
}

// ParseActionType accepts a class name (Agents::HTTPRequestAgent) or a
// display name ("HTTP Request"), case-insensitively, and returns the type.
// It returns EINVALID naming field for anything else.
func ParseActionType(field, s string) (ActionType, error) {
	norm := func(v string) string {
		return strings.ToLower(strings.NewReplacer(" ", "", "_", "", "-", "").Replace(strings.TrimSpace(v)))
	}
	n := norm(s)
	for _, t := range ActionTypes {
		if n == norm(string(t.Type)) || n == norm(t.DisplayName) || n == norm(t.DisplayName)+"agent" {
			return t.Type, nil
		}
	}
	names := make([]string, len(ActionTypes))
	for i, t := range ActionTypes {
		names[i] = string(t.Type)
	}
	if strings.TrimSpace(s) == "" {
		return "", FieldErrorf(field, "%s is required; one of %s", field, strings.Join(names, ", "))
	}
	return "", FieldErrorf(field, "%s %q is not a known action type; use one of %s (or its display name)", field, s, strings.Join(names, ", "))
}

// DisplayName returns the type's human name ("HTTP Request").
func (t ActionType) DisplayName() string {
	for _, at := range ActionTypes {
		if at.Type == t {
			return at.DisplayName
		}
	}
	return string(t)
}
