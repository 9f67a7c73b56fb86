package httpapi_test

import (
	"context"
	"encoding/json"
	"net/http"
	"strconv"
	"time"

	"github.com/steward-dev/steward"
)

// This file holds the setup steps of the contract calls for stories,
// agents, events, webhooks and jobs. A contract call has no setup of its
// own, so a step runs as the call's Auth (before the request is sent, after
// its path is filled) and saves ids for the calls after it; the request
// itself carries the admin's bearer key.

// authAfter returns an Auth that runs setup, then authenticates as the admin.
func authAfter(setup func(e *env, s *contractState)) func(*env, *contractState, http.Header) {
	return func(e *env, s *contractState, h http.Header) {
		setup(e, s)
		h.Set("Authorization", "Bearer "+e.AdminKey)
	}
}

// authNoneWithType sends no credentials and the given Content-Type, for
// webhook bodies other than JSON.
func authNoneWithType(contentType string) func(*env, *contractState, http.Header) {
	return func(_ *env, _ *contractState, h http.Header) { h.Set("Content-Type", contentType) }
}

// savedID reads an id saved by an earlier call.
func savedID(e *env, s *contractState, name string) int64 {
	e.t.Helper()
	id, err := strconv.ParseInt(s.ids[name], 10, 64)
	if err != nil {
		e.t.Fatalf("no id saved as %q: %v", name, err)
	}
	return id
}

// saveWebhookGUID saves the guid of the Webhook agent saved as "hook", for
// its webhook URL.
func saveWebhookGUID(e *env, s *contractState) {
	e.t.Helper()
	a, err := e.DB.FindActionByID(context.Background(), e.Admin.TenantID, savedID(e, s, "hook"))
	if err != nil {
		e.t.Fatal(err)
	}
	s.ids["hook_guid"] = a.GUID
}

// saveNewestEvent saves the id of the tenant's newest event as "event".
func saveNewestEvent(e *env, s *contractState) {
	e.t.Helper()
	events, _, err := e.DB.FindEvents(context.Background(), steward.EventFilter{TenantID: e.Admin.TenantID,
		PageRequest: steward.PageRequest{Page: 1, PerPage: 1}})
	if err != nil || len(events) == 0 {
		e.t.Fatalf("no event to save (%v)", err)
	}
	s.ids["event"] = strconv.FormatInt(events[0].ID, 10)
}

// spreadJobStates does what workers would (the test server runs none): it
// leases the three oldest queued jobs, fails one for a retry in an hour,
// fails one for good, and keeps the third in progress. It saves their ids
// as "retry_job", "dead_job" and "running_job", and a job still queued as
// "queued_job".
func spreadJobStates(e *env, s *contractState) {
	e.t.Helper()
	ctx := context.Background()
	jobs, err := e.DB.FetchJobs(ctx, "contract-worker", 3, time.Hour)
	if err != nil {
		e.t.Fatal(err)
	}
	if len(jobs) != 3 {
		e.t.Fatalf("leased %d jobs, want 3: the calls before must queue at least 4", len(jobs))
	}
	failed := []steward.JobFailure{
		{ID: jobs[0].ID, RunAt: time.Now().Add(time.Hour), ErrorClass: "HTTPError", ErrorMessage: "connection refused"},
		{ID: jobs[1].ID, Dead: true, ErrorClass: "HTTPError", ErrorMessage: "connection refused"},
	}
	if err := e.DB.FinishJobs(ctx, "contract-worker", nil, failed); err != nil {
		e.t.Fatal(err)
	}
	queued, _, err := e.DB.FindJobs(ctx, steward.JobFilter{TenantID: e.Admin.TenantID, State: steward.JobQueued,
		PageRequest: steward.PageRequest{Page: 1, PerPage: 1}})
	if err != nil || len(queued) == 0 {
		e.t.Fatalf("no queued job left (%v)", err)
	}
	for name, id := range map[string]int64{"retry_job": jobs[0].ID, "dead_job": jobs[1].ID,
		"running_job": jobs[2].ID, "queued_job": queued[0].ID} {
		s.ids[name] = strconv.FormatInt(id, 10)
	}
}

// storeTemplate stores a private HTTP Request template of the tenant and
// saves its id as "template" (the template API has its own calls).
func storeTemplate(e *env, s *contractState) {
	e.t.Helper()
	t := &steward.Template{TenantID: e.Admin.TenantID, Name: "Notify on-call", AgentType: steward.ActionHTTPRequest,
		AgentOptions: json.RawMessage(`{"url":"https://example.com/notify","method":"post"}`),
		CreatedBy:    &steward.UserRef{ID: e.Admin.UserID}, UpdatedBy: &steward.UserRef{ID: e.Admin.UserID}}
	if err := e.DB.CreateTemplate(context.Background(), t); err != nil {
		e.t.Fatal(err)
	}
	s.ids["template"] = strconv.FormatInt(t.ID, 10)
}
