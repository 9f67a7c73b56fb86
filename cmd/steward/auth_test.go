package main

import (
	"strings"
	"testing"
	"time"

	"github.com/steward-dev/steward/httpapi"
)

func TestApplyAuthEnv(t *testing.T) {
	t.Setenv("STEWARD_LOCKOUT_THRESHOLD", "5")
	t.Setenv("STEWARD_LOCKOUT_WINDOW", "10m")
	t.Setenv("STEWARD_LOCKOUT_DURATION", "1h")
	t.Setenv("STEWARD_SESSION_TTL", "24h")
	t.Setenv("STEWARD_INVITATION_TTL", "72h")
	t.Setenv("STEWARD_LOGIN_RETENTION_DAYS", "90")
	c := httpapi.DefaultConfig()
	if err := applyAuthEnv(&c); err != nil {
		t.Fatal(err)
	}
	if c.LockoutThreshold != 5 || c.LockoutWindow != 10*time.Minute || c.LockoutDuration != time.Hour ||
		c.SessionTTL != 24*time.Hour || c.InvitationTTL != 72*time.Hour || c.LoginRetention != 90*24*time.Hour {
		t.Errorf("config: %+v", c)
	}
	for name, bad := range map[string]string{
		"STEWARD_LOCKOUT_WINDOW":       "fifteen minutes",
		"STEWARD_LOGIN_RETENTION_DAYS": "-1",
		"STEWARD_LOCKOUT_THRESHOLD":    "ten",
	} {
		t.Run(name, func(t *testing.T) {
			t.Setenv(name, bad)
			c := httpapi.DefaultConfig()
			if err := applyAuthEnv(&c); err == nil || !strings.Contains(err.Error(), name) {
				t.Errorf("%s=%s: err = %v", name, bad, err)
			}
		})
	}
}
