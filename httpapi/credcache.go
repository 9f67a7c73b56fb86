package httpapi

import (
	"sync"
	"time"

	"github.com/steward-dev/steward"
)

// credentialCache remembers, for a short time, which key and user an API
// key hash belongs to, so a busy client does not cost a database lookup on
// every request. Entries are copies; callers may not share them.
//
// Staleness is bounded twice over: entries live for ttl (a key revoked or a
// user deactivated through another server stops working within ttl), and
// this server empties the cache before it answers any state-changing
// request (so a change made through this server applies to the very next
// request).
type credentialCache struct {
	ttl time.Duration
	max int

	mu      sync.RWMutex
	entries map[string]cachedCredential
}

type cachedCredential struct {
	key     steward.APIKey
	user    steward.User
	expires time.Time
}

func newCredentialCache(ttl time.Duration, max int) *credentialCache {
	return &credentialCache{ttl: ttl, max: max, entries: map[string]cachedCredential{}}
}

// get returns copies of the cached key and user for hash, if fresh.
func (c *credentialCache) get(hash []byte, now time.Time) (*steward.APIKey, *steward.User, bool) {
	if c.ttl <= 0 {
		return nil, nil, false
	}
	c.mu.RLock()
	e, ok := c.entries[string(hash)]
	c.mu.RUnlock()
	if !ok || !now.Before(e.expires) {
		return nil, nil, false
	}
	return &e.key, &e.user, true
}

// put caches copies of key and user for hash.
func (c *credentialCache) put(hash []byte, key *steward.APIKey, user *steward.User, now time.Time) {
	if c.ttl <= 0 {
		return
	}
	c.mu.Lock()
	if len(c.entries) >= c.max {
		c.entries = map[string]cachedCredential{}
	}
	c.entries[string(hash)] = cachedCredential{key: *key, user: *user, expires: now.Add(c.ttl)}
	c.mu.Unlock()
}

// purge forgets every entry.
func (c *credentialCache) purge() {
	c.mu.Lock()
	if len(c.entries) > 0 {
		c.entries = map[string]cachedCredential{}
	}
	c.mu.Unlock()
}
