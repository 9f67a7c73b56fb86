package httpapi_test

import (
	"context"
	"net/http"
	"strings"
	"testing"

	"github.com/steward-dev/steward"
	"github.com/steward-dev/steward/httpapi"
	"github.com/steward-dev/steward/sqlstore"
	"github.com/steward-dev/steward/storetest"
)

// TestUserCreateIsAtomic breaks the last step of inviting a new user (its
// email) and checks the client can simply retry: no user was left behind
// to make the retry a 409.
func TestUserCreateIsAtomic(t *testing.T) {
	t.Parallel()
	eachEnv(t, func(t *testing.T, e *env) {
		restore := storetest.FailInserts(t, e.DB, "mail_outbox")
		body := `{"email":"ann@example.com","first_name":"Ann"}`
		want(t, e.do("POST", "/api/v1/admin/users", e.AdminKey, body), http.StatusInternalServerError)
		r := e.do("GET", "/api/v1/admin/users?search=ann", e.AdminKey, nil)
		want(t, r, http.StatusOK)
		if users := r.JSON(t)["admin/users"].([]any); len(users) != 0 {
			t.Fatalf("a failed create left a user behind: %s", r.Body)
		}
		restore()
		r = e.do("POST", "/api/v1/admin/users", e.AdminKey, body)
		want(t, r, http.StatusCreated)
		if r.JSON(t)["invitation_status"] != "pending" {
			t.Errorf("retried create: %s", r.Body)
		}
	})
}

// TestUserRulesRunBeforeHashing checks that a request the user rules
// refuse is answered before any password is hashed: with a bcrypt cost
// bcrypt refuses, reaching the hash would be a 500.
func TestUserRulesRunBeforeHashing(t *testing.T) {
	t.Parallel()
	storetest.Each(t, func(t *testing.T, db *sqlstore.DB) {
		e := newEnv(t, db, func(c *httpapi.Config) { c.BcryptCost = 99; c.AdminSecret = tykSecret })
		tyk := map[string]string{"admin-auth": tykSecret}
		long := strings.Repeat("é", steward.MaxNameLength+1)
		for _, c := range []struct {
			name, method, path, body string
			tyk                      bool
			field                    string
		}{
			{"Tines bad email", "POST", "/api/v1/admin/users", `{"email":"not-an-address","password":"long enough"}`, false, "email"},
			{"Tines long name", "POST", "/api/v1/admin/users", `{"email":"a@example.com","first_name":"` + long + `","password":"long enough"}`, false, "first_name"},
			{"Tines bad permission", "POST", "/api/v1/admin/users", `{"email":"a@example.com","tenant_permissions":["no spaces"],"password":"long enough"}`, false, "tenant_permissions"},
			{"Tines short password", "POST", "/api/v1/admin/users", `{"email":"a@example.com","password":"short"}`, false, "password"},
			{"Tines update bad email", "PUT", "/api/v1/admin/users/1", `{"email":"nope","password":"long enough"}`, false, "email"},
			{"Tyk bad email", "POST", "/admin/users", `{"email_address":"nope","password":"long enough"}`, true, "email_address"},
			{"Tyk long name", "POST", "/admin/users", `{"email_address":"a@example.com","last_name":"` + long + `","password":"long enough"}`, true, "last_name"},
		} {
			t.Run(c.name, func(t *testing.T) {
				var r response
				if c.tyk {
					r = e.send(c.method, c.path, tyk, c.body)
				} else {
					r = e.do(c.method, c.path, e.AdminKey, c.body)
				}
				if r.Status != http.StatusBadRequest && r.Status != http.StatusUnprocessableEntity {
					t.Fatalf("status %d, want 4xx before hashing: %s", r.Status, r.Body)
				}
				if !strings.Contains(string(r.Body), c.field) {
					t.Errorf("the error does not name %s: %s", c.field, r.Body)
				}
			})
		}
		// The same request with valid fields does reach bcrypt (and fails
		// on the cost): the cases above prove the order, not a dead path.
		r := e.do("POST", "/api/v1/admin/users", e.AdminKey, `{"email":"a@example.com","password":"long enough"}`)
		want(t, r, http.StatusInternalServerError)
	})
}

// TestPasswordMinLengthIsConfigurable checks that the one password rule
// follows the configured minimum on every API that sets passwords.
func TestPasswordMinLengthIsConfigurable(t *testing.T) {
	t.Parallel()
	storetest.Each(t, func(t *testing.T, db *sqlstore.DB) {
		e := newEnv(t, db, func(c *httpapi.Config) { c.PasswordMinLength = 12; c.AdminSecret = tykSecret })
		tyk := map[string]string{"admin-auth": tykSecret}
		r := e.do("POST", "/api/v1/admin/users", e.AdminKey, `{"email":"a@example.com","password":"elevenchars"}`)
		want(t, r, http.StatusUnprocessableEntity)
		if !strings.Contains(string(r.Body), "at least 12 characters") {
			t.Errorf("Tines: %s", r.Body)
		}
		r = e.send("POST", "/admin/users", tyk, `{"email_address":"a@example.com","password":"elevenchars"}`)
		want(t, r, http.StatusBadRequest)
		if !strings.Contains(string(r.Body), "at least 12 characters") {
			t.Errorf("Tyk: %s", r.Body)
		}
		want(t, e.do("POST", "/api/v1/admin/users", e.AdminKey, `{"email":"a@example.com","password":"twelve chars"}`), http.StatusCreated)
	})
}

// TestEveryOrganisationHasADefaultStory checks the README's promise for
// organisations created through Tyk's API, so a first agent needs no story.
func TestEveryOrganisationHasADefaultStory(t *testing.T) {
	t.Parallel()
	eachTyk(t, func(t *testing.T, c *tykClient) {
		r := c.call("POST", "/admin/organisations", adminAuth(), `{"owner_name":"Fresh"}`)
		want(t, r, http.StatusOK)
		orgs, _, err := c.DB.FindOrganisations(context.Background(), steward.PageRequest{})
		if err != nil {
			t.Fatal(err)
		}
		var id int64
		for _, o := range orgs {
			if o.OwnerName == "Fresh" {
				id = o.ID
			}
		}
		stories, total, err := c.DB.FindStories(context.Background(), id, steward.PageRequest{Page: 1, PerPage: 10})
		if err != nil || total != 1 || stories[0].Name != steward.DefaultStoryName {
			t.Errorf("organisation %d has stories %v (%d, %v), want its default story", id, stories, total, err)
		}
	})
}
