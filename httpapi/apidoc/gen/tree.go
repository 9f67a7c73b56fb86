package main

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"math"
	"strconv"
	"strings"

	"go.yaml.in/yaml/v3"
)

// object is a JSON object that keeps its keys in document order, so the
// generated files follow the order the source was written in.
type object struct {
	keys []string
	vals map[string]any
}

func (o *object) get(key string) any {
	if o == nil {
		return nil
	}
	return o.vals[key]
}

// obj returns the member key as an object, or nil.
func (o *object) obj(key string) *object {
	v, _ := o.get(key).(*object)
	return v
}

// str returns the member key as a string, or "".
func (o *object) str(key string) string {
	v, _ := o.get(key).(string)
	return v
}

// MarshalJSON writes the members in order.
func (o *object) MarshalJSON() ([]byte, error) {
	var b bytes.Buffer
	b.WriteByte('{')
	for i, k := range o.keys {
		if i > 0 {
			b.WriteByte(',')
		}
		kb, _ := encode(k)
		b.Write(kb)
		b.WriteByte(':')
		vb, err := encode(o.vals[k])
		if err != nil {
			return nil, err
		}
		b.Write(vb)
	}
	b.WriteByte('}')
	return b.Bytes(), nil
}

// fromYAML converts a YAML document into JSON values: *object, []any,
// string, bool, nil, int64 or float64. Aliases are expanded; mapping keys
// must be strings.
func fromYAML(src []byte) (any, error) {
	dec := yaml.NewDecoder(bytes.NewReader(src))
	var doc, extra yaml.Node
	if err := dec.Decode(&doc); err != nil {
		return nil, err
	}
	if err := dec.Decode(&extra); err != io.EOF || doc.Kind != yaml.DocumentNode || len(doc.Content) != 1 {
		return nil, fmt.Errorf("expected exactly one YAML document")
	}
	return convertNode(doc.Content[0])
}

func convertNode(n *yaml.Node) (any, error) {
	switch n.Kind {
	case yaml.AliasNode:
		return convertNode(n.Alias)
	case yaml.MappingNode:
		o := &object{vals: map[string]any{}}
		for i := 0; i+1 < len(n.Content); i += 2 {
			k, v := n.Content[i], n.Content[i+1]
			if k.Kind != yaml.ScalarNode || k.ShortTag() == "!!merge" {
				return nil, fmt.Errorf("line %d: only plain string keys are supported", k.Line)
			}
			if _, dup := o.vals[k.Value]; dup {
				return nil, fmt.Errorf("line %d: duplicate key %q", k.Line, k.Value)
			}
			cv, err := convertNode(v)
			if err != nil {
				return nil, err
			}
			o.keys = append(o.keys, k.Value)
			o.vals[k.Value] = cv
		}
		return o, nil
	case yaml.SequenceNode:
		a := make([]any, 0, len(n.Content))
		for _, c := range n.Content {
			cv, err := convertNode(c)
			if err != nil {
				return nil, err
			}
			a = append(a, cv)
		}
		return a, nil
	case yaml.ScalarNode:
		return convertScalar(n)
	}
	return nil, fmt.Errorf("line %d: unsupported YAML node", n.Line)
}

func convertScalar(n *yaml.Node) (any, error) {
	switch n.ShortTag() {
	case "!!str":
		return n.Value, nil
	case "!!null":
		return nil, nil
	case "!!bool":
		var b bool
		err := n.Decode(&b)
		return b, err
	case "!!int":
		i, err := strconv.ParseInt(strings.ReplaceAll(n.Value, "_", ""), 0, 64)
		if err != nil {
			return nil, fmt.Errorf("line %d: %w", n.Line, err)
		}
		return i, nil
	case "!!float":
		var f float64
		if err := n.Decode(&f); err != nil {
			return nil, err
		}
		if math.IsInf(f, 0) || math.IsNaN(f) {
			return nil, fmt.Errorf("line %d: %s has no JSON form", n.Line, n.Value)
		}
		return f, nil
	}
	return nil, fmt.Errorf("line %d: unsupported scalar tag %s", n.Line, n.ShortTag())
}

// resolve follows a local "$ref" ("#/components/...") from v.
func resolve(root *object, v any) any {
	for i := 0; i < 16; i++ {
		o, ok := v.(*object)
		if !ok {
			return v
		}
		ref, ok := o.get("$ref").(string)
		if !ok || !strings.HasPrefix(ref, "#/") {
			return v
		}
		var cur any = root
		for _, part := range strings.Split(ref[2:], "/") {
			part = strings.ReplaceAll(strings.ReplaceAll(part, "~1", "/"), "~0", "~")
			co, ok := cur.(*object)
			if !ok {
				return nil
			}
			cur = co.get(part)
		}
		v = cur
	}
	return v
}

// encode renders v as compact JSON without escaping <, > and &, which
// are common in descriptions and harmless outside HTML.
func encode(v any) ([]byte, error) {
	var b bytes.Buffer
	enc := json.NewEncoder(&b)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(v); err != nil {
		return nil, err
	}
	return bytes.TrimSuffix(b.Bytes(), []byte("\n")), nil
}

// marshalIndent renders v as indented JSON with a final newline.
func marshalIndent(v any) ([]byte, error) {
	raw, err := encode(v)
	if err != nil {
		return nil, err
	}
	var b bytes.Buffer
	if err := json.Indent(&b, raw, "", "  "); err != nil {
		return nil, err
	}
	b.WriteByte('\n')
	return b.Bytes(), nil
}
