package sqlstore

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"

	"github.com/steward-dev/steward"
)

var _ steward.TykUserService = (*DB)(nil)

// tykUserColumns follow userColumns in every Tyk user query, which joins
// tenants to learn whether the user is a super user.
const tykUserColumns = `, users.tyk_permissions, users.group_id, users.password_max_days, users.password_updated_at, tenants.instance, COALESCE(tenants.tyk_id, '')`

const tykUserFrom = ` FROM users JOIN tenants ON tenants.id = users.tenant_id`

func scanTykUser(s scanner) (*steward.TykUser, error) {
	var perms string
	var pwUpdated sql.NullInt64
	t := &steward.TykUser{}
	u, err := scanUser(s, &perms, &t.GroupID, &t.PasswordMaxDays, &pwUpdated, &t.SuperUser, &t.OrgTykID)
	if err != nil {
		return nil, err
	}
	t.User = u
	if err := json.Unmarshal([]byte(perms), &t.Permissions); err != nil {
		return nil, fmt.Errorf("user %d: tyk_permissions: %w", u.ID, err)
	}
	if t.Permissions == nil {
		t.Permissions = map[string]string{}
	}
	t.PasswordUpdatedAt = FromNullMicros(pwUpdated)
	return t, nil
}

func tykPermissionsJSON(p map[string]string) string {
	if p == nil {
		p = map[string]string{}
	}
	b, _ := json.Marshal(p) // a map[string]string always marshals
	return string(b)
}

// scopeCondition is the WHERE clause that keeps a query inside scope.
func scopeCondition(scope steward.UserScope) (string, []any) {
	if scope.AllTenants {
		return "TRUE", nil
	}
	return "users.tenant_id = ?", []any{scope.TenantID}
}

// CreateTykUser implements steward.TykUserService.
func (db *DB) CreateTykUser(ctx context.Context, u *steward.TykUser, key *steward.APIKey) error {
	return db.InTx(ctx, func(tx *sql.Tx) error {
		if u.TenantID == 0 && u.SuperUser {
			id, err := db.instanceTenant(ctx, tx)
			if err != nil {
				return err
			}
			u.TenantID = id
		}
		if err := db.insertUser(ctx, tx, u.User); err != nil {
			return err
		}
		_, err := tx.ExecContext(ctx, db.Q(`UPDATE users SET tyk_permissions = ?, group_id = ?, password_max_days = ?
			WHERE id = ? AND tenant_id = ?`), tykPermissionsJSON(u.Permissions), u.GroupID, u.PasswordMaxDays, u.ID, u.TenantID)
		if err != nil {
			return fmt.Errorf("create user: %w", err)
		}
		var instance bool
		if err := tx.QueryRowContext(ctx, db.Q(`SELECT instance, COALESCE(tyk_id, '') FROM tenants WHERE id = ?`), u.TenantID).Scan(&instance, &u.OrgTykID); err != nil {
			return fmt.Errorf("create user: tenant %d: %w", u.TenantID, err)
		}
		u.SuperUser = instance
		if u.PasswordHash != "" {
			t := u.CreatedAt
			u.PasswordUpdatedAt = &t
		}
		if key != nil {
			key.TenantID, key.UserID = u.TenantID, u.ID
			return db.storeAccessKey(ctx, tx, key)
		}
		return nil
	})
}

// storeAccessKey inserts key and records it as its user's access key.
func (db *DB) storeAccessKey(ctx context.Context, tx *sql.Tx, key *steward.APIKey) error {
	if err := db.insertAPIKey(ctx, tx, key); err != nil {
		return fmt.Errorf("create access key: %w", err)
	}
	_, err := tx.ExecContext(ctx, db.Q(`UPDATE users SET access_key_id = ? WHERE id = ? AND tenant_id = ?`), key.ID, key.UserID, key.TenantID)
	return err
}

// FindTykUser implements steward.TykUserService.
func (db *DB) FindTykUser(ctx context.Context, scope steward.UserScope, id int64) (*steward.TykUser, error) {
	return readVia(ctx, db, func(q Queryer) (*steward.TykUser, error) { return db.findTykUser(ctx, q, scope, id) })
}

func (db *DB) findTykUser(ctx context.Context, q Queryer, scope steward.UserScope, id int64) (*steward.TykUser, error) {
	cond, args := scopeCondition(scope)
	u, err := scanTykUser(q.QueryRowContext(ctx, db.Q(`SELECT `+userColumns+tykUserColumns+tykUserFrom+
		` WHERE users.id = ? AND `+cond), append([]any{id}, args...)...))
	if errors.Is(err, sql.ErrNoRows) {
		return nil, notFound("user")
	} else if err != nil {
		return nil, fmt.Errorf("find user %d: %w", id, err)
	}
	return u, nil
}

// FindTykUsers implements steward.TykUserService.
func (db *DB) FindTykUsers(ctx context.Context, scope steward.UserScope, page steward.PageRequest) ([]*steward.TykUser, int, error) {
	cond, args := scopeCondition(scope)
	var total int
	if err := db.queryRow(ctx, `SELECT COUNT(*) FROM users WHERE `+cond, args...).Scan(&total); err != nil {
		return nil, 0, fmt.Errorf("count users: %w", err)
	}
	query := `SELECT ` + userColumns + tykUserColumns + tykUserFrom + ` WHERE ` + cond + ` ORDER BY users.id`
	if page.PerPage > 0 {
		query += ` LIMIT ? OFFSET ?`
		args = append(args, page.PerPage, page.Offset())
	}
	rows, err := db.query(ctx, query, args...)
	if err != nil {
		return nil, 0, fmt.Errorf("find users: %w", err)
	}
	defer rows.Close()
	users := []*steward.TykUser{}
	for rows.Next() {
		u, err := scanTykUser(rows)
		if err != nil {
			return nil, 0, fmt.Errorf("find users: %w", err)
		}
		users = append(users, u)
	}
	return users, total, rows.Err()
}

// UpdateTykUser implements steward.TykUserService.
func (db *DB) UpdateTykUser(ctx context.Context, tenantID, id int64, upd steward.TykUserUpdate) (*steward.TykUser, error) {
	steward.AuditTenant(ctx, tenantID)
	var out *steward.TykUser
	err := db.InTx(ctx, func(tx *sql.Tx) error {
		if _, err := db.updateUser(ctx, tx, tenantID, id, upd.UserUpdate); err != nil {
			return err
		}
		u, err := db.findTykUser(ctx, tx, steward.UserScope{TenantID: tenantID}, id)
		if err != nil {
			return err
		}
		if upd.Permissions != nil {
			u.Permissions = *upd.Permissions
		}
		if upd.GroupID != nil {
			u.GroupID = *upd.GroupID
		}
		if upd.PasswordMaxDays != nil {
			u.PasswordMaxDays = *upd.PasswordMaxDays
		}
		_, err = tx.ExecContext(ctx, db.Q(`UPDATE users SET tyk_permissions = ?, group_id = ?, password_max_days = ?
			WHERE id = ? AND tenant_id = ?`), tykPermissionsJSON(u.Permissions), u.GroupID, u.PasswordMaxDays, id, tenantID)
		out = u
		return err
	})
	if err != nil {
		return nil, fmt.Errorf("update user %d: %w", id, err)
	}
	return out, nil
}

// RenewAccessKey implements steward.TykUserService.
func (db *DB) RenewAccessKey(ctx context.Context, tenantID, userID int64, key *steward.APIKey) error {
	steward.AuditTenant(ctx, tenantID)
	err := db.InTx(ctx, func(tx *sql.Tx) error {
		var current sql.NullInt64
		err := tx.QueryRowContext(ctx, db.Q(`SELECT access_key_id FROM users WHERE id = ? AND tenant_id = ?`), userID, tenantID).Scan(&current)
		if errors.Is(err, sql.ErrNoRows) {
			return notFound("user")
		} else if err != nil {
			return err
		}
		if current.Valid {
			_, err := tx.ExecContext(ctx, db.Q(`UPDATE api_keys SET revoked_at = COALESCE(revoked_at, ?)
				WHERE id = ? AND tenant_id = ? AND user_id = ?`), Micros(db.Clock.Now()), current.Int64, tenantID, userID)
			if err != nil {
				return err
			}
		}
		key.TenantID, key.UserID = tenantID, userID
		return db.storeAccessKey(ctx, tx, key)
	})
	if err != nil {
		return fmt.Errorf("renew access key of user %d: %w", userID, err)
	}
	return nil
}
