package storetest

import (
	"context"
	"testing"
	"time"

	"github.com/steward-dev/steward"
	"github.com/steward-dev/steward/sqlstore"
)

// count returns the result of a COUNT query.
func count(t *testing.T, db *sqlstore.DB, query string, args ...any) int {
	t.Helper()
	var n int
	if err := db.Write.QueryRowContext(context.Background(), db.Q(query), args...).Scan(&n); err != nil {
		t.Fatal(err)
	}
	return n
}

// TestUseCasesAreAtomic breaks the last step of each multi-step use case
// and checks that nothing of it is left behind and that a retry succeeds.
func TestUseCasesAreAtomic(t *testing.T) {
	t.Parallel()
	Each(t, func(t *testing.T, db *sqlstore.DB) {
		ctx := context.Background()
		tn, _ := newTenant(t, db, "alpha")

		t.Run("invited user with the invitation email", func(t *testing.T) {
			newInvitation := func() *steward.Invitation {
				_, hash := steward.NewSecret("inv_")
				now := db.Clock.Now()
				return &steward.Invitation{TokenHash: hash, SentAt: now, ExpiresAt: now.Add(time.Hour),
					Mail: &steward.MailMessage{Subject: "You have been invited", Body: "link"}}
			}
			restore := FailInserts(t, db, "mail_outbox")
			u := &steward.User{TenantID: tn.ID, Email: "Ann@Example.com", IsActive: true}
			if err := db.CreateInvitedUser(ctx, u, newInvitation()); err == nil {
				t.Fatal("the mail could not be queued, yet the use case succeeded")
			}
			if n := count(t, db, `SELECT COUNT(*) FROM users WHERE email = ?`, "ann@example.com"); n != 0 {
				t.Fatalf("%d users left behind by a failed invitation", n)
			}
			restore()
			u = &steward.User{TenantID: tn.ID, Email: "Ann@Example.com", IsActive: true}
			inv := newInvitation()
			if err := db.CreateInvitedUser(ctx, u, inv); err != nil {
				t.Fatalf("retry: %v", err)
			}
			got, err := db.FindUserByInvitationHash(ctx, inv.TokenHash)
			if err != nil || got.ID != u.ID {
				t.Fatalf("the invitation does not find the user: %v %v", got, err)
			}
			if inv.Mail.To != "ann@example.com" || inv.Mail.TenantID != tn.ID || inv.Mail.ID == 0 {
				t.Errorf("queued mail %+v, want it addressed to the normalised email in the tenant", inv.Mail)
			}
			if n := count(t, db, `SELECT COUNT(*) FROM mail_outbox WHERE recipient = ?`, "ann@example.com"); n != 1 {
				t.Errorf("%d invitation emails queued, want 1", n)
			}

			// Resending replaces the token and queues a new email, together.
			restore = FailInserts(t, db, "mail_outbox")
			again := newInvitation()
			if err := db.SetInvitation(ctx, tn.ID, u.ID, again); err == nil {
				t.Fatal("resend succeeded without its email")
			}
			if _, err := db.FindUserByInvitationHash(ctx, inv.TokenHash); err != nil {
				t.Errorf("a failed resend replaced the working link: %v", err)
			}
			restore()
			if err := db.SetInvitation(ctx, tn.ID, u.ID, again); err != nil {
				t.Fatal(err)
			}
			if _, err := db.FindUserByInvitationHash(ctx, inv.TokenHash); steward.ErrorCode(err) != steward.ENOTFOUND {
				t.Errorf("the old link still works after a resend: %v", err)
			}
			if err := db.SetInvitation(ctx, tn.ID+1000, u.ID, newInvitation()); steward.ErrorCode(err) != steward.ENOTFOUND {
				t.Errorf("invitation for another tenant's user: %v, want ENOTFOUND", err)
			}
		})

		t.Run("bootstrap: tenant, admin and key", func(t *testing.T) {
			tenants := count(t, db, `SELECT COUNT(*) FROM tenants`)
			restore := FailInserts(t, db, "api_keys")
			_, hash := steward.NewSecret(steward.APIKeyPrefix)
			key := &steward.APIKey{Name: "bootstrap", Prefix: "stw_xxxxxx", Hash: hash}
			admin := &steward.User{Email: "boot@example.com", PasswordHash: "x"}
			if err := db.BootstrapTenant(ctx, &steward.Tenant{Name: "Boot"}, admin, key); err == nil {
				t.Fatal("the key could not be stored, yet bootstrap succeeded")
			}
			if n := count(t, db, `SELECT COUNT(*) FROM tenants`); n != tenants {
				t.Errorf("a failed bootstrap left %d tenants behind", n-tenants)
			}
			if n := count(t, db, `SELECT COUNT(*) FROM users WHERE email = ?`, "boot@example.com"); n != 0 {
				t.Errorf("a failed bootstrap left %d users behind", n)
			}
			restore()
			tb := &steward.Tenant{Name: "Boot"}
			admin = &steward.User{Email: "boot@example.com", PasswordHash: "x"}
			if err := db.BootstrapTenant(ctx, tb, admin, key); err != nil {
				t.Fatalf("retry: %v", err)
			}
			k, u, err := db.FindAPIKeyByHash(ctx, hash)
			if err != nil || u.ID != admin.ID || k.TenantID != tb.ID || !u.Admin || !u.IsActive {
				t.Fatalf("bootstrapped key %+v of %+v (%v), want the tenant's active admin", k, u, err)
			}
			if _, total, err := db.FindStories(ctx, tb.ID, steward.PageRequest{Page: 1, PerPage: 10}); err != nil || total != 1 {
				t.Errorf("bootstrapped tenant has %d stories (%v), want its default story", total, err)
			}
		})

		t.Run("Tyk user and access key", func(t *testing.T) {
			restore := FailInserts(t, db, "api_keys")
			_, hash := steward.NewSecret(steward.APIKeyPrefix)
			newUser := func() *steward.TykUser {
				return &steward.TykUser{User: &steward.User{Email: "super@example.com", IsActive: true, Admin: true}, SuperUser: true}
			}
			if err := db.CreateTykUser(ctx, newUser(), &steward.APIKey{Name: "k", Prefix: "stw_xxxxxx", Hash: hash}); err == nil {
				t.Fatal("the key could not be stored, yet the user was created")
			}
			if n := count(t, db, `SELECT COUNT(*) FROM users WHERE email = ?`, "super@example.com"); n != 0 {
				t.Errorf("%d users left behind", n)
			}
			if n := count(t, db, `SELECT COUNT(*) FROM tenants WHERE instance = TRUE`); n != 0 {
				t.Errorf("the instance tenant was left behind by a failed create")
			}
			restore()
			u := newUser()
			if err := db.CreateTykUser(ctx, u, &steward.APIKey{Name: "k", Prefix: "stw_xxxxxx", Hash: hash}); err != nil {
				t.Fatalf("retry: %v", err)
			}
			instance, err := db.InstanceTenantID(ctx)
			if err != nil || u.TenantID != instance || !u.SuperUser {
				t.Errorf("super user in tenant %d (super %v), instance tenant %d (%v)", u.TenantID, u.SuperUser, instance, err)
			}
			if _, total, err := db.FindStories(ctx, instance, steward.PageRequest{Page: 1, PerPage: 10}); err != nil || total != 1 {
				t.Errorf("the instance tenant has %d stories (%v), want its default story", total, err)
			}
		})

		t.Run("organisation and its default story", func(t *testing.T) {
			restore := FailInserts(t, db, "stories")
			if err := db.CreateOrganisation(ctx, &steward.Organisation{OwnerName: "Story-less"}); err == nil {
				t.Fatal("the default story could not be stored, yet the organisation was created")
			}
			if n := count(t, db, `SELECT COUNT(*) FROM tenants WHERE name = ?`, "Story-less"); n != 0 {
				t.Errorf("an organisation without its default story was left behind")
			}
			restore()
			o := &steward.Organisation{OwnerName: "Story-less"}
			if err := db.CreateOrganisation(ctx, o); err != nil {
				t.Fatal(err)
			}
			stories, total, err := db.FindStories(ctx, o.ID, steward.PageRequest{Page: 1, PerPage: 10})
			if err != nil || total != 1 || stories[0].Name != steward.DefaultStoryName {
				t.Errorf("new organisation's stories: %v (%d, %v), want its default story", stories, total, err)
			}
		})
	})
}

// TestAcceptInvitationSetsPasswordUpdated checks that a password chosen
// through an invitation counts as set, like one set by any other API.
func TestAcceptInvitationSetsPasswordUpdated(t *testing.T) {
	t.Parallel()
	Each(t, func(t *testing.T, db *sqlstore.DB) {
		ctx := context.Background()
		clock := NewClock(time.Date(2026, 3, 4, 5, 6, 7, 0, time.UTC))
		db.Clock = clock
		tn, _ := newTenant(t, db, "alpha")
		_, hash := steward.NewSecret("inv_")
		u := &steward.User{TenantID: tn.ID, Email: "ann@example.com", IsActive: true}
		inv := &steward.Invitation{TokenHash: hash, SentAt: clock.Now(), ExpiresAt: clock.Now().Add(time.Hour)}
		if err := db.CreateInvitedUser(ctx, u, inv); err != nil {
			t.Fatal(err)
		}
		before, err := db.FindTykUser(ctx, steward.UserScope{TenantID: tn.ID}, u.ID)
		if err != nil || before.PasswordUpdatedAt != nil {
			t.Fatalf("invited user's password_updated: %v (%v), want unset", before.PasswordUpdatedAt, err)
		}
		clock.Advance(time.Minute)
		if _, err := db.AcceptInvitation(ctx, hash, "bcrypt-hash", clock.Now()); err != nil {
			t.Fatal(err)
		}
		after, err := db.FindTykUser(ctx, steward.UserScope{TenantID: tn.ID}, u.ID)
		if err != nil || after.PasswordUpdatedAt == nil || !after.PasswordUpdatedAt.Equal(clock.Now()) {
			t.Errorf("password_updated after accepting: %v (%v), want %v", after.PasswordUpdatedAt, err, clock.Now())
		}
	})
}
