package main

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"sync"
	"time"
)

// System is one job queue under test, set up on a fresh, empty database.
// Every system is measured the same way: Insert(n), timed, then Work(n),
// timed; the jobs do nothing, so the figures are the queue's own cost.
//
// Steward's job engine plugs in here. Its adapter (steward.go in this
// directory) implements System over the queue package: Insert enqueues n
// no-op jobs through the engine's bulk enqueue in batches of Options.Batch,
// and Work starts Options.Workers workers and returns once n jobs are
// finished and recorded as such. It registers "steward-postgres" and
// "steward-sqlite" in the systems table below, beside River's entries.
type System interface {
	// Insert enqueues n no-op jobs in batches of Options.Batch and returns
	// once all of them are committed.
	Insert(ctx context.Context, n int) error
	// Work runs Options.Workers workers until n jobs have completed, and
	// returns only when their completion is committed.
	Work(ctx context.Context, n int) error
	// Verify checks that the database holds exactly n completed jobs, so a
	// system cannot count work it did not do.
	Verify(ctx context.Context, n int) error
	// Close stops the system and releases its database.
	Close() error
}

// LatencySystem is a System that can also report enqueue-to-start latency
// at a steady load. Steward's adapter should implement it too.
type LatencySystem interface {
	System
	// Latency keeps Options.Workers workers running while it enqueues
	// single jobs at rate jobs/s for d, and returns, for every job, the time
	// from just before its enqueue call to the start of its work. It is
	// called after Work, with the worked jobs still in the table.
	Latency(ctx context.Context, rate int, d time.Duration) ([]time.Duration, error)
}

// Options are the settings shared by every system in one run.
type Options struct {
	Batch   int // jobs per insert batch
	Workers int // concurrent workers
	// LatencyRate (jobs/s) and LatencyFor are the latency run's load and
	// length; see LatencySystem.
	LatencyRate int
	LatencyFor  time.Duration
	// SaturationFor is the length of the single-job saturation run
	// (Latency with rate 0); 0 skips it.
	SaturationFor time.Duration
	// PostgresURL is a fresh, empty PostgreSQL database for this system.
	PostgresURL string
	// SQLitePath is a fresh SQLite file path for this system.
	SQLitePath string
}

// opener starts a system on the database named in Options.
type opener struct {
	database string // "postgres" or "sqlite": which database Options must name
	open     func(ctx context.Context, o Options) (System, error)
}

// systems lists every system the benchmark can run, by name.
var systems = map[string]opener{
	"river-postgres": {"postgres", openRiverPostgres},
	"river-sqlite":   {"sqlite", openRiverSQLite},
}

func systemNames() string {
	names := make([]string, 0, len(systems))
	for n := range systems {
		names = append(names, n)
	}
	slices.Sort(names)
	return strings.Join(names, ", ")
}

func lookupSystem(name string) (opener, error) {
	o, ok := systems[name]
	if !ok {
		return opener{}, fmt.Errorf("unknown system %q; known: %s", name, systemNames())
	}
	return o, nil
}

// atRate calls enqueue rate times a second for d, each call in its own
// goroutine (at most 256 at once) so that a slow call does not lower the
// rate, and returns how many calls it made and the first error. Adapters
// use it for LatencySystem.
//
// A rate of 0 means saturation: saturationEnqueuers goroutines each call
// enqueue again as soon as the previous call returns.
func atRate(ctx context.Context, rate int, d time.Duration, enqueue func(context.Context) error) (int, error) {
	if rate <= 0 {
		return closedLoop(ctx, d, enqueue)
	}
	tick := time.NewTicker(time.Second / time.Duration(rate))
	defer tick.Stop()
	sem := make(chan struct{}, 256)
	var wg sync.WaitGroup
	var once sync.Once
	var first error
	sent := 0
	for end := time.Now().Add(d); time.Now().Before(end); {
		select {
		case <-ctx.Done():
			wg.Wait()
			return sent, ctx.Err()
		case <-tick.C:
		}
		sem <- struct{}{}
		sent++
		wg.Go(func() {
			defer func() { <-sem }()
			if err := enqueue(ctx); err != nil {
				once.Do(func() { first = err })
			}
		})
	}
	wg.Wait()
	return sent, first
}

// saturationEnqueuers is how many single-job enqueues are in flight at
// once in the saturation run.
const saturationEnqueuers = 64

// closedLoop keeps saturationEnqueuers enqueue calls in flight for d.
func closedLoop(ctx context.Context, d time.Duration, enqueue func(context.Context) error) (int, error) {
	var wg sync.WaitGroup
	var mu sync.Mutex
	var first error
	sent := 0
	end := time.Now().Add(d)
	for range saturationEnqueuers {
		wg.Go(func() {
			n := 0
			for time.Now().Before(end) && ctx.Err() == nil {
				err := enqueue(ctx)
				n++
				if err != nil {
					mu.Lock()
					if first == nil {
						first = err
					}
					mu.Unlock()
					break
				}
			}
			mu.Lock()
			sent += n
			mu.Unlock()
		})
	}
	wg.Wait()
	return sent, first
}
