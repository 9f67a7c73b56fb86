package httpapi

import (
	"context"
	"strings"

	"github.com/steward-dev/steward"
	"github.com/steward-dev/steward/password"
)

// BootstrapResult is what `steward bootstrap --json` prints.
type BootstrapResult struct {
	TenantID int64  `json:"tenant_id"`
	UserID   int64  `json:"user_id"`
	Email    string `json:"email"`
	APIKey   string `json:"api_key"`
	Password string `json:"password,omitempty"`
}

// Bootstrap creates a tenant with its default story, an admin user and a
// fresh API key, in one transaction: if any step fails nothing is left
// behind and a retry starts afresh. An empty plaintext password gets a
// random one, returned in the result. The email and name are checked
// before the password is hashed.
func Bootstrap(ctx context.Context, svc Services, tenantName, email, plaintext string, cost int) (*BootstrapResult, error) {
	res := &BootstrapResult{}
	u := &steward.User{Email: email}
	if err := (steward.UserInput{Email: &u.Email}).Normalize(); err != nil {
		return nil, err
	}
	if strings.TrimSpace(tenantName) == "" {
		return nil, steward.FieldErrorf("tenant", "the tenant name is required")
	}
	if plaintext == "" {
		secret, _ := steward.NewSecret("")
		plaintext = secret[:24]
		res.Password = plaintext
	}
	hash, err := password.Hash("password", plaintext, cost)
	if err != nil {
		return nil, err
	}
	u.PasswordHash = hash
	t := &steward.Tenant{Name: tenantName}
	k, key := NewAPIKey("bootstrap", 0, 0, nil)
	if err := svc.Tenants.BootstrapTenant(ctx, t, u, k); err != nil {
		return nil, err
	}
	res.TenantID, res.UserID, res.Email, res.APIKey = t.ID, u.ID, u.Email, key
	return res, nil
}
