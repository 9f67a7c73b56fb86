package storetest

import (
	"context"
	"sync"
	"testing"
	"time"

	"github.com/steward-dev/steward"
	"github.com/steward-dev/steward/sqlstore"
)

func testFailedLoginCounting(t *testing.T, open Opener) {
	t.Parallel()
	withDB(t, open, func(t *testing.T, db *sqlstore.DB) {
		ctx := context.Background()
		clock := NewClock(time.Date(2026, 5, 1, 8, 0, 0, 0, time.UTC))
		db.Clock = clock
		tn, admin := newTenant(t, db, "alpha")
		record := func(reason string) {
			t.Helper()
			clock.Advance(time.Second)
			a := &steward.LoginActivity{TenantID: &tn.ID, UserID: &admin.ID, Success: reason == "", FailureReason: reason, CreatedAt: clock.Now()}
			if err := db.RecordLoginActivity(ctx, a); err != nil {
				t.Fatal(err)
			}
		}
		count := func() int {
			t.Helper()
			n, err := db.CountFailedLogins(ctx, admin.ID, clock.Now().Add(-time.Hour))
			if err != nil {
				t.Fatal(err)
			}
			return n
		}
		record(steward.LoginWrongPassword)
		record(steward.LoginWrongPassword)
		record(steward.LoginLocked) // refused while locked: not a guess
		if n := count(); n != 2 {
			t.Fatalf("count = %d, want 2 (only wrong passwords)", n)
		}
		if err := db.LockUser(ctx, admin.ID, clock.Now().Add(time.Minute)); err != nil {
			t.Fatal(err)
		}
		u, _ := db.FindUserByID(ctx, tn.ID, admin.ID)
		if !u.Locked(clock.Now()) {
			t.Fatal("LockUser did not lock")
		}
		if n := count(); n != 0 {
			t.Errorf("after a lock: %d failures still count", n)
		}
		record(steward.LoginWrongPassword)
		if err := db.ResetFailedLogins(ctx, admin.ID); err != nil {
			t.Fatal(err)
		}
		if n := count(); n != 0 {
			t.Errorf("after a reset: %d", n)
		}
		record(steward.LoginWrongPassword)
		u, err := db.UpdateUser(ctx, tn.ID, admin.ID, steward.UserUpdate{Unlock: true})
		if err != nil || u.LockedUntil != nil {
			t.Fatalf("unlock: %v %v", u, err)
		}
		if n := count(); n != 0 {
			t.Errorf("after an admin unlock: %d", n)
		}
		record(steward.LoginWrongPassword)
		if n := count(); n != 1 {
			t.Errorf("a new failure: %d", n)
		}
		clock.Advance(2 * time.Hour)
		if n := count(); n != 0 {
			t.Errorf("outside the window: %d", n)
		}
	})
}

func testLoginActivityPruning(t *testing.T, open Opener) {
	t.Parallel()
	withDB(t, open, func(t *testing.T, db *sqlstore.DB) {
		ctx := context.Background()
		tn, admin := newTenant(t, db, "alpha")
		start := time.Date(2026, 5, 1, 8, 0, 0, 0, time.UTC)
		for i := range 4 {
			a := &steward.LoginActivity{TenantID: &tn.ID, UserID: &admin.ID, Success: true, CreatedAt: start.Add(time.Duration(i) * 24 * time.Hour)}
			if err := db.RecordLoginActivity(ctx, a); err != nil {
				t.Fatal(err)
			}
		}
		n, err := db.PruneLoginActivities(ctx, start.Add(36*time.Hour))
		if err != nil || n != 2 {
			t.Fatalf("pruned %d, %v", n, err)
		}
		left, total, err := db.FindLoginActivities(ctx, steward.LoginActivityFilter{TenantID: tn.ID, UserID: admin.ID, PageRequest: steward.PageRequest{Page: 1, PerPage: 10}})
		if err != nil || total != 2 || !left[1].CreatedAt.Equal(start.Add(48*time.Hour)) {
			t.Errorf("left %d: %v %v", total, left, err)
		}
	})
}

func testMailClaims(t *testing.T, open Opener) {
	t.Parallel()
	withDB(t, open, func(t *testing.T, db *sqlstore.DB) {
		ctx := context.Background()
		clock := NewClock(time.Date(2026, 5, 1, 8, 0, 0, 0, time.UTC))
		db.Clock = clock
		for range 10 {
			if err := db.EnqueueMail(ctx, &steward.MailMessage{To: "a@example.com", Subject: "s", Body: "b"}); err != nil {
				t.Fatal(err)
			}
		}
		// Two dispatchers race; every message goes to exactly one.
		var mu sync.Mutex
		seen := map[int64]int{}
		var wg sync.WaitGroup
		for range 2 {
			wg.Go(func() {
				msgs, err := db.ClaimDueMail(ctx, clock.Now(), time.Minute, 10)
				if err != nil {
					t.Error(err)
					return
				}
				mu.Lock()
				for _, m := range msgs {
					seen[m.ID]++
				}
				mu.Unlock()
			})
		}
		wg.Wait()
		if len(seen) != 10 {
			t.Errorf("%d of 10 messages claimed", len(seen))
		}
		for id, n := range seen {
			if n != 1 {
				t.Errorf("message %d claimed %d times", id, n)
			}
		}
		if again, _ := db.ClaimDueMail(ctx, clock.Now(), time.Minute, 10); len(again) != 0 {
			t.Errorf("claimed messages were due again at once: %d", len(again))
		}
		clock.Advance(time.Minute)
		due, _ := db.ClaimDueMail(ctx, clock.Now(), time.Minute, 10)
		if len(due) != 10 {
			t.Fatalf("after the lease: %d due", len(due))
		}
		if err := db.MarkMailSent(ctx, due[0].ID, clock.Now()); err != nil {
			t.Fatal(err)
		}
		n, err := db.RescheduleUnsentMail(ctx, clock.Now())
		if err != nil || n != 9 {
			t.Errorf("rescheduled %d, %v", n, err)
		}
		if due, _ := db.FindDueMail(ctx, clock.Now(), 100); len(due) != 9 {
			t.Errorf("due after rescheduling: %d", len(due))
		}
	})
}
