package sqlstore

import (
	"context"
	"sync"
)

// jobSignal is a broadcast: every waiter on the current channel wakes when
// it is closed, and a fresh channel replaces it. The zero value is ready.
type jobSignal struct {
	mu sync.Mutex
	ch chan struct{}
}

func (s *jobSignal) wait() <-chan struct{} {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.ch == nil {
		s.ch = make(chan struct{})
	}
	return s.ch
}

func (s *jobSignal) notify() {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.ch != nil {
		close(s.ch)
		s.ch = nil
	}
}

// JobsAvailable implements steward.JobQueue.
func (db *DB) JobsAvailable() <-chan struct{} { return db.jobs.wait() }

// WatchJobs wakes this process's workers when another process enqueues
// jobs, until ctx ends. With a database only one process uses (SQLite) it
// returns at once.
func (db *DB) WatchJobs(ctx context.Context) error {
	return db.Dialect.Listen(ctx, db.Write, db.jobs.notify)
}
