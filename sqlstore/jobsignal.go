package sqlstore

import (
	"context"
	"database/sql"
	"math/rand/v2"
	"sort"
	"strings"
	"sync"

	"github.com/steward-dev/steward"
)

// JobsChannel is the PostgreSQL NOTIFY channel that announces new jobs to
// every Steward process sharing the database.
const JobsChannel = "steward_jobs"

// Listener is implemented by dialects that can hear other processes'
// announcements (PostgreSQL's LISTEN). Listen calls notify for every
// notification on channel until ctx ends.
type Listener interface {
	Listen(ctx context.Context, db *sql.DB, channel string, notify func()) error
}

// Retrier is implemented by dialects whose transactions may fail for
// reasons that a retry fixes (PostgreSQL deadlocks, serialization failures).
type Retrier interface {
	Retryable(err error) bool
}

// jobSignal is a broadcast: every waiter on the current channel wakes when
// it is closed, and a fresh channel replaces it. The zero value is ready.
type jobSignal struct {
	mu sync.Mutex
	ch chan struct{}
}

func (s *jobSignal) wait() <-chan struct{} {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.ch == nil {
		s.ch = make(chan struct{})
	}
	return s.ch
}

func (s *jobSignal) notify() {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.ch != nil {
		close(s.ch)
		s.ch = nil
	}
}

// JobsAvailable implements steward.JobQueue.
func (db *DB) JobsAvailable() <-chan struct{} { return db.jobs.wait() }

// WatchJobs wakes this process's workers when another process enqueues
// jobs, until ctx ends. On SQLite (one process) it returns at once.
func (db *DB) WatchJobs(ctx context.Context) error {
	l, ok := db.Dialect.(Listener)
	if !ok {
		return nil
	}
	return l.Listen(ctx, db.Write, JobsChannel, db.jobs.notify)
}

// announceJobs wakes local workers and, on PostgreSQL, queues a
// notification delivered to other processes when tx commits.
func (db *DB) announceJobs(ctx context.Context, tx *sql.Tx) error {
	if !db.Postgres() {
		return nil
	}
	_, err := tx.ExecContext(ctx, `SELECT pg_notify('`+JobsChannel+`', '')`)
	return err
}

// inTxRetry is InTx, retried a few times when the dialect says a failure
// was transient (a deadlock between concurrent queue transactions).
func (db *DB) inTxRetry(ctx context.Context, fn func(tx *sql.Tx) error) error {
	r, _ := db.Dialect.(Retrier)
	var err error
	for attempt := 0; attempt < 5; attempt++ {
		err = db.InTx(ctx, fn)
		if err == nil || r == nil || !r.Retryable(err) {
			return err
		}
	}
	return err
}

// countKey names one row of job_counts.
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

// countShards is how many job_counts rows share one (tenant, action,
// state) on PostgreSQL.
const countShards = 16

// apply writes the changes to one shard, in key order, so that concurrent transactions
// lock counter rows in the same order and cannot deadlock on them.
func (c counts) apply(ctx context.Context, db *DB, tx *sql.Tx) error {
	// Rows with action_id 0 hold each tenant's totals, so that tenant-wide
	// counts read a few rows however many actions the tenant has.
	all := counts{}
	for k, d := range c {
		all[k] += d
		all[countKey{k.tenant, 0, k.state}] += d
	}
	c = all
	keys := make([]countKey, 0, len(c))
	for k, d := range c {
		if d != 0 {
			keys = append(keys, k)
		}
	}
	sort.Slice(keys, func(i, j int) bool {
		a, b := keys[i], keys[j]
		if a.tenant != b.tenant {
			return a.tenant < b.tenant
		}
		if a.action != b.action {
			return a.action < b.action
		}
		return a.state < b.state
	})
	shard := 0
	if db.Postgres() {
		shard = rand.IntN(countShards)
	}
	if db.Postgres() {
		return c.applyArrays(ctx, db, tx, keys, shard)
	}
	for len(keys) > 0 {
		n := min(len(keys), 200)
		args := make([]any, 0, 5*n)
		for _, k := range keys[:n] {
			args = append(args, k.tenant, k.action, int(k.state), shard, c[k])
		}
		q := `INSERT INTO job_counts (tenant_id, action_id, state, shard, n) VALUES ` + placeholders(n, 5) +
			` ON CONFLICT (tenant_id, action_id, state, shard) DO UPDATE SET n = job_counts.n + excluded.n`
		if _, err := tx.ExecContext(ctx, db.Q(q), args...); err != nil {
			return err
		}
		keys = keys[n:]
	}
	return nil
}

// applyArrays is apply's PostgreSQL form: one statement over arrays.
func (c counts) applyArrays(ctx context.Context, db *DB, tx *sql.Tx, keys []countKey, shard int) error {
	tenants, actions, states, shards, ns := make([]int64, len(keys)), make([]int64, len(keys)),
		make([]int64, len(keys)), make([]int64, len(keys)), make([]int64, len(keys))
	for i, k := range keys {
		tenants[i], actions[i], states[i], shards[i], ns[i] = k.tenant, k.action, int64(k.state), int64(shard), c[k]
	}
	_, err := tx.ExecContext(ctx, db.Q(`INSERT INTO job_counts (tenant_id, action_id, state, shard, n)
		SELECT * FROM unnest(?::bigint[], ?::bigint[], ?::smallint[], ?::smallint[], ?::bigint[])
		ON CONFLICT (tenant_id, action_id, state, shard) DO UPDATE SET n = job_counts.n + excluded.n`),
		tenants, actions, states, shards, ns)
	return err
}

// placeholders returns rows groups of cols '?' each: (?, ?), (?, ?).
func placeholders(rows, cols int) string {
	one := "(" + strings.TrimSuffix(strings.Repeat("?, ", cols), ", ") + ")"
	return strings.TrimSuffix(strings.Repeat(one+", ", rows), ", ")
}

// idIn returns a condition on a column matching any of ids, to follow the
// column name, and its arguments: "= ANY(?)" with one array on PostgreSQL
// (one statement text for any number of ids, so its plan is cached),
// "IN (?, ?, ?)" on SQLite.
func (db *DB) idIn(ids []int64) (string, []any) {
	if db.Postgres() {
		return "= ANY(?)", []any{ids}
	}
	args := make([]any, len(ids))
	for i, id := range ids {
		args[i] = id
	}
	return "IN (" + strings.TrimSuffix(strings.Repeat("?, ", len(ids)), ", ") + ")", args
}
