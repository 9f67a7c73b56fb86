package main

import (
	"context"
	"database/sql"
	"fmt"
	"strings"
	"time"

	"github.com/steward-dev/steward"
	"github.com/steward-dev/steward/sqlstore"
)

// layout is the seeded data set: jobs of one tenant over consecutive
// action ids first..first+actions-1. The hot action holds hotRetry retry
// jobs, hotQueued scheduled jobs and hotDead dead jobs; every other job
// belongs to one of the other actions in turn, the k-th job of an action
// being dead for k < deadPerAction, retry for k % 3 == 0 and queued
// (scheduled for later) otherwise. Nothing of it is due while the
// benchmark runs, so the engine leaves it alone, and the tenant holds
// exactly the default dead-job bound, so trimming leaves it alone too.
type layout struct {
	tenant, first, hot     int64
	actions, total         int
	hotRetry, hotQueued    int
	hotDead, deadPerAction int
}

func newLayout(tenant, first int64, actions, total, hotRetry int) layout {
	l := layout{tenant: tenant, first: first, actions: actions, total: total,
		hotRetry: hotRetry, hotQueued: 1000, hotDead: 10, deadPerAction: 10}
	l.hot = first + int64(actions/2) - 1
	return l
}

// others is how many jobs belong to the actions other than the hot one.
func (l layout) others() int { return l.total - l.hotRetry - l.hotQueued - l.hotDead }

// expected computes, from the layout alone, how many jobs each action
// holds in each state; action 0 holds the tenant's totals.
func (l layout) expected() map[countKey]int64 {
	m := map[countKey]int64{}
	add := func(action int64, state steward.JobState, n int64) {
		m[countKey{action, state}] += n
		m[countKey{0, state}] += n
	}
	add(l.hot, steward.JobRetry, int64(l.hotRetry))
	add(l.hot, steward.JobQueued, int64(l.hotQueued))
	add(l.hot, steward.JobDead, int64(l.hotDead))
	o := l.actions - 1
	for g := 0; g < l.others(); g++ {
		k := g / o
		state := steward.JobQueued
		if k < l.deadPerAction {
			state = steward.JobDead
		} else if k%3 == 0 {
			state = steward.JobRetry
		}
		add(l.otherID(g%o), state, 1)
	}
	return m
}

// otherID is the id of the i-th action other than the hot one.
func (l layout) otherID(i int) int64 {
	id := l.first + int64(i)
	if id >= l.hot {
		id++
	}
	return id
}

type countKey struct {
	action int64
	state  steward.JobState
}

// series returns a FROM item yielding g = 0..n-1 in the dialect.
func series(db *sqlstore.DB, n int) string {
	if isPostgres(db) {
		return fmt.Sprintf(`generate_series(0::bigint, %d) AS s(g)`, n-1)
	}
	return fmt.Sprintf(`(WITH RECURSIVE s(g) AS (SELECT 0 UNION ALL SELECT g + 1 FROM s WHERE g < %d) SELECT g FROM s) AS s`, n-1)
}

// insertJobs inserts n jobs of tenant generated from g = 0..n-1; action,
// state and k (the job's rank within its action) are SQL expressions over
// g. Retry jobs are due in one to two days, queued jobs are scheduled two
// to three days ahead, dead jobs died within the last 30 days, and creation
// times spread evenly over the 30 days before now. Every value is a number
// computed here, so the statement has no parameters.
func insertJobs(ctx context.Context, tx *sql.Tx, db *sqlstore.DB, tenant int64, n int, action, state, k string, now int64) error {
	const day = int64(24 * time.Hour / time.Microsecond)
	// spread maps g to a pseudo-random offset within 30 days (a prime step).
	spread := `(g * 1299709) % ` + fmt.Sprint(30*day)
	q := fmt.Sprintf(`INSERT INTO jobs (tenant_id, action_id, event_id, kind, state, retry_count, run_at, started_at, last_retry_at,
		error_class, error_message, died_at, created_at)
	SELECT %[1]d, a, NULL, '%[2]s', st,
		CASE st WHEN 0 THEN 0 WHEN 2 THEN 1 + kk %% 20 ELSE 25 END,
		CASE st WHEN 0 THEN %[3]d + 2 * %[4]d + %[5]s %% %[4]d WHEN 2 THEN %[3]d + %[4]d + %[5]s %% %[4]d ELSE %[3]d - %[5]s END,
		CASE st WHEN 0 THEN NULL ELSE %[3]d - %[5]s END,
		CASE st WHEN 0 THEN NULL ELSE %[3]d - %[5]s END,
		CASE st WHEN 0 THEN '' ELSE 'HTTPRequestFailed' END,
		CASE st WHEN 0 THEN '' ELSE 'POST https://hooks.example.com/ingest: 503 Service Unavailable' END,
		CASE st WHEN 3 THEN %[3]d - %[5]s ELSE NULL END,
		%[3]d - 30 * %[4]d + g * %[6]d
	FROM (SELECT g, %[7]s AS a, %[8]s AS st, %[9]s AS kk FROM %[10]s) AS seeded`,
		tenant, steward.JobKindReceive, now, day, spread, 30*day/int64(max(n, 1)), action, state, k, series(db, n))
	_, err := tx.ExecContext(ctx, q)
	return err
}

// seedJobs inserts the layout's jobs with the jobs table's secondary
// indexes dropped and rebuilt afterwards (from their own definitions),
// then rebuilds job_counts. It is set-up, not measured.
func seedJobs(ctx context.Context, db *sqlstore.DB, l layout) error {
	defs, err := jobIndexes(ctx, db)
	if err != nil {
		return err
	}
	now := sqlstore.Micros(time.Now())
	t0 := time.Now()
	if !isPostgres(db) {
		// A large page cache for the bulk load and index builds on the
		// single writer connection; put back to the store's setting after.
		if _, err := db.Write.ExecContext(ctx, `PRAGMA cache_size = -2000000`); err != nil {
			return err
		}
		defer db.Write.ExecContext(ctx, `PRAGMA cache_size = -65536`)
	}
	err = db.InTx(ctx, func(tx *sql.Tx) error {
		if isPostgres(db) {
			if _, err := tx.ExecContext(ctx, `SET LOCAL synchronous_commit TO OFF`); err != nil {
				return err
			}
		}
		for name := range defs {
			if _, err := tx.ExecContext(ctx, `DROP INDEX `+name); err != nil {
				return fmt.Errorf("drop index %s: %w", name, err)
			}
		}
		o := l.actions - 1
		hot := fmt.Sprint(l.hot)
		if err := insertJobs(ctx, tx, db, l.tenant, l.hotRetry, hot, "2", "g", now); err != nil {
			return fmt.Errorf("seed hot retry jobs: %w", err)
		}
		if err := insertJobs(ctx, tx, db, l.tenant, l.hotQueued, hot, "0", "g", now); err != nil {
			return fmt.Errorf("seed hot queued jobs: %w", err)
		}
		if err := insertJobs(ctx, tx, db, l.tenant, l.hotDead, hot, "3", "g", now); err != nil {
			return fmt.Errorf("seed hot dead jobs: %w", err)
		}
		// The i-th other action: first + i, skipping the hot one.
		action := fmt.Sprintf(`(%d + g %% %d + CASE WHEN %d + g %% %d >= %d THEN 1 ELSE 0 END)`, l.first, o, l.first, o, l.hot)
		state := fmt.Sprintf(`(CASE WHEN g / %d < %d THEN 3 WHEN (g / %d) %% 3 = 0 THEN 2 ELSE 0 END)`, o, l.deadPerAction, o)
		if err := insertJobs(ctx, tx, db, l.tenant, l.others(), action, state, fmt.Sprintf("(g / %d)", o), now); err != nil {
			return fmt.Errorf("seed jobs: %w", err)
		}
		logf("  inserted in %.1f s", time.Since(t0).Seconds())
		for name, def := range defs {
			if _, err := tx.ExecContext(ctx, def); err != nil {
				return fmt.Errorf("rebuild index %s: %w", name, err)
			}
		}
		logf("  indexes rebuilt at %.1f s", time.Since(t0).Seconds())
		return rebuildCounts(ctx, tx, db, l.tenant)
	})
	logf("  committed at %.1f s", time.Since(t0).Seconds())
	if err != nil {
		return err
	}
	if isPostgres(db) {
		// As autovacuum would after a bulk insert.
		if _, err := db.Write.ExecContext(ctx, `VACUUM ANALYZE jobs`); err != nil {
			return err
		}
		if _, err := db.Write.ExecContext(ctx, `VACUUM ANALYZE job_counts`); err != nil {
			return err
		}
	}
	// Write the seed's pages out now, so that the measurements do not pay
	// for checkpointing the bulk load.
	checkpoint := `PRAGMA wal_checkpoint(TRUNCATE)`
	if isPostgres(db) {
		checkpoint = `CHECKPOINT`
	}
	_, err = db.Write.ExecContext(ctx, checkpoint)
	return err
}

// jobIndexes returns the jobs table's secondary indexes: name → the
// statement that creates it.
func jobIndexes(ctx context.Context, db *sqlstore.DB) (map[string]string, error) {
	q := `SELECT name, sql FROM sqlite_master WHERE type = 'index' AND tbl_name = 'jobs' AND sql IS NOT NULL`
	if isPostgres(db) {
		q = `SELECT indexname, indexdef FROM pg_indexes WHERE schemaname = current_schema() AND tablename = 'jobs'
			AND indexname NOT IN (SELECT conname FROM pg_constraint WHERE conrelid = 'jobs'::regclass)`
	}
	rows, err := db.Write.QueryContext(ctx, q)
	if err != nil {
		return nil, fmt.Errorf("list job indexes: %w", err)
	}
	defer rows.Close()
	defs := map[string]string{}
	for rows.Next() {
		var name, def string
		if err := rows.Scan(&name, &def); err != nil {
			return nil, err
		}
		defs[name] = def
	}
	if len(defs) == 0 {
		return nil, fmt.Errorf("no secondary indexes on jobs: migrations not applied?")
	}
	return defs, rows.Err()
}

// rebuildCounts replaces the tenant's job_counts rows with counts of its
// jobs, as the store keeps them: one row per (action, state) and the
// tenant's totals under action_id 0, on shard 0 on SQLite and spread over
// the 16 shards on PostgreSQL (as a busy server leaves them; readers sum
// the shards). The tenant's jobs must not change meanwhile.
func rebuildCounts(ctx context.Context, tx *sql.Tx, db *sqlstore.DB, tenant int64) error {
	if _, err := tx.ExecContext(ctx, db.Q(`DELETE FROM job_counts WHERE tenant_id = ?`), tenant); err != nil {
		return err
	}
	grouped := `SELECT tenant_id, action_id, state, COUNT(*) AS n FROM jobs WHERE tenant_id = ? GROUP BY tenant_id, action_id, state
		UNION ALL SELECT tenant_id, 0, state, COUNT(*) FROM jobs WHERE tenant_id = ? GROUP BY tenant_id, state`
	q := `INSERT INTO job_counts (tenant_id, action_id, state, shard, n) SELECT tenant_id, action_id, state, 0, n FROM (` + grouped + `) AS c`
	if isPostgres(db) {
		q = `INSERT INTO job_counts (tenant_id, action_id, state, shard, n)
			SELECT tenant_id, action_id, state, sh, n / 16 + CASE WHEN sh < n % 16 THEN 1 ELSE 0 END
			FROM (` + grouped + `) AS c CROSS JOIN generate_series(0, 15) AS sh`
	}
	_, err := tx.ExecContext(ctx, db.Q(q), tenant, tenant)
	return err
}

// checkCounts compares the tenant's jobs, counted with COUNT(*), and its
// job_counts rows with want (nil: with each other only).
func checkCounts(ctx context.Context, db *sqlstore.DB, tenant int64, want map[countKey]int64) error {
	read := func(q string) (map[countKey]int64, error) {
		rows, err := db.Read.QueryContext(ctx, db.Q(q), tenant)
		if err != nil {
			return nil, err
		}
		defer rows.Close()
		m := map[countKey]int64{}
		for rows.Next() {
			var a, n int64
			var st int
			if err := rows.Scan(&a, &st, &n); err != nil {
				return nil, err
			}
			if n != 0 {
				m[countKey{a, steward.JobState(st)}] += n
			}
		}
		return m, rows.Err()
	}
	jobs, err := read(`SELECT action_id, state, COUNT(*) FROM jobs WHERE tenant_id = ? GROUP BY action_id, state`)
	if err != nil {
		return fmt.Errorf("count jobs: %w", err)
	}
	totals := map[countKey]int64{}
	for k, n := range jobs {
		totals[countKey{0, k.state}] += n
	}
	for k, n := range totals {
		jobs[k] = n
	}
	counters, err := read(`SELECT action_id, state, SUM(n) FROM job_counts WHERE tenant_id = ? GROUP BY action_id, state`)
	if err != nil {
		return fmt.Errorf("read job_counts: %w", err)
	}
	if d := diff(jobs, counters); d != "" {
		return fmt.Errorf("COUNT(*) of jobs and job_counts differ (COUNT vs job_counts): %s", d)
	}
	if want != nil {
		if d := diff(jobs, want); d != "" {
			return fmt.Errorf("jobs differ from the layout (got vs want): %s", d)
		}
	}
	return nil
}

func diff(a, b map[countKey]int64) string {
	var out []string
	for k, n := range a {
		if b[k] != n {
			out = append(out, fmt.Sprintf("action %d state %s: %d vs %d", k.action, k.state, n, b[k]))
		}
	}
	for k, n := range b {
		if _, ok := a[k]; !ok {
			out = append(out, fmt.Sprintf("action %d state %s: 0 vs %d", k.action, k.state, n))
		}
	}
	if len(out) > 5 {
		out = append(out[:5], fmt.Sprintf("and %d more", len(out)-5))
	}
	return strings.Join(out, "; ")
}

// isPostgres reports whether db is PostgreSQL: the seed writes
// engine-specific SQL (generate_series, PRAGMA) that Steward itself never
// needs.
func isPostgres(db *sqlstore.DB) bool { return db.Dialect.Name() == "postgres" }
