package mail

import (
	"context"
	"log/slog"
	"time"

	"github.com/steward-dev/steward"
)

// Dispatcher sends the outbox. Every message is written to the database
// before anyone tries to send it; the dispatcher claims due messages, sends
// them, and on failure schedules another attempt with exponential backoff,
// forever, so nothing is lost while a mail server is down.
//
// Without a Mailer (no SMTP configured) the dispatcher logs each message,
// link included, so an operator can still find it, and leaves it in the
// outbox; every later start logs it again, and once a Mailer is
// configured, Run sends everything unsent.
type Dispatcher struct {
	Outbox steward.OutboxService
	Mailer steward.Mailer // nil: log only
	Clock  steward.Clock
	Log    *slog.Logger
	// Interval between polls of the outbox (default 5 s).
	Interval time.Duration
	// MinBackoff and MaxBackoff bound the wait before a retry (defaults
	// 30 s and 1 h); the wait doubles with every failed attempt.
	MinBackoff time.Duration
	MaxBackoff time.Duration
	// Batch is how many messages one poll claims (default 20).
	Batch int

	wake chan struct{}
}

// Waking returns an outbox that wakes the dispatcher whenever a message
// is enqueued, so mail goes out at once rather than at the next poll.
func (d *Dispatcher) Waking(o steward.OutboxService) steward.OutboxService {
	d.wakeChan()
	return wakingOutbox{OutboxService: o, d: d}
}

func (d *Dispatcher) wakeChan() chan struct{} {
	if d.wake == nil {
		d.wake = make(chan struct{}, 1)
	}
	return d.wake
}

// Wake makes a running dispatcher look at the outbox now; use cases that
// queue mail in their own transaction call it after committing.
func (d *Dispatcher) Wake() {
	select {
	case d.wakeChan() <- struct{}{}:
	default:
	}
}

// wakingOutbox is an outbox that tells a dispatcher about new mail.
type wakingOutbox struct {
	steward.OutboxService
	d *Dispatcher
}

// EnqueueMail stores m and wakes the dispatcher.
func (w wakingOutbox) EnqueueMail(ctx context.Context, m *steward.MailMessage) error {
	if err := w.OutboxService.EnqueueMail(ctx, m); err != nil {
		return err
	}
	w.d.Wake()
	return nil
}

// unsentParking is how long a message waits when there is no mail server:
// until a restart with SMTP configured reschedules it.
const unsentParking = 365 * 24 * time.Hour

func (d *Dispatcher) defaults() {
	if d.Interval <= 0 {
		d.Interval = 5 * time.Second
	}
	if d.MinBackoff <= 0 {
		d.MinBackoff = 30 * time.Second
	}
	if d.MaxBackoff <= 0 {
		d.MaxBackoff = time.Hour
	}
	if d.Batch <= 0 {
		d.Batch = 20
	}
	if d.Clock == nil {
		d.Clock = steward.SystemClock{}
	}
	if d.Log == nil {
		d.Log = slog.New(slog.DiscardHandler)
	}
}

// Backoff returns the wait before the next attempt after a message has
// failed attempts times: MinBackoff doubled per failure, capped at MaxBackoff.
func (d *Dispatcher) Backoff(attempts int) time.Duration {
	d.defaults()
	wait := d.MinBackoff
	for i := 1; i < attempts && wait < d.MaxBackoff; i++ {
		wait *= 2
	}
	return min(wait, d.MaxBackoff)
}

// Run polls the outbox until ctx ends. Call Waking or Wake before Run,
// not concurrently with it.
//
// At start every unsent message is made due at once: with a mail server,
// so that mail kept while there was none goes out now; without one, so
// that each pending message, link included, is written to this run's log
// again (an operator reading the log of a restarted server still finds it).
func (d *Dispatcher) Run(ctx context.Context) {
	d.defaults()
	wake := d.wakeChan()
	if n, err := d.Outbox.RescheduleUnsentMail(ctx, d.Clock.Now()); err != nil {
		d.Log.Warn("mail outbox: reschedule unsent mail", "error", err)
	} else if n > 0 && d.Mailer != nil {
		d.Log.Info("mail outbox: sending mail kept while no server was configured", "messages", n)
	} else if n > 0 {
		d.Log.Warn("mail outbox: unsent mail is waiting for an SMTP server (STEWARD_SMTP_URL); logging it again", "messages", n)
	}
	t := time.NewTicker(d.Interval)
	defer t.Stop()
	for {
		if _, err := d.RunOnce(ctx); err != nil && ctx.Err() == nil {
			d.Log.Warn("mail outbox", "error", err)
		}
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		case <-wake:
		}
	}
}

// RunOnce claims the due messages and tries each once, returning how many
// were delivered (or, without a Mailer, logged).
func (d *Dispatcher) RunOnce(ctx context.Context) (int, error) {
	d.defaults()
	now := d.Clock.Now()
	lease := d.Backoff(1)
	if d.Mailer == nil {
		lease = unsentParking
	}
	msgs, err := d.Outbox.ClaimDueMail(ctx, now, lease, d.Batch)
	if err != nil {
		return 0, err
	}
	done := 0
	for _, m := range msgs {
		if ctx.Err() != nil {
			return done, ctx.Err()
		}
		if d.Mailer == nil {
			d.Log.Warn("mail not sent: no SMTP server is configured (STEWARD_SMTP_URL); the message stays in the outbox",
				"mail_id", m.ID, "to", m.To, "subject", m.Subject, "body", m.Body)
			done++
			continue
		}
		if err := d.Mailer.Send(ctx, m); err != nil {
			next := d.Clock.Now().Add(d.Backoff(m.Attempts + 1))
			d.Log.Warn("mail delivery failed; will retry", "mail_id", m.ID, "to", m.To,
				"attempt", m.Attempts+1, "next_attempt_at", next, "error", err)
			if err := d.Outbox.MarkMailFailed(context.WithoutCancel(ctx), m.ID, err.Error(), next); err != nil {
				return done, err
			}
			continue
		}
		if err := d.Outbox.MarkMailSent(context.WithoutCancel(ctx), m.ID, d.Clock.Now()); err != nil {
			return done, err
		}
		d.Log.Info("mail sent", "mail_id", m.ID, "to", m.To, "attempt", m.Attempts+1)
		done++
	}
	return done, nil
}
