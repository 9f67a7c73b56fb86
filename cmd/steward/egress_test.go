package main

import (
	"reflect"
	"strings"
	"testing"

	"github.com/steward-dev/steward/action"
)

func TestReadTenantSafety(t *testing.T) {
	t.Setenv("STEWARD_EGRESS_ALLOW", "")
	t.Setenv("STEWARD_MAX_EVENT_DEPTH", "")
	t.Setenv("STEWARD_MAX_EXPLODE", "")
	ts, err := readTenantSafety()
	if err != nil || len(ts.EgressAllow) != 0 || ts.Limits != (action.Limits{MaxEventDepth: 50, MaxExplode: 10000}) {
		t.Fatalf("defaults: %+v %v", ts, err)
	}
	t.Setenv("STEWARD_EGRESS_ALLOW", " 10.0.0.0/8, intranet.example.com ,,fd00::1")
	t.Setenv("STEWARD_MAX_EVENT_DEPTH", "5")
	t.Setenv("STEWARD_MAX_EXPLODE", "100")
	ts, err = readTenantSafety()
	if err != nil || !reflect.DeepEqual(ts.EgressAllow, []string{"10.0.0.0/8", "intranet.example.com", "fd00::1"}) ||
		ts.Limits != (action.Limits{MaxEventDepth: 5, MaxExplode: 100}) {
		t.Fatalf("set: %+v %v", ts, err)
	}
	for _, c := range []struct{ name, value, want string }{
		{"STEWARD_EGRESS_ALLOW", "10.0.0.0/40", "STEWARD_EGRESS_ALLOW"},
		{"STEWARD_MAX_EVENT_DEPTH", "0", "STEWARD_MAX_EVENT_DEPTH"},
		{"STEWARD_MAX_EXPLODE", "lots", "STEWARD_MAX_EXPLODE"},
	} {
		t.Run(c.name, func(t *testing.T) {
			t.Setenv(c.name, c.value)
			if _, err := readTenantSafety(); err == nil || !strings.Contains(err.Error(), c.want) {
				t.Errorf("%s=%s: %v, want an error naming it", c.name, c.value, err)
			}
		})
	}
}
