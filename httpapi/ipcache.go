package httpapi

import (
	"context"
	"net/netip"
	"sync"
	"time"

	"github.com/steward-dev/steward"
)

// ipRuleCache remembers each tenant's IP access control ranges for a short
// time (an empty list, for the many tenants without rules, is cached too),
// so checking them costs no database query on most requests. As with
// credentialCache, staleness is bounded by ttl for changes made through
// other servers, and a change through this server forgets the tenant's
// entry before it is answered.
type ipRuleCache struct {
	ttl time.Duration
	max int

	mu      sync.RWMutex
	entries map[int64]cachedRanges
}

type cachedRanges struct {
	ranges  []netip.Prefix
	expires time.Time
}

func newIPRuleCache(ttl time.Duration, max int) *ipRuleCache {
	return &ipRuleCache{ttl: ttl, max: max, entries: map[int64]cachedRanges{}}
}

// ranges returns the tenant's ranges, from the cache when fresh.
func (c *ipRuleCache) ranges(ctx context.Context, svc steward.IPAccessRuleService, tenantID int64, now time.Time) ([]netip.Prefix, error) {
	if c.ttl > 0 {
		c.mu.RLock()
		e, ok := c.entries[tenantID]
		c.mu.RUnlock()
		if ok && now.Before(e.expires) {
			return e.ranges, nil
		}
	}
	ranges, err := svc.TenantIPRanges(ctx, tenantID)
	if err != nil {
		return nil, err
	}
	if c.ttl > 0 {
		c.mu.Lock()
		if len(c.entries) >= c.max {
			c.entries = map[int64]cachedRanges{}
		}
		c.entries[tenantID] = cachedRanges{ranges: ranges, expires: now.Add(c.ttl)}
		c.mu.Unlock()
	}
	return ranges, nil
}

// forget drops a tenant's entry.
func (c *ipRuleCache) forget(tenantID int64) {
	c.mu.Lock()
	delete(c.entries, tenantID)
	c.mu.Unlock()
}
