package httpapi_test

import (
	"fmt"
	"net/http"
	"strings"
	"testing"
)

func TestAPIKeysAPI(t *testing.T) {
	t.Parallel()
	eachEnv(t, func(t *testing.T, e *env) {
		r := e.do("POST", "/api/v1/api_keys", e.AdminKey, `{"name":"deploy","expires_at":"2999-01-01T00:00:00Z"}`)
		want(t, r, http.StatusCreated)
		created := r.JSON(t)
		key, _ := created["key"].(string)
		if !strings.HasPrefix(key, "stw_") || !strings.HasPrefix(key, created["prefix"].(string)) {
			t.Fatalf("created key: %s", r.Body)
		}
		want(t, e.do("GET", "/api/v1/admin/users", key, nil), http.StatusOK)

		list := e.do("GET", "/api/v1/api_keys", e.AdminKey, nil)
		want(t, list, http.StatusOK)
		if strings.Contains(string(list.Body), key) || strings.Contains(string(list.Body), `"key"`) {
			t.Errorf("the key is shown again after creation: %s", list.Body)
		}

		for _, bad := range []struct{ body, field string }{
			{`{}`, "name"},
			{`{"name":"x","expires_at":"tomorrow"}`, "expires_at"},
			{`{"name":"x","expires_at":"2001-01-01T00:00:00Z"}`, "expires_at"},
		} {
			r := e.do("POST", "/api/v1/api_keys", e.AdminKey, bad.body)
			want(t, r, http.StatusUnprocessableEntity)
			if f := r.JSON(t)["errors"].([]any)[0].(map[string]any)["field"]; f != bad.field {
				t.Errorf("%s: field %v, want %s", bad.body, f, bad.field)
			}
		}

		id := int64(created["id"].(float64))
		want(t, e.do("DELETE", fmt.Sprintf("/api/v1/api_keys/%d", id+1000), e.AdminKey, nil), http.StatusNotFound)
		want(t, e.do("DELETE", fmt.Sprintf("/api/v1/api_keys/%d", id), e.AdminKey, nil), http.StatusNoContent)
		r = e.do("GET", "/api/v1/admin/users", key, nil)
		want(t, r, http.StatusUnauthorized)
		if d := r.JSON(t)["detail"]; d != "the API key has been revoked" {
			t.Errorf("detail %v", d)
		}
	})
}
