package queue_test

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/steward-dev/steward"
	"github.com/steward-dev/steward/metrics"
	"github.com/steward-dev/steward/queue"
	"github.com/steward-dev/steward/sqlstore"
	"github.com/steward-dev/steward/storetest"
)

// countingFetch counts the jobs fetched through it and does not listen
// for other processes' enqueues (tests in parallel share PostgreSQL's
// notification channel); the store's other methods, steward.JobHandoff
// included, are the store's own.
type countingFetch struct {
	*sqlstore.DB
	fetched atomic.Int64
}

func (c *countingFetch) WatchJobs(ctx context.Context) error {
	<-ctx.Done()
	return nil
}

func (c *countingFetch) FetchJobs(ctx context.Context, worker string, limit int, lease time.Duration) ([]*steward.Job, error) {
	jobs, err := c.DB.FetchJobs(ctx, worker, limit, lease)
	c.fetched.Add(int64(len(jobs)))
	return jobs, err
}

// waitIdle waits until e would take a new job (its fetch loop found the
// queue empty), giving back the reservation that showed it.
func waitIdle(t *testing.T, e *queue.Engine) {
	t.Helper()
	for deadline := time.Now().Add(10 * time.Second); e.ReserveJobs(1) == 0; time.Sleep(5 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatal("the engine never became idle")
		}
	}
	e.TakeJobs(nil, 1)
}

// TestNewJobsSkipTheQueue emits events one at a time to an idle engine's
// store: where the store writes emits in batches (PostgreSQL), each
// receiver job is handed to the engine as it is created and none is
// fetched; elsewhere every job is fetched. Either way each runs once, with
// its event, and the counters end at zero.
func TestNewJobsSkipTheQueue(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *sqlstore.DB) {
		ctx, cancel := context.WithCancel(context.Background())
		defer cancel()
		tenant := newTenant(t, db, "t")
		src := newAction(t, db, tenant, "source")
		recv := newAction(t, db, tenant, "receiver", src)
		source, err := db.FindActionByID(ctx, tenant, src)
		if err != nil {
			t.Fatal(err)
		}
		var logs lockedBuffer
		cfg := queue.DefaultConfig()
		cfg.Workers, cfg.PollInterval = 4, time.Minute // no poll: only a wake-up or a hand-over starts a job
		cfg.Log = slog.New(slog.NewTextHandler(&logs, nil))
		cfg.Metrics = metrics.NewRegistry()
		_, batched := db.Dialect.(sqlstore.EventBatchDialect)
		ran := make(chan string, 1)
		var runs sync.Map // job id → runs
		handler := func(ctx context.Context, j *steward.Job) error {
			n, _ := runs.LoadOrStore(j.ID, new(atomic.Int64))
			n.(*atomic.Int64).Add(1)
			switch {
			case j.Event != nil:
				ran <- string(j.Event.Payload)
			case batched:
				ran <- "" // a job handed over comes with its event
			default: // fetched without its event (SQLite): read it
				ev, err := db.FindEventByID(ctx, j.TenantID, j.EventID)
				if err != nil {
					t.Error(err)
					ran <- ""
					return nil
				}
				ran <- string(ev.Payload)
			}
			return nil
		}
		q := &countingFetch{DB: db}
		e := queue.New(q, handler, cfg)
		var wg sync.WaitGroup
		wg.Go(func() { e.Run(ctx) })
		waitIdle(t, e)
		const n = 10
		for i := range n {
			payload := json.RawMessage(`{"i":` + string(rune('0'+i)) + `}`)
			if _, err := db.EmitEvents(ctx, source, []json.RawMessage{payload}); err != nil {
				t.Fatal(err)
			}
			select {
			case got := <-ran:
				if got != string(payload) {
					t.Errorf("job ran with event %q, want %q", got, payload)
				}
			case <-time.After(10 * time.Second):
				t.Fatalf("job %d did not run", i)
			}
		}
		for deadline := time.Now().Add(10 * time.Second); ; time.Sleep(10 * time.Millisecond) {
			st, err := db.JobStats(ctx, tenant, 0)
			if err == nil && st.Queued+st.InProgress+st.Retry+st.Dead == 0 && countState(t, db, tenant, recv, steward.JobInProgress) == 0 {
				break
			}
			if time.Now().After(deadline) {
				t.Fatalf("jobs not finished: %+v (%v)", st, err)
			}
		}
		cancel()
		wg.Wait()
		count := 0
		runs.Range(func(id, n any) bool {
			count++
			if r := n.(*atomic.Int64).Load(); r != 1 {
				t.Errorf("job %d ran %d times", id, r)
			}
			return true
		})
		if count != n {
			t.Errorf("%d jobs ran, want %d", count, n)
		}
		want := int64(n)
		if batched {
			want = 0
		}
		if got := q.fetched.Load(); got != want {
			t.Errorf("%d jobs fetched, want %d (store batches emits: %v)", got, want, batched)
		}
		var text strings.Builder
		if err := cfg.Metrics.WriteText(&text); err != nil {
			t.Fatal(err)
		}
		metric := fmt.Sprintf(`steward_jobs_leased_total{via="handover"} %d`, n)
		if !batched {
			metric = fmt.Sprintf(`steward_jobs_leased_total{via="fetch"} %d`, n)
		}
		if !strings.Contains(text.String(), metric+"\n") {
			t.Errorf("metrics lack %q:\n%s", metric, text.String())
		}
		if strings.Contains(logs.String(), "level=ERROR") || strings.Contains(logs.String(), "lease lost") {
			t.Errorf("engine log:\n%s", logs.String())
		}
	})
}

// TestNewJobsDoNotOvertakeQueuedOnes: while queued jobs wait for workers
// the engine reserves none for new jobs, and once the queue is drained it
// does.
func TestNewJobsDoNotOvertakeQueuedOnes(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *sqlstore.DB) {
		ctx, cancel := context.WithCancel(context.Background())
		defer cancel()
		tenant := newTenant(t, db, "t")
		action := newAction(t, db, tenant, "a")
		release := make(chan struct{})
		var started atomic.Int64
		handler := func(ctx context.Context, j *steward.Job) error {
			started.Add(1)
			<-release
			return nil
		}
		cfg := queue.DefaultConfig()
		cfg.Workers, cfg.PollInterval = 2, 20*time.Millisecond
		cfg.Log = slog.New(slog.NewTextHandler(io.Discard, nil))
		jobs := make([]steward.NewJob, 8)
		for i := range jobs {
			jobs[i] = steward.NewJob{TenantID: tenant, ActionID: action}
		}
		if err := db.EnqueueJobs(ctx, jobs); err != nil {
			t.Fatal(err)
		}
		e := queue.New(db, handler, cfg)
		var wg sync.WaitGroup
		wg.Go(func() { e.Run(ctx) })
		for deadline := time.Now().Add(10 * time.Second); started.Load() < 2; time.Sleep(5 * time.Millisecond) {
			if time.Now().After(deadline) {
				t.Fatal("jobs did not start")
			}
		}
		if got := e.ReserveJobs(1); got != 0 {
			e.TakeJobs(nil, got)
			t.Errorf("reserved %d workers for a new job while %d jobs were queued or waiting", got, len(jobs)-2)
		}
		close(release)
		waitIdle(t, e)
		if got := started.Load(); got != int64(len(jobs)) {
			t.Errorf("the engine took new jobs after %d of %d queued jobs had started", got, len(jobs))
		}
		cancel()
		wg.Wait()
	})
}

// TestJobsHandedOverWhileStoppingAreReleased: a job handed to an engine
// that has stopped goes back to the queue at once, and a stopped engine
// reserves nothing.
func TestJobsHandedOverWhileStoppingAreReleased(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *sqlstore.DB) {
		ctx, cancel := context.WithCancel(context.Background())
		tenant := newTenant(t, db, "t")
		action := newAction(t, db, tenant, "a")
		cfg := queue.DefaultConfig()
		cfg.Log = slog.New(slog.NewTextHandler(io.Discard, nil))
		e := queue.New(db, func(context.Context, *steward.Job) error { return nil }, cfg)
		done := make(chan struct{})
		go func() { e.Run(ctx); close(done) }()
		cancel()
		<-done
		if got := e.ReserveJobs(1); got != 0 {
			t.Errorf("a stopped engine reserved %d workers", got)
		}
		bg := context.Background()
		if err := db.EnqueueJobs(bg, []steward.NewJob{{TenantID: tenant, ActionID: action}}); err != nil {
			t.Fatal(err)
		}
		leased, err := db.FetchJobs(bg, e.WorkerID(), 1, time.Minute)
		if err != nil || len(leased) != 1 {
			t.Fatalf("leased %d jobs (%v)", len(leased), err)
		}
		e.TakeJobs(leased, 1)
		j, err := db.FindJobByID(bg, tenant, leased[0].ID)
		if err != nil || j.State != steward.JobQueued || j.Worker != "" {
			t.Errorf("job handed to a stopped engine: %+v (%v), want queued", j, err)
		}
	})
}
