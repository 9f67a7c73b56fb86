package sqlstore

import (
	"sync"
	"time"
)

// snapshotTTL is how long a row read for the event path is served from
// memory. A change made through this process empties the cache at once;
// one made through another server shows here within this time, as a
// revoked API key does within the credential cache's.
const snapshotTTL = time.Second

// snapshotMax bounds a cache; when full it starts afresh.
const snapshotMax = 10_000

// snapshots caches values read from the database for snapshotTTL. The
// event path reads the same few rows (an action, a tenant's egress rules)
// for every event; a query each would cost the database a round trip
// per event. The zero value is ready.
type snapshots[K comparable, V any] struct {
	mu  sync.Mutex
	gen uint64 // moves on every invalidation
	m   map[K]snapshot[V]
}

type snapshot[V any] struct {
	v       V
	expires time.Time
}

// load returns the cached value of k, or calls read and caches its value.
// A value read while an invalidation happened is returned but not cached:
// it may predate the change.
func (c *snapshots[K, V]) load(k K, read func() (V, error)) (V, error) {
	now := time.Now()
	c.mu.Lock()
	s, ok := c.m[k]
	gen := c.gen
	c.mu.Unlock()
	if ok && now.Before(s.expires) {
		return s.v, nil
	}
	v, err := read()
	if err != nil {
		return v, err
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if gen == c.gen {
		if c.m == nil || len(c.m) >= snapshotMax {
			c.m = map[K]snapshot[V]{}
		}
		c.m[k] = snapshot[V]{v: v, expires: now.Add(snapshotTTL)}
	}
	return v, nil
}

// invalidate forgets every cached value. Changes made through this
// process call it once they committed.
func (c *snapshots[K, V]) invalidate() {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.gen++
	c.m = nil
}
