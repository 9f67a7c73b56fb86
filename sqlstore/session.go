package sqlstore

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/steward-dev/steward"
)

var _ steward.SessionService = (*DB)(nil)

// CreateSession implements steward.SessionService.
func (db *DB) CreateSession(ctx context.Context, s *steward.Session) error {
	err := db.writeRow(ctx, `INSERT INTO sessions (tenant_id, user_id, token_hash, ip, user_agent, created_at, expires_at)
		VALUES (?, ?, ?, ?, ?, ?, ?) RETURNING id`,
		s.TenantID, s.UserID, s.TokenHash, s.IP, s.UserAgent, Micros(s.CreatedAt), Micros(s.ExpiresAt)).Scan(&s.ID)
	if err != nil {
		return fmt.Errorf("create session: %w", db.Dialect.TranslateError(err))
	}
	return nil
}

// FindSessionByTokenHash implements steward.SessionService.
func (db *DB) FindSessionByTokenHash(ctx context.Context, hash []byte, now time.Time) (*steward.Session, *steward.User, error) {
	s := &steward.Session{}
	var created, expires int64
	u, err := scanUser(db.readRow(ctx, `SELECT `+userColumns+`, sessions.id, sessions.tenant_id, sessions.user_id,
		sessions.token_hash, sessions.ip, sessions.user_agent, sessions.created_at, sessions.expires_at
		FROM sessions JOIN users ON users.id = sessions.user_id AND users.tenant_id = sessions.tenant_id
		WHERE sessions.token_hash = ? AND sessions.expires_at > ?`, hash, Micros(now)),
		&s.ID, &s.TenantID, &s.UserID, &s.TokenHash, &s.IP, &s.UserAgent, &created, &expires)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, nil, notFound("session")
	} else if err != nil {
		return nil, nil, fmt.Errorf("find session: %w", err)
	}
	s.CreatedAt, s.ExpiresAt = FromMicros(created), FromMicros(expires)
	return s, u, nil
}

// DeleteSession implements steward.SessionService.
func (db *DB) DeleteSession(ctx context.Context, hash []byte) error {
	_, err := db.Exec(ctx, `DELETE FROM sessions WHERE token_hash = ?`, hash)
	return err
}

// DeleteUserSessions implements steward.SessionService.
func (db *DB) DeleteUserSessions(ctx context.Context, tenantID, userID int64) error {
	return db.InTx(ctx, func(tx *sql.Tx) error {
		if _, err := db.findUser(ctx, tx, tenantID, userID); err != nil {
			return err
		}
		_, err := tx.ExecContext(ctx, db.Q(`DELETE FROM sessions WHERE tenant_id = ? AND user_id = ?`), tenantID, userID)
		return err
	})
}

// RecordLoginActivity implements steward.SessionService.
func (db *DB) RecordLoginActivity(ctx context.Context, a *steward.LoginActivity) error {
	var tenant, user sql.NullInt64
	if a.TenantID != nil {
		tenant = sql.NullInt64{Int64: *a.TenantID, Valid: true}
	}
	if a.UserID != nil {
		user = sql.NullInt64{Int64: *a.UserID, Valid: true}
	}
	err := db.writeRow(ctx, `INSERT INTO login_activities (tenant_id, user_id, email, ip, user_agent, referrer,
		success, failure_reason, created_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?) RETURNING id`,
		tenant, user, a.Email, a.IP, a.UserAgent, a.Referrer, a.Success, a.FailureReason, Micros(a.CreatedAt)).Scan(&a.ID)
	if err != nil {
		return fmt.Errorf("record login activity: %w", db.Dialect.TranslateError(err))
	}
	return nil
}

// FindLoginActivities implements steward.SessionService.
func (db *DB) FindLoginActivities(ctx context.Context, f steward.LoginActivityFilter) ([]*steward.LoginActivity, int, error) {
	where, args := []string{"tenant_id = ?", "user_id = ?"}, []any{f.TenantID, f.UserID}
	if f.Before != nil {
		where, args = append(where, "created_at < ?"), append(args, Micros(*f.Before))
	}
	if f.After != nil {
		where, args = append(where, "created_at > ?"), append(args, Micros(*f.After))
	}
	cond := strings.Join(where, " AND ")
	var total int
	if err := db.queryRow(ctx, `SELECT COUNT(*) FROM login_activities WHERE `+cond, args...).Scan(&total); err != nil {
		return nil, 0, fmt.Errorf("count login activities: %w", err)
	}
	rows, err := db.query(ctx, `SELECT id, tenant_id, user_id, email, ip, user_agent, referrer, success,
		failure_reason, created_at FROM login_activities WHERE `+cond+` ORDER BY created_at DESC, id DESC LIMIT ? OFFSET ?`,
		append(args, f.PerPage, f.Offset())...)
	if err != nil {
		return nil, 0, fmt.Errorf("find login activities: %w", err)
	}
	defer rows.Close()
	out := []*steward.LoginActivity{}
	for rows.Next() {
		a := &steward.LoginActivity{}
		var tenant, user sql.NullInt64
		var created int64
		if err := rows.Scan(&a.ID, &tenant, &user, &a.Email, &a.IP, &a.UserAgent, &a.Referrer, &a.Success, &a.FailureReason, &created); err != nil {
			return nil, 0, err
		}
		if tenant.Valid {
			a.TenantID = &tenant.Int64
		}
		if user.Valid {
			a.UserID = &user.Int64
		}
		a.CreatedAt = FromMicros(created)
		out = append(out, a)
	}
	return out, total, rows.Err()
}

// CountFailedLogins implements steward.SessionService. Only wrong
// passwords count, and only those recorded after the user's reset point
// (the last successful sign-in, lock or admin unlock).
func (db *DB) CountFailedLogins(ctx context.Context, userID int64, since time.Time) (int, error) {
	var n int
	err := db.queryRow(ctx, `SELECT COUNT(*) FROM login_activities
		WHERE user_id = ? AND success = FALSE AND failure_reason = ? AND created_at >= ?
		AND id > COALESCE((SELECT failed_logins_after FROM users WHERE id = ?), 0)`,
		userID, steward.LoginWrongPassword, Micros(since), userID).Scan(&n)
	if err != nil {
		return 0, fmt.Errorf("count failed logins: %w", err)
	}
	return n, nil
}

// resetFailedLogins is the SET clause that moves a user's reset point past
// every sign-in attempt recorded so far.
const resetFailedLogins = `failed_logins_after = COALESCE((SELECT MAX(id) FROM login_activities WHERE user_id = users.id), 0)`

// LockUser implements steward.SessionService. The failures that caused
// the lock stop counting, so when it ends the user gets a full set of tries.
func (db *DB) LockUser(ctx context.Context, userID int64, until time.Time) error {
	_, err := db.Exec(ctx, `UPDATE users SET locked_until = ?, `+resetFailedLogins+` WHERE id = ?`, Micros(until), userID)
	if err != nil {
		return fmt.Errorf("lock user %d: %w", userID, err)
	}
	return nil
}

// ResetFailedLogins implements steward.SessionService.
func (db *DB) ResetFailedLogins(ctx context.Context, userID int64) error {
	_, err := db.Exec(ctx, `UPDATE users SET `+resetFailedLogins+` WHERE id = ?`, userID)
	if err != nil {
		return fmt.Errorf("reset failed logins of user %d: %w", userID, err)
	}
	return nil
}

// PruneLoginActivities implements steward.SessionService.
func (db *DB) PruneLoginActivities(ctx context.Context, before time.Time) (int, error) {
	res, err := db.Exec(ctx, `DELETE FROM login_activities WHERE created_at < ?`, Micros(before))
	if err != nil {
		return 0, fmt.Errorf("prune login activities: %w", err)
	}
	n, _ := res.RowsAffected()
	return int(n), nil
}
