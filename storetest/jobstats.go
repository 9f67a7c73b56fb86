package storetest

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/steward-dev/steward"
	"github.com/steward-dev/steward/sqlstore"
)

// testActionJobStats: one read gives a page of the tenant's actions with
// the same counts and oldest queued time as JobStats gives per action, and
// nothing of another tenant's.
func testActionJobStats(t *testing.T, open Opener) {
	t.Parallel()
	withDB(t, open, func(t *testing.T, db *sqlstore.DB) {
		ctx := context.Background()
		w := newJobWorld(t, db, "stats")
		other := newJobWorld(t, db, "other")
		other.clock, db.Clock = w.clock, w.clock
		idle := newAction(t, db, w.tenant.ID, "idle")
		tn := w.tenant.ID
		enqueueN(t, w, w.a1.ID, 3)
		enqueueN(t, w, w.a2.ID, 2)
		failAll(t, w, true) // 3 + 2 dead
		enqueueN(t, w, w.a2.ID, 1)
		failAll(t, w, false) // 1 retry for a2
		w.clock.Advance(time.Second)
		enqueueN(t, w, w.a1.ID, 4)
		w.clock.Advance(time.Second)
		enqueueN(t, w, w.a2.ID, 1)
		if _, err := db.FetchJobs(ctx, "w", 2, time.Minute); err != nil { // 2 of a1's queued in progress
			t.Fatal(err)
		}
		enqueueN(t, other, other.a1.ID, 7)

		want := map[int64]steward.JobStats{}
		for _, a := range []int64{w.a1.ID, w.a2.ID, idle.ID} {
			st, err := db.JobStats(ctx, tn, a)
			if err != nil {
				t.Fatal(err)
			}
			want[a] = *st
		}
		if st := want[w.a1.ID]; st.Queued != 2 || st.InProgress != 2 || st.Dead != 3 || st.OldestQueuedAt == nil {
			t.Fatalf("setup: a1 stats %+v", st)
		}
		if st := want[w.a2.ID]; st.Queued != 1 || st.Retry != 1 || st.Dead != 2 {
			t.Fatalf("setup: a2 stats %+v", st)
		}

		var got []*steward.ActionJobStats
		for page := 1; page <= 2; page++ {
			stats, total, err := db.FindActionJobStats(ctx, tn, steward.PageRequest{Page: page, PerPage: 2})
			if err != nil {
				t.Fatal(err)
			}
			if total != 3 {
				t.Fatalf("page %d: total %d, want 3", page, total)
			}
			got = append(got, stats...)
		}
		if len(got) != 3 || got[0].ActionID != w.a1.ID || got[1].ActionID != w.a2.ID || got[2].ActionID != idle.ID {
			t.Fatalf("actions %+v, want a1, a2, idle in id order", got)
		}
		for _, g := range got {
			if !sameStats(want[g.ActionID], g.JobStats) {
				t.Errorf("action %d (%s): %s, JobStats gives %s", g.ActionID, g.ActionName, statsText(g.JobStats), statsText(want[g.ActionID]))
			}
		}
		if got[0].ActionName != "first" || got[2].ActionName != "idle" {
			t.Errorf("names %q, %q", got[0].ActionName, got[2].ActionName)
		}

		stats, total, err := db.FindActionJobStats(ctx, other.tenant.ID, steward.PageRequest{Page: 1, PerPage: 10})
		if err != nil || total != 2 || len(stats) != 2 || stats[0].ActionID != other.a1.ID || stats[0].Queued != 7 || stats[1].Queued != 0 {
			t.Fatalf("other tenant: %d actions of %d (%v): %+v", len(stats), total, err, stats)
		}
		if stats, total, err := db.FindActionJobStats(ctx, tn, steward.PageRequest{Page: 9, PerPage: 2}); err != nil || total != 3 || len(stats) != 0 {
			t.Fatalf("past the last page: %d of %d (%v)", len(stats), total, err)
		}
	})
}

func sameStats(a, b steward.JobStats) bool {
	if (a.OldestQueuedAt == nil) != (b.OldestQueuedAt == nil) ||
		a.OldestQueuedAt != nil && !a.OldestQueuedAt.Equal(*b.OldestQueuedAt) {
		return false
	}
	a.OldestQueuedAt, b.OldestQueuedAt = nil, nil
	return a == b
}

func statsText(s steward.JobStats) string {
	oldest := "none"
	if s.OldestQueuedAt != nil {
		oldest = s.OldestQueuedAt.Format(time.RFC3339Nano)
	}
	return fmt.Sprintf("queued %d, in progress %d, retry %d, dead %d, oldest queued %s", s.Queued, s.InProgress, s.Retry, s.Dead, oldest)
}
