// Package queue is Steward's job engine: it leases due jobs from the
// database in batches, runs them on a pool of workers, records outcomes in
// batches, keeps leases alive with heartbeats, retries failures with
// Sidekiq's backoff, and maintains the queue (expired leases, due retries,
// dead-job retention). Several engines, in one process or many, may share
// a PostgreSQL database.
//
// Driving the engine from a program (a benchmark, say):
//
//	db, _ := sqlite.Open(path) // or postgres.Open(ctx, url)
//	_ = db.Migrate(ctx, nil)
//	batch := make([]steward.NewJob, 1000) // any positive tenant and action ids
//	for i := range batch {
//		batch[i] = steward.NewJob{TenantID: 1, ActionID: 1}
//	}
//	_ = db.EnqueueJobs(ctx, batch) // one transaction per call
//	cfg := queue.DefaultConfig()
//	cfg.Workers = 100
//	engine := queue.New(db, func(ctx context.Context, j *steward.Job) error { return nil }, cfg)
//	go engine.Run(ctx) // until ctx ends, then a graceful shutdown
//	// done when db.JobStats(ctx, 1, 0) shows Queued+InProgress == 0
package queue

import (
	"fmt"
	"log/slog"
	"os"
	"strconv"
	"time"

	"github.com/steward-dev/steward"
	"github.com/steward-dev/steward/metrics"
)

// Config tunes an Engine. Start from DefaultConfig.
type Config struct {
	// Workers is how many jobs run at once.
	Workers int
	// Prefetch is how many more jobs than Workers may be leased and waiting
	// in memory, so that short jobs are fetched in large batches.
	Prefetch int
	// FetchBatch caps how many jobs one fetch leases.
	FetchBatch int
	// Lease is how long a fetched job belongs to this engine; heartbeats
	// renew it every Lease/3. A job whose lease expires runs again.
	Lease time.Duration
	// MaxRetries is how many times a failing job is retried before it dies.
	MaxRetries int
	// BackoffScale multiplies every retry delay (0.001 for tests and demos).
	BackoffScale float64
	// DeadMax and DeadMaxAge bound each tenant's dead jobs.
	DeadMax    int64
	DeadMaxAge time.Duration
	// PollInterval is how often an idle engine looks for due jobs without
	// having been woken.
	PollInterval time.Duration
	// FetchCooldown is the least time from the start of one fetch to the
	// start of the next one that a wake-up asks for, so that a stream of
	// single enqueues is leased in small batches rather than one statement
	// per job.
	FetchCooldown time.Duration
	// ShutdownTimeout is how long running jobs may finish after Run's
	// context ends before their leases are released.
	ShutdownTimeout time.Duration
	// Jitter returns a random int in [0, n); nil uses math/rand.
	Jitter func(n int) int
	// FailureLogInterval limits failure logging: per action, one failing
	// job (and one dying job) is logged per interval; the next record
	// counts those left out. 0 uses the default, a minute.
	FailureLogInterval time.Duration

	Log     *slog.Logger
	Clock   steward.Clock
	Metrics *metrics.Registry
}

// DefaultConfig returns the documented defaults (Sidekiq's retry policy).
func DefaultConfig() Config {
	return Config{
		Workers:         10,
		FetchBatch:      1000,
		Lease:           30 * time.Second,
		MaxRetries:      25,
		BackoffScale:    1,
		DeadMax:         10_000,
		DeadMaxAge:      180 * 24 * time.Hour,
		PollInterval:    time.Second,
		FetchCooldown:   2 * time.Millisecond,
		ShutdownTimeout: 30 * time.Second,
	}
}

// FromEnv overrides cfg with the STEWARD_JOB_* environment variables:
// STEWARD_JOB_MAX_RETRIES, STEWARD_JOB_BACKOFF_SCALE, STEWARD_JOB_LEASE
// (a Go duration), STEWARD_JOB_DEAD_MAX, STEWARD_JOB_DEAD_MAX_AGE (a Go
// duration) and STEWARD_JOB_SHUTDOWN_TIMEOUT.
func FromEnv(cfg Config) (Config, error) {
	ints := []struct {
		name string
		dst  *int
	}{{"STEWARD_JOB_MAX_RETRIES", &cfg.MaxRetries}}
	for _, v := range ints {
		if s := os.Getenv(v.name); s != "" {
			n, err := strconv.Atoi(s)
			if err != nil || n < 0 {
				return cfg, fmt.Errorf("%s=%q: want a whole number of at least 0", v.name, s)
			}
			*v.dst = n
		}
	}
	if s := os.Getenv("STEWARD_JOB_DEAD_MAX"); s != "" {
		n, err := strconv.ParseInt(s, 10, 64)
		if err != nil || n < 0 {
			return cfg, fmt.Errorf("STEWARD_JOB_DEAD_MAX=%q: want a whole number of at least 0", s)
		}
		cfg.DeadMax = n
	}
	if s := os.Getenv("STEWARD_JOB_BACKOFF_SCALE"); s != "" {
		f, err := strconv.ParseFloat(s, 64)
		if err != nil || f < 0 {
			return cfg, fmt.Errorf("STEWARD_JOB_BACKOFF_SCALE=%q: want a number of at least 0", s)
		}
		cfg.BackoffScale = f
	}
	durs := []struct {
		name string
		dst  *time.Duration
	}{{"STEWARD_JOB_LEASE", &cfg.Lease}, {"STEWARD_JOB_DEAD_MAX_AGE", &cfg.DeadMaxAge}, {"STEWARD_JOB_SHUTDOWN_TIMEOUT", &cfg.ShutdownTimeout}}
	for _, v := range durs {
		if s := os.Getenv(v.name); s != "" {
			d, err := time.ParseDuration(s)
			if err != nil || d <= 0 {
				return cfg, fmt.Errorf("%s=%q: want a positive duration like 30s", v.name, s)
			}
			*v.dst = d
		}
	}
	return cfg, nil
}

// Backoff is Sidekiq's delay before retry number count+1 (count is the
// number of retries so far): count⁴ + 15 s + jitter(10·(count+1)) s,
// multiplied by scale.
func Backoff(count int, scale float64, jitter func(n int) int) time.Duration {
	c := float64(count)
	secs := c*c*c*c + 15 + float64(jitter(10*(count+1)))
	return time.Duration(secs * scale * float64(time.Second))
}

// fill applies defaults to unset fields.
func (c *Config) fill() {
	d := DefaultConfig()
	if c.Workers < 1 {
		c.Workers = 1
	}
	if c.Prefetch <= 0 {
		c.Prefetch = c.Workers
	}
	if c.FetchBatch <= 0 {
		c.FetchBatch = d.FetchBatch
	}
	if c.Lease <= 0 {
		c.Lease = d.Lease
	}
	if c.DeadMaxAge <= 0 {
		c.DeadMaxAge = d.DeadMaxAge
	}
	if c.PollInterval <= 0 {
		c.PollInterval = d.PollInterval
	}
	if c.ShutdownTimeout <= 0 {
		c.ShutdownTimeout = d.ShutdownTimeout
	}
	if c.FailureLogInterval <= 0 {
		c.FailureLogInterval = time.Minute
	}
	if c.Log == nil {
		c.Log = slog.New(slog.DiscardHandler)
	}
	if c.Clock == nil {
		c.Clock = steward.SystemClock{}
	}
}
