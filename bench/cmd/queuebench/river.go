package main

import (
	"context"
	"database/sql"
	"fmt"
	"log/slog"
	"os"
	"slices"
	"sync"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/riverqueue/river"
	"github.com/riverqueue/river/riverdriver"
	"github.com/riverqueue/river/riverdriver/riverpgxv5"
	"github.com/riverqueue/river/riverdriver/riversqlite"
	"github.com/riverqueue/river/rivermigrate"
	_ "modernc.org/sqlite" // the "sqlite" database/sql driver River's SQLite driver runs on
)

// noopArgs is the benchmark's job: it carries a sequence number, as a
// real job carries a small payload, and its worker does nothing.
type noopArgs struct {
	N int `json:"n"`
}

// Kind implements river.JobArgs.
func (noopArgs) Kind() string { return "bench_noop" }

// latencyArgs is the latency run's job: it carries the time its enqueue
// began, so its worker can tell how long it waited.
type latencyArgs struct {
	EnqueuedAt int64 `json:"enqueued_at"` // Unix nanoseconds
}

// Kind implements river.JobArgs.
func (latencyArgs) Kind() string { return "bench_latency" }

// latencies collects enqueue-to-start latencies from workers.
type latencies struct {
	mu sync.Mutex
	d  []time.Duration
}

func (l *latencies) add(d time.Duration) {
	l.mu.Lock()
	l.d = append(l.d, d)
	l.mu.Unlock()
}

func (l *latencies) len() int {
	l.mu.Lock()
	defer l.mu.Unlock()
	return len(l.d)
}

// riverSystem is River on one of its drivers.
type riverSystem[TTx any] struct {
	driver  riverdriver.Driver[TTx]
	opts    Options
	log     *slog.Logger
	workers *river.Workers
	// countJobs returns the number of jobs in the table and how many of
	// them are completed.
	countJobs func(ctx context.Context) (total, completed int, err error)
	closeDB   func()
	worker    *river.Client[TTx] // the working client, stopped by Close
	latencies *latencies
}

func openRiverPostgres(ctx context.Context, o Options) (System, error) {
	pool, err := pgxpool.New(ctx, o.PostgresURL)
	if err != nil {
		return nil, fmt.Errorf("river-postgres: %w", err)
	}
	count := func(ctx context.Context) (total, completed int, err error) {
		err = pool.QueryRow(ctx, `SELECT COUNT(*), COUNT(*) FILTER (WHERE state = 'completed') FROM river_job`).Scan(&total, &completed)
		return total, completed, err
	}
	return newRiverSystem(ctx, riverpgxv5.New(pool), o, count, pool.Close)
}

func openRiverSQLite(ctx context.Context, o Options) (System, error) {
	// WAL and one connection, as River's SQLite driver documentation
	// advises: River's internal operations run in parallel and SQLite
	// allows one writer.
	db, err := sql.Open("sqlite", "file:"+o.SQLitePath+
		"?_pragma=journal_mode(WAL)&_pragma=busy_timeout(10000)&_pragma=synchronous(NORMAL)")
	if err != nil {
		return nil, fmt.Errorf("river-sqlite: %w", err)
	}
	db.SetMaxOpenConns(1)
	count := func(ctx context.Context) (total, completed int, err error) {
		err = db.QueryRowContext(ctx, `SELECT COUNT(*), COUNT(*) FILTER (WHERE state = 'completed') FROM river_job`).Scan(&total, &completed)
		return total, completed, err
	}
	return newRiverSystem(ctx, riversqlite.New(db), o, count, func() { db.Close() })
}

func newRiverSystem[TTx any](ctx context.Context, d riverdriver.Driver[TTx], o Options,
	count func(context.Context) (int, int, error), closeDB func()) (*riverSystem[TTx], error) {
	migrator, err := rivermigrate.New(d, nil)
	if err != nil {
		closeDB()
		return nil, err
	}
	if _, err := migrator.Migrate(ctx, rivermigrate.DirectionUp, nil); err != nil {
		closeDB()
		return nil, fmt.Errorf("river migrate: %w", err)
	}
	workers := river.NewWorkers()
	river.AddWorker(workers, river.WorkFunc(func(context.Context, *river.Job[noopArgs]) error { return nil }))
	lat := &latencies{}
	river.AddWorker(workers, river.WorkFunc(func(_ context.Context, j *river.Job[latencyArgs]) error {
		lat.add(time.Since(time.Unix(0, j.Args.EnqueuedAt)))
		return nil
	}))
	log := slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelWarn}))
	return &riverSystem[TTx]{driver: d, opts: o, log: log, workers: workers, countJobs: count, closeDB: closeDB, latencies: lat}, nil
}

// Insert uses River's fastest bulk path, InsertManyFast, from a client
// that does not work jobs.
func (s *riverSystem[TTx]) Insert(ctx context.Context, n int) error {
	client, err := river.NewClient(s.driver, &river.Config{Logger: s.log, Workers: s.workers})
	if err != nil {
		return err
	}
	params := make([]river.InsertManyParams, s.opts.Batch)
	for done := 0; done < n; {
		b := min(s.opts.Batch, n-done)
		for i := range b {
			params[i].Args = noopArgs{N: done + i + 1}
		}
		if _, err := client.InsertManyFast(ctx, params[:b]); err != nil {
			return fmt.Errorf("insert jobs %d-%d: %w", done+1, done+b, err)
		}
		done += b
	}
	return nil
}

// Work starts a client with Options.Workers workers and counts completion
// events, which River sends after the completer has committed a job's new
// state. The fetch settings are those River's own benchmark uses: River's
// defaults (100 ms cooldown, 1 s poll) cap throughput far lower.
func (s *riverSystem[TTx]) Work(ctx context.Context, n int) error {
	client, err := river.NewClient(s.driver, &river.Config{
		Logger:            s.log,
		Workers:           s.workers,
		FetchCooldown:     2 * time.Millisecond,
		FetchPollInterval: 20 * time.Millisecond,
		Queues:            map[string]river.QueueConfig{river.QueueDefault: {MaxWorkers: s.opts.Workers}},
	})
	if err != nil {
		return err
	}
	events, cancel := client.SubscribeConfig(&river.SubscribeConfig{
		ChanSize: n + 1000, // never drop an event: the count must be exact
		Kinds:    []river.EventKind{river.EventKindJobCompleted, river.EventKindJobFailed, river.EventKindJobCancelled},
	})
	defer cancel()
	if err := client.Start(ctx); err != nil {
		return err
	}
	s.worker = client
	for done := 0; done < n; {
		select {
		case <-ctx.Done():
			return fmt.Errorf("after %d of %d jobs: %w", done, n, ctx.Err())
		case ev := <-events:
			if ev == nil {
				return fmt.Errorf("after %d of %d jobs: the event subscription closed", done, n)
			}
			if ev.Kind != river.EventKindJobCompleted {
				return fmt.Errorf("job %d: unexpected event %s", ev.Job.ID, ev.Kind)
			}
			done++
		}
	}
	return nil
}

// Latency implements LatencySystem: the client Work started keeps working
// while single jobs are inserted through it at the given rate.
func (s *riverSystem[TTx]) Latency(ctx context.Context, rate int, d time.Duration) ([]time.Duration, error) {
	if s.worker == nil {
		return nil, fmt.Errorf("latency: Work must run first")
	}
	base := s.latencies.len()
	sent, err := atRate(ctx, rate, d, func(ctx context.Context) error {
		_, err := s.worker.Insert(ctx, latencyArgs{EnqueuedAt: time.Now().UnixNano()}, nil)
		return err
	})
	if err != nil {
		return nil, fmt.Errorf("latency: insert: %w", err)
	}
	for s.latencies.len()-base < sent {
		select {
		case <-ctx.Done():
			return nil, fmt.Errorf("latency: %d of %d jobs started: %w", s.latencies.len()-base, sent, ctx.Err())
		case <-time.After(10 * time.Millisecond):
		}
	}
	s.latencies.mu.Lock()
	defer s.latencies.mu.Unlock()
	return slices.Clone(s.latencies.d), nil
}

// Verify implements System.
func (s *riverSystem[TTx]) Verify(ctx context.Context, n int) error {
	total, completed, err := s.countJobs(ctx)
	if err != nil {
		return err
	}
	if total != n || completed != n {
		return fmt.Errorf("river_job holds %d jobs, %d completed; want %d and %d", total, completed, n, n)
	}
	return nil
}

// Close implements System.
func (s *riverSystem[TTx]) Close() error {
	var err error
	if s.worker != nil {
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		err = s.worker.Stop(ctx)
	}
	s.closeDB()
	return err
}
