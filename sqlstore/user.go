package sqlstore

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/steward-dev/steward"
)

var _ steward.UserService = (*DB)(nil)

const userColumns = `users.id, users.tenant_id, users.email, users.first_name, users.last_name, users.admin,
	users.tenant_permissions, users.is_active, users.scim_uid, users.password_hash, users.invitation_token_hash,
	users.invitation_sent_at, users.invitation_expires_at, users.invitation_accepted_at, users.locked_until,
	users.last_seen_at, users.created_at, users.updated_at`

type scanner interface{ Scan(dest ...any) error }

func scanUser(s scanner, extra ...any) (*steward.User, error) {
	var u steward.User
	var perms string
	var scim sql.NullString
	var sent, expires, accepted, locked, seen sql.NullInt64
	var created, updated int64
	dest := append([]any{&u.ID, &u.TenantID, &u.Email, &u.FirstName, &u.LastName, &u.Admin,
		&perms, &u.IsActive, &scim, &u.PasswordHash, &u.InvitationTokenHash,
		&sent, &expires, &accepted, &locked, &seen, &created, &updated}, extra...)
	if err := s.Scan(dest...); err != nil {
		return nil, err
	}
	if perms == "[]" {
		u.TenantPermissions = []string{} // the common case, without a JSON decode
	} else if err := json.Unmarshal([]byte(perms), &u.TenantPermissions); err != nil {
		return nil, fmt.Errorf("user %d: tenant_permissions: %w", u.ID, err)
	}
	if scim.Valid {
		u.ScimUID = &scim.String
	}
	u.InvitationSentAt, u.InvitationExpiresAt = FromNullMicros(sent), FromNullMicros(expires)
	u.InvitationAcceptedAt, u.LockedUntil, u.LastSeenAt = FromNullMicros(accepted), FromNullMicros(locked), FromNullMicros(seen)
	u.CreatedAt, u.UpdatedAt = FromMicros(created), FromMicros(updated)
	return &u, nil
}

func permissionsJSON(p []string) string {
	if p == nil {
		p = []string{}
	}
	b, _ := json.Marshal(p) // a []string always marshals
	return string(b)
}

// CreateUser implements steward.UserService.
func (db *DB) CreateUser(ctx context.Context, u *steward.User) error {
	return db.InTx(ctx, func(tx *sql.Tx) error { return db.insertUser(ctx, tx, u) })
}

// insertUser inserts u with q, inside or outside a transaction. A user
// created with a password records when it was set.
func (db *DB) insertUser(ctx context.Context, q Queryer, u *steward.User) error {
	if err := (steward.UserInput{Email: &u.Email, FirstName: &u.FirstName, LastName: &u.LastName}).Normalize(); err != nil {
		return err
	}
	perms, err := steward.NormalizeTenantPermissions(u.TenantPermissions)
	if err != nil {
		return err
	}
	u.TenantPermissions = perms
	now := db.Clock.Now()
	u.CreatedAt, u.UpdatedAt = now, now
	var scim sql.NullString
	if u.ScimUID != nil {
		scim = sql.NullString{String: *u.ScimUID, Valid: true}
	}
	var pwSet *time.Time
	if u.PasswordHash != "" {
		pwSet = &now
	}
	err = q.QueryRowContext(ctx, db.Q(`INSERT INTO users (tenant_id, email, first_name, last_name, admin,
		tenant_permissions, is_active, scim_uid, password_hash, invitation_token_hash, invitation_sent_at,
		invitation_expires_at, password_updated_at, created_at, updated_at)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) RETURNING id`),
		u.TenantID, u.Email, u.FirstName, u.LastName, u.Admin, permissionsJSON(u.TenantPermissions), u.IsActive,
		scim, u.PasswordHash, u.InvitationTokenHash, MicrosPtr(u.InvitationSentAt), MicrosPtr(u.InvitationExpiresAt),
		MicrosPtr(pwSet), Micros(now), Micros(now)).Scan(&u.ID)
	if err != nil {
		err = db.Dialect.TranslateError(err)
		if steward.ErrorCode(err) == steward.ECONFLICT {
			return steward.EmailTaken(u.Email)
		}
		return fmt.Errorf("create user: %w", err)
	}
	steward.AuditTenant(ctx, u.TenantID)
	steward.AuditOutput(ctx, "user_id", u.ID)
	return nil
}

const findUserQuery = `SELECT ` + userColumns + ` FROM users WHERE id = ? AND tenant_id = ?`

// FindUserByID implements steward.UserService.
func (db *DB) FindUserByID(ctx context.Context, tenantID, id int64) (*steward.User, error) {
	return db.userFromRow(db.readRow(ctx, findUserQuery, id, tenantID), id)
}

// findUser reads a user inside a transaction (or any other Queryer).
func (db *DB) findUser(ctx context.Context, q Queryer, tenantID, id int64) (*steward.User, error) {
	return db.userFromRow(q.QueryRowContext(ctx, db.Q(findUserQuery), id, tenantID), id)
}

func (db *DB) userFromRow(row scanner, id int64) (*steward.User, error) {
	u, err := scanUser(row)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, notFound("user")
	} else if err != nil {
		return nil, fmt.Errorf("find user %d: %w", id, err)
	}
	return u, nil
}

// likePattern makes a case-insensitive LIKE pattern matching s anywhere,
// with LIKE's wildcards in s escaped (used with ESCAPE '\').
func likePattern(s string) string {
	r := strings.NewReplacer(`\`, `\\`, `%`, `\%`, `_`, `\_`)
	return "%" + r.Replace(strings.ToLower(s)) + "%"
}

// FindUsers implements steward.UserService.
func (db *DB) FindUsers(ctx context.Context, f steward.UserFilter) ([]*steward.User, int, error) {
	where, args := []string{"tenant_id = ?"}, []any{f.TenantID}
	if f.AdminOnly {
		where = append(where, "admin = TRUE")
	}
	if s := strings.TrimSpace(f.Search); s != "" {
		where = append(where, `(LOWER(email) LIKE ? ESCAPE '\' OR LOWER(first_name) LIKE ? ESCAPE '\' OR LOWER(last_name) LIKE ? ESCAPE '\')`)
		p := likePattern(s)
		args = append(args, p, p, p)
	}
	cond := strings.Join(where, " AND ")
	var total int
	countQuery := `SELECT COUNT(*) FROM users WHERE ` + cond
	if len(where) == 1 {
		// The whole tenant: the triggers of migration 0007 keep this count.
		countQuery = `SELECT COALESCE((SELECT users FROM tenant_user_counts WHERE tenant_id = ?), 0)`
	}
	if err := db.readRow(ctx, countQuery, args...).Scan(&total); err != nil {
		return nil, 0, fmt.Errorf("count users: %w", err)
	}
	rows, err := db.readRows(ctx, `SELECT `+userColumns+` FROM users WHERE `+cond+` ORDER BY id LIMIT ? OFFSET ?`,
		append(args, f.PerPage, f.Offset())...)
	if err != nil {
		return nil, 0, fmt.Errorf("find users: %w", err)
	}
	defer rows.Close()
	users := []*steward.User{}
	for rows.Next() {
		u, err := scanUser(rows)
		if err != nil {
			return nil, 0, fmt.Errorf("find users: %w", err)
		}
		users = append(users, u)
	}
	return users, total, rows.Err()
}

// FindUsersByEmail implements steward.UserService.
func (db *DB) FindUsersByEmail(ctx context.Context, email string) ([]*steward.User, error) {
	rows, err := db.query(ctx, `SELECT `+userColumns+` FROM users WHERE email = ? ORDER BY id`,
		strings.ToLower(strings.TrimSpace(email)))
	if err != nil {
		return nil, fmt.Errorf("find users by email: %w", err)
	}
	defer rows.Close()
	var users []*steward.User
	for rows.Next() {
		u, err := scanUser(rows)
		if err != nil {
			return nil, err
		}
		users = append(users, u)
	}
	return users, rows.Err()
}

// lockTenant serialises changes to a tenant's admins.
func (db *DB) lockTenant(ctx context.Context, tx *sql.Tx, tenantID int64) error {
	return db.Dialect.LockTenant(ctx, tx, tenantID)
}

// otherActiveAdmins counts the tenant's active admins other than userID.
func (db *DB) otherActiveAdmins(ctx context.Context, tx *sql.Tx, tenantID, userID int64) (int, error) {
	var n int
	err := tx.QueryRowContext(ctx, db.Q(`SELECT COUNT(*) FROM users WHERE tenant_id = ? AND id <> ? AND admin = TRUE AND is_active = TRUE`),
		tenantID, userID).Scan(&n)
	return n, err
}

// UpdateUser implements steward.UserService.
func (db *DB) UpdateUser(ctx context.Context, tenantID, id int64, upd steward.UserUpdate) (*steward.User, error) {
	var out *steward.User
	err := db.InTx(ctx, func(tx *sql.Tx) error {
		u, err := db.updateUser(ctx, tx, tenantID, id, upd)
		out = u
		return err
	})
	if err != nil {
		return nil, fmt.Errorf("update user %d: %w", id, err)
	}
	return out, nil
}

// updateUser applies upd inside tx; see UpdateUser. Setting a password
// records when it was set (password_updated_at).
func (db *DB) updateUser(ctx context.Context, tx *sql.Tx, tenantID, id int64, upd steward.UserUpdate) (*steward.User, error) {
	steward.AuditTenant(ctx, tenantID)
	if err := db.lockTenant(ctx, tx, tenantID); err != nil {
		return nil, err
	}
	u, err := db.findUser(ctx, tx, tenantID, id)
	if err != nil {
		return nil, err
	}
	wasActiveAdmin := u.Admin && u.IsActive
	if upd.Email != nil {
		if u.Email, err = steward.NormalizeEmail(*upd.Email); err != nil {
			return nil, err
		}
	}
	if upd.FirstName != nil {
		if u.FirstName, err = steward.NormalizeName("first_name", *upd.FirstName); err != nil {
			return nil, err
		}
	}
	if upd.LastName != nil {
		if u.LastName, err = steward.NormalizeName("last_name", *upd.LastName); err != nil {
			return nil, err
		}
	}
	if upd.Admin != nil {
		u.Admin = *upd.Admin
	}
	if upd.IsActive != nil {
		u.IsActive = *upd.IsActive
	}
	if upd.TenantPermissions != nil {
		if u.TenantPermissions, err = steward.NormalizeTenantPermissions(*upd.TenantPermissions); err != nil {
			return nil, err
		}
	}
	if upd.PasswordHash != nil {
		u.PasswordHash = *upd.PasswordHash
	}
	if upd.Unlock {
		u.LockedUntil = nil
	}
	if wasActiveAdmin && !(u.Admin && u.IsActive) {
		n, err := db.otherActiveAdmins(ctx, tx, tenantID, id)
		if err != nil {
			return nil, err
		}
		if n == 0 {
			field := "admin"
			if !u.IsActive {
				field = "is_active"
			}
			return nil, steward.FieldErrorf(field, "this user is the tenant's last active admin; make another user an admin first")
		}
	}
	u.UpdatedAt = db.Clock.Now()
	reset := ""
	if upd.Unlock {
		reset = ", " + resetFailedLogins
	}
	_, err = tx.ExecContext(ctx, db.Q(`UPDATE users SET email = ?, first_name = ?, last_name = ?, admin = ?,
		tenant_permissions = ?, is_active = ?, password_hash = ?, locked_until = ?, updated_at = ?,
		password_updated_at = CASE WHEN ? THEN ? ELSE password_updated_at END`+reset+`
		WHERE id = ? AND tenant_id = ?`),
		u.Email, u.FirstName, u.LastName, u.Admin, permissionsJSON(u.TenantPermissions), u.IsActive,
		u.PasswordHash, MicrosPtr(u.LockedUntil), Micros(u.UpdatedAt), upd.PasswordHash != nil, Micros(u.UpdatedAt), id, tenantID)
	if err != nil {
		if err = db.Dialect.TranslateError(err); steward.ErrorCode(err) == steward.ECONFLICT {
			return nil, steward.EmailTaken(u.Email)
		}
		return nil, err
	}
	return u, nil
}

// DeleteUser implements steward.UserService. Keys, sessions and sign-in
// records go with the user through ON DELETE CASCADE.
func (db *DB) DeleteUser(ctx context.Context, tenantID, id int64) error {
	err := db.InTx(ctx, func(tx *sql.Tx) error {
		if err := db.lockTenant(ctx, tx, tenantID); err != nil {
			return err
		}
		u, err := db.findUser(ctx, tx, tenantID, id)
		if err != nil {
			return err
		}
		if u.Admin && u.IsActive {
			n, err := db.otherActiveAdmins(ctx, tx, tenantID, id)
			if err != nil {
				return err
			}
			if n == 0 {
				return steward.Errorf(steward.EINVALID, "this user is the tenant's last active admin and cannot be deleted; make another user an admin first")
			}
		}
		steward.AuditTenant(ctx, tenantID)
		_, err = tx.ExecContext(ctx, db.Q(`DELETE FROM users WHERE id = ? AND tenant_id = ?`), id, tenantID)
		return err
	})
	if err != nil {
		return fmt.Errorf("delete user %d: %w", id, err)
	}
	return nil
}

// TouchUsers implements steward.UserService.
func (db *DB) TouchUsers(ctx context.Context, seen map[int64]time.Time) error {
	if len(seen) == 0 {
		return nil
	}
	return db.InTx(ctx, func(tx *sql.Tx) error {
		stmt, err := tx.PrepareContext(ctx, db.Q(`UPDATE users SET last_seen_at = ? WHERE id = ? AND (last_seen_at IS NULL OR last_seen_at < ?)`))
		if err != nil {
			return err
		}
		defer stmt.Close()
		for id, t := range seen {
			if _, err := stmt.ExecContext(ctx, Micros(t), id, Micros(t)); err != nil {
				return err
			}
		}
		return nil
	})
}
