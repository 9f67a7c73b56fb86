package main

import (
	"context"
	"fmt"
	"log/slog"
	"os"
	"slices"
	"sync"
	"sync/atomic"
	"time"

	"github.com/steward-dev/steward"
	"github.com/steward-dev/steward/queue"
	"github.com/steward-dev/steward/sqlstore"
)

// stream keeps Steward's job engine working a second tenant's steady
// stream of no-op jobs, one job per enqueue call (as one event with one
// receiver enqueues one), and records when each job was enqueued and
// started, so the admin operations' effect on the workers can be read off.
type stream struct {
	db             *sqlstore.DB
	tenant, action int64 // the stream's; any other tenant's job that runs is a stray

	mu       sync.Mutex
	enqueued map[int64]time.Time // by the EventID each job carries
	started  []startRecord
	strays   atomic.Int64 // seeded jobs the engine ran (must stay 0)
	errs     atomic.Int64 // failed enqueue calls
	errOnce  sync.Once
	firstErr error
}

type startRecord struct {
	enqueued, started time.Time
}

// run starts the engine with workers workers and enqueues rate jobs/s
// until ctx ends; stop waits for both to end.
func (s *stream) run(ctx context.Context, workers, rate int) (stop func()) {
	s.enqueued = map[int64]time.Time{}
	cfg := queue.DefaultConfig()
	cfg.Workers = workers
	cfg.Clock = s.db.Clock
	// The engine's warnings and errors (failed fetches, finishes, releases)
	// go to stderr: they explain counters that do not add up.
	cfg.Log = slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelWarn}))
	e := queue.New(s.db, s.handle, cfg)
	ctx, cancel := context.WithCancel(ctx)
	var wg sync.WaitGroup
	wg.Go(func() { _ = e.Run(ctx) })
	wg.Go(func() { s.enqueue(ctx, rate) })
	return func() { cancel(); wg.Wait() }
}

func (s *stream) enqueue(ctx context.Context, rate int) {
	tick := time.NewTicker(time.Second / time.Duration(rate))
	defer tick.Stop()
	sem := make(chan struct{}, 256)
	var wg sync.WaitGroup
	defer wg.Wait()
	var seq int64
	for {
		select {
		case <-ctx.Done():
			return
		case <-tick.C:
		}
		seq++
		id := seq
		sem <- struct{}{}
		wg.Go(func() {
			defer func() { <-sem }()
			s.mu.Lock()
			s.enqueued[id] = time.Now()
			s.mu.Unlock()
			err := s.db.EnqueueJobs(ctx, []steward.NewJob{{TenantID: s.tenant, ActionID: s.action, EventID: id}})
			if err != nil && ctx.Err() == nil {
				s.errs.Add(1)
				s.errOnce.Do(func() { s.firstErr = err })
			}
		})
	}
}

func (s *stream) handle(_ context.Context, j *steward.Job) error {
	now := time.Now()
	if j.TenantID != s.tenant {
		s.strays.Add(1)
		return nil
	}
	s.mu.Lock()
	if t, ok := s.enqueued[j.EventID]; ok {
		s.started = append(s.started, startRecord{t, now})
	}
	s.mu.Unlock()
	return nil
}

// window describes the stream's jobs over [from, to): how many started per
// second, and the enqueue-to-start latencies of the jobs enqueued then.
type window struct {
	rate      float64
	p50, p99  time.Duration
	maxDelay  time.Duration
	enqueued  int
	unstarted int // enqueued in the window, not started by the time of reading
}

func (s *stream) window(from, to time.Time) window {
	s.mu.Lock()
	defer s.mu.Unlock()
	var w window
	var delays []time.Duration
	started := 0
	for _, r := range s.started {
		if !r.started.Before(from) && r.started.Before(to) {
			started++
		}
		if !r.enqueued.Before(from) && r.enqueued.Before(to) {
			delays = append(delays, r.started.Sub(r.enqueued))
		}
	}
	for _, t := range s.enqueued {
		if !t.Before(from) && t.Before(to) {
			w.enqueued++
		}
	}
	w.unstarted = w.enqueued - len(delays)
	w.rate = float64(started) / to.Sub(from).Seconds()
	slices.Sort(delays)
	w.p50, w.p99 = percentile(delays, 50), percentile(delays, 99)
	if len(delays) > 0 {
		w.maxDelay = delays[len(delays)-1]
	}
	return w
}

// check reports enqueue failures and seeded jobs the engine ran.
func (s *stream) check() error {
	if n := s.strays.Load(); n > 0 {
		return fmt.Errorf("the engine ran %d of the seeded tenant's jobs; none were due", n)
	}
	if n := s.errs.Load(); n > 0 {
		return fmt.Errorf("%d stream enqueues failed, the first: %v", n, s.firstErr)
	}
	return nil
}

// percentile returns the p-th percentile (0 < p <= 100) of sorted ds.
func percentile(ds []time.Duration, p float64) time.Duration {
	if len(ds) == 0 {
		return 0
	}
	i := int(float64(len(ds))*p/100+0.5) - 1
	return ds[min(max(i, 0), len(ds)-1)]
}

// timeCalls calls f n times in a row and returns the sorted durations.
func timeCalls(n int, f func() error) ([]time.Duration, error) {
	ds := make([]time.Duration, 0, n)
	for i := 0; i < n; i++ {
		start := time.Now()
		if err := f(); err != nil {
			return nil, err
		}
		ds = append(ds, time.Since(start))
	}
	slices.Sort(ds)
	return ds, nil
}
