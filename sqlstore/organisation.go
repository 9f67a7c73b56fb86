package sqlstore

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"strings"

	"github.com/steward-dev/steward"
)

var _ steward.OrganisationService = (*DB)(nil)

// instanceTenantName names the hidden tenant of super users (see
// steward.TykUser). Nothing shows it to clients as an organisation.
const instanceTenantName = "Instance super users"

// fieldsJSON encodes an organisation's extra fields for storage.
func fieldsJSON(f map[string]json.RawMessage) (string, error) {
	if f == nil {
		return "{}", nil
	}
	b, err := json.Marshal(f)
	if err != nil {
		return "", steward.Errorf(steward.EINVALID, "organisation fields are not valid JSON: %v", err)
	}
	return string(b), nil
}

func scanOrganisation(s scanner) (*steward.Organisation, error) {
	var o steward.Organisation
	var fields string
	var created, updated int64
	if err := s.Scan(&o.ID, &o.TykID, &o.OwnerName, &fields, &created, &updated); err != nil {
		return nil, err
	}
	if err := json.Unmarshal([]byte(fields), &o.Fields); err != nil {
		return nil, fmt.Errorf("organisation %d: fields: %w", o.ID, err)
	}
	o.CreatedAt, o.UpdatedAt = FromMicros(created), FromMicros(updated)
	return &o, nil
}

const organisationColumns = `id, COALESCE(tyk_id, ''), name, tyk_fields, created_at, updated_at`

// CreateOrganisation implements steward.OrganisationService.
func (db *DB) CreateOrganisation(ctx context.Context, o *steward.Organisation) error {
	if err := db.insertOrganisation(ctx, o, ""); err != nil {
		return fmt.Errorf("create organisation: %w", err)
	}
	return nil
}

// insertOrganisation validates o and writes it with its default story, as
// every tenant create does (insertTenant), in one transaction. tykID is
// the organisation's own Tyk id when it is imported with one, else empty.
func (db *DB) insertOrganisation(ctx context.Context, o *steward.Organisation, tykID string) error {
	o.OwnerName = strings.TrimSpace(o.OwnerName)
	if o.OwnerName == "" {
		return steward.FieldErrorf("owner_name", "owner_name is required")
	}
	fields, err := fieldsJSON(o.Fields)
	if err != nil {
		return err
	}
	now := db.Clock.Now()
	o.CreatedAt, o.UpdatedAt = now, now
	return db.InTx(ctx, func(tx *sql.Tx) error {
		var err error
		o.ID, _, err = db.insertTenant(ctx, tx, newTenant{name: o.OwnerName, fields: fields, tykID: tykID}, Micros(now))
		return err
	})
}

// FindOrganisationByID implements steward.OrganisationService.
func (db *DB) FindOrganisationByID(ctx context.Context, id int64) (*steward.Organisation, error) {
	o, err := scanOrganisation(db.queryRow(ctx,
		`SELECT `+organisationColumns+` FROM tenants WHERE id = ? AND instance = FALSE`, id))
	if errors.Is(err, sql.ErrNoRows) {
		return nil, notFound("organisation")
	} else if err != nil {
		return nil, fmt.Errorf("find organisation %d: %w", id, err)
	}
	return o, nil
}

// FindOrganisations implements steward.OrganisationService.
func (db *DB) FindOrganisations(ctx context.Context, page steward.PageRequest) ([]*steward.Organisation, int, error) {
	var total int
	if err := db.queryRow(ctx, `SELECT COUNT(*) FROM tenants WHERE instance = FALSE`).Scan(&total); err != nil {
		return nil, 0, fmt.Errorf("count organisations: %w", err)
	}
	query, args := `SELECT `+organisationColumns+` FROM tenants WHERE instance = FALSE ORDER BY id`, []any{}
	if page.PerPage > 0 {
		query += ` LIMIT ? OFFSET ?`
		args = append(args, page.PerPage, page.Offset())
	}
	rows, err := db.query(ctx, query, args...)
	if err != nil {
		return nil, 0, fmt.Errorf("find organisations: %w", err)
	}
	defer rows.Close()
	orgs := []*steward.Organisation{}
	for rows.Next() {
		o, err := scanOrganisation(rows)
		if err != nil {
			return nil, 0, err
		}
		orgs = append(orgs, o)
	}
	return orgs, total, rows.Err()
}

// ReplaceOrganisation implements steward.OrganisationService.
func (db *DB) ReplaceOrganisation(ctx context.Context, o *steward.Organisation) error {
	o.OwnerName = strings.TrimSpace(o.OwnerName)
	if o.OwnerName == "" {
		return steward.FieldErrorf("owner_name", "owner_name is required")
	}
	fields, err := fieldsJSON(o.Fields)
	if err != nil {
		return err
	}
	o.UpdatedAt = db.Clock.Now()
	steward.AuditTenant(ctx, o.ID)
	var created int64
	err = db.writeRow(ctx, `UPDATE tenants SET name = ?, tyk_fields = ?, updated_at = ?
		WHERE id = ? AND instance = FALSE RETURNING created_at`, o.OwnerName, fields, Micros(o.UpdatedAt), o.ID).Scan(&created)
	if errors.Is(err, sql.ErrNoRows) {
		return notFound("organisation")
	} else if err != nil {
		return fmt.Errorf("replace organisation %d: %w", o.ID, db.Dialect.TranslateError(err))
	}
	o.CreatedAt = FromMicros(created)
	return nil
}

// DeleteOrganisation implements steward.OrganisationService. Everything
// the tenant holds goes with it: rows with foreign keys by ON DELETE
// CASCADE; its jobs, which have none (to keep the queue cheap), in bounded
// batches first, then their counters. A job running meanwhile finds its
// action gone and is dropped.
func (db *DB) DeleteOrganisation(ctx context.Context, id int64) error {
	defer db.actions.invalidate()
	defer db.egressRules.invalidate()
	var exists int
	err := db.queryRow(ctx, `SELECT COUNT(*) FROM tenants WHERE id = ? AND instance = FALSE`, id).Scan(&exists)
	if err != nil {
		return fmt.Errorf("delete organisation %d: %w", id, err)
	}
	if exists == 0 {
		return notFound("organisation")
	}
	steward.AuditTenant(ctx, id)
	for _, st := range []steward.JobState{steward.JobQueued, steward.JobRetry, steward.JobDead} {
		if _, err := db.DeleteJobs(ctx, id, st, 0); err != nil {
			return fmt.Errorf("delete organisation %d: %w", id, err)
		}
	}
	res, err := db.Exec(ctx, `DELETE FROM tenants WHERE id = ? AND instance = FALSE`, id)
	if err != nil {
		return fmt.Errorf("delete organisation %d: %w", id, err)
	}
	if n, _ := res.RowsAffected(); n == 0 {
		return notFound("organisation")
	}
	if _, err := db.Exec(ctx, `DELETE FROM job_counts WHERE tenant_id = ?`, id); err != nil {
		return fmt.Errorf("delete organisation %d: job counters: %w", id, err)
	}
	return nil
}

// InstanceTenantID implements steward.TykUserService.
func (db *DB) InstanceTenantID(ctx context.Context) (int64, error) {
	var id int64
	err := db.queryRow(ctx, `SELECT id FROM tenants WHERE instance = TRUE`).Scan(&id)
	if err == nil {
		return id, nil
	} else if !errors.Is(err, sql.ErrNoRows) {
		return 0, fmt.Errorf("find instance tenant: %w", err)
	}
	// Creating the hidden tenant is not the change a request's audit record describes.
	err = db.InTx(steward.WithPendingAudit(ctx, nil), func(tx *sql.Tx) error {
		id, err = db.instanceTenant(ctx, tx)
		return err
	})
	return id, err
}

// instanceTenant finds the instance tenant inside tx, creating it (with a
// default story, like every tenant) when missing. Two servers creating it
// at once meet on the unique index tenants_instance: the second insert
// does nothing and reads the first one's row.
func (db *DB) instanceTenant(ctx context.Context, tx *sql.Tx) (int64, error) {
	var id int64
	err := tx.QueryRowContext(ctx, `SELECT id FROM tenants WHERE instance = TRUE`).Scan(&id)
	if err == nil {
		return id, nil
	} else if !errors.Is(err, sql.ErrNoRows) {
		return 0, fmt.Errorf("find instance tenant: %w", err)
	}
	id, created, err := db.insertTenant(ctx, tx, newTenant{name: instanceTenantName, instance: true}, Micros(db.Clock.Now()))
	if err != nil || created {
		return id, err
	}
	if err := tx.QueryRowContext(ctx, `SELECT id FROM tenants WHERE instance = TRUE`).Scan(&id); err != nil {
		return 0, fmt.Errorf("find instance tenant: %w", err)
	}
	return id, nil
}
