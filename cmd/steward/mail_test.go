package main

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/steward-dev/steward/mail/mailtest"
	"github.com/steward-dev/steward/storetest"
)

// syncBuffer is a bytes.Buffer safe for a server writing while a test reads.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// waitFor polls until re matches the buffer, returning the submatches.
func waitFor(t *testing.T, b *syncBuffer, re *regexp.Regexp, timeout time.Duration) []string {
	t.Helper()
	deadline := time.Now().Add(timeout)
	for time.Now().Before(deadline) {
		if m := re.FindStringSubmatch(b.String()); m != nil {
			return m
		}
		time.Sleep(20 * time.Millisecond)
	}
	t.Fatalf("no match for %s in:\n%s", re, b.String())
	return nil
}

var (
	listening = regexp.MustCompile(`listening on (http://\S+)`)
	loggedTok = regexp.MustCompile(`invitation_token=(inv_[A-Za-z0-9_-]+)`)
)

// startServe runs `steward serve` in-process until the test ends and
// returns its URL and its log.
func startServe(t *testing.T, db string) (string, *syncBuffer, func()) {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	stdout, stderr := &syncBuffer{}, &syncBuffer{}
	done := make(chan error, 1)
	go func() {
		done <- run(ctx, []string{"serve", "--addr", "127.0.0.1:0", "--db", db, "--base-url", "https://steward.example"}, stdout, stderr)
	}()
	base := waitFor(t, stdout, listening, 20*time.Second)[1]
	stop := func() {
		cancel()
		if err := <-done; err != nil {
			t.Errorf("serve: %v", err)
		}
	}
	return base, stderr, stop
}

// TestServeMailsInvitations runs the real command: without SMTP the
// invitation is kept and its link logged; started again with
// STEWARD_SMTP_URL, the kept message is delivered over SMTP and the link
// in it accepts the invitation.
func TestServeMailsInvitations(t *testing.T) {
	dbs := map[string]func(t *testing.T) string{
		"sqlite":   func(t *testing.T) string { return storetest.SQLitePath(t) },
		"postgres": func(t *testing.T) string { return storetest.PostgresURL(t) },
	}
	for _, name := range []string{"sqlite", "postgres"} {
		t.Run(name, func(t *testing.T) {
			db := dbs[name](t)
			var out bytes.Buffer
			if err := run(context.Background(), []string{"bootstrap", "--email", "owner@acme.example", "--db", db, "--json"}, &out, io.Discard); err != nil {
				t.Fatal(err)
			}
			var boot struct {
				APIKey string `json:"api_key"`
			}
			json.Unmarshal(out.Bytes(), &boot)

			t.Setenv("STEWARD_SMTP_URL", "")
			base, log, stop := startServe(t, db)
			req, _ := http.NewRequest("POST", base+"/api/v1/admin/users", strings.NewReader(`{"email":"new@acme.example"}`))
			req.Header.Set("Authorization", "Bearer "+boot.APIKey)
			resp, err := http.DefaultClient.Do(req)
			if err != nil || resp.StatusCode != http.StatusCreated {
				t.Fatalf("create user: %v %v", resp, err)
			}
			resp.Body.Close()
			logged := waitFor(t, log, loggedTok, 15*time.Second)[1]
			stop()

			smtpd := mailtest.Start(t, "mailer", "s3cret", nil)
			t.Setenv("STEWARD_SMTP_URL", "smtp://mailer:s3cret@"+smtpd.Addr)
			t.Setenv("STEWARD_MAIL_FROM", "steward@acme.example")
			base, _, stop = startServe(t, db)
			defer stop()
			msg, ok := smtpd.Wait(1, 15*time.Second)
			if !ok {
				t.Fatal("the kept invitation was not delivered")
			}
			if msg.From != "steward@acme.example" || msg.To[0] != "new@acme.example" {
				t.Errorf("envelope: %+v", msg)
			}
			link := regexp.MustCompile(`https://steward\.example/users/invitation/accept\?invitation_token=(\S+)`).FindStringSubmatch(msg.Data)
			if link == nil || link[1] != logged {
				t.Fatalf("email link %v, logged token %s", link, logged)
			}

			jar, _ := cookiejar.New(nil)
			client := &http.Client{Jar: jar}
			resp, err = client.PostForm(base+"/users/invitation", url.Values{"invitation_token": {link[1]}, "password": {"chosen password"}})
			if err != nil || resp.StatusCode != http.StatusOK {
				t.Fatalf("accept: %v %v", resp, err)
			}
			resp.Body.Close()
			resp, err = client.Post(base+"/users/sign_in", "application/json", strings.NewReader(`{"email":"new@acme.example","password":"chosen password"}`))
			if err != nil || resp.StatusCode != http.StatusOK {
				t.Fatalf("sign in: %v %v", resp, err)
			}
			resp.Body.Close()
			resp, err = client.Post(base+"/api/v1/api_keys", "application/json", strings.NewReader(`{"name":"first"}`))
			if err != nil || resp.StatusCode != http.StatusCreated {
				t.Fatalf("first API key: %v %v", resp, err)
			}
			resp.Body.Close()
		})
	}
}
