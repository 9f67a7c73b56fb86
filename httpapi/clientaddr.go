package httpapi

import (
	"context"
	"net"
	"net/http"
	"net/netip"
	"strings"
)

// clientAddrKey carries the request's client address, resolved once by the
// middleware. It sits apart from the iota block in middleware.go so keys
// added there cannot collide with it.
const clientAddrKey ctxKey = 101

// clientAddr is the address a request came from: the one place Steward
// decides it. IP access control, credential-guessing throttling, sign-in
// activity and sessions all use it.
func (s *Server) clientAddr(r *http.Request) netip.Addr {
	if a, ok := r.Context().Value(clientAddrKey).(netip.Addr); ok {
		return a
	}
	return resolveClientAddr(r, s.Config.TrustedProxies)
}

// clientIP is clientAddr as text, for records; "" when the address is unknown.
func (s *Server) clientIP(r *http.Request) string {
	if a := s.clientAddr(r); a.IsValid() {
		return a.String()
	}
	return ""
}

// withClientAddr resolves the client address once and keeps it in the
// request's context.
func (s *Server) withClientAddr(r *http.Request) *http.Request {
	a := resolveClientAddr(r, s.Config.TrustedProxies)
	return r.WithContext(context.WithValue(r.Context(), clientAddrKey, a))
}

// resolveClientAddr returns the connection's peer address, unless the peer
// is one of the trusted proxies: then X-Forwarded-For is read from right to
// left, skipping further trusted proxies, and the first address that is not
// one is the client. Each proxy appends the address it received the request
// from, so only the entries added by trusted proxies can be believed; a
// client can write anything to the left of them. An entry that does not
// parse ends the walk at the last address known good. Without trusted
// proxies the header is ignored.
func resolveClientAddr(r *http.Request, trusted []netip.Prefix) netip.Addr {
	peer := parseHostAddr(r.RemoteAddr)
	if !peer.IsValid() || !inPrefixes(trusted, peer) {
		return peer
	}
	values := r.Header.Values("X-Forwarded-For")
	client := peer
	for i := len(values) - 1; i >= 0; i-- {
		entries := strings.Split(values[i], ",")
		for j := len(entries) - 1; j >= 0; j-- {
			a := parseForwardedAddr(entries[j])
			if !a.IsValid() {
				return client
			}
			client = a
			if !inPrefixes(trusted, a) {
				return a
			}
		}
	}
	return client
}

// parseHostAddr parses a RemoteAddr ("192.0.2.7:5100", "[2001:db8::1]:5100").
func parseHostAddr(hostport string) netip.Addr {
	if ap, err := netip.ParseAddrPort(hostport); err == nil {
		return ap.Addr().Unmap().WithZone("")
	}
	host, _, err := net.SplitHostPort(hostport)
	if err != nil {
		host = hostport
	}
	a, err := netip.ParseAddr(host)
	if err != nil {
		return netip.Addr{}
	}
	return a.Unmap().WithZone("")
}

// parseForwardedAddr parses one X-Forwarded-For entry: an address, maybe
// with a port or in brackets.
func parseForwardedAddr(s string) netip.Addr {
	s = strings.TrimSpace(s)
	if a, err := netip.ParseAddr(s); err == nil {
		return a.Unmap().WithZone("")
	}
	if a := parseHostAddr(s); a.IsValid() {
		return a
	}
	if a, err := netip.ParseAddr(strings.TrimSuffix(strings.TrimPrefix(s, "["), "]")); err == nil {
		return a.Unmap().WithZone("")
	}
	return netip.Addr{}
}

// inPrefixes reports whether a is in one of the prefixes.
func inPrefixes(prefixes []netip.Prefix, a netip.Addr) bool {
	for _, p := range prefixes {
		if p.Contains(a) {
			return true
		}
	}
	return false
}
