package httpapi

import (
	"context"
	"fmt"
	"math"
	"net/http"
	"net/netip"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/steward-dev/steward"
)

// Throttling credential guessing. Every failed authentication (an unknown,
// revoked or expired API key or session, a wrong admin-auth secret, a
// failed sign-in) is counted against the client address in the database,
// in buckets of a sixth of AuthFailureWindow, so every server sharing the
// database adds to the same count. An address with AuthFailureLimit
// failures within the window is banned for AuthBanDuration: every request
// it sends gets 429 with Retry-After, whatever credentials it carries.
// Bans are checked in memory on each request; each server loads the
// bans of the others every few seconds (RunAuthThrottle).

// authThrottle is the in-memory view of the bans in force.
type authThrottle struct {
	mu   sync.RWMutex
	bans map[netip.Addr]time.Time
}

func newAuthThrottle() *authThrottle {
	return &authThrottle{bans: map[netip.Addr]time.Time{}}
}

// bannedUntil returns when a's ban ends, if it is banned at now.
func (t *authThrottle) bannedUntil(a netip.Addr, now time.Time) (time.Time, bool) {
	t.mu.RLock()
	until, ok := t.bans[a]
	t.mu.RUnlock()
	return until, ok && now.Before(until)
}

// ban refuses a until a time, keeping a longer ban.
func (t *authThrottle) ban(a netip.Addr, until time.Time) {
	t.mu.Lock()
	if until.After(t.bans[a]) {
		t.bans[a] = until
	}
	t.mu.Unlock()
}

// merge adds bans read from the database and forgets those over at now.
func (t *authThrottle) merge(bans map[netip.Addr]time.Time, now time.Time) {
	t.mu.Lock()
	defer t.mu.Unlock()
	for a, until := range t.bans {
		if !now.Before(until) {
			delete(t.bans, a)
		}
	}
	for a, until := range bans {
		if until.After(t.bans[a]) {
			t.bans[a] = until
		}
	}
}

// throttling reports whether failed authentications are counted.
func (s *Server) throttling() bool {
	return s.Config.AuthFailureLimit > 0 && s.Config.AuthFailureWindow > 0 && s.AuthThrottle != nil
}

// failureBucket is the width of the buckets failures are counted in.
func (s *Server) failureBucket() time.Duration {
	return max(s.Config.AuthFailureWindow/6, time.Second)
}

// authFailed counts a failed authentication from the request's client
// address and bans the address once it reaches the limit. A database error
// is logged: it must not turn a 401 into a 500.
func (s *Server) authFailed(r *http.Request) {
	addr := s.clientAddr(r)
	if !s.throttling() || !addr.IsValid() {
		return
	}
	ctx, cancel := context.WithTimeout(context.WithoutCancel(r.Context()), 5*time.Second)
	defer cancel()
	// Counting a failure is not the request's change: its audit record
	// (a failed sign-in's, say) belongs to the request's own transaction.
	ctx = steward.WithPendingAudit(ctx, nil)
	now, width := s.Clock.Now(), s.failureBucket()
	bucket := now.Truncate(width)
	since := now.Add(-s.Config.AuthFailureWindow).Truncate(width).Add(width)
	n, err := s.AuthThrottle.RecordAuthFailure(ctx, addr.String(), bucket, since)
	if err != nil {
		s.Log.Warn("count failed authentication", "ip", addr.String(), "error", err)
		return
	}
	if n < s.Config.AuthFailureLimit {
		return
	}
	until := now.Add(s.Config.AuthBanDuration)
	s.throttle.ban(addr, until)
	if err := s.AuthThrottle.BanAddress(ctx, addr.String(), until); err != nil {
		s.Log.Warn("record address ban", "ip", addr.String(), "error", err)
	}
	s.Log.Warn("address refused after repeated failed authentications", "ip", addr.String(),
		"failures", n, "window", s.Config.AuthFailureWindow.String(), "banned_until", until)
}

// refuseBanned answers 429 with Retry-After when the request's address is
// banned, and reports whether it did. Health probes are always answered,
// so a load balancer sharing an address with a guesser keeps this server.
func (s *Server) refuseBanned(w http.ResponseWriter, r *http.Request) bool {
	if !s.throttling() || r.URL.Path == "/healthz" || r.URL.Path == "/readyz" {
		return false
	}
	addr := s.clientAddr(r)
	now := s.Clock.Now()
	until, banned := s.throttle.bannedUntil(addr, now)
	if !banned {
		return false
	}
	secs := int(math.Ceil(until.Sub(now).Seconds()))
	w.Header().Set("Retry-After", strconv.Itoa(secs))
	msg := fmt.Sprintf("too many failed authentications from %s; try again in %d seconds", addr, secs)
	if strings.HasPrefix(r.URL.Path, "/admin/") || r.URL.Path == "/admin" || strings.HasPrefix(r.URL.Path, "/api/users") {
		writeTyk(w, http.StatusTooManyRequests, tykResponse{Status: "Error", Message: msg})
	} else {
		writeProblem(w, http.StatusTooManyRequests, msg, "")
	}
	return true
}

// SyncAuthBans loads the bans in force from the database, so that an
// address banned through another server is refused here too.
func (s *Server) SyncAuthBans(ctx context.Context) error {
	if !s.throttling() {
		return nil
	}
	now := s.Clock.Now()
	stored, err := s.AuthThrottle.FindAddressBans(ctx, now)
	if err != nil {
		return err
	}
	bans := make(map[netip.Addr]time.Time, len(stored))
	for ip, until := range stored {
		if a, err := netip.ParseAddr(ip); err == nil {
			bans[a] = until
		}
	}
	s.throttle.merge(bans, now)
	return nil
}

// RunAuthThrottle loads other servers' bans every interval and prunes old
// failure counts and ended bans every minute, until ctx ends.
func (s *Server) RunAuthThrottle(ctx context.Context, interval time.Duration) {
	if !s.throttling() {
		return
	}
	syncTick := time.NewTicker(interval)
	defer syncTick.Stop()
	prune := time.NewTicker(time.Minute)
	defer prune.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-syncTick.C:
			if err := s.SyncAuthBans(ctx); err != nil && ctx.Err() == nil {
				s.Log.Warn("load address bans", "error", err)
			}
		case <-prune.C:
			now := s.Clock.Now()
			before := now.Add(-s.Config.AuthFailureWindow - s.failureBucket())
			if err := s.AuthThrottle.PruneAuthFailures(ctx, before, now); err != nil && ctx.Err() == nil {
				s.Log.Warn("prune failed authentications", "error", err)
			}
		}
	}
}

// refusedByIP is the 403 for a user whose tenant's rules do not admit addr.
func refusedByIP(addr netip.Addr) error {
	return steward.Errorf(steward.EFORBIDDEN,
		"access from %s is not allowed by this tenant's IP access control rules; ask a tenant admin to add a rule for it", addrText(addr))
}

// addrText writes an address for a message, "an unknown address" for none.
func addrText(a netip.Addr) string {
	if !a.IsValid() {
		return "an unknown address"
	}
	return a.String()
}
