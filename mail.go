package steward

import (
	"context"
	"time"
)

// MailMessage is an email in the outbox. Messages are written to the
// database first and sent by a dispatcher with retries, so a mail server
// being down loses nothing.
type MailMessage struct {
	ID            int64
	TenantID      int64
	To            string
	Subject       string
	Body          string
	Attempts      int
	LastError     string
	NextAttemptAt time.Time
	SentAt        *time.Time
	CreatedAt     time.Time
}

// Mailer delivers one message now (SMTP in production).
type Mailer interface {
	Send(ctx context.Context, m *MailMessage) error
}

// OutboxService stores outgoing mail.
type OutboxService interface {
	// EnqueueMail inserts m to be sent as soon as possible.
	EnqueueMail(ctx context.Context, m *MailMessage) error
	// FindDueMail returns unsent messages whose next attempt is due.
	FindDueMail(ctx context.Context, now time.Time, limit int) ([]*MailMessage, error)
	// ClaimDueMail returns up to limit due messages and moves their next
	// attempt to now+lease, so that another dispatcher (another server on
	// the same database) does not send them too while this one tries.
	ClaimDueMail(ctx context.Context, now time.Time, lease time.Duration, limit int) ([]*MailMessage, error)
	// RescheduleUnsentMail makes every unsent message due at now (when a
	// mail server has just been configured), returning how many.
	RescheduleUnsentMail(ctx context.Context, now time.Time) (int, error)
	// MarkMailSent records a delivery.
	MarkMailSent(ctx context.Context, id int64, at time.Time) error
	// MarkMailFailed records a failed attempt and when to try again.
	MarkMailFailed(ctx context.Context, id int64, errMsg string, next time.Time) error
}
