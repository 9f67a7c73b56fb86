// Package mail delivers Steward's email: an SMTP Mailer and a Dispatcher
// that sends the outbox with retries, so a mail server being down loses
// nothing.
package mail

import (
	"context"
	"crypto/rand"
	"crypto/tls"
	"encoding/hex"
	"errors"
	"fmt"
	"mime"
	"net"
	"net/smtp"
	"net/url"
	"strings"
	"time"

	"github.com/steward-dev/steward"
)

// SMTP sends mail through one SMTP server. It upgrades the connection with
// STARTTLS whenever the server offers it, and authenticates (AUTH PLAIN)
// when credentials are configured.
type SMTP struct {
	// Addr is host:port of the server.
	Addr string
	// Username and Password enable AUTH; empty Username sends without it.
	Username string
	Password string
	// From is the sender address.
	From string
	// ImplicitTLS connects with TLS from the start (smtps://, port 465).
	ImplicitTLS bool
	// TLSConfig overrides the TLS settings (nil: verify against the
	// system roots for the server's host name).
	TLSConfig *tls.Config
	// Timeout bounds one delivery (default 30 s).
	Timeout time.Duration
}

var _ steward.Mailer = (*SMTP)(nil)

// ParseURL builds an SMTP mailer from smtp://user:pass@host:port (port
// defaults to 587) or smtps://user:pass@host:port (implicit TLS, default
// port 465). from is the sender address.
func ParseURL(raw, from string) (*SMTP, error) {
	u, err := url.Parse(raw)
	if err != nil {
		return nil, fmt.Errorf("SMTP URL: %w", err)
	}
	m := &SMTP{From: from}
	port := "587"
	switch u.Scheme {
	case "smtp":
	case "smtps":
		m.ImplicitTLS, port = true, "465"
	default:
		return nil, fmt.Errorf("SMTP URL must start with smtp:// or smtps://, got %q", u.Scheme)
	}
	if u.Hostname() == "" {
		return nil, errors.New("SMTP URL has no host")
	}
	if u.Port() != "" {
		port = u.Port()
	}
	m.Addr = net.JoinHostPort(u.Hostname(), port)
	if u.User != nil {
		m.Username = u.User.Username()
		m.Password, _ = u.User.Password()
	}
	if _, err := NormalizeAddress(from); err != nil {
		return nil, fmt.Errorf("sender address: %w", err)
	}
	return m, nil
}

// NormalizeAddress checks that s is a bare address usable in an SMTP
// envelope and a header (no display name, no line breaks).
func NormalizeAddress(s string) (string, error) {
	s = strings.TrimSpace(s)
	if s == "" || strings.ContainsAny(s, "\r\n<> ,") || !strings.Contains(s, "@") {
		return "", fmt.Errorf("%q is not a plain email address", s)
	}
	return s, nil
}

// Send delivers m now. It implements steward.Mailer.
func (m *SMTP) Send(ctx context.Context, msg *steward.MailMessage) error {
	to, err := NormalizeAddress(msg.To)
	if err != nil {
		return fmt.Errorf("recipient: %w", err)
	}
	timeout := m.Timeout
	if timeout == 0 {
		timeout = 30 * time.Second
	}
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	host, _, _ := net.SplitHostPort(m.Addr)
	tlsConfig := m.TLSConfig
	if tlsConfig == nil {
		tlsConfig = &tls.Config{ServerName: host, MinVersion: tls.VersionTLS12}
	}
	var d net.Dialer
	conn, err := d.DialContext(ctx, "tcp", m.Addr)
	if err != nil {
		return fmt.Errorf("connect to %s: %w", m.Addr, err)
	}
	deadline, _ := ctx.Deadline()
	conn.SetDeadline(deadline)
	if m.ImplicitTLS {
		conn = tls.Client(conn, tlsConfig)
	}
	c, err := smtp.NewClient(conn, host)
	if err != nil {
		conn.Close()
		return fmt.Errorf("SMTP greeting from %s: %w", m.Addr, err)
	}
	defer c.Close()
	if err := c.Hello("localhost"); err != nil {
		return fmt.Errorf("SMTP EHLO: %w", err)
	}
	if ok, _ := c.Extension("STARTTLS"); ok && !m.ImplicitTLS {
		if err := c.StartTLS(tlsConfig); err != nil {
			return fmt.Errorf("SMTP STARTTLS: %w", err)
		}
	}
	if m.Username != "" {
		if err := c.Auth(smtp.PlainAuth("", m.Username, m.Password, host)); err != nil {
			return fmt.Errorf("SMTP AUTH: %w", err)
		}
	}
	if err := c.Mail(m.From); err != nil {
		return fmt.Errorf("SMTP MAIL FROM: %w", err)
	}
	if err := c.Rcpt(to); err != nil {
		return fmt.Errorf("SMTP RCPT TO %s: %w", to, err)
	}
	w, err := c.Data()
	if err != nil {
		return fmt.Errorf("SMTP DATA: %w", err)
	}
	if _, err := w.Write(m.format(msg, to)); err != nil {
		return fmt.Errorf("SMTP write message: %w", err)
	}
	if err := w.Close(); err != nil {
		return fmt.Errorf("SMTP end of message: %w", err)
	}
	return c.Quit()
}

// format renders the message with its headers. The body is plain UTF-8
// text with CRLF line ends; header values cannot carry line breaks.
func (m *SMTP) format(msg *steward.MailMessage, to string) []byte {
	id := make([]byte, 12)
	rand.Read(id)
	domain := m.From[strings.LastIndex(m.From, "@")+1:]
	subject := strings.NewReplacer("\r", " ", "\n", " ").Replace(msg.Subject)
	body := strings.ReplaceAll(strings.ReplaceAll(msg.Body, "\r\n", "\n"), "\n", "\r\n")
	var b strings.Builder
	fmt.Fprintf(&b, "From: %s\r\nTo: %s\r\nSubject: %s\r\nDate: %s\r\nMessage-ID: <%s@%s>\r\n",
		m.From, to, mime.QEncoding.Encode("utf-8", subject), time.Now().UTC().Format(time.RFC1123Z), hex.EncodeToString(id), domain)
	b.WriteString("MIME-Version: 1.0\r\nContent-Type: text/plain; charset=utf-8\r\nContent-Transfer-Encoding: 8bit\r\n\r\n")
	b.WriteString(body)
	if !strings.HasSuffix(body, "\r\n") {
		b.WriteString("\r\n")
	}
	return []byte(b.String())
}
