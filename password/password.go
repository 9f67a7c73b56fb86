// Package password hashes and checks user passwords with bcrypt.
package password

import (
	"fmt"

	"github.com/steward-dev/steward"
	"golang.org/x/crypto/bcrypt"
)

// DefaultCost is bcrypt's work factor for new hashes.
const DefaultCost = bcrypt.DefaultCost

// Hasher checks new passwords against a policy and hashes them.
type Hasher struct {
	// Policy is the rule every password must pass (the zero value is
	// Steward's default).
	Policy steward.PasswordPolicy
	// Cost is bcrypt's work factor (0 = DefaultCost).
	Cost int
}

// Hash validates a plaintext password against the policy and returns its
// bcrypt hash. field names the request field in validation errors. The
// policy is checked first, so a refused password costs no bcrypt work.
func (h Hasher) Hash(field, plaintext string) (string, error) {
	if err := h.Policy.Check(field, plaintext); err != nil {
		return "", err
	}
	cost := h.Cost
	if cost == 0 {
		cost = DefaultCost
	}
	b, err := bcrypt.GenerateFromPassword([]byte(plaintext), cost)
	if err != nil {
		return "", fmt.Errorf("hash password: %w", err)
	}
	return string(b), nil
}

// Hash is Hasher{Cost: cost}.Hash: the default policy.
func Hash(field, plaintext string, cost int) (string, error) {
	return Hasher{Cost: cost}.Hash(field, plaintext)
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
