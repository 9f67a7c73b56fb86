package httpapi_test

import (
	"context"
	"fmt"
	"net/http"
	"testing"

	"github.com/steward-dev/steward/httpapi"
	"golang.org/x/crypto/bcrypt"
)

const ipRulesPath = "/api/v1/admin/ip_access_control_rules"

// sessionFrom reads the session cookie a sign-in response set.
func sessionFrom(r response) string {
	for _, c := range (&http.Response{Header: r.Header}).Cookies() {
		if c.Name == httpapi.SessionCookie && c.Value != "" {
			return c.Value
		}
	}
	return ""
}

// TestIPAccessControl sees a tenant's rules from two loopback addresses:
// 127.0.0.1, which a rule admits, and 127.0.0.2, which none does.
func TestIPAccessControl(t *testing.T) {
	t.Parallel()
	eachEnv(t, func(t *testing.T, e *env) {
		const in, out = "127.0.0.1", "127.0.0.2"
		admin := bearer(e.AdminKey)
		bob := e.createUser(`{"email":"bob@acme.example","password":"right password"}`)
		signIn := map[string]any{"email": "bob@acme.example", "password": "right password"}
		other, err := httpapi.Bootstrap(context.Background(), services(e.DB), "Other", "owner@other.example", "", bcrypt.MinCost)
		if err != nil {
			t.Fatal(err)
		}

		// No rules: every address works.
		want(t, e.sendFrom(out, "GET", "/api/v1/api_keys", admin, nil), http.StatusOK)

		// The admin's own address first, then the rule applies at once.
		r := e.sendFrom(in, "POST", ipRulesPath, admin, map[string]any{"ip": in, "description": "Loopback one"})
		want(t, r, http.StatusCreated)
		rule := r.JSON(t)
		if rule["ip"] != in || rule["description"] != "Loopback one" || rule["created_at"] == nil || rule["updated_at"] == nil {
			t.Errorf("created rule: %s", r.Body)
		}
		ruleID := int64(rule["id"].(float64))
		rulePath := fmt.Sprintf("%s/%d", ipRulesPath, ruleID)

		want(t, e.sendFrom(in, "GET", "/api/v1/api_keys", admin, nil), http.StatusOK)
		r = e.sendFrom(out, "GET", "/api/v1/api_keys", admin, nil)
		want(t, r, http.StatusForbidden)
		wantDetail(t, r, "access from 127.0.0.2 is not allowed by this tenant's IP access control rules")
		want(t, e.sendFrom(out, "GET", ipRulesPath, admin, nil), http.StatusForbidden)
		// Tyk's /api/users answers in its own envelope.
		r = e.sendFrom(out, "GET", "/api/users", map[string]string{"Authorization": e.AdminKey}, nil)
		want(t, r, http.StatusForbidden)
		want(t, e.sendFrom(in, "GET", "/api/users", map[string]string{"Authorization": e.AdminKey}, nil), http.StatusOK)
		// Another tenant, without rules, is not affected.
		want(t, e.sendFrom(out, "GET", "/api/v1/api_keys", bearer(other.APIKey), nil), http.StatusOK)

		// Sign-in: refused from outside with a recorded failure, and a
		// session started inside does not work from outside.
		r = e.sendFrom(out, "POST", "/users/sign_in", nil, signIn)
		want(t, r, http.StatusForbidden)
		if sessionFrom(r) != "" {
			t.Error("a refused sign-in set a session cookie")
		}
		r = e.sendFrom(in, "POST", "/users/sign_in", nil, signIn)
		want(t, r, http.StatusOK)
		cookie := map[string]string{"Cookie": httpapi.SessionCookie + "=" + sessionFrom(r)}
		want(t, e.sendFrom(in, "GET", "/api/v1/api_keys", cookie, nil), http.StatusOK)
		want(t, e.sendFrom(out, "GET", "/api/v1/api_keys", cookie, nil), http.StatusForbidden)
		acts := e.sendFrom(in, "GET", userPath(bob, "/signin_activities"), admin, nil)
		want(t, acts, http.StatusOK)
		list := acts.JSON(t)["admin/login_activities"].([]any)
		if len(list) != 2 {
			t.Fatalf("activities: %s", acts.Body)
		}
		refused, ok := list[1].(map[string]any), list[0].(map[string]any)
		if refused["success"] != false || refused["failure_reason"] != "ip_not_allowed" || refused["ip"] != out {
			t.Errorf("refused sign-in recorded as %v", refused)
		}
		if ok["success"] != true || ok["ip"] != in {
			t.Errorf("sign-in recorded as %v", ok)
		}
		// A wrong password from outside is an ordinary failure.
		r = e.sendFrom(out, "POST", "/users/sign_in", nil, map[string]any{"email": "bob@acme.example", "password": "wrong"})
		want(t, r, http.StatusUnauthorized)

		// The lock-out guard: changes that would leave 127.0.0.1 outside
		// every rule are refused and change nothing.
		r = e.sendFrom(in, "PATCH", rulePath, admin, map[string]any{"ip": out})
		want(t, r, http.StatusUnprocessableEntity)
		wantDetail(t, r, "lock you out")
		r = e.sendFrom(in, "GET", rulePath, admin, nil)
		want(t, r, http.StatusOK)
		if r.JSON(t)["ip"] != in {
			t.Errorf("a refused update changed the rule: %s", r.Body)
		}
		r = e.sendFrom(in, "POST", ipRulesPath, admin, map[string]any{"ip": "10.0.0.0/8", "description": "Office"})
		want(t, r, http.StatusCreated)
		officePath := fmt.Sprintf("%s/%d", ipRulesPath, int64(r.JSON(t)["id"].(float64)))
		want(t, e.sendFrom(in, "DELETE", rulePath, admin, nil), http.StatusUnprocessableEntity)
		want(t, e.sendFrom(in, "GET", rulePath, admin, nil), http.StatusOK)
		// Widening the rule to a range that still holds the admin is fine,
		// and admits 127.0.0.2 too.
		r = e.sendFrom(in, "PUT", rulePath, admin, map[string]any{"ip": "127.0.0.0/30", "description": "Loopback"})
		want(t, r, http.StatusOK)
		if got := r.JSON(t); got["ip"] != "127.0.0.0/30" || got["description"] != "Loopback" {
			t.Errorf("updated rule: %s", r.Body)
		}
		want(t, e.sendFrom(out, "GET", "/api/v1/api_keys", admin, nil), http.StatusOK)

		// matching_ip lists the rules that admit an address.
		for _, c := range []struct {
			ip   string
			want int
		}{{"127.0.0.2", 1}, {"10.9.8.7", 1}, {"192.0.2.1", 0}} {
			r = e.sendFrom(in, "GET", ipRulesPath+"?matching_ip="+c.ip, admin, nil)
			want(t, r, http.StatusOK)
			if got := len(r.JSON(t)["admin/ip_access_control_rules"].([]any)); got != c.want {
				t.Errorf("matching_ip=%s: %d rules, want %d", c.ip, got, c.want)
			}
		}

		// Deleting every rule opens the tenant again; the last delete is
		// allowed even though no rule then holds the admin.
		want(t, e.sendFrom(in, "DELETE", officePath, admin, nil), http.StatusNoContent)
		want(t, e.sendFrom(in, "DELETE", rulePath, admin, nil), http.StatusNoContent)
		want(t, e.sendFrom(in, "GET", rulePath, admin, nil), http.StatusNotFound)
		want(t, e.sendFrom(out, "GET", "/api/v1/api_keys", admin, nil), http.StatusOK)

		// A first rule that does not hold the admin is refused.
		want(t, e.sendFrom(in, "POST", ipRulesPath, admin, map[string]any{"ip": out}), http.StatusUnprocessableEntity)
	})
}

// TestIPAccessRuleValidation checks what the ip field accepts.
func TestIPAccessRuleValidation(t *testing.T) {
	t.Parallel()
	eachEnv(t, func(t *testing.T, e *env) {
		// Admit the test client first, so the cases below test only the field.
		want(t, e.do("POST", ipRulesPath, e.AdminKey, map[string]any{"ip": "127.0.0.0/8"}), http.StatusCreated)
		for _, c := range []struct {
			ip     any
			status int
			stored string
		}{
			{"192.0.2.7", 201, "192.0.2.7"},
			{" 10.0.0.0/8 ", 201, "10.0.0.0/8"},
			{"192.0.2.7/32", 201, "192.0.2.7"},
			{"2001:DB8::/32", 201, "2001:db8::/32"},
			{"2001:db8::1", 201, "2001:db8::1"},
			{"10.0.0.1/8", 422, ""},
			{"::ffff:10.0.0.1", 422, ""},
			{"fe80::1%eth0", 422, ""},
			{"10.0.0.0/33", 422, ""},
			{"example.com", 422, ""},
			{"", 422, ""},
			{nil, 422, ""},
			{7, 422, ""},
		} {
			t.Run(fmt.Sprint(c.ip), func(t *testing.T) {
				r := e.do("POST", ipRulesPath, e.AdminKey, map[string]any{"ip": c.ip})
				want(t, r, c.status)
				if c.status == 201 && r.JSON(t)["ip"] != c.stored {
					t.Errorf("stored %v, want %q", r.JSON(t)["ip"], c.stored)
				}
			})
		}
		long := make([]byte, 256)
		for i := range long {
			long[i] = 'x'
		}
		want(t, e.do("POST", ipRulesPath, e.AdminKey, map[string]any{"ip": "192.0.2.8", "description": string(long)}), http.StatusUnprocessableEntity)
	})
}
