package postgres

import (
	"context"
	"math/rand/v2"
	"slices"

	"github.com/steward-dev/steward"
	"github.com/steward-dev/steward/sqlstore"
)

// InsertEventBatch writes a batch of emits with one statement that commits
// on its own: the events, one queued job per event and enabled receiver
// of its action, the receivers' job counters (one random shard), the
// actions' last_event_at stamps and their retention deletes, and the
// completions of the jobs whose last write these events are (deleted,
// with their counters, if their worker still holds them). One round
// trip, however many webhooks and jobs the batch gathered, where one
// transaction per emit took five or six.
func (*dialect) InsertEventBatch(ctx context.Context, q sqlstore.Queryer, b sqlstore.EventBatch) ([]int64, int, error) {
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
			INSERT INTO jobs (tenant_id, action_id, event_id, kind, run_at, created_at, state)
			SELECT ev.tenant_id, l.receiver_id, ev.id, $14::text, $1, $1, 0
			FROM ev JOIN action_links l ON l.source_id = ev.action_id
			JOIN actions r ON r.id = l.receiver_id AND r.tenant_id = ev.tenant_id AND r.disabled = FALSE
			ORDER BY ev.id, l.receiver_id
			RETURNING tenant_id, action_id),
		dn AS (
			DELETE FROM jobs j USING unnest($15::bigint[], $16::text[]) AS d(id, w)
			WHERE j.id = d.id AND j.worker = d.w AND j.state = 1
			RETURNING j.tenant_id, j.action_id),
		cn AS (`+countMoves("$7", countMove{"jb", "", "0"}, countMove{"dn", "1", ""})+`),
		st AS (
			UPDATE actions SET last_event_at = $1 WHERE id = ANY($8::bigint[]) AND (last_event_at IS NULL OR last_event_at < $9::bigint)),
		rt AS (
			DELETE FROM events WHERE id = ANY(ARRAY(
				SELECT x.id FROM unnest($10::bigint[], $11::bigint[], $12::bigint[]) AS k(t, a, c)
				CROSS JOIN LATERAL (SELECT id, created_at FROM events WHERE tenant_id = k.t AND action_id = k.a ORDER BY id LIMIT 100) x
				WHERE x.created_at < k.c)))
		SELECT id, (SELECT count(*) FROM jb) FROM ev
		WHERE set_config('synchronous_commit', CASE WHEN $13::boolean THEN 'off' ELSE current_setting('synchronous_commit') END, true) IS NOT NULL`,
		b.Now, tenants, actions, stories, payloads, depths, rand.IntN(countShards),
		b.Stamps, b.Now-1_000_000, rt, ra, rc, b.Async, steward.JobKindReceive, doneIDs, doneWorkers)
	if err != nil {
		return nil, 0, err
	}
	defer rows.Close()
	ids := make([]int64, 0, n)
	jobs := 0
	for rows.Next() {
		var id int64
		if err := rows.Scan(&id, &jobs); err != nil {
			return nil, 0, err
		}
		ids = append(ids, id)
	}
	if err := rows.Err(); err != nil {
		return nil, 0, err
	}
	slices.Sort(ids)
	return ids, jobs, nil
}
