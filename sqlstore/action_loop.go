package sqlstore

import (
	"context"
	"database/sql"
	"fmt"
	"strings"

	"github.com/steward-dev/steward"
)

// lockLinks serialises changes to a tenant's links, so that two
// transactions that each add one harmless link cannot close a loop
// together. A no-op update takes the tenant row's lock on either database.
func (db *DB) lockLinks(ctx context.Context, tx *sql.Tx, tenantID int64) error {
	_, err := tx.ExecContext(ctx, db.Q(`UPDATE tenants SET name = name WHERE id = ?`), tenantID)
	return err
}

// checkLoop refuses, with EINVALID naming field and the loop, a link change
// around action id that lets events come back to it. Links were loop-free
// before the change, so any new loop passes through id.
func (db *DB) checkLoop(ctx context.Context, tx *sql.Tx, tenantID, id int64, field string) error {
	rows, err := tx.QueryContext(ctx, db.Q(`SELECT source_id, receiver_id FROM action_links WHERE tenant_id = ?`), tenantID)
	if err != nil {
		return err
	}
	receivers := map[int64][]int64{}
	for rows.Next() {
		var s, r int64
		if err := rows.Scan(&s, &r); err != nil {
			rows.Close()
			return err
		}
		receivers[s] = append(receivers[s], r)
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return err
	}
	loop := findLoop(receivers, id)
	if loop == nil {
		return nil
	}
	names := make([]string, len(loop))
	for i, n := range loop {
		var name string
		if err := tx.QueryRowContext(ctx, db.Q(`SELECT name FROM actions WHERE id = ? AND tenant_id = ?`), n, tenantID).Scan(&name); err != nil {
			return err
		}
		names[i] = fmt.Sprintf("%q (%d)", name, n)
	}
	return steward.FieldErrorf(field, "%s: these links would form a loop, %s, and events would go round it forever; remove one of its links",
		field, strings.Join(names, " → "))
}

// findLoop returns the shortest path of links from start back to start,
// as the actions along it beginning and ending with start, or nil.
func findLoop(receivers map[int64][]int64, start int64) []int64 {
	parent := map[int64]int64{}
	queue := []int64{start}
	for len(queue) > 0 {
		n := queue[0]
		queue = queue[1:]
		for _, r := range receivers[n] {
			if r == start {
				path := []int64{start}
				for at := n; at != start; at = parent[at] {
					path = append(path, at)
				}
				path = append(path, start)
				// path runs backwards from the closing link: reverse it.
				for i, j := 0, len(path)-1; i < j; i, j = i+1, j-1 {
					path[i], path[j] = path[j], path[i]
				}
				return path
			}
			if _, seen := parent[r]; !seen {
				parent[r] = n
				queue = append(queue, r)
			}
		}
	}
	return nil
}
