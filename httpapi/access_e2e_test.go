package httpapi_test

import (
	"fmt"
	"net/http"
	"net/netip"
	"testing"

	"github.com/steward-dev/steward/httpapi"
)

// TestStrictIDs: only the canonical spelling of an id names an object.
func TestStrictIDs(t *testing.T) {
	t.Parallel()
	eachEnvWith(t, func(c *httpapi.Config) { c.AdminSecret = "a-long-instance-admin-secret" }, func(t *testing.T, e *env) {
		uid := e.Admin.UserID
		// The canonical ids work.
		want(t, e.do("GET", fmt.Sprintf("/api/v1/admin/users/%d", uid), e.AdminKey, nil), http.StatusOK)
		tyk := map[string]string{"admin-auth": "a-long-instance-admin-secret"}
		want(t, e.send("GET", fmt.Sprintf("/admin/users/%024x", uid), tyk, nil), http.StatusOK)

		for _, c := range []struct {
			method, path string
		}{
			{"DELETE", "/api/v1/api_keys/+1"},
			{"DELETE", "/api/v1/api_keys/-1"},
			{"GET", fmt.Sprintf("/api/v1/admin/users/0%d", uid)},
			{"GET", fmt.Sprintf("/api/v1/admin/users/+%d", uid)},
			{"GET", fmt.Sprintf("/api/v1/admin/users/%d%%20", uid)},
			{"GET", fmt.Sprintf("/api/v1/admin/users/%%20%d", uid)},
			{"GET", "/api/v1/admin/users/1e0"},
			{"GET", "/api/v1/admin/users/0x1"},
			{"GET", "/api/v1/admin/users/9223372036854775808"},
			{"GET", "/api/v1/admin/users/0"},
			{"GET", "/api/v1/admin/templates/01"},
			{"GET", "/api/v1/stories/+1"},
			{"GET", "/api/v1/agents/01"},
			{"GET", "/api/v1/admin/jobs/+1"},
			{"GET", "/api/v1/admin/ip_access_control_rules/01"},
		} {
			t.Run(c.method+" "+c.path, func(t *testing.T) {
				want(t, e.do(c.method, c.path, e.AdminKey, nil), http.StatusNotFound)
			})
		}
		// Tyk ids: 24 lower-case hexadecimal characters only. A user whose
		// id has a hexadecimal letter shows that upper case names nothing.
		lettered := uid
		for i := 0; lettered%16 < 10; i++ {
			lettered = e.createUser(fmt.Sprintf(`{"email":"u%d@acme.example"}`, i))
		}
		want(t, e.send("GET", fmt.Sprintf("/admin/users/%024x", lettered), tyk, nil), http.StatusOK)
		for _, id := range []string{
			fmt.Sprintf("%024X", lettered),
			fmt.Sprintf("+%023x", uid),
			fmt.Sprintf("%023x", uid),
			fmt.Sprintf("%025x", uid),
		} {
			r := e.send("GET", "/admin/users/"+id, tyk, nil)
			want(t, r, http.StatusNotFound)
		}
	})
}

// TestTrustedProxies: X-Forwarded-For is believed only from a trusted
// proxy, and the address it gives is the one IP access control, the
// lock-out guard and sign-in activity use.
func TestTrustedProxies(t *testing.T) {
	t.Parallel()
	trust := func(c *httpapi.Config) { c.TrustedProxies = []netip.Prefix{netip.MustParsePrefix("127.0.0.1/32")} }
	eachEnvWith(t, trust, func(t *testing.T, e *env) {
		const proxy, direct = "127.0.0.1", "127.0.0.2"
		via := func(client string) map[string]string {
			return map[string]string{"Authorization": "Bearer " + e.AdminKey, "X-Forwarded-For": "198.51.100.1, " + client}
		}
		// The admin, behind the proxy at 203.0.113.9, admits their own range.
		want(t, e.sendFrom(proxy, "POST", ipRulesPath, via("203.0.113.9"), map[string]any{"ip": "10.0.0.0/8"}), http.StatusUnprocessableEntity)
		want(t, e.sendFrom(proxy, "POST", ipRulesPath, via("203.0.113.9"), map[string]any{"ip": "203.0.113.0/24"}), http.StatusCreated)

		want(t, e.sendFrom(proxy, "GET", "/api/v1/api_keys", via("203.0.113.77"), nil), http.StatusOK)
		r := e.sendFrom(proxy, "GET", "/api/v1/api_keys", via("192.0.2.1"), nil)
		want(t, r, http.StatusForbidden)
		wantDetail(t, r, "192.0.2.1")
		// The proxy itself, without the header, is not in the range.
		want(t, e.sendFrom(proxy, "GET", "/api/v1/api_keys", bearer(e.AdminKey), nil), http.StatusForbidden)
		// An untrusted peer's header is ignored.
		r = e.sendFrom(direct, "GET", "/api/v1/api_keys", via("203.0.113.9"), nil)
		want(t, r, http.StatusForbidden)
		wantDetail(t, r, direct)

		// Sign-in activity records the forwarded address.
		bob := e.createUserFrom(proxy, via("203.0.113.9"), `{"email":"bob@acme.example","password":"right password"}`)
		in := map[string]string{"X-Forwarded-For": "203.0.113.50"}
		want(t, e.sendFrom(proxy, "POST", "/users/sign_in", in, map[string]any{"email": "bob@acme.example", "password": "right password"}), http.StatusOK)
		r = e.sendFrom(proxy, "GET", userPath(bob, "/signin_activities"), via("203.0.113.9"), nil)
		want(t, r, http.StatusOK)
		if act := r.JSON(t)["admin/login_activities"].([]any)[0].(map[string]any); act["ip"] != "203.0.113.50" {
			t.Errorf("sign-in recorded from %v", act["ip"])
		}
	})
}

// createUserFrom creates a user through the admin API from src with the
// given headers and returns its id.
func (e *env) createUserFrom(src string, headers map[string]string, body string) int64 {
	e.t.Helper()
	r := e.sendFrom(src, "POST", "/api/v1/admin/users", headers, body)
	want(e.t, r, http.StatusCreated)
	return int64(r.JSON(e.t)["id"].(float64))
}
