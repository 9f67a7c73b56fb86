package storetest

import (
	"context"
	"testing"

	"github.com/steward-dev/steward"
	"github.com/steward-dev/steward/sqlstore"
)

// testActionSnapshots: the event path's cached reads of an action are
// scoped to the tenant and see a change made through the same store at
// once, however recently the action was read.
func testActionSnapshots(t *testing.T, open Opener) {
	t.Parallel()
	withDB(t, open, func(t *testing.T, db *sqlstore.DB) {
		ctx := context.Background()
		a, _ := newTenant(t, db, "alpha")
		b, _ := newTenant(t, db, "beta")
		act := newAction(t, db, a.ID, "hook")
		check := func(when string, wantDisabled bool, wantName string) {
			t.Helper()
			byID, err := db.ActionSnapshot(ctx, a.ID, act.ID)
			if err != nil || byID.Disabled != wantDisabled || byID.Name != wantName || byID.GUID != act.GUID {
				t.Errorf("%s: snapshot by id %+v (%v), want disabled=%v name %q", when, byID, err, wantDisabled, wantName)
			}
			byGUID, err := db.ActionSnapshotByGUID(ctx, act.GUID)
			if err != nil || byGUID.Disabled != wantDisabled || byGUID.Name != wantName || byGUID.ID != act.ID {
				t.Errorf("%s: snapshot by GUID %+v (%v), want disabled=%v name %q", when, byGUID, err, wantDisabled, wantName)
			}
		}
		check("fresh", false, "hook")
		if _, err := db.ActionSnapshot(ctx, b.ID, act.ID); steward.ErrorCode(err) != steward.ENOTFOUND {
			t.Errorf("beta's snapshot of alpha's action: %v, want ENOTFOUND", err)
		}
		off, name := true, "renamed"
		if _, err := db.UpdateAction(ctx, a.ID, act.ID, steward.ActionUpdate{Disabled: &off, Name: &name}); err != nil {
			t.Fatal(err)
		}
		check("right after an update", true, "renamed")
		if err := db.DeleteAction(ctx, a.ID, act.ID); err != nil {
			t.Fatal(err)
		}
		if _, err := db.ActionSnapshot(ctx, a.ID, act.ID); steward.ErrorCode(err) != steward.ENOTFOUND {
			t.Errorf("snapshot right after the delete: %v, want ENOTFOUND", err)
		}
		if _, err := db.ActionSnapshotByGUID(ctx, act.GUID); steward.ErrorCode(err) != steward.ENOTFOUND {
			t.Errorf("snapshot by GUID right after the delete: %v, want ENOTFOUND", err)
		}

		// Deleting the tenant takes its cached actions with it.
		c, _ := newTenant(t, db, "gamma")
		other := newAction(t, db, c.ID, "other")
		if _, err := db.ActionSnapshot(ctx, c.ID, other.ID); err != nil {
			t.Fatal(err)
		}
		if err := db.DeleteOrganisation(ctx, c.ID); err != nil {
			t.Fatal(err)
		}
		if _, err := db.ActionSnapshotByGUID(ctx, other.GUID); steward.ErrorCode(err) != steward.ENOTFOUND {
			t.Errorf("snapshot after the organisation's delete: %v, want ENOTFOUND", err)
		}
	})
}
