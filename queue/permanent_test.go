package queue_test

import (
	"errors"
	"fmt"
	"testing"
	"time"

	"github.com/steward-dev/steward"
	"github.com/steward-dev/steward/queue"
)

// permanentErr is a failure retrying cannot fix.
type permanentErr struct{}

func (permanentErr) Error() string   { return "refused" }
func (permanentErr) Permanent() bool { return true }

func TestPermanentErrorsDieAtOnce(t *testing.T) {
	t.Parallel()
	cfg := queue.DefaultConfig()
	now := time.Now()
	job := &steward.Job{ID: 1, RetryCount: 0}
	if f := cfg.Failure(job, fmt.Errorf("run: %w", permanentErr{}), now); !f.Dead {
		t.Errorf("a wrapped permanent error was scheduled for retry: %+v", f)
	}
	if f := cfg.Failure(job, errors.New("flaky"), now); f.Dead || !f.RunAt.After(now) {
		t.Errorf("an ordinary first failure died or was not delayed: %+v", f)
	}
}
