package sqlstore

import (
	"context"
	"database/sql"
	"errors"
	"fmt"

	"github.com/steward-dev/steward"
)

var _ steward.ActionSnapshots = (*DB)(nil)

// actionCache holds recently read actions without their links, by id and
// by GUID (see snapshots). The zero value is ready.
type actionCache struct {
	byID   snapshots[int64, *steward.Action]
	byGUID snapshots[string, *steward.Action]
}

// invalidate forgets every cached action. Every change to actions made
// through this process calls it once the change committed.
func (c *actionCache) invalidate() {
	c.byID.invalidate()
	c.byGUID.invalidate()
}

// ActionSnapshot implements steward.ActionSnapshots.
func (db *DB) ActionSnapshot(ctx context.Context, tenantID, id int64) (*steward.Action, error) {
	a, err := db.actions.byID.load(id, func() (*steward.Action, error) { return db.readAction(ctx, `id = ?`, id) })
	if err != nil {
		return nil, err
	}
	if a.TenantID != tenantID {
		return nil, notFound("action")
	}
	return a, nil
}

// ActionSnapshotByGUID implements steward.ActionSnapshots.
func (db *DB) ActionSnapshotByGUID(ctx context.Context, guid string) (*steward.Action, error) {
	return db.actions.byGUID.load(guid, func() (*steward.Action, error) { return db.readAction(ctx, `guid = ?`, guid) })
}

// readAction reads one action without its links (findAction adds them).
func (db *DB) readAction(ctx context.Context, where string, args ...any) (*steward.Action, error) {
	a, err := scanAction(db.readRow(ctx, `SELECT `+actionColumns+` FROM actions WHERE `+where, args...))
	if errors.Is(err, sql.ErrNoRows) {
		return nil, notFound("action")
	} else if err != nil {
		return nil, fmt.Errorf("find action: %w", err)
	}
	return a, nil
}
