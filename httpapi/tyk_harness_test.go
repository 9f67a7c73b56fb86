package httpapi_test

import (
	"encoding/json"
	"net/http"
	"regexp"
	"testing"

	"github.com/steward-dev/steward/httpapi"
	"github.com/steward-dev/steward/sqlstore"
	"github.com/steward-dev/steward/storetest"
)

// tykSecret is the admin secret of the Tyk test servers (Tyk's sample one).
const tykSecret = "12345"

// tykClient calls a running API the way Tyk's clients do, and keeps every
// response body so a test can check that none of them carries a secret.
type tykClient struct {
	*env
	bodies [][]byte
}

// newTykClient starts the API on db with the given admin secret ("" leaves
// the instance admin API disabled) and a bootstrapped tenant "Acme".
func newTykClient(t *testing.T, db *sqlstore.DB, secret string) *tykClient {
	t.Helper()
	return &tykClient{env: newEnv(t, db, func(c *httpapi.Config) { c.AdminSecret = secret })}
}

// eachTyk runs fn against a fresh API with tykSecret on every test database.
func eachTyk(t *testing.T, fn func(t *testing.T, c *tykClient)) {
	storetest.Each(t, func(t *testing.T, db *sqlstore.DB) {
		c := newTykClient(t, db, tykSecret)
		fn(t, c)
		c.assertNoSecrets(t)
	})
}

// eachTykDisabled runs fn against a fresh API whose admin secret is empty.
func eachTykDisabled(t *testing.T, fn func(t *testing.T, c *tykClient)) {
	storetest.Each(t, func(t *testing.T, db *sqlstore.DB) {
		fn(t, newTykClient(t, db, ""))
	})
}

// adminAuth and userAuth are the headers of the two Tyk APIs.
func adminAuth() map[string]string { return map[string]string{"admin-auth": tykSecret} }
func userAuth(key string) map[string]string {
	return map[string]string{"authorization": key}
}

// call sends a request with exactly the given headers: no Content-Type
// unless the test sets one, as curl -d and Tyk's Go clients differ there.
// body may be a string (sent as is) or any value (sent as JSON).
func (c *tykClient) call(method, path string, headers map[string]string, body any) response {
	c.t.Helper()
	r := c.send(method, path, headers, body)
	c.bodies = append(c.bodies, r.Body)
	return r
}

// secretPattern matches what must never be in a response: bcrypt hashes,
// password fields, Tyk's password history.
var secretPattern = regexp.MustCompile(`\$2[aby]\$|"password"|"PWHistory"|password_hash|"new_password"|"current_password"`)

// assertNoSecrets fails if any response seen carried a password, a hash or
// a password history.
func (c *tykClient) assertNoSecrets(t *testing.T) {
	t.Helper()
	if len(c.bodies) == 0 {
		t.Fatal("no responses recorded")
	}
	for _, b := range c.bodies {
		if m := secretPattern.Find(b); m != nil {
			t.Errorf("response carries %q: %s", m, b)
		}
	}
}

// wantBody fails unless the response has this status and exactly this body.
func wantBody(t *testing.T, r response, status int, body string) {
	t.Helper()
	if r.Status != status || string(r.Body) != body {
		t.Fatalf("got %d %s\nwant %d %s", r.Status, r.Body, status, body)
	}
}

// wantMatch fails unless the response has this status and its whole body
// matches the regular expression.
func wantMatch(t *testing.T, r response, status int, pattern string) []string {
	t.Helper()
	m := regexp.MustCompile(`^` + pattern + `$`).FindStringSubmatch(string(r.Body))
	if r.Status != status || m == nil {
		t.Fatalf("got %d %s\nwant %d matching %s", r.Status, r.Body, status, pattern)
	}
	return m
}

// envelope decodes a {"Status","Message","Meta"} body.
type envelope struct {
	Status  string
	Message string
	Meta    json.RawMessage
}

func decodeEnvelope(t *testing.T, r response) envelope {
	t.Helper()
	var e envelope
	if err := json.Unmarshal(r.Body, &e); err != nil {
		t.Fatalf("not an envelope: %v: %s", err, r.Body)
	}
	return e
}

// tykUser is a user as the Tyk API returns one.
type tykUser struct {
	ID              string            `json:"id"`
	OrgID           string            `json:"org_id"`
	FirstName       string            `json:"first_name"`
	LastName        string            `json:"last_name"`
	EmailAddress    string            `json:"email_address"`
	Active          bool              `json:"active"`
	AccessKey       string            `json:"access_key"`
	UserPermissions map[string]string `json:"user_permissions"`
	CreatedAt       string            `json:"created_at"`
}

func decodeUser(t *testing.T, raw []byte) tykUser {
	t.Helper()
	var u tykUser
	if err := json.Unmarshal(raw, &u); err != nil {
		t.Fatalf("not a user: %v: %s", err, raw)
	}
	return u
}

// userList is the {"users":[…],"pages":N} body.
type userList struct {
	Users []tykUser `json:"users"`
	Pages int       `json:"pages"`
}

func decodeUserList(t *testing.T, r response) userList {
	t.Helper()
	want(t, r, http.StatusOK)
	var l userList
	if err := json.Unmarshal(r.Body, &l); err != nil {
		t.Fatalf("not a user list: %v: %s", err, r.Body)
	}
	return l
}

const hexID = `[0-9a-f]{24}`
