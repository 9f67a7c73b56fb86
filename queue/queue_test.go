package queue_test

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"log/slog"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/steward-dev/steward"
	"github.com/steward-dev/steward/queue"
	"github.com/steward-dev/steward/sqlstore"
	"github.com/steward-dev/steward/storetest"
)

// fakeClock is a clock the test moves by hand.
type fakeClock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *fakeClock) Now() time.Time  { c.mu.Lock(); defer c.mu.Unlock(); return c.t }
func (c *fakeClock) Set(t time.Time) { c.mu.Lock(); c.t = t; c.mu.Unlock() }

// countState counts jobs in a state by scanning the table, to check the
// maintained counters against the truth.
func countState(t *testing.T, db *sqlstore.DB, tenant, action int64, state steward.JobState) int64 {
	t.Helper()
	var n int64
	err := db.Read.QueryRow(db.Q(`SELECT COUNT(*) FROM jobs WHERE tenant_id = ? AND action_id = ? AND state = ?`), tenant, action, int(state)).Scan(&n)
	if err != nil {
		t.Fatal(err)
	}
	return n
}

// newTenant creates a tenant (with its default story) and returns its id.
func newTenant(t *testing.T, db *sqlstore.DB, name string) int64 {
	t.Helper()
	tn := &steward.Tenant{Name: name}
	if err := db.CreateTenant(context.Background(), tn); err != nil {
		t.Fatal(err)
	}
	return tn.ID
}

// newAction creates an action in the tenant's default story, fed by the
// actions of sources.
func newAction(t *testing.T, db *sqlstore.DB, tenantID int64, name string, sources ...int64) int64 {
	t.Helper()
	ctx := context.Background()
	stories, _, err := db.FindStories(ctx, tenantID, steward.PageRequest{Page: 1, PerPage: 1})
	if err != nil || len(stories) == 0 {
		t.Fatalf("no default story: %v", err)
	}
	a := &steward.Action{TenantID: tenantID, StoryID: stories[0].ID, Type: steward.ActionWebhook, Name: name, Options: map[string]any{}, SourceIDs: sources}
	if err := db.CreateAction(ctx, a); err != nil {
		t.Fatal(err)
	}
	return a.ID
}

func TestRetryScheduleAndDeath(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *sqlstore.DB) {
		ctx := context.Background()
		t0 := time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)
		clock := &fakeClock{t: t0}
		db.Clock = clock
		cfg := queue.DefaultConfig()
		cfg.MaxRetries = 3
		cfg.Jitter = func(n int) int { return n - 1 } // the largest jitter Sidekiq can pick
		if err := db.EnqueueJobs(ctx, []steward.NewJob{{TenantID: 1, ActionID: 7}}); err != nil {
			t.Fatal(err)
		}
		for i := 0; i <= cfg.MaxRetries; i++ {
			jobs, err := db.FetchJobs(ctx, "w1", 10, time.Minute)
			if err != nil || len(jobs) != 1 {
				t.Fatalf("run %d: fetched %d jobs, err %v; want 1", i, len(jobs), err)
			}
			if jobs[0].RetryCount != i {
				t.Fatalf("run %d: retry_count %d", i, jobs[0].RetryCount)
			}
			now := clock.Now()
			f := cfg.Failure(jobs[0], errors.New("boom"), now)
			if err := db.FinishJobs(ctx, "w1", nil, []steward.JobFailure{f}); err != nil {
				t.Fatal(err)
			}
			j, err := db.FindJobByID(ctx, 1, jobs[0].ID)
			if err != nil {
				t.Fatal(err)
			}
			if i == cfg.MaxRetries {
				if j.State != steward.JobDead || j.DiedAt == nil || !j.DiedAt.Equal(now) || j.RetryCount != cfg.MaxRetries {
					t.Fatalf("after the last retry: state %v died_at %v retry_count %d; want dead at %v with %d retries",
						j.State, j.DiedAt, j.RetryCount, now, cfg.MaxRetries)
				}
				if j.ErrorMessage != "boom" || j.ErrorClass == "" {
					t.Errorf("error recorded as %q / %q", j.ErrorClass, j.ErrorMessage)
				}
				break
			}
			// Sidekiq: count⁴ + 15 + rand(10·(count+1)) seconds.
			wantDelay := time.Duration(i*i*i*i+15+10*(i+1)-1) * time.Second
			if j.State != steward.JobRetry || !j.RunAt.Equal(now.Add(wantDelay)) || j.RetryCount != i+1 {
				t.Fatalf("after failure %d: state %v run_at %v retry_count %d; want retry at %v", i+1, j.State, j.RunAt, j.RetryCount, now.Add(wantDelay))
			}
			clock.Set(j.RunAt.Add(-time.Microsecond))
			if n, err := db.RescueJobs(ctx, 100); err != nil || n != 0 {
				t.Fatalf("a retry moved before it was due: %d, %v", n, err)
			}
			if jobs, _ := db.FetchJobs(ctx, "w1", 10, time.Minute); len(jobs) != 0 {
				t.Fatalf("a retry ran before it was due")
			}
			clock.Set(j.RunAt)
			if n, err := db.RescueJobs(ctx, 100); err != nil || n != 1 {
				t.Fatalf("the due retry was not queued: %d, %v", n, err)
			}
		}
		st, err := db.JobStats(ctx, 1, 0)
		if err != nil {
			t.Fatal(err)
		}
		if st.Dead != 1 || st.Queued != 0 || st.Retry != 0 || st.InProgress != 0 {
			t.Errorf("stats %+v, want one dead job", st)
		}
	})
}

func TestBackoffScale(t *testing.T) {
	t.Parallel()
	zero := func(int) int { return 0 }
	if d := queue.Backoff(0, 1, zero); d != 15*time.Second {
		t.Errorf("first retry after %v, want 15s", d)
	}
	if d := queue.Backoff(24, 1, zero); d != time.Duration(24*24*24*24+15)*time.Second {
		t.Errorf("last retry after %v", d)
	}
	if d := queue.Backoff(2, 0.001, zero); d != 31*time.Millisecond {
		t.Errorf("scaled retry after %v, want 31ms", d)
	}
}

func TestLeaseExpiryAndLiveLease(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *sqlstore.DB) {
		ctx := context.Background()
		clock := &fakeClock{t: time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)}
		db.Clock = clock
		if err := db.EnqueueJobs(ctx, []steward.NewJob{{TenantID: 1, ActionID: 1}}); err != nil {
			t.Fatal(err)
		}
		jobs, _ := db.FetchJobs(ctx, "dead-worker", 10, 30*time.Second)
		if len(jobs) != 1 {
			t.Fatal("no job fetched")
		}
		clock.Set(clock.Now().Add(29 * time.Second))
		if n, _ := db.RescueJobs(ctx, 10); n != 0 {
			t.Fatal("a live lease was taken away")
		}
		held, err := db.ExtendLeases(ctx, "dead-worker", []int64{jobs[0].ID}, clock.Now().Add(30*time.Second))
		if err != nil || len(held) != 1 {
			t.Fatalf("heartbeat: %v %v", held, err)
		}
		clock.Set(clock.Now().Add(31 * time.Second))
		if n, _ := db.RescueJobs(ctx, 10); n != 1 {
			t.Fatal("an expired lease was not rescued")
		}
		again, _ := db.FetchJobs(ctx, "w2", 10, 30*time.Second)
		if len(again) != 1 || again[0].ID != jobs[0].ID {
			t.Fatal("the rescued job was not fetched again")
		}
		// The old worker's late completion must not remove the new lease.
		if err := db.FinishJobs(ctx, "dead-worker", []int64{jobs[0].ID}, nil); err != nil {
			t.Fatal(err)
		}
		if j, err := db.FindJobByID(ctx, 1, jobs[0].ID); err != nil || j.Worker != "w2" {
			t.Fatalf("job after a stale completion: %+v %v", j, err)
		}
	})
}

func TestEngineRetriesUntilDead(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *sqlstore.DB) {
		ctx, cancel := context.WithCancel(context.Background())
		defer cancel()
		var runs atomic.Int64
		cfg := queue.DefaultConfig()
		cfg.MaxRetries, cfg.BackoffScale, cfg.Workers = 2, 0.001, 2
		e := queue.New(db, func(ctx context.Context, j *steward.Job) error {
			runs.Add(1)
			return errors.New("always fails")
		}, cfg)
		done := make(chan error)
		go func() { done <- e.Run(ctx) }()
		if err := db.EnqueueJobs(ctx, []steward.NewJob{{TenantID: 1, ActionID: 2}}); err != nil {
			t.Fatal(err)
		}
		deadline := time.Now().Add(20 * time.Second)
		for {
			st, err := db.JobStats(ctx, 1, 2)
			if err != nil {
				t.Fatal(err)
			}
			if st.Dead == 1 {
				break
			}
			if time.Now().After(deadline) {
				t.Fatalf("job never died: %+v after %d runs", st, runs.Load())
			}
			time.Sleep(10 * time.Millisecond)
		}
		cancel()
		if err := <-done; err != nil {
			t.Fatal(err)
		}
		if runs.Load() != 3 {
			t.Errorf("ran %d times, want 1 + 2 retries", runs.Load())
		}
	})
}

func TestEngineWorksManyJobs(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *sqlstore.DB) {
		ctx, cancel := context.WithCancel(context.Background())
		defer cancel()
		const n = 5000
		jobs := make([]steward.NewJob, 1000)
		for i := range jobs {
			jobs[i] = steward.NewJob{TenantID: 1, ActionID: int64(i%10 + 1)}
		}
		for i := 0; i < n/1000; i++ {
			if err := db.EnqueueJobs(ctx, jobs); err != nil {
				t.Fatal(err)
			}
		}
		var ran atomic.Int64
		cfg := queue.DefaultConfig()
		cfg.Workers, cfg.Prefetch = 100, 1000
		e := queue.New(db, func(ctx context.Context, j *steward.Job) error { ran.Add(1); return nil }, cfg)
		start := time.Now()
		done := make(chan error)
		go func() { done <- e.Run(ctx) }()
		for ran.Load() < n {
			time.Sleep(5 * time.Millisecond)
		}
		for {
			st, _ := db.JobStats(ctx, 1, 0)
			if st.Queued+st.InProgress == 0 {
				break
			}
			time.Sleep(2 * time.Millisecond)
		}
		el := time.Since(start)
		cancel()
		<-done
		t.Logf("%d no-op jobs in %v: %.0f jobs/s", n, el, n/el.Seconds())
		if ran.Load() != n {
			t.Errorf("ran %d jobs, want %d", ran.Load(), n)
		}
		if c := countState(t, db, 1, 1, steward.JobQueued); c != 0 {
			t.Errorf("%d jobs left queued", c)
		}
	})
}

func TestPerActionDeleteTouchesOnlyThatActionAndTenant(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *sqlstore.DB) {
		ctx := context.Background()
		type key struct{ tenant, action int64 }
		t1, t2 := newTenant(t, db, "one"), newTenant(t, db, "two")
		a11, a12, a21 := newAction(t, db, t1, "a11"), newAction(t, db, t1, "a12"), newAction(t, db, t2, "a21")
		groups := []key{{t1, a11}, {t1, a12}, {t2, a21}}
		var jobs []steward.NewJob
		for _, g := range groups {
			for i := 0; i < 30; i++ {
				jobs = append(jobs, steward.NewJob{TenantID: g.tenant, ActionID: g.action})
			}
		}
		if err := db.EnqueueJobs(ctx, jobs); err != nil {
			t.Fatal(err)
		}
		fetched, err := db.FetchJobs(ctx, "w", 1000, time.Minute)
		if err != nil || len(fetched) != 90 {
			t.Fatalf("fetched %d, %v", len(fetched), err)
		}
		// Spread every group over queued, retry and dead.
		var failed []steward.JobFailure
		var release []int64
		for i, j := range fetched {
			switch i % 3 {
			case 0:
				failed = append(failed, steward.JobFailure{ID: j.ID, RunAt: time.Now().Add(time.Hour), ErrorClass: "X", ErrorMessage: "x"})
			case 1:
				failed = append(failed, steward.JobFailure{ID: j.ID, Dead: true, ErrorClass: "X", ErrorMessage: "x"})
			default:
				release = append(release, j.ID)
			}
		}
		if err := db.FinishJobs(ctx, "w", nil, failed); err != nil {
			t.Fatal(err)
		}
		if err := db.ReleaseJobs(ctx, "w", release); err != nil {
			t.Fatal(err)
		}
		before := map[key]map[steward.JobState]int64{}
		for _, g := range groups {
			before[g] = map[steward.JobState]int64{}
			for _, st := range []steward.JobState{steward.JobQueued, steward.JobRetry, steward.JobDead} {
				before[g][st] = countState(t, db, g.tenant, g.action, st)
			}
		}
		// Tenant 2 naming tenant 1's action deletes nothing: not found.
		if n, err := db.DeleteJobs(ctx, t2, steward.JobRetry, a11); steward.ErrorCode(err) != steward.ENOTFOUND || n != 0 {
			t.Fatalf("cross-tenant delete removed %d jobs (%v), want ENOTFOUND", n, err)
		}
		n, err := db.DeleteJobs(ctx, t1, steward.JobRetry, a11)
		if err != nil || n != before[key{t1, a11}][steward.JobRetry] || n == 0 {
			t.Fatalf("deleted %d (%v), want %d", n, err, before[key{t1, a11}][steward.JobRetry])
		}
		for _, g := range groups {
			for st, was := range before[g] {
				want := was
				if g == (key{t1, a11}) && st == steward.JobRetry {
					want = 0
				}
				if got := countState(t, db, g.tenant, g.action, st); got != want {
					t.Errorf("tenant %d action %d %v: %d jobs, want %d", g.tenant, g.action, st, got, want)
				}
				stats, err := db.JobStats(ctx, g.tenant, g.action)
				if err != nil {
					t.Fatal(err)
				}
				counted := map[steward.JobState]int64{steward.JobQueued: stats.Queued, steward.JobRetry: stats.Retry, steward.JobDead: stats.Dead}[st]
				if counted != want {
					t.Errorf("tenant %d action %d %v: counter says %d, want %d", g.tenant, g.action, st, counted, want)
				}
			}
		}
		if _, err := db.DeleteJobs(ctx, t1, steward.JobInProgress, 0); steward.ErrorCode(err) != steward.EINVALID {
			t.Errorf("deleting in-progress jobs: %v, want EINVALID", err)
		}
	})
}

func TestDeadJobsTrimmedPerTenant(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *sqlstore.DB) {
		ctx := context.Background()
		clock := &fakeClock{t: time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)}
		db.Clock = clock
		var jobs []steward.NewJob
		for i := 0; i < 5; i++ {
			jobs = append(jobs, steward.NewJob{TenantID: 1, ActionID: 1}, steward.NewJob{TenantID: 2, ActionID: 2})
		}
		if err := db.EnqueueJobs(ctx, jobs); err != nil {
			t.Fatal(err)
		}
		fetched, _ := db.FetchJobs(ctx, "w", 100, time.Hour)
		for _, j := range fetched {
			clock.Set(clock.Now().Add(time.Second)) // distinct death times
			if err := db.FinishJobs(ctx, "w", nil, []steward.JobFailure{{ID: j.ID, Dead: true}}); err != nil {
				t.Fatal(err)
			}
		}
		// At most 3 per tenant; nothing is old enough to expire.
		n, err := db.TrimDeadJobs(ctx, 3, clock.Now().Add(-time.Hour), 1000)
		if err != nil || n != 4 {
			t.Fatalf("trimmed %d (%v), want 2 per tenant", n, err)
		}
		for _, tenant := range []int64{1, 2} {
			if c := countState(t, db, tenant, tenant, steward.JobDead); c != 3 {
				t.Errorf("tenant %d keeps %d dead jobs, want 3", tenant, c)
			}
		}
		// Everything that died before now+1s is past its age limit.
		if n, err := db.TrimDeadJobs(ctx, 3, clock.Now().Add(time.Second), 1000); err != nil || n != 6 {
			t.Fatalf("trimmed %d (%v) by age, want 6", n, err)
		}
	})
}

func TestGracefulShutdown(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *sqlstore.DB) {
		ctx, cancel := context.WithCancel(context.Background())
		started := make(chan int64, 2)
		cfg := queue.DefaultConfig()
		cfg.Workers, cfg.ShutdownTimeout = 2, 300*time.Millisecond
		e := queue.New(db, func(ctx context.Context, j *steward.Job) error {
			started <- j.ActionID
			if j.ActionID == 1 { // short: finishes within the timeout
				time.Sleep(50 * time.Millisecond)
				return nil
			}
			<-ctx.Done() // long: still running at the timeout
			return ctx.Err()
		}, cfg)
		done := make(chan error)
		go func() { done <- e.Run(ctx) }()
		if err := db.EnqueueJobs(ctx, []steward.NewJob{{TenantID: 1, ActionID: 1}, {TenantID: 1, ActionID: 2}}); err != nil {
			t.Fatal(err)
		}
		<-started
		<-started
		cancel()
		if err := <-done; err != nil {
			t.Fatal(err)
		}
		if n := countState(t, db, 1, 1, steward.JobQueued) + countState(t, db, 1, 1, steward.JobInProgress); n != 0 {
			t.Errorf("the short job did not complete during shutdown")
		}
		if n := countState(t, db, 1, 2, steward.JobQueued); n != 1 {
			t.Errorf("the long job's lease was not released: %d queued", n)
		}
		st, _ := db.JobStats(context.Background(), 1, 0)
		if st.Queued != 1 || st.InProgress != 0 || st.Retry != 0 {
			t.Errorf("stats after shutdown: %+v", st)
		}
	})
}

func TestLongJobKeepsItsLease(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *sqlstore.DB) {
		ctx, cancel := context.WithCancel(context.Background())
		defer cancel()
		var runs atomic.Int64
		cfg := queue.DefaultConfig()
		cfg.Workers, cfg.Lease, cfg.PollInterval = 1, 600*time.Millisecond, 50*time.Millisecond
		handler := func(ctx context.Context, j *steward.Job) error {
			runs.Add(1)
			time.Sleep(1500 * time.Millisecond) // 2.5 leases long; heartbeats keep it
			return nil
		}
		// Two engines: the idle one must not rescue the busy one's job.
		var wg sync.WaitGroup
		for i := 0; i < 2; i++ {
			e := queue.New(db, handler, cfg)
			wg.Go(func() { e.Run(ctx) })
		}
		if err := db.EnqueueJobs(ctx, []steward.NewJob{{TenantID: 1, ActionID: 1}}); err != nil {
			t.Fatal(err)
		}
		deadline := time.Now().Add(10 * time.Second)
		for {
			st, _ := db.JobStats(ctx, 1, 0)
			if runs.Load() > 0 && st.Queued+st.InProgress == 0 {
				break
			}
			if time.Now().After(deadline) {
				t.Fatalf("job did not finish: %+v", st)
			}
			time.Sleep(20 * time.Millisecond)
		}
		cancel()
		wg.Wait()
		if n := runs.Load(); n != 1 {
			t.Errorf("a long job ran %d times, want once", n)
		}
	})
}

// failingFinish is a JobQueue whose FinishJobs fails a number of times,
// as it does while the database is unreachable.
type failingFinish struct {
	steward.JobQueue
	failures atomic.Int64
}

func (q *failingFinish) FinishJobs(ctx context.Context, worker string, done []int64, failed []steward.JobFailure) error {
	if q.failures.Add(-1) >= 0 {
		return errors.New("database unreachable")
	}
	return q.JobQueue.FinishJobs(ctx, worker, done, failed)
}

// TestUnrecordedOutcomeKeepsLease fails to record a job's outcome for many
// lease periods: the engine keeps the lease and retries recording, and the
// job, which ran, never runs again.
func TestUnrecordedOutcomeKeepsLease(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *sqlstore.DB) {
		ctx, cancel := context.WithCancel(context.Background())
		defer cancel()
		var runs atomic.Int64
		cfg := queue.DefaultConfig()
		cfg.Workers, cfg.Lease, cfg.PollInterval = 1, time.Second, 20*time.Millisecond
		cfg.Log = slog.New(slog.NewTextHandler(io.Discard, nil))
		q := &failingFinish{JobQueue: db}
		q.failures.Store(30) // 30 attempts up to Lease/6 apart: about 5 leases
		e := queue.New(q, func(ctx context.Context, j *steward.Job) error { runs.Add(1); return nil }, cfg)
		var wg sync.WaitGroup
		wg.Go(func() { e.Run(ctx) })
		if err := db.EnqueueJobs(ctx, []steward.NewJob{{TenantID: 1, ActionID: 1}}); err != nil {
			t.Fatal(err)
		}
		deadline := time.Now().Add(30 * time.Second)
		for {
			st, _ := db.JobStats(ctx, 1, 0)
			if runs.Load() > 0 && q.failures.Load() < 0 && st.Queued+st.InProgress+st.Retry == 0 {
				break
			}
			if time.Now().After(deadline) {
				t.Fatalf("job not recorded: %+v, %d failures left, %d runs", st, q.failures.Load(), runs.Load())
			}
			time.Sleep(20 * time.Millisecond)
		}
		cancel()
		wg.Wait()
		if n := runs.Load(); n != 1 {
			t.Errorf("a job whose outcome could not be recorded ran %d times, want once", n)
		}
	})
}

// recordingFinish is a JobQueue that remembers the ids FinishJobs was
// asked to complete.
type recordingFinish struct {
	steward.JobQueue
	mu   sync.Mutex
	done map[int64]bool
}

func (q *recordingFinish) FinishJobs(ctx context.Context, worker string, done []int64, failed []steward.JobFailure) error {
	q.mu.Lock()
	for _, id := range done {
		q.done[id] = true
	}
	q.mu.Unlock()
	return q.JobQueue.FinishJobs(ctx, worker, done, failed)
}

// lockedBuffer is a log sink safe for concurrent writes.
type lockedBuffer struct {
	mu  sync.Mutex
	buf []byte
}

func (b *lockedBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.buf = append(b.buf, p...)
	return len(p), nil
}

func (b *lockedBuffer) String() string { b.mu.Lock(); defer b.mu.Unlock(); return string(b.buf) }

// TestJobCompletedWithItsEvents runs jobs whose handler emits the job's
// events and then outlives several heartbeats: where the store completes
// the job with its events (a batching store), the engine does not finish
// it again and its heartbeat does not report the gone job as a lost
// lease; elsewhere the engine completes it. Either way every job runs
// once, its event reaches the receiver, and the counters add up.
func TestJobCompletedWithItsEvents(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *sqlstore.DB) {
		ctx, cancel := context.WithCancel(context.Background())
		defer cancel()
		tenant := newTenant(t, db, "t")
		src := newAction(t, db, tenant, "source")
		mid := newAction(t, db, tenant, "middle", src)
		recv := newAction(t, db, tenant, "receiver", mid)
		midAction, err := db.FindActionByID(ctx, tenant, mid)
		if err != nil {
			t.Fatal(err)
		}
		const n = 4
		var runs atomic.Int64
		var logs lockedBuffer
		cfg := queue.DefaultConfig()
		cfg.Workers, cfg.Lease, cfg.PollInterval = n, 300*time.Millisecond, 20*time.Millisecond
		cfg.Log = slog.New(slog.NewTextHandler(&logs, nil))
		q := &recordingFinish{JobQueue: db, done: map[int64]bool{}}
		var completed sync.Map // job id → the store completed it with its events
		handler := func(ctx context.Context, j *steward.Job) error {
			if j.ActionID != mid {
				return nil // the receiver's jobs
			}
			runs.Add(1)
			if _, err := db.EmitJobEvents(ctx, midAction, 1, []json.RawMessage{json.RawMessage(`{}`)}); err != nil {
				return err
			}
			completed.Store(j.ID, steward.JobCompletionFrom(ctx).Completed())
			time.Sleep(400 * time.Millisecond) // more than a lease: heartbeats run meanwhile
			return nil
		}
		payloads := make([]json.RawMessage, n)
		for i := range payloads {
			payloads[i] = json.RawMessage(`{}`)
		}
		srcAction, err := db.FindActionByID(ctx, tenant, src)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := db.EmitEvents(ctx, srcAction, payloads); err != nil {
			t.Fatal(err)
		}
		e := queue.New(q, handler, cfg)
		var wg sync.WaitGroup
		wg.Go(func() { e.Run(ctx) })
		deadline := time.Now().Add(20 * time.Second)
		for {
			st, _ := db.JobStats(ctx, tenant, 0)
			if runs.Load() == n && st.Queued+st.InProgress+st.Retry+st.Dead == 0 {
				break
			}
			if time.Now().After(deadline) {
				t.Fatalf("jobs not finished: %+v, %d runs", st, runs.Load())
			}
			time.Sleep(20 * time.Millisecond)
		}
		cancel()
		wg.Wait()
		if r := runs.Load(); r != n {
			t.Errorf("%d jobs ran %d times", n, r)
		}
		_, batched := db.Dialect.(sqlstore.EventBatchDialect)
		count := 0
		completed.Range(func(id, byStore any) bool {
			count++
			q.mu.Lock()
			finished := q.done[id.(int64)]
			q.mu.Unlock()
			if byStore.(bool) == finished || byStore.(bool) != batched {
				t.Errorf("job %d: completed with its events %v, finished by the engine %v (store batches emits: %v)", id, byStore, finished, batched)
			}
			return true
		})
		if count != n {
			t.Errorf("%d jobs ran, want %d", count, n)
		}
		if strings.Contains(logs.String(), "lease lost") {
			t.Errorf("the engine reported a lease lost:\n%s", logs.String())
		}
		for _, a := range []int64{mid, recv} {
			for _, s := range steward.JobStates {
				if c := countState(t, db, tenant, a, s); c != 0 {
					t.Errorf("action %d: %d jobs left %v", a, c, s)
				}
			}
		}
	})
}
