package sqlstore

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/steward-dev/steward"
)

var _ steward.EventService = (*DB)(nil)

const eventColumns = `id, tenant_id, action_id, story_id, payload, depth, created_at`

func scanEvent(s scanner) (*steward.Event, error) {
	var e steward.Event
	var payload string
	var created int64
	if err := s.Scan(&e.ID, &e.TenantID, &e.ActionID, &e.StoryID, &payload, &e.Depth, &created); err != nil {
		return nil, err
	}
	e.Payload, e.CreatedAt = json.RawMessage(payload), FromMicros(created)
	return &e, nil
}

// EmitEvents implements steward.EventService. It also drops up to 100 of
// the action's events older than its keep_events_for, so retention costs
// a little on every emit instead of a sweep over the table.
func (db *DB) EmitEvents(ctx context.Context, a *steward.Action, payloads []json.RawMessage) ([]*steward.Event, error) {
	return db.EmitEventsAt(ctx, a, 0, payloads)
}

// EmitEventsAt implements steward.EventService.
func (db *DB) EmitEventsAt(ctx context.Context, a *steward.Action, depth int, payloads []json.RawMessage) ([]*steward.Event, error) {
	if len(payloads) == 0 {
		return nil, nil
	}
	var out []*steward.Event
	err := db.inTxRetry(ctx, func(tx *sql.Tx) error {
		out = out[:0]
		now := db.Clock.Now()
		for _, p := range payloads {
			if !json.Valid(p) {
				return fmt.Errorf("event payload is not valid JSON")
			}
			e := &steward.Event{TenantID: a.TenantID, ActionID: a.ID, StoryID: a.StoryID, Payload: p, Depth: depth, CreatedAt: now}
			if err := tx.QueryRowContext(ctx, db.Q(`INSERT INTO events (tenant_id, action_id, story_id, payload, depth, created_at)
				VALUES (?, ?, ?, ?, ?, ?) RETURNING id`), e.TenantID, e.ActionID, e.StoryID, string(p), depth, Micros(now)).Scan(&e.ID); err != nil {
				return err
			}
			out = append(out, e)
		}
		// last_event_at moves at most once a second, so that a busy
		// action's row does not serialise every emit.
		if _, err := tx.ExecContext(ctx, db.Q(`UPDATE actions SET last_event_at = ? WHERE id = ? AND tenant_id = ?
			AND (last_event_at IS NULL OR last_event_at < ?)`), Micros(now), a.ID, a.TenantID, Micros(now.Add(-time.Second))); err != nil {
			return err
		}
		if a.KeepEventsFor > 0 {
			cutoff := now.Add(-time.Duration(a.KeepEventsFor) * time.Second)
			if _, err := tx.ExecContext(ctx, db.Q(`DELETE FROM events WHERE id IN (SELECT id FROM events WHERE tenant_id = ? AND action_id = ?
				ORDER BY id LIMIT 100) AND created_at < ?`), a.TenantID, a.ID, Micros(cutoff)); err != nil {
				return err
			}
		}
		rows, err := tx.QueryContext(ctx, db.Q(`SELECT l.receiver_id FROM action_links l JOIN actions r ON r.id = l.receiver_id
			WHERE l.source_id = ? AND r.tenant_id = ? AND r.disabled = FALSE ORDER BY l.receiver_id`), a.ID, a.TenantID)
		if err != nil {
			return err
		}
		var receivers []int64
		for rows.Next() {
			var r int64
			if err := rows.Scan(&r); err != nil {
				rows.Close()
				return err
			}
			receivers = append(receivers, r)
		}
		rows.Close()
		if len(receivers) == 0 {
			return rows.Err()
		}
		jobs := make([]steward.NewJob, 0, len(receivers)*len(out))
		for _, e := range out {
			for _, r := range receivers {
				jobs = append(jobs, steward.NewJob{TenantID: a.TenantID, ActionID: r, EventID: e.ID, Kind: steward.JobKindReceive})
			}
		}
		return db.enqueueJobs(ctx, tx, jobs)
	})
	if err != nil {
		return nil, fmt.Errorf("emit events of action %d: %w", a.ID, err)
	}
	db.jobs.notify()
	return out, nil
}

// FindEventByID implements steward.EventService.
func (db *DB) FindEventByID(ctx context.Context, tenantID, id int64) (*steward.Event, error) {
	e, err := scanEvent(db.Read.QueryRowContext(ctx, db.Q(`SELECT `+eventColumns+` FROM events WHERE id = ? AND tenant_id = ?`), id, tenantID))
	if errors.Is(err, sql.ErrNoRows) {
		return nil, notFound("event")
	} else if err != nil {
		return nil, fmt.Errorf("find event %d: %w", id, err)
	}
	return e, nil
}

// FindEvents implements steward.EventService.
func (db *DB) FindEvents(ctx context.Context, f steward.EventFilter) ([]*steward.Event, int, error) {
	where, args := `tenant_id = ?`, []any{f.TenantID}
	if f.ActionID != 0 {
		where, args = where+` AND action_id = ?`, append(args, f.ActionID)
	}
	order := `id DESC`
	if f.SinceID != 0 {
		where, args, order = where+` AND id > ?`, append(args, f.SinceID), `id`
	}
	var total int
	if err := db.Read.QueryRowContext(ctx, db.Q(`SELECT COUNT(*) FROM events WHERE `+where), args...).Scan(&total); err != nil {
		return nil, 0, fmt.Errorf("count events: %w", err)
	}
	rows, err := db.Read.QueryContext(ctx, db.Q(`SELECT `+eventColumns+` FROM events WHERE `+where+` ORDER BY `+order+` LIMIT ? OFFSET ?`),
		append(args, f.PerPage, f.Offset())...)
	if err != nil {
		return nil, 0, fmt.Errorf("find events: %w", err)
	}
	defer rows.Close()
	out := []*steward.Event{}
	for rows.Next() {
		e, err := scanEvent(rows)
		if err != nil {
			return nil, 0, err
		}
		out = append(out, e)
	}
	return out, total, rows.Err()
}

// DeleteActionEvents implements steward.EventService, in bounded batches.
func (db *DB) DeleteActionEvents(ctx context.Context, tenantID, actionID int64) (int64, error) {
	var total int64
	for {
		res, err := db.Exec(ctx, `DELETE FROM events WHERE id IN (SELECT id FROM events WHERE tenant_id = ? AND action_id = ? LIMIT ?)`,
			tenantID, actionID, jobBatch)
		if err != nil {
			return total, fmt.Errorf("remove events of action %d: %w", actionID, err)
		}
		n, _ := res.RowsAffected()
		total += n
		if n == 0 {
			return total, nil
		}
	}
}
