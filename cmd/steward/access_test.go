package main

import (
	"context"
	"net/netip"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/steward-dev/steward/httpapi"
)

func TestAdminSecretLength(t *testing.T) {
	db := filepath.Join(t.TempDir(), "s.db")
	for _, tc := range []struct {
		name, secret, allowWeak string
		want                    string // "" means serve starts
	}{
		{"Tyk's sample secret", "12345", "", "STEWARD_ADMIN_SECRET is 5 characters long; use at least 16"},
		{"15 characters", "fifteen-chars!!", "", "STEWARD_ADMIN_SECRET is 15 characters long"},
		{"weak, explicitly allowed", "12345", "true", ""},
		{"16 characters", "sixteen-chars!!!", "", ""},
		{"unset (the admin API is off)", "", "", ""},
		{"allow-weak not a boolean", "12345", "sure", "STEWARD_ADMIN_SECRET_ALLOW_WEAK"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Setenv("STEWARD_ADMIN_SECRET", tc.secret)
			t.Setenv("STEWARD_ADMIN_SECRET_ALLOW_WEAK", tc.allowWeak)
			ctx, cancel := context.WithCancel(context.Background())
			var out, log lockedBuffer
			done := make(chan error, 1)
			go func() {
				done <- run(ctx, []string{"serve", "--addr", "127.0.0.1:0", "--db", db, "--workers", "0"}, &out, &log)
			}()
			if tc.want != "" {
				err := <-done
				cancel()
				if err == nil || !strings.Contains(err.Error(), tc.want) {
					t.Fatalf("error %v, want one containing %q", err, tc.want)
				}
				return
			}
			for deadline := time.Now().Add(time.Minute); !strings.Contains(out.String(), "listening on"); time.Sleep(20 * time.Millisecond) {
				if time.Now().After(deadline) {
					cancel()
					t.Fatalf("serve did not start; output: %s %s", out.String(), log.String())
				}
			}
			cancel()
			if err := <-done; err != nil {
				t.Fatalf("serve: %v", err)
			}
			if weak := strings.Contains(log.String(), "STEWARD_ADMIN_SECRET is weak"); weak != (tc.allowWeak == "true") {
				t.Errorf("weak-secret warning logged: %v; log: %s", weak, log.String())
			}
		})
	}
}

func TestApplyAccessEnv(t *testing.T) {
	t.Setenv("STEWARD_TRUSTED_PROXIES", "10.0.0.0/8, 192.0.2.7 ,2001:db8::/32")
	t.Setenv("STEWARD_AUTH_FAILURE_LIMIT", "50")
	t.Setenv("STEWARD_AUTH_FAILURE_WINDOW", "2m")
	t.Setenv("STEWARD_AUTH_BAN_DURATION", "1h")
	c := httpapi.DefaultConfig()
	if err := applyAccessEnv(&c); err != nil {
		t.Fatal(err)
	}
	want := []netip.Prefix{netip.MustParsePrefix("10.0.0.0/8"), netip.MustParsePrefix("192.0.2.7/32"), netip.MustParsePrefix("2001:db8::/32")}
	if len(c.TrustedProxies) != len(want) {
		t.Fatalf("trusted proxies: %v", c.TrustedProxies)
	}
	for i := range want {
		if c.TrustedProxies[i] != want[i] {
			t.Errorf("trusted proxies: %v, want %v", c.TrustedProxies, want)
		}
	}
	if c.AuthFailureLimit != 50 || c.AuthFailureWindow != 2*time.Minute || c.AuthBanDuration != time.Hour {
		t.Errorf("config: %+v", c)
	}
	for name, bad := range map[string]string{
		"STEWARD_TRUSTED_PROXIES":     "10.0.0.0/8, proxy.example",
		"STEWARD_AUTH_FAILURE_LIMIT":  "-1",
		"STEWARD_AUTH_FAILURE_WINDOW": "a minute",
		"STEWARD_AUTH_BAN_DURATION":   "10ms",
	} {
		t.Run(name, func(t *testing.T) {
			t.Setenv(name, bad)
			c := httpapi.DefaultConfig()
			if err := applyAccessEnv(&c); err == nil || !strings.Contains(err.Error(), name) {
				t.Errorf("%s=%s: err = %v", name, bad, err)
			}
		})
	}
}
