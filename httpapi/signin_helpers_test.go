package httpapi_test

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/steward-dev/steward/httpapi"
	"github.com/steward-dev/steward/sqlstore"
	"github.com/steward-dev/steward/storetest"
)

// clockEnv is an env whose API and store share a clock the test moves.
type clockEnv struct {
	*env
	Clock *storetest.Clock
}

// testStart is where every test clock starts.
var testStart = time.Date(2026, 3, 2, 9, 0, 0, 0, time.UTC)

// newClockEnv starts the API on db with a manual clock and cfg changes.
func newClockEnv(t *testing.T, db *sqlstore.DB, tweak func(*httpapi.Config)) *clockEnv {
	t.Helper()
	clock := storetest.NewClock(testStart)
	db.Clock = clock
	var configure []func(*httpapi.Config)
	if tweak != nil {
		configure = append(configure, tweak)
	}
	return &clockEnv{env: newEnvWithClock(t, db, clock, configure...), Clock: clock}
}

// eachClockEnv runs fn against a fresh clock env on every test database.
func eachClockEnv(t *testing.T, tweak func(*httpapi.Config), fn func(t *testing.T, e *clockEnv)) {
	storetest.Each(t, func(t *testing.T, db *sqlstore.DB) {
		fn(t, newClockEnv(t, db, tweak))
	})
}

// browserReq is a request as a browser would send it: a body (form or
// JSON), headers, and the session cookie when one is given.
type browserReq struct {
	Method, Path string
	JSON         any
	Form         url.Values
	Cookie       *http.Cookie
	Header       map[string]string
}

// browse performs a browserReq.
func (e *env) browse(b browserReq) (response, *http.Response) {
	e.t.Helper()
	var body io.Reader
	ct := ""
	switch {
	case b.Form != nil:
		body, ct = strings.NewReader(b.Form.Encode()), "application/x-www-form-urlencoded"
	case b.JSON != nil:
		s, ok := b.JSON.(string)
		if !ok {
			s = mustJSON(e.t, b.JSON)
		}
		body, ct = strings.NewReader(s), "application/json"
	}
	req, err := http.NewRequest(b.Method, e.Server.URL+b.Path, body)
	if err != nil {
		e.t.Fatal(err)
	}
	if ct != "" {
		req.Header.Set("Content-Type", ct)
	}
	for k, v := range b.Header {
		req.Header.Set(k, v)
	}
	if b.Cookie != nil {
		req.AddCookie(&http.Cookie{Name: b.Cookie.Name, Value: b.Cookie.Value})
	}
	resp, err := e.Server.Client().Do(req)
	if err != nil {
		e.t.Fatal(err)
	}
	defer resp.Body.Close()
	data, _ := io.ReadAll(resp.Body)
	return response{Status: resp.StatusCode, Header: resp.Header, Body: data}, resp
}

// signIn posts credentials as JSON and returns the response and the
// session cookie (nil when none was set).
func (e *env) signIn(email, pw string) (response, *http.Cookie) {
	e.t.Helper()
	r, resp := e.browse(browserReq{Method: "POST", Path: "/users/sign_in", JSON: map[string]string{"email": email, "password": pw}})
	for _, c := range resp.Cookies() {
		if c.Name == httpapi.SessionCookie && c.Value != "" {
			return r, c
		}
	}
	return r, nil
}

// createUser creates a user through the admin API and returns its id.
func (e *env) createUser(body string) int64 {
	e.t.Helper()
	r := e.do("POST", "/api/v1/admin/users", e.AdminKey, body)
	want(e.t, r, http.StatusCreated)
	return int64(r.JSON(e.t)["id"].(float64))
}

// userPath is the admin API path of a user, with an optional suffix.
func userPath(id int64, suffix string) string {
	return fmt.Sprintf("/api/v1/admin/users/%d%s", id, suffix)
}

var invitationLink = regexp.MustCompile(`https?://\S+/users/invitation/accept\?invitation_token=(\S+)`)

// latestInvitationToken reads the newest unsent invitation for an address
// from the outbox and returns the token in its link.
func latestInvitationToken(t *testing.T, e *env, to string) string {
	t.Helper()
	msgs, err := e.DB.FindDueMail(context.Background(), time.Now().Add(100*365*24*time.Hour), 1000)
	if err != nil {
		t.Fatal(err)
	}
	token := ""
	for _, m := range msgs {
		if m.To == to {
			if sub := invitationLink.FindStringSubmatch(m.Body); sub != nil {
				token, _ = url.QueryUnescape(sub[1])
			}
		}
	}
	if token == "" {
		t.Fatalf("no invitation to %s in the outbox", to)
	}
	return token
}

// activityReasons lists a user's recorded sign-in outcomes, oldest first
// ("ok" for a success).
func activityReasons(t *testing.T, e *env, id int64) []string {
	t.Helper()
	r := e.do("GET", userPath(id, "/signin_activities?per_page=500"), e.AdminKey, nil)
	want(t, r, http.StatusOK)
	list := r.JSON(t)["admin/login_activities"].([]any)
	out := make([]string, len(list))
	for i, a := range list {
		m := a.(map[string]any)
		reason := "ok"
		if m["success"] != true {
			reason, _ = m["failure_reason"].(string)
		}
		out[len(list)-1-i] = reason
	}
	return out
}

func mustJSON(t *testing.T, v any) string {
	t.Helper()
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// storeForOneDB opens a fresh SQLite store, for tests about the HTTP layer
// alone.
func storeForOneDB(t *testing.T) *sqlstore.DB {
	t.Helper()
	return storetest.OpenSQLite(t)
}
