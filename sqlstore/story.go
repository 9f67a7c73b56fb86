package sqlstore

import (
	"context"
	"crypto/rand"
	"database/sql"
	"encoding/hex"
	"errors"
	"fmt"
	"strings"

	"github.com/steward-dev/steward"
)

var _ steward.StoryService = (*DB)(nil)

// newGUID returns 32 random hex digits: public identifiers of stories and
// actions (webhook URLs carry them).
func newGUID() string {
	b := make([]byte, 16)
	rand.Read(b)
	return hex.EncodeToString(b)
}

const storyColumns = `id, tenant_id, guid, name, description, created_at, updated_at`

func scanStory(s scanner) (*steward.Story, error) {
	var st steward.Story
	var created, updated int64
	if err := s.Scan(&st.ID, &st.TenantID, &st.GUID, &st.Name, &st.Description, &created, &updated); err != nil {
		return nil, err
	}
	st.CreatedAt, st.UpdatedAt = FromMicros(created), FromMicros(updated)
	return &st, nil
}

func validateStory(name string, description string) error {
	if strings.TrimSpace(name) == "" {
		return steward.FieldErrorf("name", "name is required")
	}
	if len(name) > 255 {
		return steward.FieldErrorf("name", "name must be at most 255 characters")
	}
	if len(description) > 10_000 {
		return steward.FieldErrorf("description", "description must be at most 10000 characters")
	}
	return nil
}

// CreateStory implements steward.StoryService.
func (db *DB) CreateStory(ctx context.Context, s *steward.Story) error {
	return db.InTx(ctx, func(tx *sql.Tx) error {
		if err := db.createStory(ctx, tx, s); err != nil {
			return err
		}
		steward.AuditOutput(ctx, "story_id", s.ID)
		return nil
	})
}

// createStory inserts s inside tx, or on its own when tx is nil.
func (db *DB) createStory(ctx context.Context, tx *sql.Tx, s *steward.Story) error {
	s.Name = strings.TrimSpace(s.Name)
	if err := validateStory(s.Name, s.Description); err != nil {
		return err
	}
	now := db.Clock.Now()
	s.CreatedAt, s.UpdatedAt, s.GUID = now, now, newGUID()
	const insert = `INSERT INTO stories (tenant_id, guid, name, description, created_at, updated_at) VALUES (?, ?, ?, ?, ?, ?) RETURNING id`
	args := []any{s.TenantID, s.GUID, s.Name, s.Description, Micros(now), Micros(now)}
	var r scanner = db.writeRow(ctx, insert, args...)
	if tx != nil {
		r = tx.QueryRowContext(ctx, db.Q(insert), args...)
	}
	err := r.Scan(&s.ID)
	if err != nil {
		return fmt.Errorf("create story: %w", db.Dialect.TranslateError(err))
	}
	return nil
}

// FindStoryByID implements steward.StoryService.
func (db *DB) FindStoryByID(ctx context.Context, tenantID, id int64) (*steward.Story, error) {
	s, err := scanStory(db.queryRow(ctx, `SELECT `+storyColumns+` FROM stories WHERE id = ? AND tenant_id = ?`, id, tenantID))
	if errors.Is(err, sql.ErrNoRows) {
		return nil, notFound("story")
	} else if err != nil {
		return nil, fmt.Errorf("find story %d: %w", id, err)
	}
	return s, nil
}

// FindStories implements steward.StoryService.
func (db *DB) FindStories(ctx context.Context, tenantID int64, page steward.PageRequest) ([]*steward.Story, int, error) {
	var total int
	if err := db.queryRow(ctx, `SELECT COUNT(*) FROM stories WHERE tenant_id = ?`, tenantID).Scan(&total); err != nil {
		return nil, 0, fmt.Errorf("count stories: %w", err)
	}
	rows, err := db.query(ctx, `SELECT `+storyColumns+` FROM stories WHERE tenant_id = ? ORDER BY id LIMIT ? OFFSET ?`,
		tenantID, page.PerPage, page.Offset())
	if err != nil {
		return nil, 0, fmt.Errorf("find stories: %w", err)
	}
	defer rows.Close()
	out := []*steward.Story{}
	for rows.Next() {
		s, err := scanStory(rows)
		if err != nil {
			return nil, 0, err
		}
		out = append(out, s)
	}
	return out, total, rows.Err()
}

// UpdateStory implements steward.StoryService.
func (db *DB) UpdateStory(ctx context.Context, tenantID, id int64, upd steward.StoryUpdate) (*steward.Story, error) {
	s, err := db.FindStoryByID(ctx, tenantID, id)
	if err != nil {
		return nil, err
	}
	if upd.Name != nil {
		s.Name = strings.TrimSpace(*upd.Name)
	}
	if upd.Description != nil {
		s.Description = *upd.Description
	}
	if err := validateStory(s.Name, s.Description); err != nil {
		return nil, err
	}
	s.UpdatedAt = db.Clock.Now()
	if _, err := db.Exec(ctx, `UPDATE stories SET name = ?, description = ?, updated_at = ? WHERE id = ? AND tenant_id = ?`,
		s.Name, s.Description, Micros(s.UpdatedAt), id, tenantID); err != nil {
		return nil, fmt.Errorf("update story %d: %w", id, err)
	}
	return s, nil
}

// DeleteStory implements steward.StoryService: each action goes as
// DeleteAction does (jobs in batches), then the story.
func (db *DB) DeleteStory(ctx context.Context, tenantID, id int64) error {
	if _, err := db.FindStoryByID(ctx, tenantID, id); err != nil {
		return err
	}
	rows, err := db.query(ctx, `SELECT id FROM actions WHERE story_id = ? AND tenant_id = ?`, id, tenantID)
	if err != nil {
		return fmt.Errorf("delete story %d: %w", id, err)
	}
	var ids []int64
	for rows.Next() {
		var a int64
		if err := rows.Scan(&a); err != nil {
			rows.Close()
			return err
		}
		ids = append(ids, a)
	}
	rows.Close()
	for _, a := range ids {
		if err := db.DeleteAction(ctx, tenantID, a); err != nil && steward.ErrorCode(err) != steward.ENOTFOUND {
			return fmt.Errorf("delete story %d: %w", id, err)
		}
	}
	if _, err := db.Exec(ctx, `DELETE FROM stories WHERE id = ? AND tenant_id = ?`, id, tenantID); err != nil {
		return fmt.Errorf("delete story %d: %w", id, err)
	}
	return nil
}
