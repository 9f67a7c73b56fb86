package httpapi

import (
	"github.com/steward-dev/steward"
	"github.com/steward-dev/steward/password"
)

// passwordPolicy is the configured rule for new passwords.
func (c Config) passwordPolicy() steward.PasswordPolicy {
	return steward.PasswordPolicy{MinLength: c.PasswordMinLength}
}

// hashPassword checks a new password against the configured policy and
// hashes it: the one path every API that sets a password takes. Callers
// validate everything else first, so a bad request costs no bcrypt work.
func (s *Server) hashPassword(field, plaintext string) (string, error) {
	return password.Hasher{Policy: s.Config.passwordPolicy(), Cost: s.Config.BcryptCost}.Hash(field, plaintext)
}
