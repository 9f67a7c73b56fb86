package sqlstore

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"sort"
	"time"

	"github.com/steward-dev/steward"
)

var (
	_ steward.JobService = (*DB)(nil)
	_ steward.JobQueue   = (*DB)(nil)
)

// jobBatch bounds how many rows one queue statement touches, so that bulk
// operations hold the writer (SQLite) or row locks (PostgreSQL) briefly.
const jobBatch = 5000

// idBatch bounds how many job ids one statement names (SQLite allows a
// limited number of parameters per statement).
const idBatch = 500

func scanJob(s scanner, extra ...any) (*steward.Job, error) {
	var j steward.Job
	var event sql.NullInt64
	var worker sql.NullString
	var runAt, created int64
	var lease, started, lastRetry, died sql.NullInt64
	var state int
	dest := append([]any{&j.ID, &j.TenantID, &j.ActionID, &event, &j.Kind, &state, &j.RetryCount,
		&runAt, &lease, &worker, &started, &lastRetry, &j.ErrorClass, &j.ErrorMessage, &died, &created}, extra...)
	if err := s.Scan(dest...); err != nil {
		return nil, err
	}
	j.EventID, j.State, j.Worker = event.Int64, steward.JobState(state), worker.String
	j.RunAt, j.CreatedAt = FromMicros(runAt), FromMicros(created)
	j.LeaseUntil, j.StartedAt = FromNullMicros(lease), FromNullMicros(started)
	j.LastRetryAt, j.DiedAt = FromNullMicros(lastRetry), FromNullMicros(died)
	return &j, nil
}

func scanJobs(rows *sql.Rows, err error) ([]*steward.Job, error) {
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []*steward.Job
	for rows.Next() {
		j, err := scanJob(rows)
		if err != nil {
			return nil, err
		}
		out = append(out, j)
	}
	return out, rows.Err()
}

// scanJobsWithEvents reads jobs each followed by its event's id,
// action_id, story_id, payload, depth and created_at, which are NULL when
// it has none.
func scanJobsWithEvents(rows *sql.Rows, err error) ([]*steward.Job, error) {
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []*steward.Job
	for rows.Next() {
		var id, action, story, depth, created sql.NullInt64
		var payload sql.NullString
		j, err := scanJob(rows, &id, &action, &story, &payload, &depth, &created)
		if err != nil {
			return nil, err
		}
		if id.Valid {
			j.Event = &steward.Event{ID: id.Int64, TenantID: j.TenantID, ActionID: action.Int64, StoryID: story.Int64,
				Payload: json.RawMessage(payload.String), Depth: int(depth.Int64), CreatedAt: FromMicros(created.Int64)}
		}
		out = append(out, j)
	}
	return out, rows.Err()
}

// EnqueueJobs implements steward.JobService.
func (db *DB) EnqueueJobs(ctx context.Context, jobs []steward.NewJob) error {
	if len(jobs) == 0 {
		return nil
	}
	for _, j := range jobs {
		if j.TenantID < 1 || j.ActionID < 1 {
			return steward.Errorf(steward.EINVALID, "a job needs a tenant and an action (got tenant %d, action %d)", j.TenantID, j.ActionID)
		}
	}
	queued := true // whether to wake the workers: jobs went to the queue
	var err error
	if db.Dialect.OneStatementInsert() {
		queued, err = db.insertJobsAlone(ctx, jobs)
	} else {
		err = db.inTxRetry(ctx, func(tx *sql.Tx) error {
			return db.enqueueJobs(ctx, tx, jobs)
		})
	}
	if err != nil {
		return fmt.Errorf("enqueue jobs: %w", err)
	}
	if queued {
		db.jobsReady()
	}
	return nil
}

// insertJobsAlone inserts jobs and their counts with one statement that
// commits on its own: one round trip instead of a transaction's four. It
// runs again when a deadlock broke it, or when its connection died before
// the statement was sent (never when the outcome is unknown). Jobs due now
// are created leased to the engine taking new jobs (handoff.go), as many as
// it has idle workers, and handed to it; queued reports whether any job
// was queued instead.
func (db *DB) insertJobsAlone(ctx context.Context, jobs []steward.NewJob) (queued bool, err error) {
	now := db.Clock.Now()
	rows := jobRows(jobs, Micros(now))
	insert := func(q Queryer) error { return db.Dialect.InsertJobs(ctx, q, Micros(now), rows, rowCounts(rows, nil)) }
	leasing, _ := db.Dialect.(OneStatementQueue)
	taker := db.jobTaker()
	if taker == nil || leasing == nil {
		return true, db.statement(ctx, insert)
	}
	worker, lease := taker.TakerLease()
	claim := JobClaim{N: taker.ReserveJobs(due(rows, now)), Worker: worker, LeaseUntil: Micros(now.Add(lease))}
	if claim.N == 0 {
		return true, db.statement(ctx, insert)
	}
	var taken []*steward.Job
	defer func() { taker.TakeJobs(taken, claim.N) }()
	leased := leaseFirstDue(rows, now, claim.N)
	return len(rows) > claim.N, db.statement(ctx, func(q Queryer) (err error) {
		taken, err = scanJobs(leasing.InsertJobsLeasing(ctx, q, Micros(now), rows, rowCounts(rows, leased), claim, leased))
		return err
	})
}

// due is how many of rows are due at now.
func due(rows []steward.NewJob, now time.Time) int {
	n := 0
	for _, j := range rows {
		if !j.RunAt.After(now) {
			n++
		}
	}
	return n
}

// leaseFirstDue marks the first n of rows due at now to be created leased.
func leaseFirstDue(rows []steward.NewJob, now time.Time, n int) []bool {
	leased := make([]bool, len(rows))
	for i, j := range rows {
		if n > 0 && !j.RunAt.After(now) {
			leased[i] = true
			n--
		}
	}
	return leased
}

// enqueueJobs inserts jobs inside tx; the caller calls jobsReady after
// the commit.
func (db *DB) enqueueJobs(ctx context.Context, tx *sql.Tx, jobs []steward.NewJob) error {
	now := Micros(db.Clock.Now())
	rows := jobRows(jobs, now)
	return db.Dialect.InsertJobs(ctx, tx, now, rows, rowCounts(rows, nil))
}

// jobRows returns the jobs with their default kind and due time (now)
// filled in.
func jobRows(jobs []steward.NewJob, now int64) []steward.NewJob {
	rows := make([]steward.NewJob, len(jobs))
	for i, j := range jobs {
		if j.Kind == "" {
			j.Kind = steward.JobKindReceive
		}
		if j.RunAt.IsZero() {
			j.RunAt = FromMicros(now)
		}
		rows[i] = j
	}
	return rows
}

// rowCounts returns the job_counts deltas of creating rows: queued, or in
// progress where leased marks them.
func rowCounts(rows []steward.NewJob, leased []bool) []JobCountDelta {
	c := counts{}
	for i, j := range rows {
		state := steward.JobQueued
		if i < len(leased) && leased[i] {
			state = steward.JobInProgress
		}
		c.add(j.TenantID, j.ActionID, state, 1)
	}
	return c.deltas()
}

// FetchJobs implements steward.JobQueue.
func (db *DB) FetchJobs(ctx context.Context, worker string, limit int, lease time.Duration) ([]*steward.Job, error) {
	var out []*steward.Job
	if d, ok := db.Dialect.(OneStatementQueue); ok {
		err := db.statement(ctx, func(q Queryer) (err error) {
			now := db.Clock.Now()
			out, err = scanJobsWithEvents(d.LeaseJobsNow(ctx, q, worker, Micros(now), Micros(now.Add(lease)), limit))
			return err
		})
		if err != nil {
			return nil, fmt.Errorf("fetch jobs: %w", err)
		}
		sortByDue(out)
		return out, nil
	}
	err := db.inTxRetry(ctx, func(tx *sql.Tx) error {
		if err := db.Dialect.AsyncCommit(ctx, tx); err != nil {
			return err
		}
		now := db.Clock.Now()
		jobs, err := scanJobs(db.Dialect.LeaseJobs(ctx, tx, worker, Micros(now), Micros(now.Add(lease)), limit))
		if err != nil {
			return err
		}
		c := counts{}
		for _, j := range jobs {
			c.move(j.TenantID, j.ActionID, steward.JobQueued, steward.JobInProgress, 1)
		}
		out = jobs
		return c.apply(ctx, db, tx)
	})
	if err != nil {
		return nil, fmt.Errorf("fetch jobs: %w", err)
	}
	sortByDue(out)
	return out, nil
}

// sortByDue puts leased jobs in the order they were due.
func sortByDue(out []*steward.Job) {
	sort.Slice(out, func(i, k int) bool {
		if !out[i].RunAt.Equal(out[k].RunAt) {
			return out[i].RunAt.Before(out[k].RunAt)
		}
		return out[i].ID < out[k].ID
	})
}

// FinishJobs implements steward.JobQueue.
func (db *DB) FinishJobs(ctx context.Context, worker string, done []int64, failed []steward.JobFailure) error {
	if len(done) == 0 && len(failed) == 0 {
		return nil
	}
	if d, ok := db.Dialect.(OneStatementQueue); ok && len(failed) == 0 && len(done) <= idBatch {
		// The common case, every job of the batch completed: one statement.
		if err := db.statement(ctx, func(q Queryer) error {
			_, err := d.CompleteJobsNow(ctx, q, worker, done)
			return err
		}); err != nil {
			return fmt.Errorf("finish jobs: %w", err)
		}
		return nil
	}
	err := db.inTxRetry(ctx, func(tx *sql.Tx) error {
		if err := db.Dialect.AsyncCommit(ctx, tx); err != nil {
			return err
		}
		c := counts{}
		for rest := done; len(rest) > 0; {
			n := min(len(rest), idBatch)
			rows, err := db.Dialect.CompleteJobs(ctx, tx, worker, rest[:n])
			if _, err := countRows(rows, err, c, steward.JobInProgress, -1); err != nil {
				return err
			}
			rest = rest[n:]
		}
		if len(failed) == 0 {
			return c.apply(ctx, db, tx)
		}
		now := Micros(db.Clock.Now())
		stmt, err := tx.PrepareContext(ctx, db.Q(`UPDATE jobs SET state = ?, run_at = ?, retry_count = retry_count + ?,
			last_retry_at = ?, error_class = ?, error_message = ?, died_at = ?, lease_until = NULL, worker = NULL
			WHERE id = ? AND worker = ? AND state = 1 RETURNING tenant_id, action_id`))
		if err != nil {
			return err
		}
		defer stmt.Close()
		for _, f := range failed {
			state, inc, died := steward.JobRetry, 1, sql.NullInt64{}
			if f.Dead {
				state, inc, died = steward.JobDead, 0, sql.NullInt64{Int64: now, Valid: true}
			}
			var tenant, action int64
			err := stmt.QueryRowContext(ctx, int(state), Micros(f.RunAt), inc, now, steward.Truncate(f.ErrorClass, 200),
				steward.Truncate(f.ErrorMessage, 4000), died, f.ID, worker).Scan(&tenant, &action)
			if errors.Is(err, sql.ErrNoRows) {
				continue // the lease was lost; another worker owns the job now
			} else if err != nil {
				return err
			}
			c.move(tenant, action, steward.JobInProgress, state, 1)
		}
		return c.apply(ctx, db, tx)
	})
	if err != nil {
		return fmt.Errorf("finish jobs: %w", err)
	}
	return nil
}

// ExtendLeases implements steward.JobQueue. Renewing a lease is
// idempotent, so a batch whose connection died is renewed again.
func (db *DB) ExtendLeases(ctx context.Context, worker string, ids []int64, until time.Time) ([]int64, error) {
	var held []int64
	for rest := ids; len(rest) > 0; {
		n := min(len(rest), idBatch)
		var got []int64
		err := db.writeOutsideTx(ctx, db.Write, db.Dialect.ConnectionLost, false, func(q Queryer) (err error) {
			got, err = db.extendLeases(ctx, q, worker, rest[:n], Micros(until))
			return err
		})
		if err != nil {
			return held, fmt.Errorf("extend leases: %w", err)
		}
		held = append(held, got...)
		rest = rest[n:]
	}
	return held, nil
}

// extendLeases renews one batch of leases and returns the ids still held.
func (db *DB) extendLeases(ctx context.Context, q Queryer, worker string, ids []int64, until int64) ([]int64, error) {
	rows, err := db.Dialect.ExtendLeases(ctx, q, worker, ids, until)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var held []int64
	for rows.Next() {
		var id int64
		if err := rows.Scan(&id); err != nil {
			return nil, err
		}
		held = append(held, id)
	}
	return held, rows.Err()
}

// ReleaseJobs implements steward.JobQueue. Released jobs keep their due
// time, so they are the next to be fetched.
func (db *DB) ReleaseJobs(ctx context.Context, worker string, ids []int64) error {
	if len(ids) == 0 {
		return nil
	}
	err := db.inTxRetry(ctx, func(tx *sql.Tx) error {
		c := counts{}
		for rest := ids; len(rest) > 0; {
			n := min(len(rest), idBatch)
			rows, err := db.Dialect.ReleaseJobs(ctx, tx, worker, rest[:n])
			if _, err := movedRows(rows, err, c, steward.JobInProgress, steward.JobQueued); err != nil {
				return err
			}
			rest = rest[n:]
		}
		return c.apply(ctx, db, tx)
	})
	if err != nil {
		return fmt.Errorf("release jobs: %w", err)
	}
	db.jobsReady()
	return nil
}

// RescueJobs implements steward.JobQueue.
func (db *DB) RescueJobs(ctx context.Context, limit int) (int, error) {
	moved := 0
	err := db.inTxRetry(ctx, func(tx *sql.Tx) error {
		now := Micros(db.Clock.Now())
		c := counts{}
		rows, err := db.Dialect.RequeueExpiredLeases(ctx, tx, now, limit)
		expired, err := movedRows(rows, err, c, steward.JobInProgress, steward.JobQueued)
		if err != nil {
			return err
		}
		rows, err = db.Dialect.RequeueDueRetries(ctx, tx, now, limit)
		due, err := movedRows(rows, err, c, steward.JobRetry, steward.JobQueued)
		if err != nil {
			return err
		}
		moved = expired + due
		if moved == 0 {
			return nil
		}
		return c.apply(ctx, db, tx)
	})
	if err != nil {
		return 0, fmt.Errorf("rescue jobs: %w", err)
	}
	if moved > 0 {
		db.jobsReady()
	}
	return moved, nil
}

// NextDue implements steward.JobQueue.
func (db *DB) NextDue(ctx context.Context) (*time.Time, error) {
	var queued, retry sql.NullInt64
	if err := db.readRow(ctx, `SELECT (SELECT MIN(run_at) FROM jobs WHERE state = 0), (SELECT MIN(run_at) FROM jobs WHERE state = 2)`).
		Scan(&queued, &retry); err != nil {
		return nil, fmt.Errorf("next due job: %w", err)
	}
	if !queued.Valid || (retry.Valid && retry.Int64 < queued.Int64) {
		queued = retry
	}
	return FromNullMicros(queued), nil
}

// QueueSizes implements steward.JobQueue.
func (db *DB) QueueSizes(ctx context.Context) (map[steward.JobState]int64, error) {
	rows, err := db.query(ctx, `SELECT state, SUM(n) FROM job_counts WHERE action_id = 0 GROUP BY state`)
	if err != nil {
		return nil, fmt.Errorf("queue sizes: %w", err)
	}
	defer rows.Close()
	out := map[steward.JobState]int64{}
	for _, s := range steward.JobStates {
		out[s] = 0
	}
	for rows.Next() {
		var state int
		var n int64
		if err := rows.Scan(&state, &n); err != nil {
			return nil, err
		}
		out[steward.JobState(state)] = n
	}
	return out, rows.Err()
}
