package storetest

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/steward-dev/steward"
	"github.com/steward-dev/steward/sqlstore"
)

// auditLogs returns every audit record of a tenant, newest first.
func auditLogs(t *testing.T, db *sqlstore.DB, f steward.AuditLogFilter) []*steward.AuditLog {
	t.Helper()
	if f.PerPage == 0 {
		f.PageRequest = steward.PageRequest{Page: 1, PerPage: 500}
	}
	logs, total, err := db.FindAuditLogs(context.Background(), f)
	if err != nil {
		t.Fatal(err)
	}
	if f.Page == 1 && total != len(logs) && len(logs) < f.PerPage {
		t.Fatalf("total %d but %d records", total, len(logs))
	}
	return logs
}

func TestAuditRecordWrittenWithTheChange(t *testing.T) {
	t.Parallel()
	Each(t, func(t *testing.T, db *sqlstore.DB) {
		tn, admin := newTenant(t, db, "alpha")
		other, _ := newTenant(t, db, "beta")

		t.Run("one record per operation, in the first committed change", func(t *testing.T) {
			p := steward.NewPendingAudit("StoryCreation", true)
			p.SetActor(admin)
			p.Update(func(a *steward.AuditLog) {
				a.Inputs = map[string]any{"name": "S1", "password": "hunter22", "nested": map[string]any{"api_key": "k"}}
			})
			ctx := steward.WithPendingAudit(context.Background(), p)
			s := &steward.Story{TenantID: tn.ID, Name: "S1"}
			if err := db.CreateStory(ctx, s); err != nil {
				t.Fatal(err)
			}
			// A second change in the same operation adds no record.
			if _, err := db.UpdateStory(ctx, tn.ID, s.ID, steward.StoryUpdate{Description: ptr("d")}); err != nil {
				t.Fatal(err)
			}
			logs := auditLogs(t, db, steward.AuditLogFilter{TenantID: tn.ID, OperationNames: []string{"StoryCreation"}})
			if len(logs) != 1 {
				t.Fatalf("%d records, want 1", len(logs))
			}
			a := logs[0]
			if a.UserID == nil || *a.UserID != admin.ID || a.UserEmail != admin.Email {
				t.Errorf("actor = %v %q", a.UserID, a.UserEmail)
			}
			if a.Inputs["password"] != steward.Redacted || a.Inputs["nested"].(map[string]any)["api_key"] != steward.Redacted {
				t.Errorf("secrets not redacted: %v", a.Inputs)
			}
			if a.Outputs["story_id"] != float64(s.ID) {
				t.Errorf("outputs = %v, want story_id %d", a.Outputs, s.ID)
			}
		})

		t.Run("a failed change leaves no record; the next success does", func(t *testing.T) {
			p := steward.NewPendingAudit("UserCreation", true)
			p.SetActor(admin)
			ctx := steward.WithPendingAudit(context.Background(), p)
			dup := &steward.User{TenantID: tn.ID, Email: admin.Email, IsActive: true}
			if err := db.CreateUser(ctx, dup); steward.ErrorCode(err) != steward.ECONFLICT {
				t.Fatalf("duplicate: %v", err)
			}
			if n := len(auditLogs(t, db, steward.AuditLogFilter{TenantID: tn.ID, OperationNames: []string{"UserCreation"}})); n != 0 {
				t.Fatalf("%d records after a failed change", n)
			}
			if err := db.CreateUser(ctx, &steward.User{TenantID: tn.ID, Email: "new@alpha.example", IsActive: true}); err != nil {
				t.Fatal(err)
			}
			if n := len(auditLogs(t, db, steward.AuditLogFilter{TenantID: tn.ID, OperationNames: []string{"UserCreation"}})); n != 1 {
				t.Fatalf("%d records after the change, want 1", n)
			}
		})

		t.Run("a statement that changes nothing leaves no record", func(t *testing.T) {
			p := steward.NewPendingAudit("ApiKeyRevocation", true)
			ctx := steward.WithPendingAudit(context.Background(), p)
			if err := db.RevokeAPIKey(ctx, tn.ID, admin.ID, 999999); steward.ErrorCode(err) != steward.ENOTFOUND {
				t.Fatalf("revoke missing key: %v", err)
			}
			if p.Written() {
				t.Fatal("record written for a change that did not happen")
			}
		})

		t.Run("an unarmed record is not written by changes", func(t *testing.T) {
			p := steward.NewPendingAudit("Read", false)
			ctx := steward.WithPendingAudit(context.Background(), p)
			if err := db.CreateStory(ctx, &steward.Story{TenantID: tn.ID, Name: "S2"}); err != nil {
				t.Fatal(err)
			}
			if p.Written() {
				t.Fatal("unarmed record written")
			}
		})

		t.Run("tenants never see each other's records", func(t *testing.T) {
			for _, a := range auditLogs(t, db, steward.AuditLogFilter{TenantID: other.ID}) {
				t.Errorf("tenant %d sees record %+v", other.ID, a)
			}
		})
	})
}

func ptr[T any](v T) *T { return &v }

func TestAuditLogFiltersAndPruning(t *testing.T) {
	t.Parallel()
	Each(t, func(t *testing.T, db *sqlstore.DB) {
		ctx := context.Background()
		clock := NewClock(time.Now().UTC().Truncate(time.Second))
		db.Clock = clock
		tn, admin := newTenant(t, db, "alpha")
		start := clock.Now()
		for i := range 6 {
			clock.Advance(time.Minute)
			uid := admin.ID + int64(i%2)
			op := []string{"A", "B", "C"}[i%3]
			a := &steward.AuditLog{TenantID: &tn.ID, UserID: &uid, OperationName: op,
				Inputs: map[string]any{"i": i, "token": "t"}, CreatedAt: clock.Now()}
			if err := db.CreateAuditLog(ctx, a); err != nil {
				t.Fatal(err)
			}
		}
		cases := []struct {
			name string
			f    steward.AuditLogFilter
			want []int // values of inputs.i, newest first
		}{
			{"all", steward.AuditLogFilter{}, []int{5, 4, 3, 2, 1, 0}},
			{"user", steward.AuditLogFilter{UserIDs: []int64{admin.ID}}, []int{4, 2, 0}},
			{"operations", steward.AuditLogFilter{OperationNames: []string{"A", "C"}}, []int{5, 3, 2, 0}},
			{"after", steward.AuditLogFilter{After: ptr(start.Add(4 * time.Minute))}, []int{5, 4}},
			{"before", steward.AuditLogFilter{Before: ptr(start.Add(2 * time.Minute))}, []int{0}},
			{"page 2", steward.AuditLogFilter{PageRequest: steward.PageRequest{Page: 2, PerPage: 4}}, []int{1, 0}},
		}
		for _, c := range cases {
			t.Run(c.name, func(t *testing.T) {
				c.f.TenantID = tn.ID
				logs := auditLogs(t, db, c.f)
				var got []string
				for _, a := range logs {
					if a.Inputs["token"] != steward.Redacted {
						t.Errorf("token stored: %v", a.Inputs)
					}
					got = append(got, itoa(a.Inputs["i"]))
				}
				var want []string
				for _, w := range c.want {
					want = append(want, itoa(float64(w)))
				}
				if strings.Join(got, ",") != strings.Join(want, ",") {
					t.Errorf("got %v, want %v", got, want)
				}
			})
		}
		n, err := db.PruneAuditLogs(ctx, start.Add(3*time.Minute+time.Second), 1)
		if err != nil || n != 3 {
			t.Fatalf("pruned %d, %v; want 3", n, err)
		}
		if left := auditLogs(t, db, steward.AuditLogFilter{TenantID: tn.ID}); len(left) != 3 {
			t.Fatalf("%d left, want 3", len(left))
		}
	})
}

func itoa(v any) string {
	f, _ := v.(float64)
	return fmt.Sprint(int(f))
}
