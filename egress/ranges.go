package egress

import (
	"fmt"
	"net/netip"
	"strconv"
	"strings"
)

// blockedRange is a range Steward refuses unless the operator opens it.
type blockedRange struct {
	prefix netip.Prefix
	what   string
}

// blocked lists the ranges refused by default, most specific first so the
// reason names the narrowest range. IPv4-mapped IPv6 addresses are checked
// as the IPv4 address they carry; NAT64 and 6to4 addresses by the IPv4
// address they embed.
var blocked = func() []blockedRange {
	list := []struct{ cidr, what string }{
		{"255.255.255.255/32", "broadcast"},
		{"0.0.0.0/8", `"this network" (0.0.0.0 reaches the local host)`},
		{"10.0.0.0/8", "private (RFC 1918)"},
		{"100.64.0.0/10", "shared address space (carrier-grade NAT, RFC 6598)"},
		{"127.0.0.0/8", "loopback"},
		{"169.254.0.0/16", "link-local (where cloud metadata services such as 169.254.169.254 live)"},
		{"172.16.0.0/12", "private (RFC 1918)"},
		{"192.0.0.0/24", "reserved for IETF protocol assignments"},
		{"192.168.0.0/16", "private (RFC 1918)"},
		{"198.18.0.0/15", "reserved for benchmarking"},
		{"224.0.0.0/4", "multicast"},
		{"240.0.0.0/4", "reserved"},
		{"::/128", "unspecified (reaches the local host)"},
		{"::1/128", "loopback"},
		{"::/96", "IPv4-compatible IPv6 (deprecated)"},
		{"100::/64", "discard-only"},
		{"64:ff9b:1::/48", "local-use NAT64"},
		{"fc00::/7", "unique local (IPv6 private)"},
		{"fe80::/10", "link-local"},
		{"fec0::/10", "site-local (deprecated)"},
		{"ff00::/8", "multicast"},
	}
	out := make([]blockedRange, len(list))
	for i, b := range list {
		out[i] = blockedRange{netip.MustParsePrefix(b.cidr), b.what}
	}
	return out
}()

var (
	nat64     = netip.MustParsePrefix("64:ff9b::/96")
	sixToFour = netip.MustParsePrefix("2002::/16")
)

// refusedRange says why a is refused by default ("127.0.0.1 is in
// 127.0.0.0/8, which is loopback"), or ok false when a is public.
func refusedRange(a netip.Addr) (reason string, ok bool) {
	a = a.WithZone("").Unmap()
	for _, b := range blocked {
		if b.prefix.Contains(a) {
			return fmt.Sprintf("%s is in %s, which is %s", a, b.prefix, b.what), true
		}
	}
	if embedded, ok := embeddedIPv4(a); ok {
		if why, bad := refusedRange(embedded); bad {
			return fmt.Sprintf("%s embeds %s; %s", a, embedded, why), true
		}
	}
	return "", false
}

// embeddedIPv4 returns the IPv4 address a NAT64 (64:ff9b::/96) or 6to4
// (2002::/16) address carries.
func embeddedIPv4(a netip.Addr) (netip.Addr, bool) {
	b := a.As16()
	switch {
	case a.Is6() && nat64.Contains(a):
		return netip.AddrFrom4([4]byte{b[12], b[13], b[14], b[15]}), true
	case a.Is6() && sixToFour.Contains(a):
		return netip.AddrFrom4([4]byte{b[2], b[3], b[4], b[5]}), true
	}
	return netip.Addr{}, false
}

// legacyIPv4 reads the numeric host spellings inet_aton accepts and some
// resolvers honour: 2130706433, 0x7f.1, 0177.0.0.1, 127.1. ok is false for
// anything else, including canonical dotted quads (netip reads those).
func legacyIPv4(host string) (netip.Addr, bool) {
	parts := strings.Split(host, ".")
	if len(parts) > 4 {
		return netip.Addr{}, false
	}
	vals := make([]uint64, len(parts))
	for i, p := range parts {
		if p == "" || p[0] < '0' || p[0] > '9' {
			return netip.Addr{}, false
		}
		base, digits := 10, p
		switch {
		case strings.HasPrefix(p, "0x") || strings.HasPrefix(p, "0X"):
			base, digits = 16, p[2:]
			if digits == "" {
				digits = "0"
			}
		case len(p) > 1 && p[0] == '0':
			base, digits = 8, p[1:]
		}
		v, err := strconv.ParseUint(digits, base, 32)
		if err != nil {
			return netip.Addr{}, false
		}
		vals[i] = v
	}
	var n uint64
	for i, v := range vals[:len(vals)-1] {
		if v > 255 {
			return netip.Addr{}, false
		}
		n |= v << (8 * (3 - i))
	}
	last := vals[len(vals)-1]
	if last >= 1<<(8*(5-len(vals))) {
		return netip.Addr{}, false
	}
	n |= last
	return netip.AddrFrom4([4]byte{byte(n >> 24), byte(n >> 16), byte(n >> 8), byte(n)}), true
}
