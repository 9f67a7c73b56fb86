package httpapi_test

import (
	"context"
	"fmt"
	"net/http"
	"testing"
	"time"

	"github.com/steward-dev/steward"
)

// TestJobListOrder checks the order queue dashboards expect: retry jobs by
// next retry time, soonest first, and dead jobs by time of death, newest
// first, the id breaking ties; tenant-wide and for one action, paged.
func TestJobListOrder(t *testing.T) {
	t.Parallel()
	eachClockEnv(t, nil, func(t *testing.T, e *clockEnv) {
		ctx := context.Background()
		a := createAgent(t, e.env, e.AdminKey, map[string]any{"type": "Agents::WebhookAgent", "name": "Intake"})
		action := int64(a["id"].(float64))
		tenant := e.Admin.TenantID
		jobs := make([]steward.NewJob, 7)
		for i := range jobs {
			jobs[i] = steward.NewJob{TenantID: tenant, ActionID: action}
		}
		if err := e.DB.EnqueueJobs(ctx, jobs); err != nil {
			t.Fatal(err)
		}
		leased, err := e.DB.FetchJobs(ctx, "w", 10, time.Hour)
		if err != nil || len(leased) != 7 {
			t.Fatalf("leased %d, err %v", len(leased), err)
		}
		id := func(i int) int64 { return leased[i].ID }
		now := e.Clock.Now()
		// Retries due out of id order, two at the same time.
		retry := []steward.JobFailure{
			{ID: id(0), RunAt: now.Add(3 * time.Hour)}, {ID: id(1), RunAt: now.Add(time.Hour)},
			{ID: id(2), RunAt: now.Add(2 * time.Hour)}, {ID: id(3), RunAt: now.Add(time.Hour)},
		}
		if err := e.DB.FinishJobs(ctx, "w", nil, retry); err != nil {
			t.Fatal(err)
		}
		// Deaths a minute apart, the last two at the same time.
		if err := e.DB.FinishJobs(ctx, "w", nil, []steward.JobFailure{{ID: id(4), Dead: true}}); err != nil {
			t.Fatal(err)
		}
		e.Clock.Advance(time.Minute)
		if err := e.DB.FinishJobs(ctx, "w", nil, []steward.JobFailure{{ID: id(5), Dead: true}, {ID: id(6), Dead: true}}); err != nil {
			t.Fatal(err)
		}

		list := func(path string) []int64 {
			t.Helper()
			r := e.do("GET", path, e.AdminKey, nil)
			want(t, r, http.StatusOK)
			var ids []int64
			for _, l := range r.JSON(t) {
				if items, ok := l.([]any); ok {
					for _, j := range items {
						ids = append(ids, int64(j.(map[string]any)["id"].(float64)))
					}
				}
			}
			return ids
		}
		same := func(t *testing.T, what string, got []int64, want ...int64) {
			t.Helper()
			if fmt.Sprint(got) != fmt.Sprint(want) {
				t.Errorf("%s: %v, want %v", what, got, want)
			}
		}
		for _, q := range []string{"", fmt.Sprintf("&action_id=%d", action), fmt.Sprintf("&agent_id=%d", action)} {
			same(t, "retry_jobs"+q, list("/api/v1/admin/retry_jobs?per_page=20"+q), id(1), id(3), id(2), id(0))
			same(t, "retry_jobs page 1"+q, list("/api/v1/admin/retry_jobs?per_page=2&page=1"+q), id(1), id(3))
			same(t, "retry_jobs page 2"+q, list("/api/v1/admin/retry_jobs?per_page=2&page=2"+q), id(2), id(0))
			same(t, "dead_jobs"+q, list("/api/v1/admin/dead_jobs?per_page=20"+q), id(6), id(5), id(4))
			same(t, "dead_jobs page 1"+q, list("/api/v1/admin/dead_jobs?per_page=2&page=1"+q), id(6), id(5))
			same(t, "dead_jobs page 2"+q, list("/api/v1/admin/dead_jobs?per_page=2&page=2"+q), id(4))
		}
	})
}
