package sqlstore

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"sync"
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
	return db.emitEvents(ctx, a, 0, payloads, false)
}

// EmitEventsAt implements steward.EventService.
func (db *DB) EmitEventsAt(ctx context.Context, a *steward.Action, depth int, payloads []json.RawMessage) ([]*steward.Event, error) {
	return db.emitEvents(ctx, a, depth, payloads, false)
}

// EmitJobEvents implements steward.JobEventEmitter: EmitEventsAt in a
// transaction that commits without waiting for durability.
func (db *DB) EmitJobEvents(ctx context.Context, a *steward.Action, depth int, payloads []json.RawMessage) ([]*steward.Event, error) {
	return db.emitEvents(ctx, a, depth, payloads, true)
}

func (db *DB) emitEvents(ctx context.Context, a *steward.Action, depth int, payloads []json.RawMessage, async bool) ([]*steward.Event, error) {
	if len(payloads) == 0 {
		return nil, nil
	}
	for _, p := range payloads {
		if !json.Valid(p) {
			return nil, fmt.Errorf("emit events of action %d: event payload is not valid JSON", a.ID)
		}
	}
	// A request whose audit record is still due writes it in the same
	// transaction as its change (audit.go), which a shared batch cannot.
	if d, ok := db.Dialect.(EventBatchDialect); ok && !auditDue(ctx) {
		r := &emitRequest{action: a, depth: depth, payloads: payloads, async: async}
		if async {
			r.completion = steward.JobCompletionFrom(ctx)
		}
		if err := db.batchEmit(ctx, d, r); err != nil {
			return nil, fmt.Errorf("emit events of action %d: %w", a.ID, err)
		}
		return r.events, nil
	}
	var out []*steward.Event
	enqueued := false
	err := db.inTxRetry(ctx, func(tx *sql.Tx) error {
		out, enqueued = out[:0], false
		if async {
			if err := db.Dialect.AsyncCommit(ctx, tx); err != nil {
				return err
			}
		}
		now := db.Clock.Now()
		for _, p := range payloads {
			e := &steward.Event{TenantID: a.TenantID, ActionID: a.ID, StoryID: a.StoryID, Payload: p, Depth: depth, CreatedAt: now}
			if err := tx.QueryRowContext(ctx, db.Q(`INSERT INTO events (tenant_id, action_id, story_id, payload, depth, created_at)
				VALUES (?, ?, ?, ?, ?, ?) RETURNING id`), e.TenantID, e.ActionID, e.StoryID, string(p), depth, Micros(now)).Scan(&e.ID); err != nil {
				return err
			}
			out = append(out, e)
		}
		// last_event_at moves at most once a second, so that a busy
		// action's row does not serialise every emit: this process skips
		// the statement while its own last write is under a second old,
		// since other emits would wait on the row lock the write holds
		// until its transaction commits.
		if db.eventStamps.due(a.ID, now) {
			if _, err := tx.ExecContext(ctx, db.Q(`UPDATE actions SET last_event_at = ? WHERE id = ? AND tenant_id = ?
				AND (last_event_at IS NULL OR last_event_at < ?)`), Micros(now), a.ID, a.TenantID, Micros(now.Add(-time.Second))); err != nil {
				return err
			}
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
		enqueued = true
		return db.enqueueJobs(ctx, tx, jobs)
	})
	if err != nil {
		return nil, fmt.Errorf("emit events of action %d: %w", a.ID, err)
	}
	if enqueued {
		db.jobsReady()
	}
	return out, nil
}

// FindEventByID implements steward.EventService.
func (db *DB) FindEventByID(ctx context.Context, tenantID, id int64) (*steward.Event, error) {
	e, err := scanEvent(db.queryRow(ctx, `SELECT `+eventColumns+` FROM events WHERE id = ? AND tenant_id = ?`, id, tenantID))
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
	if err := db.queryRow(ctx, `SELECT COUNT(*) FROM events WHERE `+where, args...).Scan(&total); err != nil {
		return nil, 0, fmt.Errorf("count events: %w", err)
	}
	rows, err := db.query(ctx, `SELECT `+eventColumns+` FROM events WHERE `+where+` ORDER BY `+order+` LIMIT ? OFFSET ?`,
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

// eventStamps remembers when this process last wrote each action's
// last_event_at. The zero value is ready.
type eventStamps struct {
	mu   sync.Mutex
	last map[int64]time.Time
}

// due reports whether action's last_event_at should be written at now,
// and if so records now as its last write.
func (s *eventStamps) due(action int64, now time.Time) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	if t, ok := s.last[action]; ok && now.Sub(t) < time.Second && !now.Before(t) {
		return false
	}
	if s.last == nil || len(s.last) >= 100_000 {
		s.last = map[int64]time.Time{}
	}
	s.last[action] = now
	return true
}
