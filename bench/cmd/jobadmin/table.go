package main

import (
	"fmt"
	"time"

	"github.com/steward-dev/steward/bench/internal/benchenv"
)

// printTables prints the run's figures as markdown.
func printTables(reports []*report, o options, loadStart string, started time.Time) {
	fmt.Printf("\nJob admin at %d jobs (one tenant, %d actions; one action holds %d retry jobs), engine with %d workers on a second tenant's %d no-op jobs/s; %s; load average at start: %s, at end: %s; whole run %.0f s\n\n",
		o.jobs, o.actions, o.hotRetry, o.workers, o.rate, started.UTC().Format("2006-01-02 15:04 UTC"), loadStart, benchenv.LoadAverage(), time.Since(started).Seconds())
	fmt.Println("| database | seeding (set-up, not measured) |")
	fmt.Println("|---|---:|")
	for _, r := range reports {
		if r.seeded > 0 {
			fmt.Printf("| %s | %d jobs in %.1f s, counts verified |\n", r.db, r.seeded, r.seedFor.Seconds())
		}
	}
	fmt.Println()
	fmt.Println("Deleting the action's retry jobs (goal < 1 s); the stream's jobs started per second and enqueue-to-start latency in the 2 s before and during the delete:")
	fmt.Println()
	fmt.Println("| database | via | jobs deleted | time | goal met | stream jobs/s before → during | enqueue-to-start p50 / p99 / max during | others untouched | PostgreSQL's background work |")
	fmt.Println("|---|---|---:|---:|---|---:|---:|---|---|")
	for _, r := range reports {
		for _, d := range r.deletes {
			fmt.Printf("| %s | %s | %d | %.0f ms | %s | %.0f → %.0f | %.1f / %.1f / %.1f ms | %s | %s |\n", r.db, d.via, d.deleted, ms(d.took),
				yes(d.took < deleteGoal), d.before.rate, d.during.rate, ms(d.during.p50), ms(d.during.p99), ms(d.during.maxDelay), yes(d.verified), d.background)
		}
	}
	fmt.Println()
	fmt.Printf("Reads at %d jobs, %d calls each in a row, while the engine works the stream:\n\n", o.jobs, o.calls)
	fmt.Println("| database | call | p50 | p99 | max | goal |")
	fmt.Println("|---|---|---:|---:|---:|---|")
	for _, r := range reports {
		for _, rd := range r.reads {
			goal := "-"
			if rd.goal > 0 {
				goal = fmt.Sprintf("p99 < %.0f ms: %s", ms(rd.goal), yes(percentile(rd.calls, 99) < rd.goal))
			}
			fmt.Printf("| %s | %s | %.2f ms | %.2f ms | %.2f ms | %s |\n", r.db, rd.what,
				ms(percentile(rd.calls, 50)), ms(percentile(rd.calls, 99)), ms(rd.calls[len(rd.calls)-1]), goal)
		}
	}
}

func yes(b bool) string {
	if b {
		return "yes"
	}
	return "no"
}
