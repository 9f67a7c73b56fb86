package httpapi_test

import (
	"context"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/steward-dev/steward/mail"
	"github.com/steward-dev/steward/mail/mailtest"
)

func TestInvitationAcceptance(t *testing.T) {
	t.Parallel()
	eachClockEnv(t, nil, func(t *testing.T, e *clockEnv) {
		e.createUser(`{"email":"iris@acme.example"}`)
		token := latestInvitationToken(t, e.env, "iris@acme.example")
		page := "/users/invitation/accept?invitation_token=" + url.QueryEscape(token)

		t.Run("the page is a self-contained form", func(t *testing.T) {
			r, _ := e.browse(browserReq{Method: "GET", Path: page})
			want(t, r, http.StatusOK)
			csp := r.Header.Get("Content-Security-Policy")
			if !strings.Contains(csp, "default-src 'none'") || r.Header.Get("Referrer-Policy") != "no-referrer" ||
				!strings.HasPrefix(r.Header.Get("Content-Type"), "text/html") {
				t.Errorf("headers: %v", r.Header)
			}
			body := string(r.Body)
			for _, s := range []string{`<form method="post" action="/users/invitation">`, `name="invitation_token" value="` + token + `"`, "iris@acme.example"} {
				if !strings.Contains(body, s) {
					t.Errorf("page lacks %q", s)
				}
			}
			if strings.Contains(body, "src=") || strings.Contains(body, "href=") {
				t.Error("page loads outside content")
			}
			r, _ = e.browse(browserReq{Method: "GET", Path: "/users/invitation/accept?invitation_token=inv_nope"})
			want(t, r, http.StatusNotFound)
			if strings.Contains(string(r.Body), "<form") {
				t.Error("an unknown token got the form")
			}
			r, _ = e.browse(browserReq{Method: "GET", Path: "/users/invitation/accept?invitation_token=%3Cscript%3E"})
			if strings.Contains(string(r.Body), "<script>") {
				t.Error("the token is echoed unescaped")
			}
		})

		t.Run("bad passwords and tokens are refused clearly", func(t *testing.T) {
			cases := []struct {
				body   map[string]string
				status int
				field  string
			}{
				{map[string]string{"invitation_token": token, "password": "short"}, 422, "password"},
				{map[string]string{"invitation_token": token, "password": strings.Repeat("x", 73)}, 422, "password"},
				{map[string]string{"invitation_token": "inv_unknown", "password": "long enough"}, 404, "invitation_token"},
				{map[string]string{"password": "long enough"}, 422, "invitation_token"},
			}
			for _, c := range cases {
				r, _ := e.browse(browserReq{Method: "POST", Path: "/users/invitation", JSON: c.body})
				want(t, r, c.status)
				if !strings.Contains(string(r.Body), `"field":"`+c.field+`"`) {
					t.Errorf("%v: %s", c.body, r.Body)
				}
			}
			r, _ := e.browse(browserReq{Method: "POST", Path: "/users/invitation", JSON: `{"invitation_token":`})
			want(t, r, http.StatusBadRequest)
		})

		t.Run("accepting lets the user sign in and create a first API key", func(t *testing.T) {
			r, _ := e.browse(browserReq{Method: "POST", Path: "/users/invitation", Form: url.Values{"invitation_token": {token}, "password": {"chosen password"}}})
			want(t, r, http.StatusOK)
			if !strings.Contains(string(r.Body), "Your password is set") {
				t.Errorf("form answer: %s", r.Body)
			}
			r, _ = e.browse(browserReq{Method: "POST", Path: "/users/invitation", JSON: map[string]string{"invitation_token": token, "password": "another password"}})
			want(t, r, http.StatusNotFound) // used once
			r, c := e.signIn("iris@acme.example", "chosen password")
			want(t, r, http.StatusOK)
			if r.JSON(t)["user"].(map[string]any)["invitation_status"] != "accepted" {
				t.Errorf("status after accepting: %s", r.Body)
			}
			r, _ = e.browse(browserReq{Method: "POST", Path: "/api/v1/api_keys", Cookie: c, JSON: `{"name":"first"}`})
			want(t, r, http.StatusCreated)
			key, _ := r.JSON(t)["key"].(string)
			if key == "" {
				t.Fatalf("no key in %s", r.Body)
			}
			want(t, e.do("GET", "/api/v1/api_keys", key, nil), http.StatusOK)
		})

		t.Run("an expired invitation is refused", func(t *testing.T) {
			e.createUser(`{"email":"late@acme.example"}`)
			late := latestInvitationToken(t, e.env, "late@acme.example")
			e.Clock.Advance(7*24*time.Hour + time.Second)
			r, _ := e.browse(browserReq{Method: "POST", Path: "/users/invitation", JSON: map[string]string{"invitation_token": late, "password": "long enough"}})
			want(t, r, http.StatusUnprocessableEntity)
			if !strings.Contains(msg(t, r), "expired") {
				t.Errorf("expired: %s", r.Body)
			}
			r, _ = e.browse(browserReq{Method: "GET", Path: "/users/invitation/accept?invitation_token=" + url.QueryEscape(late)})
			want(t, r, http.StatusUnprocessableEntity)
		})

		t.Run("a cross-site form post is refused", func(t *testing.T) {
			e.createUser(`{"email":"csrf@acme.example"}`)
			tok := latestInvitationToken(t, e.env, "csrf@acme.example")
			r, _ := e.browse(browserReq{Method: "POST", Path: "/users/invitation", Form: url.Values{"invitation_token": {tok}, "password": {"chosen password"}},
				Header: map[string]string{"Origin": "https://evil.example"}})
			want(t, r, http.StatusForbidden)
		})
	})
}

// TestInvitationByEmail follows an invitation the way a person does: the
// email arrives over SMTP, the link in it opens the form, the form sets
// the password, and the new password signs in.
func TestInvitationByEmail(t *testing.T) {
	t.Parallel()
	eachClockEnv(t, nil, func(t *testing.T, e *clockEnv) {
		smtpd := mailtest.Start(t, "mailer", "s3cret", nil)
		mailer, err := mail.ParseURL("smtp://mailer:s3cret@"+smtpd.Addr, "steward@acme.example")
		if err != nil {
			t.Fatal(err)
		}
		d := &mail.Dispatcher{Outbox: e.DB, Mailer: mailer, Clock: e.Clock}

		e.createUser(`{"email":"new@acme.example","first_name":"New"}`)
		if n, err := d.RunOnce(context.Background()); err != nil || n != 1 {
			t.Fatalf("sent %d, err %v", n, err)
		}
		got := smtpd.Messages()
		if len(got) != 1 || got[0].To[0] != "new@acme.example" || got[0].User != "mailer" {
			t.Fatalf("delivered: %+v", got)
		}
		sub := invitationLink.FindStringSubmatch(got[0].Data)
		if sub == nil {
			t.Fatalf("no link in the email:\n%s", got[0].Data)
		}
		link, err := url.Parse(sub[0])
		if err != nil || "http://"+link.Host != e.Server.URL {
			t.Fatalf("link %q does not point at the server %s", sub[0], e.Server.URL)
		}
		r, _ := e.browse(browserReq{Method: "GET", Path: link.RequestURI()})
		want(t, r, http.StatusOK)
		r, _ = e.browse(browserReq{Method: "POST", Path: "/users/invitation",
			Form:   url.Values{"invitation_token": {link.Query().Get("invitation_token")}, "password": {"from the email"}},
			Header: map[string]string{"Origin": e.Server.URL}})
		want(t, r, http.StatusOK)
		r, c := e.signIn("new@acme.example", "from the email")
		want(t, r, http.StatusOK)
		if c == nil {
			t.Fatal("no session")
		}
		if n, _ := d.RunOnce(context.Background()); n != 0 || len(smtpd.Messages()) != 1 {
			t.Error("the invitation was sent twice")
		}
	})
}
