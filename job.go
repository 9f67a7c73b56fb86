package steward

import (
	"context"
	"strings"
	"sync/atomic"
	"time"
)

// JobState is where a job is in its life. Done jobs leave the queue.
type JobState int

// Job states, as stored.
const (
	JobQueued     JobState = 0 // waiting for a worker (or scheduled: RunAt in the future)
	JobInProgress JobState = 1 // leased by a worker
	JobRetry      JobState = 2 // failed; runs again at RunAt
	JobDead       JobState = 3 // failed too often; kept for inspection and manual retry
)

// JobStates lists every state in display order.
var JobStates = []JobState{JobQueued, JobInProgress, JobRetry, JobDead}

// String returns the state's API name (queued, in_progress, retry, dead).
func (s JobState) String() string {
	switch s {
	case JobQueued:
		return "queued"
	case JobInProgress:
		return "in_progress"
	case JobRetry:
		return "retry"
	case JobDead:
		return "dead"
	}
	return "unknown"
}

// ParseJobState reads a state's API name. EINVALID naming field otherwise.
func ParseJobState(field, s string) (JobState, error) {
	for _, st := range JobStates {
		if strings.EqualFold(strings.TrimSpace(s), st.String()) {
			return st, nil
		}
	}
	return 0, FieldErrorf(field, "%s must be one of queued, in_progress, retry, dead; got %q", field, s)
}

// Job kinds, named as Tines names its jobs.
const (
	JobKindReceive = "AgentReceiveJob" // deliver an event to an action
	JobKindRun     = "AgentCheckJob"   // run an action once on an empty event ("Run agent")
)

// Job is one unit of work: run an action, usually on one event.
type Job struct {
	ID           int64
	TenantID     int64
	ActionID     int64
	ActionName   string // filled by listings; "" when the action is gone
	EventID      int64  // 0: no event
	Kind         string
	State        JobState
	RetryCount   int // failures so far
	RunAt        time.Time
	LeaseUntil   *time.Time
	Worker       string
	StartedAt    *time.Time
	LastRetryAt  *time.Time
	ErrorClass   string
	ErrorMessage string
	DiedAt       *time.Time
	CreatedAt    time.Time
	// Event is the job's event when the queue read it with the job, which
	// saves the worker a query; nil: read it by EventID.
	Event *Event `json:"-"`
}

// NewJob is a job to enqueue.
type NewJob struct {
	TenantID int64
	ActionID int64
	EventID  int64     // 0: none
	Kind     string    // "" means JobKindReceive
	RunAt    time.Time // zero: now
}

// JobFailure is the outcome of a failed run, decided by the engine: retry
// at RunAt, or dead.
type JobFailure struct {
	ID           int64
	Dead         bool
	RunAt        time.Time
	ErrorClass   string
	ErrorMessage string
}

// JobFilter selects jobs of one tenant in one state.
type JobFilter struct {
	TenantID int64
	State    JobState
	ActionID int64 // 0: every action
	PageRequest
}

// JobStats are a tenant's (or one action's) queue sizes.
type JobStats struct {
	Queued         int64
	InProgress     int64
	Retry          int64
	Dead           int64
	OldestQueuedAt *time.Time
}

// JobService is the administrators' view of the queue. Every method is
// scoped to one tenant; bulk deletes run in bounded batches so that
// workers keep going while they run.
type JobService interface {
	// EnqueueJobs inserts jobs in one transaction and wakes workers.
	EnqueueJobs(ctx context.Context, jobs []NewJob) error
	// FindJobs returns one page of the tenant's jobs in a state and the
	// total (from the maintained counters): retry jobs by next retry time,
	// soonest first; dead jobs by time of death, newest first; others
	// oldest first; the id breaks ties.
	FindJobs(ctx context.Context, f JobFilter) ([]*Job, int, error)
	// FindJobByID returns ENOTFOUND if the tenant has no such job.
	FindJobByID(ctx context.Context, tenantID, id int64) (*Job, error)
	// DeleteJobs deletes the tenant's jobs in a state (queued, retry or
	// dead), of one action when actionID is not 0, and returns how many.
	// EINVALID for the in-progress state; ENOTFOUND when the tenant has no
	// action actionID (checked in the deleting transaction).
	DeleteJobs(ctx context.Context, tenantID int64, state JobState, actionID int64) (int64, error)
	// DeleteJob deletes one queued, retry or dead job. ENOTFOUND; EINVALID
	// when it is in progress.
	DeleteJob(ctx context.Context, tenantID, id int64) error
	// RetryJob makes one retry or dead job (or a scheduled one) due now.
	// ENOTFOUND; EINVALID when it is in progress.
	RetryJob(ctx context.Context, tenantID, id int64) (*Job, error)
	// RetryDeadJobs makes the tenant's dead jobs (of one action when
	// actionID is not 0) due now and returns how many. ENOTFOUND when the
	// tenant has no action actionID (checked in the same transaction).
	RetryDeadJobs(ctx context.Context, tenantID, actionID int64) (int64, error)
	// JobStats returns queue sizes of the tenant, or of one action.
	JobStats(ctx context.Context, tenantID, actionID int64) (*JobStats, error)
	// FindActionJobStats returns one page of the tenant's actions, in id
	// order (as FindActions lists them), each with its queue sizes, and the
	// number of the tenant's actions: one read for a queues dashboard.
	FindActionJobStats(ctx context.Context, tenantID int64, page PageRequest) ([]*ActionJobStats, int, error)
}

// ActionJobStats are one action's queue sizes.
type ActionJobStats struct {
	ActionID   int64
	ActionName string
	JobStats
}

// JobQueue is what the worker engine needs from storage: leasing,
// finishing and maintaining jobs in batches.
type JobQueue interface {
	// FetchJobs leases up to limit due queued jobs to worker until
	// now+lease, moving them to in progress.
	FetchJobs(ctx context.Context, worker string, limit int, lease time.Duration) ([]*Job, error)
	// FinishJobs deletes the worker's completed jobs and records failures,
	// in one transaction. Jobs the worker no longer leases are left alone.
	FinishJobs(ctx context.Context, worker string, done []int64, failed []JobFailure) error
	// ExtendLeases renews the worker's leases on ids until until and
	// returns the ids it still holds.
	ExtendLeases(ctx context.Context, worker string, ids []int64, until time.Time) ([]int64, error)
	// ReleaseJobs returns the worker's leased jobs to the queue, due now.
	ReleaseJobs(ctx context.Context, worker string, ids []int64) error
	// RescueJobs returns up to limit jobs whose lease has expired to the
	// queue, and moves up to limit due retry jobs to the queue; it returns
	// how many jobs it moved.
	RescueJobs(ctx context.Context, limit int) (int, error)
	// TrimDeadJobs deletes dead jobs beyond max per tenant and those that
	// died before olderThan, at most limit per call, and returns how many.
	TrimDeadJobs(ctx context.Context, max int64, olderThan time.Time, limit int) (int, error)
	// NextDue returns when the earliest queued or retry job is due, or nil.
	NextDue(ctx context.Context) (*time.Time, error)
	// JobsAvailable is signalled (without blocking) when jobs may have
	// become available in this process or, on PostgreSQL, in another one.
	JobsAvailable() <-chan struct{}
	// WatchJobs listens for other processes' enqueues (PostgreSQL) and
	// signals JobsAvailable until ctx ends; it returns at once on SQLite.
	WatchJobs(ctx context.Context) error
	// QueueSizes returns every tenant's counts per state (for metrics).
	QueueSizes(ctx context.Context) (map[JobState]int64, error)
}

// JobTaker is an engine that takes new jobs as they are created: a store
// that can lease the jobs it is creating (JobHandoff) leases them to the
// taker in the statement that creates them and hands them over, so that a
// job created while a worker is free starts without a fetch (a round trip
// and a wake-up) in between.
type JobTaker interface {
	// TakerLease names the worker the jobs are leased to, and for how long.
	TakerLease() (worker string, lease time.Duration)
	// ReserveJobs reserves up to n workers for new jobs and returns how
	// many it reserved: 0 while the taker is busy with queued jobs (a new
	// job must not overtake them) or stopping.
	ReserveJobs(n int) int
	// TakeJobs hands over jobs leased to the taker, in place of reserved
	// reservations; the reservations left over are released. A failed
	// write hands over no jobs.
	TakeJobs(jobs []*Job, reserved int)
}

// JobHandoff is implemented by a JobQueue that can hand the jobs it
// creates to a JobTaker.
type JobHandoff interface {
	// HandNewJobsTo makes t the taker of new jobs until stop is called. A
	// store has one taker at a time: while another is set, t is not.
	HandNewJobsTo(t JobTaker) (stop func())
}

// JobCompletion is a running job's offer to be completed by its last
// write: the engine puts one in the context of each job it runs, and a
// store that can delete the job (with its counters) in the same statement
// as the job's events does so and marks it completed, so that the events
// and the completion commit together and the engine records nothing more
// for that job. A store that cannot leaves it alone and the engine
// completes the job as usual.
//
// While the write is under way the job may vanish from the queue at any
// moment, so the engine's heartbeat must not take its absence for a lost
// lease: Begin marks that time, and Abort ends it if the write failed.
type JobCompletion struct {
	JobID  int64
	Worker string
	state  atomic.Int32 // 0 offered, 1 being written, 2 completed
}

// Begin records that a write completing the job is under way.
func (c *JobCompletion) Begin() { c.state.CompareAndSwap(0, 1) }

// Abort records that the write begun did not commit.
func (c *JobCompletion) Abort() { c.state.CompareAndSwap(1, 0) }

// MarkCompleted records that the store completed the job.
func (c *JobCompletion) MarkCompleted() { c.state.Store(2) }

// Completed reports whether the store completed the job.
func (c *JobCompletion) Completed() bool { return c != nil && c.state.Load() == 2 }

// Pending reports whether a write completing the job is under way or done:
// the job may be gone from the queue without its lease having been lost.
func (c *JobCompletion) Pending() bool { return c != nil && c.state.Load() != 0 }

type jobCompletionKey struct{}

// WithJobCompletion returns ctx carrying c.
func WithJobCompletion(ctx context.Context, c *JobCompletion) context.Context {
	return context.WithValue(ctx, jobCompletionKey{}, c)
}

// JobCompletionFrom returns the completion ctx carries, or nil.
func JobCompletionFrom(ctx context.Context) *JobCompletion {
	c, _ := ctx.Value(jobCompletionKey{}).(*JobCompletion)
	return c
}
