package httpapi

import (
	"context"
	"fmt"

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

// Bootstrap creates a tenant with an admin user and a fresh API key. An
// empty plaintext password gets a random one, returned in the result.
func Bootstrap(ctx context.Context, svc Services, tenantName, email, plaintext string, cost int) (*BootstrapResult, error) {
	res := &BootstrapResult{}
	if plaintext == "" {
		secret, _ := steward.NewSecret("")
		plaintext = secret[:24]
		res.Password = plaintext
	}
	hash, err := password.Hash("password", plaintext, 0, cost)
	if err != nil {
		return nil, err
	}
	if _, err := steward.NormalizeEmail(email); err != nil {
		return nil, err
	}
	t := &steward.Tenant{Name: tenantName}
	if err := svc.Tenants.CreateTenant(ctx, t); err != nil {
		return nil, fmt.Errorf("create tenant: %w", err)
	}
	u := &steward.User{TenantID: t.ID, Email: email, Admin: true, IsActive: true, PasswordHash: hash}
	if err := svc.Users.CreateUser(ctx, u); err != nil {
		return nil, fmt.Errorf("create admin: %w", err)
	}
	k, key := NewAPIKey("bootstrap", t.ID, u.ID, nil)
	if err := svc.APIKeys.CreateAPIKey(ctx, k); err != nil {
		return nil, fmt.Errorf("create API key: %w", err)
	}
	res.TenantID, res.UserID, res.Email, res.APIKey = t.ID, u.ID, u.Email, key
	return res, nil
}
