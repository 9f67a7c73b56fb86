package queue

import (
	"context"
	"log/slog"
	"sync"
	"time"

	"github.com/steward-dev/steward"
)

// failureLog writes failing jobs to the log — at warn while they will be
// retried, at error when they die — with their tenant, action, job id,
// attempt, error class and message. It is rate-limited per action: the
// first failure of an action in each interval is logged, and the next
// record says how many were left out meanwhile, so a flood of failures
// cannot flood the log.
type failureLog struct {
	log      *slog.Logger
	clock    steward.Clock
	interval time.Duration

	mu    sync.Mutex
	byKey map[failureKey]*failureWindow
}

type failureKey struct {
	tenant, action int64
	dead           bool
}

type failureWindow struct {
	start      time.Time
	suppressed int
}

// maxFailureKeys bounds the limiter's memory; past it the windows restart.
const maxFailureKeys = 10_000

func newFailureLog(log *slog.Logger, clock steward.Clock, interval time.Duration) *failureLog {
	return &failureLog{log: log, clock: clock, interval: interval, byKey: map[failureKey]*failureWindow{}}
}

// record logs one failure unless its action already logged one within the
// interval. Deaths and retries are limited separately, so a death is never
// hidden behind a retry.
func (l *failureLog) record(j *steward.Job, f steward.JobFailure) {
	level := slog.LevelWarn
	if f.Dead {
		level = slog.LevelError
	}
	if !l.log.Enabled(context.Background(), level) {
		return
	}
	now := l.clock.Now()
	key := failureKey{tenant: j.TenantID, action: j.ActionID, dead: f.Dead}
	l.mu.Lock()
	w := l.byKey[key]
	if w != nil && l.interval > 0 && now.Sub(w.start) < l.interval {
		w.suppressed++
		l.mu.Unlock()
		return
	}
	suppressed := 0
	if w != nil {
		suppressed = w.suppressed
	}
	if len(l.byKey) >= maxFailureKeys {
		l.byKey = map[failureKey]*failureWindow{}
	}
	l.byKey[key] = &failureWindow{start: now}
	l.mu.Unlock()

	msg := "job failed; it will be retried"
	if f.Dead {
		msg = "job died: out of retries"
	}
	attrs := []slog.Attr{
		slog.Int64("tenant_id", j.TenantID), slog.Int64("action_id", j.ActionID), slog.String("kind", j.Kind),
		slog.Int64("job_id", j.ID), slog.Int("attempt", j.RetryCount+1),
		slog.String("error_class", f.ErrorClass), slog.String("error", steward.Truncate(f.ErrorMessage, 1000)),
	}
	if !f.Dead {
		attrs = append(attrs, slog.Time("retry_at", f.RunAt))
	}
	if suppressed > 0 {
		attrs = append(attrs, slog.Int("suppressed", suppressed))
	}
	l.log.LogAttrs(context.Background(), level, msg, attrs...)
}
