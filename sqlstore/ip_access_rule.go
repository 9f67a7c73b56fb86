package sqlstore

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"net/netip"

	"github.com/steward-dev/steward"
)

var _ steward.IPAccessRuleService = (*DB)(nil)

const ipAccessRuleColumns = `id, tenant_id, ip, description, created_at, updated_at`

func scanIPAccessRule(s scanner) (*steward.IPAccessRule, error) {
	var r steward.IPAccessRule
	var created, updated int64
	if err := s.Scan(&r.ID, &r.TenantID, &r.IP, &r.Description, &created, &updated); err != nil {
		return nil, err
	}
	r.CreatedAt, r.UpdatedAt = FromMicros(created), FromMicros(updated)
	return &r, nil
}

// tenantIPAccessRules reads every rule of a tenant, oldest first.
func (db *DB) tenantIPAccessRules(ctx context.Context, q Queryer, tenantID int64) ([]*steward.IPAccessRule, error) {
	rows, err := q.QueryContext(ctx, db.Q(`SELECT `+ipAccessRuleColumns+` FROM ip_access_rules WHERE tenant_id = ? ORDER BY id`), tenantID)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	rules := []*steward.IPAccessRule{}
	for rows.Next() {
		r, err := scanIPAccessRule(rows)
		if err != nil {
			return nil, err
		}
		rules = append(rules, r)
	}
	return rules, rows.Err()
}

// FindIPAccessRules implements steward.IPAccessRuleService. A tenant has at
// most steward.MaxIPAccessRules rules, so matching is done on the whole
// list here rather than in SQL, where address ranges compare differently
// in each dialect.
func (db *DB) FindIPAccessRules(ctx context.Context, f steward.IPAccessRuleFilter) ([]*steward.IPAccessRule, int, error) {
	all, err := readVia(ctx, db, func(q Queryer) ([]*steward.IPAccessRule, error) { return db.tenantIPAccessRules(ctx, q, f.TenantID) })
	if err != nil {
		return nil, 0, fmt.Errorf("find ip access rules: %w", err)
	}
	matched := all
	if f.MatchingIP.IsValid() {
		matched = []*steward.IPAccessRule{}
		for _, r := range all {
			if r.Prefix().Contains(f.MatchingIP.Unmap()) {
				matched = append(matched, r)
			}
		}
	}
	start := min(f.Offset(), len(matched))
	end := min(start+f.PerPage, len(matched))
	return matched[start:end], len(matched), nil
}

// FindIPAccessRuleByID implements steward.IPAccessRuleService.
func (db *DB) FindIPAccessRuleByID(ctx context.Context, tenantID, id int64) (*steward.IPAccessRule, error) {
	return readVia(ctx, db, func(q Queryer) (*steward.IPAccessRule, error) { return db.findIPAccessRule(ctx, q, tenantID, id) })
}

func (db *DB) findIPAccessRule(ctx context.Context, q Queryer, tenantID, id int64) (*steward.IPAccessRule, error) {
	r, err := scanIPAccessRule(q.QueryRowContext(ctx, db.Q(`SELECT `+ipAccessRuleColumns+` FROM ip_access_rules
		WHERE id = ? AND tenant_id = ?`), id, tenantID))
	if errors.Is(err, sql.ErrNoRows) {
		return nil, notFound("IP access control rule")
	} else if err != nil {
		return nil, fmt.Errorf("find ip access rule %d: %w", id, err)
	}
	return r, nil
}

// CreateIPAccessRule implements steward.IPAccessRuleService.
func (db *DB) CreateIPAccessRule(ctx context.Context, r *steward.IPAccessRule, guard netip.Addr) error {
	if err := r.Validate(); err != nil {
		return err
	}
	now := db.Clock.Now()
	r.CreatedAt, r.UpdatedAt = now, now
	return db.InTx(ctx, func(tx *sql.Tx) error {
		if err := db.lockTenant(ctx, tx, r.TenantID); err != nil {
			return err
		}
		var n int
		if err := tx.QueryRowContext(ctx, db.Q(`SELECT COUNT(*) FROM ip_access_rules WHERE tenant_id = ?`), r.TenantID).Scan(&n); err != nil {
			return err
		}
		if n >= steward.MaxIPAccessRules {
			return steward.Errorf(steward.EINVALID, "a tenant may have at most %d IP access control rules; use CIDR ranges to cover several addresses", steward.MaxIPAccessRules)
		}
		err := tx.QueryRowContext(ctx, db.Q(`INSERT INTO ip_access_rules (tenant_id, ip, description, created_at, updated_at)
			VALUES (?, ?, ?, ?, ?) RETURNING id`), r.TenantID, r.IP, r.Description, Micros(now), Micros(now)).Scan(&r.ID)
		if err != nil {
			return fmt.Errorf("create ip access rule: %w", err)
		}
		return db.checkIPLockout(ctx, tx, r.TenantID, guard)
	})
}

// UpdateIPAccessRule implements steward.IPAccessRuleService.
func (db *DB) UpdateIPAccessRule(ctx context.Context, tenantID, id int64, upd steward.IPAccessRuleUpdate, guard netip.Addr) (*steward.IPAccessRule, error) {
	var out *steward.IPAccessRule
	err := db.InTx(ctx, func(tx *sql.Tx) error {
		if err := db.lockTenant(ctx, tx, tenantID); err != nil {
			return err
		}
		r, err := db.findIPAccessRule(ctx, tx, tenantID, id)
		if err != nil {
			return err
		}
		if upd.IP != nil {
			r.IP = *upd.IP
		}
		if upd.Description != nil {
			r.Description = *upd.Description
		}
		if err := r.Validate(); err != nil {
			return err
		}
		r.UpdatedAt = db.Clock.Now()
		if _, err := tx.ExecContext(ctx, db.Q(`UPDATE ip_access_rules SET ip = ?, description = ?, updated_at = ?
			WHERE id = ? AND tenant_id = ?`), r.IP, r.Description, Micros(r.UpdatedAt), id, tenantID); err != nil {
			return fmt.Errorf("update ip access rule %d: %w", id, err)
		}
		out = r
		return db.checkIPLockout(ctx, tx, tenantID, guard)
	})
	if err != nil {
		return nil, err
	}
	return out, nil
}

// DeleteIPAccessRule implements steward.IPAccessRuleService.
func (db *DB) DeleteIPAccessRule(ctx context.Context, tenantID, id int64, guard netip.Addr) error {
	return db.InTx(ctx, func(tx *sql.Tx) error {
		if err := db.lockTenant(ctx, tx, tenantID); err != nil {
			return err
		}
		res, err := tx.ExecContext(ctx, db.Q(`DELETE FROM ip_access_rules WHERE id = ? AND tenant_id = ?`), id, tenantID)
		if err != nil {
			return fmt.Errorf("delete ip access rule %d: %w", id, err)
		}
		if n, _ := res.RowsAffected(); n == 0 {
			return notFound("IP access control rule")
		}
		return db.checkIPLockout(ctx, tx, tenantID, guard)
	})
}

// checkIPLockout refuses, inside the change's transaction, a set of rules
// that would no longer admit guard, the address of the admin making it.
func (db *DB) checkIPLockout(ctx context.Context, tx *sql.Tx, tenantID int64, guard netip.Addr) error {
	ranges, err := db.tenantIPRanges(ctx, tx, tenantID)
	if err != nil {
		return err
	}
	if steward.IPAllowed(ranges, guard) {
		return nil
	}
	addr := "unknown"
	if guard.IsValid() {
		addr = guard.Unmap().String()
	}
	return steward.FieldErrorf("ip", "this change would lock you out: your address %s would match none of the tenant's IP access control rules; add a rule that covers it first", addr)
}

// TenantIPRanges implements steward.IPAccessRuleService. It runs on every
// authenticated request whose tenant is not cached, through a prepared
// statement and the (tenant_id, id) index.
func (db *DB) TenantIPRanges(ctx context.Context, tenantID int64) ([]netip.Prefix, error) {
	rows, err := db.readRows(ctx, `SELECT ip FROM ip_access_rules WHERE tenant_id = ?`, tenantID)
	if err != nil {
		return nil, fmt.Errorf("tenant ip ranges: %w", err)
	}
	ranges, err := scanIPRanges(rows)
	if err != nil {
		return nil, fmt.Errorf("tenant ip ranges: %w", err)
	}
	return ranges, nil
}

func (db *DB) tenantIPRanges(ctx context.Context, q Queryer, tenantID int64) ([]netip.Prefix, error) {
	rows, err := q.QueryContext(ctx, db.Q(`SELECT ip FROM ip_access_rules WHERE tenant_id = ?`), tenantID)
	if err != nil {
		return nil, err
	}
	return scanIPRanges(rows)
}

// scanIPRanges reads a column of stored ip values and closes rows.
func scanIPRanges(rows *sql.Rows) ([]netip.Prefix, error) {
	defer rows.Close()
	var ranges []netip.Prefix
	for rows.Next() {
		var s string
		if err := rows.Scan(&s); err != nil {
			return nil, err
		}
		p, err := steward.ParseIPRange(s)
		if err != nil {
			return nil, fmt.Errorf("stored ip access rule %q: %w", s, err)
		}
		ranges = append(ranges, p)
	}
	return ranges, rows.Err()
}
