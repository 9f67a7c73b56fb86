package steward_test

import (
	"testing"

	"github.com/steward-dev/steward"
)

func TestRedactSecrets(t *testing.T) {
	in := map[string]any{
		"email": "a@example.com", "password": "p", "current_password": "p", "api_key": "k", "access_key": "k",
		"invitation_token": "t", "admin-auth": "s", "Authorization": "Bearer x", "name": "keep",
		"nested":  map[string]any{"secret": "s", "ok": 1},
		"list":    []any{map[string]any{"token": "t", "id": 2}},
		"options": map[string]any{"url": "https://x", "headers": map[string]any{"Authorization": "Bearer y"}},
	}
	out := steward.RedactSecrets(in)
	for _, k := range []string{"password", "current_password", "api_key", "access_key", "invitation_token", "admin-auth", "Authorization"} {
		if out[k] != steward.Redacted {
			t.Errorf("%s = %v, want redacted", k, out[k])
		}
	}
	if out["email"] != "a@example.com" || out["name"] != "keep" {
		t.Errorf("plain fields changed: %v", out)
	}
	if n := out["nested"].(map[string]any); n["secret"] != steward.Redacted || n["ok"] != 1 {
		t.Errorf("nested: %v", n)
	}
	if l := out["list"].([]any)[0].(map[string]any); l["token"] != steward.Redacted || l["id"] != 2 {
		t.Errorf("list: %v", l)
	}
	if h := out["options"].(map[string]any)["headers"].(map[string]any); h["Authorization"] != steward.Redacted {
		t.Errorf("headers: %v", h)
	}
	if in["password"] != "p" {
		t.Error("RedactSecrets changed its input")
	}
}
