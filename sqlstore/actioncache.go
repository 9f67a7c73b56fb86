package sqlstore

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"sync"
	"time"

	"github.com/steward-dev/steward"
)

var _ steward.ActionSnapshots = (*DB)(nil)

// actionSnapshotTTL is how long an action read for the event path is
// served from memory. A change made through this process empties the
// cache at once; one made through another server shows here within
// this time, as a revoked API key does within the credential cache's.
const actionSnapshotTTL = time.Second

// actionSnapshotMax bounds the cache; when full it starts afresh.
const actionSnapshotMax = 10_000

// actionCache holds recently read actions without their links, by id and
// by GUID. The zero value is ready.
type actionCache struct {
	mu     sync.Mutex
	gen    uint64 // moves on every invalidation
	byID   map[int64]actionSnapshot
	byGUID map[string]actionSnapshot
}

type actionSnapshot struct {
	a       *steward.Action
	expires time.Time
}

// get returns a fresh cached action, from byID when guid is "".
func (c *actionCache) get(id int64, guid string, now time.Time) (*steward.Action, uint64) {
	c.mu.Lock()
	defer c.mu.Unlock()
	s, ok := c.byID[id]
	if guid != "" {
		s, ok = c.byGUID[guid]
	}
	if ok && now.Before(s.expires) {
		return s.a, c.gen
	}
	return nil, c.gen
}

// put caches a, read while the cache was at generation gen: an
// invalidation since then means a may already be out of date.
func (c *actionCache) put(a *steward.Action, gen uint64, now time.Time) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if gen != c.gen {
		return
	}
	if c.byID == nil || len(c.byID) >= actionSnapshotMax || len(c.byGUID) >= actionSnapshotMax {
		c.byID, c.byGUID = map[int64]actionSnapshot{}, map[string]actionSnapshot{}
	}
	s := actionSnapshot{a: a, expires: now.Add(actionSnapshotTTL)}
	c.byID[a.ID], c.byGUID[a.GUID] = s, s
}

// invalidate forgets every cached action. Every change to actions made
// through this process calls it once the change committed (and once
// before, so that a read racing the change cannot cache the old row).
func (c *actionCache) invalidate() {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.gen++
	c.byID, c.byGUID = nil, nil
}

// ActionSnapshot implements steward.ActionSnapshots.
func (db *DB) ActionSnapshot(ctx context.Context, tenantID, id int64) (*steward.Action, error) {
	now := time.Now()
	a, gen := db.actions.get(id, "", now)
	if a == nil {
		var err error
		if a, err = db.readAction(ctx, `id = ?`, id); err != nil {
			return nil, err
		}
		db.actions.put(a, gen, now)
	}
	if a.TenantID != tenantID {
		return nil, notFound("action")
	}
	return a, nil
}

// ActionSnapshotByGUID implements steward.ActionSnapshots.
func (db *DB) ActionSnapshotByGUID(ctx context.Context, guid string) (*steward.Action, error) {
	now := time.Now()
	a, gen := db.actions.get(0, guid, now)
	if a == nil {
		var err error
		if a, err = db.readAction(ctx, `guid = ?`, guid); err != nil {
			return nil, err
		}
		db.actions.put(a, gen, now)
	}
	return a, nil
}

// readAction reads one action without its links.
func (db *DB) readAction(ctx context.Context, where string, arg any) (*steward.Action, error) {
	a, err := scanAction(db.readRow(ctx, `SELECT `+actionColumns+` FROM actions WHERE `+where, arg))
	if errors.Is(err, sql.ErrNoRows) {
		return nil, notFound("action")
	} else if err != nil {
		return nil, fmt.Errorf("find action: %w", err)
	}
	return a, nil
}
