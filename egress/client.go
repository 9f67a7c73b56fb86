package egress

import (
	"errors"
	"fmt"
	"net/http"
	"sync"
	"time"
)

// MaxRedirects is how many redirects a request follows; each hop's
// connection is checked like the first.
const MaxRedirects = 5

// ErrTooManyRedirects ends a request that was redirected more than
// MaxRedirects times.
var ErrTooManyRedirects = errors.New("stopped after " + fmt.Sprint(MaxRedirects) + " redirects")

// maxTransports bounds the transports kept for distinct rule sets; past it
// the cache starts over (closing idle connections).
const maxTransports = 256

// transportCache keeps one transport per distinct rule set, so pooled
// connections are reused only by requests the same rules would allow.
type transportCache struct {
	mu sync.Mutex
	m  map[string]*http.Transport
}

// Client returns an HTTP client whose every connection, including those
// of redirects (at most MaxRedirects), goes through the policy and rules.
// It ignores proxy settings from the environment: a proxy would connect
// on Steward's behalf, out of the policy's sight. timeout bounds the whole
// request.
func (p *Policy) Client(rules *Rules, timeout time.Duration) *http.Client {
	return &http.Client{
		Transport: p.transport(rules),
		Timeout:   timeout,
		CheckRedirect: func(req *http.Request, via []*http.Request) error {
			if len(via) > MaxRedirects {
				return ErrTooManyRedirects
			}
			return nil
		},
	}
}

func (p *Policy) transport(rules *Rules) *http.Transport {
	c := &p.transports
	key := rules.key()
	c.mu.Lock()
	defer c.mu.Unlock()
	if t := c.m[key]; t != nil {
		return t
	}
	if c.m == nil || len(c.m) >= maxTransports {
		for _, t := range c.m {
			t.CloseIdleConnections()
		}
		c.m = map[string]*http.Transport{}
	}
	t := &http.Transport{
		Proxy:                 nil,
		DialContext:           p.DialContext(rules),
		ForceAttemptHTTP2:     true,
		MaxIdleConns:          100,
		MaxIdleConnsPerHost:   10,
		IdleConnTimeout:       90 * time.Second,
		TLSHandshakeTimeout:   10 * time.Second,
		ExpectContinueTimeout: time.Second,
	}
	c.m[key] = t
	return t
}
