// Package egress decides where the outbound connections Steward makes on a
// tenant's behalf may go, and enforces it when they connect.
//
// Every connection is checked against the address it is about to reach,
// after name resolution, in the dialer: DNS tricks, numeric spellings
// (2130706433, [::ffff:127.0.0.1]) and redirects all end at the same
// check. Refused unless the operator opens them: loopback, private
// (RFC 1918), link-local (169.254.169.254), carrier-grade NAT, IPv6 unique
// local and link-local, unspecified, multicast, broadcast and reserved
// ranges. Steward's own listening sockets are refused even when their range
// is opened. A tenant's egress control rules narrow what is left, never
// widen it.
package egress

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/netip"
	"strings"
	"syscall"
	"time"
)

// Config is what the operator decides.
type Config struct {
	// Allow opens ranges and hosts the default refuses, for on-premises
	// targets: CIDR ranges ("10.20.0.0/16"), single addresses, or host
	// names (every address such a host resolves to is allowed).
	Allow []string
	// Self lists Steward's own listening sockets, refused whatever Allow
	// says. An unspecified address (0.0.0.0, ::) stands for every address
	// of this machine.
	Self []netip.AddrPort
	// Lookup resolves host names; nil uses the system resolver.
	Lookup func(ctx context.Context, host string) ([]netip.Addr, error)
	// DialTimeout bounds each connection attempt (default 30s).
	DialTimeout time.Duration
}

// Policy is the instance's egress policy. It is safe for concurrent use.
type Policy struct {
	allow      []netip.Prefix
	allowHosts map[string]bool
	self       []netip.AddrPort
	local      map[netip.Addr]bool // this machine's addresses, when a listener is unspecified
	lookup     func(ctx context.Context, host string) ([]netip.Addr, error)
	timeout    time.Duration
	transports transportCache
}

// New checks cfg and returns its policy.
func New(cfg Config) (*Policy, error) {
	p := &Policy{allowHosts: map[string]bool{}, lookup: cfg.Lookup, timeout: cfg.DialTimeout}
	for _, s := range cfg.Allow {
		s = strings.TrimSpace(s)
		if s == "" {
			continue
		}
		if a, err := netip.ParseAddr(s); err == nil {
			a = a.WithZone("").Unmap()
			p.allow = append(p.allow, netip.PrefixFrom(a, a.BitLen()))
			continue
		}
		if pr, err := netip.ParsePrefix(s); err == nil {
			if pr.Addr().Is4In6() && pr.Bits() >= 96 {
				pr = netip.PrefixFrom(pr.Addr().Unmap(), pr.Bits()-96)
			}
			p.allow = append(p.allow, pr.Masked())
			continue
		}
		h := normalizeHost(s)
		if !validHost(h) {
			return nil, fmt.Errorf("egress allow entry %q is not a CIDR range, an IP address or a host name", s)
		}
		p.allowHosts[h] = true
	}
	for _, s := range cfg.Self {
		p.self = append(p.self, netip.AddrPortFrom(s.Addr().WithZone("").Unmap(), s.Port()))
		if s.Addr().IsUnspecified() && p.local == nil {
			p.local = localAddrs()
		}
	}
	if p.lookup == nil {
		p.lookup = func(ctx context.Context, host string) ([]netip.Addr, error) {
			return net.DefaultResolver.LookupNetIP(ctx, "ip", host)
		}
	}
	if p.timeout <= 0 {
		p.timeout = 30 * time.Second
	}
	return p, nil
}

// localAddrs returns this machine's interface addresses.
func localAddrs() map[netip.Addr]bool {
	out := map[netip.Addr]bool{}
	addrs, _ := net.InterfaceAddrs()
	for _, a := range addrs {
		if n, ok := a.(*net.IPNet); ok {
			if ip, ok := netip.AddrFromSlice(n.IP); ok {
				out[ip.Unmap()] = true
			}
		}
	}
	return out
}

func validHost(h string) bool {
	if h == "" || len(h) > 253 {
		return false
	}
	for _, label := range strings.Split(h, ".") {
		if label == "" || len(label) > 63 {
			return false
		}
		for _, c := range label {
			if !(c >= 'a' && c <= 'z' || c >= '0' && c <= '9' || c == '-' || c == '_') {
				return false
			}
		}
	}
	return true
}

// normalizeHost lower-cases a host name and drops a trailing dot and IPv6
// brackets.
func normalizeHost(h string) string {
	return strings.TrimSuffix(strings.ToLower(strings.Trim(strings.TrimSpace(h), "[]")), ".")
}

// RefusedError is why a connection was refused. Its message names the
// rule that refused and the address it refused.
type RefusedError struct {
	Host   string         // the host the request named
	Addr   netip.AddrPort // the address it resolved to
	Reason string         // which rule refused it, in words
	Tenant bool           // the tenant's rules refused it, not the instance's
}

// Error implements error.
func (e *RefusedError) Error() string {
	dest := e.Addr.String()
	if e.Host != "" && e.Host != e.Addr.Addr().String() {
		dest = fmt.Sprintf("%s (%s)", dest, e.Host)
	}
	return fmt.Sprintf("connection to %s refused: %s", dest, e.Reason)
}

// Check decides whether a connection to addr, made for a request naming
// host, may proceed under the instance's policy and then rules (nil: the
// tenant has none). It returns a *RefusedError when not.
func (p *Policy) Check(host string, addr netip.AddrPort, rules *Rules) error {
	host = normalizeHost(host)
	a := addr.Addr().WithZone("").Unmap()
	addr = netip.AddrPortFrom(a, addr.Port())
	if p.isSelf(a, addr.Port()) {
		return &RefusedError{Host: host, Addr: addr, Reason: "it is Steward's own listening socket, which actions may never call"}
	}
	if !p.opened(host, a) {
		if why, bad := refusedRange(a); bad {
			return &RefusedError{Host: host, Addr: addr,
				Reason: why + "; Steward refuses it unless the operator opens it with STEWARD_EGRESS_ALLOW"}
		}
	}
	return rules.check(host, addr)
}

func (p *Policy) opened(host string, a netip.Addr) bool {
	if host != "" && p.allowHosts[host] {
		return true
	}
	for _, pr := range p.allow {
		if pr.Contains(a) {
			return true
		}
	}
	return false
}

func (p *Policy) isSelf(a netip.Addr, port uint16) bool {
	for _, s := range p.self {
		if s.Port() != port {
			continue
		}
		if a == s.Addr() || a.IsUnspecified() {
			return true
		}
		if s.Addr().IsUnspecified() && (a.IsLoopback() || p.local[a]) {
			return true
		}
	}
	return false
}

// DialContext returns a dial function for an http.Transport that resolves
// the host itself, checks every address it would connect to (and checks
// again in the socket's Control hook, just before connecting), and
// connects to the first address allowed. When every address is refused it
// returns the first *RefusedError.
func (p *Policy) DialContext(rules *Rules) func(ctx context.Context, network, address string) (net.Conn, error) {
	return func(ctx context.Context, network, address string) (net.Conn, error) {
		h, portText, err := net.SplitHostPort(address)
		if err != nil {
			return nil, err
		}
		host := normalizeHost(h)
		port, err := net.LookupPort(network, portText)
		if err != nil {
			return nil, err
		}
		addrs, err := p.resolve(ctx, host)
		if err != nil {
			return nil, err
		}
		var refused, last error
		for _, a := range addrs {
			target := netip.AddrPortFrom(a, uint16(port))
			if err := p.Check(host, target, rules); err != nil {
				if refused == nil {
					refused = err
				}
				continue
			}
			d := net.Dialer{Timeout: p.timeout, KeepAlive: 30 * time.Second,
				ControlContext: func(_ context.Context, _, addr string, _ syscall.RawConn) error {
					got, err := netip.ParseAddrPort(addr)
					if err != nil {
						return &RefusedError{Host: host, Addr: target, Reason: fmt.Sprintf("the address %q could not be checked", addr)}
					}
					return p.Check(host, got, rules)
				}}
			conn, err := d.DialContext(ctx, network, target.String())
			if err == nil {
				return conn, nil
			}
			var re *RefusedError
			if errors.As(err, &re) {
				return nil, re
			}
			last = err
		}
		if last != nil {
			return nil, last
		}
		if refused != nil {
			return nil, refused
		}
		return nil, fmt.Errorf("%s: no address to connect to", host)
	}
}

// resolve returns the addresses host stands for: itself when it is an IP
// address in any spelling, else what the resolver says.
func (p *Policy) resolve(ctx context.Context, host string) ([]netip.Addr, error) {
	if a, err := netip.ParseAddr(host); err == nil {
		return []netip.Addr{a.WithZone("")}, nil
	}
	if a, ok := legacyIPv4(host); ok {
		return []netip.Addr{a}, nil
	}
	addrs, err := p.lookup(ctx, host)
	if err != nil {
		return nil, err
	}
	out := make([]netip.Addr, 0, len(addrs))
	for _, a := range addrs {
		out = append(out, a.WithZone("").Unmap())
	}
	return out, nil
}
