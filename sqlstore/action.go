package sqlstore

import (
	"context"
	"database/sql"
	"encoding/json"
	"fmt"
	"sort"
	"strings"

	"github.com/steward-dev/steward"
)

var _ steward.ActionService = (*DB)(nil)

const actionColumns = `id, tenant_id, story_id, guid, type, name, options, keep_events_for, disabled, template_id, last_event_at, created_at, updated_at`

func scanAction(s scanner) (*steward.Action, error) {
	var a steward.Action
	var typ, opts string
	var last, template sql.NullInt64
	var created, updated int64
	if err := s.Scan(&a.ID, &a.TenantID, &a.StoryID, &a.GUID, &typ, &a.Name, &opts, &a.KeepEventsFor, &a.Disabled,
		&template, &last, &created, &updated); err != nil {
		return nil, err
	}
	a.TemplateID = template.Int64
	a.Type = steward.ActionType(typ)
	if err := json.Unmarshal([]byte(opts), &a.Options); err != nil {
		return nil, fmt.Errorf("action %d: options: %w", a.ID, err)
	}
	a.LastEventAt, a.CreatedAt, a.UpdatedAt = FromNullMicros(last), FromMicros(created), FromMicros(updated)
	a.SourceIDs, a.ReceiverIDs = []int64{}, []int64{}
	return &a, nil
}

func validateAction(a *steward.Action) error {
	a.Name = strings.TrimSpace(a.Name)
	if a.Name == "" {
		return steward.FieldErrorf("name", "name is required")
	}
	if len(a.Name) > 255 {
		return steward.FieldErrorf("name", "name must be at most 255 characters")
	}
	if a.KeepEventsFor < 0 {
		return steward.FieldErrorf("keep_events_for", "keep_events_for must be a number of seconds of at least 0")
	}
	return nil
}

// checkLinks verifies that every linked action is in the tenant and is not
// the action itself.
func (db *DB) checkLinks(ctx context.Context, q Queryer, tenantID, self int64, field string, ids []int64) error {
	for _, id := range ids {
		if id == self {
			return steward.FieldErrorf(field, "%s cannot contain the action itself", field)
		}
		var n int
		if err := q.QueryRowContext(ctx, db.Q(`SELECT COUNT(*) FROM actions WHERE id = ? AND tenant_id = ?`), id, tenantID).Scan(&n); err != nil {
			return err
		}
		if n == 0 {
			return steward.FieldErrorf(field, "%s: action %d does not exist", field, id)
		}
	}
	return nil
}

// setLinks replaces one side of the action's links, and refuses the
// change when the links would then form a loop.
func (db *DB) setLinks(ctx context.Context, tx *sql.Tx, a *steward.Action, sources, receivers *[]int64) error {
	linking := sources != nil && len(*sources) > 0 || receivers != nil && len(*receivers) > 0
	if linking {
		if err := db.lockLinks(ctx, tx, a.TenantID); err != nil {
			return err
		}
	}
	if sources != nil {
		if err := db.checkLinks(ctx, tx, a.TenantID, a.ID, "source_ids", *sources); err != nil {
			return err
		}
		if _, err := tx.ExecContext(ctx, db.Q(`DELETE FROM action_links WHERE receiver_id = ?`), a.ID); err != nil {
			return err
		}
		for _, s := range dedupe(*sources) {
			if _, err := tx.ExecContext(ctx, db.Q(`INSERT INTO action_links (tenant_id, source_id, receiver_id) VALUES (?, ?, ?)`), a.TenantID, s, a.ID); err != nil {
				return err
			}
		}
	}
	if receivers != nil {
		if err := db.checkLinks(ctx, tx, a.TenantID, a.ID, "receiver_ids", *receivers); err != nil {
			return err
		}
		if _, err := tx.ExecContext(ctx, db.Q(`DELETE FROM action_links WHERE source_id = ?`), a.ID); err != nil {
			return err
		}
		for _, r := range dedupe(*receivers) {
			if _, err := tx.ExecContext(ctx, db.Q(`INSERT INTO action_links (tenant_id, source_id, receiver_id) VALUES (?, ?, ?)`), a.TenantID, a.ID, r); err != nil {
				return err
			}
		}
	}
	if !linking {
		return nil
	}
	field := "source_ids"
	if receivers != nil && len(*receivers) > 0 {
		field = "receiver_ids"
	}
	return db.checkLoop(ctx, tx, a.TenantID, a.ID, field)
}

func dedupe(ids []int64) []int64 {
	seen := map[int64]bool{}
	out := []int64{}
	for _, id := range ids {
		if !seen[id] {
			seen[id] = true
			out = append(out, id)
		}
	}
	return out
}

func optionsJSON(o map[string]any) (string, error) {
	if o == nil {
		o = map[string]any{}
	}
	b, err := json.Marshal(o)
	return string(b), err
}

// CreateAction implements steward.ActionService.
func (db *DB) CreateAction(ctx context.Context, a *steward.Action) error {
	if err := validateAction(a); err != nil {
		return err
	}
	opts, err := optionsJSON(a.Options)
	if err != nil {
		return steward.FieldErrorf("options", "options cannot be stored: %v", err)
	}
	err = db.InTx(ctx, func(tx *sql.Tx) error {
		var n int
		if err := tx.QueryRowContext(ctx, db.Q(`SELECT COUNT(*) FROM stories WHERE id = ? AND tenant_id = ?`), a.StoryID, a.TenantID).Scan(&n); err != nil {
			return err
		}
		if n == 0 {
			return steward.FieldErrorf("story_id", "story_id: story %d does not exist", a.StoryID)
		}
		now := db.Clock.Now()
		a.CreatedAt, a.UpdatedAt, a.GUID = now, now, newGUID()
		template := sql.NullInt64{Int64: a.TemplateID, Valid: a.TemplateID != 0}
		if template.Valid {
			if err := tx.QueryRowContext(ctx, db.Q(`SELECT COUNT(*) FROM templates WHERE id = ? AND tenant_id = ?`), a.TemplateID, a.TenantID).Scan(&n); err != nil {
				return err
			}
			if n == 0 {
				return steward.FieldErrorf("template_id", "template_id: template %d does not exist", a.TemplateID)
			}
		}
		if err := tx.QueryRowContext(ctx, db.Q(`INSERT INTO actions (tenant_id, story_id, guid, type, name, options, keep_events_for,
			disabled, template_id, created_at, updated_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) RETURNING id`),
			a.TenantID, a.StoryID, a.GUID, string(a.Type), a.Name, opts, a.KeepEventsFor, a.Disabled, template, Micros(now), Micros(now)).Scan(&a.ID); err != nil {
			return err
		}
		steward.AuditOutput(ctx, "agent_id", a.ID)
		src, rcv := a.SourceIDs, a.ReceiverIDs
		return db.setLinks(ctx, tx, a, &src, &rcv)
	})
	if err != nil {
		return fmt.Errorf("create action: %w", err)
	}
	a.SourceIDs, a.ReceiverIDs = dedupe(a.SourceIDs), dedupe(a.ReceiverIDs)
	return nil
}

// FindActionByID implements steward.ActionService.
func (db *DB) FindActionByID(ctx context.Context, tenantID, id int64) (*steward.Action, error) {
	return db.findAction(ctx, `id = ? AND tenant_id = ?`, id, tenantID)
}

// FindActionByGUID implements steward.ActionService.
func (db *DB) FindActionByGUID(ctx context.Context, guid string) (*steward.Action, error) {
	return db.findAction(ctx, `guid = ?`, guid)
}

func (db *DB) findAction(ctx context.Context, where string, args ...any) (*steward.Action, error) {
	a, err := db.readAction(ctx, where, args...)
	if err != nil {
		return nil, err
	}
	if err := db.loadLinks(ctx, []*steward.Action{a}); err != nil {
		return nil, err
	}
	return a, nil
}

// loadLinks fills SourceIDs and ReceiverIDs of actions.
func (db *DB) loadLinks(ctx context.Context, actions []*steward.Action) error {
	if len(actions) == 0 {
		return nil
	}
	byID := map[int64]*steward.Action{}
	ids := make([]int64, len(actions))
	for i, a := range actions {
		byID[a.ID], ids[i] = a, a.ID
	}
	in, args := idIn(ids)
	rows, err := db.query(ctx, `SELECT source_id, receiver_id FROM action_links
		WHERE source_id `+in+` OR receiver_id `+in+` ORDER BY source_id, receiver_id`, append(args, args...)...)
	if err != nil {
		return fmt.Errorf("load action links: %w", err)
	}
	defer rows.Close()
	for rows.Next() {
		var s, r int64
		if err := rows.Scan(&s, &r); err != nil {
			return err
		}
		if a := byID[s]; a != nil {
			a.ReceiverIDs = append(a.ReceiverIDs, r)
		}
		if a := byID[r]; a != nil {
			a.SourceIDs = append(a.SourceIDs, s)
		}
	}
	for _, a := range actions {
		sort.Slice(a.SourceIDs, func(i, j int) bool { return a.SourceIDs[i] < a.SourceIDs[j] })
	}
	return rows.Err()
}

// FindActions implements steward.ActionService.
func (db *DB) FindActions(ctx context.Context, f steward.ActionFilter) ([]*steward.Action, int, error) {
	where, args := `tenant_id = ?`, []any{f.TenantID}
	if f.StoryID != 0 {
		where, args = where+` AND story_id = ?`, append(args, f.StoryID)
	}
	var total int
	if err := db.queryRow(ctx, `SELECT COUNT(*) FROM actions WHERE `+where, args...).Scan(&total); err != nil {
		return nil, 0, fmt.Errorf("count actions: %w", err)
	}
	rows, err := db.query(ctx, `SELECT `+actionColumns+` FROM actions WHERE `+where+` ORDER BY id LIMIT ? OFFSET ?`,
		append(args, f.PerPage, f.Offset())...)
	if err != nil {
		return nil, 0, fmt.Errorf("find actions: %w", err)
	}
	out := []*steward.Action{}
	for rows.Next() {
		a, err := scanAction(rows)
		if err != nil {
			rows.Close()
			return nil, 0, err
		}
		out = append(out, a)
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return nil, 0, err
	}
	return out, total, db.loadLinks(ctx, out)
}

// UpdateAction implements steward.ActionService.
func (db *DB) UpdateAction(ctx context.Context, tenantID, id int64, upd steward.ActionUpdate) (*steward.Action, error) {
	defer db.actions.invalidate()
	a, err := db.FindActionByID(ctx, tenantID, id)
	if err != nil {
		return nil, err
	}
	if upd.Name != nil {
		a.Name = *upd.Name
	}
	if upd.Options != nil {
		a.Options = upd.Options
	}
	if upd.KeepEventsFor != nil {
		a.KeepEventsFor = *upd.KeepEventsFor
	}
	if upd.Disabled != nil {
		a.Disabled = *upd.Disabled
	}
	if err := validateAction(a); err != nil {
		return nil, err
	}
	opts, err := optionsJSON(a.Options)
	if err != nil {
		return nil, steward.FieldErrorf("options", "options cannot be stored: %v", err)
	}
	a.UpdatedAt = db.Clock.Now()
	err = db.InTx(ctx, func(tx *sql.Tx) error {
		if _, err := tx.ExecContext(ctx, db.Q(`UPDATE actions SET name = ?, options = ?, keep_events_for = ?, disabled = ?, updated_at = ?
			WHERE id = ? AND tenant_id = ?`), a.Name, opts, a.KeepEventsFor, a.Disabled, Micros(a.UpdatedAt), id, tenantID); err != nil {
			return err
		}
		return db.setLinks(ctx, tx, a, upd.SourceIDs, upd.ReceiverIDs)
	})
	if err != nil {
		return nil, fmt.Errorf("update action %d: %w", id, err)
	}
	return db.FindActionByID(ctx, tenantID, id)
}

// DeleteAction implements steward.ActionService. Its queued, retry and dead
// jobs go in bounded batches; a job already running finds the action gone
// and is dropped.
func (db *DB) DeleteAction(ctx context.Context, tenantID, id int64) error {
	defer db.actions.invalidate()
	if _, err := db.FindActionByID(ctx, tenantID, id); err != nil {
		return err
	}
	for _, st := range []steward.JobState{steward.JobQueued, steward.JobRetry, steward.JobDead} {
		if _, err := db.DeleteJobs(ctx, tenantID, st, id); err != nil {
			return fmt.Errorf("delete action %d: %w", id, err)
		}
	}
	if _, err := db.DeleteActionEvents(ctx, tenantID, id); err != nil {
		return fmt.Errorf("delete action %d: %w", id, err)
	}
	if _, err := db.Exec(ctx, `DELETE FROM actions WHERE id = ? AND tenant_id = ?`, id, tenantID); err != nil {
		return fmt.Errorf("delete action %d: %w", id, err)
	}
	return nil
}
