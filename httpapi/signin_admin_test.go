package httpapi_test

import (
	"context"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/steward-dev/steward/httpapi"
)

func TestSignInActivities(t *testing.T) {
	t.Parallel()
	eachClockEnv(t, nil, func(t *testing.T, e *clockEnv) {
		id := e.createUser(`{"email":"ann@acme.example","password":"correct horse"}`)
		// Five attempts an hour apart: fail, ok, fail, ok, fail.
		var times []time.Time
		for i := range 5 {
			pw := "correct horse"
			if i%2 == 0 {
				pw = "wrong horse"
			}
			e.browse(browserReq{Method: "POST", Path: "/users/sign_in", JSON: map[string]string{"email": "ann@acme.example", "password": pw},
				Header: map[string]string{"User-Agent": "test-agent/1.0", "Referer": "https://acme.example/login"}})
			times = append(times, e.Clock.Now())
			e.Clock.Advance(time.Hour)
		}
		path := userPath(id, "/signin_activities")

		r := e.do("GET", path, e.AdminKey, nil)
		want(t, r, http.StatusOK)
		body := r.JSON(t)
		list := body["admin/login_activities"].([]any)
		if len(list) != 5 || body["meta"].(map[string]any)["count"] != 5.0 {
			t.Fatalf("list: %s", r.Body)
		}
		newest := list[0].(map[string]any)
		for _, k := range []string{"id", "user_id", "ip", "user_agent", "created_at", "success", "failure_reason", "referrer"} {
			if _, ok := newest[k]; !ok {
				t.Errorf("field %s missing: %v", k, newest)
			}
		}
		if newest["user_id"] != float64(id) || newest["ip"] != "127.0.0.1" || newest["user_agent"] != "test-agent/1.0" ||
			newest["referrer"] != "https://acme.example/login" || newest["success"] != false || newest["failure_reason"] != "wrong_password" ||
			newest["created_at"] != times[4].Format("2006-01-02T15:04:05.000Z") {
			t.Errorf("newest activity: %v", newest)
		}
		if ok := list[1].(map[string]any); ok["success"] != true || ok["failure_reason"] != nil {
			t.Errorf("a success: %v", ok)
		}

		count := func(query string) float64 {
			t.Helper()
			r := e.do("GET", path+"?"+query, e.AdminKey, nil)
			want(t, r, http.StatusOK)
			return r.JSON(t)["meta"].(map[string]any)["count"].(float64)
		}
		iso := func(t time.Time) string { return url.QueryEscape(t.Format(time.RFC3339Nano)) }
		if n := count("after=" + iso(times[1])); n != 3 {
			t.Errorf("after the second attempt: %v", n)
		}
		if n := count("before=" + iso(times[1])); n != 1 {
			t.Errorf("before the second attempt: %v", n)
		}
		if n := count("after=" + iso(times[0]) + "&before=" + iso(times[4])); n != 3 {
			t.Errorf("between: %v", n)
		}
		if n := count("after=" + times[0].Format("2006-01-02")); n != 5 {
			t.Errorf("after a date: %v", n)
		}
		// Python's requests sends a datetime as str(datetime), form-encoded:
		// requests.get(url, params={"after": datetime(2000, 1, 1)}).
		if n := count("after=2000-01-01+00%3A00%3A00"); n != 5 {
			t.Errorf("after 2000-01-01 00:00:00: %v", n)
		}
		if n := count("before=2000-01-01+00%3A00%3A00"); n != 0 {
			t.Errorf("before 2000-01-01 00:00:00: %v", n)
		}
		if n := count("after=" + url.QueryEscape(times[1].Format("2006-01-02 15:04:05.000000"))); n != 3 {
			t.Errorf("after the second attempt, space and microseconds: %v", n)
		}
		if n := count("before=" + strconv.FormatInt(times[1].Unix(), 10)); n != 1 {
			t.Errorf("before the second attempt in epoch seconds: %v", n)
		}
		if n := count("after=" + url.QueryEscape(times[1].In(time.FixedZone("", 2*3600)).Format("2006-01-02 15:04:05-07:00"))); n != 3 {
			t.Errorf("after the second attempt with a +02:00 zone: %v", n)
		}

		r = e.do("GET", path+"?per_page=2&page=3", e.AdminKey, nil)
		want(t, r, http.StatusOK)
		page := r.JSON(t)
		if l := page["admin/login_activities"].([]any); len(l) != 1 || page["meta"].(map[string]any)["next_page"] != nil {
			t.Errorf("last page: %s", r.Body)
		}
		if !strings.HasPrefix(page["meta"].(map[string]any)["current_page"].(string), e.Server.URL+path+"?page=3&per_page=2") {
			t.Errorf("current_page: %s", r.Body)
		}

		for _, q := range []string{"before=yesterday", "after=2026-13-45", "before=1700000000.5"} {
			r := e.do("GET", path+"?"+q, e.AdminKey, nil)
			want(t, r, http.StatusBadRequest)
			if name := strings.SplitN(q, "=", 2)[0]; !strings.Contains(string(r.Body), `"field":"`+name+`"`) {
				t.Errorf("%s: error does not name the parameter: %s", q, r.Body)
			}
			for _, form := range []string{"ISO 8601", "2019-07-08 14:16:11", "a date", "epoch seconds"} {
				if !strings.Contains(string(r.Body), form) {
					t.Errorf("%s: error does not list %q: %s", q, form, r.Body)
				}
			}
		}
		want(t, e.do("GET", path+"?page=0", e.AdminKey, nil), http.StatusBadRequest)
	})
}

func TestSignInActivityRetention(t *testing.T) {
	t.Parallel()
	eachClockEnv(t, nil, func(t *testing.T, e *clockEnv) {
		id := e.createUser(`{"email":"ann@acme.example","password":"correct horse"}`)
		e.signIn("ann@acme.example", "wrong horse")
		e.Clock.Advance(20 * 24 * time.Hour)
		e.signIn("ann@acme.example", "correct horse")
		e.Clock.Advance(11 * 24 * time.Hour)
		n, err := e.API.PruneLoginActivities(context.Background())
		if err != nil || n != 1 {
			t.Fatalf("pruned %d, err %v", n, err)
		}
		if got := activityReasons(t, e.env, id); len(got) != 1 || got[0] != "ok" {
			t.Errorf("kept: %v", got)
		}
	})
}

func TestExpireSession(t *testing.T) {
	t.Parallel()
	eachClockEnv(t, nil, func(t *testing.T, e *clockEnv) {
		id := e.createUser(`{"email":"ann@acme.example","password":"correct horse"}`)
		_, c1 := e.signIn("ann@acme.example", "correct horse")
		_, c2 := e.signIn("ann@acme.example", "correct horse")
		_, admin := e.signIn("owner@acme.example", e.Admin.Password)
		for _, c := range []*http.Cookie{c1, c2, admin} {
			r, _ := e.browse(browserReq{Method: "GET", Path: "/api/v1/api_keys", Cookie: c})
			want(t, r, http.StatusOK)
		}
		r := e.do("POST", userPath(id, "/expire_session"), e.AdminKey, nil)
		want(t, r, http.StatusNoContent)
		if len(r.Body) != 0 {
			t.Errorf("body: %q", r.Body)
		}
		for _, c := range []*http.Cookie{c1, c2} {
			r, _ := e.browse(browserReq{Method: "GET", Path: "/api/v1/api_keys", Cookie: c})
			want(t, r, http.StatusUnauthorized)
		}
		r, _ = e.browse(browserReq{Method: "GET", Path: "/api/v1/api_keys", Cookie: admin})
		want(t, r, http.StatusOK) // other users keep their sessions
		want(t, e.do("POST", userPath(999999, "/expire_session"), e.AdminKey, nil), http.StatusNotFound)
	})
}

func TestResendInvitation(t *testing.T) {
	t.Parallel()
	eachClockEnv(t, nil, func(t *testing.T, e *clockEnv) {
		id := e.createUser(`{"email":"iris@acme.example"}`)
		first := latestInvitationToken(t, e.env, "iris@acme.example")
		e.Clock.Advance(time.Minute)

		r := e.do("POST", userPath(id, "/resend_invitation"), e.AdminKey, nil)
		want(t, r, http.StatusOK)
		if len(r.Body) != 0 {
			t.Errorf("resend body: %q", r.Body)
		}
		second := latestInvitationToken(t, e.env, "iris@acme.example")
		if second == first {
			t.Fatal("resend did not rotate the token")
		}
		r, _ = e.browse(browserReq{Method: "POST", Path: "/users/invitation", JSON: map[string]string{"invitation_token": first, "password": "new password"}})
		want(t, r, http.StatusNotFound)
		r, _ = e.browse(browserReq{Method: "POST", Path: "/users/invitation", JSON: map[string]string{"invitation_token": second, "password": "new password"}})
		want(t, r, http.StatusOK)

		r = e.do("POST", userPath(id, "/resend_invitation"), e.AdminKey, nil)
		want(t, r, http.StatusOK)
		if string(r.Body) != `{"message":"User already accepted invitation."}`+"\n" {
			t.Errorf("accepted user: %q", r.Body)
		}
		owner := e.do("POST", userPath(e.Admin.UserID, "/resend_invitation"), e.AdminKey, nil)
		if m := owner.JSON(t)["message"]; m != "User already accepted invitation." {
			t.Errorf("user created with a password: %s", owner.Body)
		}
		want(t, e.do("POST", userPath(999999, "/resend_invitation"), e.AdminKey, nil), http.StatusNotFound)
	})
}

// TestNewAdminEndpointsAreTenantScopedAndAdminOnly checks every new admin
// endpoint: another tenant's user is 404, a non-admin is 403.
func TestNewAdminEndpointsAreTenantScopedAndAdminOnly(t *testing.T) {
	t.Parallel()
	eachClockEnv(t, nil, func(t *testing.T, e *clockEnv) {
		other, err := httpapi.Bootstrap(context.Background(), services(e.DB), "Other", "owner@other.example", "", 4)
		if err != nil {
			t.Fatal(err)
		}
		r := e.do("POST", "/api/v1/admin/users", other.APIKey, `{"email":"victim@other.example"}`)
		want(t, r, http.StatusCreated)
		victim := int64(r.JSON(t)["id"].(float64))
		_, victimSession := e.signIn("owner@other.example", other.Password)

		member := e.createUser(`{"email":"member@acme.example","password":"member password"}`)
		memberKey := newKeyFor(t, e.env, e.Admin.TenantID, member)
		endpoints := []struct{ method, suffix string }{
			{"GET", "/signin_activities"}, {"POST", "/resend_invitation"}, {"POST", "/expire_session"},
		}
		for _, ep := range endpoints {
			t.Run(ep.suffix, func(t *testing.T) {
				want(t, e.do(ep.method, userPath(victim, ep.suffix), e.AdminKey, nil), http.StatusNotFound)
				want(t, e.do(ep.method, userPath(other.UserID, ep.suffix), e.AdminKey, nil), http.StatusNotFound)
				want(t, e.do(ep.method, userPath(e.Admin.UserID, ep.suffix), memberKey, nil), http.StatusForbidden)
				want(t, e.do(ep.method, userPath(e.Admin.UserID, ep.suffix), "", nil), http.StatusUnauthorized)
			})
		}
		// The other tenant's invitation and sessions were left alone.
		if tok := latestInvitationToken(t, e.env, "victim@other.example"); tok == "" {
			t.Error("no invitation")
		}
		var sent int
		e.DB.Read.QueryRow(e.DB.Q(`SELECT COUNT(*) FROM mail_outbox WHERE recipient = ?`), "victim@other.example").Scan(&sent)
		if sent != 1 {
			t.Errorf("the other tenant's user got %d invitations", sent)
		}
		r2, _ := e.browse(browserReq{Method: "GET", Path: "/api/v1/api_keys", Cookie: victimSession})
		want(t, r2, http.StatusOK)
	})
}
