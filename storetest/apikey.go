package storetest

import (
	"bytes"
	"context"
	"testing"
	"time"

	"github.com/steward-dev/steward"
	"github.com/steward-dev/steward/sqlstore"
)

func testAPIKeys(t *testing.T, open Opener) {
	t.Parallel()
	withDB(t, open, func(t *testing.T, db *sqlstore.DB) {
		ctx := context.Background()
		a, adminA := newTenant(t, db, "alpha")
		b, adminB := newTenant(t, db, "beta")
		plaintext, hash := steward.NewSecret(steward.APIKeyPrefix)
		k := &steward.APIKey{TenantID: a.ID, UserID: adminA.ID, Name: "ci", Prefix: plaintext[:10], Hash: hash}
		if err := db.CreateAPIKey(ctx, k); err != nil {
			t.Fatal(err)
		}

		t.Run("only the hash is stored", func(t *testing.T) {
			var stored []byte
			if err := db.Read.QueryRow(db.Q(`SELECT hash FROM api_keys WHERE id = ?`), k.ID).Scan(&stored); err != nil {
				t.Fatal(err)
			}
			if bytes.Contains(stored, []byte(plaintext)) || !bytes.Equal(stored, steward.HashSecret(plaintext)) {
				t.Errorf("stored %x, want the SHA-256 of the key", stored)
			}
		})

		t.Run("revoking another tenant's or user's key is not found", func(t *testing.T) {
			if err := db.RevokeAPIKey(ctx, b.ID, adminB.ID, k.ID); steward.ErrorCode(err) != steward.ENOTFOUND {
				t.Errorf("got %v, want ENOTFOUND", err)
			}
			if keys, err := db.FindAPIKeys(ctx, b.ID, adminB.ID); err != nil || len(keys) != 0 {
				t.Errorf("other tenant sees %d keys, %v", len(keys), err)
			}
		})

		t.Run("last used times are written in a batch and only move forward", func(t *testing.T) {
			later := time.Date(2030, 1, 2, 3, 4, 5, 0, time.UTC)
			if err := db.TouchAPIKeys(ctx, map[int64]time.Time{k.ID: later}); err != nil {
				t.Fatal(err)
			}
			if err := db.TouchAPIKeys(ctx, map[int64]time.Time{k.ID: later.Add(-time.Hour)}); err != nil {
				t.Fatal(err)
			}
			got, _, err := db.FindAPIKeyByHash(ctx, hash)
			if err != nil {
				t.Fatal(err)
			}
			if got.LastUsedAt == nil || !got.LastUsedAt.Equal(later) {
				t.Errorf("last used = %v, want %v", got.LastUsedAt, later)
			}
		})

		t.Run("revoked and expired keys are not usable", func(t *testing.T) {
			if err := db.RevokeAPIKey(ctx, a.ID, adminA.ID, k.ID); err != nil {
				t.Fatal(err)
			}
			got, _, err := db.FindAPIKeyByHash(ctx, hash)
			if err != nil {
				t.Fatal(err)
			}
			if got.Usable(time.Now()) {
				t.Error("revoked key is usable")
			}
			past := time.Now().Add(-time.Minute)
			_, h2 := steward.NewSecret(steward.APIKeyPrefix)
			if err := db.CreateAPIKey(ctx, &steward.APIKey{TenantID: a.ID, UserID: adminA.ID, Name: "old", Prefix: "stw_", Hash: h2, ExpiresAt: &past}); err != nil {
				t.Fatal(err)
			}
			got, _, err = db.FindAPIKeyByHash(ctx, h2)
			if err != nil {
				t.Fatal(err)
			}
			if got.Usable(time.Now()) {
				t.Error("expired key is usable")
			}
		})
	})
}
