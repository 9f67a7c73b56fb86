package sqlstore

import (
	"context"
	"database/sql"
	"sort"

	"github.com/steward-dev/steward"
)

// Job counters: job_counts holds, per (tenant, action, state), how many
// jobs there are, so that queue sizes read a few rows however long the
// queues are. Every statement that moves jobs between states records the
// change in a counts and applies it in the same transaction.

// countKey names one counter of job_counts.
type countKey struct {
	tenant, action int64
	state          steward.JobState
}

// counts are pending changes to job_counts.
type counts map[countKey]int64

func (c counts) add(tenant, action int64, state steward.JobState, d int64) {
	c[countKey{tenant, action, state}] += d
}

// move records n jobs of (tenant, action) moving from one state to another.
func (c counts) move(tenant, action int64, from, to steward.JobState, n int64) {
	c.add(tenant, action, from, -n)
	c.add(tenant, action, to, n)
}

// apply writes the changes through the dialect, in key order, so that
// concurrent transactions lock counter rows in the same order and cannot
// deadlock on them. Rows with action_id 0 hold each tenant's totals, so
// that tenant-wide counts read a few rows however many actions the tenant
// has.
func (c counts) apply(ctx context.Context, db *DB, tx *sql.Tx) error {
	deltas := c.deltas()
	if len(deltas) == 0 {
		return nil
	}
	return db.Dialect.AddJobCounts(ctx, tx, deltas)
}

// deltas returns the changes, with the tenants' totals, sorted by key.
func (c counts) deltas() []JobCountDelta {
	all := counts{}
	for k, d := range c {
		all[k] += d
		all[countKey{k.tenant, 0, k.state}] += d
	}
	deltas := make([]JobCountDelta, 0, len(all))
	for k, d := range all {
		if d != 0 {
			deltas = append(deltas, JobCountDelta{TenantID: k.tenant, ActionID: k.action, State: k.state, N: d})
		}
	}
	sort.Slice(deltas, func(i, j int) bool {
		a, b := deltas[i], deltas[j]
		if a.TenantID != b.TenantID {
			return a.TenantID < b.TenantID
		}
		if a.ActionID != b.ActionID {
			return a.ActionID < b.ActionID
		}
		return a.State < b.State
	})
	return deltas
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

// countJobs reads a queue size from job_counts.
func (db *DB) countJobs(ctx context.Context, tenantID int64, state steward.JobState, actionID int64) (int64, error) {
	var n int64
	err := db.queryRow(ctx, `SELECT COALESCE(SUM(n), 0) FROM job_counts WHERE tenant_id = ? AND action_id = ? AND state = ?`,
		tenantID, actionID, int(state)).Scan(&n)
	return n, err
}
