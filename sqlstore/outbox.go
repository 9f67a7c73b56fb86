package sqlstore

import (
	"context"
	"database/sql"
	"fmt"
	"time"

	"github.com/steward-dev/steward"
)

var _ steward.OutboxService = (*DB)(nil)

// EnqueueMail implements steward.OutboxService.
func (db *DB) EnqueueMail(ctx context.Context, m *steward.MailMessage) error {
	if err := db.enqueueMail(ctx, nil, m); err != nil {
		return fmt.Errorf("enqueue mail: %w", db.Dialect.TranslateError(err))
	}
	return nil
}

// enqueueMail inserts m inside a use case's transaction tx, or on its own
// (in a transaction all the same, so that a request's audit record is
// written with it) when tx is nil.
func (db *DB) enqueueMail(ctx context.Context, tx *sql.Tx, m *steward.MailMessage) error {
	if tx == nil {
		return db.InTx(ctx, func(tx *sql.Tx) error { return db.enqueueMail(ctx, tx, m) })
	}
	now := db.Clock.Now()
	m.CreatedAt, m.NextAttemptAt = now, now
	tenant := sql.NullInt64{Int64: m.TenantID, Valid: m.TenantID != 0}
	const insert = `INSERT INTO mail_outbox (tenant_id, recipient, subject, body, next_attempt_at, created_at)
		VALUES (?, ?, ?, ?, ?, ?) RETURNING id`
	args := []any{tenant, m.To, m.Subject, m.Body, Micros(now), Micros(now)}
	return tx.QueryRowContext(ctx, db.Q(insert), args...).Scan(&m.ID)
}

// OutboxBacklog returns how many messages wait to be sent and when the
// oldest of them was queued (zero when none waits), for metrics.
func (db *DB) OutboxBacklog(ctx context.Context) (int64, time.Time, error) {
	var n int64
	var oldest sql.NullInt64
	err := db.queryRow(ctx, `SELECT COUNT(*), MIN(created_at) FROM mail_outbox WHERE sent_at IS NULL`).Scan(&n, &oldest)
	if err != nil {
		return 0, time.Time{}, fmt.Errorf("outbox backlog: %w", err)
	}
	if !oldest.Valid {
		return n, time.Time{}, nil
	}
	return n, FromMicros(oldest.Int64), nil
}

// FindDueMail implements steward.OutboxService.
func (db *DB) FindDueMail(ctx context.Context, now time.Time, limit int) ([]*steward.MailMessage, error) {
	rows, err := db.query(ctx, `SELECT id, COALESCE(tenant_id, 0), recipient, subject, body, attempts, last_error,
		next_attempt_at, created_at FROM mail_outbox WHERE sent_at IS NULL AND next_attempt_at <= ? ORDER BY next_attempt_at, id LIMIT ?`,
		Micros(now), limit)
	if err != nil {
		return nil, fmt.Errorf("find due mail: %w", err)
	}
	defer rows.Close()
	var out []*steward.MailMessage
	for rows.Next() {
		m := &steward.MailMessage{}
		var next, created int64
		if err := rows.Scan(&m.ID, &m.TenantID, &m.To, &m.Subject, &m.Body, &m.Attempts, &m.LastError, &next, &created); err != nil {
			return nil, err
		}
		m.NextAttemptAt, m.CreatedAt = FromMicros(next), FromMicros(created)
		out = append(out, m)
	}
	return out, rows.Err()
}

// MarkMailSent implements steward.OutboxService.
func (db *DB) MarkMailSent(ctx context.Context, id int64, at time.Time) error {
	_, err := db.Exec(ctx, `UPDATE mail_outbox SET sent_at = ?, attempts = attempts + 1, last_error = '' WHERE id = ?`, Micros(at), id)
	return err
}

// MarkMailFailed implements steward.OutboxService. The error, a mail
// server's answer, is capped at 2,000 bytes of valid UTF-8.
func (db *DB) MarkMailFailed(ctx context.Context, id int64, errMsg string, next time.Time) error {
	_, err := db.Exec(ctx, `UPDATE mail_outbox SET attempts = attempts + 1, last_error = ?, next_attempt_at = ? WHERE id = ?`,
		steward.Truncate(errMsg, 2000), Micros(next), id)
	return err
}

// ClaimDueMail implements steward.OutboxService. Each message is claimed
// by a conditional update, so of two dispatchers racing for a message only
// one gets it, on either database.
func (db *DB) ClaimDueMail(ctx context.Context, now time.Time, lease time.Duration, limit int) ([]*steward.MailMessage, error) {
	due, err := db.FindDueMail(ctx, now, limit)
	if err != nil {
		return nil, err
	}
	claimed := due[:0]
	for _, m := range due {
		res, err := db.Exec(ctx, `UPDATE mail_outbox SET next_attempt_at = ? WHERE id = ? AND sent_at IS NULL AND next_attempt_at = ?`,
			Micros(now.Add(lease)), m.ID, Micros(m.NextAttemptAt))
		if err != nil {
			return nil, fmt.Errorf("claim mail %d: %w", m.ID, err)
		}
		if n, _ := res.RowsAffected(); n == 1 {
			m.NextAttemptAt = now.Add(lease)
			claimed = append(claimed, m)
		}
	}
	return claimed, nil
}

// RescheduleUnsentMail implements steward.OutboxService.
func (db *DB) RescheduleUnsentMail(ctx context.Context, now time.Time) (int, error) {
	res, err := db.Exec(ctx, `UPDATE mail_outbox SET next_attempt_at = ? WHERE sent_at IS NULL AND next_attempt_at > ?`, Micros(now), Micros(now))
	if err != nil {
		return 0, fmt.Errorf("reschedule unsent mail: %w", err)
	}
	n, _ := res.RowsAffected()
	return int(n), nil
}
