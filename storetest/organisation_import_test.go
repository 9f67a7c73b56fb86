package storetest

import (
	"context"
	"encoding/json"
	"testing"

	"github.com/steward-dev/steward"
	"github.com/steward-dev/steward/sqlstore"
)

func TestImportOrganisation(t *testing.T) {
	t.Parallel()
	Each(t, func(t *testing.T, db *sqlstore.DB) {
		ctx := context.Background()
		const id = "5e9d9544a1dcd60001d0ed20"
		o := &steward.Organisation{TykID: id, OwnerName: " Tyk Demo ", Fields: map[string]json.RawMessage{"owner_slug": json.RawMessage(`"tyk-demo"`)}}
		if err := db.ImportOrganisation(ctx, o); err != nil {
			t.Fatal(err)
		}
		got, err := db.FindOrganisationByTykID(ctx, id)
		if err != nil {
			t.Fatal(err)
		}
		if got.ID != o.ID || got.TykID != id || got.OwnerName != "Tyk Demo" || string(got.Fields["owner_slug"]) != `"tyk-demo"` {
			t.Errorf("imported: %+v", got)
		}
		if byID, err := db.FindOrganisationByID(ctx, o.ID); err != nil || byID.TykID != id {
			t.Errorf("by integer id: %+v, %v", byID, err)
		}
		stories, n, err := db.FindStories(ctx, o.ID, steward.PageRequest{Page: 1, PerPage: 10})
		if err != nil || n != 1 || stories[0].Name != steward.DefaultStoryName {
			t.Errorf("default story: %v %d %v", stories, n, err)
		}

		if err := db.ImportOrganisation(ctx, &steward.Organisation{TykID: id, OwnerName: "Again"}); steward.ErrorCode(err) != steward.ECONFLICT {
			t.Errorf("same id again: got %v, want ECONFLICT", err)
		}
		if err := db.ImportOrganisation(ctx, &steward.Organisation{OwnerName: "No id"}); steward.ErrorCode(err) != steward.EINVALID {
			t.Errorf("no id: got %v, want EINVALID", err)
		}
		if _, err := db.FindOrganisationByTykID(ctx, "5e9d9544a1dcd60001d0ed21"); steward.ErrorCode(err) != steward.ENOTFOUND {
			t.Errorf("unknown id: got %v, want ENOTFOUND", err)
		}
		// Ordinary organisations have no stored Tyk id.
		plain := &steward.Organisation{OwnerName: "Plain"}
		if err := db.CreateOrganisation(ctx, plain); err != nil {
			t.Fatal(err)
		}
		if got, err := db.FindOrganisationByID(ctx, plain.ID); err != nil || got.TykID != "" {
			t.Errorf("plain organisation: %+v, %v", got, err)
		}
		if err := db.DeleteOrganisation(ctx, o.ID); err != nil {
			t.Fatal(err)
		}
		if err := db.ImportOrganisation(ctx, &steward.Organisation{TykID: id, OwnerName: "Back"}); err != nil {
			t.Errorf("import after delete: %v", err)
		}
	})
}
