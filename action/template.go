package action

import (
	"encoding/json"
	"fmt"
	"strconv"
	"strings"

	"github.com/steward-dev/steward"
)

// MaxRenderedBytes bounds what one template may produce, so a template
// over a large event cannot exhaust memory.
const MaxRenderedBytes = 1 << 20

// Template is a parsed option string: literal text with {{.path.to.field}}
// references into the incoming event. Rendering only reads the event: no
// functions, no I/O. Text in {% ... %} (Tines' credential and Liquid tags)
// is kept literally.
type Template struct {
	parts []part
}

type part struct {
	literal string
	path    []string // nil for a literal
}

// ParseTemplate parses s. Errors say where the template is broken.
func ParseTemplate(s string) (*Template, error) {
	t := &Template{}
	rest := s
	for {
		i := strings.Index(rest, "{{")
		if i < 0 {
			if rest != "" {
				t.parts = append(t.parts, part{literal: rest})
			}
			return t, nil
		}
		if i > 0 {
			t.parts = append(t.parts, part{literal: rest[:i]})
		}
		j := strings.Index(rest[i:], "}}")
		if j < 0 {
			return nil, fmt.Errorf("%q opens {{ without a closing }}", s)
		}
		expr := strings.TrimSpace(rest[i+2 : i+j])
		path, err := parsePath(expr)
		if err != nil {
			return nil, fmt.Errorf("{{%s}}: %w", rest[i+2:i+j], err)
		}
		t.parts = append(t.parts, part{path: path})
		rest = rest[i+j+2:]
	}
}

// parsePath parses ".a.b.0.c" (a leading dot is required; "." alone is the
// whole event).
func parsePath(expr string) ([]string, error) {
	if !strings.HasPrefix(expr, ".") {
		return nil, fmt.Errorf("a reference must start with a dot, like {{.field}}")
	}
	if expr == "." {
		return []string{}, nil
	}
	segs := strings.Split(expr[1:], ".")
	for _, s := range segs {
		if s == "" {
			return nil, fmt.Errorf("empty path segment in %q", expr)
		}
		if strings.ContainsAny(s, " \t\n{}|()\"'") {
			return nil, fmt.Errorf("%q is not a field path; use {{.path.to.field}}", expr)
		}
	}
	return segs, nil
}

// Lookup returns the value at path in event, or nil when absent.
func Lookup(event any, path []string) any {
	v := event
	for _, seg := range path {
		switch c := v.(type) {
		case map[string]any:
			v = c[seg]
		case []any:
			i, err := strconv.Atoi(seg)
			if err != nil || i < 0 || i >= len(c) {
				return nil
			}
			v = c[i]
		default:
			return nil
		}
	}
	return v
}

// Render produces the template's text for event. Strings render as
// themselves, other values as JSON, absent values as "".
func (t *Template) Render(event any) (string, error) {
	var b strings.Builder
	for _, p := range t.parts {
		if p.path == nil {
			b.WriteString(p.literal)
		} else {
			switch v := Lookup(event, p.path).(type) {
			case nil:
			case string:
				b.WriteString(v)
			default:
				j, err := json.Marshal(v)
				if err != nil {
					return "", err
				}
				b.Write(j)
			}
		}
		if b.Len() > MaxRenderedBytes {
			return "", fmt.Errorf("rendered template is larger than %d bytes", MaxRenderedBytes)
		}
	}
	return b.String(), nil
}

// RenderValue renders every string inside v (objects and arrays
// included). A string that is exactly one reference, like "{{.items}}",
// takes the referenced value itself, keeping its JSON type.
func RenderValue(v any, event any) (any, error) {
	switch c := v.(type) {
	case string:
		t, err := ParseTemplate(c)
		if err != nil {
			return nil, err
		}
		if len(t.parts) == 1 && t.parts[0].path != nil {
			return Lookup(event, t.parts[0].path), nil
		}
		return t.Render(event)
	case map[string]any:
		out := make(map[string]any, len(c))
		for k, e := range c {
			r, err := RenderValue(e, event)
			if err != nil {
				return nil, err
			}
			out[k] = r
		}
		return out, nil
	case []any:
		out := make([]any, len(c))
		for i, e := range c {
			r, err := RenderValue(e, event)
			if err != nil {
				return nil, err
			}
			out[i] = r
		}
		return out, nil
	}
	return v, nil
}

// checkTemplates reports the first broken template among the strings in v,
// as EINVALID naming field (with the JSON path inside it).
func checkTemplates(field string, v any) error {
	switch c := v.(type) {
	case string:
		if _, err := ParseTemplate(c); err != nil {
			return steward.FieldErrorf(field, "%s has a broken template: %v", field, err)
		}
	case map[string]any:
		for k, e := range c {
			if err := checkTemplates(field+"."+k, e); err != nil {
				return err
			}
		}
	case []any:
		for i, e := range c {
			if err := checkTemplates(fmt.Sprintf("%s[%d]", field, i), e); err != nil {
				return err
			}
		}
	}
	return nil
}
