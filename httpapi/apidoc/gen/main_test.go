package main

import (
	"bytes"
	"encoding/json"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
)

func generated(t *testing.T) map[string][]byte {
	t.Helper()
	src, err := os.ReadFile(filepath.Join("..", sourceFile))
	if err != nil {
		t.Fatal(err)
	}
	files, err := generate(src)
	if err != nil {
		t.Fatal(err)
	}
	return files
}

// TestCommittedFilesAreCurrent keeps the served document and the Postman
// collection from drifting from openapi.yaml.
func TestCommittedFilesAreCurrent(t *testing.T) {
	for name, want := range generated(t) {
		got, err := os.ReadFile(filepath.Join("..", name))
		if err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(got, want) {
			t.Errorf("httpapi/apidoc/%s is stale: run `go generate ./httpapi/apidoc` and commit the result", name)
		}
	}
}

var pmVar = regexp.MustCompile(`\{\{([^}]+)\}\}`)

// TestPostmanCollectionRunsEveryOperation checks the collection has one
// request per documented operation, each testing its success status, and
// that each id a request's URL needs is saved by a request before it.
func TestPostmanCollectionRunsEveryOperation(t *testing.T) {
	files := generated(t)
	type op struct {
		Responses map[string]any `json:"responses"`
	}
	var doc struct {
		Paths map[string]map[string]json.RawMessage `json:"paths"`
	}
	if err := json.Unmarshal(files[documentFile], &doc); err != nil {
		t.Fatal(err)
	}
	var coll pmCollection
	if err := json.Unmarshal(files[postmanFile], &coll); err != nil {
		t.Fatal(err)
	}
	if coll.Info.Schema != postmanSchema {
		t.Errorf("schema %q, want %q", coll.Info.Schema, postmanSchema)
	}
	declared := map[string]bool{}
	for _, v := range coll.Variable {
		declared[v.Key] = true
	}
	saved := map[string]bool{}
	for _, v := range inputVariables {
		saved[v.Key] = true
	}
	seen := map[string]bool{}
	var walk func(items []pmItem)
	walk = func(items []pmItem) {
		for _, it := range items {
			if it.Request == nil {
				walk(it.Item)
				continue
			}
			r := it.Request
			for _, m := range pmVar.FindAllStringSubmatch(r.URL.Raw, -1) {
				if !declared[m[1]] || !saved[m[1]] {
					t.Errorf("%s: {{%s}} is not saved by an earlier request (add x-postman-save-id to the creating operation)", it.Name, m[1])
				}
			}
			path := "/" + strings.Join(r.URL.Path, "/")
			path = pmVar.ReplaceAllString(path, "{$1}")
			key := r.Method + " " + path
			if seen[key] {
				t.Errorf("%s appears twice", key)
			}
			seen[key] = true
			script := ""
			if len(it.Event) == 1 && it.Event[0].Listen == "test" {
				script = strings.Join(it.Event[0].Script.Exec, "\n")
			}
			ops, ok := doc.Paths[path]
			if !ok {
				t.Errorf("%s: %s is not in the document", it.Name, key)
				continue
			}
			var op op
			if err := json.Unmarshal(ops[strings.ToLower(r.Method)], &op); err != nil {
				t.Errorf("%s: %s is not in the document", it.Name, key)
				continue
			}
			var want string
			for code := range op.Responses {
				if code[0] == '2' && (want == "" || code < want) {
					want = code
				}
			}
			if want == "" || !strings.Contains(script, "pm.response.to.have.status("+want+")") {
				t.Errorf("%s: test script does not check for status %s:\n%s", it.Name, want, script)
			}
			for _, m := range regexp.MustCompile(`collectionVariables\.set\("([^"]+)"`).FindAllStringSubmatch(script, -1) {
				saved[m[1]] = true
			}
		}
	}
	walk(coll.Item)
	for path, ops := range doc.Paths {
		for m := range ops {
			if m == "parameters" || m == "summary" || m == "description" || m == "servers" {
				continue
			}
			if key := strings.ToUpper(m) + " " + path; !seen[key] {
				t.Errorf("%s has no request in the Postman collection", key)
			}
		}
	}
}

func TestFromYAMLKeepsOrderAndTypes(t *testing.T) {
	v, err := fromYAML([]byte("b: &x {n: 1, f: 1.5, t: true, z: null, s: '2'}\na: *x\nl: [x, 0x10]\n"))
	if err != nil {
		t.Fatal(err)
	}
	got, err := encode(v)
	if err != nil {
		t.Fatal(err)
	}
	want := `{"b":{"n":1,"f":1.5,"t":true,"z":null,"s":"2"},"a":{"n":1,"f":1.5,"t":true,"z":null,"s":"2"},"l":["x",16]}`
	if string(got) != want {
		t.Errorf("got  %s\nwant %s", got, want)
	}
	for _, bad := range []string{"a: 1\na: 2\n", "? [1]\n: x\n", "a: .inf\n", "- a\n---\n- b\n"} {
		if _, err := fromYAML([]byte(bad)); err == nil {
			t.Errorf("fromYAML(%q) succeeded, want an error", bad)
		}
	}
}

// TestPostmanOrder checks the run order on a small document: creating
// requests first in their folder, the rest in document order, and every
// DELETE in a last folder, later tags' first, so dependants go before what
// they depend on.
func TestPostmanOrder(t *testing.T) {
	src := `
openapi: 3.1.0
info: {title: T, version: "1"}
tags: [{name: A}, {name: B}]
paths:
  /a/{a_id}:
    get: {tags: [A], summary: get a, responses: {"200": {description: ok}}}
    delete: {tags: [A], summary: delete a, responses: {"204": {description: ok}}}
  /a:
    post:
      tags: [A]
      summary: create a
      x-postman-save-id: a_id
      requestBody: {content: {application/json: {example: {name: x}}}}
      responses: {"201": {description: ok}, "422": {description: bad}}
  /b:
    post:
      tags: [B]
      summary: create b
      x-postman-save-id: b_id
      x-postman-body: '{"a": {{a_id}}}'
      responses: {"201": {description: ok}}
  /b/{b_id}:
    delete: {tags: [B], summary: delete b, security: [], responses: {"204": {description: ok}}}
`
	v, err := fromYAML([]byte(src))
	if err != nil {
		t.Fatal(err)
	}
	c, err := postmanCollection(v.(*object))
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, f := range c.Item {
		for _, it := range f.Item {
			got = append(got, f.Name+": "+it.Name)
		}
	}
	want := []string{"A: create a", "A: get a", "B: create b", "Clean up: delete b", "Clean up: delete a"}
	if strings.Join(got, "|") != strings.Join(want, "|") {
		t.Errorf("order:\n got %q\nwant %q", got, want)
	}
	createA, createB, deleteB := c.Item[0].Item[0].Request, c.Item[1].Item[0].Request, c.Item[2].Item[0].Request
	if createA.Body == nil || createA.Body.Raw != "{\n  \"name\": \"x\"\n}" {
		t.Errorf("create a body: %+v", createA.Body)
	}
	if createB.Body == nil || createB.Body.Raw != `{"a": {{a_id}}}` {
		t.Errorf("create b body: %+v, want the x-postman-body text", createB.Body)
	}
	if deleteB.URL.Raw != "{{baseUrl}}/b/{{b_id}}" || deleteB.Auth == nil || deleteB.Auth.Type != "noauth" {
		t.Errorf("delete b: url %q auth %+v", deleteB.URL.Raw, deleteB.Auth)
	}
	if script := strings.Join(c.Item[0].Item[0].Event[0].Script.Exec, "\n"); !strings.Contains(script, `pm.collectionVariables.set("a_id"`) ||
		!strings.Contains(script, "have.status(201)") {
		t.Errorf("create a test script:\n%s", script)
	}
}

// TestPostmanSaveFromAndAdminAuth checks x-postman-save-from (an id inside
// an envelope) and the admin-auth header of adminAuth operations.
func TestPostmanSaveFromAndAdminAuth(t *testing.T) {
	src := `
openapi: 3.1.0
info: {title: T, version: "1"}
paths:
  /admin/orgs:
    post:
      summary: create org
      security: [{adminAuth: []}]
      x-postman-save-id: org_id
      x-postman-save-from: Meta.id
      responses: {"200": {description: ok}}
  /users:
    post:
      summary: create user
      x-postman-save-id: user_id
      x-postman-save-from: "Meta; alert(1)"
      responses: {"200": {description: ok}}
`
	v, err := fromYAML([]byte(src))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := postmanCollection(v.(*object)); err == nil || !strings.Contains(err.Error(), "x-postman-save-from") {
		t.Fatalf("a save-from that is not a member path: err = %v", err)
	}
	ops := v.(*object).obj("paths")
	ops.keys = ops.keys[:1]
	c, err := postmanCollection(v.(*object))
	if err != nil {
		t.Fatal(err)
	}
	it := c.Item[0].Item[0]
	if script := strings.Join(it.Event[0].Script.Exec, "\n"); !strings.Contains(script, `pm.collectionVariables.set("org_id", String(pm.response.json().Meta.id))`) {
		t.Errorf("create org test script:\n%s", script)
	}
	a := it.Request.Auth
	if a == nil || a.Type != "apikey" || len(a.APIKey) != 3 || a.APIKey[0].Value != "admin-auth" || a.APIKey[1].Value != "{{adminSecret}}" || a.APIKey[2].Value != "header" {
		t.Errorf("create org auth: %+v, want the admin-auth header", a)
	}
}

// TestPostmanQuery checks that x-postman-query is sent with the request.
func TestPostmanQuery(t *testing.T) {
	src := `
openapi: 3.1.0
info: {title: T, version: "1"}
paths:
  /page:
    get:
      summary: page
      x-postman-query: token={{invitationToken}}&x=1
      responses: {"200": {description: ok}}
`
	v, err := fromYAML([]byte(src))
	if err != nil {
		t.Fatal(err)
	}
	c, err := postmanCollection(v.(*object))
	if err != nil {
		t.Fatal(err)
	}
	u := c.Item[0].Item[0].Request.URL
	if u.Raw != "{{baseUrl}}/page?token={{invitationToken}}&x=1" || len(u.Query) != 2 ||
		u.Query[0] != (pmKV{Key: "token", Value: "{{invitationToken}}"}) || u.Query[1] != (pmKV{Key: "x", Value: "1"}) {
		t.Errorf("url %+v", u)
	}
}

// TestPostmanSavesResponseValues checks x-postman-save stores values found
// at a path of the response, next to x-postman-save-id's "id".
func TestPostmanSavesResponseValues(t *testing.T) {
	src := `
openapi: 3.1.0
info: {title: T, version: "1"}
paths:
  /jobs:
    get:
      summary: list jobs
      x-postman-save-id: list_id
      x-postman-save: {job_id: [admin/retry_jobs, 0, id], secret: [options, secret]}
      responses: {"200": {description: ok}}
`
	v, err := fromYAML([]byte(src))
	if err != nil {
		t.Fatal(err)
	}
	c, err := postmanCollection(v.(*object))
	if err != nil {
		t.Fatal(err)
	}
	script := strings.Join(c.Item[0].Item[0].Event[0].Script.Exec, "\n")
	for _, want := range []string{
		`pm.collectionVariables.set("list_id", String(pm.response.json().id));`,
		`pm.collectionVariables.set("job_id", String(pm.response.json()["admin/retry_jobs"][0]["id"]));`,
		`pm.collectionVariables.set("secret", String(pm.response.json()["options"]["secret"]));`,
	} {
		if !strings.Contains(script, want) {
			t.Errorf("script lacks %s:\n%s", want, script)
		}
	}
	var vars []string
	for _, kv := range c.Variable {
		vars = append(vars, kv.Key)
	}
	if got := strings.Join(vars, ","); got != "baseUrl,apiKey,adminSecret,adminEmail,adminPassword,invitationToken,list_id,job_id,secret" {
		t.Errorf("variables %s", got)
	}
	bad := strings.Replace(src, "[options, secret]", "[options, 1.5]", 1)
	if v, err = fromYAML([]byte(bad)); err != nil {
		t.Fatal(err)
	}
	if _, err := postmanCollection(v.(*object)); err == nil {
		t.Error("a path element that is neither key nor index was accepted")
	}
}
