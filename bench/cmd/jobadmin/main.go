// Command jobadmin measures Steward's job management admin operations at
// scale while the job engine keeps working: on a fresh SQLite file and a
// fresh PostgreSQL database it seeds 2,000,000 jobs of one tenant over
// 1,000 actions (set-up, straight in SQL, not measured), starts the engine
// on a second tenant's steady stream of no-op jobs, and times
//
//   - deleting one action's 100,000 retry jobs (the store call behind
//     DELETE /api/v1/admin/actions/{id}/delete_all_retry_jobs, and once
//     through that endpoint), with the workers' throughput meanwhile;
//   - job stats for the tenant and for single actions;
//   - the first page of 20 retry jobs, tenant-wide and of one action, and a
//     deeper page, through the store and through the HTTP API;
//   - the console's queue pages and their live-count refresh.
//
// It prints markdown tables:
//
//	jobadmin --dbs sqlite,postgres --jobs 2000000 --actions 1000 --hot-retry 100000
package main

import (
	"context"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/steward-dev/steward/bench/internal/benchenv"
	"github.com/steward-dev/steward/postgres"
	"github.com/steward-dev/steward/sqlite"
	"github.com/steward-dev/steward/sqlstore"
)

// options are one run's settings.
type options struct {
	jobs, actions, hotRetry int
	workers, rate, calls    int
	deletes                 int
	http                    bool
	console                 bool
	warmup                  time.Duration
}

func main() {
	dbs := flag.String("dbs", "sqlite,postgres", "comma-separated databases to measure: sqlite, postgres")
	var o options
	flag.IntVar(&o.jobs, "jobs", 2_000_000, "jobs seeded in the measured tenant")
	flag.IntVar(&o.actions, "actions", 1000, "actions the seeded jobs are spread over")
	flag.IntVar(&o.hotRetry, "hot-retry", 100_000, "retry jobs of the one action whose retry jobs are deleted")
	flag.IntVar(&o.workers, "workers", 100, "job engine workers")
	flag.IntVar(&o.rate, "stream-rate", 500, "no-op jobs/s enqueued for the second tenant, one per call, while measuring")
	flag.IntVar(&o.calls, "calls", 200, "calls per read operation (job stats, list pages)")
	flag.IntVar(&o.deletes, "deletes", 2, "timed store-call deletes of the action's retry jobs (re-seeded between runs)")
	flag.BoolVar(&o.http, "http", true, "also measure through the HTTP API (reads, and one more delete)")
	flag.BoolVar(&o.console, "console", true, "also measure the console's queue pages (signed in with a session)")
	flag.DurationVar(&o.warmup, "warmup", 3*time.Second, "engine and stream running before the first measurement")
	flag.BoolVar(&keep, "keep", false, "keep the databases for inspection (printed) instead of removing them")
	pgAdmin := flag.String("postgres", "postgres://postgres@127.0.0.1:5432/postgres?sslmode=disable",
		"URL of a PostgreSQL database from which to create and drop a fresh database")
	flag.Parse()
	if o.jobs < o.hotRetry+2*o.actions+1011 || o.actions < 2 || o.hotRetry < 1 || o.workers < 1 || o.rate < 1 || o.calls < 1 || o.deletes < 1 {
		fmt.Fprintln(os.Stderr, "jobadmin: need --actions >= 2, --jobs well above --hot-retry + 2*--actions, and positive counts")
		os.Exit(2)
	}
	loadStart := benchenv.LoadAverage()
	started := time.Now()
	var reports []*report
	failed := false
	for _, name := range strings.Split(*dbs, ",") {
		name = strings.TrimSpace(name)
		r, err := runOn(context.Background(), name, o, *pgAdmin)
		if err != nil {
			fmt.Fprintf(os.Stderr, "jobadmin: %s: %v\n", name, err)
			failed = true
		}
		if r != nil {
			reports = append(reports, r)
		}
	}
	printTables(reports, o, loadStart, started)
	if failed {
		os.Exit(1)
	}
}

// keep leaves the databases in place (--keep).
var keep bool

// runOn opens a fresh database of the named kind and runs everything on it.
func runOn(ctx context.Context, name string, o options, pgAdmin string) (*report, error) {
	ctx, cancel := context.WithTimeout(ctx, 10*time.Minute)
	defer cancel()
	var db *sqlstore.DB
	switch name {
	case "sqlite":
		dir, err := os.MkdirTemp("", "jobadmin-")
		if err != nil {
			return nil, err
		}
		if keep {
			logf("keeping %s", dir)
		} else {
			defer os.RemoveAll(dir)
		}
		if db, err = sqlite.Open(filepath.Join(dir, "steward.db")); err != nil {
			return nil, err
		}
	case "postgres":
		dbURL, drop, err := createDatabase(ctx, pgAdmin)
		if err != nil {
			return nil, err
		}
		if keep {
			logf("keeping %s", dbURL)
		} else {
			defer drop()
		}
		if db, err = postgres.Open(ctx, dbURL); err != nil {
			return nil, err
		}
	default:
		return nil, fmt.Errorf("unknown database %q; known: sqlite, postgres", name)
	}
	defer db.Close()
	if err := db.Migrate(ctx, nil); err != nil {
		return nil, fmt.Errorf("migrate: %w", err)
	}
	r := &report{db: name}
	return r, measure(ctx, db, o, r)
}

// createDatabase creates an empty database for this run and returns its
// URL and a function that drops it.
func createDatabase(ctx context.Context, adminURL string) (string, func(), error) {
	return benchenv.CreateDatabase(ctx, adminURL, fmt.Sprintf("jobadmin_%d", os.Getpid()))
}

func logf(format string, args ...any) {
	fmt.Fprintf(os.Stderr, time.Now().UTC().Format("15:04:05")+" "+format+"\n", args...)
}
