package action

import (
	"bytes"
	"encoding/json"
	"io"
	"strings"
	"unicode/utf8"

	"github.com/steward-dev/steward"
)

// ValidateTemplate checks a private template as it would be saved: a name,
// field lengths, a known type, and options that type accepts. Errors are
// EINVALID naming the field, prefixed by prefix (empty for a single
// template, "templates[3]." inside an import document). It normalises t's
// text fields (trimmed).
func ValidateTemplate(t *steward.Template, prefix string) error {
	t.Name = strings.TrimSpace(t.Name)
	if t.Name == "" {
		return steward.FieldErrorf(prefix+"name", "%sname is required", prefix)
	}
	for _, f := range []struct {
		name string
		v    *string
		max  int
	}{
		{"name", &t.Name, steward.MaxTemplateNameLength},
		{"description", &t.Description, steward.MaxTemplateDescriptionLength},
		{"vendor", &t.Vendor, steward.MaxTemplateLabelLength},
		{"product", &t.Product, steward.MaxTemplateLabelLength},
	} {
		*f.v = strings.TrimSpace(*f.v)
		if utf8.RuneCountInString(*f.v) > f.max {
			return steward.FieldErrorf(prefix+f.name, "%s%s must be at most %d characters", prefix, f.name, f.max)
		}
	}
	typ, err := steward.ParseActionType(prefix+"agent_type", string(t.AgentType))
	if err != nil {
		return err
	}
	t.AgentType = typ
	if _, err := ValidateOptions(typ, prefix+"agent_options", t.AgentOptions); err != nil {
		return err
	}
	return nil
}

// MergeTemplateOptions builds an action's options from a template's and
// those sent with the request that creates the action. The merge is
// shallow, over top-level keys: a key in requestOptions replaces the
// template's value for that key whole (objects and arrays are not merged
// inside), a request key set to null removes the template's key, and keys
// only in one side are kept. Values are copied as JSON text, unchanged; the
// template's key order is kept, with the request's new keys after it.
// Empty or null input counts as {}. Either side that is not a JSON object
// gives EINVALID naming "options" (for the request) or
// "template.agent_options". The result is not validated: callers run
// ValidateOptions on it for the action's type.
func MergeTemplateOptions(templateOptions, requestOptions json.RawMessage) (json.RawMessage, error) {
	base, err := objectMembers("template.agent_options", templateOptions)
	if err != nil {
		return nil, err
	}
	over, err := objectMembers("options", requestOptions)
	if err != nil {
		return nil, err
	}
	index := make(map[string]int, len(base))
	for i, m := range base {
		index[m.key] = i
	}
	removed := map[string]bool{}
	for _, m := range over {
		removed[m.key] = string(m.value) == "null"
		if i, ok := index[m.key]; ok {
			base[i].value = m.value
			continue
		}
		index[m.key] = len(base)
		base = append(base, m)
	}
	var b bytes.Buffer
	enc := json.NewEncoder(&b)
	enc.SetEscapeHTML(false)
	b.WriteByte('{')
	first := true
	for _, m := range base {
		if removed[m.key] {
			continue
		}
		if !first {
			b.WriteByte(',')
		}
		first = false
		if err := enc.Encode(m.key); err != nil {
			return nil, err
		}
		b.Truncate(b.Len() - 1) // Encode's newline
		b.WriteByte(':')
		b.Write(m.value)
	}
	b.WriteByte('}')
	return json.RawMessage(b.Bytes()), nil
}

// member is one key of a JSON object, with its value's compact JSON text.
type member struct {
	key   string
	value json.RawMessage
}

// objectMembers splits a JSON object into its members in document order.
// A repeated key keeps its first position and its last value, as
// encoding/json would decode it.
func objectMembers(field string, raw json.RawMessage) ([]member, error) {
	raw = bytes.TrimSpace(raw)
	if len(raw) == 0 || string(raw) == "null" {
		return nil, nil
	}
	notObject := steward.FieldErrorf(field, "%s must be a JSON object", field)
	dec := json.NewDecoder(bytes.NewReader(raw))
	if tok, err := dec.Token(); err != nil || tok != json.Delim('{') {
		return nil, notObject
	}
	var out []member
	seen := map[string]int{}
	for dec.More() {
		tok, err := dec.Token()
		if err != nil {
			return nil, notObject
		}
		key, _ := tok.(string)
		var v json.RawMessage
		if err := dec.Decode(&v); err != nil {
			return nil, notObject
		}
		var compact bytes.Buffer
		if err := json.Compact(&compact, v); err != nil {
			return nil, notObject
		}
		if i, ok := seen[key]; ok {
			out[i].value = compact.Bytes()
			continue
		}
		seen[key] = len(out)
		out = append(out, member{key: key, value: compact.Bytes()})
	}
	if _, err := dec.Token(); err != nil {
		return nil, notObject
	}
	if _, err := dec.Token(); err != io.EOF {
		return nil, notObject // data after the object
	}
	return out, nil
}
