// Command queuebench measures job queues side by side in one run, on the
// same database server, with the same job count, batch size and worker
// count: for each system it inserts n no-op jobs in batches and then works
// them, and prints jobs per second for each phase as a markdown table.
//
//	queuebench --systems river-postgres,river-sqlite --jobs 100000 --batch 1000 --workers 1000
//
// Each system gets a fresh database: a new PostgreSQL database created
// through --postgres (and dropped afterwards), or a new SQLite file in a
// temporary directory. See system.go for how a queue plugs in.
package main

import (
	"context"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"time"

	"github.com/steward-dev/steward/bench/internal/benchenv"
)

func main() {
	names := flag.String("systems", "river-postgres,river-sqlite", "comma-separated systems to measure; known: "+systemNames())
	jobs := flag.Int("jobs", 100_000, "jobs to insert and work per system")
	batch := flag.Int("batch", 1000, "jobs per insert batch")
	workers := flag.Int("workers", 1000, "concurrent workers per system")
	pgAdmin := flag.String("postgres", "postgres://postgres@127.0.0.1:5432/postgres?sslmode=disable",
		"URL of a PostgreSQL database from which to create and drop each system's fresh database")
	timeout := flag.Duration("timeout", 10*time.Minute, "give up on a system after this long")
	latRate := flag.Int("latency-rate", 500, "jobs/s enqueued one at a time for the enqueue-to-start latency run")
	latFor := flag.Duration("latency-duration", 10*time.Second, "length of the latency run; 0 skips it")
	satFor := flag.Duration("saturation-duration", 0, "length of a run enqueueing single jobs from 64 goroutines as fast as they are accepted, workers running; 0 skips it")
	flag.Parse()
	if *jobs < 1 || *batch < 1 || *workers < 1 || *latRate < 1 || *latFor < 0 {
		fmt.Fprintln(os.Stderr, "queuebench: --jobs, --batch, --workers and --latency-rate must be positive")
		os.Exit(2)
	}
	opts := Options{Batch: *batch, Workers: *workers, LatencyRate: *latRate, LatencyFor: *latFor, SaturationFor: *satFor}
	loadStart := benchenv.LoadAverage()
	var results []result
	failed := false
	for _, name := range strings.Split(*names, ",") {
		name = strings.TrimSpace(name)
		res, err := measure(context.Background(), name, *jobs, opts, *pgAdmin, *timeout+*latFor+*satFor)
		if err != nil {
			fmt.Fprintf(os.Stderr, "queuebench: %s: %v\n", name, err)
			failed = true
			continue
		}
		fmt.Fprintf(os.Stderr, "%s: insert %.0f jobs/s, work %.0f jobs/s\n", name, res.insertRate(), res.workRate())
		results = append(results, res)
	}
	printTable(results, *jobs, opts, loadStart)
	if failed {
		os.Exit(1)
	}
}

// result is one system's figures.
type result struct {
	name         string
	jobs         int
	insert, work time.Duration
	// latencies are the enqueue-to-start latencies of the latency run,
	// sorted; latencyRate is the rate actually achieved, in jobs/s.
	latencies   []time.Duration
	latencyRate float64
	// satRate is the single-job enqueue rate at saturation (jobs/s, every
	// job started), satLatencies its sorted enqueue-to-start latencies.
	satRate      float64
	satLatencies []time.Duration
}

// percentile returns the p-th percentile (0 < p <= 100) of the latencies.
func (r result) percentile(p float64) time.Duration { return pct(r.latencies, p) }

// pct returns the p-th percentile of sorted durations.
func pct(d []time.Duration, p float64) time.Duration {
	if len(d) == 0 {
		return 0
	}
	i := int(float64(len(d))*p/100+0.5) - 1
	return d[min(max(i, 0), len(d)-1)]
}

func (r result) insertRate() float64 { return float64(r.jobs) / r.insert.Seconds() }
func (r result) workRate() float64   { return float64(r.jobs) / r.work.Seconds() }

// measure runs one system on a fresh database: insert, work, verify.
func measure(ctx context.Context, name string, n int, o Options, pgAdmin string, timeout time.Duration) (result, error) {
	op, err := lookupSystem(name)
	if err != nil {
		return result{}, err
	}
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	switch op.database {
	case "postgres":
		dbURL, drop, err := createDatabase(ctx, pgAdmin, name)
		if err != nil {
			return result{}, err
		}
		defer drop()
		o.PostgresURL = dbURL
	case "sqlite":
		dir, err := os.MkdirTemp("", "queuebench-")
		if err != nil {
			return result{}, err
		}
		defer os.RemoveAll(dir)
		o.SQLitePath = filepath.Join(dir, "queue.db")
	}
	sys, err := op.open(ctx, o)
	if err != nil {
		return result{}, err
	}
	res := result{name: name, jobs: n}
	start := time.Now()
	err = sys.Insert(ctx, n)
	res.insert = time.Since(start)
	if err == nil {
		start = time.Now()
		err = sys.Work(ctx, n)
		res.work = time.Since(start)
	}
	if err == nil {
		err = sys.Verify(ctx, n)
	}
	if ls, ok := sys.(LatencySystem); ok && err == nil && o.LatencyFor > 0 {
		res.latencies, err = ls.Latency(ctx, o.LatencyRate, o.LatencyFor)
		res.latencyRate = float64(len(res.latencies)) / o.LatencyFor.Seconds()
		slices.Sort(res.latencies)
	}
	if ls, ok := sys.(LatencySystem); ok && err == nil && o.SaturationFor > 0 {
		before := len(res.latencies)
		var all []time.Duration
		all, err = ls.Latency(ctx, 0, o.SaturationFor)
		if len(all) > before {
			res.satLatencies = all[before:] // the adapters return every latency so far
		}
		res.satRate = float64(len(res.satLatencies)) / o.SaturationFor.Seconds()
		slices.Sort(res.satLatencies)
	}
	if cerr := sys.Close(); err == nil && cerr != nil {
		err = fmt.Errorf("close: %w", cerr)
	}
	return res, err
}

// createDatabase creates an empty database for this run and returns its
// URL and a function that drops it.
func createDatabase(ctx context.Context, adminURL, system string) (string, func(), error) {
	return benchenv.CreateDatabase(ctx, adminURL, fmt.Sprintf("queuebench_%s_%d", strings.ReplaceAll(system, "-", "_"), os.Getpid()))
}

func printTable(results []result, n int, o Options, loadStart string) {
	fmt.Printf("\nQueues, %d no-op jobs inserted in batches of %d, then worked by %d workers; %s; load average at start: %s, at end: %s\n\n",
		n, o.Batch, o.Workers, time.Now().UTC().Format("2006-01-02 15:04 UTC"), loadStart, benchenv.LoadAverage())
	fmt.Println("| system | insert jobs/s | work jobs/s | insert time | work time | latency run jobs/s | enqueue-to-start p50 | p99 | single-job saturation jobs/s | its p50 | p99 |")
	fmt.Println("|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|")
	for _, r := range results {
		lat := "- | - | -"
		if len(r.latencies) > 0 {
			lat = fmt.Sprintf("%.0f | %.1f ms | %.1f ms", r.latencyRate, ms(r.percentile(50)), ms(r.percentile(99)))
		}
		sat := "- | - | -"
		if len(r.satLatencies) > 0 {
			sat = fmt.Sprintf("%.0f | %.1f ms | %.1f ms", r.satRate, ms(pct(r.satLatencies, 50)), ms(pct(r.satLatencies, 99)))
		}
		fmt.Printf("| %s | %.0f | %.0f | %.2f s | %.2f s | %s | %s |\n", r.name, r.insertRate(), r.workRate(), r.insert.Seconds(), r.work.Seconds(), lat, sat)
	}
}

func ms(d time.Duration) float64 {
	return float64(d) / float64(time.Millisecond)
}
