package main

import (
	"fmt"

	"github.com/steward-dev/steward"
	"github.com/steward-dev/steward/httpapi"
)

// applyCompatEnv sets the password and Tyk hardening settings from the
// environment: STEWARD_PASSWORD_MIN_LENGTH and
// STEWARD_TYK_FORBID_ADMIN_RESET_ACCESS_TOKEN. A minimum below
// steward.LowestPasswordMinLength is refused, so a server never starts
// accepting passwords shorter than Tyk's.
func applyCompatEnv(c *httpapi.Config) error {
	n, err := envInt("STEWARD_PASSWORD_MIN_LENGTH", c.PasswordMinLength)
	if err != nil {
		return err
	}
	if n < steward.LowestPasswordMinLength {
		return fmt.Errorf("STEWARD_PASSWORD_MIN_LENGTH=%d: passwords must be at least %d characters; set %d or more (default %d)",
			n, steward.LowestPasswordMinLength, steward.LowestPasswordMinLength, steward.MinPasswordLength)
	}
	if n > steward.MaxPasswordLength {
		return fmt.Errorf("STEWARD_PASSWORD_MIN_LENGTH=%d: no password could be set, the longest is %d bytes; set %d to %d",
			n, steward.MaxPasswordLength, steward.LowestPasswordMinLength, steward.MaxPasswordLength)
	}
	c.PasswordMinLength = n
	if c.TykForbidAdminResetAccessToken, err = envBool("STEWARD_TYK_FORBID_ADMIN_RESET_ACCESS_TOKEN", c.TykForbidAdminResetAccessToken); err != nil {
		return err
	}
	return nil
}
