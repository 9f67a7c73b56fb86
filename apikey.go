package steward

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"strings"
	"time"
)

// APIKeyPrefix starts every Steward API key so that secret scanners and
// people can recognise one.
const APIKeyPrefix = "stw_"

// APIKey is a personal API key. Only its SHA-256 hash is stored; the
// plaintext is shown once, when the key is created. A fast hash is right
// here (unlike passwords): keys carry 256 bits of entropy, so they cannot
// be guessed, and every request must check one.
type APIKey struct {
	ID         int64
	TenantID   int64
	UserID     int64
	Name       string
	Prefix     string // the first characters of the key, for recognising it in lists
	Hash       []byte `json:"-"`
	CreatedAt  time.Time
	LastUsedAt *time.Time
	ExpiresAt  *time.Time
	RevokedAt  *time.Time
}

// Usable reports whether the key may authenticate a request at now.
func (k *APIKey) Usable(now time.Time) bool {
	return k.RevokedAt == nil && (k.ExpiresAt == nil || now.Before(*k.ExpiresAt))
}

// NewSecret returns a random secret of 32 bytes, URL-safe base64 encoded,
// with the given prefix, and its hash for storage.
func NewSecret(prefix string) (plaintext string, hash []byte) {
	b := make([]byte, 32)
	if _, err := rand.Read(b); err != nil {
		panic("steward: crypto/rand failed: " + err.Error()) // never happens on supported platforms
	}
	plaintext = prefix + base64.RawURLEncoding.EncodeToString(b)
	return plaintext, HashSecret(plaintext)
}

// HashSecret returns the SHA-256 of a high-entropy secret (API key, session
// or invitation token) as stored in the database.
func HashSecret(s string) []byte {
	h := sha256.Sum256([]byte(strings.TrimSpace(s)))
	return h[:]
}

// Principal is the authenticated caller of a request: a user, and the key
// they used (nil for a session cookie).
type Principal struct {
	User    *User
	Key     *APIKey
	Session *Session
}

// APIKeyService stores API keys.
type APIKeyService interface {
	// CreateAPIKey inserts k (Hash and Prefix set by the caller).
	CreateAPIKey(ctx context.Context, k *APIKey) error
	// FindAPIKeys lists a user's keys, newest first, revoked ones included.
	FindAPIKeys(ctx context.Context, tenantID, userID int64) ([]*APIKey, error)
	// RevokeAPIKey marks one of the user's keys revoked. ENOTFOUND.
	RevokeAPIKey(ctx context.Context, tenantID, userID, id int64) error
	// FindAPIKeyByHash returns the key with this hash and its owner, or
	// ENOTFOUND. Callers still check Usable and the user's state.
	FindAPIKeyByHash(ctx context.Context, hash []byte) (*APIKey, *User, error)
	// TouchAPIKeys records last-used times in one batch (key id → time).
	TouchAPIKeys(ctx context.Context, used map[int64]time.Time) error
}
