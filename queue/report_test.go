package queue_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/steward-dev/steward"
	"github.com/steward-dev/steward/metrics"
	"github.com/steward-dev/steward/queue"
	"github.com/steward-dev/steward/sqlstore"
	"github.com/steward-dev/steward/storetest"
)

// TestOutcomesByActionType runs jobs whose handler reports a known action
// type, a type Steward does not know, and none: the outcome metric names
// the known type and counts the others as unknown.
func TestOutcomesByActionType(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *sqlstore.DB) {
		ctx, cancel := context.WithCancel(context.Background())
		defer cancel()
		reg := metrics.NewRegistry()
		cfg := queue.DefaultConfig()
		cfg.Metrics = reg
		e := queue.New(db, func(ctx context.Context, j *steward.Job) error {
			switch j.ActionID {
			case 1:
				queue.ReportActionType(ctx, steward.ActionHTTPRequest)
			case 2:
				queue.ReportActionType(ctx, "Agents::SomethingElse")
				return permanentErr{}
			case 3:
				queue.ReportActionType(ctx, steward.ActionHTTPRequest)
				return permanentErr{}
			}
			return nil // 4: no action to report
		}, cfg)
		done := make(chan error)
		go func() { done <- e.Run(ctx) }()
		if err := db.EnqueueJobs(ctx, []steward.NewJob{
			{TenantID: 1, ActionID: 1}, {TenantID: 1, ActionID: 1}, {TenantID: 1, ActionID: 2},
			{TenantID: 1, ActionID: 3}, {TenantID: 1, ActionID: 4, Kind: steward.JobKindRun},
		}); err != nil {
			t.Fatal(err)
		}
		want := []string{
			`steward_job_outcomes_total{action_type="Agents::HTTPRequestAgent",kind="AgentReceiveJob",outcome="completed"} 2`,
			`steward_job_outcomes_total{action_type="Agents::HTTPRequestAgent",kind="AgentReceiveJob",outcome="dead"} 1`,
			`steward_job_outcomes_total{action_type="unknown",kind="AgentReceiveJob",outcome="dead"} 1`,
			`steward_job_outcomes_total{action_type="unknown",kind="AgentCheckJob",outcome="completed"} 1`,
		}
		var text string
		for deadline := time.Now().Add(20 * time.Second); ; time.Sleep(10 * time.Millisecond) {
			var b strings.Builder
			if err := reg.WriteText(&b); err != nil {
				t.Fatal(err)
			}
			text = b.String()
			missing := 0
			for _, w := range want {
				if !strings.Contains(text, w+"\n") {
					missing++
				}
			}
			if missing == 0 {
				break
			}
			if time.Now().After(deadline) {
				for _, w := range want {
					if !strings.Contains(text, w+"\n") {
						t.Errorf("/metrics lacks %s", w)
					}
				}
				t.Fatalf("metrics:\n%s", text)
			}
		}
		cancel()
		if err := <-done; err != nil {
			t.Fatal(err)
		}
		if strings.Contains(text, "SomethingElse") {
			t.Errorf("an unknown action type became a label value:\n%s", text)
		}
	})
}
