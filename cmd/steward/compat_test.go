package main

import (
	"strings"
	"testing"

	"github.com/steward-dev/steward/httpapi"
)

func TestApplyCompatEnv(t *testing.T) {
	c := httpapi.DefaultConfig()
	if err := applyCompatEnv(&c); err != nil {
		t.Fatal(err)
	}
	if c.PasswordMinLength != 8 || !c.TykForbidAdminResetAccessToken {
		t.Errorf("defaults: min %d, forbid %v", c.PasswordMinLength, c.TykForbidAdminResetAccessToken)
	}

	t.Setenv("STEWARD_PASSWORD_MIN_LENGTH", "6")
	t.Setenv("STEWARD_TYK_FORBID_ADMIN_RESET_ACCESS_TOKEN", "false")
	c = httpapi.DefaultConfig()
	if err := applyCompatEnv(&c); err != nil {
		t.Fatal(err)
	}
	if c.PasswordMinLength != 6 || c.TykForbidAdminResetAccessToken {
		t.Errorf("set: min %d, forbid %v", c.PasswordMinLength, c.TykForbidAdminResetAccessToken)
	}

	for _, tc := range []struct{ name, value, says string }{
		{"STEWARD_PASSWORD_MIN_LENGTH", "5", "at least 6"},
		{"STEWARD_PASSWORD_MIN_LENGTH", "0", "at least 6"},
		{"STEWARD_PASSWORD_MIN_LENGTH", "73", "72"},
		{"STEWARD_PASSWORD_MIN_LENGTH", "six", "whole number"},
		{"STEWARD_TYK_FORBID_ADMIN_RESET_ACCESS_TOKEN", "yes please", "true or false"},
	} {
		t.Run(tc.name+"="+tc.value, func(t *testing.T) {
			t.Setenv(tc.name, tc.value)
			c := httpapi.DefaultConfig()
			err := applyCompatEnv(&c)
			if err == nil || !strings.Contains(err.Error(), tc.name) || !strings.Contains(err.Error(), tc.says) {
				t.Errorf("err = %v, want it to name %s and say %q", err, tc.name, tc.says)
			}
		})
	}
}
