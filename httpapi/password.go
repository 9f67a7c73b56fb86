package httpapi

import (
	"github.com/steward-dev/steward"
	"github.com/steward-dev/steward/password"
)

// passwordMinLength is the configured minimum password length.
func (s *Server) passwordMinLength() int {
	if s.Config.PasswordMinLength <= 0 {
		return steward.MinPasswordLength
	}
	return s.Config.PasswordMinLength
}

// hashPassword checks plaintext against the password rule with the
// configured minimum length and returns its bcrypt hash; every API that
// sets a password (Tines and Tyk users, invitations) goes through it.
func (s *Server) hashPassword(field, plaintext string) (string, error) {
	return password.Hash(field, plaintext, s.passwordMinLength(), s.Config.BcryptCost)
}
