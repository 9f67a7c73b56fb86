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

// newTenant is a tenants row to insert.
type newTenant struct {
	name     string
	fields   string // Tyk organisation fields as JSON; "" is {}
	instance bool
	tykID    string // the id of an imported Tyk organisation; "" is none (NULL)
}

// insertTenant inserts a tenant with its default story inside tx and
// returns its id. Every tenant, whichever API creates it, starts with a
// default story, so that actions can be created at once (Tines' Postman
// collection uses story_id 1). The instance tenant of super users is
// inserted only if missing (ok false when another transaction has it).
func (db *DB) insertTenant(ctx context.Context, tx *sql.Tx, t newTenant, now int64) (id int64, ok bool, err error) {
	if t.fields == "" {
		t.fields = "{}"
	}
	query, args := `INSERT INTO tenants (name, tyk_fields, instance, created_at, updated_at) VALUES (?, ?, ?, ?, ?)`,
		[]any{t.name, t.fields, t.instance, now, now}
	if t.tykID != "" {
		query, args = `INSERT INTO tenants (name, tyk_fields, instance, created_at, updated_at, tyk_id) VALUES (?, ?, ?, ?, ?, ?)`,
			append(args, t.tykID)
	}
	if t.instance {
		query += ` ON CONFLICT (instance) WHERE instance DO NOTHING`
	}
	err = tx.QueryRowContext(ctx, db.Q(query+` RETURNING id`), args...).Scan(&id)
	if t.instance && errors.Is(err, sql.ErrNoRows) {
		return 0, false, nil
	} else if err != nil {
		return 0, false, fmt.Errorf("create tenant: %w", err)
	}
	if !t.instance {
		steward.AuditTenant(ctx, id)
	}
	if err := db.createStory(ctx, tx, &steward.Story{TenantID: id, Name: steward.DefaultStoryName}); err != nil {
		return 0, false, err
	}
	return id, true, nil
}

// CreateTenant implements steward.TenantService.
func (db *DB) CreateTenant(ctx context.Context, t *steward.Tenant) error {
	t.Name = strings.TrimSpace(t.Name)
	if t.Name == "" {
		return steward.FieldErrorf("name", "name is required")
	}
	now := db.Clock.Now()
	t.CreatedAt, t.UpdatedAt = now, now
	err := db.InTx(ctx, func(tx *sql.Tx) error {
		var err error
		t.ID, _, err = db.insertTenant(ctx, tx, newTenant{name: t.Name}, Micros(now))
		return err
	})
	return err
}

// BootstrapTenant implements steward.TenantService.
func (db *DB) BootstrapTenant(ctx context.Context, t *steward.Tenant, admin *steward.User, key *steward.APIKey) error {
	t.Name = strings.TrimSpace(t.Name)
	if t.Name == "" {
		return steward.FieldErrorf("name", "name is required")
	}
	now := db.Clock.Now()
	t.CreatedAt, t.UpdatedAt = now, now
	admin.Admin, admin.IsActive = true, true
	err := db.InTx(ctx, func(tx *sql.Tx) error {
		var err error
		if t.ID, _, err = db.insertTenant(ctx, tx, newTenant{name: t.Name}, Micros(now)); err != nil {
			return err
		}
		admin.TenantID = t.ID
		if err := db.insertUser(ctx, tx, admin); err != nil {
			return err
		}
		key.TenantID, key.UserID = t.ID, admin.ID
		return db.insertAPIKey(ctx, tx, key)
	})
	if err != nil {
		return fmt.Errorf("bootstrap tenant: %w", err)
	}
	return nil
}

// FindTenantByID implements steward.TenantService.
func (db *DB) FindTenantByID(ctx context.Context, id int64) (*steward.Tenant, error) {
	var t steward.Tenant
	var created, updated int64
	err := db.queryRow(ctx, `SELECT id, name, created_at, updated_at FROM tenants WHERE id = ?`, id).
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
	if err := db.queryRow(ctx, `SELECT COUNT(*) FROM tenants`).Scan(&n); err != nil {
		return 0, fmt.Errorf("count tenants: %w", err)
	}
	return n, nil
}
