package main

import (
	"fmt"
	"log/slog"
	"net/netip"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/steward-dev/steward/httpapi"
)

// minAdminSecretLength is the shortest STEWARD_ADMIN_SECRET Steward starts
// with unless STEWARD_ADMIN_SECRET_ALLOW_WEAK=true.
const minAdminSecretLength = 16

// checkAdminSecret refuses a short instance admin secret, which the
// throttle alone cannot protect for long, unless allowWeak says the
// operator accepts it (Tyk's quick-start scripts hard-code "12345"); then
// it only warns. An empty secret leaves the admin API off.
func checkAdminSecret(secret string, allowWeak bool, log *slog.Logger) error {
	n := utf8.RuneCountInString(secret)
	if secret == "" || n >= minAdminSecretLength {
		return nil
	}
	if allowWeak {
		log.Warn("STEWARD_ADMIN_SECRET is weak: anyone who guesses it controls every organisation; use at least 16 random characters",
			"length", n, "minimum", minAdminSecretLength)
		return nil
	}
	return fmt.Errorf("STEWARD_ADMIN_SECRET is %d characters long; use at least %d random characters (for example: openssl rand -hex 16), "+
		"or set STEWARD_ADMIN_SECRET_ALLOW_WEAK=true to start with it anyway", n, minAdminSecretLength)
}

// envBool reads true/false (also 1/0, yes/no) from the environment.
func envBool(name string, def bool) (bool, error) {
	switch v := strings.ToLower(envOr(name, "")); v {
	case "":
		return def, nil
	case "true", "1", "yes":
		return true, nil
	case "false", "0", "no":
		return false, nil
	default:
		return false, fmt.Errorf("%s=%q: must be true or false", name, v)
	}
}

// parsePrefixes reads a comma-separated list of CIDR ranges and addresses.
func parsePrefixes(name, v string) ([]netip.Prefix, error) {
	var out []netip.Prefix
	for _, f := range strings.Split(v, ",") {
		f = strings.TrimSpace(f)
		if f == "" {
			continue
		}
		if p, err := netip.ParsePrefix(f); err == nil {
			out = append(out, p.Masked())
			continue
		}
		a, err := netip.ParseAddr(f)
		if err != nil {
			return nil, fmt.Errorf("%s: %q is neither an IP address nor a CIDR range such as 10.0.0.0/8", name, f)
		}
		a = a.Unmap()
		out = append(out, netip.PrefixFrom(a, a.BitLen()))
	}
	return out, nil
}

// applyAccessEnv sets the client-address and throttling settings from the
// environment (STEWARD_TRUSTED_PROXIES, STEWARD_AUTH_FAILURE_LIMIT,
// STEWARD_AUTH_FAILURE_WINDOW, STEWARD_AUTH_BAN_DURATION).
func applyAccessEnv(c *httpapi.Config) error {
	var err error
	if c.TrustedProxies, err = parsePrefixes("STEWARD_TRUSTED_PROXIES", envOr("STEWARD_TRUSTED_PROXIES", "")); err != nil {
		return err
	}
	if c.AuthFailureLimit, err = envInt("STEWARD_AUTH_FAILURE_LIMIT", c.AuthFailureLimit); err != nil {
		return err
	}
	if c.AuthFailureLimit < 0 {
		return fmt.Errorf("STEWARD_AUTH_FAILURE_LIMIT=%d: must be 0 (off) or more", c.AuthFailureLimit)
	}
	if c.AuthFailureWindow, err = envDuration("STEWARD_AUTH_FAILURE_WINDOW", c.AuthFailureWindow); err != nil {
		return err
	}
	if c.AuthBanDuration, err = envDuration("STEWARD_AUTH_BAN_DURATION", c.AuthBanDuration); err != nil {
		return err
	}
	if c.AuthFailureLimit > 0 && (c.AuthFailureWindow < time.Second || c.AuthBanDuration < time.Second) {
		return fmt.Errorf("STEWARD_AUTH_FAILURE_WINDOW=%s and STEWARD_AUTH_BAN_DURATION=%s: each must be at least 1s", c.AuthFailureWindow, c.AuthBanDuration)
	}
	return nil
}
