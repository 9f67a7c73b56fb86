package sqlstore

import (
	"sync"

	"github.com/steward-dev/steward"
)

// takerSlot holds the engine that new jobs are handed to
// (steward.JobHandoff): those of event batches (eventbatch.go) and of
// single-statement enqueues (job.go). The zero value is empty.
type takerSlot struct {
	mu sync.Mutex
	t  steward.JobTaker
}

// HandNewJobsTo implements steward.JobHandoff. Only a dialect that writes
// events in batches (EventBatchDialect) or leases in one statement
// (OneStatementQueue) creates jobs already leased; with another, t is
// never offered a job.
func (db *DB) HandNewJobsTo(t steward.JobTaker) (stop func()) {
	s := &db.taker
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.t != nil {
		return func() {}
	}
	s.t = t
	return func() {
		s.mu.Lock()
		defer s.mu.Unlock()
		if s.t == t {
			s.t = nil
		}
	}
}

// jobTaker returns the engine to hand new jobs to, or nil.
func (db *DB) jobTaker() steward.JobTaker {
	s := &db.taker
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.t
}
