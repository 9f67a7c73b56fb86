package sqlstore

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"sync"
	"time"

	"github.com/steward-dev/steward"
)

// EventBatchDialect is implemented by dialects that write a batch of
// emits with one statement committing on its own (see EventBatch). With
// it, concurrent emits (webhooks arriving, jobs finishing) share one
// statement and one commit, a group commit, instead of a transaction of
// five or six round trips each.
type EventBatchDialect interface {
	// InsertEventBatch writes b and returns the new events' ids in the
	// order of b.Events, how many jobs it queued and the jobs it leased
	// (b.Claim).
	InsertEventBatch(ctx context.Context, q Queryer, b EventBatch) (EventBatchResult, error)
}

// EventBatchResult is what an event batch wrote.
type EventBatchResult struct {
	IDs    []int64 // the events', in the order of EventBatch.Events
	Queued int     // jobs queued for a fetch
	// Claimed are the jobs leased to EventBatch.Claim.Worker as they were
	// created, in creation order.
	Claimed []ClaimedJob
}

// ClaimedJob is a job an event batch created already leased.
type ClaimedJob struct {
	ID, ActionID, EventID int64
}

// EventBatch is one statement's worth of emits.
type EventBatch struct {
	Now    int64 // Micros: the events' created_at and the jobs' due time
	Events []*steward.Event
	// Stamps are the actions whose last_event_at moves to Now (unless it
	// is under a second old).
	Stamps []int64
	// Retention drops up to 100 of each action's oldest events created
	// before its cutoff.
	Retention []EventRetention
	// Async lets the statement commit without waiting for durability.
	Async bool
	// Done are the running jobs these events are the last write of: each
	// is deleted, with its counters, if its worker still holds it.
	Done []JobDone
	// Claim leases up to Claim.N of the jobs the batch creates, in
	// creation order, instead of queueing them.
	Claim JobClaim
}

// JobClaim is a lease on new jobs: up to N of them, to Worker, until
// LeaseUntil (Micros).
type JobClaim struct {
	N          int
	Worker     string
	LeaseUntil int64
}

// JobDone is a job completed by an event batch, if worker holds it.
type JobDone struct {
	JobID  int64
	Worker string
}

// EventRetention is one action's keep_events_for, as a cutoff in Micros.
type EventRetention struct {
	TenantID, ActionID, Cutoff int64
}

// emitRequest is one caller's emit waiting for a batch.
type emitRequest struct {
	ctx      context.Context
	action   *steward.Action
	depth    int
	payloads []json.RawMessage
	async    bool
	// completion, when set, is the running job these events are the last
	// write of (steward.JobCompletion): the batch completes it too.
	completion *steward.JobCompletion
	done       chan error // buffered: the writer never waits for the caller
	events     []*steward.Event
}

// size is the bytes of the request's payloads.
func (r *emitRequest) size() int {
	n := 0
	for _, p := range r.payloads {
		n += len(p)
	}
	return n
}

// emitWriters is how many batches of each queue (durable, async) are
// written at once: while they are all busy, new emits gather into the next
// batches. A lone emit is written at once, so a quiet server adds no
// latency.
const emitWriters = 4

// EmitWriters is how many connections the emit writers use at most: a
// dialect's event pool (DB.Events) needs no more.
const EmitWriters = 2 * emitWriters

// emitBatchMax bounds the events of one batch (one statement's arrays),
// and emitBatchBytes their payloads' size: a batch takes no more requests
// once past either (a single larger request is written alone).
const (
	emitBatchMax   = 256
	emitBatchBytes = 4 << 20
)

// emitStatementTimeout bounds one batch's statement: the writer does not
// use a caller's context, since the batch is shared.
const emitStatementTimeout = 30 * time.Second

// emitBatcher gathers concurrent emits into batches. The zero value is
// ready; its writers start on first use and stop when DB.Close runs.
type emitBatcher struct {
	// mu guards starting and closing; senders hold it shared while they
	// hand a request over, so that close sees every request handed over.
	mu      sync.RWMutex
	started bool
	closed  bool
	// Emits that must be durable before they are answered (a webhook's)
	// and emits that need not (a running job's) queue apart, so that a
	// job's events never wait for a disk flush they do not need.
	durable, async chan *emitRequest
	quit           chan struct{}
	wg             sync.WaitGroup
}

// errClosed answers emits made after DB.Close.
var errClosed = errors.New("the database is closed")

// batchEmit writes the emit through the batcher and waits for its batch to
// commit or fail.
func (db *DB) batchEmit(ctx context.Context, d EventBatchDialect, r *emitRequest) error {
	b := &db.emits
	b.mu.RLock()
	if !b.started {
		b.mu.RUnlock()
		b.start(db, d)
		b.mu.RLock()
	}
	if b.closed {
		b.mu.RUnlock()
		return errClosed
	}
	r.ctx, r.done = ctx, make(chan error, 1)
	queue := b.durable
	if r.async {
		queue = b.async
	}
	select {
	case queue <- r:
	case <-ctx.Done():
		b.mu.RUnlock()
		return ctx.Err()
	}
	b.mu.RUnlock()
	// Once handed over, the request is answered whatever happens (within
	// emitStatementTimeout): leaving earlier could report a failure for
	// events that commit a moment later.
	return <-r.done
}

// start starts the writers, once.
func (b *emitBatcher) start(db *DB, d EventBatchDialect) {
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.started || b.closed {
		return
	}
	b.started = true
	b.durable, b.async = make(chan *emitRequest, emitBatchMax), make(chan *emitRequest, emitBatchMax)
	b.quit = make(chan struct{})
	for range emitWriters {
		b.wg.Go(func() { db.emitWriter(d, b.durable) })
		b.wg.Go(func() { db.emitWriter(d, b.async) })
	}
}

// close stops the writers once every request handed over is written.
// Closing again does nothing.
func (b *emitBatcher) close() {
	b.mu.Lock()
	first := !b.closed
	b.closed = true
	started := b.started
	b.mu.Unlock()
	if started && first {
		close(b.quit)
		b.wg.Wait()
	}
}

// emitWriter writes batches from queue until the batcher closes, then
// writes what is left in it.
func (db *DB) emitWriter(d EventBatchDialect, queue chan *emitRequest) {
	b := &db.emits
	for {
		var first *emitRequest
		select {
		case first = <-queue:
		case <-b.quit:
			select {
			case first = <-queue: // closing: nothing more arrives
			default:
				return
			}
		}
		batch, n, size := []*emitRequest{first}, len(first.payloads), first.size()
	gather:
		for n < emitBatchMax && size < emitBatchBytes {
			select {
			case r := <-queue:
				batch, n, size = append(batch, r), n+len(r.payloads), size+r.size()
			default:
				break gather
			}
		}
		db.writeEmits(d, batch)
	}
}

// writeEmits writes a batch and answers its requests. When the batch as a
// whole fails for a reason other than a lost connection or a deadlock,
// which are retried, each request is written again on its own, so that
// one emit that cannot be written (its action deleted a moment ago) fails
// alone.
func (db *DB) writeEmits(d EventBatchDialect, batch []*emitRequest) {
	live := batch[:0:0]
	for _, r := range batch {
		if err := r.ctx.Err(); err != nil {
			r.done <- err
		} else {
			live = append(live, r)
		}
	}
	if len(live) == 0 {
		return
	}
	err := db.writeEmitBatch(d, live)
	if err == nil || len(live) == 1 {
		for _, r := range live {
			r.done <- err
		}
		return
	}
	for _, r := range live {
		r.done <- db.writeEmitBatch(d, []*emitRequest{r})
	}
}

// eventPool is the pool the event batch is written through.
func (db *DB) eventPool() *sql.DB {
	if db.Events != nil {
		return db.Events
	}
	return db.Write
}

// writeEmitBatch writes the requests' events in one statement, running it
// again when the dialect says it certainly did not commit (a lost
// connection) or failed in a way a new attempt fixes (a deadlock), and
// fills in each request's events. The running jobs whose last write these
// events are (emitRequest.completion) are completed by the same statement.
// When an engine takes new jobs (handoff.go) and has idle workers, the
// statement leases up to that many of the jobs it creates to the engine,
// which starts them at once: no fetch, no wake-up in between.
func (db *DB) writeEmitBatch(d EventBatchDialect, reqs []*emitRequest) error {
	ctx, cancel := context.WithTimeout(context.Background(), emitStatementTimeout)
	defer cancel()
	now := db.Clock.Now()
	b := EventBatch{Now: Micros(now), Async: reqs[0].async} // a batch is all async or all durable
	stamped := map[int64]bool{}
	for _, r := range reqs {
		r.events = make([]*steward.Event, len(r.payloads))
		for i, p := range r.payloads {
			e := &steward.Event{TenantID: r.action.TenantID, ActionID: r.action.ID, StoryID: r.action.StoryID,
				Payload: p, Depth: r.depth, CreatedAt: FromMicros(b.Now)}
			r.events[i] = e
			b.Events = append(b.Events, e)
		}
		if c := r.completion; c != nil && !c.Completed() {
			c.Begin()
			b.Done = append(b.Done, JobDone{JobID: c.JobID, Worker: c.Worker})
		}
		a := r.action
		if stamped[a.ID] {
			continue
		}
		stamped[a.ID] = true
		if db.eventStamps.due(a.ID, now) {
			b.Stamps = append(b.Stamps, a.ID)
		}
		if a.KeepEventsFor > 0 {
			cutoff := now.Add(-time.Duration(a.KeepEventsFor) * time.Second)
			b.Retention = append(b.Retention, EventRetention{TenantID: a.TenantID, ActionID: a.ID, Cutoff: Micros(cutoff)})
		}
	}
	taker := db.jobTaker()
	if taker != nil {
		worker, lease := taker.TakerLease()
		b.Claim = JobClaim{N: taker.ReserveJobs(newJobs(reqs)), Worker: worker, LeaseUntil: Micros(now.Add(lease))}
	}
	var res EventBatchResult
	err := db.statementOn(ctx, db.eventPool(), func(q Queryer) (err error) {
		res, err = d.InsertEventBatch(ctx, q, b)
		return err
	})
	if err != nil {
		for _, r := range reqs {
			if r.completion != nil {
				r.completion.Abort()
			}
		}
		if b.Claim.N > 0 {
			taker.TakeJobs(nil, b.Claim.N)
		}
		return err
	}
	for _, r := range reqs {
		if r.completion != nil {
			r.completion.MarkCompleted()
		}
	}
	if res.Queued > 0 {
		db.jobsReady()
	}
	if len(res.IDs) != len(b.Events) {
		if b.Claim.N > 0 {
			taker.TakeJobs(nil, b.Claim.N) // their leases expire and they run then
		}
		return fmt.Errorf("%d events written, %d returned", len(b.Events), len(res.IDs))
	}
	for i, e := range b.Events {
		e.ID = res.IDs[i]
	}
	if b.Claim.N > 0 {
		taker.TakeJobs(claimedJobs(res.Claimed, b), b.Claim.N)
	}
	return nil
}

// newJobs is how many jobs the requests' events may make: one per event
// and receiver of its action. An action read from the snapshots carries no
// links, so up to claimFanOut receivers are assumed: a batch's spare
// reservations are released as soon as it is written, and jobs beyond
// them are queued as usual.
func newJobs(reqs []*emitRequest) int {
	n := 0
	for _, r := range reqs {
		receivers := len(r.action.ReceiverIDs)
		if receivers == 0 {
			receivers = claimFanOut
		}
		n += len(r.payloads) * receivers
	}
	return n
}

// claimFanOut is how many receivers newJobs assumes of an action whose
// links it does not know.
const claimFanOut = 4

// claimedJobs are the jobs a batch leased as it created them, each with
// its event, as a fetch would return them.
func claimedJobs(claimed []ClaimedJob, b EventBatch) []*steward.Job {
	events := make(map[int64]*steward.Event, len(b.Events))
	for _, e := range b.Events {
		events[e.ID] = e
	}
	jobs := make([]*steward.Job, 0, len(claimed))
	now, until := FromMicros(b.Now), FromMicros(b.Claim.LeaseUntil)
	for _, c := range claimed {
		e := events[c.EventID]
		if e == nil {
			continue // not one of the batch's events: cannot happen (its lease would expire)
		}
		jobs = append(jobs, &steward.Job{ID: c.ID, TenantID: e.TenantID, ActionID: c.ActionID, EventID: c.EventID,
			Kind: steward.JobKindReceive, State: steward.JobInProgress, RunAt: now, LeaseUntil: &until,
			Worker: b.Claim.Worker, StartedAt: &now, CreatedAt: now, Event: e})
	}
	return jobs
}
