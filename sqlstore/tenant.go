package sqlstore

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strings"

	"github.com/steward-dev/steward"
)

var _ steward.TenantService = (*DB)(nil)

// CreateTenant implements steward.TenantService.
func (db *DB) CreateTenant(ctx context.Context, t *steward.Tenant) error {
	t.Name = strings.TrimSpace(t.Name)
	if t.Name == "" {
		return steward.FieldErrorf("name", "name is required")
	}
	now := db.Clock.Now()
	t.CreatedAt, t.UpdatedAt = now, now
	// Every tenant starts with a default story, so that actions can be
	// created at once (Tines' Postman collection uses story_id 1).
	err := db.InTx(ctx, func(tx *sql.Tx) error {
		err := tx.QueryRowContext(ctx, db.Q(`INSERT INTO tenants (name, created_at, updated_at) VALUES (?, ?, ?) RETURNING id`),
			t.Name, Micros(now), Micros(now)).Scan(&t.ID)
		if err != nil {
			return err
		}
		steward.AuditTenant(ctx, t.ID)
		return db.createStory(ctx, tx, &steward.Story{TenantID: t.ID, Name: steward.DefaultStoryName})
	})
	if err != nil {
		return fmt.Errorf("create tenant: %w", db.Dialect.TranslateError(err))
	}
	return nil
}

// FindTenantByID implements steward.TenantService.
func (db *DB) FindTenantByID(ctx context.Context, id int64) (*steward.Tenant, error) {
	var t steward.Tenant
	var created, updated int64
	err := db.Read.QueryRowContext(ctx, db.Q(`SELECT id, name, created_at, updated_at FROM tenants WHERE id = ?`), id).
		Scan(&t.ID, &t.Name, &created, &updated)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, notFound("tenant")
	} else if err != nil {
		return nil, fmt.Errorf("find tenant %d: %w", id, err)
	}
	t.CreatedAt, t.UpdatedAt = FromMicros(created), FromMicros(updated)
	return &t, nil
}

// CountTenants implements steward.TenantService.
func (db *DB) CountTenants(ctx context.Context) (int, error) {
	var n int
	if err := db.Read.QueryRowContext(ctx, `SELECT COUNT(*) FROM tenants`).Scan(&n); err != nil {
		return 0, fmt.Errorf("count tenants: %w", err)
	}
	return n, nil
}
