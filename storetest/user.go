package storetest

import (
	"context"
	"fmt"
	"testing"

	"github.com/steward-dev/steward"
	"github.com/steward-dev/steward/sqlstore"
)

// newTenant creates a tenant with one active admin and returns both.
func newTenant(t *testing.T, db *sqlstore.DB, name string) (*steward.Tenant, *steward.User) {
	t.Helper()
	ctx := context.Background()
	tn := &steward.Tenant{Name: name}
	if err := db.CreateTenant(ctx, tn); err != nil {
		t.Fatal(err)
	}
	admin := &steward.User{TenantID: tn.ID, Email: "admin@" + name + ".example", Admin: true, IsActive: true}
	if err := db.CreateUser(ctx, admin); err != nil {
		t.Fatal(err)
	}
	return tn, admin
}

func testUsers(t *testing.T, open Opener) {
	t.Parallel()
	withDB(t, open, func(t *testing.T, db *sqlstore.DB) {
		ctx := context.Background()
		a, adminA := newTenant(t, db, "alpha")
		b, _ := newTenant(t, db, "beta")

		t.Run("email is normalised and unique per tenant", func(t *testing.T) {
			u := &steward.User{TenantID: a.ID, Email: "  Joe@Example.COM ", IsActive: true}
			if err := db.CreateUser(ctx, u); err != nil {
				t.Fatal(err)
			}
			if u.Email != "joe@example.com" {
				t.Errorf("email = %q, want lower-cased and trimmed", u.Email)
			}
			dup := &steward.User{TenantID: a.ID, Email: "JOE@example.com"}
			if err := db.CreateUser(ctx, dup); steward.ErrorCode(err) != steward.ECONFLICT {
				t.Errorf("duplicate email: got %v, want ECONFLICT", err)
			}
			other := &steward.User{TenantID: b.ID, Email: "joe@example.com"}
			if err := db.CreateUser(ctx, other); err != nil {
				t.Errorf("same email in another tenant: %v", err)
			}
		})

		t.Run("another tenant's user is not found", func(t *testing.T) {
			if _, err := db.FindUserByID(ctx, b.ID, adminA.ID); steward.ErrorCode(err) != steward.ENOTFOUND {
				t.Errorf("got %v, want ENOTFOUND", err)
			}
			if _, err := db.UpdateUser(ctx, b.ID, adminA.ID, steward.UserUpdate{}); steward.ErrorCode(err) != steward.ENOTFOUND {
				t.Errorf("update: got %v, want ENOTFOUND", err)
			}
			if err := db.DeleteUser(ctx, b.ID, adminA.ID); steward.ErrorCode(err) != steward.ENOTFOUND {
				t.Errorf("delete: got %v, want ENOTFOUND", err)
			}
		})

		t.Run("search and admin filter", func(t *testing.T) {
			users, total, err := db.FindUsers(ctx, steward.UserFilter{TenantID: a.ID, Search: "JOE", PageRequest: steward.PageRequest{Page: 1, PerPage: 10}})
			if err != nil {
				t.Fatal(err)
			}
			if total != 1 || len(users) != 1 || users[0].Email != "joe@example.com" {
				t.Errorf("search JOE: total %d, users %v", total, users)
			}
			users, total, err = db.FindUsers(ctx, steward.UserFilter{TenantID: a.ID, AdminOnly: true, PageRequest: steward.PageRequest{Page: 1, PerPage: 10}})
			if err != nil {
				t.Fatal(err)
			}
			if total != 1 || users[0].ID != adminA.ID {
				t.Errorf("admin filter: total %d", total)
			}
			_, total, err = db.FindUsers(ctx, steward.UserFilter{TenantID: a.ID, Search: "%", PageRequest: steward.PageRequest{Page: 1, PerPage: 10}})
			if err != nil || total != 0 {
				t.Errorf("search %%: LIKE wildcard not escaped: total %d err %v", total, err)
			}
		})

		t.Run("last admin cannot be demoted, deactivated or deleted", func(t *testing.T) {
			f := false
			if _, err := db.UpdateUser(ctx, a.ID, adminA.ID, steward.UserUpdate{Admin: &f}); steward.ErrorCode(err) != steward.EINVALID {
				t.Errorf("demote: got %v, want EINVALID", err)
			}
			if _, err := db.UpdateUser(ctx, a.ID, adminA.ID, steward.UserUpdate{IsActive: &f}); steward.ErrorCode(err) != steward.EINVALID {
				t.Errorf("deactivate: got %v, want EINVALID", err)
			}
			if err := db.DeleteUser(ctx, a.ID, adminA.ID); steward.ErrorCode(err) != steward.EINVALID {
				t.Errorf("delete: got %v, want EINVALID", err)
			}
			second := &steward.User{TenantID: a.ID, Email: "second@alpha.example", Admin: true, IsActive: true}
			if err := db.CreateUser(ctx, second); err != nil {
				t.Fatal(err)
			}
			if _, err := db.UpdateUser(ctx, a.ID, adminA.ID, steward.UserUpdate{Admin: &f}); err != nil {
				t.Errorf("demote with another admin present: %v", err)
			}
		})

		t.Run("deleting a user deletes their keys", func(t *testing.T) {
			u := &steward.User{TenantID: a.ID, Email: "keyed@alpha.example", IsActive: true}
			if err := db.CreateUser(ctx, u); err != nil {
				t.Fatal(err)
			}
			_, hash := steward.NewSecret(steward.APIKeyPrefix)
			if err := db.CreateAPIKey(ctx, &steward.APIKey{TenantID: a.ID, UserID: u.ID, Name: "k", Prefix: "stw_x", Hash: hash}); err != nil {
				t.Fatal(err)
			}
			if _, owner, err := db.FindAPIKeyByHash(ctx, hash); err != nil || owner.ID != u.ID {
				t.Fatalf("find key: %v", err)
			}
			if err := db.DeleteUser(ctx, a.ID, u.ID); err != nil {
				t.Fatal(err)
			}
			if _, _, err := db.FindAPIKeyByHash(ctx, hash); steward.ErrorCode(err) != steward.ENOTFOUND {
				t.Errorf("key of deleted user: got %v, want ENOTFOUND", err)
			}
		})
	})
}

// TestTenantUserCount checks the kept per-tenant count the unfiltered user
// list reports against a real COUNT, through inserts, deletes and a
// deleted tenant.
func testTenantUserCount(t *testing.T, open Opener) {
	t.Parallel()
	withDB(t, open, func(t *testing.T, db *sqlstore.DB) {
		ctx := context.Background()
		a, _ := newTenant(t, db, "alpha")
		b, _ := newTenant(t, db, "beta")
		var ids []int64
		for i := range 7 {
			u := &steward.User{TenantID: a.ID, Email: fmt.Sprintf("u%d@alpha.example", i), IsActive: true}
			if err := db.CreateUser(ctx, u); err != nil {
				t.Fatal(err)
			}
			ids = append(ids, u.ID)
		}
		for _, id := range ids[:3] {
			if err := db.DeleteUser(ctx, a.ID, id); err != nil {
				t.Fatal(err)
			}
		}
		dup := &steward.User{TenantID: a.ID, Email: "u5@alpha.example"}
		if err := db.CreateUser(ctx, dup); steward.ErrorCode(err) != steward.ECONFLICT {
			t.Fatalf("duplicate: %v", err)
		}
		for _, tn := range []*steward.Tenant{a, b} {
			var actual int
			if err := db.Read.QueryRow(db.Q(`SELECT COUNT(*) FROM users WHERE tenant_id = ?`), tn.ID).Scan(&actual); err != nil {
				t.Fatal(err)
			}
			_, total, err := db.FindUsers(ctx, steward.UserFilter{TenantID: tn.ID, PageRequest: steward.PageRequest{Page: 1, PerPage: 2}})
			if err != nil {
				t.Fatal(err)
			}
			if total != actual {
				t.Errorf("tenant %s: list total %d, users in table %d", tn.Name, total, actual)
			}
		}
		if _, total, _ := db.FindUsers(ctx, steward.UserFilter{TenantID: a.ID, PageRequest: steward.PageRequest{Page: 1, PerPage: 2}}); total != 5 {
			t.Errorf("alpha total %d, want 5 (admin + 7 - 3)", total)
		}
	})
}
