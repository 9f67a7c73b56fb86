package queue_test

import (
	"context"
	"os"
	"strconv"
	"sync/atomic"
	"testing"
	"time"

	"github.com/steward-dev/steward"
	"github.com/steward-dev/steward/queue"
	"github.com/steward-dev/steward/sqlstore"
	"github.com/steward-dev/steward/storetest"
)

func TestTmpThroughput(t *testing.T) {
	n, _ := strconv.Atoi(os.Getenv("TMPN"))
	if n == 0 {
		t.Skip()
	}
	w, _ := strconv.Atoi(os.Getenv("TMPW"))
	storetest.Each(t, func(t *testing.T, db *sqlstore.DB) {
		ctx, cancel := context.WithCancel(context.Background())
		defer cancel()
		jobs := make([]steward.NewJob, 1000)
		for i := range jobs {
			jobs[i] = steward.NewJob{TenantID: 1, ActionID: int64(i%10 + 1)}
		}
		st := time.Now()
		for i := 0; i < n/1000; i++ {
			if err := db.EnqueueJobs(ctx, jobs); err != nil {
				t.Fatal(err)
			}
		}
		t.Logf("insert %.0f/s", float64(n)/time.Since(st).Seconds())
		var ran atomic.Int64
		cfg := queue.DefaultConfig()
		cfg.Workers = w
		e := queue.New(db, func(ctx context.Context, j *steward.Job) error { ran.Add(1); return nil }, cfg)
		start := time.Now()
		done := make(chan error)
		go func() { done <- e.Run(ctx) }()
		for {
			s, _ := db.JobStats(ctx, 1, 0)
			if s.Queued+s.InProgress == 0 {
				break
			}
			time.Sleep(2 * time.Millisecond)
		}
		el := time.Since(start)
		cancel()
		<-done
		t.Logf("work %d in %v: %.0f jobs/s", n, el, float64(n)/el.Seconds())
	})
}
