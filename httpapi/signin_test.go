package httpapi_test

import (
	"context"
	"crypto/sha256"
	"crypto/tls"
	"net/http"
	"net/http/httptest"
	"net/url"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/steward-dev/steward/httpapi"
)

func TestSignIn(t *testing.T) {
	t.Parallel()
	eachClockEnv(t, nil, func(t *testing.T, e *clockEnv) {
		id := e.createUser(`{"email":"ann@acme.example","password":"correct horse"}`)

		t.Run("success sets a session cookie that authenticates /api/v1", func(t *testing.T) {
			r, c := e.signIn("Ann@Acme.example ", "correct horse")
			want(t, r, http.StatusOK)
			if c == nil || !c.HttpOnly || c.SameSite != http.SameSiteLaxMode || c.Secure || c.Path != "/" {
				t.Fatalf("cookie: %+v", c)
			}
			if strings.Contains(string(r.Body), "password") {
				t.Errorf("sign-in response mentions the password: %s", r.Body)
			}
			var stored []byte
			if err := e.DB.Read.QueryRow(e.DB.Q(`SELECT token_hash FROM sessions WHERE user_id = ?`), id).Scan(&stored); err != nil {
				t.Fatal(err)
			}
			if sum := sha256.Sum256([]byte(c.Value)); string(stored) != string(sum[:]) {
				t.Error("the session table does not hold the token's SHA-256 hash")
			}
			r, _ = e.browse(browserReq{Method: "GET", Path: "/api/v1/api_keys", Cookie: c})
			want(t, r, http.StatusOK)
			r, _ = e.browse(browserReq{Method: "POST", Path: "/api/v1/api_keys", Cookie: c, JSON: `{"name":"laptop"}`,
				Header: map[string]string{"Origin": e.Server.URL}})
			want(t, r, http.StatusCreated)
			r, _ = e.browse(browserReq{Method: "POST", Path: "/api/v1/api_keys", Cookie: c, JSON: `{"name":"evil"}`,
				Header: map[string]string{"Origin": "https://evil.example"}})
			want(t, r, http.StatusForbidden)
			// Not an admin: the admin API stays closed to the session.
			r, _ = e.browse(browserReq{Method: "GET", Path: "/api/v1/admin/users", Cookie: c})
			want(t, r, http.StatusForbidden)
		})

		t.Run("form body", func(t *testing.T) {
			r, _ := e.browse(browserReq{Method: "POST", Path: "/users/sign_in",
				Form: url.Values{"email": {"ann@acme.example"}, "password": {"correct horse"}}})
			want(t, r, http.StatusOK)
		})

		t.Run("sign-out ends the session", func(t *testing.T) {
			_, c := e.signIn("ann@acme.example", "correct horse")
			r, resp := e.browse(browserReq{Method: "DELETE", Path: "/users/sign_out", Cookie: c})
			want(t, r, http.StatusNoContent)
			if cs := resp.Cookies(); len(cs) != 1 || cs[0].MaxAge >= 0 {
				t.Errorf("sign-out did not clear the cookie: %+v", cs)
			}
			r, _ = e.browse(browserReq{Method: "GET", Path: "/api/v1/api_keys", Cookie: c})
			want(t, r, http.StatusUnauthorized)
		})

		t.Run("failures share one message but record their reason", func(t *testing.T) {
			inactive := e.createUser(`{"email":"ivan@acme.example","password":"correct horse","is_active":false}`)
			invited := e.createUser(`{"email":"iris@acme.example"}`)
			unknown, _ := e.signIn("nobody@acme.example", "correct horse")
			wrong, _ := e.signIn("ann@acme.example", "wrong horse")
			want(t, unknown, http.StatusUnauthorized)
			want(t, wrong, http.StatusUnauthorized)
			if msg(t, unknown) != msg(t, wrong) {
				t.Errorf("unknown email and wrong password differ: %q vs %q", msg(t, unknown), msg(t, wrong))
			}
			for _, c := range []struct{ email, pw string }{{"ivan@acme.example", "correct horse"}, {"iris@acme.example", "anything at all"}} {
				r, cookie := e.signIn(c.email, c.pw)
				want(t, r, http.StatusUnauthorized)
				if cookie != nil || msg(t, r) != msg(t, wrong) {
					t.Errorf("%s: %s", c.email, r.Body)
				}
			}
			if got := activityReasons(t, e.env, id); !slices.Equal(got[len(got)-1:], []string{"wrong_password"}) {
				t.Errorf("ann's reasons: %v", got)
			}
			if got := activityReasons(t, e.env, inactive); !slices.Equal(got, []string{"inactive"}) {
				t.Errorf("inactive user's reasons: %v", got)
			}
			if got := activityReasons(t, e.env, invited); !slices.Equal(got, []string{"invitation_not_accepted"}) {
				t.Errorf("invited user's reasons: %v", got)
			}
			var n int
			if err := e.DB.Read.QueryRow(e.DB.Q(`SELECT COUNT(*) FROM login_activities WHERE email = ? AND failure_reason = ? AND user_id IS NULL`),
				"nobody@acme.example", "unknown_user").Scan(&n); err != nil || n != 1 {
				t.Errorf("unknown-user attempts recorded: %d, %v", n, err)
			}
		})

		t.Run("bad input", func(t *testing.T) {
			for _, body := range []string{`{"email":"ann@acme.example"}`, `{"password":"x"}`, `{"email":5}`, `{`, `[]`} {
				r, _ := e.browse(browserReq{Method: "POST", Path: "/users/sign_in", JSON: body})
				if r.Status != 400 && r.Status != 422 {
					t.Errorf("%s: status %d", body, r.Status)
				}
			}
		})
	})
}

// msg is the problem detail of an error response.
func msg(t *testing.T, r response) string {
	t.Helper()
	d, _ := r.JSON(t)["detail"].(string)
	return d
}

func TestSessionCookieIsSecureOverTLS(t *testing.T) {
	t.Parallel()
	e := newClockEnv(t, storeForOneDB(t), nil)
	req := httptest.NewRequest("POST", "https://steward.example/users/sign_in",
		strings.NewReader(`{"email":"owner@acme.example","password":"`+e.Admin.Password+`"}`))
	req.Header.Set("Content-Type", "application/json")
	req.TLS = &tls.ConnectionState{}
	rec := httptest.NewRecorder()
	e.API.ServeHTTP(rec, req)
	cs := rec.Result().Cookies()
	if rec.Code != 200 || len(cs) != 1 || !cs[0].Secure || !cs[0].HttpOnly {
		t.Fatalf("status %d cookies %+v", rec.Code, cs)
	}
}

func TestSignInTenantChoice(t *testing.T) {
	t.Parallel()
	eachClockEnv(t, nil, func(t *testing.T, e *clockEnv) {
		other, err := httpapi.Bootstrap(context.Background(), services(e.DB), "Other", "owner@other.example", "", 4)
		if err != nil {
			t.Fatal(err)
		}
		e.createUser(`{"email":"sam@both.example","password":"same password"}`)
		r := e.do("POST", "/api/v1/admin/users", other.APIKey, `{"email":"sam@both.example","password":"same password"}`)
		want(t, r, http.StatusCreated)
		r, c := e.signIn("sam@both.example", "same password")
		want(t, r, http.StatusUnprocessableEntity)
		if c != nil || !strings.Contains(string(r.Body), "tenant_id") {
			t.Errorf("ambiguous sign-in: %s", r.Body)
		}
		r, _ = e.browse(browserReq{Method: "POST", Path: "/users/sign_in",
			JSON: map[string]any{"email": "sam@both.example", "password": "same password", "tenant_id": other.TenantID}})
		want(t, r, http.StatusOK)
		if u := r.JSON(t)["user"].(map[string]any); u["id"] == nil {
			t.Errorf("sign-in body: %s", r.Body)
		}
	})
}

func TestLockout(t *testing.T) {
	t.Parallel()
	// Account lockout on its own: the per-address throttle (throttle_test.go)
	// would refuse this many failures from one address first.
	noThrottle := func(c *httpapi.Config) { c.AuthFailureLimit = 0 }
	eachClockEnv(t, noThrottle, func(t *testing.T, e *clockEnv) {
		id := e.createUser(`{"email":"bob@acme.example","password":"right password"}`)
		fail := func(n int) {
			t.Helper()
			for range n {
				e.Clock.Advance(time.Second)
				r, _ := e.signIn("bob@acme.example", "wrong password")
				want(t, r, http.StatusUnauthorized)
			}
		}
		locked := func() bool {
			t.Helper()
			r := e.do("GET", userPath(id, ""), e.AdminKey, nil)
			want(t, r, http.StatusOK)
			u := r.JSON(t)
			return u["locked"] == true && u["locked_until"] != nil
		}

		fail(9)
		if locked() {
			t.Fatal("locked after 9 failures")
		}
		fail(1)
		if !locked() {
			t.Fatal("not locked after 10 failures")
		}
		r, c := e.signIn("bob@acme.example", "right password")
		want(t, r, http.StatusUnauthorized)
		if c != nil {
			t.Fatal("a locked account got a session")
		}
		if got := activityReasons(t, e.env, id); got[len(got)-1] != "locked" {
			t.Errorf("last reason: %v", got)
		}

		// An admin update unlocks, and the old failures no longer count.
		want(t, e.do("PUT", userPath(id, ""), e.AdminKey, `{}`), http.StatusOK)
		if locked() {
			t.Fatal("still locked after an admin update")
		}
		fail(1)
		if locked() {
			t.Fatal("one failure after the unlock re-locked the account")
		}
		r, _ = e.signIn("bob@acme.example", "right password")
		want(t, r, http.StatusOK)

		// A success resets the count too.
		fail(9)
		e.signIn("bob@acme.example", "right password")
		fail(9)
		if locked() {
			t.Fatal("failures before a successful sign-in were counted")
		}

		// Failures spread wider than the window do not lock.
		e.Clock.Advance(time.Hour)
		e.signIn("bob@acme.example", "right password")
		for range 12 {
			e.Clock.Advance(2 * time.Minute)
			e.signIn("bob@acme.example", "wrong password")
		}
		if locked() {
			t.Fatal("12 failures two minutes apart (at most 8 in 15 minutes) locked the account")
		}

		// A lock ends by itself after LockoutDuration.
		fail(10)
		if !locked() {
			t.Fatal("not locked")
		}
		e.Clock.Advance(httpapi.DefaultConfig().LockoutDuration)
		if locked() {
			t.Fatal("still locked after the lockout duration")
		}
		r, _ = e.signIn("bob@acme.example", "right password")
		want(t, r, http.StatusOK)
	})
}
