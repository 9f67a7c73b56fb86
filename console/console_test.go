package console_test

import (
	"context"
	"net/http"
	"net/url"
	"regexp"
	"strconv"
	"strings"
	"testing"

	"github.com/steward-dev/steward"
	"github.com/steward-dev/steward/console"
	"github.com/steward-dev/steward/httpapi"
	"github.com/steward-dev/steward/sqlstore"
	"github.com/steward-dev/steward/storetest"
	"golang.org/x/crypto/bcrypt"
)

func TestSignInFormRedirectsAndSignsOut(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *sqlstore.DB) {
		s := newSite(t, db, false)
		v := s.visitor()
		p := v.get("/")
		wantStatus(t, p, http.StatusSeeOther)
		if p.Header.Get("Location") != "/users/sign_in" {
			t.Fatalf("signed-out / redirects to %q", p.Header.Get("Location"))
		}
		p = v.get("/users/sign_in")
		wantStatus(t, p, http.StatusOK)
		wantText(t, p, `<label for="email">Email</label>`, `<label for="password">Password</label>`, `action="/users/sign_in"`)

		// A wrong password shows the API's message on the form again.
		p = v.post("/users/sign_in", url.Values{"email": {s.Admin.Email}, "password": {"wrong password"}})
		wantStatus(t, p, http.StatusUnauthorized)
		wantText(t, p, "invalid email or password", `value="owner@acme.example"`)
		// A missing password is a message beside the field.
		p = v.post("/users/sign_in", url.Values{"email": {s.Admin.Email}})
		wantStatus(t, p, http.StatusUnprocessableEntity)
		wantText(t, p, `id="password-error">password is required`)

		v.signIn(s.Admin.Email)
		p = v.get("/")
		wantStatus(t, p, http.StatusSeeOther)
		if p.Header.Get("Location") != "/console/jobs" {
			t.Fatalf("an admin's home is %q", p.Header.Get("Location"))
		}
		p = v.get("/console/jobs")
		wantStatus(t, p, http.StatusOK)
		wantText(t, p, `action="/console/sign_out"`, "Sign out")

		p = v.post("/console/sign_out", nil)
		wantStatus(t, p, http.StatusSeeOther)
		if p.Header.Get("Location") != "/users/sign_in" {
			t.Fatalf("sign out redirects to %q", p.Header.Get("Location"))
		}
		p = v.get("/console/jobs")
		wantStatus(t, p, http.StatusSeeOther)
	})
}

func TestSignInJSONUnchanged(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *sqlstore.DB) {
		s := newSite(t, db, false)
		// A script posting a form without asking for HTML keeps the JSON answer.
		resp, err := s.Srv.Client().PostForm(s.URL+"/users/sign_in", url.Values{"email": {s.Admin.Email}, "password": {adminPassword}})
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != http.StatusOK || !strings.HasPrefix(resp.Header.Get("Content-Type"), "application/json") {
			t.Fatalf("form sign-in from a script: %d %s", resp.StatusCode, resp.Header.Get("Content-Type"))
		}
	})
}

func TestCookieFlagsAndHeaders(t *testing.T) {
	for _, tls := range []bool{false, true} {
		t.Run(map[bool]string{false: "http", true: "https"}[tls], func(t *testing.T) {
			s := newSite(t, storetest.OpenSQLite(t), tls)
			v := s.visitor()
			p := v.get("/users/sign_in")
			if csp := p.Header.Get("Content-Security-Policy"); csp != console.ContentSecurityPolicy ||
				!strings.Contains(csp, "default-src 'self'") || strings.Contains(csp, "unsafe-inline") {
				t.Fatalf("CSP %q", csp)
			}
			if p.Header.Get("X-Frame-Options") != "DENY" || p.Header.Get("X-Content-Type-Options") != "nosniff" {
				t.Fatalf("headers %v", p.Header)
			}
			if strings.Contains(p.Body, "<script>") || strings.Contains(p.Body, "style=") || strings.Contains(p.Body, "<style") {
				t.Fatalf("inline script or style in the page:\n%s", p.Body)
			}
			p = v.post("/users/sign_in", url.Values{"email": {s.Admin.Email}, "password": {adminPassword}})
			wantStatus(t, p, http.StatusSeeOther)
			var session *http.Cookie
			for _, c := range (&http.Response{Header: p.Header}).Cookies() {
				if c.Name == "steward_session" {
					session = c
				}
			}
			if session == nil {
				t.Fatal("no session cookie")
			}
			if !session.HttpOnly || session.SameSite != http.SameSiteLaxMode || session.Secure != tls {
				t.Fatalf("session cookie HttpOnly=%v SameSite=%v Secure=%v (TLS %v)", session.HttpOnly, session.SameSite, session.Secure, tls)
			}
			p = v.get("/console/api_keys")
			wantStatus(t, p, http.StatusOK)
			if p.Header.Get("Content-Security-Policy") != console.ContentSecurityPolicy || p.Header.Get("Cache-Control") != "no-store" {
				t.Fatalf("console page headers %v", p.Header)
			}
		})
	}
}

func TestCSRFRejected(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *sqlstore.DB) {
		s := newSite(t, db, false)
		v := s.visitor()
		v.get("/users/sign_in")
		// Sign-in itself needs the token.
		p := v.post("/users/sign_in", url.Values{"email": {s.Admin.Email}, "password": {adminPassword}, "csrf_token": {"forged"}})
		wantStatus(t, p, http.StatusForbidden)
		v.signIn(s.Admin.Email)
		v.get("/console/api_keys")
		for _, tc := range []struct {
			name  string
			token []string
		}{{"missing", nil}, {"forged", []string{forge(v.token)}}, {"empty", []string{""}}} {
			t.Run(tc.name, func(t *testing.T) {
				form := url.Values{"name": {"sneaky"}}
				if tc.token != nil {
					form["csrf_token"] = tc.token
				} else {
					form["csrf_token"] = nil
				}
				req, _ := http.NewRequest("POST", s.URL+"/console/api_keys", strings.NewReader(encodeWithout(form)))
				req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
				p := v.do(req)
				wantStatus(t, p, http.StatusForbidden)
				wantText(t, p, "reload the page")
			})
		}
		var keys struct {
			Keys []struct{ Name string } `json:"api_keys"`
		}
		s.api("GET", "/api/v1/api_keys", nil, &keys)
		for _, k := range keys.Keys {
			if k.Name == "sneaky" {
				t.Fatal("a request without a valid CSRF token created a key")
			}
		}
		// A token from one session is not valid for another.
		other := s.visitor()
		other.signIn(s.Admin.Email)
		other.get("/console/api_keys")
		p = other.post("/console/api_keys", url.Values{"name": {"sneaky"}, "csrf_token": {v.token}})
		wantStatus(t, p, http.StatusForbidden)
	})
}

// forge changes the first character of a token.
func forge(token string) string {
	if token[0] == 'x' {
		return "y" + token[1:]
	}
	return "x" + token[1:]
}

// encodeWithout encodes a form, leaving out fields with no values.
func encodeWithout(f url.Values) string {
	g := url.Values{}
	for k, v := range f {
		if len(v) > 0 {
			g[k] = v
		}
	}
	return g.Encode()
}

func TestMemberSeesOnlyWhatTheAPIAllows(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *sqlstore.DB) {
		s := newSite(t, db, false)
		s.addMember("member@acme.example")
		var tpl struct {
			ID int64 `json:"id"`
		}
		s.api("POST", "/api/v1/admin/templates", map[string]any{"name": "Lookup", "agent_type": "HTTP Request",
			"agent_options": map[string]any{"url": "https://dir.example/"}}, &tpl)
		v := s.visitor()
		v.signIn("member@acme.example")
		p := v.get("/")
		if p.Header.Get("Location") != "/console/templates" {
			t.Fatalf("a member's home is %q", p.Header.Get("Location"))
		}
		for _, path := range []string{"/console/jobs", "/console/users", "/console/users/1", "/console/templates/export",
			"/console/jobs/confirm?do=delete&state=dead"} {
			p := v.get(path)
			wantStatus(t, p, http.StatusForbidden)
			wantText(t, p, "only tenant admins")
		}
		p = v.get("/console/templates")
		wantStatus(t, p, http.StatusOK)
		wantText(t, p, "Lookup")
		if strings.Contains(p.Body, "New template") || strings.Contains(p.Body, `href="/console/users"`) {
			t.Fatalf("a member is offered admin pages:\n%s", p.Body)
		}
		p = v.get("/console/templates/" + itoa(tpl.ID))
		wantStatus(t, p, http.StatusOK)
		if strings.Contains(p.Body, "<form class=\"card\"") {
			t.Fatal("a member is shown the template edit form")
		}
		for _, path := range []string{"/console/templates/" + itoa(tpl.ID), "/console/templates/" + itoa(tpl.ID) + "/delete",
			"/console/users", "/console/jobs/bulk", "/console/users/1/delete"} {
			p := v.post(path, url.Values{"name": {"x"}, "do": {"delete"}, "state": {"dead"}})
			wantStatus(t, p, http.StatusForbidden)
		}
		// Their own API keys work.
		p = v.post("/console/api_keys", url.Values{"name": {"laptop"}})
		wantStatus(t, p, http.StatusCreated)
		wantText(t, p, "stw_")
	})
}

func TestBadInputShowsTheAPIMessageBesideTheField(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *sqlstore.DB) {
		s := newSite(t, db, false)
		var tpl struct {
			ID int64 `json:"id"`
		}
		s.api("POST", "/api/v1/admin/templates", map[string]any{"name": "Existing", "agent_type": "HTTP Request",
			"agent_options": map[string]any{"url": "https://dir.example/"}}, &tpl)
		v := s.visitor()
		v.signIn(s.Admin.Email)
		cases := []struct {
			name, get, post string
			form            url.Values
			status          int
			field, message  string
		}{
			{"key without name", "/console/api_keys", "/console/api_keys", url.Values{"name": {"  "}}, 422, "name", "name is required"},
			{"key expiring in the past", "/console/api_keys", "/console/api_keys", url.Values{"name": {"k"}, "expires_at": {"2001-01-01"}}, 422, "expires_at", "expires_at must be in the future"},
			{"key expiry not a date", "/console/api_keys", "/console/api_keys", url.Values{"name": {"k"}, "expires_at": {"soon"}}, 422, "expires_at", "RFC 3339"},
			{"invite bad email", "/console/users", "/console/users", url.Values{"email": {"not-an-email"}}, 422, "invite-email", "is not a valid address"},
			{"invite long name", "/console/users", "/console/users", url.Values{"email": {"a@b.example"}, "first_name": {strings.Repeat("é", 300)}}, 422, "invite-first", "at most 255"},
			{"template without url", "/console/templates/new", "/console/templates", url.Values{"name": {"T"}, "agent_type": {"HTTP Request"}, "agent_options": {`{"method":"get"}`}}, 422, "agent_options", "agent_options.url"},
			{"template options not JSON", "/console/templates/new", "/console/templates", url.Values{"name": {"T"}, "agent_type": {"HTTP Request"}, "agent_options": {`{"url": `}}, 422, "agent_options", "not valid JSON"},
			{"template unknown type", "/console/templates/new", "/console/templates", url.Values{"name": {"T"}, "agent_type": {"Fax"}, "agent_options": {`{}`}}, 422, "agent_type", "not a known action type"},
			{"template duplicate name", "/console/templates/new", "/console/templates", url.Values{"name": {"Existing"}, "agent_type": {"HTTP Request"}, "agent_options": {`{"url":"https://x.example"}`}}, 409, "name", "Existing"},
			{"template edit empty name", "/console/templates/" + itoa(tpl.ID), "/console/templates/" + itoa(tpl.ID), url.Values{"name": {""}, "agent_type": {"HTTP Request"}, "agent_options": {`{"url":"https://x.example"}`}}, 422, "name", "name"},
			{"user edit long name", "/console/users/" + itoa(s.Admin.UserID), "/console/users/" + itoa(s.Admin.UserID), url.Values{"first_name": {strings.Repeat("x", 300)}, "admin": {"on"}, "is_active": {"on"}}, 422, "first_name", "at most 255"},
			{"import not JSON", "/console/templates/import", "/console/templates/import", url.Values{"document": {"{nope"}}, 422, "document", "not valid JSON"},
		}
		for _, tc := range cases {
			t.Run(tc.name, func(t *testing.T) {
				v.get(tc.get)
				p := v.post(tc.post, tc.form)
				wantStatus(t, p, tc.status)
				re := regexp.MustCompile(`id="` + regexp.QuoteMeta(tc.field) + `-error">([^<]*)<`)
				m := re.FindStringSubmatch(p.Body)
				if m == nil || !strings.Contains(m[1], tc.message) {
					t.Fatalf("no message containing %q beside %s:\n%s", tc.message, tc.field, p.Body)
				}
				if !strings.Contains(p.Body, `aria-invalid="true"`) {
					t.Fatal("the field is not marked invalid")
				}
			})
		}
		// Paths and parameters a user can type never cause a 500.
		for _, path := range []string{"/console/users/0", "/console/users/99999", "/console/users/x", "/console/templates/-1",
			"/console/jobs?page=-4&apage=x&list=%00&action_id=abc", "/console/jobs?action_id=99999", "/console/jobs/confirm?do=retry&state=queued",
			"/console/jobs/confirm?do=delete&state=dead&action_id=99999", "/console/users?search=%25%5F%27&page=99999", "/console/templates?search=%00",
			"/console/no/such/page"} {
			if p := v.get(path); p.Status >= 500 {
				t.Errorf("GET %s: %d\n%s", path, p.Status, p.Body)
			}
		}
	})
}

func TestQueuesBulkAndSingleJobChanges(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *sqlstore.DB) {
		s := newSite(t, db, false)
		a := s.addAction("Call <CRM>")
		b := s.addAction("Other")
		s.addJobs(a, 3, steward.JobDead, "upstream answered 502 <b>bad gateway</b>")
		s.addJobs(a, 2, steward.JobRetry, "upstream answered 502 <b>bad gateway</b>")
		s.addJobs(b, 1, steward.JobDead, "upstream answered 502 <b>bad gateway</b>")
		s.addJobs(b, 4, steward.JobQueued, "upstream answered 502 <b>bad gateway</b>")
		v := s.visitor()
		v.signIn(s.Admin.Email)

		p := v.get("/console/jobs")
		wantStatus(t, p, http.StatusOK)
		wantText(t, p, `data-total="queued">4<`, `data-total="retry">2<`, `data-total="dead">4<`,
			"Call &lt;CRM&gt;", "HTTPError", "upstream answered 502 &lt;b&gt;bad gateway&lt;/b&gt;")
		p = v.get("/console/jobs?list=dead")
		wantText(t, p, "Dead jobs", "HTTPError")

		// The live counts.
		p = v.get("/console/jobs/counts")
		wantStatus(t, p, http.StatusOK)
		wantText(t, p, `"total":{"queued":4,"in_progress":0,"retry":2,"dead":4`)

		// A bulk change says how many jobs it will touch, then how many it did.
		p = v.get("/console/jobs/confirm?do=delete&state=dead&action_id=" + itoa(a))
		wantStatus(t, p, http.StatusOK)
		wantText(t, p, "Delete 3 dead jobs of action “Call &lt;CRM&gt;”?")
		p = v.post("/console/jobs/bulk", url.Values{"do": {"delete"}, "state": {"dead"}, "action_id": {itoa(a)}})
		wantStatus(t, p, http.StatusSeeOther)
		p = v.get("/console/jobs")
		wantText(t, p, "Deleted 3 dead jobs of action “Call &lt;CRM&gt;”.", `data-total="dead">1<`)

		p = v.get("/console/jobs/confirm?do=retry&state=dead&action_id=" + itoa(b))
		wantText(t, p, "Retry 1 dead job of action “Other”?")
		v.post("/console/jobs/bulk", url.Values{"do": {"retry"}, "state": {"dead"}, "action_id": {itoa(b)}})
		p = v.get("/console/jobs")
		wantText(t, p, "Retried 1 dead job of action “Other”.", `data-total="dead">0<`, `data-total="queued">5<`)

		// One job: retry now, then delete.
		var retry struct {
			Jobs []struct{ ID int64 } `json:"admin/retry_jobs"`
		}
		s.api("GET", "/api/v1/admin/retry_jobs", nil, &retry)
		if len(retry.Jobs) != 2 {
			t.Fatalf("retry jobs: %+v", retry)
		}
		p = v.post("/console/jobs/"+itoa(retry.Jobs[0].ID)+"/retry", url.Values{"back": {"/console/jobs?list=retry"}})
		wantStatus(t, p, http.StatusSeeOther)
		if p.Header.Get("Location") != "/console/jobs?list=retry" {
			t.Fatalf("back to %q", p.Header.Get("Location"))
		}
		p = v.post("/console/jobs/"+itoa(retry.Jobs[1].ID)+"/delete", url.Values{"back": {"https://evil.example/"}})
		if p.Header.Get("Location") != "/console/jobs" {
			t.Fatalf("an outside return address was followed: %q", p.Header.Get("Location"))
		}
		p = v.get("/console/jobs")
		wantText(t, p, "Deleted job "+itoa(retry.Jobs[1].ID)+".", `data-total="retry">0<`, `data-total="queued">6<`)

		// Tenant-wide delete of queued jobs.
		p = v.get("/console/jobs/confirm?do=delete&state=queued")
		wantText(t, p, "Delete 6 queued jobs of every action?")
		v.post("/console/jobs/bulk", url.Values{"do": {"delete"}, "state": {"queued"}})
		p = v.get("/console/jobs")
		wantText(t, p, "Deleted 6 queued jobs.", `data-total="queued">0<`)
	})
}

func TestUsersInviteEditAndLastAdmin(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *sqlstore.DB) {
		s := newSite(t, db, false)
		v := s.visitor()
		v.signIn(s.Admin.Email)
		v.get("/console/users")
		p := v.post("/console/users", url.Values{"email": {"Jane@Acme.example"}, "first_name": {"Jane"}})
		wantStatus(t, p, http.StatusOK)
		wantText(t, p, "Invited jane@acme.example.", `id="invitation-link"`, "/users/invitation/accept?invitation_token=inv_")
		link := regexp.MustCompile(`value="(http[^"]+invitation_token=[^"]+)"`).FindStringSubmatch(p.Body)
		if link == nil {
			t.Fatal("no invitation link")
		}
		p = v.get("/console/users?search=jane")
		wantText(t, p, "jane@acme.example", "Invitation pending")
		if strings.Contains(p.Body, "owner@acme.example</a>") {
			t.Fatal("search did not filter")
		}
		var users struct {
			Users []struct {
				ID    int64
				Email string
			} `json:"admin/users"`
		}
		s.api("GET", "/api/v1/admin/users?search=jane", nil, &users)
		jane := itoa(users.Users[0].ID)
		p = v.get("/console/users/" + jane)
		wantText(t, p, "Resend invitation", "No sign-ins recorded.")
		p = v.post("/console/users/"+jane+"/resend_invitation", nil)
		wantStatus(t, p, http.StatusOK)
		wantText(t, p, "Invitation sent again.", "invitation_token=inv_")
		p = v.post("/console/users/"+jane, url.Values{"first_name": {"Janet"}, "last_name": {"Doe"}, "admin": {"on"}, "is_active": {"on"}})
		wantStatus(t, p, http.StatusSeeOther)
		p = v.get("/console/users/" + jane)
		wantText(t, p, "Saved.", `value="Janet"`, `value="Doe"`)
		p = v.post("/console/users/"+jane+"/expire_sessions", nil)
		wantStatus(t, p, http.StatusSeeOther)
		p = v.post("/console/users/"+jane+"/unlock", nil)
		wantStatus(t, p, http.StatusSeeOther)

		// The owner's sign-in shows in their activity.
		p = v.get("/console/users/" + itoa(s.Admin.UserID))
		wantText(t, p, "Signed in")

		// Demote Jane again, then the last admin cannot be deleted or demoted.
		v.post("/console/users/"+jane, url.Values{"first_name": {"Janet"}, "is_active": {"on"}})
		owner := itoa(s.Admin.UserID)
		v.get("/console/users/" + owner + "/delete")
		p = v.post("/console/users/"+owner+"/delete", nil)
		if p.Status < 400 || p.Status >= 500 || !strings.Contains(p.Body, "admin") {
			t.Fatalf("deleting the last admin: %d\n%s", p.Status, p.Body)
		}
		p = v.post("/console/users/"+owner, url.Values{"is_active": {"on"}})
		if p.Status < 400 || p.Status >= 500 {
			t.Fatalf("demoting the last admin: %d\n%s", p.Status, p.Body)
		}
		p = v.get("/console/users/" + jane + "/delete")
		wantText(t, p, "Delete the user jane@acme.example?")
		p = v.post("/console/users/"+jane+"/delete", nil)
		wantStatus(t, p, http.StatusSeeOther)
		if st := s.api("GET", "/api/v1/admin/users/"+jane, nil, nil); st != http.StatusNotFound {
			t.Fatalf("deleted user still there: %d", st)
		}
	})
}

func TestInvitationLinkHiddenWithMail(t *testing.T) {
	s := newSite(t, storetest.OpenSQLite(t), false, func(c *httpapi.Config) { c.Console.ShowInvitationLinks = false })
	v := s.visitor()
	v.signIn(s.Admin.Email)
	v.get("/console/users")
	p := v.post("/console/users", url.Values{"email": {"jane@acme.example"}})
	wantStatus(t, p, http.StatusOK)
	if strings.Contains(p.Body, "invitation_token") {
		t.Fatal("the invitation link is shown although mail is configured")
	}
}

func TestAPIKeysCreateOnceAndRevoke(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *sqlstore.DB) {
		s := newSite(t, db, false)
		v := s.visitor()
		v.signIn(s.Admin.Email)
		v.get("/console/api_keys")
		p := v.post("/console/api_keys", url.Values{"name": {"CI <deploy>"}, "expires_at": {"2099-01-31"}})
		wantStatus(t, p, http.StatusCreated)
		m := regexp.MustCompile(`id="new-key" type="text" readonly value="(stw_[^"]+)"`).FindStringSubmatch(p.Body)
		if m == nil {
			t.Fatalf("the new key is not shown:\n%s", p.Body)
		}
		if p.Header.Get("Cache-Control") != "no-store" {
			t.Fatal("the page with the secret may be cached")
		}
		wantText(t, p, "CI &lt;deploy&gt;", "2099-01-31")
		// The key works, and is never shown again.
		req, _ := http.NewRequest("GET", s.URL+"/api/v1/api_keys", nil)
		req.Header.Set("Authorization", "Bearer "+m[1])
		resp, err := s.Srv.Client().Do(req)
		if err != nil || resp.StatusCode != 200 {
			t.Fatalf("the new key does not work: %v %v", err, resp)
		}
		resp.Body.Close()
		p = v.get("/console/api_keys")
		if strings.Contains(p.Body, m[1]) {
			t.Fatal("the secret is shown again")
		}
		id := regexp.MustCompile(`/console/api_keys/(\d+)/revoke`).FindAllStringSubmatch(p.Body, -1)
		if len(id) == 0 {
			t.Fatal("no revoke link")
		}
		last := id[len(id)-1][1]
		p = v.get("/console/api_keys/" + last + "/revoke")
		wantText(t, p, "Revoke the key")
		p = v.post("/console/api_keys/"+last+"/revoke", nil)
		wantStatus(t, p, http.StatusSeeOther)
		p = v.get("/console/api_keys")
		wantText(t, p, "Revoked the key.", "Revoked")
	})
}

func TestTemplatesEditExportImport(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *sqlstore.DB) {
		s := newSite(t, db, false)
		v := s.visitor()
		v.signIn(s.Admin.Email)
		v.get("/console/templates/new")
		p := v.post("/console/templates", url.Values{"name": {"Lookup user"}, "vendor": {"Acme"}, "agent_type": {"HTTP Request"},
			"agent_options": {`{"url": "https://dir.example/{{.email}}", "method": "get"}`}})
		wantStatus(t, p, http.StatusSeeOther)
		loc := p.Header.Get("Location")
		p = v.get(loc)
		wantText(t, p, "Created the template “Lookup user”.", `{{.email}}`)
		p = v.post(loc, url.Values{"name": {"Lookup user"}, "vendor": {"Acme"}, "product": {"Directory"}, "agent_type": {"HTTP Request"},
			"agent_options": {`{"url": "https://dir2.example/"}`}})
		wantStatus(t, p, http.StatusSeeOther)
		p = v.get("/console/templates?search=dir2")
		wantText(t, p, "Lookup user", "Directory")
		p = v.get("/console/templates?search=nothing-like-it")
		wantText(t, p, "No templates match.")

		p = v.get("/console/templates/export")
		wantStatus(t, p, http.StatusOK)
		if !strings.Contains(p.Header.Get("Content-Disposition"), "attachment") {
			t.Fatal("export is not a download")
		}
		doc := strings.Replace(p.Body, "Lookup user", "Lookup person", 1)
		v.get("/console/templates/import")
		p = v.post("/console/templates/import", url.Values{"document": {doc}})
		wantStatus(t, p, http.StatusSeeOther)
		p = v.get("/console/templates")
		wantText(t, p, "Imported: 1 created, 0 updated, 0 unchanged.", "Lookup person")
		// An invalid entry names itself and writes nothing.
		p = v.post("/console/templates/import", url.Values{"document": {`{"version":1,"templates":[{"name":"x","agent_type":"HTTP Request","agent_options":{}}]}`}})
		wantStatus(t, p, http.StatusUnprocessableEntity)
		wantText(t, p, "templates[0].agent_options.url")

		p = v.get(loc + "/delete")
		wantText(t, p, "Delete the template “Lookup user”?")
		p = v.post(loc+"/delete", nil)
		wantStatus(t, p, http.StatusSeeOther)
		p = v.get(loc)
		wantStatus(t, p, http.StatusNotFound)
	})
}

func itoa(n int64) string { return strconv.FormatInt(n, 10) }

func TestSignInChoosesATenant(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *sqlstore.DB) {
		s := newSite(t, db, false)
		other, err := httpapi.Bootstrap(context.Background(), httpapi.StoreServices(db), "Globex <Labs>", s.Admin.Email, adminPassword, bcrypt.MinCost)
		if err != nil {
			t.Fatal(err)
		}
		v := s.visitor()
		v.get("/users/sign_in")
		p := v.post("/users/sign_in", url.Values{"email": {s.Admin.Email}, "password": {adminPassword}})
		wantStatus(t, p, http.StatusUnprocessableEntity)
		wantText(t, p, `<select id="tenant_id" name="tenant_id"`, ">Acme</option>", ">Globex &lt;Labs&gt;</option>", "choose one")
		// A wrong password never reveals the tenants.
		p = v.post("/users/sign_in", url.Values{"email": {s.Admin.Email}, "password": {"wrong password!"}})
		if strings.Contains(p.Body, "Globex") {
			t.Fatal("tenants shown without the right password")
		}
		p = v.post("/users/sign_in", url.Values{"email": {s.Admin.Email}, "password": {adminPassword}, "tenant_id": {itoa(other.TenantID)}})
		wantStatus(t, p, http.StatusSeeOther)
		// Signed in to Globex: its users, not Acme's.
		p = v.get("/console/users")
		wantStatus(t, p, http.StatusOK)
		if strings.Contains(p.Body, `href="/console/users/`+itoa(s.Admin.UserID)+`"`) {
			t.Fatal("signed in to the wrong tenant: Acme's owner is listed")
		}
		wantText(t, p, `href="/console/users/`+itoa(other.UserID)+`"`)
	})
}

func TestInvitationAcceptedPageLinksToSignIn(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *sqlstore.DB) {
		s := newSite(t, db, false)
		v := s.visitor()
		v.signIn(s.Admin.Email)
		v.get("/console/users")
		p := v.post("/console/users", url.Values{"email": {"jane@acme.example"}})
		m := regexp.MustCompile(`invitation_token=(inv_[^"&]+)"`).FindStringSubmatch(p.Body)
		if m == nil {
			t.Fatalf("no invitation link:\n%s", p.Body)
		}
		jane := s.visitor()
		req, _ := http.NewRequest("POST", s.URL+"/users/invitation", strings.NewReader(url.Values{
			"invitation_token": {m[1]}, "password": {"a good long password"}}.Encode()))
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		p = jane.do(req)
		wantStatus(t, p, http.StatusOK)
		wantText(t, p, `<a href="/users/sign_in">`)
	})
}

func TestSecurityRules(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *sqlstore.DB) {
		s := newSite(t, db, false)
		s.addMember("member@acme.example")
		v := s.visitor()
		v.signIn(s.Admin.Email)
		p := v.get("/console/security")
		wantStatus(t, p, http.StatusOK)
		wantText(t, p, "No rules: every address is allowed.")

		p = v.post("/console/security/ip_rules", url.Values{"ip": {"not an address"}})
		if p.Status < 400 || p.Status >= 500 || !strings.Contains(p.Body, `id="ip_ip-error"`) {
			t.Fatalf("bad IP: %d\n%s", p.Status, p.Body)
		}
		p = v.post("/console/security/ip_rules", url.Values{"ip": {"127.0.0.0/8"}, "description": {"loopback <office>"}})
		wantStatus(t, p, http.StatusSeeOther)
		p = v.get("/console/security")
		wantText(t, p, "Added the IP access rule.", "127.0.0.0/8", "loopback &lt;office&gt;")

		p = v.post("/console/security/egress_rules", url.Values{"fqdn": {"api.example.com"}, "allowed_action_types": {"http-request"}})
		wantStatus(t, p, http.StatusUnprocessableEntity)
		wantText(t, p, `id="eg_description-error">description is required`, `value="api.example.com"`)
		p = v.post("/console/security/egress_rules", url.Values{"fqdn": {"api.example.com"}, "description": {"CRM"},
			"allowed_action_types": {"http-request"}})
		wantStatus(t, p, http.StatusSeeOther)
		p = v.get("/console/security")
		wantText(t, p, "Added the egress rule.", "api.example.com", "http-request")

		ids := regexp.MustCompile(`/console/security/(ip|egress)_rules/(\d+)/delete`).FindAllStringSubmatch(p.Body, -1)
		if len(ids) != 2 {
			t.Fatalf("delete forms: %v", ids)
		}
		m := s.visitor()
		m.signIn("member@acme.example")
		wantStatus(t, m.get("/console/security"), http.StatusForbidden)
		for _, id := range ids {
			wantStatus(t, m.post("/console/security/"+id[1]+"_rules/"+id[2]+"/delete", nil), http.StatusForbidden)
			p := v.post("/console/security/"+id[1]+"_rules/"+id[2]+"/delete", nil)
			wantStatus(t, p, http.StatusSeeOther)
		}
		p = v.get("/console/security")
		wantText(t, p, "No rules: every address is allowed.", "No egress rules.")
	})
}

func TestAuditLog(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *sqlstore.DB) {
		s := newSite(t, db, false)
		s.addMember("member@acme.example")
		var auditor struct {
			ID int64 `json:"id"`
		}
		if st := s.api("POST", "/api/v1/admin/users", map[string]any{"email": "auditor@acme.example", "password": adminPassword,
			"tenant_permissions": []string{steward.PermissionAuditLogRead}}, &auditor); st != http.StatusCreated {
			t.Fatalf("create auditor: %d", st)
		}
		v := s.visitor()
		v.signIn(s.Admin.Email)
		v.get("/console/templates/new")
		p := v.post("/console/templates", url.Values{"name": {"<b>Audited</b>"}, "agent_type": {"HTTP Request"},
			"agent_options": {`{"url":"https://x.example/"}`}})
		if p.Status >= 400 {
			t.Fatalf("create template: %d\n%s", p.Status, p.Body)
		}

		p = v.get("/console/audit")
		wantStatus(t, p, http.StatusOK)
		wantText(t, p, `href="/console/audit" aria-current="page"`, ">TemplateCreation</a>", ">UserCreation</a>", ">SignIn</a>",
			"&lt;b&gt;Audited&lt;/b&gt;", "auditor@acme.example", `<label for="before">Before</label>`, `<label for="user_id">User id</label>`,
			`<label for="operation_name">Operation</label>`)
		if strings.Contains(p.Body, "<b>Audited") {
			t.Fatal("a record's inputs are not escaped")
		}

		cases := []struct {
			name, query    string
			status         int
			want, wantNot  []string
			field, message string
		}{
			{"operation", "operation_name=TemplateCreation", 200, []string{">TemplateCreation</a>", `value="TemplateCreation"`}, []string{">UserCreation</a>", ">SignIn</a>"}, "", ""},
			{"several operations", "operation_name=TemplateCreation,UserCreation", 200, []string{">TemplateCreation</a>", ">UserCreation</a>"}, []string{">SignIn</a>"}, "", ""},
			{"user", "user_id=" + itoa(s.Admin.UserID) + "&operation_name=SignIn", 200, []string{">SignIn</a>", s.Admin.Email}, []string{">TemplateCreation</a>"}, "", ""},
			{"user without records", "user_id=" + itoa(auditor.ID), 200, []string{"No records match these filters."}, []string{">SignIn</a>"}, "", ""},
			{"after the future", "after=2999-01-01", 200, []string{"No records match these filters.", `value="2999-01-01"`}, []string{">TemplateCreation</a>"}, "", ""},
			{"before the past", "before=2001-01-01T00:00:00Z", 200, []string{"No records match these filters."}, []string{">TemplateCreation</a>"}, "", ""},
			{"time range", "after=2001-01-01&before=2999-01-01&operation_name=TemplateCreation", 200, []string{">TemplateCreation</a>"}, nil, "", ""},
			{"bad before", "before=soon", 400, []string{`value="soon"`}, []string{"<table"}, "before", "before must be an ISO 8601 timestamp"},
			{"bad after", "after=31/12/2020", 400, nil, nil, "after", "after must be"},
			{"bad user", "user_id=jane", 400, nil, nil, "user_id", "user_id[] must be user ids"},
			{"bad page", "page=-2", 400, []string{"page must be a whole number"}, nil, "", ""},
		}
		for _, tc := range cases {
			t.Run(tc.name, func(t *testing.T) {
				p := v.get("/console/audit?" + tc.query)
				wantStatus(t, p, tc.status)
				wantText(t, p, tc.want...)
				for _, s := range tc.wantNot {
					if strings.Contains(p.Body, s) {
						t.Fatalf("page contains %q:\n%s", s, p.Body)
					}
				}
				if tc.field != "" {
					m := regexp.MustCompile(`id="` + tc.field + `-error">([^<]*)<`).FindStringSubmatch(p.Body)
					if m == nil || !strings.Contains(m[1], tc.message) || !strings.Contains(p.Body, `aria-invalid="true"`) {
						t.Fatalf("no message containing %q beside %s:\n%s", tc.message, tc.field, p.Body)
					}
				}
			})
		}
		for _, q := range []string{"page=99999", "per_page=x", "user_id=%00", "operation_name=%25%27", "before=" + strings.Repeat("9", 40), "after=2020-13-45"} {
			if p := v.get("/console/audit?" + q); p.Status >= 500 {
				t.Errorf("GET /console/audit?%s: %d\n%s", q, p.Status, p.Body)
			}
		}

		m := s.visitor()
		m.signIn("member@acme.example")
		p = m.get("/console/audit")
		wantStatus(t, p, http.StatusForbidden)
		wantText(t, p, "reading the audit log needs a tenant admin or the AUDIT_LOG_READ tenant permission")
		if strings.Contains(m.get("/console/templates").Body, `href="/console/audit"`) {
			t.Fatal("a member without AUDIT_LOG_READ is offered the audit log")
		}

		a := s.visitor()
		a.signIn("auditor@acme.example")
		p = a.get("/console/audit?operation_name=TemplateCreation")
		wantStatus(t, p, http.StatusOK)
		wantText(t, p, `href="/console/audit" aria-current="page"`, ">TemplateCreation</a>", "&lt;b&gt;Audited&lt;/b&gt;")
		if strings.Contains(p.Body, `href="/console/users"`) {
			t.Fatal("an auditor is offered admin pages")
		}
	})
}
