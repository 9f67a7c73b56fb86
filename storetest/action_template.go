package storetest

import (
	"context"
	"testing"

	"github.com/steward-dev/steward"
	"github.com/steward-dev/steward/sqlstore"
)

// TestActionTemplateID checks an action keeps the template it was created
// from, only from its own tenant, and loses the link (not itself) when the
// template is deleted.
func testActionTemplateID(t *testing.T, open Opener) {
	t.Parallel()
	withDB(t, open, func(t *testing.T, db *sqlstore.DB) {
		ctx := context.Background()
		a, adminA := newTenant(t, db, "alpha")
		b, adminB := newTenant(t, db, "beta")
		stories, _, err := db.FindStories(ctx, a.ID, steward.PageRequest{Page: 1, PerPage: 1})
		if err != nil || len(stories) != 1 {
			t.Fatalf("tenant's first story: %v %v", stories, err)
		}
		mine := newTemplate(a.ID, adminA.ID, "Lookup", `{"url":"https://x.example"}`)
		theirs := newTemplate(b.ID, adminB.ID, "Lookup", `{"url":"https://y.example"}`)
		for _, tm := range []*steward.Template{mine, theirs} {
			if err := db.CreateTemplate(ctx, tm); err != nil {
				t.Fatal(err)
			}
		}
		newAction := func(templateID int64) *steward.Action {
			return &steward.Action{TenantID: a.ID, StoryID: stories[0].ID, Type: steward.ActionHTTPRequest, Name: "Lookup",
				Options: map[string]any{"url": "https://x.example"}, TemplateID: templateID}
		}

		err = db.CreateAction(ctx, newAction(theirs.ID))
		if steward.ErrorCode(err) != steward.EINVALID || steward.ErrorField(err) != "template_id" {
			t.Errorf("action from another tenant's template: %v, want EINVALID on template_id", err)
		}
		act := newAction(mine.ID)
		if err := db.CreateAction(ctx, act); err != nil {
			t.Fatal(err)
		}
		got, err := db.FindActionByID(ctx, a.ID, act.ID)
		if err != nil || got.TemplateID != mine.ID {
			t.Fatalf("stored template id %v (%v), want %d", got, err, mine.ID)
		}
		if err := db.DeleteTemplate(ctx, a.ID, mine.ID); err != nil {
			t.Fatal(err)
		}
		got, err = db.FindActionByID(ctx, a.ID, act.ID)
		if err != nil || got.TemplateID != 0 {
			t.Errorf("after the template's deletion: %+v (%v), want the action without template", got, err)
		}
	})
}
