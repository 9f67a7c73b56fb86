package steward

import (
	"context"
	"net/netip"
	"strings"
	"time"
	"unicode/utf8"
)

// Limits on IP access control rules.
const (
	MaxIPAccessRuleDescriptionLength = 255
	// MaxIPAccessRules is how many rules one tenant may keep; rules are
	// checked on every request, so the list stays short.
	MaxIPAccessRules = 500
)

// LoginIPNotAllowed is the sign-in failure reason recorded when the
// password was right but the tenant's IP access control rules refuse the
// address the attempt came from.
const LoginIPNotAllowed = "ip_not_allowed"

// IPAccessRule lets clients from one address or range reach a tenant. A
// tenant without rules is reachable from anywhere; once it has one, its
// users may authenticate only from addresses that match a rule
// (Tines' IP access control).
type IPAccessRule struct {
	ID       int64
	TenantID int64
	// IP is an address ("192.0.2.7", "2001:db8::1") or a CIDR range
	// ("10.0.0.0/8"), in canonical form.
	IP          string
	Description string
	CreatedAt   time.Time
	UpdatedAt   time.Time
}

// Prefix returns the range the rule admits; an address is a /32 or /128.
// A rule that does not parse (never stored by Steward) admits nothing.
func (r *IPAccessRule) Prefix() netip.Prefix {
	p, _ := ParseIPRange(r.IP)
	return p
}

// Validate checks the rule's fields and puts IP in canonical form. Errors
// are EINVALID naming the field.
func (r *IPAccessRule) Validate() error {
	p, err := ParseIPRange(r.IP)
	if err != nil {
		return err
	}
	r.IP = FormatIPRange(p)
	r.Description = strings.TrimSpace(r.Description)
	if utf8.RuneCountInString(r.Description) > MaxIPAccessRuleDescriptionLength {
		return FieldErrorf("description", "description must be at most %d characters", MaxIPAccessRuleDescriptionLength)
	}
	return nil
}

// ParseIPRange parses the ip field of a rule: an IPv4 or IPv6 address or a
// CIDR range without host bits. IPv4-mapped IPv6 forms and zones are
// refused, since client addresses are compared in their plain form.
func ParseIPRange(s string) (netip.Prefix, error) {
	s = strings.TrimSpace(s)
	if s == "" {
		return netip.Prefix{}, FieldErrorf("ip", "ip is required: an address such as 192.0.2.7 or a CIDR range such as 10.0.0.0/8")
	}
	var p netip.Prefix
	if strings.Contains(s, "/") {
		var err error
		if p, err = netip.ParsePrefix(s); err != nil {
			return p, FieldErrorf("ip", "ip %q is not a CIDR range such as 10.0.0.0/8 or 2001:db8::/32", s)
		}
		if p.Masked() != p {
			return p, FieldErrorf("ip", "ip %q has bits set after the /%d mask; did you mean %s?", s, p.Bits(), p.Masked())
		}
	} else {
		a, err := netip.ParseAddr(s)
		if err != nil {
			return p, FieldErrorf("ip", "ip %q is not an IP address such as 192.0.2.7 or 2001:db8::1, nor a CIDR range", s)
		}
		if a.Zone() != "" {
			return p, FieldErrorf("ip", "ip %q has a zone; give the address without %%%s", s, a.Zone())
		}
		p = netip.PrefixFrom(a, a.BitLen())
	}
	if p.Addr().Is4In6() {
		return p, FieldErrorf("ip", "ip %q is an IPv4-mapped IPv6 address; write the IPv4 form (%s)", s, p.Addr().Unmap())
	}
	return p, nil
}

// FormatIPRange writes a range as a rule stores it: a bare address for a
// single host, CIDR notation otherwise.
func FormatIPRange(p netip.Prefix) string {
	if p.IsSingleIP() {
		return p.Addr().String()
	}
	return p.String()
}

// IPAllowed reports whether rules admit addr: true when there are no rules
// (access control is off) or when one of them contains addr.
func IPAllowed(rules []netip.Prefix, addr netip.Addr) bool {
	if len(rules) == 0 {
		return true
	}
	addr = addr.Unmap()
	for _, p := range rules {
		if p.Contains(addr) {
			return true
		}
	}
	return false
}

// IPAccessRuleFilter selects a page of a tenant's rules, optionally only
// those that contain MatchingIP.
type IPAccessRuleFilter struct {
	TenantID   int64
	MatchingIP netip.Addr // the zero Addr selects every rule
	PageRequest
}

// IPAccessRuleUpdate holds the fields of a rule to change; nil keeps one.
type IPAccessRuleUpdate struct {
	IP          *string
	Description *string
}

// IPAccessRuleService stores tenants' IP access control rules. Every
// change takes guard, the address of the admin making it: a change after
// which the tenant has rules and none of them contains guard would lock
// that admin out, and is refused with EINVALID (checked in the same
// transaction as the change).
type IPAccessRuleService interface {
	// FindIPAccessRules returns one page of a tenant's rules, oldest first,
	// and the total that match the filter.
	FindIPAccessRules(ctx context.Context, f IPAccessRuleFilter) ([]*IPAccessRule, int, error)
	// FindIPAccessRuleByID returns one rule, or ENOTFOUND.
	FindIPAccessRuleByID(ctx context.Context, tenantID, id int64) (*IPAccessRule, error)
	// CreateIPAccessRule validates and inserts r. EINVALID for a bad field,
	// too many rules, or a lock-out.
	CreateIPAccessRule(ctx context.Context, r *IPAccessRule, guard netip.Addr) error
	// UpdateIPAccessRule changes the fields set in upd and returns the rule.
	// ENOTFOUND, or EINVALID for a bad field or a lock-out.
	UpdateIPAccessRule(ctx context.Context, tenantID, id int64, upd IPAccessRuleUpdate, guard netip.Addr) (*IPAccessRule, error)
	// DeleteIPAccessRule deletes a rule. ENOTFOUND, or EINVALID for a lock-out.
	DeleteIPAccessRule(ctx context.Context, tenantID, id int64, guard netip.Addr) error
	// TenantIPRanges returns every range a tenant's rules admit (none: the
	// tenant is open), for the check made on each request.
	TenantIPRanges(ctx context.Context, tenantID int64) ([]netip.Prefix, error)
}

// AuthThrottleService counts failed authentications per client address,
// so that one address guessing credentials is refused for a while. Counts
// live in the database, so every server sharing it sees the same totals.
type AuthThrottleService interface {
	// RecordAuthFailure adds one failure by addr to the bucket starting at
	// bucket and returns addr's failures in buckets starting at or after
	// since, this one included.
	RecordAuthFailure(ctx context.Context, addr string, bucket, since time.Time) (int, error)
	// BanAddress refuses addr until a time; a ban already lasting longer is kept.
	BanAddress(ctx context.Context, addr string, until time.Time) error
	// FindAddressBans returns the bans in force at now: address → end.
	FindAddressBans(ctx context.Context, now time.Time) (map[string]time.Time, error)
	// PruneAuthFailures deletes buckets that started before a time and bans
	// that ended before now.
	PruneAuthFailures(ctx context.Context, before, now time.Time) error
}
