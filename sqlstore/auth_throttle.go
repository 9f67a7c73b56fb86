package sqlstore

import (
	"context"
	"database/sql"
	"fmt"
	"time"

	"github.com/steward-dev/steward"
)

var _ steward.AuthThrottleService = (*DB)(nil)

// RecordAuthFailure implements steward.AuthThrottleService. The upsert is
// atomic in both databases, so servers counting the same address at once
// never lose a failure.
func (db *DB) RecordAuthFailure(ctx context.Context, addr string, bucket, since time.Time) (int, error) {
	var total int
	err := db.InTx(ctx, func(tx *sql.Tx) error {
		if _, err := tx.ExecContext(ctx, db.Q(`INSERT INTO auth_failures (ip, bucket, failures) VALUES (?, ?, 1)
			ON CONFLICT (ip, bucket) DO UPDATE SET failures = auth_failures.failures + 1`), addr, Micros(bucket)); err != nil {
			return err
		}
		return tx.QueryRowContext(ctx, db.Q(`SELECT COALESCE(SUM(failures), 0) FROM auth_failures WHERE ip = ? AND bucket >= ?`),
			addr, Micros(since)).Scan(&total)
	})
	if err != nil {
		return 0, fmt.Errorf("record auth failure: %w", err)
	}
	return total, nil
}

// BanAddress implements steward.AuthThrottleService.
func (db *DB) BanAddress(ctx context.Context, addr string, until time.Time) error {
	_, err := db.Exec(ctx, `INSERT INTO auth_bans (ip, banned_until) VALUES (?, ?)
		ON CONFLICT (ip) DO UPDATE SET banned_until = CASE WHEN excluded.banned_until > auth_bans.banned_until
			THEN excluded.banned_until ELSE auth_bans.banned_until END`, addr, Micros(until))
	if err != nil {
		return fmt.Errorf("ban address: %w", err)
	}
	return nil
}

// FindAddressBans implements steward.AuthThrottleService.
func (db *DB) FindAddressBans(ctx context.Context, now time.Time) (map[string]time.Time, error) {
	rows, err := db.readRows(ctx, `SELECT ip, banned_until FROM auth_bans WHERE banned_until > ?`, Micros(now))
	if err != nil {
		return nil, fmt.Errorf("find address bans: %w", err)
	}
	defer rows.Close()
	bans := map[string]time.Time{}
	for rows.Next() {
		var ip string
		var until int64
		if err := rows.Scan(&ip, &until); err != nil {
			return nil, err
		}
		bans[ip] = FromMicros(until)
	}
	return bans, rows.Err()
}

// PruneAuthFailures implements steward.AuthThrottleService.
func (db *DB) PruneAuthFailures(ctx context.Context, before, now time.Time) error {
	if _, err := db.Exec(ctx, `DELETE FROM auth_failures WHERE bucket < ?`, Micros(before)); err != nil {
		return fmt.Errorf("prune auth failures: %w", err)
	}
	if _, err := db.Exec(ctx, `DELETE FROM auth_bans WHERE banned_until <= ?`, Micros(now)); err != nil {
		return fmt.Errorf("prune address bans: %w", err)
	}
	return nil
}
