package main_test

import (
	"fmt"
	"io"
	"net/http"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// TestMetricsFamilies scrapes a running server: the runtime, process and
// build collectors, the database-backed gauges, and Steward's own series
// under their established names.
func TestMetricsFamilies(t *testing.T) {
	db := filepath.Join(t.TempDir(), "steward.db")
	key := bootstrap(t, db)
	s := startServe(t, db, 1)
	hook := call(t, s.base, key, "POST", "/api/v1/agents", map[string]any{"type": "Webhook", "name": "in",
		"options": map[string]any{"secret": "hook-secret-123"}})
	call(t, s.base, key, "POST", "/api/v1/agents", map[string]any{"type": "Event Transformation", "name": "shape",
		"source_ids": []any{hook["id"]}, "options": map[string]any{"mode": "message_only", "message": "hi"}})
	resp, err := http.Post(fmt.Sprintf("%s/webhook/%v/hook-secret-123", s.base, hook["guid"]), "application/json", strings.NewReader(`{"a":1}`))
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusCreated {
		t.Fatalf("webhook: %d", resp.StatusCode)
	}
	// The receiver's job outcome is counted under its action type.
	outcome := `steward_job_outcomes_total{action_type="Agents::EventTransformationAgent",kind="AgentReceiveJob",outcome="completed"} 1`
	var text string
	waitUntil(t, 20*time.Second, "the receiver's job outcome in /metrics", func() bool {
		resp, err := http.Get(s.base + "/metrics")
		if err != nil {
			t.Fatal(err)
		}
		body, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		text = string(body)
		return strings.Contains(text, outcome+"\n")
	})
	for _, want := range []string{
		"go_goroutines ", "go_memstats_heap_alloc_bytes ", "process_cpu_seconds_total ", "go_build_info{",
		"steward_outbox_pending 0", "steward_outbox_oldest_age_seconds 0",
		`steward_db_connections{pool="write",state="idle"}`, `steward_db_connections{pool="read",state="in_use"}`,
		`steward_jobs{state="queued"}`, "steward_webhook_events_accepted_total 1",
		"# TYPE steward_http_request_duration_seconds histogram",
	} {
		if !strings.Contains(text, want) {
			t.Errorf("/metrics lacks %q", want)
		}
	}
	if t.Failed() {
		t.Logf("/metrics:\n%s", text)
	}
}
