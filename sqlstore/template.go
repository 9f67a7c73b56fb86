package sqlstore

import (
	"bytes"
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"strings"

	"github.com/steward-dev/steward"
)

var _ steward.TemplateService = (*DB)(nil)

const templateSelect = `SELECT t.id, t.tenant_id, t.name, t.description, t.vendor, t.product, t.agent_type,
	t.agent_options, t.created_by, cu.email, t.updated_by, uu.email, t.created_at, t.updated_at
	FROM templates t
	LEFT JOIN users cu ON cu.id = t.created_by
	LEFT JOIN users uu ON uu.id = t.updated_by`

func scanTemplate(s scanner) (*steward.Template, error) {
	var t steward.Template
	var typ, opts string
	var createdBy, updatedBy sql.NullInt64
	var createdEmail, updatedEmail sql.NullString
	var created, updated int64
	if err := s.Scan(&t.ID, &t.TenantID, &t.Name, &t.Description, &t.Vendor, &t.Product, &typ, &opts,
		&createdBy, &createdEmail, &updatedBy, &updatedEmail, &created, &updated); err != nil {
		return nil, err
	}
	t.AgentType, t.AgentOptions = steward.ActionType(typ), json.RawMessage(opts)
	if createdBy.Valid {
		t.CreatedBy = &steward.UserRef{ID: createdBy.Int64, Email: createdEmail.String}
	}
	if updatedBy.Valid {
		t.UpdatedBy = &steward.UserRef{ID: updatedBy.Int64, Email: updatedEmail.String}
	}
	t.CreatedAt, t.UpdatedAt = FromMicros(created), FromMicros(updated)
	return &t, nil
}

// optionsText is the stored form of template options: the client's JSON
// compacted (whitespace outside strings removed, nothing else changed),
// and {} for empty or null.
func optionsText(raw json.RawMessage) (string, error) {
	raw = bytes.TrimSpace(raw)
	if len(raw) == 0 || string(raw) == "null" {
		return "{}", nil
	}
	if raw[0] != '{' {
		return "", steward.FieldErrorf("agent_options", "agent_options must be a JSON object")
	}
	var b bytes.Buffer
	if err := json.Compact(&b, raw); err != nil {
		return "", steward.FieldErrorf("agent_options", "agent_options is not valid JSON: %v", err)
	}
	return b.String(), nil
}

// checkTemplate normalises and checks the fields every stored template
// needs, whatever the caller validated.
func checkTemplate(t *steward.Template) (opts string, err error) {
	t.Name = strings.TrimSpace(t.Name)
	if t.Name == "" {
		return "", steward.FieldErrorf("name", "name is required")
	}
	if t.AgentType == "" {
		return "", steward.FieldErrorf("agent_type", "agent_type is required")
	}
	return optionsText(t.AgentOptions)
}

func nameTaken(name string) error {
	return &steward.Error{Code: steward.ECONFLICT, Field: "name", Message: fmt.Sprintf("a template named %q already exists", name)}
}

func userRefID(u *steward.UserRef) sql.NullInt64 {
	if u == nil || u.ID == 0 {
		return sql.NullInt64{}
	}
	return sql.NullInt64{Int64: u.ID, Valid: true}
}

// CreateTemplate implements steward.TemplateService.
func (db *DB) CreateTemplate(ctx context.Context, t *steward.Template) error {
	var out *steward.Template
	err := db.InTx(ctx, func(tx *sql.Tx) error {
		var err error
		out, err = db.insertTemplate(ctx, tx, t)
		return err
	})
	if err != nil {
		if steward.ErrorCode(err) == steward.ECONFLICT {
			return nameTaken(t.Name)
		}
		return fmt.Errorf("create template: %w", err)
	}
	*t = *out
	return nil
}

// insertTemplate inserts t in tx and returns it as stored.
func (db *DB) insertTemplate(ctx context.Context, tx *sql.Tx, t *steward.Template) (*steward.Template, error) {
	opts, err := checkTemplate(t)
	if err != nil {
		return nil, err
	}
	now := Micros(db.Clock.Now())
	by := userRefID(t.CreatedBy)
	var id int64
	err = tx.QueryRowContext(ctx, db.Q(`INSERT INTO templates (tenant_id, name, description, vendor, product,
		agent_type, agent_options, created_by, updated_by, created_at, updated_at)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) RETURNING id`),
		t.TenantID, t.Name, t.Description, t.Vendor, t.Product, string(t.AgentType), opts, by, by, now, now).Scan(&id)
	if err != nil {
		return nil, db.Dialect.TranslateError(err)
	}
	steward.AuditOutput(ctx, "template_id", id)
	return db.findTemplate(ctx, tx, t.TenantID, id)
}

// FindTemplateByID implements steward.TemplateService.
func (db *DB) FindTemplateByID(ctx context.Context, tenantID, id int64) (*steward.Template, error) {
	return readVia(ctx, db, func(q Queryer) (*steward.Template, error) { return db.findTemplate(ctx, q, tenantID, id) })
}

func (db *DB) findTemplate(ctx context.Context, q Queryer, tenantID, id int64) (*steward.Template, error) {
	t, err := scanTemplate(q.QueryRowContext(ctx, db.Q(templateSelect+` WHERE t.id = ? AND t.tenant_id = ?`), id, tenantID))
	if errors.Is(err, sql.ErrNoRows) {
		return nil, notFound("template")
	} else if err != nil {
		return nil, fmt.Errorf("find template %d: %w", id, err)
	}
	return t, nil
}

// FindTemplates implements steward.TemplateService.
func (db *DB) FindTemplates(ctx context.Context, f steward.TemplateFilter) ([]*steward.Template, int, error) {
	where, args := []string{"t.tenant_id = ?"}, []any{f.TenantID}
	if s := strings.TrimSpace(f.Search); s != "" {
		var ors []string
		for _, col := range []string{"t.name", "t.description", "t.vendor", "t.product", "t.agent_options"} {
			ors = append(ors, `LOWER(`+col+`) LIKE ? ESCAPE '\'`)
			args = append(args, likePattern(s))
		}
		where = append(where, "("+strings.Join(ors, " OR ")+")")
	}
	cond := strings.Join(where, " AND ")
	var total int
	if err := db.queryRow(ctx, `SELECT COUNT(*) FROM templates t WHERE `+cond, args...).Scan(&total); err != nil {
		return nil, 0, fmt.Errorf("count templates: %w", err)
	}
	ts, err := db.queryTemplates(ctx, templateSelect+` WHERE `+cond+` ORDER BY t.id LIMIT ? OFFSET ?`,
		append(args, f.PerPage, f.Offset())...)
	if err != nil {
		return nil, 0, fmt.Errorf("find templates: %w", err)
	}
	return ts, total, nil
}

// AllTemplates implements steward.TemplateService.
func (db *DB) AllTemplates(ctx context.Context, tenantID int64) ([]*steward.Template, error) {
	ts, err := db.queryTemplates(ctx, templateSelect+` WHERE t.tenant_id = ? ORDER BY t.id`, tenantID)
	if err != nil {
		return nil, fmt.Errorf("all templates: %w", err)
	}
	return ts, nil
}

func (db *DB) queryTemplates(ctx context.Context, query string, args ...any) ([]*steward.Template, error) {
	rows, err := db.query(ctx, query, args...)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	ts := []*steward.Template{}
	for rows.Next() {
		t, err := scanTemplate(rows)
		if err != nil {
			return nil, err
		}
		ts = append(ts, t)
	}
	return ts, rows.Err()
}

// UpdateTemplate implements steward.TemplateService.
func (db *DB) UpdateTemplate(ctx context.Context, tenantID, id int64, upd steward.TemplateUpdate) (*steward.Template, error) {
	var out *steward.Template
	var name string
	err := db.InTx(ctx, func(tx *sql.Tx) error {
		t, err := db.findTemplate(ctx, tx, tenantID, id)
		if err != nil {
			return err
		}
		for _, f := range []struct {
			dst *string
			v   *string
		}{{&t.Name, upd.Name}, {&t.Description, upd.Description}, {&t.Vendor, upd.Vendor}, {&t.Product, upd.Product}} {
			if f.v != nil {
				*f.dst = *f.v
			}
		}
		if upd.AgentType != nil {
			t.AgentType = *upd.AgentType
		}
		if upd.AgentOptions != nil {
			t.AgentOptions = *upd.AgentOptions
		}
		if upd.Validate != nil {
			if err := upd.Validate(t); err != nil {
				return err
			}
		}
		t.UpdatedBy = &steward.UserRef{ID: upd.UpdatedBy}
		name = strings.TrimSpace(t.Name)
		out, err = db.writeTemplate(ctx, tx, t)
		return err
	})
	if err != nil {
		if steward.ErrorCode(err) == steward.ECONFLICT {
			return nil, nameTaken(name)
		}
		return nil, fmt.Errorf("update template %d: %w", id, err)
	}
	return out, nil
}

// writeTemplate saves every field of an existing template in tx, stamps
// updated_at, and returns the template as stored.
func (db *DB) writeTemplate(ctx context.Context, tx *sql.Tx, t *steward.Template) (*steward.Template, error) {
	opts, err := checkTemplate(t)
	if err != nil {
		return nil, err
	}
	_, err = tx.ExecContext(ctx, db.Q(`UPDATE templates SET name = ?, description = ?, vendor = ?, product = ?,
		agent_type = ?, agent_options = ?, updated_by = ?, updated_at = ? WHERE id = ? AND tenant_id = ?`),
		t.Name, t.Description, t.Vendor, t.Product, string(t.AgentType), opts, userRefID(t.UpdatedBy),
		Micros(db.Clock.Now()), t.ID, t.TenantID)
	if err != nil {
		return nil, db.Dialect.TranslateError(err)
	}
	return db.findTemplate(ctx, tx, t.TenantID, t.ID)
}

// DeleteTemplate implements steward.TemplateService.
func (db *DB) DeleteTemplate(ctx context.Context, tenantID, id int64) error {
	res, err := db.Exec(ctx, `DELETE FROM templates WHERE id = ? AND tenant_id = ?`, id, tenantID)
	if err != nil {
		return fmt.Errorf("delete template %d: %w", id, err)
	}
	if n, err := res.RowsAffected(); err != nil {
		return fmt.Errorf("delete template %d: %w", id, err)
	} else if n == 0 {
		return notFound("template")
	}
	return nil
}

// ImportTemplates implements steward.TemplateService. The tenant row is
// locked on PostgreSQL so that concurrent imports into one tenant queue
// rather than race on names.
func (db *DB) ImportTemplates(ctx context.Context, tenantID, userID int64, entries []steward.TemplateImportEntry) (*steward.TemplateImport, error) {
	var report *steward.TemplateImport
	err := db.InTx(ctx, func(tx *sql.Tx) error {
		report = &steward.TemplateImport{Created: []*steward.Template{}, Updated: []*steward.Template{}, Unchanged: []*steward.Template{}}
		if err := db.lockTenant(ctx, tx, tenantID); err != nil {
			return err
		}
		for i, in := range entries {
			t := *in.Template
			t.TenantID = tenantID
			if _, err := checkTemplate(&t); err != nil {
				return fmt.Errorf("template %d: %w", i, err)
			}
			var id int64
			err := tx.QueryRowContext(ctx, db.Q(`SELECT id FROM templates WHERE tenant_id = ? AND name = ?`), tenantID, t.Name).Scan(&id)
			if errors.Is(err, sql.ErrNoRows) {
				t.CreatedBy = &steward.UserRef{ID: userID}
				created, err := db.insertTemplate(ctx, tx, &t)
				if err != nil {
					return fmt.Errorf("create template %q: %w", t.Name, err)
				}
				report.Created = append(report.Created, created)
				continue
			} else if err != nil {
				return err
			}
			cur, err := db.findTemplate(ctx, tx, tenantID, id)
			if err != nil {
				return err
			}
			if in.KeepDescription {
				t.Description = cur.Description
			}
			if in.KeepVendor {
				t.Vendor = cur.Vendor
			}
			if in.KeepProduct {
				t.Product = cur.Product
			}
			if cur.SameContent(&t) {
				report.Unchanged = append(report.Unchanged, cur)
				continue
			}
			t.ID, t.UpdatedBy = id, &steward.UserRef{ID: userID}
			updated, err := db.writeTemplate(ctx, tx, &t)
			if err != nil {
				return fmt.Errorf("update template %q: %w", t.Name, err)
			}
			report.Updated = append(report.Updated, updated)
		}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("import templates: %w", err)
	}
	return report, nil
}
