package sqlstore

import (
	"context"
	"database/sql"
	"fmt"

	"github.com/steward-dev/steward"
)

// actionJobStatsQuery reads a page of a tenant's actions with their queue
// sizes from the maintained counters (summing the shards) and each one's
// oldest queued job through the jobs index jobStats uses. The page is cut
// in the inner query, so only its actions are counted.
const actionJobStatsQuery = `SELECT a.id, a.name, a.oldest,
	COALESCE(SUM(CASE WHEN c.state = 0 THEN c.n ELSE 0 END), 0),
	COALESCE(SUM(CASE WHEN c.state = 1 THEN c.n ELSE 0 END), 0),
	COALESCE(SUM(CASE WHEN c.state = 2 THEN c.n ELSE 0 END), 0),
	COALESCE(SUM(CASE WHEN c.state = 3 THEN c.n ELSE 0 END), 0)
FROM (SELECT actions.id, actions.name,
		(SELECT jobs.created_at FROM jobs
			WHERE jobs.tenant_id = actions.tenant_id AND jobs.action_id = actions.id AND jobs.state = 0 AND jobs.state <> 1 AND jobs.state <> 2
			ORDER BY jobs.created_at, jobs.id LIMIT 1) AS oldest
	FROM actions WHERE actions.tenant_id = ? ORDER BY actions.id LIMIT ? OFFSET ?) a
LEFT JOIN job_counts c ON c.tenant_id = ? AND c.action_id = a.id
GROUP BY a.id, a.name, a.oldest
ORDER BY a.id`

// FindActionJobStats implements steward.JobService.
func (db *DB) FindActionJobStats(ctx context.Context, tenantID int64, page steward.PageRequest) ([]*steward.ActionJobStats, int, error) {
	var total int
	if err := db.queryRow(ctx, `SELECT COUNT(*) FROM actions WHERE tenant_id = ?`, tenantID).Scan(&total); err != nil {
		return nil, 0, fmt.Errorf("count actions: %w", err)
	}
	rows, err := db.query(ctx, actionJobStatsQuery, tenantID, page.PerPage, page.Offset(), tenantID)
	if err != nil {
		return nil, 0, fmt.Errorf("action job stats: %w", err)
	}
	defer rows.Close()
	out := []*steward.ActionJobStats{}
	for rows.Next() {
		st := &steward.ActionJobStats{}
		var oldest sql.NullInt64
		if err := rows.Scan(&st.ActionID, &st.ActionName, &oldest, &st.Queued, &st.InProgress, &st.Retry, &st.Dead); err != nil {
			return nil, 0, fmt.Errorf("action job stats: %w", err)
		}
		if oldest.Valid {
			t := FromMicros(oldest.Int64)
			st.OldestQueuedAt = &t
		}
		out = append(out, st)
	}
	if err := rows.Err(); err != nil {
		return nil, 0, fmt.Errorf("action job stats: %w", err)
	}
	return out, total, nil
}
