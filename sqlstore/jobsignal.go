package sqlstore

import (
	"context"
	"sync"
	"time"
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

// announceCooldown is the shortest time between two announcements to other
// processes: enqueues in between share the next one.
const announceCooldown = 5 * time.Millisecond

// jobAnnouncer coalesces announcements to other processes: at most one is
// in flight, at most one waits behind it, and they are announceCooldown
// apart. The zero value is ready.
type jobAnnouncer struct {
	mu      sync.Mutex
	running bool // a goroutine is announcing
	pending bool // jobs became ready after the running announcement began
	wg      sync.WaitGroup
}

// jobsReady wakes this process's workers at once and, through the
// dialect, other processes' workers soon after. Call it after the commit
// that made jobs ready.
func (db *DB) jobsReady() {
	db.jobs.notify()
	a := &db.announcer
	a.mu.Lock()
	defer a.mu.Unlock()
	if a.running {
		a.pending = true
		return
	}
	a.running = true
	a.wg.Go(func() { db.announceLoop() })
}

// announceLoop announces until no enqueue is left unannounced.
func (db *DB) announceLoop() {
	a := &db.announcer
	for {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		// A failed announcement is not retried: other processes poll.
		_ = db.Dialect.AnnounceJobs(ctx, db.Write)
		cancel()
		time.Sleep(announceCooldown)
		a.mu.Lock()
		if !a.pending {
			a.running = false
			a.mu.Unlock()
			return
		}
		a.pending = false
		a.mu.Unlock()
	}
}
