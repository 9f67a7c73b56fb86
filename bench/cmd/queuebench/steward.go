package main

import (
	"context"
	"fmt"
	"sync"
	"sync/atomic"
	"time"

	"github.com/steward-dev/steward"
	"github.com/steward-dev/steward/postgres"
	"github.com/steward-dev/steward/queue"
	"github.com/steward-dev/steward/sqlite"
	"github.com/steward-dev/steward/sqlstore"
)

func init() {
	systems["steward-postgres"] = opener{"postgres", func(ctx context.Context, o Options) (System, error) {
		db, err := postgres.Open(ctx, o.PostgresURL)
		if err != nil {
			return nil, fmt.Errorf("steward-postgres: %w", err)
		}
		return newStewardSystem(ctx, db, o)
	}}
	systems["steward-sqlite"] = opener{"sqlite", func(ctx context.Context, o Options) (System, error) {
		db, err := sqlite.Open(o.SQLitePath)
		if err != nil {
			return nil, fmt.Errorf("steward-sqlite: %w", err)
		}
		return newStewardSystem(ctx, db, o)
	}}
}

// Jobs of the benchmark belong to one tenant and action; the queue needs
// no tenant or action rows to work them.
const benchTenant, benchAction = 1, 1

// stewardSystem drives Steward's job engine (package queue) over its SQL
// store, the way `steward serve` does, with a no-op handler.
type stewardSystem struct {
	db   *sqlstore.DB
	opts Options
	runs atomic.Int64 // handler calls

	// Latency: the enqueue time of each job, keyed by the EventID it
	// carries (the queue stores it as given), and the measured delays.
	mu       sync.Mutex
	enqueued map[int64]time.Time
	delays   []time.Duration
	seq      atomic.Int64 // the last EventID used
}

func newStewardSystem(ctx context.Context, db *sqlstore.DB, o Options) (*stewardSystem, error) {
	if err := db.Migrate(ctx, nil); err != nil {
		db.Close()
		return nil, fmt.Errorf("steward migrate: %w", err)
	}
	return &stewardSystem{db: db, opts: o, enqueued: map[int64]time.Time{}}, nil
}

func (s *stewardSystem) Insert(ctx context.Context, n int) error {
	batch := make([]steward.NewJob, 0, s.opts.Batch)
	for i := 0; i < n; i++ {
		batch = append(batch, steward.NewJob{TenantID: benchTenant, ActionID: benchAction})
		if len(batch) == s.opts.Batch || i == n-1 {
			if err := s.db.EnqueueJobs(ctx, batch); err != nil {
				return err
			}
			batch = batch[:0]
		}
	}
	return nil
}

// engine starts the job engine with s's handler; stop ends it gracefully.
func (s *stewardSystem) engine(ctx context.Context) (stop func()) {
	cfg := queue.DefaultConfig()
	cfg.Workers = s.opts.Workers
	cfg.Clock = s.db.Clock
	e := queue.New(s.db, s.handle, cfg)
	ctx, cancel := context.WithCancel(ctx)
	done := make(chan struct{})
	go func() {
		defer close(done)
		_ = e.Run(ctx)
	}()
	return func() { cancel(); <-done }
}

func (s *stewardSystem) handle(_ context.Context, j *steward.Job) error {
	s.runs.Add(1)
	if j.EventID != 0 {
		now := time.Now()
		s.mu.Lock()
		if t, ok := s.enqueued[j.EventID]; ok {
			s.delays = append(s.delays, now.Sub(t))
		}
		s.mu.Unlock()
	}
	return nil
}

// Work runs the engine until the tenant has no queued or running jobs left;
// the engine deletes a job in the same transaction that records it done.
func (s *stewardSystem) Work(ctx context.Context, n int) error {
	stop := s.engine(ctx)
	defer stop()
	for {
		st, err := s.db.JobStats(ctx, benchTenant, 0)
		if err != nil {
			return err
		}
		if st.Queued == 0 && st.InProgress == 0 && st.Retry == 0 {
			return nil
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(5 * time.Millisecond):
		}
	}
}

// Verify checks that every job ran and none is left: Steward keeps no
// completed rows, so the table must be empty and the handler called n times.
func (s *stewardSystem) Verify(ctx context.Context, n int) error {
	var left int
	if err := s.db.Read.QueryRowContext(ctx, `SELECT COUNT(*) FROM jobs`).Scan(&left); err != nil {
		return err
	}
	if runs := s.runs.Load(); left != 0 || runs != int64(n) {
		return fmt.Errorf("steward: %d jobs left in the table, %d runs; want 0 and %d", left, runs, n)
	}
	return nil
}

func (s *stewardSystem) Latency(ctx context.Context, rate int, d time.Duration) ([]time.Duration, error) {
	stop := s.engine(ctx)
	defer stop()
	s.mu.Lock()
	base := len(s.delays)
	s.mu.Unlock()
	sent, err := atRate(ctx, rate, d, func(ctx context.Context) error {
		id := s.seq.Add(1)
		s.mu.Lock()
		s.enqueued[id] = time.Now()
		s.mu.Unlock()
		return s.db.EnqueueJobs(ctx, []steward.NewJob{{TenantID: benchTenant, ActionID: benchAction, EventID: id}})
	})
	if err != nil {
		return nil, err
	}
	deadline := time.Now().Add(30 * time.Second)
	for {
		s.mu.Lock()
		got := len(s.delays)
		s.mu.Unlock()
		if got-base >= sent || time.Now().After(deadline) {
			break
		}
		time.Sleep(10 * time.Millisecond)
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if len(s.delays)-base < sent {
		return nil, fmt.Errorf("steward: %d of %d latency jobs started within 30 s", len(s.delays)-base, sent)
	}
	return append([]time.Duration(nil), s.delays...), nil
}

func (s *stewardSystem) Close() error { return s.db.Close() }
