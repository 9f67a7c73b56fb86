package httpapi_test

import (
	"context"
	"net/http"
	"net/http/httptest"
	"strconv"
	"testing"
	"time"

	"github.com/steward-dev/steward/httpapi"
)

// TestAuthThrottle: past the limit of failed authentications, an address
// gets 429 with Retry-After whatever it sends, while another address still
// works; the ban ends after its duration.
func TestAuthThrottle(t *testing.T) {
	t.Parallel()
	eachClockEnv(t, func(c *httpapi.Config) { c.AdminSecret = "a-long-instance-admin-secret" }, func(t *testing.T, e *clockEnv) {
		limit := httpapi.DefaultConfig().AuthFailureLimit
		const guesser, other = "127.0.0.2", "127.0.0.1"
		admin := bearer(e.AdminKey)

		// Successful requests never count.
		for range limit + 5 {
			want(t, e.sendFrom(guesser, "GET", "/api/v1/api_keys", admin, nil), http.StatusOK)
		}
		// Nor do requests without credentials.
		for range limit + 5 {
			want(t, e.sendFrom(guesser, "GET", "/api/v1/api_keys", nil, nil), http.StatusUnauthorized)
		}
		for i := range limit {
			e.Clock.Advance(time.Second)
			want(t, e.sendFrom(guesser, "GET", "/api/v1/api_keys", bearer("stw_wrong"+strconv.Itoa(i)), nil), http.StatusUnauthorized)
		}
		// Banned: a valid key, a sign-in, anything gets 429.
		for _, r := range []response{
			e.sendFrom(guesser, "GET", "/api/v1/api_keys", admin, nil),
			e.sendFrom(guesser, "POST", "/users/sign_in", nil, map[string]any{"email": "owner@acme.example", "password": "x"}),
			e.sendFrom(guesser, "GET", "/admin/hello", map[string]string{"admin-auth": "a-long-instance-admin-secret"}, nil),
			e.sendFrom(guesser, "GET", "/no/such/route", nil, nil),
		} {
			want(t, r, http.StatusTooManyRequests)
			if s, err := strconv.Atoi(r.Header.Get("Retry-After")); err != nil || s < 1 || s > 300 {
				t.Errorf("Retry-After %q", r.Header.Get("Retry-After"))
			}
		}
		// Health probes are still answered.
		want(t, e.sendFrom(guesser, "GET", "/healthz", nil, nil), http.StatusOK)
		// Another address is unaffected, and its failures are its own.
		want(t, e.sendFrom(other, "GET", "/api/v1/api_keys", admin, nil), http.StatusOK)
		want(t, e.sendFrom(other, "GET", "/api/v1/api_keys", bearer("stw_wrong"), nil), http.StatusUnauthorized)

		// The ban ends.
		e.Clock.Advance(httpapi.DefaultConfig().AuthBanDuration + time.Second)
		want(t, e.sendFrom(guesser, "GET", "/api/v1/api_keys", admin, nil), http.StatusOK)
	})
}

// TestAuthThrottleCountsEveryKind: each kind of failed authentication
// counts, each from its own address.
func TestAuthThrottleCountsEveryKind(t *testing.T) {
	t.Parallel()
	const limit = 3
	for _, c := range []struct {
		name, src string
		send      func(e *env, src string) response
	}{
		{"unknown API key", "127.0.0.3", func(e *env, src string) response {
			return e.sendFrom(src, "GET", "/api/v1/admin/users", bearer("stw_nope"), nil)
		}},
		{"revoked API key", "127.0.0.4", func(e *env, src string) response {
			return e.sendFrom(src, "GET", "/api/v1/admin/users", bearer(e.revokedKey()), nil)
		}},
		{"unknown session", "127.0.0.5", func(e *env, src string) response {
			return e.sendFrom(src, "GET", "/api/v1/admin/users", map[string]string{"Cookie": httpapi.SessionCookie + "=ses_nope"}, nil)
		}},
		{"wrong admin-auth", "127.0.0.6", func(e *env, src string) response {
			return e.sendFrom(src, "GET", "/admin/organisations", map[string]string{"admin-auth": "wrong"}, nil)
		}},
		{"wrong access key on /api/users", "127.0.0.7", func(e *env, src string) response {
			return e.sendFrom(src, "GET", "/api/users", map[string]string{"Authorization": "wrong"}, nil)
		}},
		{"sign-in, unknown email", "127.0.0.8", func(e *env, src string) response {
			return e.sendFrom(src, "POST", "/users/sign_in", nil, map[string]any{"email": "nobody@acme.example", "password": "guess"})
		}},
		{"sign-in, wrong password", "127.0.0.9", func(e *env, src string) response {
			return e.sendFrom(src, "POST", "/users/sign_in", nil, map[string]any{"email": "owner@acme.example", "password": "guess"})
		}},
	} {
		t.Run(c.name, func(t *testing.T) {
			eachEnvWith(t, func(cfg *httpapi.Config) {
				cfg.AuthFailureLimit = limit
				cfg.AdminSecret = "a-long-instance-admin-secret"
			}, func(t *testing.T, e *env) {
				for range limit {
					want(t, c.send(e, c.src), http.StatusUnauthorized)
				}
				want(t, e.sendFrom(c.src, "GET", "/api/v1/api_keys", bearer(e.AdminKey), nil), http.StatusTooManyRequests)
				want(t, e.sendFrom("127.0.0.1", "GET", "/api/v1/api_keys", bearer(e.AdminKey), nil), http.StatusOK)
			})
		})
	}
}

// TestAuthThrottleAcrossServers: two servers on one database add to the
// same count, and a ban made by one is enforced by the other once it
// loads the bans.
func TestAuthThrottleAcrossServers(t *testing.T) {
	t.Parallel()
	eachEnv(t, func(t *testing.T, a *env) {
		const guesser = "127.0.0.2"
		b := *a
		b.API = httpapi.NewServer(services(a.DB), httpapi.DefaultConfig(), nil, nil)
		b.Server = httptest.NewServer(b.API)
		t.Cleanup(b.Server.Close)

		limit := httpapi.DefaultConfig().AuthFailureLimit
		for i := range limit {
			e := a
			if i%2 == 1 {
				e = &b
			}
			want(t, e.sendFrom(guesser, "GET", "/api/v1/api_keys", bearer("stw_wrong"), nil), http.StatusUnauthorized)
		}
		// The last failure was counted by b, which banned the address.
		want(t, b.sendFrom(guesser, "GET", "/api/v1/api_keys", bearer(a.AdminKey), nil), http.StatusTooManyRequests)
		if err := a.API.SyncAuthBans(context.Background()); err != nil {
			t.Fatal(err)
		}
		want(t, a.sendFrom(guesser, "GET", "/api/v1/api_keys", bearer(a.AdminKey), nil), http.StatusTooManyRequests)
		want(t, a.sendFrom("127.0.0.1", "GET", "/api/v1/api_keys", bearer(a.AdminKey), nil), http.StatusOK)
	})
}
