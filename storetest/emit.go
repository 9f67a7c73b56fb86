package storetest

import (
	"context"
	"encoding/json"
	"fmt"
	"reflect"
	"sync"
	"testing"
	"time"

	"github.com/steward-dev/steward"
	"github.com/steward-dev/steward/sqlstore"
)

// testConcurrentEmits: emits made at the same moment (which a store may
// write together, in one statement) each get their own events, with the
// right ids, depth and receivers' jobs; the counters match the jobs; and
// an emit that cannot be written (its action was deleted) fails alone.
func testConcurrentEmits(t *testing.T, open Opener) {
	t.Parallel()
	withDB(t, open, func(t *testing.T, db *sqlstore.DB) {
		ctx := context.Background()
		a, _ := newTenant(t, db, "alpha")
		b, _ := newTenant(t, db, "beta")
		srcA := newAction(t, db, a.ID, "source a")
		recvA1 := newAction(t, db, a.ID, "receiver a1", srcA.ID)
		recvA2 := newAction(t, db, a.ID, "receiver a2", srcA.ID)
		srcB := newAction(t, db, b.ID, "source b")
		recvB := newAction(t, db, b.ID, "receiver b", srcB.ID)
		gone := newAction(t, db, a.ID, "deleted")
		if err := db.DeleteAction(ctx, a.ID, gone.ID); err != nil {
			t.Fatal(err)
		}

		const callers = 40
		type result struct {
			events []*steward.Event
			err    error
		}
		results := make([]result, callers)
		var wg sync.WaitGroup
		for i := range callers {
			src := srcA
			if i%2 == 1 {
				src = srcB
			}
			if i == callers/2 {
				src = gone
			}
			wg.Go(func() {
				payloads := []json.RawMessage{json.RawMessage(fmt.Sprintf(`{"caller":%d,"n":0}`, i))}
				if i%5 == 0 {
					payloads = append(payloads, json.RawMessage(fmt.Sprintf(`{"caller":%d,"n":1}`, i)))
				}
				ev, err := db.EmitEventsAt(ctx, src, i%3, payloads)
				results[i] = result{ev, err}
			})
		}
		wg.Wait()

		wantJobs := map[int64]int{}
		for i, r := range results {
			if i == callers/2 {
				if r.err == nil {
					t.Errorf("emit of a deleted action: events %+v, want an error", r.events)
				}
				continue
			}
			if r.err != nil {
				t.Errorf("caller %d: %v", i, r.err)
				continue
			}
			want := 1
			if i%5 == 0 {
				want = 2
			}
			if len(r.events) != want {
				t.Errorf("caller %d got %d events, want %d", i, len(r.events), want)
				continue
			}
			for n, e := range r.events {
				stored, err := db.FindEventByID(ctx, e.TenantID, e.ID)
				if err != nil {
					t.Errorf("caller %d event %d: %v", i, e.ID, err)
					continue
				}
				payload := fmt.Sprintf(`{"caller":%d,"n":%d}`, i, n)
				if string(stored.Payload) != payload || string(e.Payload) != payload || stored.Depth != i%3 || stored.ActionID != e.ActionID {
					t.Errorf("caller %d's event %d is stored as %s at depth %d, want %s at depth %d", i, e.ID, stored.Payload, stored.Depth, payload, i%3)
				}
				if e.TenantID == a.ID {
					wantJobs[recvA1.ID]++
					wantJobs[recvA2.ID]++
				} else {
					wantJobs[recvB.ID]++
				}
			}
		}
		for _, tenant := range []int64{a.ID, b.ID} {
			jobs, _, err := db.FindJobs(ctx, steward.JobFilter{TenantID: tenant, State: steward.JobQueued, PageRequest: steward.PageRequest{Page: 1, PerPage: 500}})
			if err != nil {
				t.Fatal(err)
			}
			got := map[int64]int{}
			for _, j := range jobs {
				e, err := db.FindEventByID(ctx, tenant, j.EventID)
				if err != nil || e.TenantID != j.TenantID {
					t.Errorf("job %d's event %d: %+v (%v)", j.ID, j.EventID, e, err)
				}
				got[j.ActionID]++
			}
			for _, recv := range []int64{recvA1.ID, recvA2.ID, recvB.ID} {
				if tenant == a.ID && recv == recvB.ID || tenant == b.ID && recv != recvB.ID {
					continue
				}
				if got[recv] != wantJobs[recv] {
					t.Errorf("receiver %d has %d queued jobs, want %d", recv, got[recv], wantJobs[recv])
				}
			}
		}
		checkCounters(t, db, a.ID, recvA1.ID, recvA2.ID)
		checkCounters(t, db, b.ID, recvB.ID)

		// A queue that reads each job's event with the job hands over the
		// stored event.
		_, withEvents := db.Dialect.(sqlstore.OneStatementQueue)
		leased, err := db.FetchJobs(ctx, "w", 500, time.Minute)
		if err != nil || len(leased) == 0 {
			t.Fatalf("fetched %d jobs (%v)", len(leased), err)
		}
		for _, j := range leased {
			if j.Event == nil {
				if withEvents {
					t.Errorf("job %d was leased without its event %d", j.ID, j.EventID)
				}
				continue
			}
			stored, err := db.FindEventByID(ctx, j.TenantID, j.EventID)
			if err != nil || !reflect.DeepEqual(stored, j.Event) {
				t.Errorf("job %d's event %+v, stored as %+v (%v)", j.ID, j.Event, stored, err)
			}
		}
		checkCounters(t, db, a.ID, recvA1.ID, recvA2.ID)
		checkCounters(t, db, b.ID, recvB.ID)
	})
}

// testEmitAfterClose: an emit made after the store closed fails at once
// instead of waiting for a writer that is gone.
func testEmitAfterClose(t *testing.T, open Opener) {
	t.Parallel()
	withDB(t, open, func(t *testing.T, db *sqlstore.DB) {
		a, _ := newTenant(t, db, "alpha")
		src := newAction(t, db, a.ID, "source")
		if _, err := db.EmitEvents(context.Background(), src, []json.RawMessage{json.RawMessage(`{}`)}); err != nil {
			t.Fatal(err)
		}
		if err := db.Close(); err != nil {
			t.Fatal(err)
		}
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		if _, err := db.EmitEvents(ctx, src, []json.RawMessage{json.RawMessage(`{}`)}); err == nil || ctx.Err() != nil {
			t.Errorf("emit after close: %v (context: %v), want an error at once", err, ctx.Err())
		}
	})
}

// testJobCompletedWithEvents: a running job's events emitted under the
// engine's JobCompletion either complete the job in the same write (the
// job gone, its in-progress count taken off, the completion marked) or
// leave it to the engine (the job still leased, the completion not
// marked); a job whose lease another worker holds is never completed by
// this worker's events; and the receivers' jobs are queued either way.
func testJobCompletedWithEvents(t *testing.T, open Opener) {
	t.Parallel()
	withDB(t, open, func(t *testing.T, db *sqlstore.DB) {
		ctx := context.Background()
		a, _ := newTenant(t, db, "alpha")
		src := newAction(t, db, a.ID, "source")
		mid := newAction(t, db, a.ID, "middle", src.ID)
		recv := newAction(t, db, a.ID, "receiver", mid.ID)
		if _, err := db.EmitEvents(ctx, src, []json.RawMessage{json.RawMessage(`{"n":1}`), json.RawMessage(`{"n":2}`)}); err != nil {
			t.Fatal(err)
		}
		mine, err := db.FetchJobs(ctx, "me", 1, time.Minute)
		if err != nil || len(mine) != 1 {
			t.Fatalf("fetched %d jobs (%v)", len(mine), err)
		}
		theirs, err := db.FetchJobs(ctx, "them", 1, time.Minute)
		if err != nil || len(theirs) != 1 {
			t.Fatalf("fetched %d jobs (%v)", len(theirs), err)
		}
		emit := func(job *steward.Job) *steward.JobCompletion {
			t.Helper()
			c := &steward.JobCompletion{JobID: job.ID, Worker: "me"}
			evs, err := db.EmitJobEvents(steward.WithJobCompletion(ctx, c), mid, 1, []json.RawMessage{json.RawMessage(fmt.Sprintf(`{"job":%d}`, job.ID))})
			if err != nil || len(evs) != 1 {
				t.Fatalf("emit of job %d: %d events (%v)", job.ID, len(evs), err)
			}
			return c
		}
		leased := func(job *steward.Job) bool {
			t.Helper()
			j, err := db.FindJobByID(ctx, a.ID, job.ID)
			if steward.ErrorCode(err) == steward.ENOTFOUND {
				return false
			} else if err != nil {
				t.Fatal(err)
			}
			return j.State == steward.JobInProgress
		}

		c := emit(mine[0])
		if c.Completed() == leased(mine[0]) {
			t.Errorf("job %d: completion marked %v, still leased %v: want one or the other", mine[0].ID, c.Completed(), leased(mine[0]))
		}
		_, batched := db.Dialect.(sqlstore.EventBatchDialect)
		if batched && !c.Completed() {
			t.Errorf("job %d was not completed with its events on a store that batches emits", mine[0].ID)
		}
		// Another worker's job: its events are written, the job stays.
		emit(theirs[0])
		if !leased(theirs[0]) {
			t.Errorf("job %d, leased by another worker, was completed by this worker's events", theirs[0].ID)
		}
		queued, _, err := db.FindJobs(ctx, steward.JobFilter{TenantID: a.ID, ActionID: recv.ID, State: steward.JobQueued, PageRequest: steward.PageRequest{Page: 1, PerPage: 10}})
		if err != nil || len(queued) != 2 {
			t.Errorf("receiver has %d queued jobs (%v), want 2", len(queued), err)
		}
		checkCounters(t, db, a.ID, mid.ID, recv.ID)
	})
}
