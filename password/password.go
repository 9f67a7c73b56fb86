// Package password hashes and checks user passwords with bcrypt.
package password

import (
	"fmt"

	"github.com/steward-dev/steward"
	"golang.org/x/crypto/bcrypt"
)

// DefaultCost is bcrypt's work factor for new hashes.
const DefaultCost = bcrypt.DefaultCost

// Hash validates a plaintext password against Steward's rules (at least
// minLength characters; 0 means steward.MinPasswordLength) and returns its
// bcrypt hash. field names the request field in validation errors.
func Hash(field, plaintext string, minLength, cost int) (string, error) {
	if err := steward.ValidatePassword(field, plaintext, minLength); err != nil {
		return "", err
	}
	if cost == 0 {
		cost = DefaultCost
	}
	h, err := bcrypt.GenerateFromPassword([]byte(plaintext), cost)
	if err != nil {
		return "", fmt.Errorf("hash password: %w", err)
	}
	return string(h), nil
}

// Check reports whether plaintext matches hash. An empty hash (a user who
// has not set a password yet) never matches. bcrypt compares in constant time.
func Check(hash, plaintext string) bool {
	if hash == "" {
		return false
	}
	err := bcrypt.CompareHashAndPassword([]byte(hash), []byte(plaintext))
	return err == nil
}
