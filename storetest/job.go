package storetest

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/steward-dev/steward"
	"github.com/steward-dev/steward/sqlstore"
)

// jobWorld is a tenant with two actions in its default story, on a store
// whose clock the test moves.
type jobWorld struct {
	db     *sqlstore.DB
	clock  *Clock
	tenant *steward.Tenant
	a1, a2 *steward.Action
}

func newJobWorld(t *testing.T, db *sqlstore.DB, name string) *jobWorld {
	t.Helper()
	w := &jobWorld{db: db, clock: NewClock(time.Date(2026, 3, 4, 5, 6, 7, 0, time.UTC))}
	db.Clock = w.clock
	w.tenant, _ = newTenant(t, db, name)
	w.a1 = newAction(t, db, w.tenant.ID, "first")
	w.a2 = newAction(t, db, w.tenant.ID, "second")
	return w
}

// defaultStory returns the tenant's first story (every tenant has one).
func defaultStory(t *testing.T, db *sqlstore.DB, tenantID int64) *steward.Story {
	t.Helper()
	stories, _, err := db.FindStories(context.Background(), tenantID, steward.PageRequest{Page: 1, PerPage: 1})
	if err != nil || len(stories) == 0 {
		t.Fatalf("tenant %d has no default story: %v", tenantID, err)
	}
	return stories[0]
}

// newAction creates an HTTP Request action in the tenant's default story.
func newAction(t *testing.T, db *sqlstore.DB, tenantID int64, name string, sources ...int64) *steward.Action {
	t.Helper()
	a := &steward.Action{TenantID: tenantID, StoryID: defaultStory(t, db, tenantID).ID, Type: steward.ActionHTTPRequest, Name: name,
		Options: map[string]any{"url": "https://example.com/" + name}, SourceIDs: sources}
	if err := db.CreateAction(context.Background(), a); err != nil {
		t.Fatal(err)
	}
	return a
}

// checkCounters compares every counter of the tenant (its totals, each
// action's, and the queue sizes across tenants) with the jobs table.
func checkCounters(t *testing.T, db *sqlstore.DB, tenantID int64, actions ...int64) {
	t.Helper()
	ctx := context.Background()
	count := func(where string, args ...any) int64 {
		t.Helper()
		var n int64
		if err := db.Read.QueryRowContext(ctx, db.Q(`SELECT COUNT(*) FROM jobs WHERE `+where), args...).Scan(&n); err != nil {
			t.Fatal(err)
		}
		return n
	}
	for _, action := range append([]int64{0}, actions...) {
		st, err := db.JobStats(ctx, tenantID, action)
		if err != nil {
			t.Fatal(err)
		}
		got := map[steward.JobState]int64{steward.JobQueued: st.Queued, steward.JobInProgress: st.InProgress,
			steward.JobRetry: st.Retry, steward.JobDead: st.Dead}
		for state, n := range got {
			var want int64
			if action == 0 {
				want = count(`tenant_id = ? AND state = ?`, tenantID, int(state))
			} else {
				want = count(`tenant_id = ? AND action_id = ? AND state = ?`, tenantID, action, int(state))
			}
			if n != want {
				t.Errorf("tenant %d action %d: counter of %v says %d, the jobs table %d", tenantID, action, state, n, want)
			}
		}
	}
	sizes, err := db.QueueSizes(ctx)
	if err != nil {
		t.Fatal(err)
	}
	for state, n := range sizes {
		if want := count(`state = ?`, int(state)); n != want {
			t.Errorf("queue size of %v is %d, the jobs table has %d", state, n, want)
		}
	}
}

func ids(jobs []*steward.Job) []int64 {
	out := make([]int64, len(jobs))
	for i, j := range jobs {
		out[i] = j.ID
	}
	return out
}

// testJobLifecycle: enqueue, lease, heartbeat, finish, retry with backoff,
// death and release, with the counters checked against the jobs table at
// every step.
func testJobLifecycle(t *testing.T, open Opener) {
	t.Parallel()
	withDB(t, open, func(t *testing.T, db *sqlstore.DB) {
		ctx := context.Background()
		w := newJobWorld(t, db, "lifecycle")
		tn, a1, a2 := w.tenant.ID, w.a1.ID, w.a2.ID
		t0 := w.clock.Now()

		for _, bad := range []steward.NewJob{{TenantID: 0, ActionID: a1}, {TenantID: tn, ActionID: 0}} {
			if err := db.EnqueueJobs(ctx, []steward.NewJob{bad}); steward.ErrorCode(err) != steward.EINVALID {
				t.Errorf("enqueue %+v: %v, want EINVALID", bad, err)
			}
		}
		if err := db.EnqueueJobs(ctx, []steward.NewJob{
			{TenantID: tn, ActionID: a1},
			{TenantID: tn, ActionID: a1, Kind: "custom"},
			{TenantID: tn, ActionID: a1, RunAt: t0.Add(time.Hour)}, // scheduled
			{TenantID: tn, ActionID: a2, EventID: 42},
		}); err != nil {
			t.Fatal(err)
		}
		checkCounters(t, db, tn, a1, a2)
		if next, err := db.NextDue(ctx); err != nil || next == nil || !next.Equal(t0) {
			t.Errorf("next due %v (%v), want %v", next, err, t0)
		}

		// Lease: the three due jobs, oldest first, each held by w1.
		jobs, err := db.FetchJobs(ctx, "w1", 10, time.Minute)
		if err != nil || len(jobs) != 3 {
			t.Fatalf("fetched %d jobs (%v), want the 3 due", len(jobs), err)
		}
		for i, j := range jobs {
			if i > 0 && j.ID < jobs[i-1].ID {
				t.Errorf("fetched out of order: %v", ids(jobs))
			}
			if j.State != steward.JobInProgress || j.Worker != "w1" || j.LeaseUntil == nil || !j.LeaseUntil.Equal(t0.Add(time.Minute)) ||
				j.StartedAt == nil || !j.StartedAt.Equal(t0) || j.TenantID != tn {
				t.Errorf("leased job %+v", j)
			}
		}
		if jobs[0].Kind != steward.JobKindReceive || jobs[1].Kind != "custom" || jobs[2].EventID != 42 {
			t.Errorf("kinds %q %q, event %d", jobs[0].Kind, jobs[1].Kind, jobs[2].EventID)
		}
		if more, err := db.FetchJobs(ctx, "w2", 10, time.Minute); err != nil || len(more) != 0 {
			t.Errorf("a second fetch got %d jobs (%v), want none", len(more), err)
		}
		checkCounters(t, db, tn, a1, a2)

		// Heartbeat: only the holder extends leases.
		if held, err := db.ExtendLeases(ctx, "w1", ids(jobs), t0.Add(2*time.Minute)); err != nil || len(held) != 3 {
			t.Errorf("w1 extended %v (%v), want all 3", held, err)
		}
		if held, err := db.ExtendLeases(ctx, "w2", ids(jobs), t0.Add(time.Hour)); err != nil || len(held) != 0 {
			t.Errorf("w2 extended %v (%v), want none", held, err)
		}
		if j, err := db.FindJobByID(ctx, tn, jobs[0].ID); err != nil || !j.LeaseUntil.Equal(t0.Add(2*time.Minute)) {
			t.Errorf("after the heartbeat: %+v (%v)", j, err)
		}

		// Finish: one completes, one fails (retry in 30 s), one dies.
		// Another worker's outcome for a job w1 holds is discarded.
		if err := db.FinishJobs(ctx, "w2", []int64{jobs[0].ID}, nil); err != nil {
			t.Fatal(err)
		}
		if j, err := db.FindJobByID(ctx, tn, jobs[0].ID); err != nil || j.State != steward.JobInProgress {
			t.Errorf("another worker finished w1's job: %+v (%v)", j, err)
		}
		err = db.FinishJobs(ctx, "w1", []int64{jobs[0].ID}, []steward.JobFailure{
			{ID: jobs[1].ID, ErrorClass: "HTTPRequest::ServerError", ErrorMessage: "503", RunAt: t0.Add(30 * time.Second)},
			{ID: jobs[2].ID, ErrorClass: "Boom", ErrorMessage: "dead", Dead: true, RunAt: t0},
		})
		if err != nil {
			t.Fatal(err)
		}
		if _, err := db.FindJobByID(ctx, tn, jobs[0].ID); steward.ErrorCode(err) != steward.ENOTFOUND {
			t.Errorf("completed job: %v, want it gone", err)
		}
		retry, err := db.FindJobByID(ctx, tn, jobs[1].ID)
		if err != nil || retry.State != steward.JobRetry || retry.RetryCount != 1 || !retry.RunAt.Equal(t0.Add(30*time.Second)) ||
			retry.ErrorClass != "HTTPRequest::ServerError" || retry.ErrorMessage != "503" || retry.Worker != "" || retry.LeaseUntil != nil ||
			retry.LastRetryAt == nil || !retry.LastRetryAt.Equal(t0) {
			t.Errorf("failed job: %+v (%v)", retry, err)
		}
		dead, err := db.FindJobByID(ctx, tn, jobs[2].ID)
		if err != nil || dead.State != steward.JobDead || dead.DiedAt == nil || !dead.DiedAt.Equal(t0) || dead.RetryCount != 0 {
			t.Errorf("dead job: %+v (%v)", dead, err)
		}
		checkCounters(t, db, tn, a1, a2)

		// Retry with backoff: not before it is due, then queued and leased
		// again with its retry count.
		if n, err := db.RescueJobs(ctx, 100); err != nil || n != 0 {
			t.Errorf("rescued %d (%v) before the retry was due", n, err)
		}
		if next, err := db.NextDue(ctx); err != nil || next == nil || !next.Equal(t0.Add(30*time.Second)) {
			t.Errorf("next due %v (%v), want the retry at %v", next, err, t0.Add(30*time.Second))
		}
		w.clock.Advance(31 * time.Second)
		if n, err := db.RescueJobs(ctx, 100); err != nil || n != 1 {
			t.Errorf("rescued %d (%v), want the due retry", n, err)
		}
		checkCounters(t, db, tn, a1, a2)
		again, err := db.FetchJobs(ctx, "w1", 10, time.Minute)
		if err != nil || len(again) != 1 || again[0].ID != jobs[1].ID || again[0].RetryCount != 1 {
			t.Fatalf("after the backoff fetched %+v (%v), want the retried job", again, err)
		}

		// Release: back to the queue at once, keeping its due time.
		if err := db.ReleaseJobs(ctx, "w1", []int64{again[0].ID}); err != nil {
			t.Fatal(err)
		}
		if j, err := db.FindJobByID(ctx, tn, again[0].ID); err != nil || j.State != steward.JobQueued || j.Worker != "" || j.StartedAt != nil {
			t.Errorf("released job: %+v (%v)", j, err)
		}
		checkCounters(t, db, tn, a1, a2)
	})
}

// testJobLeases: an expired lease returns the job to the queue, and its
// old holder can neither renew it nor record an outcome for it.
func testJobLeases(t *testing.T, open Opener) {
	t.Parallel()
	withDB(t, open, func(t *testing.T, db *sqlstore.DB) {
		ctx := context.Background()
		w := newJobWorld(t, db, "leases")
		if err := db.EnqueueJobs(ctx, []steward.NewJob{{TenantID: w.tenant.ID, ActionID: w.a1.ID}}); err != nil {
			t.Fatal(err)
		}
		jobs, err := db.FetchJobs(ctx, "old", 1, time.Minute)
		if err != nil || len(jobs) != 1 {
			t.Fatalf("fetched %d (%v)", len(jobs), err)
		}
		w.clock.Advance(59 * time.Second)
		if n, _ := db.RescueJobs(ctx, 100); n != 0 {
			t.Errorf("a live lease was rescued")
		}
		w.clock.Advance(2 * time.Second)
		if n, err := db.RescueJobs(ctx, 100); err != nil || n != 1 {
			t.Fatalf("rescued %d (%v), want the expired lease", n, err)
		}
		checkCounters(t, db, w.tenant.ID, w.a1.ID)
		if held, _ := db.ExtendLeases(ctx, "old", ids(jobs), w.clock.Now().Add(time.Minute)); len(held) != 0 {
			t.Errorf("the old holder renewed a lost lease")
		}
		next, err := db.FetchJobs(ctx, "new", 1, time.Minute)
		if err != nil || len(next) != 1 || next[0].ID != jobs[0].ID || next[0].Worker != "new" {
			t.Fatalf("re-fetched %+v (%v)", next, err)
		}
		if err := db.FinishJobs(ctx, "old", nil, []steward.JobFailure{{ID: jobs[0].ID, Dead: true, ErrorClass: "X"}}); err != nil {
			t.Fatal(err)
		}
		if j, _ := db.FindJobByID(ctx, w.tenant.ID, jobs[0].ID); j == nil || j.State != steward.JobInProgress || j.Worker != "new" {
			t.Errorf("the old holder's outcome was recorded: %+v", j)
		}
		if err := db.FinishJobs(ctx, "new", ids(next), nil); err != nil {
			t.Fatal(err)
		}
		checkCounters(t, db, w.tenant.ID, w.a1.ID)
		if next, err := db.NextDue(ctx); err != nil || next != nil {
			t.Errorf("next due %v (%v) on an empty queue", next, err)
		}
	})
}

// failAll leases every due job of the world and fails them: dead when
// dead is set, else due for retry in an hour.
func failAll(t *testing.T, w *jobWorld, dead bool) []*steward.Job {
	t.Helper()
	ctx := context.Background()
	jobs, err := w.db.FetchJobs(ctx, "w", 1000, time.Minute)
	if err != nil {
		t.Fatal(err)
	}
	var failed []steward.JobFailure
	for _, j := range jobs {
		failed = append(failed, steward.JobFailure{ID: j.ID, Dead: dead, ErrorClass: "X", ErrorMessage: "x", RunAt: w.clock.Now().Add(time.Hour)})
	}
	if err := w.db.FinishJobs(ctx, "w", nil, failed); err != nil {
		t.Fatal(err)
	}
	return jobs
}

func enqueueN(t *testing.T, w *jobWorld, action int64, n int) {
	t.Helper()
	jobs := make([]steward.NewJob, n)
	for i := range jobs {
		jobs[i] = steward.NewJob{TenantID: w.tenant.ID, ActionID: action}
	}
	if err := w.db.EnqueueJobs(context.Background(), jobs); err != nil {
		t.Fatal(err)
	}
}

// testJobAdmin: listing, one job's retry and delete, retrying every dead
// job, and tenant scoping of each.
func testJobAdmin(t *testing.T, open Opener) {
	t.Parallel()
	withDB(t, open, func(t *testing.T, db *sqlstore.DB) {
		ctx := context.Background()
		w := newJobWorld(t, db, "admin")
		other := newJobWorld(t, db, "other")
		other.clock, db.Clock = w.clock, w.clock
		tn := w.tenant.ID
		enqueueN(t, w, w.a1.ID, 3)
		enqueueN(t, w, w.a2.ID, 2)
		deadJobs := failAll(t, w, true)
		enqueueN(t, w, w.a1.ID, 4)
		w.clock.Advance(time.Second)
		enqueueN(t, w, w.a2.ID, 1)
		checkCounters(t, db, tn, w.a1.ID, w.a2.ID)

		page, total, err := db.FindJobs(ctx, steward.JobFilter{TenantID: tn, State: steward.JobQueued, PageRequest: steward.PageRequest{Page: 1, PerPage: 3}})
		if err != nil || total != 5 || len(page) != 3 {
			t.Fatalf("queued page: %d of %d (%v), want 3 of 5", len(page), total, err)
		}
		if page[0].ActionName != "first" {
			t.Errorf("job's action name %q", page[0].ActionName)
		}
		page, total, err = db.FindJobs(ctx, steward.JobFilter{TenantID: tn, State: steward.JobDead, ActionID: w.a2.ID, PageRequest: steward.PageRequest{Page: 1, PerPage: 10}})
		if err != nil || total != 2 || len(page) != 2 || page[0].ActionID != w.a2.ID {
			t.Errorf("dead jobs of a2: %d of %d (%v), want 2", len(page), total, err)
		}
		st, err := db.JobStats(ctx, tn, 0)
		if err != nil || st.OldestQueuedAt == nil || !st.OldestQueuedAt.Equal(w.clock.Now().Add(-time.Second)) {
			t.Errorf("job stats %+v (%v)", st, err)
		}

		// Another tenant sees none of it.
		if _, err := db.FindJobByID(ctx, other.tenant.ID, deadJobs[0].ID); steward.ErrorCode(err) != steward.ENOTFOUND {
			t.Errorf("another tenant found the job: %v", err)
		}
		if _, err := db.RetryJob(ctx, other.tenant.ID, deadJobs[0].ID); steward.ErrorCode(err) != steward.ENOTFOUND {
			t.Errorf("another tenant retried the job: %v", err)
		}
		if err := db.DeleteJob(ctx, other.tenant.ID, deadJobs[0].ID); steward.ErrorCode(err) != steward.ENOTFOUND {
			t.Errorf("another tenant deleted the job: %v", err)
		}

		// One job: retry a dead one (due now, retry count kept), delete one.
		j, err := db.RetryJob(ctx, tn, deadJobs[0].ID)
		if err != nil || j.State != steward.JobQueued || j.DiedAt != nil || !j.RunAt.Equal(w.clock.Now()) {
			t.Errorf("retried job %+v (%v)", j, err)
		}
		if err := db.DeleteJob(ctx, tn, deadJobs[1].ID); err != nil {
			t.Fatal(err)
		}
		checkCounters(t, db, tn, w.a1.ID, w.a2.ID)

		// Jobs in progress are neither retried nor deleted.
		leased, err := db.FetchJobs(ctx, "w", 1, time.Minute)
		if err != nil || len(leased) != 1 {
			t.Fatal(err)
		}
		if _, err := db.RetryJob(ctx, tn, leased[0].ID); steward.ErrorCode(err) != steward.EINVALID {
			t.Errorf("retrying a job in progress: %v, want EINVALID", err)
		}
		if err := db.DeleteJob(ctx, tn, leased[0].ID); steward.ErrorCode(err) != steward.EINVALID {
			t.Errorf("deleting a job in progress: %v, want EINVALID", err)
		}

		// Every dead job of a2, then of the tenant.
		if n, err := db.RetryDeadJobs(ctx, tn, w.a2.ID); err != nil || n != 2 {
			t.Errorf("retried %d dead jobs of a2 (%v), want 2", n, err)
		}
		if n, err := db.RetryDeadJobs(ctx, tn, 0); err != nil || n != 1 {
			t.Errorf("retried %d dead jobs (%v), want the last 1", n, err)
		}
		if n, err := db.RetryDeadJobs(ctx, other.tenant.ID, 0); err != nil || n != 0 {
			t.Errorf("another tenant retried %d (%v)", n, err)
		}
		checkCounters(t, db, tn, w.a1.ID, w.a2.ID)
		checkCounters(t, db, other.tenant.ID)
	})
}

// testJobPurge: deleting a state's jobs, and trimming dead jobs by age and
// number, each tenant on its own.
func testJobPurge(t *testing.T, open Opener) {
	t.Parallel()
	withDB(t, open, func(t *testing.T, db *sqlstore.DB) {
		ctx := context.Background()
		w := newJobWorld(t, db, "purge")
		other := newJobWorld(t, db, "bystander")
		other.clock, db.Clock = w.clock, w.clock
		tn := w.tenant.ID
		enqueueN(t, w, w.a1.ID, 4)
		enqueueN(t, other, other.a1.ID, 2)
		failAll(t, w, true) // all six die now (both tenants)
		w.clock.Advance(24 * time.Hour)
		enqueueN(t, w, w.a1.ID, 3)
		enqueueN(t, w, w.a2.ID, 3)
		failAll(t, w, true) // six more of w die a day later
		enqueueN(t, w, w.a1.ID, 2)
		enqueueN(t, w, w.a2.ID, 5)
		failAll(t, w, false)
		enqueueN(t, w, w.a1.ID, 7)
		checkCounters(t, db, tn, w.a1.ID, w.a2.ID)

		if _, err := db.DeleteJobs(ctx, tn, steward.JobInProgress, 0); steward.ErrorCode(err) != steward.EINVALID {
			t.Errorf("deleting jobs in progress: %v, want EINVALID", err)
		}
		if n, err := db.DeleteJobs(ctx, tn, steward.JobRetry, 0); err != nil || n != 7 {
			t.Errorf("deleted %d retry jobs (%v), want 7", n, err)
		}
		if n, err := db.DeleteJobs(ctx, tn, steward.JobQueued, w.a1.ID); err != nil || n != 7 {
			t.Errorf("deleted %d queued jobs of a1 (%v), want 7", n, err)
		}
		checkCounters(t, db, tn, w.a1.ID, w.a2.ID)

		// Dead: 4 + 6 in w, 2 in the bystander. Dead for more than 12 hours
		// goes (w's first four and the bystander's two), then all but 3.
		n, err := db.TrimDeadJobs(ctx, 3, w.clock.Now().Add(-12*time.Hour), 1000)
		if err != nil || n != 4+2+3 {
			t.Errorf("trimmed %d (%v), want 9", n, err)
		}
		st, _ := db.JobStats(ctx, tn, 0)
		if st.Dead != 3 {
			t.Errorf("%d dead jobs left, want 3", st.Dead)
		}
		checkCounters(t, db, tn, w.a1.ID, w.a2.ID)
		checkCounters(t, db, other.tenant.ID, other.a1.ID)
	})
}

// testDeleteActionJobsChecksOwnership: deleting or retrying one action's
// jobs names the action inside the statement; an action of another tenant,
// or none, is ENOTFOUND and touches nothing.
func testDeleteActionJobsChecksOwnership(t *testing.T, open Opener) {
	t.Parallel()
	withDB(t, open, func(t *testing.T, db *sqlstore.DB) {
		ctx := context.Background()
		w := newJobWorld(t, db, "owner")
		other := newJobWorld(t, db, "intruder")
		enqueueN(t, w, w.a1.ID, 3)
		failAll(t, w, true)
		enqueueN(t, w, w.a1.ID, 2)
		for _, state := range []steward.JobState{steward.JobQueued, steward.JobRetry, steward.JobDead} {
			for _, c := range []struct {
				name           string
				tenant, action int64
			}{{"another tenant's action", other.tenant.ID, w.a1.ID}, {"no such action", w.tenant.ID, w.a2.ID + 1000}} {
				if n, err := db.DeleteJobs(ctx, c.tenant, state, c.action); steward.ErrorCode(err) != steward.ENOTFOUND || n != 0 {
					t.Errorf("delete %v jobs of %s: %d, %v; want ENOTFOUND", state, c.name, n, err)
				}
			}
		}
		if n, err := db.RetryDeadJobs(ctx, other.tenant.ID, w.a1.ID); steward.ErrorCode(err) != steward.ENOTFOUND || n != 0 {
			t.Errorf("retry dead jobs of another tenant's action: %d, %v; want ENOTFOUND", n, err)
		}
		st, _ := db.JobStats(ctx, w.tenant.ID, w.a1.ID)
		if st.Queued != 2 || st.Dead != 3 {
			t.Errorf("after refused deletes: %+v, want 2 queued and 3 dead", st)
		}
		if n, err := db.DeleteJobs(ctx, w.tenant.ID, steward.JobQueued, w.a1.ID); err != nil || n != 2 {
			t.Errorf("owner deleted %d (%v), want 2", n, err)
		}
		if n, err := db.DeleteJobs(ctx, w.tenant.ID, steward.JobRetry, w.a2.ID); err != nil || n != 0 {
			t.Errorf("owner deleted %d (%v) of an action without jobs, want 0 and no error", n, err)
		}
		if n, err := db.RetryDeadJobs(ctx, w.tenant.ID, w.a1.ID); err != nil || n != 3 {
			t.Errorf("owner retried %d (%v), want 3", n, err)
		}
		checkCounters(t, db, w.tenant.ID, w.a1.ID, w.a2.ID)
		var notFound *steward.Error
		_, err := db.DeleteJobs(ctx, other.tenant.ID, steward.JobDead, w.a1.ID)
		if !errors.As(err, &notFound) {
			t.Errorf("the refusal is not a steward.Error: %v", err)
		}
	})
}
