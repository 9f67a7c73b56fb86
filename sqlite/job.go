package sqlite

import (
	"context"
	"database/sql"
	"strings"

	"github.com/steward-dev/steward"
	"github.com/steward-dev/steward/sqlstore"
)

// The job queue's statements in SQLite's SQL: lists of placeholders
// instead of arrays, and no row locks (the single writer connection
// serialises every write transaction).

// Listen returns at once: one process owns an SQLite database, and its
// own enqueues wake its workers directly.
func (dialect) Listen(context.Context, *sql.DB, func()) error { return nil }

// AnnounceJobs does nothing: there are no other processes to tell.
func (dialect) AnnounceJobs(context.Context, *sql.DB) error { return nil }

// OneStatementInsert is false: InsertJobs runs several statements, in the
// caller's transaction.
func (dialect) OneStatementInsert() bool { return false }

// AsyncCommit does nothing: the database runs with synchronous=NORMAL
// under WAL already.
func (dialect) AsyncCommit(context.Context, *sql.Tx) error { return nil }

// InsertJobs inserts the jobs 1000 rows per statement, then adds the
// deltas.
func (d dialect) InsertJobs(ctx context.Context, tx sqlstore.Queryer, now int64, jobs []steward.NewJob, deltas []sqlstore.JobCountDelta) error {
	for len(jobs) > 0 {
		n := min(len(jobs), 1000)
		args := make([]any, 0, 6*n)
		for _, j := range jobs[:n] {
			event := sql.NullInt64{Int64: j.EventID, Valid: j.EventID != 0}
			args = append(args, j.TenantID, j.ActionID, event, j.Kind, sqlstore.Micros(j.RunAt), now)
		}
		_, err := tx.ExecContext(ctx, `INSERT INTO jobs (tenant_id, action_id, event_id, kind, run_at, created_at, state)
			VALUES `+rows(n, "(?, ?, ?, ?, ?, ?, 0)"), args...)
		if err != nil {
			return err
		}
		jobs = jobs[n:]
	}
	return d.AddJobCounts(ctx, tx, deltas)
}

// AddJobCounts upserts the deltas (all on shard 0) 200 per statement.
func (dialect) AddJobCounts(ctx context.Context, tx sqlstore.Queryer, deltas []sqlstore.JobCountDelta) error {
	for len(deltas) > 0 {
		n := min(len(deltas), 200)
		args := make([]any, 0, 4*n)
		for _, d := range deltas[:n] {
			args = append(args, d.TenantID, d.ActionID, int(d.State), d.N)
		}
		_, err := tx.ExecContext(ctx, `INSERT INTO job_counts (tenant_id, action_id, state, shard, n) VALUES `+rows(n, "(?, ?, ?, 0, ?)")+
			` ON CONFLICT (tenant_id, action_id, state, shard) DO UPDATE SET n = job_counts.n + excluded.n`, args...)
		if err != nil {
			return err
		}
		deltas = deltas[n:]
	}
	return nil
}

// rows repeats one row of a VALUES list n times.
func rows(n int, row string) string {
	return strings.TrimSuffix(strings.Repeat(row+", ", n), ", ")
}

// idArgs returns "IN (?, ?, …)" for ids and its arguments, followed by
// more.
func idArgs(ids []int64, more ...any) (string, []any) {
	args := make([]any, 0, len(ids)+len(more))
	for _, id := range ids {
		args = append(args, id)
	}
	return "IN (" + strings.TrimSuffix(strings.Repeat("?, ", len(ids)), ", ") + ")", append(args, more...)
}

func (dialect) LeaseJobs(ctx context.Context, tx *sql.Tx, worker string, now, leaseUntil int64, limit int) (*sql.Rows, error) {
	return tx.QueryContext(ctx, `UPDATE jobs SET state = 1, lease_until = ?, worker = ?, started_at = ?
		WHERE id IN (SELECT id FROM jobs WHERE state = 0 AND run_at <= ? ORDER BY run_at, id LIMIT ?)
		RETURNING `+sqlstore.JobColumns, leaseUntil, worker, now, now, limit)
}

func (dialect) CompleteJobs(ctx context.Context, tx *sql.Tx, worker string, ids []int64) (*sql.Rows, error) {
	in, args := idArgs(ids, worker)
	return tx.QueryContext(ctx, `DELETE FROM jobs WHERE id `+in+` AND worker = ? AND state = 1 RETURNING tenant_id, action_id`, args...)
}

func (dialect) ExtendLeases(ctx context.Context, q sqlstore.Queryer, worker string, ids []int64, until int64) (*sql.Rows, error) {
	in, args := idArgs(ids, worker)
	return q.QueryContext(ctx, `UPDATE jobs SET lease_until = ? WHERE id `+in+` AND worker = ? AND state = 1 RETURNING id`,
		append([]any{until}, args...)...)
}

func (dialect) ReleaseJobs(ctx context.Context, tx *sql.Tx, worker string, ids []int64) (*sql.Rows, error) {
	in, args := idArgs(ids, worker)
	return tx.QueryContext(ctx, `UPDATE jobs SET state = 0, lease_until = NULL, worker = NULL, started_at = NULL
		WHERE id `+in+` AND worker = ? AND state = 1 RETURNING tenant_id, action_id`, args...)
}

func (dialect) RequeueExpiredLeases(ctx context.Context, tx *sql.Tx, now int64, limit int) (*sql.Rows, error) {
	return tx.QueryContext(ctx, `UPDATE jobs SET state = 0, lease_until = NULL, worker = NULL, started_at = NULL
		WHERE id IN (SELECT id FROM jobs WHERE state = 1 AND lease_until < ? LIMIT ?)
		RETURNING tenant_id, action_id`, now, limit)
}

func (dialect) RequeueDueRetries(ctx context.Context, tx *sql.Tx, now int64, limit int) (*sql.Rows, error) {
	return tx.QueryContext(ctx, `UPDATE jobs SET state = 0
		WHERE id IN (SELECT id FROM jobs WHERE state = 2 AND run_at <= ? LIMIT ?)
		RETURNING tenant_id, action_id`, now, limit)
}

func (dialect) RequeueDeadJobs(ctx context.Context, tx *sql.Tx, where string, args []any, after, now int64, limit int) (*sql.Rows, error) {
	return tx.QueryContext(ctx, `UPDATE jobs SET state = 0, run_at = ?, died_at = NULL
		WHERE id IN (SELECT id FROM jobs WHERE `+where+` AND id > ? ORDER BY id LIMIT ?)
		RETURNING tenant_id, action_id, id`, append(append([]any{now}, args...), after, limit)...)
}

func (dialect) DeleteJobBatch(ctx context.Context, tx *sql.Tx, where string, args []any, limit int) (*sql.Rows, error) {
	return tx.QueryContext(ctx, `DELETE FROM jobs WHERE id IN (SELECT id FROM jobs WHERE `+where+` LIMIT ?) RETURNING tenant_id, action_id`,
		append(args[:len(args):len(args)], limit)...)
}

func (dialect) DeleteJobBatchCount(ctx context.Context, tx *sql.Tx, where string, args []any, limit int) (int64, error) {
	res, err := tx.ExecContext(ctx, `DELETE FROM jobs WHERE id IN (SELECT id FROM jobs WHERE `+where+` LIMIT ?)`,
		append(args[:len(args):len(args)], limit)...)
	if err != nil {
		return 0, err
	}
	return res.RowsAffected()
}

func (dialect) DeleteOldestDeadJobs(ctx context.Context, tx *sql.Tx, tenantID int64, cond string, args []any, limit int) (*sql.Rows, error) {
	return tx.QueryContext(ctx, `DELETE FROM jobs WHERE id IN (SELECT id FROM jobs WHERE tenant_id = ? AND state = 3 `+cond+
		` ORDER BY died_at LIMIT ?) RETURNING tenant_id, action_id`, append(append([]any{tenantID}, args...), limit)...)
}

func (dialect) LockJob(ctx context.Context, tx *sql.Tx, tenantID, id int64) *sql.Row {
	return tx.QueryRowContext(ctx, `SELECT `+sqlstore.JobColumns+` FROM jobs WHERE jobs.id = ? AND jobs.tenant_id = ?`, id, tenantID)
}
