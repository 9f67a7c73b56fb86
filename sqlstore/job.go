package sqlstore

import (
	"context"
	"database/sql"
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

const jobColumns = `jobs.id, jobs.tenant_id, jobs.action_id, jobs.event_id, jobs.kind, jobs.state, jobs.retry_count,
	jobs.run_at, jobs.lease_until, jobs.worker, jobs.started_at, jobs.last_retry_at, jobs.error_class,
	jobs.error_message, jobs.died_at, jobs.created_at`

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

// skipLocked is appended to queue subqueries on PostgreSQL so concurrent
// workers and bulk operations pass over each other's rows.
func (db *DB) skipLocked() string {
	if db.Postgres() {
		return " FOR UPDATE SKIP LOCKED"
	}
	return ""
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
	err := db.inTxRetry(ctx, func(tx *sql.Tx) error {
		return db.enqueueJobs(ctx, tx, jobs)
	})
	if err != nil {
		return fmt.Errorf("enqueue jobs: %w", err)
	}
	db.jobs.notify()
	return nil
}

// enqueueJobs inserts jobs inside tx; the caller notifies after commit.
func (db *DB) enqueueJobs(ctx context.Context, tx *sql.Tx, jobs []steward.NewJob) error {
	now := Micros(db.Clock.Now())
	c := counts{}
	if db.Postgres() {
		return db.enqueueArrays(ctx, tx, jobs, now, c)
	}
	for len(jobs) > 0 {
		n := min(len(jobs), 1000)
		args := make([]any, 0, 7*n)
		for _, j := range jobs[:n] {
			kind, runAt := j.Kind, now
			if kind == "" {
				kind = steward.JobKindReceive
			}
			if !j.RunAt.IsZero() {
				runAt = Micros(j.RunAt)
			}
			event := sql.NullInt64{Int64: j.EventID, Valid: j.EventID != 0}
			args = append(args, j.TenantID, j.ActionID, event, kind, runAt, now)
			c.add(j.TenantID, j.ActionID, steward.JobQueued, 1)
		}
		_, err := tx.ExecContext(ctx, db.Q(`INSERT INTO jobs (tenant_id, action_id, event_id, kind, run_at, created_at, state)
			VALUES `+placeholdersWithZero(n)), args...)
		if err != nil {
			return err
		}
		jobs = jobs[n:]
	}
	if err := c.apply(ctx, db, tx); err != nil {
		return err
	}
	return db.announceJobs(ctx, tx)
}

// enqueueArrays is enqueueJobs' PostgreSQL form: one INSERT over arrays,
// whose text (and cached plan) is the same for any number of jobs.
func (db *DB) enqueueArrays(ctx context.Context, tx *sql.Tx, jobs []steward.NewJob, now int64, c counts) error {
	n := len(jobs)
	tenants, actions, events, runAts := make([]int64, n), make([]int64, n), make([]int64, n), make([]int64, n)
	kinds := make([]string, n)
	for i, j := range jobs {
		tenants[i], actions[i], events[i], kinds[i], runAts[i] = j.TenantID, j.ActionID, j.EventID, j.Kind, now
		if kinds[i] == "" {
			kinds[i] = steward.JobKindReceive
		}
		if !j.RunAt.IsZero() {
			runAts[i] = Micros(j.RunAt)
		}
		c.add(j.TenantID, j.ActionID, steward.JobQueued, 1)
	}
	_, err := tx.ExecContext(ctx, db.Q(`INSERT INTO jobs (tenant_id, action_id, event_id, kind, run_at, created_at, state)
		SELECT t, a, NULLIF(e, 0), k, r, ?, 0 FROM unnest(?::bigint[], ?::bigint[], ?::bigint[], ?::text[], ?::bigint[]) AS u(t, a, e, k, r)`),
		now, tenants, actions, events, kinds, runAts)
	if err != nil {
		return err
	}
	if err := c.apply(ctx, db, tx); err != nil {
		return err
	}
	return db.announceJobs(ctx, tx)
}

// placeholdersWithZero is placeholders(rows, 6) with a literal 0 (queued)
// as each row's seventh value.
func placeholdersWithZero(rows int) string {
	b := make([]byte, 0, rows*24)
	for i := 0; i < rows; i++ {
		if i > 0 {
			b = append(b, ", "...)
		}
		b = append(b, "(?, ?, ?, ?, ?, ?, 0)"...)
	}
	return string(b)
}

// asyncCommit lets a PostgreSQL transaction commit without waiting for
// its WAL flush. Used for leasing and finishing jobs only: if the database
// crashes, the last moments of those are lost, so a job runs again — the
// at-least-once promise holds. Enqueues always wait for durability.
func (db *DB) asyncCommit(ctx context.Context, tx *sql.Tx) error {
	if !db.Postgres() {
		return nil
	}
	_, err := tx.ExecContext(ctx, `SET LOCAL synchronous_commit TO OFF`)
	return err
}

// FetchJobs implements steward.JobQueue.
func (db *DB) FetchJobs(ctx context.Context, worker string, limit int, lease time.Duration) ([]*steward.Job, error) {
	var out []*steward.Job
	err := db.inTxRetry(ctx, func(tx *sql.Tx) error {
		if err := db.asyncCommit(ctx, tx); err != nil {
			return err
		}
		now := db.Clock.Now()
		jobs, err := scanJobs(tx.QueryContext(ctx, db.Q(`UPDATE jobs SET state = 1, lease_until = ?, worker = ?, started_at = ?
			WHERE id IN (SELECT id FROM jobs WHERE state = 0 AND run_at <= ? ORDER BY run_at, id LIMIT ?`+db.skipLocked()+`)
			RETURNING `+jobColumns), Micros(now.Add(lease)), worker, Micros(now), Micros(now), limit))
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
	sort.Slice(out, func(i, k int) bool {
		if !out[i].RunAt.Equal(out[k].RunAt) {
			return out[i].RunAt.Before(out[k].RunAt)
		}
		return out[i].ID < out[k].ID
	})
	return out, nil
}

// FinishJobs implements steward.JobQueue.
func (db *DB) FinishJobs(ctx context.Context, worker string, done []int64, failed []steward.JobFailure) error {
	if len(done) == 0 && len(failed) == 0 {
		return nil
	}
	err := db.inTxRetry(ctx, func(tx *sql.Tx) error {
		if err := db.asyncCommit(ctx, tx); err != nil {
			return err
		}
		c := counts{}
		for rest := done; len(rest) > 0; {
			n := min(len(rest), 500)
			in, args := db.idIn(rest[:n])
			rows, err := tx.QueryContext(ctx, db.Q(`DELETE FROM jobs WHERE id `+in+` AND worker = ? AND state = 1
				RETURNING tenant_id, action_id`), append(args, worker)...)
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

// countRows adds d to the count of state for every (tenant_id, action_id)
// row returned, closes rows, and returns how many rows there were.
func countRows(rows *sql.Rows, err error, c counts, state steward.JobState, d int64) (int, error) {
	return eachTenantAction(rows, err, func(tenant, action int64) { c.add(tenant, action, state, d) })
}

// movedRows is countRows for a move between two states; it returns how
// many rows moved.
func movedRows(rows *sql.Rows, err error, c counts, from, to steward.JobState) (int, error) {
	return eachTenantAction(rows, err, func(tenant, action int64) { c.move(tenant, action, from, to, 1) })
}

// eachTenantAction calls f for every (tenant_id, action_id) row, closes
// rows, and returns how many rows there were.
func eachTenantAction(rows *sql.Rows, err error, f func(tenant, action int64)) (int, error) {
	if err != nil {
		return 0, err
	}
	defer rows.Close()
	n := 0
	for rows.Next() {
		var tenant, action int64
		if err := rows.Scan(&tenant, &action); err != nil {
			return n, err
		}
		f(tenant, action)
		n++
	}
	return n, rows.Err()
}

// ExtendLeases implements steward.JobQueue.
func (db *DB) ExtendLeases(ctx context.Context, worker string, ids []int64, until time.Time) ([]int64, error) {
	var held []int64
	for rest := ids; len(rest) > 0; {
		n := min(len(rest), 500)
		in, args := db.idIn(rest[:n])
		rows, err := db.Write.QueryContext(ctx, db.Q(`UPDATE jobs SET lease_until = ? WHERE id `+in+` AND worker = ? AND state = 1 RETURNING id`),
			append(append([]any{Micros(until)}, args...), worker)...)
		if err != nil {
			return held, fmt.Errorf("extend leases: %w", err)
		}
		for rows.Next() {
			var id int64
			if err := rows.Scan(&id); err != nil {
				rows.Close()
				return held, err
			}
			held = append(held, id)
		}
		rows.Close()
		if err := rows.Err(); err != nil {
			return held, err
		}
		rest = rest[n:]
	}
	return held, nil
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
			n := min(len(rest), 500)
			in, args := db.idIn(rest[:n])
			rows, err := tx.QueryContext(ctx, db.Q(`UPDATE jobs SET state = 0, lease_until = NULL, worker = NULL, started_at = NULL
				WHERE id `+in+` AND worker = ? AND state = 1 RETURNING tenant_id, action_id`), append(args, worker)...)
			if _, err := movedRows(rows, err, c, steward.JobInProgress, steward.JobQueued); err != nil {
				return err
			}
			rest = rest[n:]
		}
		if err := c.apply(ctx, db, tx); err != nil {
			return err
		}
		return db.announceJobs(ctx, tx)
	})
	if err != nil {
		return fmt.Errorf("release jobs: %w", err)
	}
	db.jobs.notify()
	return nil
}

// RescueJobs implements steward.JobQueue.
func (db *DB) RescueJobs(ctx context.Context, limit int) (int, error) {
	moved := 0
	err := db.inTxRetry(ctx, func(tx *sql.Tx) error {
		now := Micros(db.Clock.Now())
		c := counts{}
		rows, err := tx.QueryContext(ctx, db.Q(`UPDATE jobs SET state = 0, lease_until = NULL, worker = NULL, started_at = NULL
			WHERE id IN (SELECT id FROM jobs WHERE state = 1 AND lease_until < ? LIMIT ?`+db.skipLocked()+`)
			RETURNING tenant_id, action_id`), now, limit)
		expired, err := movedRows(rows, err, c, steward.JobInProgress, steward.JobQueued)
		if err != nil {
			return err
		}
		rows, err = tx.QueryContext(ctx, db.Q(`UPDATE jobs SET state = 0
			WHERE id IN (SELECT id FROM jobs WHERE state = 2 AND run_at <= ? LIMIT ?`+db.skipLocked()+`)
			RETURNING tenant_id, action_id`), now, limit)
		due, err := movedRows(rows, err, c, steward.JobRetry, steward.JobQueued)
		if err != nil {
			return err
		}
		moved = expired + due
		if moved == 0 {
			return nil
		}
		if err := c.apply(ctx, db, tx); err != nil {
			return err
		}
		return db.announceJobs(ctx, tx)
	})
	if err != nil {
		return 0, fmt.Errorf("rescue jobs: %w", err)
	}
	if moved > 0 {
		db.jobs.notify()
	}
	return moved, nil
}

// NextDue implements steward.JobQueue.
func (db *DB) NextDue(ctx context.Context) (*time.Time, error) {
	var queued, retry sql.NullInt64
	if err := db.Read.QueryRowContext(ctx, `SELECT MIN(run_at) FROM jobs WHERE state = 0`).Scan(&queued); err != nil {
		return nil, fmt.Errorf("next due job: %w", err)
	}
	if err := db.Read.QueryRowContext(ctx, `SELECT MIN(run_at) FROM jobs WHERE state = 2`).Scan(&retry); err != nil {
		return nil, fmt.Errorf("next due job: %w", err)
	}
	if !queued.Valid || (retry.Valid && retry.Int64 < queued.Int64) {
		queued = retry
	}
	return FromNullMicros(queued), nil
}

// QueueSizes implements steward.JobQueue.
func (db *DB) QueueSizes(ctx context.Context) (map[steward.JobState]int64, error) {
	rows, err := db.Read.QueryContext(ctx, `SELECT state, SUM(n) FROM job_counts WHERE action_id = 0 GROUP BY state`)
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
