package storetest

import (
	"context"
	"encoding/json"
	"testing"
	"time"

	"github.com/steward-dev/steward"
	"github.com/steward-dev/steward/sqlstore"
)

func testOrganisations(t *testing.T, open Opener) {
	t.Parallel()
	withDB(t, open, func(t *testing.T, db *sqlstore.DB) {
		ctx := context.Background()
		instance, err := db.InstanceTenantID(ctx)
		if err != nil {
			t.Fatal(err)
		}
		again, err := db.InstanceTenantID(ctx)
		if err != nil || again != instance {
			t.Fatalf("instance tenant not stable: %d then %d (%v)", instance, again, err)
		}

		o := &steward.Organisation{OwnerName: " Acme ", Fields: map[string]json.RawMessage{
			"cname": json.RawMessage(`"portal.acme.example"`), "ui": json.RawMessage(`{"languages":{"en":"English"}}`)}}
		if err := db.CreateOrganisation(ctx, o); err != nil {
			t.Fatal(err)
		}
		got, err := db.FindOrganisationByID(ctx, o.ID)
		if err != nil {
			t.Fatal(err)
		}
		if got.OwnerName != "Acme" || string(got.Fields["cname"]) != `"portal.acme.example"` || string(got.Fields["ui"]) != `{"languages":{"en":"English"}}` {
			t.Errorf("stored organisation: %+v", got)
		}
		if err := db.CreateOrganisation(ctx, &steward.Organisation{OwnerName: "  "}); steward.ErrorCode(err) != steward.EINVALID {
			t.Errorf("empty owner_name: got %v, want EINVALID", err)
		}

		t.Run("the instance tenant is never an organisation", func(t *testing.T) {
			if _, err := db.FindOrganisationByID(ctx, instance); steward.ErrorCode(err) != steward.ENOTFOUND {
				t.Errorf("find: got %v, want ENOTFOUND", err)
			}
			if err := db.ReplaceOrganisation(ctx, &steward.Organisation{ID: instance, OwnerName: "x"}); steward.ErrorCode(err) != steward.ENOTFOUND {
				t.Errorf("replace: got %v, want ENOTFOUND", err)
			}
			if err := db.DeleteOrganisation(ctx, instance); steward.ErrorCode(err) != steward.ENOTFOUND {
				t.Errorf("delete: got %v, want ENOTFOUND", err)
			}
			orgs, total, err := db.FindOrganisations(ctx, steward.PageRequest{Page: 1})
			if err != nil {
				t.Fatal(err)
			}
			if total != 1 || len(orgs) != 1 || orgs[0].ID != o.ID {
				t.Errorf("list: total %d, %d organisations", total, len(orgs))
			}
		})

		t.Run("pages", func(t *testing.T) {
			for i := 0; i < 11; i++ {
				if err := db.CreateOrganisation(ctx, &steward.Organisation{OwnerName: "org"}); err != nil {
					t.Fatal(err)
				}
			}
			page2, total, err := db.FindOrganisations(ctx, steward.PageRequest{Page: 2, PerPage: 10})
			if err != nil {
				t.Fatal(err)
			}
			all, _, err := db.FindOrganisations(ctx, steward.PageRequest{Page: 1})
			if err != nil {
				t.Fatal(err)
			}
			if total != 12 || len(page2) != 2 || len(all) != 12 || page2[1].ID != all[11].ID {
				t.Errorf("total %d, page 2 has %d, all has %d", total, len(page2), len(all))
			}
		})

		t.Run("replace is a full replace", func(t *testing.T) {
			r := &steward.Organisation{ID: o.ID, OwnerName: "Acme Ltd", Fields: map[string]json.RawMessage{"owner_slug": json.RawMessage(`"acme"`)}}
			if err := db.ReplaceOrganisation(ctx, r); err != nil {
				t.Fatal(err)
			}
			got, err := db.FindOrganisationByID(ctx, o.ID)
			if err != nil {
				t.Fatal(err)
			}
			if got.OwnerName != "Acme Ltd" || len(got.Fields) != 1 || string(got.Fields["owner_slug"]) != `"acme"` {
				t.Errorf("after replace: %+v", got)
			}
			if err := db.ReplaceOrganisation(ctx, &steward.Organisation{ID: 999999, OwnerName: "x"}); steward.ErrorCode(err) != steward.ENOTFOUND {
				t.Errorf("replace unknown: got %v, want ENOTFOUND", err)
			}
		})

		t.Run("delete removes the tenant and its users", func(t *testing.T) {
			u := &steward.TykUser{User: &steward.User{TenantID: o.ID, Email: "a@acme.example", Admin: true, IsActive: true}}
			if err := db.CreateTykUser(ctx, u, nil); err != nil {
				t.Fatal(err)
			}
			if err := db.DeleteOrganisation(ctx, o.ID); err != nil {
				t.Fatal(err)
			}
			if _, err := db.FindOrganisationByID(ctx, o.ID); steward.ErrorCode(err) != steward.ENOTFOUND {
				t.Errorf("find after delete: got %v, want ENOTFOUND", err)
			}
			if _, err := db.FindTykUser(ctx, steward.UserScope{AllTenants: true}, u.ID); steward.ErrorCode(err) != steward.ENOTFOUND {
				t.Errorf("user after delete: got %v, want ENOTFOUND", err)
			}
			if err := db.DeleteOrganisation(ctx, o.ID); steward.ErrorCode(err) != steward.ENOTFOUND {
				t.Errorf("second delete: got %v, want ENOTFOUND", err)
			}
		})
	})
}

func testTykUsers(t *testing.T, open Opener) {
	t.Parallel()
	withDB(t, open, func(t *testing.T, db *sqlstore.DB) {
		ctx := context.Background()
		clock := NewClock(time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC))
		db.Clock = clock
		a, adminA := newTenant(t, db, "alpha")
		b, _ := newTenant(t, db, "beta")
		instance, err := db.InstanceTenantID(ctx)
		if err != nil {
			t.Fatal(err)
		}

		key := &steward.APIKey{Name: "Tyk access key", Prefix: "stw_test", Hash: steward.HashSecret("first key")}
		u := &steward.TykUser{User: &steward.User{TenantID: a.ID, Email: "Bob@Alpha.example", IsActive: true, PasswordHash: "$2a$04$notarealhash"},
			Permissions: map[string]string{"apis": "read"}, GroupID: "g1", PasswordMaxDays: 30}
		if err := db.CreateTykUser(ctx, u, key); err != nil {
			t.Fatal(err)
		}
		if u.SuperUser || u.PasswordUpdatedAt == nil || !u.PasswordUpdatedAt.Equal(clock.Now()) {
			t.Errorf("created user: super %v, password_updated %v", u.SuperUser, u.PasswordUpdatedAt)
		}

		t.Run("the access key is a Steward API key of the user", func(t *testing.T) {
			k, owner, err := db.FindAPIKeyByHash(ctx, steward.HashSecret("first key"))
			if err != nil {
				t.Fatal(err)
			}
			if owner.ID != u.ID || k.TenantID != a.ID || k.ID != key.ID {
				t.Errorf("key belongs to user %d in tenant %d", owner.ID, k.TenantID)
			}
		})

		t.Run("fields round-trip and the user is the same row as the Tines user", func(t *testing.T) {
			got, err := db.FindTykUser(ctx, steward.UserScope{TenantID: a.ID}, u.ID)
			if err != nil {
				t.Fatal(err)
			}
			if got.Email != "bob@alpha.example" || got.Permissions["apis"] != "read" || got.GroupID != "g1" || got.PasswordMaxDays != 30 {
				t.Errorf("found %+v", got)
			}
			plain, err := db.FindUserByID(ctx, a.ID, u.ID)
			if err != nil || plain.Email != got.Email {
				t.Errorf("FindUserByID: %v %v", plain, err)
			}
		})

		t.Run("scope keeps tenants apart", func(t *testing.T) {
			if _, err := db.FindTykUser(ctx, steward.UserScope{TenantID: b.ID}, u.ID); steward.ErrorCode(err) != steward.ENOTFOUND {
				t.Errorf("other tenant: got %v, want ENOTFOUND", err)
			}
			if _, err := db.FindTykUser(ctx, steward.UserScope{AllTenants: true}, u.ID); err != nil {
				t.Errorf("all tenants: %v", err)
			}
			_, total, err := db.FindTykUsers(ctx, steward.UserScope{TenantID: a.ID}, steward.PageRequest{Page: 1})
			if err != nil || total != 2 {
				t.Errorf("tenant a has %d users (%v), want 2", total, err)
			}
			users, total, err := db.FindTykUsers(ctx, steward.UserScope{AllTenants: true}, steward.PageRequest{Page: 2, PerPage: 2})
			if err != nil || total != 3 || len(users) != 1 {
				t.Errorf("all tenants page 2: total %d, %d users (%v)", total, len(users), err)
			}
			if _, err := db.UpdateTykUser(ctx, b.ID, u.ID, steward.TykUserUpdate{}); steward.ErrorCode(err) != steward.ENOTFOUND {
				t.Errorf("update in other tenant: got %v, want ENOTFOUND", err)
			}
			if err := db.RenewAccessKey(ctx, b.ID, u.ID, &steward.APIKey{Name: "x", Prefix: "x", Hash: steward.HashSecret("x")}); steward.ErrorCode(err) != steward.ENOTFOUND {
				t.Errorf("renew in other tenant: got %v, want ENOTFOUND", err)
			}
		})

		t.Run("super users live in the instance tenant", func(t *testing.T) {
			s := &steward.TykUser{User: &steward.User{TenantID: instance, Email: "root@example.com", Admin: true, IsActive: true}}
			if err := db.CreateTykUser(ctx, s, nil); err != nil {
				t.Fatal(err)
			}
			got, err := db.FindTykUser(ctx, steward.UserScope{AllTenants: true}, s.ID)
			if err != nil || !got.SuperUser || !s.SuperUser {
				t.Fatalf("super user: %+v %v", got, err)
			}
			users, _, err := db.FindUsers(ctx, steward.UserFilter{TenantID: a.ID, PageRequest: steward.PageRequest{Page: 1, PerPage: 50}})
			if err != nil {
				t.Fatal(err)
			}
			for _, x := range users {
				if x.ID == s.ID {
					t.Error("a super user is listed in an organisation's users")
				}
			}
		})

		t.Run("update sets Tyk fields and password time, keeps the last admin", func(t *testing.T) {
			clock.Advance(time.Hour)
			perms := map[string]string{"ResetPassword": "admin"}
			hash, group, days := "$2a$04$another", "g2", 0
			got, err := db.UpdateTykUser(ctx, a.ID, u.ID, steward.TykUserUpdate{
				UserUpdate: steward.UserUpdate{PasswordHash: &hash}, Permissions: &perms, GroupID: &group, PasswordMaxDays: &days})
			if err != nil {
				t.Fatal(err)
			}
			if got.Permissions["ResetPassword"] != "admin" || got.Permissions["apis"] != "" || got.GroupID != "g2" || got.PasswordMaxDays != 0 {
				t.Errorf("updated: %+v", got)
			}
			if got.PasswordUpdatedAt == nil || !got.PasswordUpdatedAt.Equal(clock.Now()) {
				t.Errorf("password_updated = %v, want %v", got.PasswordUpdatedAt, clock.Now())
			}
			no := false
			if _, err := db.UpdateTykUser(ctx, a.ID, adminA.ID, steward.TykUserUpdate{UserUpdate: steward.UserUpdate{Admin: &no}}); steward.ErrorCode(err) != steward.EINVALID {
				t.Errorf("demoting the last admin: got %v, want EINVALID", err)
			}
		})

		t.Run("a password set through the Tines API is recorded too", func(t *testing.T) {
			clock.Advance(time.Hour)
			hash := "$2a$04$third"
			if _, err := db.UpdateUser(ctx, a.ID, u.ID, steward.UserUpdate{PasswordHash: &hash}); err != nil {
				t.Fatal(err)
			}
			got, err := db.FindTykUser(ctx, steward.UserScope{TenantID: a.ID}, u.ID)
			if err != nil || got.PasswordUpdatedAt == nil || !got.PasswordUpdatedAt.Equal(clock.Now()) {
				t.Errorf("password_updated = %v (%v), want %v", got.PasswordUpdatedAt, err, clock.Now())
			}
		})

		t.Run("renewing the access key revokes the old one", func(t *testing.T) {
			next := &steward.APIKey{Name: "Tyk access key", Prefix: "stw_next", Hash: steward.HashSecret("second key")}
			if err := db.RenewAccessKey(ctx, a.ID, u.ID, next); err != nil {
				t.Fatal(err)
			}
			old, _, err := db.FindAPIKeyByHash(ctx, steward.HashSecret("first key"))
			if err != nil || old.RevokedAt == nil {
				t.Errorf("old key: revoked %v (%v)", old, err)
			}
			k, owner, err := db.FindAPIKeyByHash(ctx, steward.HashSecret("second key"))
			if err != nil || owner.ID != u.ID || k.RevokedAt != nil {
				t.Errorf("new key: %v %v", k, err)
			}
		})

		t.Run("email is unique per tenant", func(t *testing.T) {
			dup := &steward.TykUser{User: &steward.User{TenantID: a.ID, Email: "BOB@alpha.example"}}
			if err := db.CreateTykUser(ctx, dup, nil); steward.ErrorCode(err) != steward.ECONFLICT {
				t.Errorf("duplicate: got %v, want ECONFLICT", err)
			}
			other := &steward.TykUser{User: &steward.User{TenantID: b.ID, Email: "bob@alpha.example"}}
			if err := db.CreateTykUser(ctx, other, nil); err != nil {
				t.Errorf("same email in another tenant: %v", err)
			}
		})
	})
}

// TestDeleteOrganisationTakesItsJobs checks that deleting an organisation
// removes its jobs and their counters (jobs have no foreign keys), and
// leaves other tenants' jobs alone.
func testDeleteOrganisationTakesItsJobs(t *testing.T, open Opener) {
	t.Parallel()
	withDB(t, open, func(t *testing.T, db *sqlstore.DB) {
		ctx := context.Background()
		doomed := &steward.Organisation{OwnerName: "Doomed"}
		kept := &steward.Organisation{OwnerName: "Kept"}
		for _, o := range []*steward.Organisation{doomed, kept} {
			if err := db.CreateOrganisation(ctx, o); err != nil {
				t.Fatal(err)
			}
			if err := db.EnqueueJobs(ctx, []steward.NewJob{{TenantID: o.ID, ActionID: 7}, {TenantID: o.ID, ActionID: 8}}); err != nil {
				t.Fatal(err)
			}
		}
		if err := db.DeleteOrganisation(ctx, doomed.ID); err != nil {
			t.Fatal(err)
		}
		for _, c := range []struct {
			tenant int64
			want   int
		}{{doomed.ID, 0}, {kept.ID, 2}} {
			var rows int
			if err := db.Read.QueryRow(db.Q(`SELECT COUNT(*) FROM jobs WHERE tenant_id = ?`), c.tenant).Scan(&rows); err != nil {
				t.Fatal(err)
			}
			st, err := db.JobStats(ctx, c.tenant, 0)
			if err != nil {
				t.Fatal(err)
			}
			if rows != c.want || st.Queued != int64(c.want) {
				t.Errorf("tenant %d: %d jobs, %d counted queued; want %d", c.tenant, rows, st.Queued, c.want)
			}
		}
	})
}
