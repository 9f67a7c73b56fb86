package main

import (
	"fmt"
	"log/slog"
	"time"

	"github.com/steward-dev/steward"
	"github.com/steward-dev/steward/httpapi"
	"github.com/steward-dev/steward/mail"
	"github.com/steward-dev/steward/sqlstore"
)

// envDuration reads a Go duration (90s, 15m, 168h) from the environment.
func envDuration(name string, def time.Duration) (time.Duration, error) {
	v := envOr(name, "")
	if v == "" {
		return def, nil
	}
	d, err := time.ParseDuration(v)
	if err != nil || d < 0 {
		return 0, fmt.Errorf("%s=%q: not a duration such as 15m or 168h", name, v)
	}
	return d, nil
}

// applyAuthEnv sets the sign-in, session and invitation settings from the
// environment (STEWARD_LOCKOUT_*, STEWARD_SESSION_TTL,
// STEWARD_INVITATION_TTL, STEWARD_LOGIN_RETENTION_DAYS).
func applyAuthEnv(c *httpapi.Config) error {
	var err error
	if c.LockoutThreshold, err = envInt("STEWARD_LOCKOUT_THRESHOLD", c.LockoutThreshold); err != nil {
		return err
	}
	days, err := envInt("STEWARD_LOGIN_RETENTION_DAYS", int(c.LoginRetention/(24*time.Hour)))
	if err != nil {
		return err
	}
	if days < 0 {
		return fmt.Errorf("STEWARD_LOGIN_RETENTION_DAYS=%d: must be 0 (keep forever) or more", days)
	}
	c.LoginRetention = time.Duration(days) * 24 * time.Hour
	auditDays, err := envInt("STEWARD_AUDIT_RETENTION_DAYS", int(c.AuditRetention/(24*time.Hour)))
	if err != nil {
		return err
	}
	if auditDays < 0 {
		return fmt.Errorf("STEWARD_AUDIT_RETENTION_DAYS=%d: must be 0 (keep forever) or more", auditDays)
	}
	c.AuditRetention = time.Duration(auditDays) * 24 * time.Hour
	for _, d := range []struct {
		name string
		dst  *time.Duration
	}{
		{"STEWARD_LOCKOUT_WINDOW", &c.LockoutWindow},
		{"STEWARD_LOCKOUT_DURATION", &c.LockoutDuration},
		{"STEWARD_SESSION_TTL", &c.SessionTTL},
		{"STEWARD_INVITATION_TTL", &c.InvitationTTL},
	} {
		if *d.dst, err = envDuration(d.name, *d.dst); err != nil {
			return err
		}
	}
	return nil
}

// newDispatcher builds the outbox dispatcher: SMTP when a URL is given,
// otherwise log-only (messages stay in the outbox and are logged).
func newDispatcher(cfg config, db *sqlstore.DB, clock steward.Clock, log *slog.Logger) (*mail.Dispatcher, error) {
	d := &mail.Dispatcher{Outbox: db, Clock: clock, Log: log}
	if cfg.SMTPURL == "" {
		log.Warn("no SMTP server configured (STEWARD_SMTP_URL); invitation emails are kept in the outbox and written to this log")
		return d, nil
	}
	m, err := mail.ParseURL(cfg.SMTPURL, cfg.MailFrom)
	if err != nil {
		return nil, fmt.Errorf("STEWARD_SMTP_URL: %w", err)
	}
	d.Mailer = m
	log.Info("sending mail via SMTP", "server", m.Addr, "from", m.From)
	return d, nil
}
