package storetest

import (
	"context"
	"encoding/json"
	"fmt"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/steward-dev/steward"
	"github.com/steward-dev/steward/sqlstore"
)

// recordingTaker is a steward.JobTaker that grants up to grant
// reservations a call and records what it was asked and handed.
type recordingTaker struct {
	mu          sync.Mutex
	grant       int
	asked       []int
	outstanding int // reservations granted and not yet given back by TakeJobs
	taken       []*steward.Job
	errs        []string
}

func (r *recordingTaker) TakerLease() (string, time.Duration) { return "taker", time.Minute }

func (r *recordingTaker) ReserveJobs(n int) int {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.asked = append(r.asked, n)
	g := min(n, r.grant)
	r.outstanding += g
	return g
}

func (r *recordingTaker) TakeJobs(jobs []*steward.Job, reserved int) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if len(jobs) > reserved {
		r.errs = append(r.errs, fmt.Sprintf("handed %d jobs for %d reservations", len(jobs), reserved))
	}
	r.outstanding -= reserved
	r.taken = append(r.taken, jobs...)
}

// testNewJobsHandedToTaker: with a taker set, a store that writes emits in
// batches leases up to the reserved number of the jobs an emit creates to
// the taker's worker, in event and receiver order, and hands them over
// with their events; the rest are queued, a disabled receiver gets none,
// and the counters add up. A failed write gives the reservations back. One
// taker at a time; after stop none is offered anything. A store that does
// not batch emits never offers the taker a job.
func testNewJobsHandedToTaker(t *testing.T, open Opener) {
	t.Parallel()
	withDB(t, open, func(t *testing.T, db *sqlstore.DB) {
		ctx := context.Background()
		a, _ := newTenant(t, db, "alpha")
		src := newAction(t, db, a.ID, "source")
		r1 := newAction(t, db, a.ID, "r1", src.ID)
		r2 := newAction(t, db, a.ID, "r2", src.ID)
		off := newAction(t, db, a.ID, "off", src.ID)
		disabled := true
		if _, err := db.UpdateAction(ctx, a.ID, off.ID, steward.ActionUpdate{Disabled: &disabled}); err != nil {
			t.Fatal(err)
		}
		source, err := db.FindActionByID(ctx, a.ID, src.ID) // with its three receivers
		if err != nil {
			t.Fatal(err)
		}
		tk := &recordingTaker{grant: 3}
		stop := db.HandNewJobsTo(tk)
		other := &recordingTaker{grant: 100}
		db.HandNewJobsTo(other)() // refused while tk is set; its stop changes nothing

		events, err := db.EmitEvents(ctx, source, []json.RawMessage{json.RawMessage(`{"n":1}`), json.RawMessage(`{"n":2}`)})
		if err != nil || len(events) != 2 {
			t.Fatalf("emit: %d events (%v)", len(events), err)
		}
		_, batched := db.Dialect.(sqlstore.EventBatchDialect)
		tk.mu.Lock()
		asked, taken, outstanding, errs := slices.Clone(tk.asked), slices.Clone(tk.taken), tk.outstanding, slices.Clone(tk.errs)
		tk.mu.Unlock()
		if len(other.asked) != 0 {
			t.Errorf("a second taker was asked for reservations %v while the first was set", other.asked)
		}
		if outstanding != 0 || len(errs) != 0 {
			t.Errorf("reservations left outstanding: %d; %v", outstanding, errs)
		}
		queued := func(action int64) []*steward.Job {
			t.Helper()
			jobs, _, err := db.FindJobs(ctx, steward.JobFilter{TenantID: a.ID, ActionID: action, State: steward.JobQueued, PageRequest: steward.PageRequest{Page: 1, PerPage: 10}})
			if err != nil {
				t.Fatal(err)
			}
			return jobs
		}
		if !batched {
			if len(asked) != 0 || len(taken) != 0 {
				t.Errorf("a store without event batches asked for %v and handed over %d jobs", asked, len(taken))
			}
			if n := len(queued(r1.ID)) + len(queued(r2.ID)); n != 4 {
				t.Errorf("%d jobs queued, want 4", n)
			}
			checkCounters(t, db, a.ID, r1.ID, r2.ID, off.ID)
			stop()
			return
		}
		if !slices.Equal(asked, []int{6}) { // two events, three receivers each
			t.Errorf("asked for reservations %v, want [6]", asked)
		}
		// Jobs in order of event, then receiver: the first event's two
		// and the second event's r1 are handed over; its r2 is queued.
		want := []struct {
			action int64
			event  *steward.Event
		}{{r1.ID, events[0]}, {r2.ID, events[0]}, {r1.ID, events[1]}}
		if len(taken) != len(want) {
			t.Fatalf("handed over %d jobs, want %d", len(taken), len(want))
		}
		for i, j := range taken {
			w := want[i]
			if j.ActionID != w.action || j.EventID != w.event.ID || j.TenantID != a.ID || j.Worker != "taker" ||
				j.State != steward.JobInProgress || j.Kind != steward.JobKindReceive || j.LeaseUntil == nil || j.StartedAt == nil {
				t.Errorf("job %d handed over as %+v, want action %d, event %d, leased to the taker", i, j, w.action, w.event.ID)
			}
			if j.Event == nil || j.Event.ID != w.event.ID || string(j.Event.Payload) != string(w.event.Payload) || j.Event.ActionID != src.ID {
				t.Errorf("job %d handed over with event %+v, want %+v", i, j.Event, w.event)
			}
			stored, err := db.FindJobByID(ctx, a.ID, j.ID)
			if err != nil || stored.State != steward.JobInProgress || stored.Worker != "taker" || stored.LeaseUntil == nil {
				t.Errorf("job %d in the store: %+v (%v), want leased to the taker", j.ID, stored, err)
			}
		}
		if q := queued(r2.ID); len(q) != 1 || q[0].EventID != events[1].ID {
			t.Errorf("queued jobs of r2: %+v, want the second event's", q)
		}
		if q := queued(r1.ID); len(q) != 0 {
			t.Errorf("queued jobs of r1: %+v, want none", q)
		}
		checkCounters(t, db, a.ID, r1.ID, r2.ID, off.ID)

		// Enqueued jobs: only jobs due now are leased, the first ones.
		tk.mu.Lock()
		tk.grant, tk.asked, tk.taken = 1, nil, nil
		tk.mu.Unlock()
		later := db.Clock.Now().Add(time.Hour)
		if err := db.EnqueueJobs(ctx, []steward.NewJob{
			{TenantID: a.ID, ActionID: r1.ID, RunAt: later},
			{TenantID: a.ID, ActionID: r1.ID, Kind: steward.JobKindRun},
			{TenantID: a.ID, ActionID: r2.ID},
		}); err != nil {
			t.Fatal(err)
		}
		tk.mu.Lock()
		asked, taken = slices.Clone(tk.asked), slices.Clone(tk.taken)
		tk.grant = 3
		tk.mu.Unlock()
		if _, leasing := db.Dialect.(sqlstore.OneStatementQueue); leasing {
			if !slices.Equal(asked, []int{2}) || len(taken) != 1 {
				t.Fatalf("enqueue: asked for %v, handed over %d jobs; want [2] and 1", asked, len(taken))
			}
			j := taken[0]
			stored, err := db.FindJobByID(ctx, a.ID, j.ID)
			if j.ActionID != r1.ID || j.Kind != steward.JobKindRun || j.Worker != "taker" || j.State != steward.JobInProgress ||
				err != nil || stored.State != steward.JobInProgress || stored.Worker != "taker" {
				t.Errorf("enqueue handed over %+v, stored as %+v (%v); want r1's run job, leased to the taker", j, stored, err)
			}
			if q := queued(r1.ID); len(q) != 1 || !q[0].RunAt.Equal(later.Truncate(time.Microsecond)) {
				t.Errorf("queued jobs of r1: %+v, want the one due later", q)
			}
		} else if len(asked) != 0 || len(taken) != 0 {
			t.Errorf("a store without one-statement enqueues asked for %v and handed over %d jobs", asked, len(taken))
		}
		checkCounters(t, db, a.ID, r1.ID, r2.ID, off.ID)

		// A write that fails (its action was deleted a moment ago) gives
		// its reservations back and hands over nothing.
		gone := newAction(t, db, a.ID, "gone")
		newAction(t, db, a.ID, "gone's receiver", gone.ID)
		if err := db.DeleteAction(ctx, a.ID, gone.ID); err != nil {
			t.Fatal(err)
		}
		if _, err := db.EmitEvents(ctx, gone, []json.RawMessage{json.RawMessage(`{}`)}); err == nil {
			t.Error("an emit of a deleted action succeeded")
		}
		tk.mu.Lock()
		if tk.outstanding != 0 || len(tk.taken) != 1 || len(tk.asked) < 2 {
			t.Errorf("after a failed write: %d reservations outstanding, %d jobs handed over, asked %v", tk.outstanding, len(tk.taken), tk.asked)
		}
		calls := len(tk.asked)
		tk.mu.Unlock()

		stop()
		if _, err := db.EmitEvents(ctx, source, []json.RawMessage{json.RawMessage(`{"n":3}`)}); err != nil {
			t.Fatal(err)
		}
		tk.mu.Lock()
		if len(tk.asked) != calls {
			t.Errorf("asked for reservations after stop: %v", tk.asked[calls:])
		}
		tk.mu.Unlock()
		if n := len(queued(r1.ID)) + len(queued(r2.ID)); n != 5 {
			t.Errorf("%d jobs queued after stop, want 5", n)
		}
		checkCounters(t, db, a.ID, r1.ID, r2.ID, off.ID)
	})
}
