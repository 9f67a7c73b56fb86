package mail_test

import (
	"context"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/steward-dev/steward"
	"github.com/steward-dev/steward/mail"
	"github.com/steward-dev/steward/sqlstore"
	"github.com/steward-dev/steward/storetest"
)

// syncBuilder is a strings.Builder safe to read while a dispatcher writes.
type syncBuilder struct {
	mu sync.Mutex
	b  strings.Builder
}

func (s *syncBuilder) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuilder) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// TestPendingMailIsLoggedAgainAtStart checks that without SMTP a message
// kept in the outbox is written to the log of every start, not only of
// the run that queued it: an operator who restarted the server still finds
// the invitation link in the current log.
func TestPendingMailIsLoggedAgainAtStart(t *testing.T) {
	t.Parallel()
	storetest.Each(t, func(t *testing.T, db *sqlstore.DB) {
		ctx := context.Background()
		clock := storetest.NewClock(time.Date(2026, 1, 1, 12, 0, 0, 0, time.UTC))
		db.Clock = clock
		if err := db.EnqueueMail(ctx, &steward.MailMessage{To: "ann@example.com", Subject: "Invitation", Body: "open https://x/accept?invitation_token=inv_abc"}); err != nil {
			t.Fatal(err)
		}
		var first strings.Builder
		d := &mail.Dispatcher{Outbox: db, Clock: clock, Log: newTextLogger(&first)}
		if n, err := d.RunOnce(ctx); err != nil || n != 1 || !strings.Contains(first.String(), "inv_abc") {
			t.Fatalf("first run logged %d (%v): %s", n, err, first.String())
		}

		// A restart, still without SMTP, a day later.
		clock.Advance(24 * time.Hour)
		var second syncBuilder
		d = &mail.Dispatcher{Outbox: db, Clock: clock, Log: newTextLogger(&second), Interval: time.Hour}
		runCtx, cancel := context.WithCancel(ctx)
		done := make(chan struct{})
		go func() { d.Run(runCtx); close(done) }()
		deadline := time.Now().Add(10 * time.Second)
		for !strings.Contains(second.String(), "inv_abc") && time.Now().Before(deadline) {
			time.Sleep(10 * time.Millisecond)
		}
		cancel()
		<-done
		if !strings.Contains(second.String(), "inv_abc") {
			t.Fatalf("the pending message was not logged again after a restart:\n%s", second.String())
		}
	})
}
