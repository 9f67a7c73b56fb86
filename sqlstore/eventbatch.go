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
	// order of b.Events and how many jobs it queued.
	InsertEventBatch(ctx context.Context, q Queryer, b EventBatch) (ids []int64, jobs int, err error)
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
	var ids []int64
	var jobs int
	if err := db.statementOn(ctx, db.eventPool(), func(q Queryer) (err error) {
		ids, jobs, err = d.InsertEventBatch(ctx, q, b)
		return err
	}); err != nil {
		for _, r := range reqs {
			if r.completion != nil {
				r.completion.Abort()
			}
		}
		return err
	}
	if len(ids) != len(b.Events) {
		return fmt.Errorf("%d events written, %d returned", len(b.Events), len(ids))
	}
	for i, e := range b.Events {
		e.ID = ids[i]
	}
	for _, r := range reqs {
		if r.completion != nil {
			r.completion.MarkCompleted()
		}
	}
	if jobs > 0 {
		db.jobsReady()
	}
	return nil
}
