package metrics_test

import (
	"strings"
	"testing"

	"github.com/steward-dev/steward/metrics"
)

func TestWriteText(t *testing.T) {
	t.Parallel()
	r := metrics.NewRegistry()
	r.Add("jobs_total", "Jobs.", 2, "outcome", "done")
	r.Add("jobs_total", "Jobs.", 3, "outcome", "done")
	r.Set("queue", "Queue size.", 7, "state", `we"ird`)
	r.Observe("dur_seconds", "Durations.", 0.003)
	r.Observe("dur_seconds", "Durations.", 100)
	var b strings.Builder
	if err := r.WriteText(&b); err != nil {
		t.Fatal(err)
	}
	out := b.String()
	for _, want := range []string{
		"# TYPE jobs_total counter\njobs_total{outcome=\"done\"} 5\n",
		"queue{state=\"we\\\"ird\"} 7\n",
		"# TYPE dur_seconds histogram\n",
		"dur_seconds_bucket{le=\"0.001\"} 0\n",
		"dur_seconds_bucket{le=\"0.005\"} 1\n",
		"dur_seconds_bucket{le=\"60\"} 1\n",
		"dur_seconds_bucket{le=\"+Inf\"} 2\n",
		"dur_seconds_sum 100.003\ndur_seconds_count 2\n",
	} {
		if !strings.Contains(out, want) {
			t.Errorf("missing %q in:\n%s", want, out)
		}
	}
}
