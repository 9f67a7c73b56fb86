package postgres

import (
	"context"
	"database/sql"
	"math/rand/v2"
	"strings"

	"github.com/steward-dev/steward"
	"github.com/steward-dev/steward/sqlstore"
)

// The job queue's statements in PostgreSQL's own SQL: arrays instead of
// lists of placeholders (one statement text, and one cached plan, for any
// number of rows), and FOR UPDATE SKIP LOCKED so that concurrent workers
// and bulk operations pass over each other's rows.

// AsyncCommit turns off synchronous_commit for tx.
func (*dialect) AsyncCommit(ctx context.Context, tx *sql.Tx) error {
	_, err := tx.ExecContext(ctx, `SET LOCAL synchronous_commit TO OFF`)
	return err
}

// OneStatementInsert is true: InsertJobs is one statement.
func (*dialect) OneStatementInsert() bool { return true }

// InsertJobs inserts every job and adds the deltas to one random shard of
// job_counts with one statement (a data-modifying WITH over arrays), so a
// single enqueue is one round trip that commits on its own.
func (d *dialect) InsertJobs(ctx context.Context, q sqlstore.Queryer, now int64, jobs []steward.NewJob, deltas []sqlstore.JobCountDelta) error {
	rows, err := d.InsertJobsLeasing(ctx, q, now, jobs, deltas, sqlstore.JobClaim{}, nil)
	if err != nil {
		return err
	}
	rows.Close()
	return rows.Err()
}

// InsertJobsLeasing is InsertJobs creating the jobs marked in leased
// already leased to claim.Worker.
func (*dialect) InsertJobsLeasing(ctx context.Context, q sqlstore.Queryer, now int64, jobs []steward.NewJob, deltas []sqlstore.JobCountDelta,
	claim sqlstore.JobClaim, leased []bool) (*sql.Rows, error) {
	n := len(jobs)
	tenants, actions, events, runAts := make([]int64, n), make([]int64, n), make([]int64, n), make([]int64, n)
	kinds := make([]string, n)
	lease := make([]bool, n)
	for i, j := range jobs {
		tenants[i], actions[i], events[i], kinds[i], runAts[i] = j.TenantID, j.ActionID, j.EventID, j.Kind, sqlstore.Micros(j.RunAt)
		lease[i] = i < len(leased) && leased[i]
	}
	ct, ca, cs, csh, cn := countArrays(deltas)
	rows, err := q.QueryContext(ctx, `WITH inserted AS (
			INSERT INTO jobs (tenant_id, action_id, event_id, kind, run_at, created_at, state, worker, lease_until, started_at)
			SELECT t, a, NULLIF(e, 0), k, r, $1, CASE WHEN l THEN 1 ELSE 0 END,
				CASE WHEN l THEN $13::text END, CASE WHEN l THEN $14::bigint END, CASE WHEN l THEN $1::bigint END
			FROM unnest($2::bigint[], $3::bigint[], $4::bigint[], $5::text[], $6::bigint[], $12::boolean[]) AS u(t, a, e, k, r, l)
			RETURNING `+sqlstore.JobColumns+`),
		counted AS (
			INSERT INTO job_counts (tenant_id, action_id, state, shard, n)
			SELECT * FROM unnest($7::bigint[], $8::bigint[], $9::smallint[], $10::smallint[], $11::bigint[])
			ON CONFLICT (tenant_id, action_id, state, shard) DO UPDATE SET n = job_counts.n + excluded.n)
		SELECT * FROM inserted jobs WHERE state = 1`,
		now, tenants, actions, events, kinds, runAts, ct, ca, cs, csh, cn, lease, claim.Worker, claim.LeaseUntil)
	return rows, err
}

// countShards is how many job_counts rows share one (tenant, action,
// state): each transaction adds to one shard at random, so that busy
// counters do not serialise every transaction on one row.
const countShards = 16

// AddJobCounts adds the deltas to one random shard with one statement.
func (*dialect) AddJobCounts(ctx context.Context, q sqlstore.Queryer, deltas []sqlstore.JobCountDelta) error {
	tenants, actions, states, shards, ns := countArrays(deltas)
	_, err := q.ExecContext(ctx, `INSERT INTO job_counts (tenant_id, action_id, state, shard, n)
		SELECT * FROM unnest($1::bigint[], $2::bigint[], $3::smallint[], $4::smallint[], $5::bigint[])
		ON CONFLICT (tenant_id, action_id, state, shard) DO UPDATE SET n = job_counts.n + excluded.n`,
		tenants, actions, states, shards, ns)
	return err
}

// countArrays returns the deltas as the arrays of job_counts' columns,
// every one on the same random shard.
func countArrays(deltas []sqlstore.JobCountDelta) (tenants, actions, states, shards, ns []int64) {
	n := len(deltas)
	tenants, actions, states, shards, ns = make([]int64, n), make([]int64, n), make([]int64, n), make([]int64, n), make([]int64, n)
	shard := int64(rand.IntN(countShards))
	for i, d := range deltas {
		tenants[i], actions[i], states[i], shards[i], ns[i] = d.TenantID, d.ActionID, int64(d.State), shard, d.N
	}
	return tenants, actions, states, shards, ns
}

func (*dialect) LeaseJobs(ctx context.Context, tx *sql.Tx, worker string, now, leaseUntil int64, limit int) (*sql.Rows, error) {
	return tx.QueryContext(ctx, `UPDATE jobs SET state = 1, lease_until = $1, worker = $2, started_at = $3
		WHERE id IN (SELECT id FROM jobs WHERE state = 0 AND run_at <= $3 ORDER BY run_at, id LIMIT $4 FOR UPDATE SKIP LOCKED)
		RETURNING `+sqlstore.JobColumns, leaseUntil, worker, now, limit)
}

func (*dialect) CompleteJobs(ctx context.Context, tx *sql.Tx, worker string, ids []int64) (*sql.Rows, error) {
	return tx.QueryContext(ctx, `DELETE FROM jobs WHERE id = ANY($1) AND worker = $2 AND state = 1
		RETURNING tenant_id, action_id`, ids, worker)
}

func (*dialect) ExtendLeases(ctx context.Context, q sqlstore.Queryer, worker string, ids []int64, until int64) (*sql.Rows, error) {
	return q.QueryContext(ctx, `UPDATE jobs SET lease_until = $1 WHERE id = ANY($2) AND worker = $3 AND state = 1 RETURNING id`,
		until, ids, worker)
}

func (*dialect) ReleaseJobs(ctx context.Context, tx *sql.Tx, worker string, ids []int64) (*sql.Rows, error) {
	return tx.QueryContext(ctx, `UPDATE jobs SET state = 0, lease_until = NULL, worker = NULL, started_at = NULL
		WHERE id = ANY($1) AND worker = $2 AND state = 1 RETURNING tenant_id, action_id`, ids, worker)
}

func (*dialect) RequeueExpiredLeases(ctx context.Context, tx *sql.Tx, now int64, limit int) (*sql.Rows, error) {
	return tx.QueryContext(ctx, `UPDATE jobs SET state = 0, lease_until = NULL, worker = NULL, started_at = NULL
		WHERE id IN (SELECT id FROM jobs WHERE state = 1 AND lease_until < $1 LIMIT $2 FOR UPDATE SKIP LOCKED)
		RETURNING tenant_id, action_id`, now, limit)
}

func (*dialect) RequeueDueRetries(ctx context.Context, tx *sql.Tx, now int64, limit int) (*sql.Rows, error) {
	return tx.QueryContext(ctx, `UPDATE jobs SET state = 0
		WHERE id IN (SELECT id FROM jobs WHERE state = 2 AND run_at <= $1 LIMIT $2 FOR UPDATE SKIP LOCKED)
		RETURNING tenant_id, action_id`, now, limit)
}

func (d *dialect) RequeueDeadJobs(ctx context.Context, tx *sql.Tx, where string, args []any, after, now int64, limit int) (*sql.Rows, error) {
	return tx.QueryContext(ctx, d.Rebind(`UPDATE jobs SET state = 0, run_at = ?, died_at = NULL
		WHERE id IN (SELECT id FROM jobs WHERE `+where+` AND id > ? ORDER BY id LIMIT ? FOR UPDATE SKIP LOCKED)
		RETURNING tenant_id, action_id, id`), append(append([]any{now}, args...), after, limit)...)
}

// batchOf is a condition choosing up to one batch (the last '?') of the
// jobs matching where. It addresses the rows by their physical location
// (ctid), locking them and skipping rows another transaction holds, which
// saves an index lookup per row over "id IN (...)".
func batchOf(where string) string {
	return `ctid = ANY(ARRAY(SELECT ctid FROM jobs WHERE ` + where + ` LIMIT ? FOR UPDATE SKIP LOCKED))`
}

func (d *dialect) DeleteJobBatch(ctx context.Context, tx *sql.Tx, where string, args []any, limit int) (*sql.Rows, error) {
	return tx.QueryContext(ctx, d.Rebind(`DELETE FROM jobs WHERE `+batchOf(where)+` RETURNING tenant_id, action_id`),
		append(args[:len(args):len(args)], limit)...)
}

func (d *dialect) DeleteJobBatchCount(ctx context.Context, tx *sql.Tx, where string, args []any, limit int) (int64, error) {
	res, err := tx.ExecContext(ctx, d.Rebind(`DELETE FROM jobs WHERE `+batchOf(where)), append(args[:len(args):len(args)], limit)...)
	if err != nil {
		return 0, err
	}
	return res.RowsAffected()
}

func (d *dialect) DeleteOldestDeadJobs(ctx context.Context, tx *sql.Tx, tenantID int64, cond string, args []any, limit int) (*sql.Rows, error) {
	return tx.QueryContext(ctx, d.Rebind(`DELETE FROM jobs WHERE id IN (SELECT id FROM jobs WHERE tenant_id = ? AND state = 3 `+cond+
		` ORDER BY died_at LIMIT ? FOR UPDATE SKIP LOCKED) RETURNING tenant_id, action_id`), append(append([]any{tenantID}, args...), limit)...)
}

func (*dialect) LockJob(ctx context.Context, tx *sql.Tx, tenantID, id int64) *sql.Row {
	return tx.QueryRowContext(ctx, `SELECT `+sqlstore.JobColumns+` FROM jobs WHERE jobs.id = $1 AND jobs.tenant_id = $2 FOR UPDATE`, id, tenantID)
}

// countMove is one member's jobs moving between states, for countMoves:
// the (tenant_id, action_id) rows of the WITH member src, one job each
// out of state from, unless from is "", and into state to, unless to is "".
type countMove struct{ src, from, to string }

// countMoves is a WITH member adding the moves to job_counts, on the
// random shard shard, with the tenants' totals (action 0). Rows are
// written in key order, as sqlstore's counts.apply does, so that
// concurrent statements lock counter rows in the same order.
func countMoves(shard string, moves ...countMove) string {
	var parts []string
	add := func(src, state, d string) {
		parts = append(parts,
			`SELECT tenant_id AS t, action_id AS a, `+state+`::smallint AS s, `+d+`::bigint AS d FROM `+src,
			`SELECT tenant_id, 0, `+state+`, `+d+` FROM `+src)
	}
	for _, m := range moves {
		if m.from != "" {
			add(m.src, m.from, "-1")
		}
		if m.to != "" {
			add(m.src, m.to, "1")
		}
	}
	return `INSERT INTO job_counts (tenant_id, action_id, state, shard, n)
		SELECT t, a, s, ` + shard + `::smallint, sum(d) FROM (` + strings.Join(parts, " UNION ALL ") + `) moves
		GROUP BY t, a, s HAVING sum(d) <> 0 ORDER BY t, a, s
		ON CONFLICT (tenant_id, action_id, state, shard) DO UPDATE SET n = job_counts.n + excluded.n`
}

// asyncCommit is a condition, true for every row, that makes the
// statement's own transaction commit without waiting for durability
// (set_config's is_local: until that transaction ends).
const asyncCommit = `set_config('synchronous_commit', 'off', true) IS NOT NULL`

// LeaseJobsNow leases jobs and moves their counters in one statement that
// commits on its own without waiting for durability, and reads each job's
// event with it: one round trip where a transaction took five and every
// job then read its event.
func (*dialect) LeaseJobsNow(ctx context.Context, q sqlstore.Queryer, worker string, now, leaseUntil int64, limit int) (*sql.Rows, error) {
	return q.QueryContext(ctx, `WITH leased AS (
			UPDATE jobs SET state = 1, lease_until = $1, worker = $2, started_at = $3
			WHERE id IN (SELECT id FROM jobs WHERE state = 0 AND run_at <= $3 ORDER BY run_at, id LIMIT $4 FOR UPDATE SKIP LOCKED)
			RETURNING `+sqlstore.JobColumns+`),
		counted AS (`+countMoves("$5", countMove{"leased", "0", "1"})+`)
		SELECT leased.*, e.id, e.action_id, e.story_id, e.payload, e.depth, e.created_at
		FROM leased LEFT JOIN events e ON e.id = leased.event_id AND e.tenant_id = leased.tenant_id
		WHERE `+asyncCommit,
		leaseUntil, worker, now, limit, rand.IntN(countShards))
}

// CompleteJobsNow deletes the worker's completed jobs of ids and takes
// them off the counters in one statement, as LeaseJobsNow does, and
// returns how many it deleted.
func (*dialect) CompleteJobsNow(ctx context.Context, q sqlstore.Queryer, worker string, ids []int64) (int, error) {
	var n int
	err := q.QueryRowContext(ctx, `WITH done AS (
			DELETE FROM jobs WHERE id = ANY($1) AND worker = $2 AND state = 1 RETURNING tenant_id, action_id),
		counted AS (`+countMoves("$3", countMove{"done", "1", ""})+`)
		SELECT count(*) FROM done WHERE `+asyncCommit,
		ids, worker, rand.IntN(countShards)).Scan(&n)
	return n, err
}
