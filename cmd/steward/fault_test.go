package main_test

import (
	"bytes"
	"crypto/rand"
	"database/sql"
	"encoding/hex"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/steward-dev/steward/storetest"

	_ "github.com/jackc/pgx/v5/stdlib" // database/sql driver for the terminating session
)

// TestTerminatedSessionsUnderWebhookLoad posts thousands of webhook events
// through a running `steward serve` on PostgreSQL while its database
// sessions are terminated again and again (as a failover or an
// administrator would): no request fails with a 5xx, and every event's job
// runs exactly once.
func TestTerminatedSessionsUnderWebhookLoad(t *testing.T) {
	base := storetest.PostgresURL(t)
	b := make([]byte, 4)
	rand.Read(b)
	app := "steward_fault_" + hex.EncodeToString(b)
	u, err := url.Parse(base)
	if err != nil {
		t.Fatal(err)
	}
	q := u.Query()
	q.Set("application_name", app) // names Steward's sessions, and only them
	u.RawQuery = q.Encode()
	db := u.String()
	key := bootstrap(t, db)

	const events = 3000
	var mu sync.Mutex
	runs := map[string]int{}
	upstream := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		runs[r.URL.Path]++
		mu.Unlock()
		fmt.Fprint(w, `{}`)
	}))
	defer upstream.Close()

	s := startServe(t, db, 10, "STEWARD_JOB_BACKOFF_SCALE=0.001")
	hook := call(t, s.base, key, "POST", "/api/v1/agents", map[string]any{"type": "Webhook", "name": "source"})
	call(t, s.base, key, "POST", "/api/v1/agents", map[string]any{"type": "HTTP Request", "name": "count",
		"source_ids": []any{hook["id"]}, "options": map[string]any{"url": upstream.URL + "/n/{{.n}}"}})
	hookURL, _ := hook["webhook_url"].(string)
	if hookURL == "" {
		t.Fatalf("webhook agent without a webhook_url: %v", hook)
	}

	admin, err := sql.Open("pgx", os.Getenv(storetest.PostgresEnv))
	if err != nil {
		t.Fatal(err)
	}
	defer admin.Close()
	stop := make(chan struct{})
	var killerDone sync.WaitGroup
	var stopOnce sync.Once
	stopKiller := func() { stopOnce.Do(func() { close(stop); killerDone.Wait() }) }
	defer stopKiller()
	var terminated atomic.Int64
	killerDone.Go(func() {
		for {
			select {
			case <-stop:
				return
			case <-time.After(time.Second):
			}
			var n int64
			err := admin.QueryRow(`SELECT COUNT(pg_terminate_backend(pid)) FROM pg_stat_activity
				WHERE datname = current_database() AND pid <> pg_backend_pid() AND application_name = $1`, app).Scan(&n)
			if err != nil {
				t.Errorf("terminate sessions: %v", err)
				return
			}
			terminated.Add(n)
		}
	})

	client := &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: 32}, Timeout: 60 * time.Second}
	var fivexx, failed atomic.Int64
	var firstFailure atomic.Value
	next := make(chan int)
	var posters sync.WaitGroup
	for range 8 {
		posters.Go(func() {
			for n := range next {
				resp, err := client.Post(hookURL, "application/json", bytes.NewReader(fmt.Appendf(nil, `{"n":%d}`, n)))
				if err != nil {
					failed.Add(1)
					firstFailure.CompareAndSwap(nil, err.Error())
					continue
				}
				body, _ := io.ReadAll(resp.Body)
				resp.Body.Close()
				if resp.StatusCode >= 500 {
					fivexx.Add(1)
					firstFailure.CompareAndSwap(nil, fmt.Sprintf("%d %s", resp.StatusCode, body))
				} else if resp.StatusCode >= 300 {
					failed.Add(1)
					firstFailure.CompareAndSwap(nil, fmt.Sprintf("%d %s", resp.StatusCode, body))
				}
			}
		})
	}
	for n := range events {
		next <- n
	}
	close(next)
	posters.Wait()
	if fivexx.Load() > 0 {
		s.cmd.Process.Kill()
		s.cmd.Wait()
		var errs []string
		for _, line := range strings.Split(s.stderr.String(), "\n") {
			if strings.Contains(line, `"level":"ERROR"`) && len(errs) < 20 {
				errs = append(errs, line)
			}
		}
		t.Fatalf("%d webhook posts answered 5xx; the server logged:\n%s", fivexx.Load(), strings.Join(errs, "\n"))
	}
	t.Logf("posted %d events: %d 5xx, %d other failures (first: %v), %d sessions terminated so far",
		events, fivexx.Load(), failed.Load(), firstFailure.Load(), terminated.Load())
	// Keep terminating while the queue drains, then let it finish.
	waitUntil(t, 120*time.Second, "the webhook's jobs to run", func() bool {
		mu.Lock()
		defer mu.Unlock()
		return int64(len(runs)) >= events-fivexx.Load()-failed.Load()
	})
	stopKiller()
	waitUntil(t, 60*time.Second, "the queue to drain", func() bool {
		st := call(t, s.base, key, "GET", "/api/v1/admin/job_stats", nil)
		return st["queued"] == 0.0 && st["in_progress"] == 0.0 && st["retry"] == 0.0
	})

	if terminated.Load() == 0 {
		t.Fatal("no session was terminated: the test proved nothing")
	}
	t.Logf("%d sessions terminated during %d webhook posts", terminated.Load(), events)
	if fivexx.Load() != 0 || failed.Load() != 0 {
		t.Errorf("%d responses were 5xx and %d requests failed otherwise; first: %v", fivexx.Load(), failed.Load(), firstFailure.Load())
	}
	mu.Lock()
	defer mu.Unlock()
	if len(runs) != events {
		t.Errorf("%d distinct events ran, want %d", len(runs), events)
	}
	twice := 0
	for n, c := range runs {
		if c != 1 {
			twice++
			if twice <= 5 {
				t.Errorf("%s ran %d times", n, c)
			}
		}
	}
	if twice > 0 {
		t.Errorf("%d jobs ran more than once", twice)
	}
	if st := call(t, s.base, key, "GET", "/api/v1/admin/job_stats", nil); st["dead"] != 0.0 {
		t.Errorf("job_stats %v, want no dead jobs", st)
	}
}
