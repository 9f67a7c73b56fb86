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

// The audit log. A request's record (steward.PendingAudit, carried by its
// context) is written by the first transaction of the request that changes
// something, just before it commits: InTx writes it in commit, Exec runs a
// single statement in a transaction with it when the statement changed a
// row, and writeRow runs its statement through InTx while a record is due. A transaction that rolls back leaves the record for a later one, so
// a change and its record are committed together or not at all.

var _ steward.AuditLogService = (*DB)(nil)

// maxAuditJSON caps the stored inputs or outputs of one record.
const maxAuditJSON = 64 << 10

// commit writes the pending audit record of ctx, if any is due, in tx and
// commits tx.
func (db *DB) commit(ctx context.Context, tx *sql.Tx) error {
	p := steward.PendingAuditFrom(ctx)
	entry, claimed := p.Claim()
	if claimed {
		entry.CreatedAt = db.Clock.Now()
		if err := db.insertAuditLog(ctx, tx, &entry); err != nil {
			p.Release(false)
			_ = tx.Rollback()
			return fmt.Errorf("write audit record: %w", err)
		}
	}
	err := tx.Commit()
	if claimed {
		p.Release(err == nil)
	}
	return err
}

// auditDue reports whether ctx carries an audit record still to be written.
func auditDue(ctx context.Context) bool {
	p := steward.PendingAuditFrom(ctx)
	return p != nil && !p.Written()
}

// execAudited runs one write statement in a transaction that also writes
// the pending audit record when the statement changed a row. Like InTx,
// it runs once more on a live connection when its connection died before
// the transaction committed.
func (db *DB) execAudited(ctx context.Context, query string, args ...any) (sql.Result, error) {
	res, again, err := db.execAuditedOn(ctx, db.Write, query, args)
	for retry := 0; err != nil && again && retry < connRetries && ctx.Err() == nil; retry++ {
		conn, cerr := liveConn(ctx, db.Write)
		if cerr != nil {
			return nil, err
		}
		res, again, err = db.execAuditedOn(ctx, conn, query, args)
		conn.Close()
	}
	return res, err
}

// execAuditedOn is one attempt of execAudited on b; again reports, with a
// failure, that the transaction certainly did not commit.
func (db *DB) execAuditedOn(ctx context.Context, b txBeginner, query string, args []any) (res sql.Result, again bool, err error) {
	tx, err := b.BeginTx(ctx, nil)
	if err != nil {
		return nil, db.Dialect.ConnectionLost(err), fmt.Errorf("begin: %w", db.Dialect.TranslateError(err))
	}
	res, err = tx.ExecContext(ctx, db.Q(query), args...)
	if err != nil {
		_ = tx.Rollback()
		return nil, db.Dialect.ConnectionLost(err), db.Dialect.TranslateError(err)
	}
	if n, err := res.RowsAffected(); err == nil && n == 0 {
		// Nothing changed, so nothing to record.
		if err := tx.Commit(); err != nil {
			return nil, db.Dialect.NotCommitted(err), fmt.Errorf("commit: %w", db.Dialect.TranslateError(err))
		}
		return res, false, nil
	}
	if err := db.commit(ctx, tx); err != nil {
		return nil, db.Dialect.NotCommitted(err), fmt.Errorf("commit: %w", db.Dialect.TranslateError(err))
	}
	return res, false, nil
}

// auditText makes s storable in both databases: valid UTF-8 without NUL,
// at most n bytes.
func auditText(s string, n int) string {
	return steward.Truncate(strings.ReplaceAll(s, "\x00", ""), n)
}

// auditJSON encodes inputs or outputs; oversized values are replaced by a
// note saying so.
func auditJSON(m map[string]any) string {
	if len(m) == 0 {
		return "{}"
	}
	b, err := json.Marshal(m)
	if err != nil {
		return `{"unrecordable":true}`
	}
	if len(b) > maxAuditJSON {
		return fmt.Sprintf(`{"truncated":true,"bytes":%d}`, len(b))
	}
	return string(b)
}

func nullInt(p *int64) sql.NullInt64 {
	if p == nil {
		return sql.NullInt64{}
	}
	return sql.NullInt64{Int64: *p, Valid: true}
}

// insertAuditLog inserts a (secrets already redacted) through q.
func (db *DB) insertAuditLog(ctx context.Context, q Queryer, a *steward.AuditLog) error {
	if a.CreatedAt.IsZero() {
		a.CreatedAt = db.Clock.Now()
	}
	a.UpdatedAt = a.CreatedAt
	return q.QueryRowContext(ctx, db.Q(`INSERT INTO audit_logs (tenant_id, user_id, user_email, user_name, operation_name,
		inputs, outputs, request_ip, request_user_agent, story_id, created_at, updated_at)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) RETURNING id`),
		nullInt(a.TenantID), nullInt(a.UserID), auditText(a.UserEmail, 320), auditText(a.UserName, 512),
		auditText(a.OperationName, 128), auditJSON(a.Inputs), auditJSON(a.Outputs), auditText(a.RequestIP, 64),
		auditText(a.UserAgent, 512), nullInt(a.StoryID), Micros(a.CreatedAt), Micros(a.UpdatedAt)).Scan(&a.ID)
}

// CreateAuditLog implements steward.AuditLogService.
func (db *DB) CreateAuditLog(ctx context.Context, a *steward.AuditLog) error {
	a.Inputs, a.Outputs = steward.RedactSecrets(a.Inputs), steward.RedactSecrets(a.Outputs)
	err := db.InTx(steward.WithPendingAudit(ctx, nil), func(tx *sql.Tx) error {
		return db.insertAuditLog(ctx, tx, a)
	})
	if err != nil {
		return fmt.Errorf("create audit record: %w", err)
	}
	return nil
}

// FindAuditLogs implements steward.AuditLogService. Records older than
// the tenant itself are never shown: they belong to a deleted tenant whose
// id SQLite may have given again.
func (db *DB) FindAuditLogs(ctx context.Context, f steward.AuditLogFilter) ([]*steward.AuditLog, int, error) {
	var since int64
	err := db.queryRow(ctx, `SELECT created_at FROM tenants WHERE id = ?`, f.TenantID).Scan(&since)
	if errors.Is(err, sql.ErrNoRows) {
		return []*steward.AuditLog{}, 0, nil
	} else if err != nil {
		return nil, 0, fmt.Errorf("find audit records: tenant %d: %w", f.TenantID, err)
	}
	// One range on (tenant_id, created_at): the tenant's lifetime, narrowed by after.
	if f.After != nil && Micros(*f.After) >= since {
		since = Micros(*f.After) + 1
	}
	where, args := []string{"tenant_id = ?", "created_at >= ?"}, []any{f.TenantID, since}
	if f.Before != nil {
		where, args = append(where, "created_at < ?"), append(args, Micros(*f.Before))
	}
	if len(f.UserIDs) > 0 {
		where = append(where, "user_id IN (?"+strings.Repeat(", ?", len(f.UserIDs)-1)+")")
		for _, id := range f.UserIDs {
			args = append(args, id)
		}
	}
	if len(f.OperationNames) > 0 {
		where = append(where, "operation_name IN (?"+strings.Repeat(", ?", len(f.OperationNames)-1)+")")
		for _, n := range f.OperationNames {
			args = append(args, n)
		}
	}
	cond := strings.Join(where, " AND ")
	// Counting stops at AuditCountLimit matches, so a page costs the same
	// at millions of records; older records are reached with before.
	var total int
	if err := db.queryRow(ctx, `SELECT COUNT(*) FROM (SELECT 1 FROM audit_logs WHERE `+cond+` LIMIT ?) c`,
		append(args, steward.AuditCountLimit)...).Scan(&total); err != nil {
		return nil, 0, fmt.Errorf("count audit records: %w", err)
	}
	rows, err := db.query(ctx, `SELECT id, tenant_id, user_id, user_email, user_name, operation_name,
		inputs, outputs, request_ip, request_user_agent, story_id, created_at, updated_at
		FROM audit_logs WHERE `+cond+` ORDER BY created_at DESC, id DESC LIMIT ? OFFSET ?`,
		append(args, f.PerPage, f.Offset())...)
	if err != nil {
		return nil, 0, fmt.Errorf("find audit records: %w", err)
	}
	defer rows.Close()
	out := []*steward.AuditLog{}
	for rows.Next() {
		a := &steward.AuditLog{}
		var tenant, user, story sql.NullInt64
		var inputs, outputs string
		var created, updated int64
		if err := rows.Scan(&a.ID, &tenant, &user, &a.UserEmail, &a.UserName, &a.OperationName, &inputs, &outputs,
			&a.RequestIP, &a.UserAgent, &story, &created, &updated); err != nil {
			return nil, 0, err
		}
		if tenant.Valid {
			a.TenantID = &tenant.Int64
		}
		if user.Valid {
			a.UserID = &user.Int64
		}
		if story.Valid {
			a.StoryID = &story.Int64
		}
		if err := json.Unmarshal([]byte(inputs), &a.Inputs); err != nil {
			return nil, 0, fmt.Errorf("audit record %d: inputs: %w", a.ID, err)
		}
		if err := json.Unmarshal([]byte(outputs), &a.Outputs); err != nil {
			return nil, 0, fmt.Errorf("audit record %d: outputs: %w", a.ID, err)
		}
		a.CreatedAt, a.UpdatedAt = FromMicros(created), FromMicros(updated)
		out = append(out, a)
	}
	return out, total, rows.Err()
}

// PruneAuditLogs implements steward.AuditLogService.
func (db *DB) PruneAuditLogs(ctx context.Context, before time.Time, batch int) (int, error) {
	if batch <= 0 {
		batch = 5000
	}
	total := 0
	for {
		res, err := db.Exec(ctx, `DELETE FROM audit_logs WHERE id IN
			(SELECT id FROM audit_logs WHERE created_at < ? ORDER BY created_at LIMIT ?)`, Micros(before), batch)
		if err != nil {
			return total, fmt.Errorf("prune audit records: %w", err)
		}
		n, _ := res.RowsAffected()
		total += int(n)
		if n < int64(batch) || ctx.Err() != nil {
			return total, nil
		}
	}
}
