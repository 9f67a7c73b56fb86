package httpapi_test

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/steward-dev/steward"
	"github.com/steward-dev/steward/action"
	"github.com/steward-dev/steward/egress"
	"github.com/steward-dev/steward/httpapi"
	"github.com/steward-dev/steward/queue"
	"golang.org/x/crypto/bcrypt"
)

// startWorkers runs a job engine over the env's database until the test
// ends. The tests' servers listen on loopback, which the default egress
// policy refuses: these workers' policy opens it.
func startWorkers(t *testing.T, e *env, maxRetries int) {
	t.Helper()
	policy, err := egress.New(egress.Config{Allow: []string{"127.0.0.0/8", "::1"}})
	if err != nil {
		t.Fatal(err)
	}
	startRunner(t, e, maxRetries, &action.Runner{Egress: policy})
}

// startRunner runs a job engine with runner (its stores set to the env's
// database) until the test ends.
func startRunner(t *testing.T, e *env, maxRetries int, runner *action.Runner) {
	t.Helper()
	cfg := queue.DefaultConfig()
	cfg.Workers, cfg.MaxRetries, cfg.BackoffScale = 2, maxRetries, 0.001
	runner.Actions, runner.Events, runner.Outbox, runner.EgressRules = e.DB, e.DB, e.DB, e.DB
	eng := queue.New(e.DB, runner.Run, cfg)
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { defer close(done); eng.Run(ctx) }()
	t.Cleanup(func() { cancel(); <-done })
}

// createAgent creates an agent and returns its JSON.
func createAgent(t *testing.T, e *env, key string, body map[string]any) map[string]any {
	t.Helper()
	r := e.do("POST", "/api/v1/agents", key, body)
	want(t, r, http.StatusCreated)
	return r.JSON(t)
}

// waitFor polls cond until it holds or 20 s pass.
func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(20 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

func TestWebhookToFailingHTTPRequestDies(t *testing.T) {
	eachEnv(t, func(t *testing.T, e *env) {
		var mu sync.Mutex
		var paths []string
		failing := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			mu.Lock()
			paths = append(paths, r.Method+" "+r.URL.Path)
			mu.Unlock()
			http.Error(w, "upstream broke", http.StatusBadGateway)
		}))
		defer failing.Close()
		startWorkers(t, e, 2)

		hook := createAgent(t, e, e.AdminKey, map[string]any{"type": "Webhook", "name": "inbound"})
		call := createAgent(t, e, e.AdminKey, map[string]any{"type": "Agents::HTTPRequestAgent", "name": "call out",
			"source_ids": []any{hook["id"]},
			"options":    map[string]any{"url": failing.URL + "/items/{{.n}}", "method": "post", "payload": map[string]any{"n": "{{.n}}"}}})
		url, _ := hook["webhook_url"].(string)
		if !strings.Contains(url, "/webhook/") {
			t.Fatalf("webhook agent has no URL: %v", hook)
		}
		path := url[strings.Index(url, "/webhook/"):]
		want(t, e.do("POST", path+"x", "", `{"n":7}`), http.StatusNotFound) // wrong secret
		r := e.do("POST", path, "", `{"n":7}`)
		want(t, r, http.StatusCreated)
		eventID := r.JSON(t)["event_id"].(float64)

		var dead map[string]any
		waitFor(t, "the job to die", func() bool {
			r := e.do("GET", "/api/v1/admin/dead_jobs", e.AdminKey, nil)
			want(t, r, http.StatusOK)
			list := r.JSON(t)["admin/dead_jobs"].([]any)
			if len(list) == 1 {
				dead = list[0].(map[string]any)
			}
			return dead != nil
		})
		agent := dead["agent"].(map[string]any)
		if agent["id"] != call["id"] || agent["name"] != "call out" || dead["action_id"] != call["id"] {
			t.Errorf("dead job's agent %v, want %v", agent, call["id"])
		}
		if dead["retry_count"] != 2.0 || dead["error_class"] != "HTTPRequest::ServerError" || dead["events"] != eventID ||
			dead["type"] != steward.JobKindReceive || dead["died_at"] == nil {
			t.Errorf("dead job %v", dead)
		}
		if _, ok := dead["last_retry"].(float64); !ok {
			t.Errorf("last_retry %v, want epoch seconds", dead["last_retry"])
		}
		mu.Lock()
		if len(paths) != 3 || paths[0] != "POST /items/7" {
			t.Errorf("upstream saw %v, want 3 POST /items/7 (1 run + 2 retries)", paths)
		}
		mu.Unlock()

		stats := e.do("GET", fmt.Sprintf("/api/v1/admin/job_stats?action_id=%v", call["id"]), e.AdminKey, nil)
		want(t, stats, http.StatusOK)
		if st := stats.JSON(t); st["dead"] != 1.0 || st["queued"] != 0.0 || st["retry"] != 0.0 {
			t.Errorf("job_stats %v", st)
		}
		// Retrying a dead job runs it once more; failing again, it dies again
		// (its retry count is kept, as Sidekiq does).
		jobPath := fmt.Sprintf("/api/v1/admin/jobs/%v", dead["id"])
		r = e.do("POST", jobPath+"/retry", e.AdminKey, nil)
		want(t, r, http.StatusOK)
		waitFor(t, "the retried job to die again", func() bool {
			mu.Lock()
			defer mu.Unlock()
			j := e.do("GET", jobPath, e.AdminKey, nil).JSON(t)
			return len(paths) == 4 && j["state"] == "dead"
		})
		r = e.do("POST", "/api/v1/admin/retry_all_dead_jobs", e.AdminKey, nil)
		want(t, r, http.StatusOK)
		if r.JSON(t)["retried"] != 1.0 {
			t.Errorf("retry_all_dead_jobs: %s", r.Body)
		}
		waitFor(t, "the job to die a third time", func() bool {
			return e.do("GET", jobPath, e.AdminKey, nil).JSON(t)["state"] == "dead"
		})
		want(t, e.do("DELETE", jobPath, e.AdminKey, nil), http.StatusNoContent)
		want(t, e.do("GET", jobPath, e.AdminKey, nil), http.StatusNotFound)
		want(t, e.do("POST", "/webhook/nope/nope", "", `{}`), http.StatusNotFound)
		r = e.do("POST", path, "", `{"n":8}`)
		want(t, r, http.StatusCreated)
		waitFor(t, "the second event's job to die", func() bool {
			return e.do("GET", "/api/v1/admin/dead_jobs", e.AdminKey, nil).JSON(t)["meta"].(map[string]any)["count"] == 1.0
		})
		want(t, e.do("DELETE", fmt.Sprintf("/api/v1/admin/agents/%v/delete_all_dead_jobs", call["id"]), e.AdminKey, nil), http.StatusNoContent)
		r = e.do("GET", "/api/v1/admin/dead_jobs", e.AdminKey, nil)
		if m := r.JSON(t)["meta"].(map[string]any); m["count"] != 0.0 {
			t.Errorf("dead jobs left after delete: %v", m)
		}
	})
}

func TestJobAdminScopesAndErrors(t *testing.T) {
	eachEnv(t, func(t *testing.T, e *env) {
		ctx := context.Background()
		other, err := httpapi.Bootstrap(ctx, services(e.DB), "Other", "boss@other.example", "", bcrypt.MinCost)
		if err != nil {
			t.Fatal(err)
		}
		mine := createAgent(t, e, e.AdminKey, map[string]any{"type": "Webhook", "name": "mine"})
		theirs := createAgent(t, e, other.APIKey, map[string]any{"type": "Webhook", "name": "theirs"})
		myID, theirID := int64(mine["id"].(float64)), int64(theirs["id"].(float64))
		var jobs []steward.NewJob
		for i := 0; i < 3; i++ {
			jobs = append(jobs, steward.NewJob{TenantID: e.Admin.TenantID, ActionID: myID}, steward.NewJob{TenantID: other.TenantID, ActionID: theirID})
		}
		if err := e.DB.EnqueueJobs(ctx, jobs); err != nil {
			t.Fatal(err)
		}
		r := e.do("GET", "/api/v1/admin/queued_jobs?per_page=2", e.AdminKey, nil)
		want(t, r, http.StatusOK)
		body := r.JSON(t)
		list, meta := body["admin/queued_jobs"].([]any), body["meta"].(map[string]any)
		if len(list) != 2 || meta["count"] != 3.0 || meta["pages"] != 2.0 || meta["next_page_number"] != 2.0 {
			t.Fatalf("queued_jobs page: %s", r.Body)
		}
		for _, path := range []string{"actions", "agents"} {
			want(t, e.do("DELETE", fmt.Sprintf("/api/v1/admin/%s/%d/delete_all_queued_jobs", path, theirID), e.AdminKey, nil), http.StatusNotFound)
			want(t, e.do("DELETE", fmt.Sprintf("/api/v1/admin/%s/999999/delete_all_retry_jobs", path), e.AdminKey, nil), http.StatusNotFound)
			want(t, e.do("POST", fmt.Sprintf("/api/v1/admin/%s/%d/retry_all_dead_jobs", path, theirID), e.AdminKey, nil), http.StatusNotFound)
		}
		want(t, e.do("POST", fmt.Sprintf("/api/v1/admin/retry_all_dead_jobs?action_id=%d", theirID), e.AdminKey, nil), http.StatusNotFound)
		want(t, e.do("GET", fmt.Sprintf("/api/v1/admin/job_stats?action_id=%d", theirID), e.AdminKey, nil), http.StatusNotFound)
		want(t, e.do("GET", "/api/v1/admin/job_stats?action_id=abc", e.AdminKey, nil), http.StatusBadRequest)
		// The per-agent counts in one read list only the caller's agents.
		r = e.do("GET", "/api/v1/admin/job_stats/actions", e.AdminKey, nil)
		want(t, r, http.StatusOK)
		body = r.JSON(t)
		perAgent := body["admin/action_job_stats"].([]any)
		if len(perAgent) != 1 || body["meta"].(map[string]any)["count"] != 1.0 {
			t.Fatalf("job_stats/actions: %s", r.Body)
		}
		if st := perAgent[0].(map[string]any); st["action_id"] != float64(myID) || st["name"] != "mine" || st["queued"] != 3.0 ||
			st["dead"] != 0.0 || st["oldest_queued_at"] == nil || st["oldest_queued_age_seconds"] == nil {
			t.Errorf("job_stats/actions entry %v", st)
		}
		want(t, e.do("GET", "/api/v1/admin/job_stats/actions?per_page=x", e.AdminKey, nil), http.StatusBadRequest)
		want(t, e.do("DELETE", "/api/v1/admin/delete_all_queued_jobs", e.AdminKey, nil), http.StatusNoContent)
		if st, _ := e.DB.JobStats(ctx, other.TenantID, 0); st.Queued != 3 {
			t.Errorf("another tenant's jobs were touched: %+v", st)
		}
		if st, _ := e.DB.JobStats(ctx, e.Admin.TenantID, 0); st.Queued != 0 {
			t.Errorf("jobs left: %+v", st)
		}
		// A non-admin may not use the job admin API.
		u := &steward.User{TenantID: e.Admin.TenantID, Email: "worker@acme.example", IsActive: true}
		if err := e.DB.CreateUser(ctx, u); err != nil {
			t.Fatal(err)
		}
		want(t, e.do("GET", "/api/v1/admin/dead_jobs", newKeyFor(t, e, u.TenantID, u.ID), nil), http.StatusForbidden)
		want(t, e.do("GET", "/api/v1/admin/dead_jobs", "", nil), http.StatusUnauthorized)
		m := e.do("GET", "/metrics", "", nil)
		want(t, m, http.StatusOK)
		e.API.Config.MetricsToken = "scrape-secret"
		want(t, e.do("GET", "/metrics", "wrong", nil), http.StatusUnauthorized)
		want(t, e.do("GET", "/metrics", "scrape-secret", nil), http.StatusOK)
		e.API.Config.MetricsToken = ""
		if !strings.Contains(string(m.Body), `steward_jobs{state="queued"} 3`) {
			t.Errorf("metrics lack the queue size:\n%s", m.Body)
		}
	})
}

func TestPostmanAgentRequests(t *testing.T) {
	eachEnv(t, func(t *testing.T, e *env) {
		k := e.AdminKey
		created := createAgent(t, e, k, map[string]any{"type": "Agents::EventTransformationAgent", "name": "Agent created from API",
			"story_id": 1, "keep_events_for": 604800, "source_ids": []any{}, "receiver_ids": []any{},
			"options": map[string]any{"mode": "extract", "matchers": []any{map[string]any{"path": "{{.text}}",
				"regexp": `\b[a-zA-Z0-9._%+-]+@[a-zA-Z0-9.-]+\.[a-zA-Z]{2,4}\b`, "to": "email_addresses"}}, "message": "This is an optional message"}})
		id := fmt.Sprint(created["id"])
		r := e.do("PUT", "/api/v1/agents/"+id, k, `{"name":"New agent name","options":{"mode":"message_only","message":"{% credential hi %}"}}`)
		want(t, r, http.StatusOK)
		if r.JSON(t)["name"] != "New agent name" {
			t.Errorf("update: %s", r.Body)
		}
		want(t, e.do("GET", "/api/v1/agents", k, nil), http.StatusOK)
		want(t, e.do("GET", "/api/v1/actions/"+id, k, nil), http.StatusOK)
		want(t, e.do("POST", "/api/v1/agents/"+id+"/run", k, ""), http.StatusOK)
		if st, _ := e.DB.JobStats(context.Background(), e.Admin.TenantID, 0); st.Queued != 1 {
			t.Errorf("run queued %d jobs", st.Queued)
		}
		want(t, e.do("GET", "/api/v1/agents/"+id+"/events", k, nil), http.StatusOK)
		want(t, e.do("DELETE", "/api/v1/agents/"+id+"/remove_events", k, nil), http.StatusOK)
		want(t, e.do("GET", "/api/v1/events?since_id=1", k, nil), http.StatusOK)
		want(t, e.do("GET", "/api/v1/events/999999", k, nil), http.StatusNotFound)
		want(t, e.do("GET", "/api/v1/stories", k, nil), http.StatusOK)
		want(t, e.do("GET", "/api/v1/stories/1", k, nil), http.StatusOK)
		ex := e.do("GET", "/api/v1/stories/1/export", k, nil)
		want(t, ex, http.StatusOK)
		if agents := ex.JSON(t)["agents"].([]any); len(agents) != 1 {
			t.Errorf("export has %d agents", len(agents))
		}
		bad := e.do("POST", "/api/v1/agents", k, `{"type":"Agents::HTTPRequestAgent","name":"x","options":{"url":"ftp://x"}}`)
		want(t, bad, http.StatusUnprocessableEntity)
		want(t, e.do("POST", "/api/v1/agents", k, `{"type":"Agents::NopeAgent","name":"x"}`), http.StatusUnprocessableEntity)
		want(t, e.do("POST", "/api/v1/agents", k, `{"type":"Webhook","name":"x","story_id":999999}`), http.StatusUnprocessableEntity)
		want(t, e.do("DELETE", "/api/v1/agents/"+id, k, nil), http.StatusNoContent)
		want(t, e.do("GET", "/api/v1/agents/"+id, k, nil), http.StatusNotFound)
	})
}
