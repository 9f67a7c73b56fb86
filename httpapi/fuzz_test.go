package httpapi_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/steward-dev/steward"
	"github.com/steward-dev/steward/httpapi"
	"github.com/steward-dev/steward/storetest"
	"golang.org/x/crypto/bcrypt"
)

// fuzzTargets are the users endpoints whose JSON bodies are fuzzed; the
// fuzzer's first value picks one.
var fuzzTargets = []struct{ method, path string }{
	{"POST", "/api/v1/admin/users"},
	{"PUT", "/api/v1/admin/users/%d"},
	{"PATCH", "/api/v1/admin/users/%d"},
	{"POST", "/users/sign_in"},
	{"POST", "/users/invitation"},
	{"POST", "/api/v1/api_keys"},
}

// FuzzUsersJSON sends arbitrary bodies to the users endpoints. Whatever
// arrives, the answer is never a 500 (a panic is recovered into one), an
// error is problem JSON, and no password hash is ever written back.
// `go test` runs the committed seeds in testdata/fuzz/FuzzUsersJSON;
// `go test -fuzz FuzzUsersJSON ./httpapi` explores further.
func FuzzUsersJSON(f *testing.F) {
	db := storetest.OpenSQLite(f)
	cfg := httpapi.DefaultConfig()
	cfg.BcryptCost = bcrypt.MinCost
	api := httpapi.NewServer(services(db), cfg, nil, nil)
	res, err := httpapi.Bootstrap(context.Background(), services(db), "Fuzz", "owner@fuzz.example", "", bcrypt.MinCost)
	if err != nil {
		f.Fatal(err)
	}
	member := &steward.User{TenantID: res.TenantID, Email: "member@fuzz.example", IsActive: true}
	if err := db.CreateUser(context.Background(), member); err != nil {
		f.Fatal(err)
	}
	f.Add(uint8(0), []byte(`{"email":"seed@fuzz.example","Admin":true}`))

	f.Fuzz(func(t *testing.T, target uint8, body []byte) {
		ep := fuzzTargets[int(target)%len(fuzzTargets)]
		path := ep.path
		if bytes.Contains([]byte(path), []byte("%d")) {
			path = fmt.Sprintf(path, member.ID)
		}
		req := httptest.NewRequest(ep.method, path, bytes.NewReader(body))
		req.Header.Set("Content-Type", "application/json")
		req.Header.Set("Authorization", "Bearer "+res.APIKey)
		rec := httptest.NewRecorder()
		api.ServeHTTP(rec, req)
		if rec.Code >= 500 {
			t.Fatalf("%s %s %q: status %d: %s", ep.method, path, body, rec.Code, rec.Body)
		}
		if bytes.Contains(rec.Body.Bytes(), []byte("$2a$")) {
			t.Fatalf("a password hash was written back: %s", rec.Body)
		}
		if rec.Code >= 400 {
			var p httpapi.Problem
			if err := json.Unmarshal(rec.Body.Bytes(), &p); err != nil || p.Status != rec.Code || len(p.Errors) != 1 || p.Detail == "" {
				t.Fatalf("%s %s %q: error body is not problem JSON: %s", ep.method, path, body, rec.Body)
			}
		}
		if rec.Code == http.StatusOK && ep.method == "PUT" {
			// Restore the member so later inputs find a known state.
			restore := httptest.NewRequest("PUT", path, bytes.NewReader([]byte(`{"email":"member@fuzz.example","is_active":true,"admin":false}`)))
			restore.Header.Set("Authorization", "Bearer "+res.APIKey)
			api.ServeHTTP(httptest.NewRecorder(), restore)
		}
	})
}
