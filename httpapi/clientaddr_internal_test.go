package httpapi

import (
	"net/http/httptest"
	"net/netip"
	"testing"
)

func TestResolveClientAddr(t *testing.T) {
	t.Parallel()
	trusted := []netip.Prefix{netip.MustParsePrefix("10.0.0.0/8"), netip.MustParsePrefix("2001:db8::/32")}
	for _, c := range []struct {
		name    string
		remote  string
		xff     []string
		trusted []netip.Prefix
		want    string
	}{
		{"no proxies trusted: the header is ignored", "198.51.100.1:4000", []string{"203.0.113.9"}, nil, "198.51.100.1"},
		{"peer not trusted: the header is ignored", "198.51.100.1:4000", []string{"203.0.113.9"}, trusted, "198.51.100.1"},
		{"trusted peer, one client", "10.0.0.2:4000", []string{"203.0.113.9"}, trusted, "203.0.113.9"},
		{"trusted chain is skipped", "10.0.0.2:4000", []string{"203.0.113.9, 10.1.1.1, 10.2.2.2"}, trusted, "203.0.113.9"},
		{"forged entries left of the client are ignored", "10.0.0.2:4000", []string{"1.1.1.1, 203.0.113.9"}, trusted, "203.0.113.9"},
		{"several header lines read as one list", "10.0.0.2:4000", []string{"1.1.1.1", "203.0.113.9, 10.1.1.1"}, trusted, "203.0.113.9"},
		{"trusted peer without header", "10.0.0.2:4000", nil, trusted, "10.0.0.2"},
		{"only trusted proxies: the leftmost", "10.0.0.2:4000", []string{"10.3.3.3, 10.1.1.1"}, trusted, "10.3.3.3"},
		{"garbage stops at the last good address", "10.0.0.2:4000", []string{"203.0.113.9, not-an-ip, 10.1.1.1"}, trusted, "10.1.1.1"},
		{"entries with ports", "10.0.0.2:4000", []string{"203.0.113.9:5555"}, trusted, "203.0.113.9"},
		{"IPv6 peer and bracketed entry", "[2001:db8::5]:4000", []string{"[2001:db8:ffff::1]:80, [2600::7]"}, trusted, "2600::7"},
		{"IPv4-mapped peer is plain IPv4", "[::ffff:10.0.0.2]:4000", []string{"203.0.113.9"}, trusted, "203.0.113.9"},
		{"IPv4-mapped entry is plain IPv4", "10.0.0.2:4000", []string{"::ffff:203.0.113.9"}, trusted, "203.0.113.9"},
	} {
		t.Run(c.name, func(t *testing.T) {
			r := httptest.NewRequest("GET", "/", nil)
			r.RemoteAddr = c.remote
			for _, v := range c.xff {
				r.Header.Add("X-Forwarded-For", v)
			}
			if got := resolveClientAddr(r, c.trusted); got.String() != c.want {
				t.Errorf("got %s, want %s", got, c.want)
			}
		})
	}
}

func TestParseID(t *testing.T) {
	t.Parallel()
	for _, c := range []struct {
		in   string
		want int64
		ok   bool
	}{
		{"1", 1, true},
		{"42", 42, true},
		{"9223372036854775807", 9223372036854775807, true},
		{"9223372036854775808", 0, false},
		{"99999999999999999999", 0, false},
		{"0", 0, false},
		{"01", 0, false},
		{"+1", 0, false},
		{"-1", 0, false},
		{" 1", 0, false},
		{"1 ", 0, false},
		{"1e0", 0, false},
		{"0x1", 0, false},
		{"１", 0, false}, // a full-width digit
		{"", 0, false},
	} {
		if got, ok := parseID(c.in); got != c.want || ok != c.ok {
			t.Errorf("parseID(%q) = %d, %v; want %d, %v", c.in, got, ok, c.want, c.ok)
		}
	}
	for _, c := range []struct {
		in   string
		want int64
		ok   bool
	}{
		{"00000000000000000000002a", 42, true},
		{"000000000000000000000001", 1, true},
		{"0000000000000000000000FF", 0, false},
		{"+00000000000000000000001", 0, false},
		{"-00000000000000000000001", 0, false},
		{"000000000000000000000000", 0, false},
		{"00000000000000000000001", 0, false},
		{"00000000ffffffffffffffff", 0, false}, // beyond int64
		{"000000007fffffffffffffff", 9223372036854775807, true},
		{"0000000000000000000000g1", 0, false},
	} {
		if got, ok := parseTykID(c.in); got != c.want || ok != c.ok {
			t.Errorf("parseTykID(%q) = %d, %v; want %d, %v", c.in, got, ok, c.want, c.ok)
		}
	}
}
