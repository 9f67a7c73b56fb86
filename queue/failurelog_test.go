package queue

import (
	"bytes"
	"encoding/json"
	"log/slog"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/steward-dev/steward"
)

type handClock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *handClock) Now() time.Time { c.mu.Lock(); defer c.mu.Unlock(); return c.t }
func (c *handClock) Advance(d time.Duration) {
	c.mu.Lock()
	c.t = c.t.Add(d)
	c.mu.Unlock()
}

func TestFailureLogIsRateLimitedPerAction(t *testing.T) {
	var buf bytes.Buffer
	clock := &handClock{t: time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)}
	l := newFailureLog(slog.New(slog.NewJSONHandler(&buf, nil)), clock, time.Minute)
	job := func(id, action int64, retries int) *steward.Job {
		return &steward.Job{ID: id, TenantID: 7, ActionID: action, Kind: "http_request", RetryCount: retries}
	}
	fail := func(id int64, dead bool) steward.JobFailure {
		return steward.JobFailure{ID: id, Dead: dead, ErrorClass: "HTTPError", ErrorMessage: "503 Service Unavailable", RunAt: clock.Now()}
	}
	for i := range 50 {
		l.record(job(int64(i), 1, 2), fail(int64(i), false)) // a flood from action 1
	}
	l.record(job(100, 2, 0), fail(100, false)) // another action is not hidden by it
	l.record(job(101, 1, 25), fail(101, true)) // nor is a death
	clock.Advance(time.Minute)
	l.record(job(102, 1, 3), fail(102, false)) // the next window reports what was left out

	var recs []map[string]any
	for _, line := range strings.Split(strings.TrimSpace(buf.String()), "\n") {
		var m map[string]any
		if err := json.Unmarshal([]byte(line), &m); err != nil {
			t.Fatal(err)
		}
		recs = append(recs, m)
	}
	if len(recs) != 4 {
		t.Fatalf("%d log records, want 4:\n%s", len(recs), buf.String())
	}
	first := recs[0]
	for k, want := range map[string]any{"level": "WARN", "tenant_id": 7.0, "action_id": 1.0, "kind": "http_request",
		"job_id": 0.0, "attempt": 3.0, "error_class": "HTTPError", "error": "503 Service Unavailable"} {
		if first[k] != want {
			t.Errorf("%s = %v, want %v", k, first[k], want)
		}
	}
	if recs[1]["action_id"] != 2.0 || recs[2]["level"] != "ERROR" || recs[2]["job_id"] != 101.0 {
		t.Errorf("other action / death: %v / %v", recs[1], recs[2])
	}
	if recs[3]["job_id"] != 102.0 || recs[3]["suppressed"] != 49.0 {
		t.Errorf("next window: %v", recs[3])
	}
}
