package steward

import (
	"context"
	"time"
)

// Tenant is an organisation: every user, key, story, action, job and
// template belongs to exactly one.
type Tenant struct {
	ID        int64
	Name      string
	CreatedAt time.Time
	UpdatedAt time.Time
}

// TenantService stores tenants.
type TenantService interface {
	// CreateTenant inserts t with its default story, in one transaction,
	// and sets its ID and timestamps. EINVALID if the name is empty.
	CreateTenant(ctx context.Context, t *Tenant) error
	// BootstrapTenant creates t with its default story, admin as its first
	// admin (made an active admin) and key (Hash and Prefix set by the
	// caller) as the admin's API key, in one transaction: if any step fails
	// nothing is stored. EINVALID for an empty name or a user the rules
	// refuse.
	BootstrapTenant(ctx context.Context, t *Tenant, admin *User, key *APIKey) error
	// FindTenantByID returns ENOTFOUND if there is no such tenant.
	FindTenantByID(ctx context.Context, id int64) (*Tenant, error)
	// CountTenants returns how many tenants exist (zero on a fresh database).
	CountTenants(ctx context.Context) (int, error)
}
