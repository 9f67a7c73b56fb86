package sqlstore

import (
	"context"
	"database/sql"
	"io/fs"

	"github.com/steward-dev/steward"
)

// Dialect is what one database engine contributes: the sqlite and
// postgres packages each implement it. Everything that differs between
// the engines is a method here (a capability, never a question about the
// engine's name), so shared code in this package holds no branch on the
// database.
type Dialect interface {
	// Name is "sqlite" or "postgres", for logs.
	Name() string
	// Migrations holds numbered NNNN_name.sql files applied in order.
	Migrations() fs.FS
	// LockMigrations takes a lock, held until release is called, that no
	// other process migrating the same database holds at the same time
	// (pg_advisory_lock on PostgreSQL; SQLite's single writer needs none).
	LockMigrations(ctx context.Context, db *sql.DB) (release func(), err error)
	ForeignKeysOffMigrator

	// Rebind returns query with its '?' placeholders in the engine's form.
	// Queries must not contain '?' anywhere else.
	Rebind(query string) string

	// TranslateError maps a driver error to a *steward.Error by error code
	// (unique violation → ECONFLICT, …) and returns other errors unchanged.
	TranslateError(err error) error
	// Transient reports whether a transaction failed for a reason that a
	// new attempt fixes: a deadlock or a serialization failure.
	Transient(err error) bool
	// ConnectionLost reports whether err means the connection the
	// statement ran on died (closed, terminated by an administrator, the
	// server shutting down), so that the transaction it belonged to did not
	// commit unless the error came from the commit itself.
	ConnectionLost(err error) bool
	// NotCommitted reports whether err, returned by a transaction's
	// commit, proves that the transaction did not commit: the commit was
	// never sent, or the server refused it. Other commit failures are
	// ambiguous and must not be retried.
	NotCommitted(err error) bool

	// LockTenant serialises transactions that change one tenant's admins
	// (a row lock on PostgreSQL; SQLite's single writer already does).
	LockTenant(ctx context.Context, tx *sql.Tx, tenantID int64) error

	JobDialect
}

// JobDialect holds the job queue's statements whose SQL differs between
// the engines. Statements that return rows document their columns; the
// caller closes the rows. Conditions passed in (where, cond) are shared SQL
// on the jobs table with '?' placeholders; args are their arguments.
type JobDialect interface {
	// Listen calls notify whenever another process announces jobs, until
	// ctx ends; it may return at once when the engine has no other
	// processes to hear (SQLite).
	Listen(ctx context.Context, db *sql.DB, notify func()) error
	// AnnounceJobs tells other processes now that jobs are ready. It runs
	// outside any transaction, after the jobs committed, at most once per
	// announceCooldown however many enqueues there were: a notification
	// inside each enqueue transaction made every enqueue wait for the
	// server's cluster-wide notification lock.
	AnnounceJobs(ctx context.Context, db *sql.DB) error
	// AsyncCommit lets tx commit without waiting for durability. Used for
	// leasing and finishing jobs only: a crash loses the last moments of
	// those and the jobs run again, as at-least-once delivery allows.
	AsyncCommit(ctx context.Context, tx *sql.Tx) error

	// InsertJobs inserts queued jobs created at now (Micros), with the
	// default kind and run_at already filled in, and adds deltas (sorted,
	// as for AddJobCounts) to job_counts. When OneStatementInsert reports
	// true it does both in one statement, so q may be the write pool itself
	// and the insert commits on its own in one round trip.
	InsertJobs(ctx context.Context, q Queryer, now int64, jobs []steward.NewJob, deltas []JobCountDelta) error
	// OneStatementInsert reports whether InsertJobs is one statement.
	OneStatementInsert() bool
	// AddJobCounts adds each delta to job_counts, in the given order (the
	// caller sorts them so that concurrent transactions cannot deadlock).
	AddJobCounts(ctx context.Context, q Queryer, deltas []JobCountDelta) error

	// LeaseJobs moves up to limit queued jobs due at now (oldest first) to
	// in progress under worker until leaseUntil, skipping rows other
	// transactions hold, and returns them as JobColumns.
	LeaseJobs(ctx context.Context, tx *sql.Tx, worker string, now, leaseUntil int64, limit int) (*sql.Rows, error)
	// CompleteJobs deletes the jobs of ids that worker holds and returns
	// (tenant_id, action_id) of each.
	CompleteJobs(ctx context.Context, tx *sql.Tx, worker string, ids []int64) (*sql.Rows, error)
	// ExtendLeases moves the leases of the jobs of ids that worker holds to
	// until and returns the id of each.
	ExtendLeases(ctx context.Context, q Queryer, worker string, ids []int64, until int64) (*sql.Rows, error)
	// ReleaseJobs returns the jobs of ids that worker holds to the queue,
	// keeping their due time, and returns (tenant_id, action_id) of each.
	ReleaseJobs(ctx context.Context, tx *sql.Tx, worker string, ids []int64) (*sql.Rows, error)
	// RequeueExpiredLeases returns up to limit jobs whose lease ended
	// before now to the queue and returns (tenant_id, action_id) of each.
	RequeueExpiredLeases(ctx context.Context, tx *sql.Tx, now int64, limit int) (*sql.Rows, error)
	// RequeueDueRetries moves up to limit retry jobs due at now to the
	// queue and returns (tenant_id, action_id) of each.
	RequeueDueRetries(ctx context.Context, tx *sql.Tx, now int64, limit int) (*sql.Rows, error)
	// RequeueDeadJobs queues up to limit dead jobs matching where with an
	// id above after, in id order, due at now, and returns (tenant_id,
	// action_id, id) of each.
	RequeueDeadJobs(ctx context.Context, tx *sql.Tx, where string, args []any, after, now int64, limit int) (*sql.Rows, error)
	// DeleteJobBatch deletes up to limit jobs matching where and returns
	// (tenant_id, action_id) of each.
	DeleteJobBatch(ctx context.Context, tx *sql.Tx, where string, args []any, limit int) (*sql.Rows, error)
	// DeleteJobBatchCount is DeleteJobBatch returning only how many rows
	// it deleted, for a where that fixes the tenant, action and state.
	DeleteJobBatchCount(ctx context.Context, tx *sql.Tx, where string, args []any, limit int) (int64, error)
	// DeleteOldestDeadJobs deletes up to limit of the tenant's dead jobs
	// matching cond (an "AND …" suffix, possibly empty), the earliest died
	// first, and returns (tenant_id, action_id) of each.
	DeleteOldestDeadJobs(ctx context.Context, tx *sql.Tx, tenantID int64, cond string, args []any, limit int) (*sql.Rows, error)
	// LockJob reads the tenant's job id as JobColumns, locking its row
	// until tx ends.
	LockJob(ctx context.Context, tx *sql.Tx, tenantID, id int64) *sql.Row
}

// OneStatementQueue is implemented by dialects that lease and complete
// jobs, their counters included, with one statement each that commits on
// its own without waiting for durability, where a transaction takes five
// round trips. The engine does both on every job.
type OneStatementQueue interface {
	// LeaseJobsNow is LeaseJobs with the counters moved, on q; each row is
	// JobColumns followed by the job's event's id, action_id, story_id, payload, depth
	// and created_at (NULL when it has none, or it is gone).
	LeaseJobsNow(ctx context.Context, q Queryer, worker string, now, leaseUntil int64, limit int) (*sql.Rows, error)
	// CompleteJobsNow deletes the jobs of ids that worker holds, takes them
	// off the counters and returns how many it deleted.
	CompleteJobsNow(ctx context.Context, q Queryer, worker string, ids []int64) (int, error)
	// InsertJobsLeasing is InsertJobs (one statement) where the jobs
	// marked in leased are created leased to claim.Worker until
	// claim.LeaseUntil (deltas count them in progress); it returns them as
	// JobColumns.
	InsertJobsLeasing(ctx context.Context, q Queryer, now int64, jobs []steward.NewJob, deltas []JobCountDelta,
		claim JobClaim, leased []bool) (*sql.Rows, error)
}

// JobColumns are the columns of a job, in the order scanJob reads them.
const JobColumns = `jobs.id, jobs.tenant_id, jobs.action_id, jobs.event_id, jobs.kind, jobs.state, jobs.retry_count,
	jobs.run_at, jobs.lease_until, jobs.worker, jobs.started_at, jobs.last_retry_at, jobs.error_class,
	jobs.error_message, jobs.died_at, jobs.created_at`

// JobCountDelta is a change to one counter of job_counts: the number of
// jobs of an action (0: the tenant's total) in a state.
type JobCountDelta struct {
	TenantID, ActionID int64
	State              steward.JobState
	N                  int64
}

// Queryer is what *sql.DB, *sql.Conn and *sql.Tx offer.
type Queryer interface {
	ExecContext(ctx context.Context, query string, args ...any) (sql.Result, error)
	QueryContext(ctx context.Context, query string, args ...any) (*sql.Rows, error)
	QueryRowContext(ctx context.Context, query string, args ...any) *sql.Row
}
