package sqlstore

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"

	"github.com/steward-dev/steward"
)

// jobWhere returns the condition selecting a tenant's jobs in a state, of
// one action when actionID is not 0. The state is written into the SQL, so
// that both planners see which partial index applies: jobs_retry_list or
// jobs_retry_action_list for retry jobs, jobs_lease for jobs in progress,
// and otherwise jobs_tenant_state or jobs_action_state (whose "state <> 1
// AND state <> 2" it repeats, since SQLite proves a partial index usable
// only from terms the query spells out).
func jobWhere(tenantID int64, state steward.JobState, actionID int64) (string, []any) {
	var cond string
	switch state {
	case steward.JobInProgress:
		// The range on lease_until steers both planners to jobs_lease.
		cond = `jobs.state = 1 AND jobs.lease_until >= 0`
	case steward.JobRetry:
		cond = `jobs.state = 2`
	default:
		cond = fmt.Sprintf(`jobs.state = %d AND jobs.state <> 1 AND jobs.state <> 2`, int(state))
	}
	if actionID != 0 {
		return cond + ` AND jobs.tenant_id = ? AND jobs.action_id = ?`, []any{tenantID, actionID}
	}
	return cond + ` AND jobs.tenant_id = ?`, []any{tenantID}
}

// jobOrder is the "oldest first" order for jobWhere's selection: the
// serving index's order (with "ORDER BY id" PostgreSQL may walk the
// primary key past every other job instead).
func jobOrder(state steward.JobState, actionID int64) string {
	if state == steward.JobInProgress {
		return `jobs.id`
	}
	return `jobs.created_at, jobs.id`
}

// FindJobs implements steward.JobService.
func (db *DB) FindJobs(ctx context.Context, f steward.JobFilter) ([]*steward.Job, int, error) {
	total, err := db.countJobs(ctx, f.TenantID, f.State, f.ActionID)
	if err != nil {
		return nil, 0, fmt.Errorf("count jobs: %w", err)
	}
	where, order, args := jobListQuery(f.TenantID, f.State, f.ActionID)
	rows, err := db.query(ctx, `SELECT `+JobColumns+`, COALESCE(actions.name, '') FROM jobs
		LEFT JOIN actions ON actions.id = jobs.action_id AND actions.tenant_id = jobs.tenant_id
		WHERE `+where+` ORDER BY `+order+` LIMIT ? OFFSET ?`, append(args, f.PerPage, f.Offset())...)
	if err != nil {
		return nil, 0, fmt.Errorf("find jobs: %w", err)
	}
	defer rows.Close()
	jobs := []*steward.Job{}
	for rows.Next() {
		var name string
		j, err := scanJob(rows, &name)
		if err != nil {
			return nil, 0, fmt.Errorf("find jobs: %w", err)
		}
		j.ActionName = name
		jobs = append(jobs, j)
	}
	return jobs, int(total), rows.Err()
}

// FindJobByID implements steward.JobService.
func (db *DB) FindJobByID(ctx context.Context, tenantID, id int64) (*steward.Job, error) {
	var name string
	j, err := scanJob(db.queryRow(ctx, `SELECT `+JobColumns+`, COALESCE(actions.name, '') FROM jobs
		LEFT JOIN actions ON actions.id = jobs.action_id AND actions.tenant_id = jobs.tenant_id
		WHERE jobs.id = ? AND jobs.tenant_id = ?`, id, tenantID), &name)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, notFound("job")
	} else if err != nil {
		return nil, fmt.Errorf("find job %d: %w", id, err)
	}
	j.ActionName = name
	return j, nil
}

// DeleteJobs implements steward.JobService. Each batch is its own
// transaction, so workers interleave with a large delete.
func (db *DB) DeleteJobs(ctx context.Context, tenantID int64, state steward.JobState, actionID int64) (int64, error) {
	if state == steward.JobInProgress {
		return 0, steward.FieldErrorf("state", "jobs in progress cannot be deleted; they finish or their lease expires")
	}
	where, args := jobWhere(tenantID, state, actionID)
	var total int64
	for {
		var n int
		err := db.inTxRetry(ctx, func(tx *sql.Tx) error {
			c := counts{}
			if actionID != 0 {
				if err := db.checkAction(ctx, tx, tenantID, actionID); err != nil {
					return err
				}
				// One action: every deleted row has the same counter, so the
				// rows need not come back to be counted.
				affected, err := db.Dialect.DeleteJobBatchCount(ctx, tx, where, args, jobBatch)
				if err != nil {
					return err
				}
				n = int(affected)
				c.add(tenantID, actionID, state, -affected)
				return c.apply(ctx, db, tx)
			}
			rows, err := db.Dialect.DeleteJobBatch(ctx, tx, where, args, jobBatch)
			if n, err = countRows(rows, err, c, state, -1); err != nil {
				return err
			}
			return c.apply(ctx, db, tx)
		})
		if err != nil {
			return total, fmt.Errorf("delete jobs: %w", err)
		}
		total += int64(n)
		if n == 0 {
			return total, nil
		}
	}
}

// checkAction returns ENOTFOUND unless the tenant has the action. It runs
// inside the transaction that changes the action's jobs, so that the
// change and the ownership check see the same database.
func (db *DB) checkAction(ctx context.Context, tx *sql.Tx, tenantID, actionID int64) error {
	var n int
	if err := tx.QueryRowContext(ctx, db.Q(`SELECT COUNT(*) FROM actions WHERE id = ? AND tenant_id = ?`), actionID, tenantID).Scan(&n); err != nil {
		return err
	}
	if n == 0 {
		return notFound("action")
	}
	return nil
}

// lockJob reads one of the tenant's jobs inside tx, locking it, and
// refuses jobs in progress.
func (db *DB) lockJob(ctx context.Context, tx *sql.Tx, tenantID, id int64, verb string) (*steward.Job, error) {
	j, err := scanJob(db.Dialect.LockJob(ctx, tx, tenantID, id))
	if errors.Is(err, sql.ErrNoRows) {
		return nil, notFound("job")
	} else if err != nil {
		return nil, err
	}
	if j.State == steward.JobInProgress {
		return nil, steward.Errorf(steward.EINVALID, "job %d is in progress and cannot be %s; it finishes or its lease expires", id, verb)
	}
	return j, nil
}

// DeleteJob implements steward.JobService.
func (db *DB) DeleteJob(ctx context.Context, tenantID, id int64) error {
	err := db.inTxRetry(ctx, func(tx *sql.Tx) error {
		j, err := db.lockJob(ctx, tx, tenantID, id, "deleted")
		if err != nil {
			return err
		}
		if _, err := tx.ExecContext(ctx, db.Q(`DELETE FROM jobs WHERE id = ? AND tenant_id = ?`), id, tenantID); err != nil {
			return err
		}
		c := counts{}
		c.add(j.TenantID, j.ActionID, j.State, -1)
		return c.apply(ctx, db, tx)
	})
	if err != nil {
		return fmt.Errorf("delete job %d: %w", id, err)
	}
	return nil
}

// RetryJob implements steward.JobService. The retry count is kept, as
// Sidekiq does: a dead job that fails again dies again.
func (db *DB) RetryJob(ctx context.Context, tenantID, id int64) (*steward.Job, error) {
	err := db.inTxRetry(ctx, func(tx *sql.Tx) error {
		j, err := db.lockJob(ctx, tx, tenantID, id, "retried")
		if err != nil {
			return err
		}
		if _, err := tx.ExecContext(ctx, db.Q(`UPDATE jobs SET state = 0, run_at = ?, died_at = NULL WHERE id = ? AND tenant_id = ?`),
			Micros(db.Clock.Now()), id, tenantID); err != nil {
			return err
		}
		c := counts{}
		c.move(j.TenantID, j.ActionID, j.State, steward.JobQueued, 1)
		return c.apply(ctx, db, tx)
	})
	if err != nil {
		return nil, fmt.Errorf("retry job %d: %w", id, err)
	}
	db.jobsReady()
	return db.FindJobByID(ctx, tenantID, id)
}

// RetryDeadJobs implements steward.JobService, in bounded batches.
func (db *DB) RetryDeadJobs(ctx context.Context, tenantID, actionID int64) (int64, error) {
	where, args := jobWhere(tenantID, steward.JobDead, actionID)
	var total int64
	// Walk the dead jobs in id order from a cursor, so a job retried by
	// this call that fails and dies again meanwhile is not retried twice.
	var after int64
	for {
		var n int
		var last int64
		err := db.inTxRetry(ctx, func(tx *sql.Tx) error {
			if actionID != 0 {
				if err := db.checkAction(ctx, tx, tenantID, actionID); err != nil {
					return err
				}
			}
			c := counts{}
			rows, err := db.Dialect.RequeueDeadJobs(ctx, tx, where, args, after, Micros(db.Clock.Now()), jobBatch)
			if err != nil {
				return err
			}
			defer rows.Close()
			n, last = 0, after
			for rows.Next() {
				var tenant, action, id int64
				if err := rows.Scan(&tenant, &action, &id); err != nil {
					return err
				}
				c.move(tenant, action, steward.JobDead, steward.JobQueued, 1)
				last = max(last, id)
				n++
			}
			if err := rows.Err(); err != nil || n == 0 {
				return err
			}
			return c.apply(ctx, db, tx)
		})
		after = last
		if err != nil {
			return total, fmt.Errorf("retry dead jobs: %w", err)
		}
		total += int64(n)
		if n == 0 {
			if total > 0 {
				db.jobsReady()
			}
			return total, nil
		}
	}
}

// JobStats implements steward.JobService: counts come from job_counts and
// the oldest queued job from the head of an index, so the cost does not
// grow with the queue.
func (db *DB) JobStats(ctx context.Context, tenantID, actionID int64) (*steward.JobStats, error) {
	// action_id 0 holds the tenant's totals (see counts.apply).
	rows, err := db.query(ctx, `SELECT state, COALESCE(SUM(n), 0) FROM job_counts
		WHERE tenant_id = ? AND action_id = ? GROUP BY state`, tenantID, actionID)
	if err != nil {
		return nil, fmt.Errorf("job stats: %w", err)
	}
	defer rows.Close()
	st := &steward.JobStats{}
	for rows.Next() {
		var state int
		var n int64
		if err := rows.Scan(&state, &n); err != nil {
			return nil, err
		}
		switch steward.JobState(state) {
		case steward.JobQueued:
			st.Queued = n
		case steward.JobInProgress:
			st.InProgress = n
		case steward.JobRetry:
			st.Retry = n
		case steward.JobDead:
			st.Dead = n
		}
	}
	if err := rows.Err(); err != nil {
		return nil, err
	}
	where, wargs := jobWhere(tenantID, steward.JobQueued, actionID)
	var oldest int64
	err = db.queryRow(ctx, `SELECT created_at FROM jobs WHERE `+where+` ORDER BY `+jobOrder(steward.JobQueued, actionID)+` LIMIT 1`, wargs...).Scan(&oldest)
	if err == nil {
		t := FromMicros(oldest)
		st.OldestQueuedAt = &t
	} else if !errors.Is(err, sql.ErrNoRows) {
		return nil, fmt.Errorf("job stats: %w", err)
	}
	return st, nil
}

// TrimDeadJobs implements steward.JobQueue: per tenant, dead jobs that
// died before olderThan go, then the oldest beyond max.
func (db *DB) TrimDeadJobs(ctx context.Context, max int64, olderThan time.Time, limit int) (int, error) {
	rows, err := db.query(ctx, `SELECT tenant_id, SUM(n) FROM job_counts WHERE action_id = 0 AND state = 3 GROUP BY tenant_id HAVING SUM(n) > 0`)
	if err != nil {
		return 0, fmt.Errorf("trim dead jobs: %w", err)
	}
	type tenantDead struct{ tenant, n int64 }
	var tenants []tenantDead
	for rows.Next() {
		var t tenantDead
		if err := rows.Scan(&t.tenant, &t.n); err != nil {
			rows.Close()
			return 0, err
		}
		tenants = append(tenants, t)
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return 0, err
	}
	trimmed := 0
	for _, t := range tenants {
		if trimmed >= limit {
			break
		}
		n, err := db.trimTenantDead(ctx, t.tenant, `AND died_at < ?`, []any{Micros(olderThan)}, limit-trimmed)
		trimmed += n
		if err != nil {
			return trimmed, err
		}
		if excess := t.n - int64(n) - max; excess > 0 && trimmed < limit {
			n, err := db.trimTenantDead(ctx, t.tenant, ``, nil, int(min(excess, int64(limit-trimmed))))
			trimmed += n
			if err != nil {
				return trimmed, err
			}
		}
	}
	return trimmed, nil
}

// trimTenantDead deletes up to limit of the tenant's oldest dead jobs
// matching cond, in one transaction.
func (db *DB) trimTenantDead(ctx context.Context, tenantID int64, cond string, args []any, limit int) (int, error) {
	var n int
	err := db.inTxRetry(ctx, func(tx *sql.Tx) error {
		c := counts{}
		rows, err := db.Dialect.DeleteOldestDeadJobs(ctx, tx, tenantID, cond, args, limit)
		if n, err = countRows(rows, err, c, steward.JobDead, -1); err != nil {
			return err
		}
		return c.apply(ctx, db, tx)
	})
	if err != nil {
		return 0, fmt.Errorf("trim dead jobs of tenant %d: %w", tenantID, err)
	}
	return n, nil
}
