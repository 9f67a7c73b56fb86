package httpapi_test

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/steward-dev/steward"
	"github.com/steward-dev/steward/httpapi"
	"github.com/steward-dev/steward/sqlstore"
	"github.com/steward-dev/steward/storetest"
	"golang.org/x/crypto/bcrypt"
)

// env is a running API on a real database with one bootstrapped tenant.
type env struct {
	t        *testing.T
	DB       *sqlstore.DB
	API      *httpapi.Server
	Server   *httptest.Server
	AdminKey string
	Admin    *httpapi.BootstrapResult
}

// services wires every service to the SQL store, as cmd/steward does.
func services(db *sqlstore.DB) httpapi.Services { return httpapi.StoreServices(db) }

// newEnv starts the API on db with a tenant whose admin's key is AdminKey.
// configure, if given, adjusts the configuration first.
func newEnv(t *testing.T, db *sqlstore.DB, configure ...func(*httpapi.Config)) *env {
	t.Helper()
	return newEnvWithClock(t, db, nil, configure...)
}

// newEnvWithClock is newEnv with the API on the given clock (nil: the
// system clock).
func newEnvWithClock(t *testing.T, db *sqlstore.DB, clock steward.Clock, configure ...func(*httpapi.Config)) *env {
	t.Helper()
	cfg := httpapi.DefaultConfig()
	cfg.BcryptCost = bcrypt.MinCost
	for _, f := range configure {
		f(&cfg)
	}
	api := httpapi.NewServer(services(db), cfg, nil, clock)
	srv := httptest.NewServer(api)
	t.Cleanup(srv.Close)
	res, err := httpapi.Bootstrap(context.Background(), services(db), "Acme", "owner@acme.example", "", bcrypt.MinCost)
	if err != nil {
		t.Fatal(err)
	}
	return &env{t: t, DB: db, API: api, Server: srv, AdminKey: res.APIKey, Admin: res}
}

// eachEnv runs fn against a fresh API on every test database.
func eachEnv(t *testing.T, fn func(t *testing.T, e *env)) {
	storetest.Each(t, func(t *testing.T, db *sqlstore.DB) {
		fn(t, newEnv(t, db))
	})
}

// response is a finished request: status, headers and body.
type response struct {
	Status int
	Header http.Header
	Body   []byte
}

// JSON decodes the body into a generic value.
func (r response) JSON(t *testing.T) map[string]any {
	t.Helper()
	var v map[string]any
	if err := json.Unmarshal(r.Body, &v); err != nil {
		t.Fatalf("response is not a JSON object: %v: %s", err, r.Body)
	}
	return v
}

// do sends a request with the given API key ("" for none). body may be a
// string (sent as is) or any value (sent as JSON).
func (e *env) do(method, path, key string, body any) response {
	e.t.Helper()
	headers := map[string]string{}
	if key != "" {
		headers["Authorization"] = "Bearer " + key
	}
	if body != nil {
		headers["Content-Type"] = "application/json"
	}
	return e.send(method, path, headers, body)
}

// send sends a request with exactly the given headers. body may be a
// string or []byte (sent as is) or any value (sent as JSON).
func (e *env) send(method, path string, headers map[string]string, body any) response {
	e.t.Helper()
	var rd io.Reader
	switch b := body.(type) {
	case nil:
	case string:
		rd = strings.NewReader(b)
	case []byte:
		rd = bytes.NewReader(b)
	default:
		j, err := json.Marshal(b)
		if err != nil {
			e.t.Fatal(err)
		}
		rd = bytes.NewReader(j)
	}
	req, err := http.NewRequest(method, e.Server.URL+path, rd)
	if err != nil {
		e.t.Fatal(err)
	}
	for k, v := range headers {
		req.Header.Set(k, v)
	}
	resp, err := e.Server.Client().Do(req)
	if err != nil {
		e.t.Fatal(err)
	}
	defer resp.Body.Close()
	data, err := io.ReadAll(resp.Body)
	if err != nil {
		e.t.Fatal(err)
	}
	return response{Status: resp.StatusCode, Header: resp.Header, Body: data}
}

// want fails the test unless the response has the given status.
func want(t *testing.T, r response, status int) {
	t.Helper()
	if r.Status != status {
		t.Fatalf("status %d, want %d; body: %s", r.Status, status, r.Body)
	}
}
