package storetest

import (
	"context"
	"net/netip"
	"testing"
	"time"

	"github.com/steward-dev/steward"
	"github.com/steward-dev/steward/sqlstore"
)

func TestIPAccessRules(t *testing.T) {
	t.Parallel()
	Each(t, func(t *testing.T, db *sqlstore.DB) {
		ctx := context.Background()
		a, _ := newTenant(t, db, "alpha")
		b, _ := newTenant(t, db, "beta")
		admin := netip.MustParseAddr("192.0.2.7")

		if err := db.CreateIPAccessRule(ctx, &steward.IPAccessRule{TenantID: a.ID, IP: "10.0.0.0/8"}, admin); steward.ErrorCode(err) != steward.EINVALID {
			t.Fatalf("a first rule that shuts out the admin: %v, want EINVALID", err)
		}
		if n := countRules(t, db, a.ID); n != 0 {
			t.Fatalf("the refused rule was stored: %d rules", n)
		}
		home := &steward.IPAccessRule{TenantID: a.ID, IP: "192.0.2.0/24", Description: " Office "}
		if err := db.CreateIPAccessRule(ctx, home, admin); err != nil {
			t.Fatal(err)
		}
		if home.ID == 0 || home.Description != "Office" || home.CreatedAt.IsZero() {
			t.Errorf("created %+v", home)
		}
		vpn := &steward.IPAccessRule{TenantID: a.ID, IP: "2001:db8::/32"}
		if err := db.CreateIPAccessRule(ctx, vpn, admin); err != nil {
			t.Fatal(err)
		}

		t.Run("ranges and tenant scoping", func(t *testing.T) {
			ranges, err := db.TenantIPRanges(ctx, a.ID)
			if err != nil || len(ranges) != 2 {
				t.Fatalf("ranges %v, %v", ranges, err)
			}
			if other, err := db.TenantIPRanges(ctx, b.ID); err != nil || len(other) != 0 {
				t.Errorf("other tenant's ranges %v, %v", other, err)
			}
			if _, err := db.FindIPAccessRuleByID(ctx, b.ID, home.ID); steward.ErrorCode(err) != steward.ENOTFOUND {
				t.Errorf("other tenant finds the rule: %v", err)
			}
			if err := db.DeleteIPAccessRule(ctx, b.ID, vpn.ID, admin); steward.ErrorCode(err) != steward.ENOTFOUND {
				t.Errorf("other tenant deletes the rule: %v", err)
			}
		})

		t.Run("matching and paging", func(t *testing.T) {
			rules, total, err := db.FindIPAccessRules(ctx, steward.IPAccessRuleFilter{TenantID: a.ID,
				MatchingIP: netip.MustParseAddr("2001:db8::9"), PageRequest: steward.PageRequest{Page: 1, PerPage: 10}})
			if err != nil || total != 1 || len(rules) != 1 || rules[0].ID != vpn.ID {
				t.Errorf("matching: %v %d %v", rules, total, err)
			}
			rules, total, err = db.FindIPAccessRules(ctx, steward.IPAccessRuleFilter{TenantID: a.ID, PageRequest: steward.PageRequest{Page: 2, PerPage: 1}})
			if err != nil || total != 2 || len(rules) != 1 || rules[0].ID != vpn.ID {
				t.Errorf("page 2: %v %d %v", rules, total, err)
			}
		})

		t.Run("the lock-out guard", func(t *testing.T) {
			moved := "198.51.100.0/24"
			if _, err := db.UpdateIPAccessRule(ctx, a.ID, home.ID, steward.IPAccessRuleUpdate{IP: &moved}, admin); steward.ErrorCode(err) != steward.EINVALID {
				t.Errorf("update that shuts out the admin: %v", err)
			}
			if err := db.DeleteIPAccessRule(ctx, a.ID, home.ID, admin); steward.ErrorCode(err) != steward.EINVALID {
				t.Errorf("delete that shuts out the admin: %v", err)
			}
			if r, err := db.FindIPAccessRuleByID(ctx, a.ID, home.ID); err != nil || r.IP != "192.0.2.0/24" {
				t.Errorf("after refused changes: %+v, %v", r, err)
			}
			// From an address the other rule admits, the same delete is fine;
			// deleting the last rule opens the tenant and is always fine.
			if err := db.DeleteIPAccessRule(ctx, a.ID, home.ID, netip.MustParseAddr("2001:db8::1")); err != nil {
				t.Fatal(err)
			}
			if err := db.DeleteIPAccessRule(ctx, a.ID, vpn.ID, admin); err != nil {
				t.Fatal(err)
			}
		})
	})
}

func countRules(t *testing.T, db *sqlstore.DB, tenantID int64) int {
	t.Helper()
	var n int
	if err := db.Read.QueryRow(db.Q(`SELECT COUNT(*) FROM ip_access_rules WHERE tenant_id = ?`), tenantID).Scan(&n); err != nil {
		t.Fatal(err)
	}
	return n
}

func TestAuthThrottleStore(t *testing.T) {
	t.Parallel()
	Each(t, func(t *testing.T, db *sqlstore.DB) {
		ctx := context.Background()
		t0 := time.Date(2026, 1, 2, 3, 4, 0, 0, time.UTC)
		record := func(addr string, bucket, since time.Time) int {
			t.Helper()
			n, err := db.RecordAuthFailure(ctx, addr, bucket, since)
			if err != nil {
				t.Fatal(err)
			}
			return n
		}
		if n := record("192.0.2.1", t0, t0); n != 1 {
			t.Errorf("first failure: %d", n)
		}
		if n := record("192.0.2.1", t0, t0); n != 2 {
			t.Errorf("same bucket: %d", n)
		}
		if n := record("192.0.2.1", t0.Add(10*time.Second), t0); n != 3 {
			t.Errorf("next bucket, window covering both: %d", n)
		}
		if n := record("192.0.2.1", t0.Add(70*time.Second), t0.Add(20*time.Second)); n != 1 {
			t.Errorf("older buckets outside the window counted: %d", n)
		}
		if n := record("192.0.2.2", t0, t0); n != 1 {
			t.Errorf("another address: %d", n)
		}

		// A longer ban is kept; a shorter one does not shorten it.
		if err := db.BanAddress(ctx, "192.0.2.1", t0.Add(time.Hour)); err != nil {
			t.Fatal(err)
		}
		if err := db.BanAddress(ctx, "192.0.2.1", t0.Add(time.Minute)); err != nil {
			t.Fatal(err)
		}
		if err := db.BanAddress(ctx, "192.0.2.2", t0.Add(time.Minute)); err != nil {
			t.Fatal(err)
		}
		bans, err := db.FindAddressBans(ctx, t0.Add(2*time.Minute))
		if err != nil || len(bans) != 1 || !bans["192.0.2.1"].Equal(t0.Add(time.Hour)) {
			t.Errorf("bans: %v, %v", bans, err)
		}

		if err := db.PruneAuthFailures(ctx, t0.Add(time.Minute), t0.Add(2*time.Minute)); err != nil {
			t.Fatal(err)
		}
		var rows, banRows int
		db.Read.QueryRow(`SELECT COUNT(*) FROM auth_failures`).Scan(&rows)
		db.Read.QueryRow(`SELECT COUNT(*) FROM auth_bans`).Scan(&banRows)
		if rows != 1 || banRows != 1 {
			t.Errorf("after pruning: %d failure rows, %d bans; want 1 and 1", rows, banRows)
		}
	})
}
