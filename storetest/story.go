package storetest

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"testing"
	"time"

	"github.com/steward-dev/steward"
	"github.com/steward-dev/steward/sqlstore"
)

// testStories: create, find, page, update and delete stories, each tenant
// seeing only its own; deleting a story takes its actions, events and jobs.
func testStories(t *testing.T, open Opener) {
	t.Parallel()
	withDB(t, open, func(t *testing.T, db *sqlstore.DB) {
		ctx := context.Background()
		a, _ := newTenant(t, db, "alpha")
		b, _ := newTenant(t, db, "beta")
		if err := db.CreateStory(ctx, &steward.Story{TenantID: a.ID, Name: "  "}); steward.ErrorCode(err) != steward.EINVALID {
			t.Errorf("story without a name: %v, want EINVALID", err)
		}
		var made []*steward.Story
		for i := range 3 {
			s := &steward.Story{TenantID: a.ID, Name: fmt.Sprint("story ", i), Description: "d"}
			if err := db.CreateStory(ctx, s); err != nil {
				t.Fatal(err)
			}
			if s.ID == 0 || s.GUID == "" || s.CreatedAt.IsZero() {
				t.Errorf("created story %+v", s)
			}
			made = append(made, s)
		}
		page, total, err := db.FindStories(ctx, a.ID, steward.PageRequest{Page: 2, PerPage: 2})
		if err != nil || total != 4 || len(page) != 2 || page[0].ID != made[1].ID {
			t.Errorf("page 2 of alpha's stories: %d of %d (%v), want 2 of 4 (the default story first)", len(page), total, err)
		}
		if _, total, _ := db.FindStories(ctx, b.ID, steward.PageRequest{Page: 1, PerPage: 10}); total != 1 {
			t.Errorf("beta has %d stories, want its default one", total)
		}
		if _, err := db.FindStoryByID(ctx, b.ID, made[0].ID); steward.ErrorCode(err) != steward.ENOTFOUND {
			t.Errorf("beta found alpha's story: %v", err)
		}
		name := "renamed"
		if _, err := db.UpdateStory(ctx, b.ID, made[0].ID, steward.StoryUpdate{Name: &name}); steward.ErrorCode(err) != steward.ENOTFOUND {
			t.Errorf("beta renamed alpha's story: %v", err)
		}
		s, err := db.UpdateStory(ctx, a.ID, made[0].ID, steward.StoryUpdate{Name: &name})
		if err != nil || s.Name != name || s.Description != "d" {
			t.Errorf("updated story %+v (%v)", s, err)
		}
		empty := ""
		if _, err := db.UpdateStory(ctx, a.ID, made[0].ID, steward.StoryUpdate{Name: &empty}); steward.ErrorCode(err) != steward.EINVALID {
			t.Errorf("emptying the name: %v, want EINVALID", err)
		}

		// Deleting a story takes its actions, their events and jobs.
		src := &steward.Action{TenantID: a.ID, StoryID: made[0].ID, Type: steward.ActionWebhook, Name: "hook", Options: map[string]any{}}
		if err := db.CreateAction(ctx, src); err != nil {
			t.Fatal(err)
		}
		rcv := &steward.Action{TenantID: a.ID, StoryID: made[0].ID, Type: steward.ActionHTTPRequest, Name: "call",
			Options: map[string]any{"url": "https://example.com"}, SourceIDs: []int64{src.ID}}
		if err := db.CreateAction(ctx, rcv); err != nil {
			t.Fatal(err)
		}
		events, err := db.EmitEvents(ctx, src, []json.RawMessage{json.RawMessage(`{"n":1}`)})
		if err != nil {
			t.Fatal(err)
		}
		if err := db.DeleteStory(ctx, b.ID, made[0].ID); steward.ErrorCode(err) != steward.ENOTFOUND {
			t.Errorf("beta deleted alpha's story: %v", err)
		}
		if err := db.DeleteStory(ctx, a.ID, made[0].ID); err != nil {
			t.Fatal(err)
		}
		if _, err := db.FindStoryByID(ctx, a.ID, made[0].ID); steward.ErrorCode(err) != steward.ENOTFOUND {
			t.Errorf("deleted story: %v", err)
		}
		if _, err := db.FindActionByID(ctx, a.ID, rcv.ID); steward.ErrorCode(err) != steward.ENOTFOUND {
			t.Errorf("the deleted story's action: %v", err)
		}
		if _, err := db.FindEventByID(ctx, a.ID, events[0].ID); steward.ErrorCode(err) != steward.ENOTFOUND {
			t.Errorf("the deleted story's event: %v", err)
		}
		checkCounters(t, db, a.ID, rcv.ID)
		if st, _ := db.JobStats(ctx, a.ID, 0); st.Queued != 0 {
			t.Errorf("the deleted story's jobs remain: %+v", st)
		}
	})
}

// testActions: create with links, find by id and GUID, page, update and
// delete; links and stories never cross tenants.
func testActions(t *testing.T, open Opener) {
	t.Parallel()
	withDB(t, open, func(t *testing.T, db *sqlstore.DB) {
		ctx := context.Background()
		a, _ := newTenant(t, db, "alpha")
		b, _ := newTenant(t, db, "beta")
		story := defaultStory(t, db, a.ID)
		first := newAction(t, db, a.ID, "first")
		second := newAction(t, db, a.ID, "second", first.ID)
		foreign := newAction(t, db, b.ID, "foreign")

		for _, c := range []struct {
			name  string
			a     steward.Action
			field string
		}{
			{"no name", steward.Action{TenantID: a.ID, StoryID: story.ID, Type: steward.ActionWebhook}, "name"},
			{"another tenant's story", steward.Action{TenantID: a.ID, StoryID: defaultStory(t, db, b.ID).ID, Type: steward.ActionWebhook, Name: "x"}, "story_id"},
			{"another tenant's source", steward.Action{TenantID: a.ID, StoryID: story.ID, Type: steward.ActionWebhook, Name: "x", SourceIDs: []int64{foreign.ID}}, "source_ids"},
			{"another tenant's receiver", steward.Action{TenantID: a.ID, StoryID: story.ID, Type: steward.ActionWebhook, Name: "x", ReceiverIDs: []int64{foreign.ID}}, "receiver_ids"},
			{"negative keep_events_for", steward.Action{TenantID: a.ID, StoryID: story.ID, Type: steward.ActionWebhook, Name: "x", KeepEventsFor: -1}, "keep_events_for"},
		} {
			err := db.CreateAction(ctx, &c.a)
			var se *steward.Error
			if steward.ErrorCode(err) != steward.EINVALID {
				t.Errorf("%s: %v, want EINVALID", c.name, err)
			} else if errors.As(err, &se) && se.Field != c.field {
				t.Errorf("%s: field %q, want %s", c.name, se.Field, c.field)
			}
		}

		got, err := db.FindActionByID(ctx, a.ID, first.ID)
		if err != nil || !slices.Equal(got.ReceiverIDs, []int64{second.ID}) || len(got.SourceIDs) != 0 || got.Options["url"] != "https://example.com/first" {
			t.Errorf("first action %+v (%v), want second as its receiver", got, err)
		}
		byGUID, err := db.FindActionByGUID(ctx, second.GUID)
		if err != nil || byGUID.ID != second.ID || !slices.Equal(byGUID.SourceIDs, []int64{first.ID}) {
			t.Errorf("by GUID: %+v (%v)", byGUID, err)
		}
		if _, err := db.FindActionByID(ctx, b.ID, first.ID); steward.ErrorCode(err) != steward.ENOTFOUND {
			t.Errorf("beta found alpha's action: %v", err)
		}
		list, total, err := db.FindActions(ctx, steward.ActionFilter{TenantID: a.ID, PageRequest: steward.PageRequest{Page: 1, PerPage: 1}})
		if err != nil || total != 2 || len(list) != 1 || list[0].ID != first.ID {
			t.Errorf("alpha's actions: %d of %d (%v)", len(list), total, err)
		}

		name, disabled, none := "renamed", true, []int64{}
		upd, err := db.UpdateAction(ctx, a.ID, second.ID, steward.ActionUpdate{Name: &name, Disabled: &disabled, SourceIDs: &none})
		if err != nil || upd.Name != name || !upd.Disabled || len(upd.SourceIDs) != 0 {
			t.Errorf("updated action %+v (%v)", upd, err)
		}
		bad := []int64{foreign.ID}
		if _, err := db.UpdateAction(ctx, a.ID, second.ID, steward.ActionUpdate{ReceiverIDs: &bad}); steward.ErrorCode(err) != steward.EINVALID {
			t.Errorf("linking another tenant's action: %v, want EINVALID", err)
		}
		if _, err := db.UpdateAction(ctx, b.ID, second.ID, steward.ActionUpdate{Name: &name}); steward.ErrorCode(err) != steward.ENOTFOUND {
			t.Errorf("beta updated alpha's action: %v", err)
		}

		if err := db.DeleteAction(ctx, b.ID, first.ID); steward.ErrorCode(err) != steward.ENOTFOUND {
			t.Errorf("beta deleted alpha's action: %v", err)
		}
		if err := db.DeleteAction(ctx, a.ID, first.ID); err != nil {
			t.Fatal(err)
		}
		if _, err := db.FindActionByGUID(ctx, first.GUID); steward.ErrorCode(err) != steward.ENOTFOUND {
			t.Errorf("deleted action: %v", err)
		}
	})
}

// testEvents: emitting stores events and enqueues one job per enabled
// receiver per event in the same transaction; reading pages newest first
// or forward from an id; removal and retention.
func testEvents(t *testing.T, open Opener) {
	t.Parallel()
	withDB(t, open, func(t *testing.T, db *sqlstore.DB) {
		ctx := context.Background()
		clock := NewClock(time.Date(2026, 5, 6, 7, 8, 9, 0, time.UTC))
		db.Clock = clock
		a, _ := newTenant(t, db, "alpha")
		b, _ := newTenant(t, db, "beta")
		src := newAction(t, db, a.ID, "source")
		on := newAction(t, db, a.ID, "on", src.ID)
		off := newAction(t, db, a.ID, "off", src.ID)
		disabled := true
		if _, err := db.UpdateAction(ctx, a.ID, off.ID, steward.ActionUpdate{Disabled: &disabled}); err != nil {
			t.Fatal(err)
		}

		if _, err := db.EmitEvents(ctx, src, []json.RawMessage{json.RawMessage(`{"n":`)}); err == nil {
			t.Error("an invalid JSON payload was stored")
		}
		var payloads []json.RawMessage
		for i := range 5 {
			payloads = append(payloads, json.RawMessage(fmt.Sprintf(`{"n":%d}`, i)))
		}
		events, err := db.EmitEvents(ctx, src, payloads)
		if err != nil || len(events) != 5 {
			t.Fatalf("emitted %d (%v)", len(events), err)
		}
		for i, e := range events {
			if e.ID == 0 || e.TenantID != a.ID || e.ActionID != src.ID || e.StoryID != src.StoryID || string(e.Payload) != string(payloads[i]) {
				t.Errorf("event %d: %+v", i, e)
			}
		}
		jobs, total, err := db.FindJobs(ctx, steward.JobFilter{TenantID: a.ID, State: steward.JobQueued, PageRequest: steward.PageRequest{Page: 1, PerPage: 100}})
		if err != nil || total != 5 {
			t.Fatalf("%d jobs queued (%v), want one per event for the enabled receiver", total, err)
		}
		seen := map[int64]bool{}
		for _, j := range jobs {
			if j.ActionID != on.ID || j.Kind != steward.JobKindReceive {
				t.Errorf("job %+v, want a receive job of %d", j, on.ID)
			}
			seen[j.EventID] = true
		}
		if len(seen) != 5 {
			t.Errorf("jobs cover %d events, want 5", len(seen))
		}
		checkCounters(t, db, a.ID, on.ID, off.ID)
		if got, err := db.FindActionByID(ctx, a.ID, src.ID); err != nil || got.LastEventAt == nil || !got.LastEventAt.Equal(clock.Now()) {
			t.Errorf("last_event_at of the source: %+v (%v)", got, err)
		}

		newest, total, err := db.FindEvents(ctx, steward.EventFilter{TenantID: a.ID, PageRequest: steward.PageRequest{Page: 1, PerPage: 2}})
		if err != nil || total != 5 || len(newest) != 2 || newest[0].ID != events[4].ID {
			t.Errorf("newest events: %d of %d (%v)", len(newest), total, err)
		}
		forward, _, err := db.FindEvents(ctx, steward.EventFilter{TenantID: a.ID, SinceID: events[1].ID, PageRequest: steward.PageRequest{Page: 1, PerPage: 10}})
		if err != nil || len(forward) != 3 || forward[0].ID != events[2].ID {
			t.Errorf("events since %d: %d (%v), want 3 oldest first", events[1].ID, len(forward), err)
		}
		if _, total, _ := db.FindEvents(ctx, steward.EventFilter{TenantID: b.ID, PageRequest: steward.PageRequest{Page: 1, PerPage: 10}}); total != 0 {
			t.Errorf("beta sees %d events", total)
		}
		if _, err := db.FindEventByID(ctx, b.ID, events[0].ID); steward.ErrorCode(err) != steward.ENOTFOUND {
			t.Errorf("beta found alpha's event: %v", err)
		}
		if n, err := db.DeleteActionEvents(ctx, b.ID, src.ID); err != nil || n != 0 {
			t.Errorf("beta removed %d of alpha's events (%v)", n, err)
		}

		// Retention: with keep_events_for set, an emit drops older events.
		keep := int64(60)
		if _, err := db.UpdateAction(ctx, a.ID, src.ID, steward.ActionUpdate{KeepEventsFor: &keep}); err != nil {
			t.Fatal(err)
		}
		src, _ = db.FindActionByID(ctx, a.ID, src.ID)
		clock.Advance(2 * time.Minute)
		if _, err := db.EmitEvents(ctx, src, []json.RawMessage{json.RawMessage(`{"late":true}`)}); err != nil {
			t.Fatal(err)
		}
		if _, total, _ := db.FindEvents(ctx, steward.EventFilter{TenantID: a.ID, ActionID: src.ID, PageRequest: steward.PageRequest{Page: 1, PerPage: 10}}); total != 1 {
			t.Errorf("%d events kept, want only the one within keep_events_for", total)
		}
		if n, err := db.DeleteActionEvents(ctx, a.ID, src.ID); err != nil || n != 1 {
			t.Errorf("removed %d events (%v), want 1", n, err)
		}
	})
}
