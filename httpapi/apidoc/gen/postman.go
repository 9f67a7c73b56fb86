package main

import (
	"encoding/json"
	"fmt"
	"regexp"
	"slices"
	"strconv"
	"strings"
)

// postmanSchema is the Postman collection format written: v2.1.
const postmanSchema = "https://schema.getpostman.com/json/collection/v2.1.0/collection.json"

// The collection's shape, in the order Postman itself writes the fields.
type (
	pmCollection struct {
		Info     pmInfo   `json:"info"`
		Item     []pmItem `json:"item"`
		Auth     *pmAuth  `json:"auth,omitempty"`
		Variable []pmKV   `json:"variable"`
	}
	pmInfo struct {
		Name        string `json:"name"`
		Description string `json:"description"`
		Schema      string `json:"schema"`
	}
	pmItem struct {
		Name        string     `json:"name"`
		Description string     `json:"description,omitempty"`
		Item        []pmItem   `json:"item,omitempty"`
		Event       []pmEvent  `json:"event,omitempty"`
		Request     *pmRequest `json:"request,omitempty"`
	}
	pmEvent struct {
		Listen string   `json:"listen"`
		Script pmScript `json:"script"`
	}
	pmScript struct {
		Type string   `json:"type"`
		Exec []string `json:"exec"`
	}
	pmRequest struct {
		Auth        *pmAuth `json:"auth,omitempty"`
		Method      string  `json:"method"`
		Header      []pmKV  `json:"header"`
		Body        *pmBody `json:"body,omitempty"`
		URL         pmURL   `json:"url"`
		Description string  `json:"description,omitempty"`
	}
	pmBody struct {
		Mode    string `json:"mode"`
		Raw     string `json:"raw"`
		Options any    `json:"options"`
	}
	pmURL struct {
		Raw   string   `json:"raw"`
		Host  []string `json:"host"`
		Path  []string `json:"path"`
		Query []pmKV   `json:"query,omitempty"`
	}
	pmAuth struct {
		Type   string `json:"type"`
		Bearer []pmKV `json:"bearer,omitempty"`
		APIKey []pmKV `json:"apikey,omitempty"`
	}
	pmKV struct {
		Key   string `json:"key"`
		Value string `json:"value"`
		Type  string `json:"type,omitempty"`
	}
)

// operation is one method on one path of the document.
type operation struct {
	tag, method, path string
	op                *object
	pathItem          *object
}

var methods = []string{"get", "put", "post", "delete", "options", "head", "patch", "trace"}

// operations lists the document's operations in document order.
func operations(doc *object) []operation {
	var ops []operation
	paths := doc.obj("paths")
	if paths == nil {
		return nil
	}
	for _, p := range paths.keys {
		item, _ := resolve(doc, paths.get(p)).(*object)
		if item == nil {
			continue
		}
		for _, m := range item.keys {
			if !slices.Contains(methods, m) {
				continue
			}
			op, _ := item.get(m).(*object)
			if op == nil {
				continue
			}
			tag := "Other"
			if tags, _ := op.get("tags").([]any); len(tags) > 0 {
				tag, _ = tags[0].(string)
			}
			ops = append(ops, operation{tag: tag, method: strings.ToUpper(m), path: p, op: op, pathItem: item})
		}
	}
	return ops
}

// postmanCollection builds Steward's Postman collection from the OpenAPI
// document: one folder per tag holding each tag's creating requests first
// (they save the new object's id for the requests after them), then its
// other requests, and a last folder with every DELETE, newest objects'
// dependants first. Each request tests for its documented success status.
func postmanCollection(doc *object) (*pmCollection, error) {
	info := doc.obj("info")
	c := &pmCollection{
		Info: pmInfo{Name: info.str("title"), Schema: postmanSchema,
			Description: "Generated from Steward's OpenAPI document by `go generate ./httpapi/apidoc`; do not edit.\n\n" +
				"Set `baseUrl` (such as https://127.0.0.1:3000), `apiKey` (an admin's API key), for the " +
				"Tyk-compatible `/admin` API `adminSecret` (the instance admin secret), for signing in " +
				"`adminEmail` and `adminPassword`, and for accepting an invitation `invitationToken` " +
				"(from the invitation email)."},
		Auth:     &pmAuth{Type: "bearer", Bearer: []pmKV{{Key: "token", Value: "{{apiKey}}", Type: "string"}}},
		Variable: slices.Clone(inputVariables),
	}
	var tags []string
	for _, t := range asSlice(doc.get("tags")) {
		if o, ok := t.(*object); ok {
			tags = append(tags, o.str("name"))
		}
	}
	ops := operations(doc)
	for _, o := range ops {
		if !slices.Contains(tags, o.tag) {
			tags = append(tags, o.tag)
		}
		if v := o.op.str("x-postman-save-id"); v != "" {
			c.Variable = append(c.Variable, pmKV{Key: v, Value: ""})
		}
		if save := o.op.obj("x-postman-save"); save != nil {
			for _, v := range save.keys {
				c.Variable = append(c.Variable, pmKV{Key: v, Value: ""})
			}
		}
	}
	var deletes []pmItem
	for _, tag := range tags {
		folder := pmItem{Name: tag}
		var creates, rest, dels []pmItem
		for _, o := range ops {
			if o.tag != tag {
				continue
			}
			it, err := postmanItem(doc, o)
			if err != nil {
				return nil, fmt.Errorf("%s %s: %w", o.method, o.path, err)
			}
			switch {
			case o.method == "DELETE":
				dels = append(dels, it)
			case o.op.str("x-postman-save-id") != "":
				creates = append(creates, it)
			default:
				rest = append(rest, it)
			}
		}
		folder.Item = append(creates, rest...)
		if len(folder.Item) > 0 {
			c.Item = append(c.Item, folder)
		}
		slices.Reverse(dels)
		deletes = append(dels, deletes...)
	}
	if len(deletes) > 0 {
		c.Item = append(c.Item, pmItem{Name: "Clean up", Description: "Deletes what the requests above created.", Item: deletes})
	}
	return c, nil
}

func asSlice(v any) []any { s, _ := v.([]any); return s }

// postmanItem is one request with its status test.
func postmanItem(doc *object, o operation) (pmItem, error) {
	status, err := successStatus(doc, o.op)
	if err != nil {
		return pmItem{}, err
	}
	segs := []string{}
	for _, s := range strings.Split(strings.Trim(o.path, "/"), "/") {
		if strings.HasPrefix(s, "{") && strings.HasSuffix(s, "}") {
			s = "{" + s + "}"
		}
		segs = append(segs, s)
	}
	req := &pmRequest{Method: o.method, Header: []pmKV{{Key: "Accept", Value: "application/json"}},
		URL: pmURL{Raw: "{{baseUrl}}/" + strings.Join(segs, "/"), Host: []string{"{{baseUrl}}"}, Path: segs}}
	if sec, ok := o.op.get("security").([]any); ok && len(sec) == 0 {
		req.Auth = &pmAuth{Type: "noauth"}
	} else if ok && len(sec) == 1 {
		if req1, _ := sec[0].(*object); req1 != nil && len(req1.keys) == 1 && req1.keys[0] == "adminAuth" {
			req.Auth = &pmAuth{Type: "apikey", APIKey: []pmKV{{Key: "key", Value: "admin-auth", Type: "string"},
				{Key: "value", Value: "{{adminSecret}}", Type: "string"}, {Key: "in", Value: "header", Type: "string"}}}
		}
	}
	if q := o.op.str("x-postman-query"); q != "" {
		req.URL.Raw += "?" + q
		for _, kv := range strings.Split(q, "&") {
			k, v, _ := strings.Cut(kv, "=")
			req.URL.Query = append(req.URL.Query, pmKV{Key: k, Value: v})
		}
	}
	body, err := requestBody(doc, o.op)
	if err != nil {
		return pmItem{}, err
	}
	if body != "" {
		req.Header = append(req.Header, pmKV{Key: "Content-Type", Value: "application/json"})
		req.Body = &pmBody{Mode: "raw", Raw: body, Options: map[string]any{"raw": map[string]string{"language": "json"}}}
	}
	test := []string{
		fmt.Sprintf("pm.test(\"status is %d\", function () {", status),
		fmt.Sprintf("    pm.response.to.have.status(%d);", status),
		"});",
	}
	saves, err := responseSaves(o.op)
	if err != nil {
		return pmItem{}, err
	}
	if len(saves) > 0 {
		test = append(test, fmt.Sprintf("if (pm.response.code === %d) {", status))
		test = append(test, saves...)
		test = append(test, "}")
	}
	name := o.op.str("summary")
	if name == "" {
		name = o.method + " " + o.path
	}
	desc := o.method + " " + o.path
	if d := o.op.str("description"); d != "" {
		desc += "\n\n" + strings.TrimSpace(d)
	}
	req.Description = desc
	return pmItem{Name: name, Request: req,
		Event: []pmEvent{{Listen: "test", Script: pmScript{Type: "text/javascript", Exec: test}}}}, nil
}

// responseSaves are the script lines that store response values in
// collection variables: "id" for x-postman-save-id, and for each entry
// VAR: [key, index, ...] of x-postman-save the value at that path of the
// response JSON (such as [admin/retry_jobs, 0, id]).
func responseSaves(op *object) ([]string, error) {
	var lines []string
	if v := op.str("x-postman-save-id"); v != "" {
		from := op.str("x-postman-save-from")
		if from == "" {
			from = "id"
		}
		if !jsonMemberPath.MatchString(from) {
			return nil, fmt.Errorf("x-postman-save-from %q is not a member path such as Meta.id", from)
		}
		lines = append(lines, fmt.Sprintf("    pm.collectionVariables.set(%q, String(pm.response.json().%s));", v, from))
	}
	save := op.obj("x-postman-save")
	if save == nil {
		return lines, nil
	}
	for _, v := range save.keys {
		path := asSlice(save.get(v))
		if len(path) == 0 {
			return nil, fmt.Errorf("x-postman-save: %s needs a path: a list of keys and indexes", v)
		}
		expr := "pm.response.json()"
		for _, p := range path {
			switch p := p.(type) {
			case string:
				k, _ := json.Marshal(p)
				expr += "[" + string(k) + "]"
			case int64:
				expr += "[" + strconv.FormatInt(p, 10) + "]"
			default:
				return nil, fmt.Errorf("x-postman-save: %s: path elements are keys or indexes, got %v", v, p)
			}
		}
		lines = append(lines, fmt.Sprintf("    pm.collectionVariables.set(%q, String(%s));", v, expr))
	}
	return lines, nil
}

// inputVariables are the collection variables its user sets; the others
// are saved by its requests.
var inputVariables = []pmKV{{Key: "baseUrl", Value: "http://127.0.0.1:3000"}, {Key: "apiKey", Value: ""},
	{Key: "adminSecret", Value: ""}, {Key: "adminEmail", Value: ""}, {Key: "adminPassword", Value: ""},
	{Key: "invitationToken", Value: ""}}

// jsonMemberPath is a dotted path of member names into a JSON response.
var jsonMemberPath = regexp.MustCompile(`^[A-Za-z_][A-Za-z0-9_]*(\.[A-Za-z_][A-Za-z0-9_]*)*$`)

// successStatus is the lowest 2xx status the operation documents.
func successStatus(doc *object, op *object) (int, error) {
	best := 0
	if rs := op.obj("responses"); rs != nil {
		for _, k := range rs.keys {
			if n, err := strconv.Atoi(k); err == nil && n >= 200 && n < 300 && (best == 0 || n < best) {
				best = n
			}
		}
	}
	if best == 0 {
		return 0, fmt.Errorf("documents no 2xx response")
	}
	return best, nil
}

// requestBody is the raw body to send: x-postman-body, or the JSON example
// of the request body, or "" when the operation takes none.
func requestBody(doc *object, op *object) (string, error) {
	if raw := op.str("x-postman-body"); raw != "" {
		return raw, nil
	}
	rb, _ := resolve(doc, op.get("requestBody")).(*object)
	if rb == nil {
		return "", nil
	}
	mt := rb.obj("content").obj("application/json")
	if mt == nil {
		return "", fmt.Errorf("request body has no application/json content")
	}
	ex, ok := mt.vals["example"]
	if !ok {
		return "", fmt.Errorf("request body has no example (or x-postman-body)")
	}
	b, err := marshalIndent(ex)
	if err != nil {
		return "", err
	}
	return strings.TrimSuffix(string(b), "\n"), nil
}
