package httpapi_test

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"regexp"
	"slices"
	"strings"
	"sync"
	"testing"

	"github.com/pb33f/libopenapi"
	validator "github.com/pb33f/libopenapi-validator"
	"github.com/pb33f/libopenapi-validator/config"
	"github.com/steward-dev/steward/httpapi/apidoc"
)

// The contract tests hold the API to its OpenAPI document
// (httpapi/apidoc/openapi.yaml): the document is valid OpenAPI 3.1, it
// describes every registered route and nothing else, and real responses
// from a running server match it. To add an endpoint: register the route,
// describe it in openapi.yaml, run `go generate ./httpapi/apidoc`, and add
// calls for it to contractCalls in contract_calls_test.go.

var loadContract = sync.OnceValues(func() (validator.Validator, error) {
	doc, err := libopenapi.NewDocument(apidoc.OpenAPI)
	if err != nil {
		return nil, err
	}
	// Formats (date-time, uri, email) are checked too, not just types.
	v, errs := validator.NewValidator(doc, config.WithFormatAssertions())
	if len(errs) > 0 {
		return nil, errs[0]
	}
	return v, nil
})

// contractValidator returns the validator built from the embedded document.
func contractValidator(t *testing.T) validator.Validator {
	t.Helper()
	v, err := loadContract()
	if err != nil {
		t.Fatalf("load OpenAPI document: %v", err)
	}
	return v
}

// validationErrors renders the validator's findings for a failure message.
func validationErrors[E interface{ Error() string }](errs []E) string {
	var b strings.Builder
	for _, e := range errs {
		fmt.Fprintf(&b, "\n  - %s", e.Error())
	}
	return b.String()
}

func TestOpenAPIDocumentIsValid31(t *testing.T) {
	var head struct {
		OpenAPI string `json:"openapi"`
	}
	if err := json.Unmarshal(apidoc.OpenAPI, &head); err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(head.OpenAPI, "3.1.") {
		t.Fatalf("openapi = %q, want 3.1.x", head.OpenAPI)
	}
	if ok, errs := contractValidator(t).ValidateDocument(); !ok {
		t.Fatalf("openapi.json is not a valid OpenAPI 3.1 document:%s", validationErrors(errs))
	}
}

// routeParam matches a path parameter in a mux pattern or an OpenAPI path.
var routeParam = regexp.MustCompile(`\{[^}]*\}`)

// documentedOperations lists "METHOD /path" for every operation in the
// document, with path parameters written as {}.
func documentedOperations(t *testing.T) []string {
	t.Helper()
	var doc struct {
		Paths map[string]map[string]json.RawMessage `json:"paths"`
	}
	if err := json.Unmarshal(apidoc.OpenAPI, &doc); err != nil {
		t.Fatal(err)
	}
	var ops []string
	for path, item := range doc.Paths {
		for m := range item {
			switch m {
			case "get", "put", "post", "delete", "options", "head", "patch", "trace":
				ops = append(ops, strings.ToUpper(m)+" "+routeParam.ReplaceAllString(path, "{}"))
			}
		}
	}
	slices.Sort(ops)
	return ops
}

func TestOpenAPIDocumentsEveryRoute(t *testing.T) {
	eachEnv(t, func(t *testing.T, e *env) {
		checkRoutesDocumented(t, e.API.Routes())
	})
}

// checkRoutesDocumented fails for each route missing from the document and
// each documented operation that is not a route.
func checkRoutesDocumented(t *testing.T, registered []string) {
	t.Helper()
	var routes []string
	for _, r := range registered {
		method, path, ok := strings.Cut(r, " ")
		if !ok {
			t.Errorf("route %q has no method; every route must be \"METHOD /path\"", r)
			continue
		}
		routes = append(routes, method+" "+routeParam.ReplaceAllString(strings.TrimSuffix(path, "{$}"), "{}"))
	}
	if len(routes) == 0 {
		t.Fatal("the server registered no routes")
	}
	documented := documentedOperations(t)
	for _, r := range routes {
		// A trailing-slash twin ("GET /admin/users/") is the same operation
		// as the documented path without the slash.
		if twin, ok := strings.CutSuffix(r, "/"); ok && slices.Contains(documented, twin) {
			continue
		}
		if !slices.Contains(documented, r) {
			t.Errorf("route %s is registered but missing from httpapi/apidoc/openapi.yaml", r)
		}
	}
	for _, op := range documented {
		if !slices.Contains(routes, op) {
			t.Errorf("openapi.yaml documents %s, but no such route is registered", op)
		}
	}
}

// contractCall is one request of the contract run. Path and body may use
// {name} placeholders for ids saved by earlier calls (Save).
type contractCall struct {
	Name    string
	Method  string
	Path    string
	Auth    func(e *env, s *contractState, h http.Header) // nil: the admin's bearer key
	Body    any                                           // string: sent as is; else JSON
	Status  int
	Save    string // save the response's "id" under this name
	Comment string
}

// contractState carries saved ids and credentials through the calls.
type contractState struct {
	ids map[string]string
}

func (s *contractState) fill(str string) string {
	for k, v := range s.ids {
		str = strings.ReplaceAll(str, "{"+k+"}", v)
	}
	return str
}

// run sends the call, checks its status, and validates the response (and,
// for successful calls, the request) against the document.
// w, when not nil, checks the audit records the call left.
func (c contractCall) run(t *testing.T, e *env, v validator.Validator, s *contractState, w *auditWatch) {
	t.Helper()
	var body []byte
	switch b := c.Body.(type) {
	case nil:
	case string:
		body = []byte(s.fill(b))
	default:
		j, err := json.Marshal(b)
		if err != nil {
			t.Fatal(err)
		}
		body = []byte(s.fill(string(j)))
	}
	req, err := http.NewRequest(c.Method, e.Server.URL+s.fill(c.Path), bytes.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	if c.Auth != nil {
		c.Auth(e, s, req.Header)
	} else {
		req.Header.Set("Authorization", "Bearer "+e.AdminKey)
	}
	resp, err := e.Server.Client().Do(req)
	if err != nil {
		t.Fatal(err)
	}
	data, err := io.ReadAll(resp.Body)
	resp.Body.Close()
	if err != nil {
		t.Fatal(err)
	}
	if resp.StatusCode != c.Status {
		t.Fatalf("%s: %s %s: status %d, want %d; body: %.500s", c.Name, c.Method, req.URL.Path, resp.StatusCode, c.Status, data)
	}
	if w != nil {
		w.check(t, c, body, data)
	}
	// The validator reads both bodies; give it fresh readers.
	req.Body = io.NopCloser(bytes.NewReader(body))
	resp.Body = io.NopCloser(bytes.NewReader(data))
	resp.Request = req
	validate := v.ValidateHttpResponse
	if c.Status < 300 {
		// A successful call also checks that the document accepts the request.
		validate = v.ValidateHttpRequestResponse
	}
	ok, errs := validate(req, resp)
	if !ok {
		t.Errorf("%s: %s %s (%d) does not match openapi.yaml:%s\nbody: %.500s",
			c.Name, c.Method, req.URL.Path, resp.StatusCode, validationErrors(errs), data)
	}
	if c.Save != "" {
		var obj struct {
			ID json.Number `json:"id"`
		}
		if err := json.Unmarshal(data, &obj); err != nil || obj.ID == "" {
			t.Fatalf("%s: no id to save in %s", c.Name, data)
		}
		s.ids[c.Save] = obj.ID.String()
	}
}
