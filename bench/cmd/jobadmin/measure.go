package main

import (
	"bytes"
	"context"
	"database/sql"
	"encoding/json"
	"fmt"
	"io"
	"math/rand/v2"
	"net"
	"net/http"
	"time"

	"github.com/steward-dev/steward"
	"github.com/steward-dev/steward/httpapi"
	"github.com/steward-dev/steward/sqlstore"
)

// report is one database's figures.
type report struct {
	db      string
	seeded  int
	seedFor time.Duration
	reads   []readResult
	deletes []deleteResult
}

// readResult is one read operation called many times in a row.
type readResult struct {
	what  string
	goal  time.Duration // 0: none
	calls []time.Duration
}

// deleteResult is one timed delete of the hot action's retry jobs.
type deleteResult struct {
	via      string
	deleted  int64
	took     time.Duration
	before   window // the stream in the 2 s before the delete
	during   window // the stream during the delete
	verified bool
	// background is PostgreSQL's own work that overlapped the delete:
	// autovacuum workers running as it began, checkpoints completed.
	background string
}

const (
	statsGoal  = 5 * time.Millisecond
	deleteGoal = time.Second
	// consoleGoal is the console's page goal (issue 13).
	consoleGoal = 100 * time.Millisecond
)

// services wires the store as `steward serve` does.
func services(db *sqlstore.DB) httpapi.Services {
	return httpapi.Services{
		Tenants: db, Users: db, APIKeys: db, Sessions: db, Invitations: db, Outbox: db,
		Templates:     db,
		Organisations: db, TykUsers: db,
		Stories: db, Actions: db, Events: db, Jobs: db, Queue: db,
		Ping: db.Ping,
	}
}

// measure seeds db and runs every measurement, filling r.
func measure(ctx context.Context, db *sqlstore.DB, o options, r *report) error {
	svc := services(db)
	boot, err := httpapi.Bootstrap(ctx, svc, "Seeded", "admin@example.com", "", 4)
	if err != nil {
		return fmt.Errorf("bootstrap: %w", err)
	}
	other := &steward.Tenant{Name: "Stream"}
	if err := db.CreateTenant(ctx, other); err != nil {
		return err
	}
	first, err := createActions(ctx, db, boot.TenantID, o.actions)
	if err != nil {
		return err
	}
	streamAction, err := createActions(ctx, db, other.ID, 1)
	if err != nil {
		return err
	}
	l := newLayout(boot.TenantID, first, o.actions, o.jobs, o.hotRetry)
	l.adminEmail, l.adminPassword = boot.Email, boot.Password
	logf("%s: seeding %d jobs over %d actions (action %d holds %d retry jobs)", r.db, o.jobs, o.actions, l.hot, o.hotRetry)
	start := time.Now()
	if err := seedJobs(ctx, db, l); err != nil {
		return fmt.Errorf("seed: %w", err)
	}
	r.seedFor = time.Since(start)
	want := l.expected()
	if err := checkCounts(ctx, db, l.tenant, want); err != nil {
		return fmt.Errorf("after seeding: %w", err)
	}
	r.seeded = o.jobs
	logf("%s: seeded in %.1f s; COUNT(*) per action and state matches the layout and job_counts", r.db, r.seedFor.Seconds())

	api := httpapi.NewServer(svc, httpapi.DefaultConfig(), nil, db.Clock)
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return err
	}
	srv := &http.Server{Handler: api}
	go srv.Serve(ln)
	defer srv.Close()
	apiCtx, stopAPI := context.WithCancel(ctx)
	defer stopAPI()
	go api.Run(apiCtx)
	h := &client{base: "http://" + ln.Addr().String(), key: boot.APIKey, c: &http.Client{Timeout: 30 * time.Second}}

	s := &stream{db: db, tenant: other.ID, action: streamAction}
	stop := s.run(ctx, o.workers, o.rate)
	stopped := false
	defer func() {
		if !stopped {
			stop()
		}
	}()
	time.Sleep(o.warmup)

	if err := measureReads(ctx, db, h, l, want, o, r); err != nil {
		return err
	}
	if err := measureDeletes(ctx, db, h, s, l, want, o, r); err != nil {
		return err
	}
	stop()
	stopped = true
	if err := s.check(); err != nil {
		return err
	}
	// With the engine stopped, the stream tenant's counters must match too;
	// on a mismatch, look again a little later to tell a late write (an
	// enqueue cancelled by the stop returns at once, while its statement
	// may still commit on the server) from counters that drifted.
	if err := checkCounts(ctx, db, other.ID, nil); err != nil {
		time.Sleep(2 * time.Second)
		if again := checkCounts(ctx, db, other.ID, nil); again != nil {
			return fmt.Errorf("stream tenant after the engine stopped: %w; 2 s later: %v", err, again)
		}
		logf("%s: stream tenant right after the engine stopped: %v; 2 s later they match (a late write)", r.db, err)
	}
	return nil
}

// measureDeletes times o.deletes store-call deletes of the hot action's
// retry jobs and, with o.http, one through the API, re-seeding between.
func measureDeletes(ctx context.Context, db *sqlstore.DB, h *client, s *stream, l layout, want map[countKey]int64, o options, r *report) error {
	for i := 0; i < o.deletes+btoi(o.http); i++ {
		if i > 0 {
			if err := reseedHot(ctx, db, l); err != nil {
				return fmt.Errorf("re-seed: %w", err)
			}
			time.Sleep(2 * time.Second) // a clean "before" window
		}
		via := "store"
		del := func() (int64, error) { return db.DeleteJobs(ctx, l.tenant, steward.JobRetry, l.hot) }
		if i == o.deletes {
			via = "HTTP"
			del = func() (int64, error) {
				return int64(l.hotRetry), h.do("DELETE", fmt.Sprintf("/api/v1/admin/actions/%d/delete_all_retry_jobs", l.hot), http.StatusNoContent)
			}
		}
		d, err := timeDelete(ctx, db, s, l, want, via, del)
		if err != nil {
			return err
		}
		r.deletes = append(r.deletes, d)
		logf("%s: delete via %s: %d jobs in %.0f ms", r.db, via, d.deleted, ms(d.took))
	}
	return nil
}

func btoi(b bool) int {
	if b {
		return 1
	}
	return 0
}

// timeDelete times del, waits for the stream jobs enqueued meanwhile to
// start, and checks that exactly the hot action's retry jobs are gone.
func timeDelete(ctx context.Context, db *sqlstore.DB, s *stream, l layout, want map[countKey]int64, via string, del func() (int64, error)) (deleteResult, error) {
	d := deleteResult{via: via}
	bg := background(ctx, db)
	start := time.Now()
	n, err := del()
	d.took = time.Since(start)
	end := time.Now()
	d.background = bg(ctx)
	if err != nil {
		return d, fmt.Errorf("delete via %s: %w", via, err)
	}
	d.deleted = n
	if n != int64(l.hotRetry) {
		return d, fmt.Errorf("delete via %s removed %d jobs, want %d", via, n, l.hotRetry)
	}
	time.Sleep(time.Second) // let the jobs enqueued during the delete start
	d.before, d.during = s.window(start.Add(-2*time.Second), start), s.window(start, end)
	after := map[countKey]int64{}
	for k, v := range want {
		after[k] = v
	}
	after[countKey{l.hot, steward.JobRetry}] = 0
	after[countKey{0, steward.JobRetry}] -= int64(l.hotRetry)
	for k, v := range after {
		if v == 0 {
			delete(after, k)
		}
	}
	if err := checkCounts(ctx, db, l.tenant, after); err != nil {
		return d, fmt.Errorf("after the delete via %s: %w", via, err)
	}
	st, err := db.JobStats(ctx, l.tenant, l.hot)
	if err != nil {
		return d, err
	}
	if st.Retry != 0 || st.Queued != int64(l.hotQueued) || st.Dead != int64(l.hotDead) {
		return d, fmt.Errorf("after the delete via %s: job stats of action %d: %+v", via, l.hot, *st)
	}
	d.verified = true
	return d, nil
}

// background snapshots PostgreSQL's background work; the function it
// returns describes what overlapped since: the autovacuum workers that
// were running at the snapshot and how many checkpoints completed.
func background(ctx context.Context, db *sqlstore.DB) func(context.Context) string {
	if !isPostgres(db) {
		return func(context.Context) string { return "-" }
	}
	var vacuums string
	var checkpoints int64
	snapshot := func(ctx context.Context) (int64, error) {
		var n int64
		err := db.Read.QueryRowContext(ctx, `SELECT checkpoints_timed + checkpoints_req FROM pg_stat_bgwriter`).Scan(&n)
		return n, err
	}
	_ = db.Read.QueryRowContext(ctx, `SELECT COALESCE(string_agg(query, ', '), '') FROM pg_stat_activity
		WHERE backend_type = 'autovacuum worker' AND datname = current_database()`).Scan(&vacuums)
	checkpoints, _ = snapshot(ctx)
	return func(ctx context.Context) string {
		n, _ := snapshot(ctx)
		out := fmt.Sprintf("%d checkpoints", n-checkpoints)
		if vacuums != "" {
			out += "; running: " + vacuums
		}
		return out
	}
}

// reseedHot puts the hot action's retry jobs back and adds them to its
// counters (as the store would: one shard, and the tenant's total).
func reseedHot(ctx context.Context, db *sqlstore.DB, l layout) error {
	return db.InTx(ctx, func(tx *sql.Tx) error {
		if err := insertJobs(ctx, tx, db, l.tenant, l.hotRetry, fmt.Sprint(l.hot), "2", "g", sqlstore.Micros(time.Now())); err != nil {
			return err
		}
		for _, a := range []int64{l.hot, 0} {
			_, err := tx.ExecContext(ctx, db.Q(`INSERT INTO job_counts (tenant_id, action_id, state, shard, n) VALUES (?, ?, 2, 0, ?)
				ON CONFLICT (tenant_id, action_id, state, shard) DO UPDATE SET n = job_counts.n + excluded.n`), l.tenant, a, l.hotRetry)
			if err != nil {
				return err
			}
		}
		return nil
	})
}

// measureReads times job stats and list pages through the store and,
// with o.http, through the API, checking what they return.
func measureReads(ctx context.Context, db *sqlstore.DB, h *client, l layout, want map[countKey]int64, o options, r *report) error {
	rng := rand.New(rand.NewPCG(1, 2))
	randomAction := func() int64 { return l.first + rng.Int64N(int64(l.actions)) }
	add := func(what string, goal time.Duration, f func() error) error {
		for i := 0; i < 10; i++ { // warm-up, not timed
			if err := f(); err != nil {
				return fmt.Errorf("%s: %w", what, err)
			}
		}
		ds, err := timeCalls(o.calls, f)
		if err != nil {
			return fmt.Errorf("%s: %w", what, err)
		}
		r.reads = append(r.reads, readResult{what, goal, ds})
		logf("%s: %s: p50 %.2f ms, p99 %.2f ms", r.db, what, ms(percentile(ds, 50)), ms(percentile(ds, 99)))
		return nil
	}
	stats := func(action int64) error {
		st, err := db.JobStats(ctx, l.tenant, action)
		if err != nil {
			return err
		}
		if st.Retry != want[countKey{action, steward.JobRetry}] || st.Queued != want[countKey{action, steward.JobQueued}] ||
			st.Dead != want[countKey{action, steward.JobDead}] || st.OldestQueuedAt == nil {
			return fmt.Errorf("job stats of action %d: %+v", action, *st)
		}
		return nil
	}
	list := func(action int64, page int, state steward.JobState) func() error {
		return func() error {
			jobs, total, err := db.FindJobs(ctx, steward.JobFilter{TenantID: l.tenant, State: state, ActionID: action,
				PageRequest: steward.PageRequest{Page: page, PerPage: 20}})
			if err != nil {
				return err
			}
			if len(jobs) != 20 || int64(total) != want[countKey{action, state}] {
				return fmt.Errorf("got %d jobs of %d, want 20 of %d", len(jobs), total, want[countKey{action, state}])
			}
			return nil
		}
	}
	steps := []struct {
		what string
		goal time.Duration
		f    func() error
	}{
		{"`JobStats`, tenant-wide", statsGoal, func() error { return stats(0) }},
		{"`JobStats`, one action (random of 1,000)", statsGoal, func() error { return stats(randomAction()) }},
		{"`FindJobs` retry, tenant-wide, page 1 of 20", 0, list(0, 1, steward.JobRetry)},
		{fmt.Sprintf("`FindJobs` retry, action with %d, page 1 of 20", l.hotRetry), 0, list(l.hot, 1, steward.JobRetry)},
		{"`FindJobs` retry, tenant-wide, page 100 of 20", 0, list(0, 100, steward.JobRetry)},
		{"`FindJobs` dead, tenant-wide, page 1 of 20", 0, list(0, 1, steward.JobDead)},
	}
	if o.http {
		steps = append(steps, []struct {
			what string
			goal time.Duration
			f    func() error
		}{
			{"`GET /api/v1/admin/job_stats`", 0, func() error { return h.do("GET", "/api/v1/admin/job_stats", 200) }},
			{"`GET /api/v1/admin/job_stats?action_id=ID` (random)", 0, func() error {
				return h.do("GET", fmt.Sprintf("/api/v1/admin/job_stats?action_id=%d", randomAction()), 200)
			}},
			{"`GET /api/v1/admin/retry_jobs?per_page=20`", 0, func() error { return h.do("GET", "/api/v1/admin/retry_jobs?per_page=20", 200) }},
			{"`GET /api/v1/admin/retry_jobs?per_page=20&action_id=ID` (the 100k action)", 0, func() error {
				return h.do("GET", fmt.Sprintf("/api/v1/admin/retry_jobs?per_page=20&action_id=%d", l.hot), 200)
			}},
		}...)
	}
	if o.console {
		cookie, err := h.signIn(l.adminEmail, l.adminPassword)
		if err != nil {
			return err
		}
		page := func(path string) func() error {
			return func() error { return h.page(path, cookie) }
		}
		steps = append(steps, []struct {
			what string
			goal time.Duration
			f    func() error
		}{
			{"console `GET /console/jobs` (totals, 10 actions' counts, 20 retry jobs)", consoleGoal, page("/console/jobs")},
			{"console `GET /console/jobs/counts` (the live refresh)", consoleGoal, page("/console/jobs/counts")},
			{"console `GET /console/jobs?list=retry&action_id=ID` (the 100k action)", consoleGoal, page(fmt.Sprintf("/console/jobs?list=retry&action_id=%d", l.hot))},
			{"console `GET /console/jobs?list=retry&page=100&apage=50`", consoleGoal, page("/console/jobs?list=retry&page=100&apage=50")},
			{"console `GET /console/jobs?list=dead`", consoleGoal, page("/console/jobs?list=dead")},
		}...)
	}
	for _, s := range steps {
		if err := add(s.what, s.goal, s.f); err != nil {
			return err
		}
	}
	return nil
}

// createActions inserts n actions into the tenant's default story in one
// transaction and returns the first id; the ids must be consecutive.
func createActions(ctx context.Context, db *sqlstore.DB, tenant int64, n int) (int64, error) {
	var ids []int64
	err := db.InTx(ctx, func(tx *sql.Tx) error {
		var story int64
		if err := tx.QueryRowContext(ctx, db.Q(`SELECT MIN(id) FROM stories WHERE tenant_id = ?`), tenant).Scan(&story); err != nil {
			return err
		}
		now := sqlstore.Micros(time.Now())
		for i := 0; i < n; i++ {
			var id int64
			err := tx.QueryRowContext(ctx, db.Q(`INSERT INTO actions (tenant_id, story_id, guid, type, name, options, created_at, updated_at)
				VALUES (?, ?, ?, ?, ?, ?, ?, ?) RETURNING id`), tenant, story, fmt.Sprintf("%016x%016x", tenant, i),
				string(steward.ActionEventTransformation), fmt.Sprintf("Transform %d", i+1), `{"mode":"message_only","payload":{}}`, now, now).Scan(&id)
			if err != nil {
				return err
			}
			ids = append(ids, id)
		}
		return nil
	})
	if err != nil {
		return 0, fmt.Errorf("create actions: %w", err)
	}
	if ids[n-1]-ids[0] != int64(n-1) {
		return 0, fmt.Errorf("create actions: ids %d..%d are not consecutive", ids[0], ids[n-1])
	}
	return ids[0], nil
}

// client calls the HTTP API with an admin's key.
type client struct {
	base, key string
	c         *http.Client
}

func (c *client) do(method, path string, want int) error {
	req, err := http.NewRequest(method, c.base+path, nil)
	if err != nil {
		return err
	}
	req.Header.Set("Authorization", "Bearer "+c.key)
	resp, err := c.c.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		return err
	}
	if resp.StatusCode != want {
		return fmt.Errorf("%s %s: %d %s", method, path, resp.StatusCode, body)
	}
	return nil
}

// signIn signs in through POST /users/sign_in and returns the session cookie.
func (c *client) signIn(email, password string) (*http.Cookie, error) {
	body, _ := json.Marshal(map[string]string{"email": email, "password": password})
	resp, err := c.c.Post(c.base+"/users/sign_in", "application/json", bytes.NewReader(body))
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	for _, ck := range resp.Cookies() {
		if ck.Name == httpapi.SessionCookie {
			return ck, nil
		}
	}
	return nil, fmt.Errorf("sign in: %d, no session cookie", resp.StatusCode)
}

// page loads a console page with the session cookie and checks it is 200.
func (c *client) page(path string, session *http.Cookie) error {
	req, err := http.NewRequest("GET", c.base+path, nil)
	if err != nil {
		return err
	}
	req.AddCookie(session)
	req.Header.Set("Accept", "text/html")
	resp, err := c.c.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		return err
	}
	if resp.StatusCode != http.StatusOK || len(body) == 0 {
		return fmt.Errorf("GET %s: %d %.200s", path, resp.StatusCode, body)
	}
	return nil
}

func ms(d time.Duration) float64 { return float64(d) / float64(time.Millisecond) }
