package sqlstore

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"

	"github.com/steward-dev/steward"
)

var _ steward.InvitationService = (*DB)(nil)

// CreateInvitedUser implements steward.InvitationService.
func (db *DB) CreateInvitedUser(ctx context.Context, u *steward.User, inv *steward.Invitation) error {
	u.PasswordHash = ""
	u.InvitationTokenHash = inv.TokenHash
	u.InvitationSentAt, u.InvitationExpiresAt, u.InvitationAcceptedAt = &inv.SentAt, &inv.ExpiresAt, nil
	return db.InTx(ctx, func(tx *sql.Tx) error {
		if err := db.insertUser(ctx, tx, u); err != nil {
			return err
		}
		return db.queueInvitationMail(ctx, tx, u, inv)
	})
}

// queueInvitationMail addresses the invitation's email to u and queues it.
func (db *DB) queueInvitationMail(ctx context.Context, tx *sql.Tx, u *steward.User, inv *steward.Invitation) error {
	if inv.Mail == nil {
		return nil
	}
	inv.Mail.TenantID, inv.Mail.To = u.TenantID, u.Email
	if err := db.enqueueMail(ctx, tx, inv.Mail); err != nil {
		return fmt.Errorf("queue invitation: %w", err)
	}
	return nil
}

// SetInvitation implements steward.InvitationService.
func (db *DB) SetInvitation(ctx context.Context, tenantID, userID int64, inv *steward.Invitation) error {
	err := db.InTx(ctx, func(tx *sql.Tx) error {
		u, err := scanUser(tx.QueryRowContext(ctx, db.Q(`UPDATE users SET invitation_token_hash = ?, invitation_sent_at = ?,
			invitation_expires_at = ?, invitation_accepted_at = NULL, updated_at = ? WHERE id = ? AND tenant_id = ?
			RETURNING `+userColumns), inv.TokenHash, Micros(inv.SentAt), Micros(inv.ExpiresAt), Micros(inv.SentAt), userID, tenantID))
		if errors.Is(err, sql.ErrNoRows) {
			return notFound("user")
		} else if err != nil {
			return err
		}
		return db.queueInvitationMail(ctx, tx, u, inv)
	})
	if err != nil {
		return fmt.Errorf("set invitation for user %d: %w", userID, err)
	}
	return nil
}

// FindUserByInvitationHash implements steward.InvitationService.
func (db *DB) FindUserByInvitationHash(ctx context.Context, hash []byte) (*steward.User, error) {
	u, err := scanUser(db.queryRow(ctx, `SELECT `+userColumns+` FROM users WHERE invitation_token_hash = ?`, hash))
	if errors.Is(err, sql.ErrNoRows) {
		return nil, notFound("invitation")
	} else if err != nil {
		return nil, fmt.Errorf("find invitation: %w", err)
	}
	return u, nil
}

// AcceptInvitation implements steward.InvitationService.
func (db *DB) AcceptInvitation(ctx context.Context, hash []byte, passwordHash string, now time.Time) (*steward.User, error) {
	var u *steward.User
	err := db.InTx(ctx, func(tx *sql.Tx) error {
		var err error
		u, err = scanUser(tx.QueryRowContext(ctx, db.Q(`SELECT `+userColumns+` FROM users
			WHERE invitation_token_hash = ? AND invitation_expires_at > ?`), hash, Micros(now)))
		if errors.Is(err, sql.ErrNoRows) {
			return notFound("invitation")
		} else if err != nil {
			return err
		}
		steward.PendingAuditFrom(ctx).SetActor(u) // the invited user acts
		_, err = tx.ExecContext(ctx, db.Q(`UPDATE users SET password_hash = ?, password_updated_at = ?, invitation_token_hash = NULL,
			invitation_accepted_at = ?, updated_at = ? WHERE id = ?`), passwordHash, Micros(now), Micros(now), Micros(now), u.ID)
		u.PasswordHash, u.InvitationTokenHash, u.InvitationAcceptedAt, u.UpdatedAt = passwordHash, nil, &now, now
		return err
	})
	if err != nil {
		return nil, fmt.Errorf("accept invitation: %w", err)
	}
	return u, nil
}
