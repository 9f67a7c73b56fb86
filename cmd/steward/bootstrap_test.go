package main

import (
	"bytes"
	"context"
	"encoding/json"
	"path/filepath"
	"strings"
	"testing"

	"github.com/steward-dev/steward/storetest"
)

func TestBootstrapJSON(t *testing.T) {
	t.Parallel()
	for _, name := range []string{"sqlite", "postgres"} {
		t.Run(name, func(t *testing.T) {
			url := filepath.Join(t.TempDir(), "s.db")
			if name == "postgres" {
				url = storetest.PostgresURL(t)
			}
			var first, second map[string]any
			for i, dst := range []*map[string]any{&first, &second} {
				var out, errb bytes.Buffer
				args := []string{"bootstrap", "--db", url, "--email", "Ops@Example.com", "--tenant", "T", "--password", "long enough pw", "--json"}
				if err := run(context.Background(), args, &out, &errb); err != nil {
					t.Fatalf("run %d: %v\n%s", i, err, errb.String())
				}
				if err := json.Unmarshal(out.Bytes(), dst); err != nil {
					t.Fatalf("output is not JSON: %q", out.String())
				}
			}
			// A second bootstrap on the same database makes a new tenant.
			if first["tenant_id"] == second["tenant_id"] || first["email"] != "ops@example.com" {
				t.Errorf("first %v, second %v", first, second)
			}
			if k, _ := first["api_key"].(string); !strings.HasPrefix(k, "stw_") || len(k) < 40 {
				t.Errorf("api_key %q", k)
			}
		})
	}
}

func TestBootstrapRejectsBadInput(t *testing.T) {
	t.Parallel()
	url := filepath.Join(t.TempDir(), "s.db")
	for _, args := range [][]string{
		{"bootstrap", "--db", url, "--json"},
		{"bootstrap", "--db", url, "--email", "not-an-email", "--json"},
		{"bootstrap", "--db", url, "--email", "a@b.co", "--password", "short", "--json"},
	} {
		var out, errb bytes.Buffer
		if err := run(context.Background(), args, &out, &errb); err == nil {
			t.Errorf("%v: succeeded, want an error", args)
		}
	}
}
