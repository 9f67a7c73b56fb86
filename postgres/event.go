package postgres

import (
	"cmp"
	"context"
	"math/rand/v2"
	"slices"

	"github.com/steward-dev/steward"
	"github.com/steward-dev/steward/sqlstore"
)

// InsertEventBatch writes a batch of emits with one statement that commits
// on its own: the events, one job per event and enabled receiver of its
// action (the first b.Claim.N leased to b.Claim.Worker, the rest queued),
// the receivers' job counters (one random shard), the
// actions' last_event_at stamps and their retention deletes, and the
// completions of the jobs whose last write these events are (deleted,
// with their counters, if their worker still holds them). One round
// trip, however many webhooks and jobs the batch gathered, where one
// transaction per emit took five or six.
func (*dialect) InsertEventBatch(ctx context.Context, q sqlstore.Queryer, b sqlstore.EventBatch) (sqlstore.EventBatchResult, error) {
	var res sqlstore.EventBatchResult
	n := len(b.Events)
	tenants, actions, stories, depths := make([]int64, n), make([]int64, n), make([]int64, n), make([]int64, n)
	payloads := make([]string, n)
	for i, e := range b.Events {
		tenants[i], actions[i], stories[i], payloads[i], depths[i] = e.TenantID, e.ActionID, e.StoryID, string(e.Payload), int64(e.Depth)
	}
	rt, ra, rc := make([]int64, len(b.Retention)), make([]int64, len(b.Retention)), make([]int64, len(b.Retention))
	for i, r := range b.Retention {
		rt[i], ra[i], rc[i] = r.TenantID, r.ActionID, r.Cutoff
	}
	if b.Stamps == nil {
		b.Stamps = []int64{}
	}
	doneIDs, doneWorkers := make([]int64, len(b.Done)), make([]string, len(b.Done))
	for i, d := range b.Done {
		doneIDs[i], doneWorkers[i] = d.JobID, d.Worker
	}
	// Event ids come from the identity sequence in the order of the
	// unnest (a function scan, in array order), so sorted ids are in the
	// batch's order.
	rows, err := q.QueryContext(ctx, `WITH ev AS (
			INSERT INTO events (tenant_id, action_id, story_id, payload, depth, created_at)
			SELECT t, a, s, p, d, $1 FROM unnest($2::bigint[], $3::bigint[], $4::bigint[], $5::text[], $6::int[]) AS u(t, a, s, p, d)
			RETURNING id, tenant_id, action_id),
		jb AS (
			INSERT INTO jobs (tenant_id, action_id, event_id, kind, run_at, created_at, state, worker, lease_until, started_at)
			SELECT t, a, e, $14::text, $1, $1, CASE WHEN n <= $17 THEN 1 ELSE 0 END,
				CASE WHEN n <= $17 THEN $18::text END, CASE WHEN n <= $17 THEN $19::bigint END, CASE WHEN n <= $17 THEN $1::bigint END
			FROM (SELECT ev.tenant_id AS t, l.receiver_id AS a, ev.id AS e, row_number() OVER (ORDER BY ev.id, l.receiver_id) AS n
				FROM ev JOIN action_links l ON l.source_id = ev.action_id
				JOIN actions r ON r.id = l.receiver_id AND r.tenant_id = ev.tenant_id AND r.disabled = FALSE) c
			ORDER BY n
			RETURNING id, tenant_id, action_id, event_id, state),
		dn AS (
			DELETE FROM jobs j USING unnest($15::bigint[], $16::text[]) AS d(id, w)
			WHERE j.id = d.id AND j.worker = d.w AND j.state = 1
			RETURNING j.tenant_id, j.action_id),
		cn AS (`+countMoves("$7", countMove{"jb", "", "state"}, countMove{"dn", "1", ""})+`),
		st AS (
			UPDATE actions SET last_event_at = $1 WHERE id = ANY($8::bigint[]) AND (last_event_at IS NULL OR last_event_at < $9::bigint)),
		rt AS (
			DELETE FROM events WHERE id = ANY(ARRAY(
				SELECT x.id FROM unnest($10::bigint[], $11::bigint[], $12::bigint[]) AS k(t, a, c)
				CROSS JOIN LATERAL (SELECT id, created_at FROM events WHERE tenant_id = k.t AND action_id = k.a ORDER BY id LIMIT 100) x
				WHERE x.created_at < k.c)))
		SELECT k, id, a, e, (SELECT count(*) FROM jb WHERE state = 0) FROM (
			SELECT 0 AS k, id, 0::bigint AS a, 0::bigint AS e FROM ev
			UNION ALL SELECT 1, id, action_id, event_id FROM jb WHERE state = 1) x
		WHERE set_config('synchronous_commit', CASE WHEN $13::boolean THEN 'off' ELSE current_setting('synchronous_commit') END, true) IS NOT NULL`,
		b.Now, tenants, actions, stories, payloads, depths, rand.IntN(countShards),
		b.Stamps, b.Now-1_000_000, rt, ra, rc, b.Async, steward.JobKindReceive, doneIDs, doneWorkers,
		b.Claim.N, b.Claim.Worker, b.Claim.LeaseUntil)
	if err != nil {
		return res, err
	}
	defer rows.Close()
	res.IDs = make([]int64, 0, n)
	for rows.Next() {
		var kind int
		var c sqlstore.ClaimedJob
		if err := rows.Scan(&kind, &c.ID, &c.ActionID, &c.EventID, &res.Queued); err != nil {
			return res, err
		}
		if kind == 0 {
			res.IDs = append(res.IDs, c.ID)
		} else {
			res.Claimed = append(res.Claimed, c)
		}
	}
	if err := rows.Err(); err != nil {
		return res, err
	}
	slices.Sort(res.IDs)
	slices.SortFunc(res.Claimed, func(a, b sqlstore.ClaimedJob) int { return cmp.Compare(a.ID, b.ID) })
	return res, nil
}
