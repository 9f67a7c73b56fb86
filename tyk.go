package steward

import (
	"context"
	"encoding/json"
	"time"
)

// Organisation is a tenant as Tyk's Dashboard admin API sees it. OwnerName
// is the tenant's name; Fields holds every other top-level field a client
// sent (owner_slug, cname, apis, ui, …) exactly as sent, so that a
// GET-edit-PUT round trip through Steward loses nothing.
type Organisation struct {
	ID int64
	// TykID is the id a Tyk client gave the organisation when importing it
	// (POST /admin/organisations/import), such as a Tyk ObjectId; empty for
	// organisations whose Tyk id Steward derives from ID.
	TykID     string
	OwnerName string
	Fields    map[string]json.RawMessage
	CreatedAt time.Time
	UpdatedAt time.Time
}

// OrganisationService stores organisations. The hidden instance tenant that
// holds super users (see TykUser) is never an organisation: it is not
// listed, found, replaced or deleted through this service.
type OrganisationService interface {
	// CreateOrganisation inserts o with its tenant's default story, in one
	// transaction, and sets its ID and timestamps. EINVALID if OwnerName
	// is empty.
	CreateOrganisation(ctx context.Context, o *Organisation) error
	// FindOrganisationByID returns ENOTFOUND if there is no such organisation.
	FindOrganisationByID(ctx context.Context, id int64) (*Organisation, error)
	// ImportOrganisation inserts o, which keeps the Tyk id o.TykID it was
	// exported with, together with the tenant's default story, and sets
	// its ID and timestamps. ECONFLICT if an organisation already has that
	// Tyk id; EINVALID if OwnerName or TykID is empty.
	ImportOrganisation(ctx context.Context, o *Organisation) error
	// FindOrganisationByTykID finds an imported organisation by the Tyk id
	// it was imported with. ENOTFOUND if there is none.
	FindOrganisationByTykID(ctx context.Context, tykID string) (*Organisation, error)
	// FindOrganisations returns one page of organisations ordered by id (all
	// of them when PerPage is 0) and how many exist.
	FindOrganisations(ctx context.Context, page PageRequest) ([]*Organisation, int, error)
	// ReplaceOrganisation replaces the name and fields of organisation o.ID.
	// ENOTFOUND, EINVALID if OwnerName is empty.
	ReplaceOrganisation(ctx context.Context, o *Organisation) error
	// DeleteOrganisation removes the organisation's tenant and, through
	// ON DELETE CASCADE, everything in it. ENOTFOUND.
	DeleteOrganisation(ctx context.Context, id int64) error
}

// TykUser is a Steward user as Tyk's user APIs see one: the same row of
// the users table, plus the fields only Tyk clients read.
//
// Super users are Tyk users created without an organisation. Steward keeps
// every user in a tenant (users.tenant_id is NOT NULL, and every /api/v1
// query is scoped by the caller's tenant), so super users live in one
// hidden instance tenant, marked tenants.instance. That tenant is never an
// organisation: it is not listed or reachable on /admin/organisations, and
// on /api/v1 a super user's key sees only that tenant, so Tines-style
// tenant isolation is unchanged. Only the Tyk /api/users endpoints widen a
// super user's view to every organisation.
type TykUser struct {
	*User
	// SuperUser is true for members of the instance tenant.
	SuperUser bool
	// OrgTykID is the TykID of the user's organisation (see Organisation).
	OrgTykID string
	// Permissions holds the user_permissions entries other than IsAdmin
	// (IsAdmin is User.Admin), for example {"ResetPassword":"admin"}.
	Permissions     map[string]string
	GroupID         string
	PasswordMaxDays int
	// PasswordUpdatedAt is when the password was last set, by any API.
	PasswordUpdatedAt *time.Time
}

// ResetPasswordPermission is the user_permissions entry that lets an admin
// reset other users' passwords (Tyk's allow_reset_passwords action).
const ResetPasswordPermission = "ResetPassword"

// TykUserUpdate changes a user: the shared fields in UserUpdate, plus the
// Tyk-only ones; nil means unchanged.
type TykUserUpdate struct {
	UserUpdate
	Permissions     *map[string]string
	GroupID         *string
	PasswordMaxDays *int
}

// UserScope says whose users a Tyk caller may reach: one tenant's, or,
// for the instance admin and super users, every tenant's.
type UserScope struct {
	TenantID   int64
	AllTenants bool
}

// TykUserService stores users for the Tyk-compatible API.
type TykUserService interface {
	// InstanceTenantID returns the hidden tenant of super users, creating it
	// on first use.
	InstanceTenantID(ctx context.Context) (int64, error)
	// CreateTykUser inserts u and, when key is not nil, key as the user's
	// access key, in one transaction: if any step fails nothing is stored.
	// u.TenantID is set by the caller, or 0 with u.SuperUser for a super
	// user, whose hidden tenant is then found or created in the same
	// transaction. ECONFLICT if the email is taken in the tenant.
	CreateTykUser(ctx context.Context, u *TykUser, key *APIKey) error
	// FindTykUser returns the user with this id within scope, or ENOTFOUND.
	FindTykUser(ctx context.Context, scope UserScope, id int64) (*TykUser, error)
	// FindTykUsers returns one page of the users within scope ordered by id
	// (all of them when PerPage is 0) and how many there are.
	FindTykUsers(ctx context.Context, scope UserScope, page PageRequest) ([]*TykUser, int, error)
	// UpdateTykUser applies upd to the tenant's user. ENOTFOUND, ECONFLICT
	// for a taken email, EINVALID when the tenant would lose its last
	// active admin.
	UpdateTykUser(ctx context.Context, tenantID, id int64, upd TykUserUpdate) (*TykUser, error)
	// RenewAccessKey revokes the user's current access key, if any, and
	// stores key (Hash and Prefix set by the caller) as the new one.
	// ENOTFOUND if the user is not in the tenant.
	RenewAccessKey(ctx context.Context, tenantID, userID int64, key *APIKey) error
}
