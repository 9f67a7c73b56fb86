package queue

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	mrand "math/rand/v2"
	"os"
	"runtime/debug"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/steward-dev/steward"
)

// Handler runs one job. A nil error completes it (it leaves the queue); an
// error fails it (it is retried, or dies). ctx ends when the engine shuts
// down past its timeout or loses the job's lease.
type Handler func(ctx context.Context, job *steward.Job) error

// ErrorClasser lets an error name its class for the job's error_class
// (as Tines shows "Faraday::ConnectionFailed"); others use the Go type.
type ErrorClasser interface {
	ErrorClass() string
}

// Permanent lets an error say that running the job again cannot help (a
// refused destination, an invalid URL): the job goes to the dead set at
// once instead of being retried.
type Permanent interface {
	Permanent() bool
}

// IsPermanent reports whether an error in err's chain says it is permanent.
func IsPermanent(err error) bool {
	var p Permanent
	return errors.As(err, &p) && p.Permanent()
}

// Engine runs jobs from a JobQueue. Create it with New and call Run.
type Engine struct {
	q      steward.JobQueue
	h      Handler
	cfg    Config
	worker string

	mu       sync.Mutex
	inflight map[int64]*running
	// reserved are workers promised to new jobs a store is writing
	// (ReserveJobs), and waiting whether the fetch loop found the queue
	// empty and waits for jobs: only then may a new job skip the queue.
	reserved  int
	waiting   bool
	freed     chan struct{}
	deadAdded chan struct{}
	retried   chan struct{} // a retry was scheduled: recompute the next due time
	stopping  atomic.Bool

	jobs    chan *steward.Job
	results chan result
	failLog *failureLog
}

type running struct {
	job     *steward.Job
	started bool
	lost    bool
	cancel  context.CancelFunc
	// completion is the job's offer to the store (steward.JobCompletion):
	// once the store completed the job with its events, the job is no
	// longer leased and the heartbeat leaves it alone.
	completion *steward.JobCompletion
}

type result struct {
	job        *steward.Job
	err        error
	dur        time.Duration
	actionType string // as the handler reported it (report.go)
	completed  bool   // the store completed the job with its last write
}

// New returns an engine that runs jobs from q with h.
func New(q steward.JobQueue, h Handler, cfg Config) *Engine {
	cfg.fill()
	b := make([]byte, 6)
	rand.Read(b)
	host, _ := os.Hostname()
	return &Engine{
		q: q, h: h, cfg: cfg,
		worker:    fmt.Sprintf("%s:%d:%s", steward.Truncate(host, 40), os.Getpid(), hex.EncodeToString(b)),
		inflight:  map[int64]*running{},
		freed:     make(chan struct{}, 1),
		deadAdded: make(chan struct{}, 1),
		retried:   make(chan struct{}, 1),
		jobs:      make(chan *steward.Job, cfg.Workers+cfg.Prefetch),
		results:   make(chan result, cfg.Workers+cfg.Prefetch),
		failLog:   newFailureLog(cfg.Log, cfg.Clock, cfg.FailureLogInterval),
	}
}

// WorkerID is the name this engine leases jobs under.
func (e *Engine) WorkerID() string { return e.worker }

// Run works jobs until ctx ends, then shuts down gracefully: it stops
// fetching, returns jobs it leased but did not start, lets running jobs
// finish for up to ShutdownTimeout, cancels the rest and returns their
// leases, so other engines pick them up at once.
func (e *Engine) Run(ctx context.Context) error {
	jobCtx, cancelJobs := context.WithCancel(context.WithoutCancel(ctx))
	defer cancelJobs()
	bg, stopBG := context.WithCancel(context.WithoutCancel(ctx))
	defer stopBG()

	var bgwg, compwg, maintwg, workwg sync.WaitGroup
	bgwg.Go(func() { e.heartbeat(bg) })
	bgwg.Go(func() {
		if err := e.q.WatchJobs(bg); err != nil {
			e.cfg.Log.Warn("job wake-ups unavailable; polling", "error", err)
		}
	})
	compwg.Go(e.complete)
	maintwg.Go(func() { e.maintain(ctx) })
	for i := 0; i < e.cfg.Workers; i++ {
		workwg.Go(func() { e.work(jobCtx) })
	}
	stopHandoff := func() {}
	if h, ok := e.q.(steward.JobHandoff); ok {
		stopHandoff = h.HandNewJobsTo(e)
	}
	e.fetch(ctx)

	stopHandoff()
	e.mu.Lock()
	e.stopping.Store(true)
	close(e.jobs) // under mu: TakeJobs sends only while not stopping
	e.mu.Unlock()
	done := make(chan struct{})
	go func() { workwg.Wait(); close(done) }()
	select {
	case <-done:
	case <-time.After(e.cfg.ShutdownTimeout):
		e.cfg.Log.Warn("shutdown timeout: cancelling running jobs")
		cancelJobs()
		<-done
	}
	close(e.results)
	compwg.Wait()
	maintwg.Wait()

	e.mu.Lock()
	ids := make([]int64, 0, len(e.inflight))
	for id := range e.inflight {
		ids = append(ids, id)
	}
	e.mu.Unlock()
	rctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 10*time.Second)
	defer cancel()
	var err error
	if len(ids) > 0 {
		if err = e.q.ReleaseJobs(rctx, e.worker, ids); err != nil {
			e.cfg.Log.Error("release leases at shutdown", "error", err, "jobs", len(ids))
		}
	}
	stopBG()
	bgwg.Wait()
	return err
}

// fetch leases batches of due jobs while there is room, until ctx ends.
func (e *Engine) fetch(ctx context.Context) {
	capacity := e.cfg.Workers + e.cfg.Prefetch
	errDelay := 50 * time.Millisecond
	for ctx.Err() == nil {
		e.mu.Lock()
		free := capacity - len(e.inflight) - e.reserved
		e.mu.Unlock()
		if free <= 0 {
			select {
			case <-ctx.Done():
			case <-e.freed:
			}
			continue
		}
		want := min(free, e.cfg.FetchBatch)
		wake := e.q.JobsAvailable()
		fetched := time.Now()
		// Not ctx: a fetch that committed must hand its jobs to workers.
		jobs, err := e.q.FetchJobs(context.WithoutCancel(ctx), e.worker, want, e.cfg.Lease)
		if err != nil {
			e.cfg.Log.Error("fetch jobs", "error", err)
			sleep(ctx, errDelay)
			errDelay = min(2*errDelay, 5*time.Second)
			continue
		}
		errDelay = 50 * time.Millisecond
		e.countStarts("fetch", len(jobs))
		e.mu.Lock()
		for _, j := range jobs {
			e.inflight[j.ID] = &running{job: j}
		}
		e.mu.Unlock()
		for _, j := range jobs {
			e.jobs <- j
		}
		if len(jobs) < want {
			e.setWaiting(true)
			e.idle(ctx, wake, fetched)
			e.setWaiting(false)
		}
	}
}

// countStarts counts jobs leased to the engine, by how they came: a fetch,
// or handed over as they were created (TakeJobs).
func (e *Engine) countStarts(via string, n int) {
	if e.cfg.Metrics != nil && n > 0 {
		e.cfg.Metrics.Add("steward_jobs_leased_total", "Jobs leased to this server's workers, by how: fetched from the queue, "+
			"or handed over as they were created while a worker was idle.", float64(n), "via", via)
	}
}

func (e *Engine) setWaiting(w bool) {
	e.mu.Lock()
	e.waiting = w
	e.mu.Unlock()
}

// TakerLease implements steward.JobTaker.
func (e *Engine) TakerLease() (string, time.Duration) { return e.worker, e.cfg.Lease }

// ReserveJobs implements steward.JobTaker: it reserves idle workers, and
// none while queued jobs may be waiting (the fetch loop is not waiting for
// jobs) or the engine stops.
func (e *Engine) ReserveJobs(n int) int {
	e.mu.Lock()
	defer e.mu.Unlock()
	if !e.waiting || e.stopping.Load() {
		return 0
	}
	n = max(0, min(n, e.cfg.Workers-len(e.inflight)-e.reserved))
	e.reserved += n
	return n
}

// TakeJobs implements steward.JobTaker: the jobs go to the workers as
// fetched jobs do. Jobs that arrive as the engine stops are released.
func (e *Engine) TakeJobs(jobs []*steward.Job, reserved int) {
	var release []int64
	e.mu.Lock()
	e.reserved -= reserved
	for _, j := range jobs {
		if e.stopping.Load() {
			release = append(release, j.ID)
			continue
		}
		select {
		case e.jobs <- j: // never blocks: jobs holds Workers+Prefetch, more than reserved
			e.inflight[j.ID] = &running{job: j}
		default:
			release = append(release, j.ID)
		}
	}
	e.mu.Unlock()
	e.signalFreed()
	e.countStarts("handover", len(jobs)-len(release))
	if len(release) > 0 {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		if err := e.q.ReleaseJobs(ctx, e.worker, release); err != nil {
			e.cfg.Log.Error("release jobs handed over while stopping; they run again when their leases expire", "error", err, "jobs", len(release))
		}
	}
}

// idle waits for a wake-up, the next due job or the poll interval; after
// a timeout it moves due retries and expired leases back to the queue.
// fetched is when the last fetch began: after a wake-up the next one waits
// until FetchCooldown after it, so that a stream of single enqueues is
// leased a few at a time.
func (e *Engine) idle(ctx context.Context, wake <-chan struct{}, fetched time.Time) {
	cooldown := func() {
		if rest := e.cfg.FetchCooldown - time.Since(fetched); rest > 0 {
			sleep(ctx, rest)
		}
	}
	select {
	case <-wake: // jobs came while fetching: no need to look for the next due one
		cooldown()
		return
	default:
	}
	d := e.cfg.PollInterval
	if next, err := e.q.NextDue(ctx); err == nil && next != nil {
		d = min(d, max(next.Sub(e.cfg.Clock.Now()), 5*time.Millisecond))
	}
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
	case <-wake:
		cooldown()
	case <-e.retried:
	case <-t.C:
		if _, err := e.q.RescueJobs(ctx, 1000); err != nil && ctx.Err() == nil {
			e.cfg.Log.Error("move due jobs", "error", err)
		}
	}
}

// work runs jobs from the channel until it is closed.
func (e *Engine) work(jobCtx context.Context) {
	for j := range e.jobs {
		ctx, cancel := context.WithCancel(jobCtx)
		e.mu.Lock()
		r := e.inflight[j.ID]
		ok := r != nil && !r.lost && !e.stopping.Load()
		comp := &steward.JobCompletion{JobID: j.ID, Worker: e.worker}
		if ok {
			r.started, r.cancel, r.completion = true, cancel, comp
		}
		e.mu.Unlock()
		if !ok {
			cancel()
			continue
		}
		ctx, rep := withReport(ctx)
		ctx = steward.WithJobCompletion(ctx, comp)
		start := time.Now()
		err := e.call(ctx, j)
		cancel()
		completed := comp.Completed()
		if completed {
			err = nil // the store recorded it done: nothing can fail it now
		}
		if err != nil && jobCtx.Err() != nil {
			continue // interrupted by shutdown: its lease is released
		}
		e.results <- result{job: j, err: err, dur: time.Since(start), actionType: rep.actionType, completed: completed}
	}
}

// call runs the handler, turning a panic into an error.
func (e *Engine) call(ctx context.Context, j *steward.Job) (err error) {
	defer func() {
		if v := recover(); v != nil {
			e.cfg.Log.Error("job panicked", "job_id", j.ID, "panic", fmt.Sprint(v), "stack", string(debug.Stack()))
			err = fmt.Errorf("panic: %v", v)
		}
	}()
	return e.h(ctx, j)
}

// complete records outcomes in batches until the results channel closes.
func (e *Engine) complete() {
	for r := range e.results {
		batch := []result{r}
	drain:
		for len(batch) < 1000 {
			select {
			case r, ok := <-e.results:
				if !ok {
					break drain
				}
				batch = append(batch, r)
			default:
				break drain
			}
		}
		e.finish(batch)
	}
}

// finish writes one batch of outcomes. While the database cannot take
// them it keeps trying, and keeps the jobs' leases alive meanwhile (the
// heartbeat renews every job the engine holds), so that a job that ran is
// not run again because its outcome was not recorded. It stops trying for
// a job whose lease was lost (the store would discard its outcome), and at
// shutdown after ShutdownTimeout, leaving such jobs leased: they run again
// only once their lease has expired.
func (e *Engine) finish(batch []result) {
	delay := 50 * time.Millisecond
	var giveUp time.Time
	for {
		done, failed, dead := e.outcomes(batch)
		err := e.q.FinishJobs(context.Background(), e.worker, done, failed)
		if err == nil {
			e.forget(batch)
			e.logFailures(batch, failed)
			if len(failed) > 0 {
				select {
				case e.retried <- struct{}{}:
				default:
				}
			}
			if dead {
				select {
				case e.deadAdded <- struct{}{}:
				default:
				}
			}
			e.record(batch, failed)
			return
		}
		e.cfg.Log.Error("record job outcomes; keeping their leases and trying again", "error", err, "jobs", len(batch))
		batch = e.stillHeld(batch)
		if len(batch) == 0 {
			return
		}
		if e.stopping.Load() {
			if giveUp.IsZero() {
				giveUp = time.Now().Add(e.cfg.ShutdownTimeout)
			} else if time.Now().After(giveUp) {
				e.cfg.Log.Error("shutting down with job outcomes unrecorded; the jobs run again when their leases expire", "jobs", len(batch))
				e.forget(batch)
				return
			}
		}
		time.Sleep(delay)
		// At least twice per heartbeat, so that a short outage costs no
		// more than a moment once the database is back.
		delay = min(2*delay, max(e.cfg.Lease/6, 50*time.Millisecond), 5*time.Second)
	}
}

// outcomes splits a batch into completed job ids and failures decided now.
func (e *Engine) outcomes(batch []result) (done []int64, failed []steward.JobFailure, dead bool) {
	now := e.cfg.Clock.Now()
	for _, r := range batch {
		if r.completed {
			continue // completed by the store with its events
		}
		if r.err == nil {
			done = append(done, r.job.ID)
			continue
		}
		f := e.cfg.Failure(r.job, r.err, now)
		dead = dead || f.Dead
		failed = append(failed, f)
	}
	return done, failed, dead
}

// logFailures hands each recorded failure, with its job, to the
// rate-limited failure log; failed holds the batch's failures in order.
func (e *Engine) logFailures(batch []result, failed []steward.JobFailure) {
	i := 0
	for _, r := range batch {
		if r.err != nil && i < len(failed) {
			e.failLog.record(r.job, failed[i])
			i++
		}
	}
}

// stillHeld returns the results whose jobs' leases the engine still
// holds, forgetting the others.
func (e *Engine) stillHeld(batch []result) []result {
	var held, lost []result
	e.mu.Lock()
	for _, r := range batch {
		if ir := e.inflight[r.job.ID]; ir != nil && !ir.lost {
			held = append(held, r)
		} else {
			lost = append(lost, r)
		}
	}
	e.mu.Unlock()
	if len(lost) > 0 {
		e.forget(lost)
	}
	return held
}

// forget drops finished jobs from the engine's books, freeing their slots.
func (e *Engine) forget(batch []result) {
	e.mu.Lock()
	for _, r := range batch {
		delete(e.inflight, r.job.ID)
	}
	e.mu.Unlock()
	e.signalFreed()
}

func (e *Engine) signalFreed() {
	select {
	case e.freed <- struct{}{}:
	default:
	}
}

// Failure decides a failed job's fate at now: retry after Backoff, or
// dead once it has been retried MaxRetries times or at once when the error
// is permanent.
func (c Config) Failure(j *steward.Job, err error, now time.Time) steward.JobFailure {
	f := steward.JobFailure{ID: j.ID, ErrorClass: errorClass(err), ErrorMessage: err.Error(), RunAt: now}
	if j.RetryCount >= c.MaxRetries || IsPermanent(err) {
		f.Dead = true
		return f
	}
	jitter := c.Jitter
	if jitter == nil {
		jitter = func(n int) int { return mrand.IntN(n) }
	}
	f.RunAt = now.Add(Backoff(j.RetryCount, c.BackoffScale, jitter))
	return f
}

// errorClass names an error's class: its own name, or its Go type.
func errorClass(err error) string {
	var c ErrorClasser
	if errors.As(err, &c) {
		return c.ErrorClass()
	}
	if errors.Is(err, context.DeadlineExceeded) {
		return "Timeout"
	}
	return strings.TrimPrefix(fmt.Sprintf("%T", err), "*")
}

// record updates metrics for a written batch.
func (e *Engine) record(batch []result, failed []steward.JobFailure) {
	m := e.cfg.Metrics
	if m == nil {
		return
	}
	dead := 0
	for _, f := range failed {
		if f.Dead {
			dead++
		}
	}
	const outcomes = "Jobs finished, by outcome."
	m.Add("steward_jobs_finished_total", outcomes, float64(len(batch)-len(failed)), "outcome", "completed")
	m.Add("steward_jobs_finished_total", outcomes, float64(len(failed)-dead), "outcome", "retry")
	m.Add("steward_jobs_finished_total", outcomes, float64(dead), "outcome", "dead")
	failedByID := make(map[int64]bool, len(failed))
	for _, f := range failed {
		failedByID[f.ID] = f.Dead
	}
	for _, r := range batch {
		m.Observe("steward_job_duration_seconds", "How long jobs ran, by kind.", r.dur.Seconds(), "kind", r.job.Kind)
		outcome := "completed"
		if dead, ok := failedByID[r.job.ID]; ok {
			outcome = "retry"
			if dead {
				outcome = "dead"
			}
		}
		m.Add("steward_job_outcomes_total", "Jobs finished, by kind (AgentReceiveJob: an event reached the action; AgentCheckJob: a manual run), "+
			"action type (unknown: the action was gone or failed to load) and outcome.",
			1, "kind", r.job.Kind, "action_type", r.actionType, "outcome", outcome)
	}
}

// heartbeat renews the leases of every job this engine holds, and cancels
// jobs whose lease was lost (so a job never runs in two places knowingly).
func (e *Engine) heartbeat(ctx context.Context) {
	t := time.NewTicker(e.cfg.Lease / 3)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
		e.mu.Lock()
		ids := make([]int64, 0, len(e.inflight))
		for id, r := range e.inflight {
			if !r.completion.Completed() {
				ids = append(ids, id)
			}
		}
		e.mu.Unlock()
		if len(ids) == 0 {
			continue
		}
		held, err := e.q.ExtendLeases(ctx, e.worker, ids, e.cfg.Clock.Now().Add(e.cfg.Lease))
		if err != nil {
			if ctx.Err() == nil {
				e.cfg.Log.Error("renew job leases", "error", err)
			}
			continue
		}
		if len(held) == len(ids) {
			continue
		}
		still := make(map[int64]bool, len(held))
		for _, id := range held {
			still[id] = true
		}
		e.mu.Lock()
		for _, id := range ids {
			r := e.inflight[id]
			if r == nil || still[id] || r.lost || r.completion.Pending() {
				continue
			}
			e.cfg.Log.Warn("job lease lost", "job_id", id)
			r.lost = true
			if !r.started {
				delete(e.inflight, id) // never started: just let it go
				continue
			}
			// Running: stop it; its outcome is discarded by the store.
			r.cancel()
		}
		e.mu.Unlock()
		e.signalFreed()
	}
}

// maintain rescues expired leases and due retries regularly, and trims
// dead jobs after deaths and every minute, until ctx ends.
func (e *Engine) maintain(ctx context.Context) {
	rescue := time.NewTicker(min(e.cfg.Lease/2, 5*time.Second))
	defer rescue.Stop()
	trim := time.NewTicker(time.Minute)
	defer trim.Stop()
	e.rescue(ctx)
	var lastTrim time.Time
	for {
		select {
		case <-ctx.Done():
			return
		case <-rescue.C:
			e.rescue(ctx)
		case <-trim.C:
			e.trim(ctx)
			lastTrim = time.Now()
		case <-e.deadAdded:
			// Trim after deaths, at most once a second.
			if time.Since(lastTrim) >= time.Second {
				e.trim(ctx)
				lastTrim = time.Now()
			}
		}
	}
}

func (e *Engine) rescue(ctx context.Context) {
	for ctx.Err() == nil {
		n, err := e.q.RescueJobs(ctx, 1000)
		if err != nil {
			if ctx.Err() == nil {
				e.cfg.Log.Error("rescue jobs", "error", err)
			}
			return
		}
		if n < 1000 {
			return
		}
	}
}

func (e *Engine) trim(ctx context.Context) {
	for ctx.Err() == nil {
		n, err := e.q.TrimDeadJobs(ctx, e.cfg.DeadMax, e.cfg.Clock.Now().Add(-e.cfg.DeadMaxAge), 5000)
		if err != nil {
			if ctx.Err() == nil {
				e.cfg.Log.Error("trim dead jobs", "error", err)
			}
			return
		}
		if n < 5000 {
			return
		}
	}
}

func sleep(ctx context.Context, d time.Duration) {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
	case <-t.C:
	}
}
