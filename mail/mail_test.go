package mail_test

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"math/big"
	"net"
	"strings"
	"testing"
	"time"

	"github.com/steward-dev/steward"
	"github.com/steward-dev/steward/mail"
	"github.com/steward-dev/steward/mail/mailtest"
	"github.com/steward-dev/steward/sqlstore"
	"github.com/steward-dev/steward/storetest"
)

func TestParseURL(t *testing.T) {
	t.Parallel()
	cases := []struct {
		url, addr, user, pass string
		implicit, bad         bool
	}{
		{url: "smtp://mailer:s3cret@mail.example.com:2525", addr: "mail.example.com:2525", user: "mailer", pass: "s3cret"},
		{url: "smtp://mail.example.com", addr: "mail.example.com:587"},
		{url: "smtps://u:p%40ss@mail.example.com", addr: "mail.example.com:465", user: "u", pass: "p@ss", implicit: true},
		{url: "http://mail.example.com", bad: true},
		{url: "smtp://", bad: true},
		{url: "::not a url", bad: true},
	}
	for _, c := range cases {
		m, err := mail.ParseURL(c.url, "steward@example.com")
		if c.bad {
			if err == nil {
				t.Errorf("%s: accepted", c.url)
			}
			continue
		}
		if err != nil {
			t.Errorf("%s: %v", c.url, err)
			continue
		}
		if m.Addr != c.addr || m.Username != c.user || m.Password != c.pass || m.ImplicitTLS != c.implicit {
			t.Errorf("%s: got %+v", c.url, m)
		}
	}
	if _, err := mail.ParseURL("smtp://h:25", "not an address"); err == nil {
		t.Error("a bad sender address was accepted")
	}
}

func TestSMTPSendsWithAuth(t *testing.T) {
	t.Parallel()
	srv := mailtest.Start(t, "mailer", "s3cret", nil)
	m, err := mail.ParseURL("smtp://mailer:s3cret@"+srv.Addr, "steward@example.com")
	if err != nil {
		t.Fatal(err)
	}
	msg := &steward.MailMessage{To: "ann@example.com", Subject: "Héllo\r\nBcc: evil@example.com", Body: "line one\nline two http://x/?a=1&b=2\n"}
	if err := m.Send(context.Background(), msg); err != nil {
		t.Fatal(err)
	}
	got := srv.Messages()
	if len(got) != 1 {
		t.Fatalf("%d messages delivered", len(got))
	}
	g := got[0]
	if g.From != "steward@example.com" || len(g.To) != 1 || g.To[0] != "ann@example.com" || g.User != "mailer" {
		t.Errorf("envelope: %+v", g)
	}
	header, body, _ := strings.Cut(g.Data, "\n\n")
	if !strings.Contains(header, "To: ann@example.com\n") || !strings.Contains(header, "From: steward@example.com\n") {
		t.Errorf("headers: %s", header)
	}
	if strings.Contains(header, "\nBcc:") {
		t.Errorf("a line break in the subject injected a header: %s", header)
	}
	if body != "line one\nline two http://x/?a=1&b=2\n" {
		t.Errorf("body: %q", body)
	}

	bad, _ := mail.ParseURL("smtp://mailer:wrong@"+srv.Addr, "steward@example.com")
	if err := bad.Send(context.Background(), msg); err == nil || !strings.Contains(err.Error(), "AUTH") {
		t.Errorf("wrong password: err = %v", err)
	}
	if len(srv.Messages()) != 1 {
		t.Error("a message was accepted without authentication")
	}
}

func TestSMTPUsesSTARTTLSWhenOffered(t *testing.T) {
	t.Parallel()
	cert, pool := selfSigned(t)
	srv := mailtest.Start(t, "mailer", "s3cret", &tls.Config{Certificates: []tls.Certificate{cert}})
	m, err := mail.ParseURL("smtp://mailer:s3cret@"+srv.Addr, "steward@example.com")
	if err != nil {
		t.Fatal(err)
	}
	m.TLSConfig = &tls.Config{RootCAs: pool, ServerName: "127.0.0.1"}
	if err := m.Send(context.Background(), &steward.MailMessage{To: "ann@example.com", Subject: "s", Body: "b"}); err != nil {
		t.Fatal(err)
	}
	if got := srv.Messages(); len(got) != 1 || !got[0].TLS {
		t.Errorf("message not delivered over TLS: %+v", got)
	}
	// A certificate the client does not trust fails the delivery rather
	// than sending the password in clear.
	m.TLSConfig = nil
	if err := m.Send(context.Background(), &steward.MailMessage{To: "ann@example.com", Subject: "s", Body: "b"}); err == nil {
		t.Error("an untrusted certificate was accepted")
	}
}

func TestDispatcherRetriesUntilTheServerIsBack(t *testing.T) {
	t.Parallel()
	storetest.Each(t, func(t *testing.T, db *sqlstore.DB) {
		ctx := context.Background()
		clock := storetest.NewClock(time.Date(2026, 1, 1, 12, 0, 0, 0, time.UTC))
		db.Clock = clock
		srv := mailtest.Start(t, "", "", nil)
		srv.Stop()
		m, _ := mail.ParseURL("smtp://"+srv.Addr, "steward@example.com")
		m.Timeout = 5 * time.Second
		d := &mail.Dispatcher{Outbox: db, Mailer: m, Clock: clock}
		msg := &steward.MailMessage{To: "ann@example.com", Subject: "Invitation", Body: "link"}
		if err := db.EnqueueMail(ctx, msg); err != nil {
			t.Fatal(err)
		}

		if n, err := d.RunOnce(ctx); err != nil || n != 0 {
			t.Fatalf("server down: sent %d, err %v", n, err)
		}
		due, err := db.FindDueMail(ctx, clock.Now().Add(d.Backoff(1)), 10)
		if err != nil || len(due) != 1 || due[0].Attempts != 1 || !strings.Contains(due[0].LastError, "connect") {
			t.Fatalf("after a failed attempt: %+v, %v", due, err)
		}
		if n, _ := d.RunOnce(ctx); n != 0 {
			t.Fatal("retried before the backoff elapsed")
		}

		srv.Restart()
		clock.Advance(d.Backoff(1))
		if n, err := d.RunOnce(ctx); err != nil || n != 1 {
			t.Fatalf("server back: sent %d, err %v", n, err)
		}
		if got := srv.Messages(); len(got) != 1 || got[0].To[0] != "ann@example.com" {
			t.Fatalf("delivered: %+v", got)
		}
		clock.Advance(24 * time.Hour)
		if n, _ := d.RunOnce(ctx); n != 0 || len(srv.Messages()) != 1 {
			t.Error("a delivered message was sent again")
		}
	})
}

func TestDispatcherWithoutSMTPKeepsMail(t *testing.T) {
	t.Parallel()
	storetest.Each(t, func(t *testing.T, db *sqlstore.DB) {
		ctx := context.Background()
		clock := storetest.NewClock(time.Date(2026, 1, 1, 12, 0, 0, 0, time.UTC))
		db.Clock = clock
		var logged strings.Builder
		d := &mail.Dispatcher{Outbox: db, Clock: clock, Log: newTextLogger(&logged)}
		if err := db.EnqueueMail(ctx, &steward.MailMessage{To: "ann@example.com", Subject: "Invitation", Body: "open https://x/accept?invitation_token=inv_abc"}); err != nil {
			t.Fatal(err)
		}
		if n, err := d.RunOnce(ctx); err != nil || n != 1 {
			t.Fatalf("logged %d, err %v", n, err)
		}
		if !strings.Contains(logged.String(), "invitation_token=inv_abc") {
			t.Errorf("the link is not in the log: %s", logged.String())
		}
		if n, _ := d.RunOnce(ctx); n != 0 {
			t.Error("the same message was logged twice")
		}

		// Configured later, the server gets everything that was kept.
		srv := mailtest.Start(t, "", "", nil)
		m, _ := mail.ParseURL("smtp://"+srv.Addr, "steward@example.com")
		d = &mail.Dispatcher{Outbox: db, Mailer: m, Clock: clock, Interval: time.Hour}
		runCtx, cancel := context.WithCancel(ctx)
		done := make(chan struct{})
		go func() { d.Run(runCtx); close(done) }()
		got, ok := srv.Wait(1, 10*time.Second)
		cancel()
		<-done
		if !ok || !strings.Contains(got.Data, "invitation_token=inv_abc") {
			t.Fatalf("kept message not delivered: %+v", got)
		}
	})
}

func TestBackoffDoublesUpToTheCap(t *testing.T) {
	t.Parallel()
	d := &mail.Dispatcher{MinBackoff: time.Minute, MaxBackoff: 10 * time.Minute}
	want := []time.Duration{time.Minute, 2 * time.Minute, 4 * time.Minute, 8 * time.Minute, 10 * time.Minute, 10 * time.Minute}
	for i, w := range want {
		if got := d.Backoff(i + 1); got != w {
			t.Errorf("Backoff(%d) = %v, want %v", i+1, got, w)
		}
	}
	if got := d.Backoff(1000); got != 10*time.Minute {
		t.Errorf("Backoff(1000) = %v", got)
	}
}

// selfSigned makes a certificate for 127.0.0.1 and a pool that trusts it.
func selfSigned(t *testing.T) (tls.Certificate, *x509.CertPool) {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "mailtest"},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour),
		IPAddresses: []net.IP{net.ParseIP("127.0.0.1")}, KeyUsage: x509.KeyUsageDigitalSignature,
		ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	leaf, _ := x509.ParseCertificate(der)
	pool := x509.NewCertPool()
	pool.AddCert(leaf)
	return tls.Certificate{Certificate: [][]byte{der}, PrivateKey: key, Leaf: leaf}, pool
}

func TestDispatcherWakesOnNewMail(t *testing.T) {
	t.Parallel()
	db := storetest.OpenSQLite(t)
	srv := mailtest.Start(t, "", "", nil)
	m, _ := mail.ParseURL("smtp://"+srv.Addr, "steward@example.com")
	d := &mail.Dispatcher{Outbox: db, Mailer: m, Interval: time.Hour}
	outbox := d.Waking(db)
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { d.Run(ctx); close(done) }()
	defer func() { cancel(); <-done }()
	// The first poll has happened or is about to; this message arrives
	// after it and must not wait the hour for the next one.
	time.Sleep(50 * time.Millisecond)
	if err := outbox.EnqueueMail(ctx, &steward.MailMessage{To: "ann@example.com", Subject: "s", Body: "b"}); err != nil {
		t.Fatal(err)
	}
	if _, ok := srv.Wait(1, 10*time.Second); !ok {
		t.Fatal("a new message waited for the next poll")
	}
}
