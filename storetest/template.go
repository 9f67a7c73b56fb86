package storetest

import (
	"context"
	"encoding/json"
	"errors"
	"testing"
	"time"

	"github.com/steward-dev/steward"
	"github.com/steward-dev/steward/sqlstore"
)

func newTemplate(tenantID, userID int64, name, opts string) *steward.Template {
	return &steward.Template{TenantID: tenantID, Name: name, AgentType: steward.ActionHTTPRequest,
		AgentOptions: json.RawMessage(opts), CreatedBy: &steward.UserRef{ID: userID}}
}

func testTemplates(t *testing.T, open Opener) {
	t.Parallel()
	withDB(t, open, func(t *testing.T, db *sqlstore.DB) {
		ctx := context.Background()
		clock := NewClock(time.Date(2026, 1, 2, 3, 4, 5, 6000, time.UTC))
		db.Clock = clock
		a, adminA := newTenant(t, db, "alpha")
		b, adminB := newTenant(t, db, "beta")

		lookup := newTemplate(a.ID, adminA.ID, " Lookup user ", "{\n  \"url\": \"https://dir.internal/{{.email}}\",\n  \"method\": \"get\", \"n\": 1.50 }")
		lookup.Description, lookup.Vendor, lookup.Product = "Finds a user", "Acme", "Directory"

		t.Run("create keeps options as sent, minus whitespace", func(t *testing.T) {
			if err := db.CreateTemplate(ctx, lookup); err != nil {
				t.Fatal(err)
			}
			got, err := db.FindTemplateByID(ctx, a.ID, lookup.ID)
			if err != nil {
				t.Fatal(err)
			}
			if want := `{"url":"https://dir.internal/{{.email}}","method":"get","n":1.50}`; string(got.AgentOptions) != want {
				t.Errorf("options = %s, want %s", got.AgentOptions, want)
			}
			if got.Name != "Lookup user" || got.Vendor != "Acme" || got.AgentType != steward.ActionHTTPRequest {
				t.Errorf("stored %+v", got)
			}
			if got.CreatedBy == nil || got.CreatedBy.ID != adminA.ID || got.CreatedBy.Email != adminA.Email ||
				got.UpdatedBy == nil || got.UpdatedBy.ID != adminA.ID {
				t.Errorf("authors: created %+v updated %+v", got.CreatedBy, got.UpdatedBy)
			}
			if !got.CreatedAt.Equal(clock.Now()) || !got.UpdatedAt.Equal(clock.Now()) {
				t.Errorf("timestamps %v %v, want %v", got.CreatedAt, got.UpdatedAt, clock.Now())
			}
		})

		t.Run("empty options are stored as an empty object", func(t *testing.T) {
			tm := &steward.Template{TenantID: a.ID, Name: "Hook", AgentType: steward.ActionWebhook}
			if err := db.CreateTemplate(ctx, tm); err != nil {
				t.Fatal(err)
			}
			if string(tm.AgentOptions) != "{}" {
				t.Errorf("options = %s", tm.AgentOptions)
			}
			if err := db.DeleteTemplate(ctx, a.ID, tm.ID); err != nil {
				t.Fatal(err)
			}
		})

		t.Run("names are unique per tenant", func(t *testing.T) {
			err := db.CreateTemplate(ctx, newTemplate(a.ID, adminA.ID, "Lookup user", `{"url":"https://x.example"}`))
			if steward.ErrorCode(err) != steward.ECONFLICT || steward.ErrorField(err) != "name" {
				t.Errorf("duplicate name: got %v, want ECONFLICT on name", err)
			}
			if err := db.CreateTemplate(ctx, newTemplate(b.ID, adminB.ID, "Lookup user", `{"url":"https://x.example"}`)); err != nil {
				t.Errorf("same name in another tenant: %v", err)
			}
		})

		t.Run("another tenant's template is not found", func(t *testing.T) {
			name := "pwned"
			if _, err := db.FindTemplateByID(ctx, b.ID, lookup.ID); steward.ErrorCode(err) != steward.ENOTFOUND {
				t.Errorf("find: got %v, want ENOTFOUND", err)
			}
			if _, err := db.UpdateTemplate(ctx, b.ID, lookup.ID, steward.TemplateUpdate{Name: &name, UpdatedBy: adminB.ID}); steward.ErrorCode(err) != steward.ENOTFOUND {
				t.Errorf("update: got %v, want ENOTFOUND", err)
			}
			if err := db.DeleteTemplate(ctx, b.ID, lookup.ID); steward.ErrorCode(err) != steward.ENOTFOUND {
				t.Errorf("delete: got %v, want ENOTFOUND", err)
			}
			if got, err := db.FindTemplateByID(ctx, a.ID, lookup.ID); err != nil || got.Name != "Lookup user" {
				t.Errorf("template changed by another tenant: %v %v", got, err)
			}
			all, err := db.AllTemplates(ctx, b.ID)
			if err != nil || len(all) != 1 || all[0].TenantID != b.ID {
				t.Errorf("beta's templates: %v %v", all, err)
			}
		})

		t.Run("search matches every field and the options text", func(t *testing.T) {
			other := newTemplate(a.ID, adminA.ID, "Post 50% off", `{"url":"https://shop.example/sale_now"}`)
			other.Vendor, other.Product, other.Description = "Shopco", "Storefront", "Announces a sale"
			if err := db.CreateTemplate(ctx, other); err != nil {
				t.Fatal(err)
			}
			for search, want := range map[string]int64{
				"LOOKUP": lookup.ID, "finds a": lookup.ID, "acme": lookup.ID, "DIRECTORY": lookup.ID,
				"dir.internal/{{.email}}": lookup.ID, `"method":"get"`: lookup.ID,
				"50%": other.ID, "sale_now": other.ID, "shopco": other.ID, "storefront": other.ID, "announces": other.ID,
			} {
				ts, total, err := db.FindTemplates(ctx, steward.TemplateFilter{TenantID: a.ID, Search: search, PageRequest: steward.PageRequest{Page: 1, PerPage: 10}})
				if err != nil {
					t.Fatal(err)
				}
				if total != 1 || len(ts) != 1 || ts[0].ID != want {
					t.Errorf("search %q: total %d, %d templates, want only %d", search, total, len(ts), want)
				}
			}
			for _, search := range []string{"%", "_", "nothing like it"} {
				_, total, err := db.FindTemplates(ctx, steward.TemplateFilter{TenantID: b.ID, Search: search, PageRequest: steward.PageRequest{Page: 1, PerPage: 10}})
				if err != nil || total != 0 {
					t.Errorf("search %q in beta: total %d, err %v", search, total, err)
				}
			}
			ts, total, err := db.FindTemplates(ctx, steward.TemplateFilter{TenantID: a.ID, PageRequest: steward.PageRequest{Page: 2, PerPage: 1}})
			if err != nil || total != 2 || len(ts) != 1 || ts[0].ID != other.ID {
				t.Errorf("page 2 of 1: total %d, %v, %v", total, ts, err)
			}
		})

		t.Run("update changes only what it names, validated as a whole", func(t *testing.T) {
			clock.Advance(time.Minute)
			second := &steward.User{TenantID: a.ID, Email: "second@alpha.example", IsActive: true}
			if err := db.CreateUser(ctx, second); err != nil {
				t.Fatal(err)
			}
			typ := steward.ActionEmail
			var seen *steward.Template
			got, err := db.UpdateTemplate(ctx, a.ID, lookup.ID, steward.TemplateUpdate{AgentType: &typ, UpdatedBy: second.ID,
				Validate: func(t *steward.Template) error { c := *t; seen = &c; return nil }})
			if err != nil {
				t.Fatal(err)
			}
			if seen == nil || seen.AgentType != steward.ActionEmail || seen.Vendor != "Acme" || string(seen.AgentOptions) != string(lookup.AgentOptions) {
				t.Errorf("Validate saw %+v, want the changed type with the kept options", seen)
			}
			if got.AgentType != steward.ActionEmail || got.Name != "Lookup user" || got.Description != "Finds a user" {
				t.Errorf("updated %+v", got)
			}
			if got.UpdatedBy == nil || got.UpdatedBy.Email != second.Email || got.CreatedBy.ID != adminA.ID {
				t.Errorf("authors after update: created %+v updated %+v", got.CreatedBy, got.UpdatedBy)
			}
			if !got.UpdatedAt.Equal(clock.Now()) || got.CreatedAt.Equal(clock.Now()) {
				t.Errorf("timestamps after update: %v %v", got.CreatedAt, got.UpdatedAt)
			}

			refuse := errors.New("refused")
			opts := json.RawMessage(`{}`)
			if _, err := db.UpdateTemplate(ctx, a.ID, lookup.ID, steward.TemplateUpdate{AgentOptions: &opts, UpdatedBy: adminA.ID,
				Validate: func(*steward.Template) error { return refuse }}); !errors.Is(err, refuse) {
				t.Errorf("Validate's error: got %v", err)
			}
			if now, _ := db.FindTemplateByID(ctx, a.ID, lookup.ID); string(now.AgentOptions) == "{}" {
				t.Errorf("a refused update was saved")
			}

			taken := "Post 50% off"
			if _, err := db.UpdateTemplate(ctx, a.ID, lookup.ID, steward.TemplateUpdate{Name: &taken, UpdatedBy: adminA.ID}); steward.ErrorCode(err) != steward.ECONFLICT || steward.ErrorField(err) != "name" {
				t.Errorf("rename to a taken name: got %v, want ECONFLICT on name", err)
			}

			if err := db.DeleteUser(ctx, a.ID, second.ID); err != nil {
				t.Fatal(err)
			}
			if now, err := db.FindTemplateByID(ctx, a.ID, lookup.ID); err != nil || now.UpdatedBy != nil {
				t.Errorf("updater deleted: updated_by %+v, err %v", now.UpdatedBy, err)
			}
		})

		t.Run("import creates, updates and leaves unchanged, by name", func(t *testing.T) {
			exported, err := db.AllTemplates(ctx, a.ID)
			if err != nil || len(exported) != 2 {
				t.Fatalf("export alpha: %v %v", exported, err)
			}
			gamma, adminC := newTenant(t, db, "gamma")
			report, err := db.ImportTemplates(ctx, gamma.ID, adminC.ID, steward.ReplaceEntries(exported))
			if err != nil {
				t.Fatal(err)
			}
			if len(report.Created) != 2 || len(report.Updated) != 0 || len(report.Unchanged) != 0 {
				t.Fatalf("first import: %d created %d updated %d unchanged", len(report.Created), len(report.Updated), len(report.Unchanged))
			}
			for i, c := range report.Created {
				if c.TenantID != gamma.ID || c.ID == exported[i].ID || !c.SameContent(exported[i]) || c.CreatedBy.ID != adminC.ID {
					t.Errorf("imported %+v from %+v", c, exported[i])
				}
			}

			// The same document again, with whitespace and key order changed
			// in one entry's options: nothing to do.
			again := []*steward.Template{exported[0], exported[1]}
			reordered := *exported[1]
			reordered.AgentOptions = json.RawMessage(` { "url" : "https://shop.example/sale_now" } `)
			again[1] = &reordered
			report, err = db.ImportTemplates(ctx, gamma.ID, adminC.ID, steward.ReplaceEntries(again))
			if err != nil {
				t.Fatal(err)
			}
			if len(report.Created) != 0 || len(report.Updated) != 0 || len(report.Unchanged) != 2 {
				t.Errorf("second import: %d created %d updated %d unchanged", len(report.Created), len(report.Updated), len(report.Unchanged))
			}

			changed := *exported[0]
			changed.Description = "Finds a user, faster"
			report, err = db.ImportTemplates(ctx, gamma.ID, adminC.ID, steward.ReplaceEntries([]*steward.Template{&changed}))
			if err != nil {
				t.Fatal(err)
			}
			if len(report.Created) != 0 || len(report.Unchanged) != 0 || len(report.Updated) != 1 {
				t.Fatalf("changed import: %d created %d updated %d unchanged", len(report.Created), len(report.Updated), len(report.Unchanged))
			}
			if u := report.Updated[0]; u.Description != "Finds a user, faster" || u.TenantID != gamma.ID || u.UpdatedBy.ID != adminC.ID {
				t.Errorf("updated by import: %+v", u)
			}
		})

		t.Run("import is all or nothing", func(t *testing.T) {
			before, err := db.AllTemplates(ctx, b.ID)
			if err != nil {
				t.Fatal(err)
			}
			fresh := newTemplate(0, 0, "Brand new", `{"url":"https://new.example"}`)
			update := newTemplate(0, 0, "Lookup user", `{"url":"https://changed.example"}`)
			broken := newTemplate(0, 0, "  ", `{}`)
			if _, err := db.ImportTemplates(ctx, b.ID, adminB.ID, steward.ReplaceEntries([]*steward.Template{fresh, update, broken})); steward.ErrorCode(err) != steward.EINVALID {
				t.Fatalf("import with a nameless template: got %v, want EINVALID", err)
			}
			after, err := db.AllTemplates(ctx, b.ID)
			if err != nil {
				t.Fatal(err)
			}
			if len(after) != len(before) || string(after[0].AgentOptions) != string(before[0].AgentOptions) {
				t.Errorf("a failed import wrote: before %d templates, after %d", len(before), len(after))
			}
		})
	})
}
