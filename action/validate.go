// Package action holds what each action type does: validating its options
// when an action or template is saved, and (in the executors) running it
// when a job for it is worked.
package action

import (
	"bytes"
	"encoding/json"
	"net/mail"
	"net/url"
	"regexp"
	"strconv"
	"strings"

	"github.com/steward-dev/steward"
)

// ValidateOptions checks options for an action of type t, as sent by a
// client (a JSON object; null or absent means {}). Errors are EINVALID and
// name the field, rooted at field (usually "options" or "agent_options").
// It returns the options decoded.
func ValidateOptions(t steward.ActionType, field string, raw json.RawMessage) (map[string]any, error) {
	opts := map[string]any{}
	if len(bytes.TrimSpace(raw)) > 0 && string(bytes.TrimSpace(raw)) != "null" {
		if err := json.Unmarshal(raw, &opts); err != nil {
			return nil, steward.FieldErrorf(field, "%s must be a JSON object", field)
		}
	}
	if err := checkTemplates(field, opts); err != nil {
		return nil, err
	}
	var err error
	switch t {
	case steward.ActionHTTPRequest:
		err = validateHTTPRequest(field, opts)
	case steward.ActionEventTransformation:
		err = validateEventTransformation(field, opts)
	case steward.ActionTrigger:
		err = validateTrigger(field, opts)
	case steward.ActionEmail:
		err = validateEmail(field, opts)
	case steward.ActionWebhook, steward.ActionSendToStory:
		err = optionalString(field, opts, "secret")
	default:
		err = steward.FieldErrorf("type", "unknown action type %q", t)
	}
	if err != nil {
		return nil, err
	}
	return opts, nil
}

func optionalString(field string, opts map[string]any, key string) error {
	if v, ok := opts[key]; ok && v != nil {
		if _, ok := v.(string); !ok {
			return steward.FieldErrorf(field+"."+key, "%s.%s must be a string", field, key)
		}
	}
	return nil
}

func requiredString(field string, opts map[string]any, key string) (string, error) {
	v, ok := opts[key].(string)
	if !ok || strings.TrimSpace(v) == "" {
		return "", steward.FieldErrorf(field+"."+key, "%s.%s is required and must be a non-empty string", field, key)
	}
	return v, nil
}

// HTTPMethods are the methods an HTTP Request action may use.
var HTTPMethods = []string{"get", "post", "put", "patch", "delete", "head", "options"}

func validateHTTPRequest(field string, opts map[string]any) error {
	u, err := requiredString(field, opts, "url")
	if err != nil {
		return err
	}
	if !strings.Contains(u, "{{") {
		p, err := url.Parse(u)
		if err != nil || (p.Scheme != "http" && p.Scheme != "https") || p.Host == "" {
			return steward.FieldErrorf(field+".url", "%s.url must be an absolute http or https URL, got %q", field, u)
		}
	}
	if err := optionalString(field, opts, "method"); err != nil {
		return err
	}
	if m, ok := opts["method"].(string); ok && !strings.Contains(m, "{{") {
		valid := false
		for _, v := range HTTPMethods {
			valid = valid || strings.EqualFold(m, v)
		}
		if !valid {
			return steward.FieldErrorf(field+".method", "%s.method must be one of %s", field, strings.Join(HTTPMethods, ", "))
		}
	}
	if err := optionalString(field, opts, "content_type"); err != nil {
		return err
	}
	if h, ok := opts["headers"]; ok && h != nil {
		hm, ok := h.(map[string]any)
		if !ok {
			return steward.FieldErrorf(field+".headers", "%s.headers must be an object of header names to string values", field)
		}
		for k, v := range hm {
			if _, ok := v.(string); !ok {
				return steward.FieldErrorf(field+".headers."+k, "%s.headers.%s must be a string", field, k)
			}
		}
	}
	return nil
}

// TransformationModes are the Event Transformation modes Steward runs.
var TransformationModes = []string{"message_only", "extract", "explode"}

func validateEventTransformation(field string, opts map[string]any) error {
	mode, err := requiredString(field, opts, "mode")
	if err != nil {
		return err
	}
	switch mode {
	case "message_only":
		return nil
	case "extract":
		ms, ok := opts["matchers"].([]any)
		if !ok || len(ms) == 0 {
			return steward.FieldErrorf(field+".matchers", "%s.matchers must be a non-empty array of {path, regexp, to} in extract mode", field)
		}
		for i, m := range ms {
			f := field + ".matchers[" + strconv.Itoa(i) + "]"
			mm, ok := m.(map[string]any)
			if !ok {
				return steward.FieldErrorf(f, "%s must be an object with path, regexp and to", f)
			}
			for _, k := range []string{"path", "regexp", "to"} {
				if _, err := requiredString(f, mm, k); err != nil {
					return err
				}
			}
			if _, err := regexp.Compile(mm["regexp"].(string)); err != nil {
				return steward.FieldErrorf(f+".regexp", "%s.regexp is not a valid regular expression: %v", f, err)
			}
		}
		return nil
	case "explode":
		_, err := requiredString(field, opts, "path")
		return err
	}
	return steward.FieldErrorf(field+".mode", "%s.mode must be one of %s, got %q", field, strings.Join(TransformationModes, ", "), mode)
}

// TriggerRuleTypes are the comparisons a Trigger rule may make.
var TriggerRuleTypes = []string{"field==value", "field!=value", "regex", "!regex", "field>value", "field<value", "field>=value", "field<=value"}

func validateTrigger(field string, opts map[string]any) error {
	rules, ok := opts["rules"].([]any)
	if !ok || len(rules) == 0 {
		return steward.FieldErrorf(field+".rules", "%s.rules must be a non-empty array of {type, path, value}", field)
	}
	for i, r := range rules {
		f := field + ".rules[" + strconv.Itoa(i) + "]"
		rm, ok := r.(map[string]any)
		if !ok {
			return steward.FieldErrorf(f, "%s must be an object with type, path and value", f)
		}
		typ, err := requiredString(f, rm, "type")
		if err != nil {
			return err
		}
		known := false
		for _, t := range TriggerRuleTypes {
			known = known || t == typ
		}
		if !known {
			return steward.FieldErrorf(f+".type", "%s.type must be one of %s", f, strings.Join(TriggerRuleTypes, ", "))
		}
		if _, err := requiredString(f, rm, "path"); err != nil {
			return err
		}
		if _, ok := rm["value"]; !ok {
			return steward.FieldErrorf(f+".value", "%s.value is required", f)
		}
		if typ == "regex" || typ == "!regex" {
			s, _ := rm["value"].(string)
			if _, err := regexp.Compile(s); err != nil {
				return steward.FieldErrorf(f+".value", "%s.value is not a valid regular expression: %v", f, err)
			}
		}
	}
	return nil
}

// validateEmail checks the fields present. Recipients may be left for the
// template or story to fill in; running without them fails the job.
func validateEmail(field string, opts map[string]any) error {
	for _, k := range []string{"subject", "body", "message"} {
		if err := optionalString(field, opts, k); err != nil {
			return err
		}
	}
	var rcpts []any
	switch v := opts["recipients"].(type) {
	case nil:
	case string:
		rcpts = []any{v}
	case []any:
		rcpts = v
	default:
		return steward.FieldErrorf(field+".recipients", "%s.recipients must be an address or an array of addresses", field)
	}
	for _, r := range rcpts {
		s, ok := r.(string)
		if !ok {
			return steward.FieldErrorf(field+".recipients", "%s.recipients must contain only strings", field)
		}
		if strings.Contains(s, "{{") {
			continue
		}
		if _, err := mail.ParseAddress(s); err != nil {
			return steward.FieldErrorf(field+".recipients", "%s.recipients: %q is not an email address", field, s)
		}
	}
	return nil
}
