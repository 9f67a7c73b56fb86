package sqlstore

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"

	"github.com/steward-dev/steward"
)

var _ steward.APIKeyService = (*DB)(nil)

const apiKeyColumns = `api_keys.id, api_keys.tenant_id, api_keys.user_id, api_keys.name, api_keys.prefix, api_keys.hash,
	api_keys.created_at, api_keys.last_used_at, api_keys.expires_at, api_keys.revoked_at`

func apiKeyDest(k *steward.APIKey) []any {
	return []any{&k.ID, &k.TenantID, &k.UserID, &k.Name, &k.Prefix, &k.Hash,
		new(int64), new(sql.NullInt64), new(sql.NullInt64), new(sql.NullInt64)}
}

// fillAPIKeyTimes copies the time columns scanned into apiKeyDest into k.
func fillAPIKeyTimes(k *steward.APIKey, dest []any) {
	k.CreatedAt = FromMicros(*dest[6].(*int64))
	k.LastUsedAt = FromNullMicros(*dest[7].(*sql.NullInt64))
	k.ExpiresAt = FromNullMicros(*dest[8].(*sql.NullInt64))
	k.RevokedAt = FromNullMicros(*dest[9].(*sql.NullInt64))
}

// CreateAPIKey implements steward.APIKeyService.
func (db *DB) CreateAPIKey(ctx context.Context, k *steward.APIKey) error {
	if err := db.insertAPIKey(ctx, nil, k); err != nil {
		return db.Dialect.TranslateError(err)
	}
	return nil
}

// insertAPIKey inserts k inside a use case's transaction tx, or on its own
// when tx is nil.
func (db *DB) insertAPIKey(ctx context.Context, tx *sql.Tx, k *steward.APIKey) error {
	k.CreatedAt = db.Clock.Now()
	if tx == nil {
		// On its own: in a transaction all the same, so that a request's
		// audit record is written with it.
		return db.InTx(ctx, func(tx *sql.Tx) error { return db.insertAPIKey(ctx, tx, k) })
	}
	const insert = `INSERT INTO api_keys (tenant_id, user_id, name, prefix, hash, created_at, expires_at)
		VALUES (?, ?, ?, ?, ?, ?, ?) RETURNING id`
	args := []any{k.TenantID, k.UserID, k.Name, k.Prefix, k.Hash, Micros(k.CreatedAt), MicrosPtr(k.ExpiresAt)}
	var r scanner
	if tx != nil {
		r = tx.QueryRowContext(ctx, db.Q(insert), args...)
	} else {
		r = db.writeRow(ctx, insert, args...)
	}
	if err := r.Scan(&k.ID); err != nil {
		return fmt.Errorf("create api key: %w", err)
	}
	steward.AuditOutput(ctx, "api_key_id", k.ID)
	return nil
}

// FindAPIKeys implements steward.APIKeyService.
func (db *DB) FindAPIKeys(ctx context.Context, tenantID, userID int64) ([]*steward.APIKey, error) {
	rows, err := db.query(ctx, `SELECT `+apiKeyColumns+` FROM api_keys
		WHERE tenant_id = ? AND user_id = ? ORDER BY id DESC`, tenantID, userID)
	if err != nil {
		return nil, fmt.Errorf("find api keys: %w", err)
	}
	defer rows.Close()
	keys := []*steward.APIKey{}
	for rows.Next() {
		k := &steward.APIKey{}
		dest := apiKeyDest(k)
		if err := rows.Scan(dest...); err != nil {
			return nil, err
		}
		fillAPIKeyTimes(k, dest)
		keys = append(keys, k)
	}
	return keys, rows.Err()
}

// RevokeAPIKey implements steward.APIKeyService.
func (db *DB) RevokeAPIKey(ctx context.Context, tenantID, userID, id int64) error {
	res, err := db.Exec(ctx, `UPDATE api_keys SET revoked_at = COALESCE(revoked_at, ?) WHERE id = ? AND tenant_id = ? AND user_id = ?`,
		Micros(db.Clock.Now()), id, tenantID, userID)
	if err != nil {
		return fmt.Errorf("revoke api key %d: %w", id, err)
	}
	if n, _ := res.RowsAffected(); n == 0 {
		return notFound("API key")
	}
	return nil
}

// FindAPIKeyByHash implements steward.APIKeyService.
func (db *DB) FindAPIKeyByHash(ctx context.Context, hash []byte) (*steward.APIKey, *steward.User, error) {
	k := &steward.APIKey{}
	dest := apiKeyDest(k)
	u, err := scanUser(db.readRow(ctx, `SELECT `+userColumns+`, `+apiKeyColumns+`
		FROM api_keys JOIN users ON users.id = api_keys.user_id AND users.tenant_id = api_keys.tenant_id
		WHERE api_keys.hash = ?`, hash), dest...)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, nil, notFound("API key")
	} else if err != nil {
		return nil, nil, fmt.Errorf("find api key: %w", err)
	}
	fillAPIKeyTimes(k, dest)
	return k, u, nil
}

// TouchAPIKeys implements steward.APIKeyService.
func (db *DB) TouchAPIKeys(ctx context.Context, used map[int64]time.Time) error {
	if len(used) == 0 {
		return nil
	}
	return db.InTx(ctx, func(tx *sql.Tx) error {
		stmt, err := tx.PrepareContext(ctx, db.Q(`UPDATE api_keys SET last_used_at = ? WHERE id = ? AND (last_used_at IS NULL OR last_used_at < ?)`))
		if err != nil {
			return err
		}
		defer stmt.Close()
		for id, t := range used {
			if _, err := stmt.ExecContext(ctx, Micros(t), id, Micros(t)); err != nil {
				return err
			}
		}
		return nil
	})
}
