package sqlstore

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"

	"github.com/steward-dev/steward"
)

var _ steward.EgressRuleService = (*DB)(nil)

// MaxEgressRules caps how many egress control rules one tenant keeps.
const MaxEgressRules = 1000

const egressRuleColumns = `id, tenant_id, ip, fqdn, description, allowed_action_types, created_at, updated_at`

func scanEgressRule(s scanner) (*steward.EgressRule, error) {
	var r steward.EgressRule
	var types string
	var created, updated int64
	if err := s.Scan(&r.ID, &r.TenantID, &r.IP, &r.FQDN, &r.Description, &types, &created, &updated); err != nil {
		return nil, err
	}
	if err := json.Unmarshal([]byte(types), &r.AllowedActionTypes); err != nil {
		return nil, fmt.Errorf("egress rule %d: allowed_action_types: %w", r.ID, err)
	}
	r.CreatedAt, r.UpdatedAt = FromMicros(created), FromMicros(updated)
	return &r, nil
}

func egressTypesText(types []string) string {
	b, _ := json.Marshal(types)
	return string(b)
}

// CreateEgressRule implements steward.EgressRuleService.
func (db *DB) CreateEgressRule(ctx context.Context, r *steward.EgressRule) error {
	defer db.egressRules.invalidate()
	if err := steward.ValidateEgressRule(r); err != nil {
		return err
	}
	err := db.InTx(ctx, func(tx *sql.Tx) error {
		var n int
		if err := tx.QueryRowContext(ctx, db.Q(`SELECT COUNT(*) FROM egress_rules WHERE tenant_id = ?`), r.TenantID).Scan(&n); err != nil {
			return err
		}
		if n >= MaxEgressRules {
			return steward.Errorf(steward.EINVALID, "the tenant already has %d egress control rules, the most it may keep; widen or delete one", n)
		}
		now := db.Clock.Now()
		r.CreatedAt, r.UpdatedAt = now, now
		return tx.QueryRowContext(ctx, db.Q(`INSERT INTO egress_rules (tenant_id, ip, fqdn, description, allowed_action_types, created_at, updated_at)
			VALUES (?, ?, ?, ?, ?, ?, ?) RETURNING id`),
			r.TenantID, r.IP, r.FQDN, r.Description, egressTypesText(r.AllowedActionTypes), Micros(now), Micros(now)).Scan(&r.ID)
	})
	if err != nil {
		return fmt.Errorf("create egress rule: %w", err)
	}
	return nil
}

// FindEgressRuleByID implements steward.EgressRuleService.
func (db *DB) FindEgressRuleByID(ctx context.Context, tenantID, id int64) (*steward.EgressRule, error) {
	return readVia(ctx, db, func(q Queryer) (*steward.EgressRule, error) { return db.findEgressRule(ctx, q, tenantID, id) })
}

func (db *DB) findEgressRule(ctx context.Context, q Queryer, tenantID, id int64) (*steward.EgressRule, error) {
	r, err := scanEgressRule(q.QueryRowContext(ctx, db.Q(`SELECT `+egressRuleColumns+` FROM egress_rules WHERE id = ? AND tenant_id = ?`), id, tenantID))
	if errors.Is(err, sql.ErrNoRows) {
		return nil, notFound("egress control rule")
	} else if err != nil {
		return nil, fmt.Errorf("find egress rule %d: %w", id, err)
	}
	return r, nil
}

// FindEgressRules implements steward.EgressRuleService.
func (db *DB) FindEgressRules(ctx context.Context, tenantID int64, page steward.PageRequest) ([]*steward.EgressRule, int, error) {
	var total int
	if err := db.queryRow(ctx, `SELECT COUNT(*) FROM egress_rules WHERE tenant_id = ?`, tenantID).Scan(&total); err != nil {
		return nil, 0, fmt.Errorf("count egress rules: %w", err)
	}
	rules, err := db.queryEgressRules(ctx, `WHERE tenant_id = ? ORDER BY id LIMIT ? OFFSET ?`, tenantID, page.PerPage, page.Offset())
	return rules, total, err
}

// AllEgressRules implements steward.EgressRuleService. Every job that
// connects somewhere reads them, so they are served from memory for up to
// a second (snapshots); a change through this process applies at once.
func (db *DB) AllEgressRules(ctx context.Context, tenantID int64) ([]*steward.EgressRule, error) {
	return db.egressRules.load(tenantID, func() ([]*steward.EgressRule, error) {
		return db.queryEgressRules(ctx, `WHERE tenant_id = ? ORDER BY id`, tenantID)
	})
}

func (db *DB) queryEgressRules(ctx context.Context, rest string, args ...any) ([]*steward.EgressRule, error) {
	rows, err := db.query(ctx, `SELECT `+egressRuleColumns+` FROM egress_rules `+rest, args...)
	if err != nil {
		return nil, fmt.Errorf("find egress rules: %w", err)
	}
	defer rows.Close()
	out := []*steward.EgressRule{}
	for rows.Next() {
		r, err := scanEgressRule(rows)
		if err != nil {
			return nil, err
		}
		out = append(out, r)
	}
	return out, rows.Err()
}

// UpdateEgressRule implements steward.EgressRuleService.
func (db *DB) UpdateEgressRule(ctx context.Context, tenantID, id int64, upd steward.EgressRuleUpdate) (*steward.EgressRule, error) {
	defer db.egressRules.invalidate()
	var r *steward.EgressRule
	err := db.InTx(ctx, func(tx *sql.Tx) error {
		var err error
		if r, err = db.findEgressRule(ctx, tx, tenantID, id); err != nil {
			return err
		}
		if err := upd.Apply(r); err != nil {
			return err
		}
		if err := steward.ValidateEgressRule(r); err != nil {
			return err
		}
		r.UpdatedAt = db.Clock.Now()
		_, err = tx.ExecContext(ctx, db.Q(`UPDATE egress_rules SET ip = ?, fqdn = ?, description = ?, allowed_action_types = ?, updated_at = ?
			WHERE id = ? AND tenant_id = ?`), r.IP, r.FQDN, r.Description, egressTypesText(r.AllowedActionTypes), Micros(r.UpdatedAt), id, tenantID)
		return err
	})
	if err != nil {
		return nil, fmt.Errorf("update egress rule %d: %w", id, err)
	}
	return r, nil
}

// DeleteEgressRule implements steward.EgressRuleService.
func (db *DB) DeleteEgressRule(ctx context.Context, tenantID, id int64) error {
	defer db.egressRules.invalidate()
	res, err := db.Exec(ctx, `DELETE FROM egress_rules WHERE id = ? AND tenant_id = ?`, id, tenantID)
	if err != nil {
		return fmt.Errorf("delete egress rule %d: %w", id, err)
	}
	if n, _ := res.RowsAffected(); n == 0 {
		return notFound("egress control rule")
	}
	return nil
}
