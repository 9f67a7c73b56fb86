// Command webhookbench measures what an automation server mostly does:
// events arriving one at a time over HTTP. Each event is POSTed on loopback
// to a Webhook action whose receiver is an HTTP Request action calling a
// local sink; the sink records when each event arrives. For each target it
// reports, at fixed offered rates and at saturation, the events/s
// accepted and delivered and the ingest-to-run latency (from just before
// the POST to the sink receiving the HTTP Request action's call).
//
//	webhookbench --targets steward-postgres,river-postgres,steward-sqlite,river-sqlite \
//	    --rates 100,500,2000 --duration 10s --saturation 10s
//
// Steward is the real `steward serve` binary, built from ../cmd/steward,
// on a fresh database, with STEWARD_EGRESS_ALLOW=127.0.0.0/8 so its HTTP
// Request action may call the sink on loopback. River, for comparison in
// the same run, sits behind a bare net/http webhook handler that inserts
// one job per POST; its worker calls the same sink.
package main

import (
	"context"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"github.com/steward-dev/steward/bench/internal/benchenv"
)

// target is one system under test, running, with its webhook URL.
type target interface {
	Name() string
	WebhookURL() string
	// RSS is the server's resident memory now and at its peak, in MB
	// (0 when the target runs inside this process).
	RSS() (now, peak float64)
	Close() error
}

func main() {
	names := flag.String("targets", "steward-postgres,river-postgres,steward-sqlite,river-sqlite", "comma-separated targets")
	ratesFlag := flag.String("rates", "100,500,2000", "offered rates, events/s, one phase each")
	dur := flag.Duration("duration", 10*time.Second, "length of each fixed-rate phase")
	sat := flag.Duration("saturation", 10*time.Second, "length of the saturation phase; 0 skips it")
	conc := flag.Int("concurrency", 64, "POSTs in flight in the saturation phase")
	ramp := flag.Duration("ramp", 0, "unreported lead-in at each fixed rate before its measured phase (steady state); 0 measures from the rate change")
	workers := flag.Int("workers", 50, "job workers of each target")
	slow := flag.Duration("slow", 0, "print each event slower than this, with when it was posted within its phase (diagnosis); 0 prints none")
	pgAdmin := flag.String("postgres", "postgres://postgres@127.0.0.1:5432/postgres?sslmode=disable",
		"URL of a PostgreSQL database from which to create and drop each target's fresh database")
	flag.Parse()
	var rates []int
	for _, f := range strings.Split(*ratesFlag, ",") {
		r, err := strconv.Atoi(strings.TrimSpace(f))
		if err != nil || r < 1 {
			fmt.Fprintf(os.Stderr, "webhookbench: bad rate %q\n", f)
			os.Exit(2)
		}
		rates = append(rates, r)
	}
	ctx := context.Background()
	dir, err := os.MkdirTemp("", "webhookbench-")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	defer os.RemoveAll(dir)
	bin := ""
	if strings.Contains(*names, "steward") {
		if bin, err = buildSteward(ctx, dir); err != nil {
			fmt.Fprintln(os.Stderr, err)
			os.Exit(1)
		}
	}
	sk, err := newSink(*slow)
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	defer sk.close()

	loadStart, started := benchenv.LoadAverage(), time.Now()
	var results []phaseResult
	var mem []string
	failed := false
	for _, name := range strings.Split(*names, ",") {
		name = strings.TrimSpace(name)
		res, m, err := runTarget(ctx, name, bin, dir, *pgAdmin, *workers, sk, rates, *dur, *sat, *conc, *ramp)
		results = append(results, res...)
		if m != "" {
			mem = append(mem, m)
		}
		if err != nil {
			fmt.Fprintf(os.Stderr, "webhookbench: %s: %v\n", name, err)
			failed = true
		}
	}
	printTables(results, mem, *workers, *dur, *sat, *conc, *ramp, loadStart, started)
	if failed {
		os.Exit(1)
	}
}

// runTarget starts one target on a fresh database and runs every phase.
func runTarget(ctx context.Context, name, bin, dir, pgAdmin string, workers int, sk *sink,
	rates []int, dur, sat time.Duration, conc int, ramp time.Duration) ([]phaseResult, string, error) {
	kind, db, ok := strings.Cut(name, "-")
	if !ok || (kind != "steward" && kind != "river") || (db != "postgres" && db != "sqlite") {
		return nil, "", fmt.Errorf("unknown target; known: steward-postgres, river-postgres, steward-sqlite, river-sqlite")
	}
	var dbURL string
	if db == "postgres" {
		u, drop, err := benchenv.CreateDatabase(ctx, pgAdmin, fmt.Sprintf("webhookbench_%s_%d", strings.ReplaceAll(name, "-", "_"), os.Getpid()))
		if err != nil {
			return nil, "", err
		}
		defer drop()
		dbURL = u
	} else {
		dbURL = filepath.Join(dir, name+".db")
	}
	var t target
	var err error
	switch {
	case kind == "steward":
		t, err = startSteward(ctx, bin, name, dbURL, dir, workers, sk.url)
	case db == "postgres":
		t, err = startRiverPostgres(ctx, name, dbURL, workers, sk.url)
	default:
		t, err = startRiverSQLite(ctx, name, dbURL, workers, sk.url)
	}
	if err != nil {
		return nil, "", err
	}
	defer t.Close()
	time.Sleep(2 * time.Second)
	idle, _ := t.RSS()
	// A short warm-up phase, not reported: connections, caches, plans.
	if _, err := runPhase(ctx, t, sk, name+"-warmup", 100, 2*time.Second, 0); err != nil {
		return nil, "", err
	}
	var out []phaseResult
	for _, r := range rates {
		// Connections the new rate needs open here, not in the measurement.
		if ramp > 0 {
			if _, err := runPhase(ctx, t, sk, fmt.Sprintf("%s-%d-ramp", name, r), r, ramp, 0); err != nil {
				return nil, "", err
			}
		}
		res, err := runPhase(ctx, t, sk, fmt.Sprintf("%s-%d", name, r), r, dur, 0)
		out = append(out, res)
		if err != nil {
			return out, "", err
		}
	}
	if sat > 0 {
		res, err := runPhase(ctx, t, sk, name+"-sat", 0, sat, conc)
		out = append(out, res)
		if err != nil {
			return out, "", err
		}
	}
	now, peak := t.RSS()
	m := ""
	if peak > 0 {
		m = fmt.Sprintf("| %s | %.1f MB | %.1f MB | %.1f MB |", name, idle, now, peak)
	}
	return out, m, nil
}

// runPhase offers rate events/s for d (or, with rate 0, keeps conc POSTs in
// flight) and waits for every accepted event to reach the sink.
func runPhase(ctx context.Context, t target, sk *sink, phase string, rate int, d time.Duration, conc int) (phaseResult, error) {
	sk.start(phase)
	p := &poster{client: newClient(), url: t.WebhookURL(), phase: phase}
	res := phaseResult{target: t.Name(), phase: phase, rate: rate}
	start := time.Now()
	var st postStats
	if rate > 0 {
		st = atRate(ctx, p, rate, d)
	} else {
		st = closedLoop(ctx, p, conc, d)
	}
	res.accepted, res.failed, res.firstErr = st.accepted, st.failed, st.first
	posts := st.posts
	res.postTime = time.Since(start)
	lat, last, err := sk.wait(res.accepted, 60*time.Second)
	res.latencies, res.undelivered = lat, res.accepted-len(lat)
	if !last.IsZero() {
		res.deliverTime = last.Sub(start)
	}
	sortDurations(posts)
	res.postP99 = percentile(posts, 99)
	fmt.Fprintf(os.Stderr, "%s: accepted %d (%.0f/s), failed %d, delivered %d (%.0f/s), p50 %.1f ms, p99 %.1f ms\n",
		phase, res.accepted, res.acceptedRate(), res.failed, len(lat), res.deliveredRate(), ms(percentile(lat, 50)), ms(percentile(lat, 99)))
	if res.firstErr != nil {
		fmt.Fprintf(os.Stderr, "%s: first POST error: %v\n", phase, res.firstErr)
	}
	return res, err
}

func printTables(results []phaseResult, mem []string, workers int, dur, sat time.Duration, conc int, ramp time.Duration, loadStart string, started time.Time) {
	rampNote := ""
	if ramp > 0 {
		rampNote = fmt.Sprintf(", each after an unreported %v at its rate", ramp)
	}
	host, _ := os.Hostname()
	fmt.Printf("\nWebhook stream: one event per POST over loopback → Webhook action → HTTP Request action → local sink; %d job workers per target; fixed-rate phases of %v%s, saturation %v with %d POSTs in flight; %s on %s (%d cores); load average at start: %s, at end: %s; whole run %.0f s\n\n",
		workers, dur, rampNote, sat, conc, started.UTC().Format("2006-01-02 15:04 UTC"), host, numCPU(), loadStart, benchenv.LoadAverage(), time.Since(started).Seconds())
	fmt.Println("| target | offered | accepted events/s | delivered events/s | ingest-to-run p50 | p99 | max | POST p99 | failed POSTs | undelivered |")
	fmt.Println("|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|")
	for _, r := range results {
		offered := "saturation"
		if r.rate > 0 {
			offered = fmt.Sprintf("%d/s", r.rate)
		}
		fmt.Printf("| %s | %s | %.0f | %.0f | %.1f ms | %.1f ms | %.1f ms | %.1f ms | %d | %d |\n", r.target, offered,
			r.acceptedRate(), r.deliveredRate(), ms(percentile(r.latencies, 50)), ms(percentile(r.latencies, 99)),
			ms(percentile(r.latencies, 100)), ms(r.postP99), r.failed, r.undelivered)
	}
	if len(mem) > 0 {
		fmt.Println("\n| target | VmRSS idle (after start) | VmRSS after the run | VmHWM (peak) |")
		fmt.Println("|---|---:|---:|---:|")
		for _, m := range mem {
			fmt.Println(m)
		}
	}
}

func ms(d time.Duration) float64 { return float64(d) / float64(time.Millisecond) }
