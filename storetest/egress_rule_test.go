package storetest

import (
	"context"
	"encoding/json"
	"reflect"
	"strings"
	"testing"

	"github.com/steward-dev/steward"
	"github.com/steward-dev/steward/sqlstore"
)

func TestEgressRules(t *testing.T) {
	t.Parallel()
	Each(t, func(t *testing.T, db *sqlstore.DB) {
		ctx := context.Background()
		a, _ := newTenant(t, db, "alpha")
		b, _ := newTenant(t, db, "beta")

		ip := &steward.EgressRule{TenantID: a.ID, IP: " 10.1.2.3/8 ", Description: "Office"}
		if err := db.CreateEgressRule(ctx, ip); err != nil {
			t.Fatal(err)
		}
		if ip.IP != "10.0.0.0/8" || !reflect.DeepEqual(ip.AllowedActionTypes, []string{"http-request"}) || ip.ID == 0 {
			t.Errorf("created %+v, want the canonical range and the default type", ip)
		}
		fqdn := &steward.EgressRule{TenantID: a.ID, FQDN: "Mail.Example.com.", Description: "Mail",
			AllowedActionTypes: []string{"send-email", "http-request", "send-email"}}
		if err := db.CreateEgressRule(ctx, fqdn); err != nil {
			t.Fatal(err)
		}
		if fqdn.FQDN != "mail.example.com" || !reflect.DeepEqual(fqdn.AllowedActionTypes, []string{"http-request", "send-email"}) {
			t.Errorf("created %+v", fqdn)
		}
		other := &steward.EgressRule{TenantID: b.ID, IP: "::1", Description: "theirs"}
		if err := db.CreateEgressRule(ctx, other); err != nil {
			t.Fatal(err)
		}

		// Tenant scoping on every read and write.
		if _, err := db.FindEgressRuleByID(ctx, a.ID, other.ID); steward.ErrorCode(err) != steward.ENOTFOUND {
			t.Errorf("another tenant's rule: %v", err)
		}
		if _, err := db.UpdateEgressRule(ctx, a.ID, other.ID, steward.EgressRuleUpdate{}); steward.ErrorCode(err) != steward.ENOTFOUND {
			t.Errorf("update another tenant's rule: %v", err)
		}
		if err := db.DeleteEgressRule(ctx, a.ID, other.ID); steward.ErrorCode(err) != steward.ENOTFOUND {
			t.Errorf("delete another tenant's rule: %v", err)
		}
		all, err := db.AllEgressRules(ctx, a.ID)
		if err != nil || len(all) != 2 || all[0].ID != ip.ID || all[1].ID != fqdn.ID {
			t.Errorf("AllEgressRules %v %v", all, err)
		}
		page, total, err := db.FindEgressRules(ctx, a.ID, steward.PageRequest{Page: 2, PerPage: 1})
		if err != nil || total != 2 || len(page) != 1 || page[0].ID != fqdn.ID {
			t.Errorf("page 2: %v total %d %v", page, total, err)
		}

		// Update: ip turns an fqdn rule into an ip rule; the result is validated.
		newIP := "2001:db8::1/32"
		got, err := db.UpdateEgressRule(ctx, a.ID, fqdn.ID, steward.EgressRuleUpdate{IP: &newIP})
		if steward.ErrorCode(err) != steward.EINVALID || steward.ErrorField(err) != "allowed_action_types" {
			t.Errorf("send-email on an ip rule: %v %v", got, err)
		}
		types := []string{"http-request"}
		got, err = db.UpdateEgressRule(ctx, a.ID, fqdn.ID, steward.EgressRuleUpdate{IP: &newIP, AllowedActionTypes: &types})
		if err != nil || got.IP != "2001:db8::/32" || got.FQDN != "" {
			t.Fatalf("update to ip: %+v %v", got, err)
		}
		// AllEgressRules, read a moment ago (and cached), sees the change.
		if all, err := db.AllEgressRules(ctx, a.ID); err != nil || len(all) != 2 || all[1].IP != "2001:db8::/32" {
			t.Errorf("AllEgressRules right after an update: %v %v", all, err)
		}
		stored, _ := db.FindEgressRuleByID(ctx, a.ID, fqdn.ID)
		if stored.IP != "2001:db8::/32" || stored.FQDN != "" || !stored.UpdatedAt.After(stored.CreatedAt) && !stored.UpdatedAt.Equal(stored.CreatedAt) {
			t.Errorf("stored %+v", stored)
		}
		if err := db.DeleteEgressRule(ctx, a.ID, fqdn.ID); err != nil {
			t.Fatal(err)
		}
		if _, err := db.FindEgressRuleByID(ctx, a.ID, fqdn.ID); steward.ErrorCode(err) != steward.ENOTFOUND {
			t.Errorf("deleted rule: %v", err)
		}
		if all, err := db.AllEgressRules(ctx, a.ID); err != nil || len(all) != 1 || all[0].ID != ip.ID {
			t.Errorf("AllEgressRules right after a delete: %v %v", all, err)
		}
		third := &steward.EgressRule{TenantID: a.ID, IP: "192.0.2.1", Description: "new"}
		if err := db.CreateEgressRule(ctx, third); err != nil {
			t.Fatal(err)
		}
		if all, err := db.AllEgressRules(ctx, a.ID); err != nil || len(all) != 2 || all[1].ID != third.ID {
			t.Errorf("AllEgressRules right after a create: %v %v", all, err)
		}
	})
}

func TestEgressRuleValidation(t *testing.T) {
	t.Parallel()
	cases := []struct {
		name  string
		rule  steward.EgressRule
		field string
	}{
		{"neither", steward.EgressRule{Description: "x"}, "ip"},
		{"both", steward.EgressRule{IP: "10.0.0.1", FQDN: "a.example.com", Description: "x"}, "ip"},
		{"bad ip", steward.EgressRule{IP: "10.0.0.256", Description: "x"}, "ip"},
		{"bad mask", steward.EgressRule{IP: "10.0.0.0/33", Description: "x"}, "ip"},
		{"zone", steward.EgressRule{IP: "fe80::1%eth0", Description: "x"}, "ip"},
		{"ip as fqdn", steward.EgressRule{FQDN: "10.0.0.1", Description: "x"}, "fqdn"},
		{"fqdn with space", steward.EgressRule{FQDN: "a b.example.com", Description: "x"}, "fqdn"},
		{"fqdn with empty label", steward.EgressRule{FQDN: "a..example.com", Description: "x"}, "fqdn"},
		{"no description", steward.EgressRule{IP: "10.0.0.1", Description: "  "}, "description"},
		{"long description", steward.EgressRule{IP: "10.0.0.1", Description: strings.Repeat("é", 256)}, "description"},
		{"no types", steward.EgressRule{IP: "10.0.0.1", Description: "x", AllowedActionTypes: []string{}}, "allowed_action_types"},
		{"unknown type", steward.EgressRule{IP: "10.0.0.1", Description: "x", AllowedActionTypes: []string{"webhook"}}, "allowed_action_types"},
		{"send-email on ip", steward.EgressRule{IP: "10.0.0.1", Description: "x", AllowedActionTypes: []string{"send-email"}}, "allowed_action_types"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			r := c.rule
			err := steward.ValidateEgressRule(&r)
			if steward.ErrorCode(err) != steward.EINVALID || steward.ErrorField(err) != c.field {
				t.Errorf("ValidateEgressRule(%+v) = %v, want EINVALID on %s", c.rule, err, c.field)
			}
		})
	}
}

// TestLinkLoopsRefused checks that links forming a loop of any length are
// refused, on create and update, naming the loop, and leave the links as
// they were.
func TestLinkLoopsRefused(t *testing.T) {
	t.Parallel()
	Each(t, func(t *testing.T, db *sqlstore.DB) {
		ctx := context.Background()
		tenant, _ := newTenant(t, db, "loops")
		stories, _, err := db.FindStories(ctx, tenant.ID, steward.PageRequest{Page: 1, PerPage: 1})
		if err != nil || len(stories) != 1 {
			t.Fatalf("tenant's first story: %v %v", stories, err)
		}
		create := func(name string, sources ...int64) *steward.Action {
			t.Helper()
			a := &steward.Action{TenantID: tenant.ID, StoryID: stories[0].ID, Type: steward.ActionSendToStory, Name: name,
				Options: map[string]any{}, SourceIDs: sources}
			if err := db.CreateAction(ctx, a); err != nil {
				t.Fatalf("create %s: %v", name, err)
			}
			return a
		}
		c1 := create("c1")
		c2 := create("c2", c1.ID)
		c3 := create("c3", c1.ID)
		c4 := create("c4", c2.ID, c3.ID)

		// c1 → {c2, c3} → c4 → c1: a loop through an update of c1's sources.
		sources := []int64{c4.ID}
		_, err = db.UpdateAction(ctx, tenant.ID, c1.ID, steward.ActionUpdate{SourceIDs: &sources})
		if steward.ErrorCode(err) != steward.EINVALID || steward.ErrorField(err) != "source_ids" ||
			!strings.Contains(steward.ErrorMessage(err), `"c1"`) || !strings.Contains(steward.ErrorMessage(err), `"c4"`) {
			t.Errorf("loop through c1's sources: %v", err)
		}
		// A 3-action loop through an update of receivers: c4 → c1.
		receivers := []int64{c1.ID}
		_, err = db.UpdateAction(ctx, tenant.ID, c4.ID, steward.ActionUpdate{ReceiverIDs: &receivers})
		if steward.ErrorCode(err) != steward.EINVALID || steward.ErrorField(err) != "receiver_ids" || !strings.Contains(steward.ErrorMessage(err), "loop") {
			t.Errorf("loop through c4's receivers: %v", err)
		}
		// On create: a new action fed by c4 that feeds c1.
		loopy := &steward.Action{TenantID: tenant.ID, StoryID: stories[0].ID, Type: steward.ActionSendToStory, Name: "c5",
			Options: map[string]any{}, SourceIDs: []int64{c4.ID}, ReceiverIDs: []int64{c1.ID}}
		if err := db.CreateAction(ctx, loopy); steward.ErrorCode(err) != steward.EINVALID {
			t.Errorf("create closing a loop: %v", err)
		}
		// Nothing changed: c1 still has no sources, no c5 exists.
		got, err := db.FindActionByID(ctx, tenant.ID, c1.ID)
		if err != nil || len(got.SourceIDs) != 0 || !reflect.DeepEqual(got.ReceiverIDs, []int64{c2.ID, c3.ID}) {
			t.Errorf("c1 after refusals: %+v %v", got, err)
		}
		_, total, _ := db.FindActions(ctx, steward.ActionFilter{TenantID: tenant.ID, PageRequest: steward.PageRequest{Page: 1, PerPage: 50}})
		if total != 4 {
			t.Errorf("%d actions, want 4", total)
		}
		// A diamond is not a loop.
		c5 := create("c5", c1.ID, c4.ID)
		if c5.ID == 0 {
			t.Error("diamond refused")
		}
	})
}

// TestEventDepth checks events keep the depth they were emitted at.
func TestEventDepth(t *testing.T) {
	t.Parallel()
	Each(t, func(t *testing.T, db *sqlstore.DB) {
		ctx := context.Background()
		tenant, _ := newTenant(t, db, "depth")
		stories, _, _ := db.FindStories(ctx, tenant.ID, steward.PageRequest{Page: 1, PerPage: 1})
		a := &steward.Action{TenantID: tenant.ID, StoryID: stories[0].ID, Type: steward.ActionWebhook, Name: "hook", Options: map[string]any{}}
		if err := db.CreateAction(ctx, a); err != nil {
			t.Fatal(err)
		}
		evs, err := db.EmitEventsAt(ctx, a, 7, []json.RawMessage{json.RawMessage(`{}`)})
		if err != nil {
			t.Fatal(err)
		}
		got, err := db.FindEventByID(ctx, tenant.ID, evs[0].ID)
		if err != nil || got.Depth != 7 {
			t.Errorf("event depth %v %v, want 7", got, err)
		}
		evs, _ = db.EmitEvents(ctx, a, []json.RawMessage{json.RawMessage(`{}`)})
		if got, _ := db.FindEventByID(ctx, tenant.ID, evs[0].ID); got.Depth != 0 {
			t.Errorf("EmitEvents depth %d, want 0", got.Depth)
		}
	})
}
