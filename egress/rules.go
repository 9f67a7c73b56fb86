package egress

import (
	"fmt"
	"net/netip"
	"slices"
	"strings"

	"github.com/steward-dev/steward"
)

// Rules is a tenant's allowlist for one action type, built from its egress
// control rules. A nil *Rules allows everything the instance allows.
type Rules struct {
	actionType string
	prefixes   []netip.Prefix
	hosts      map[string]bool
	count      int
}

// TenantRules returns the tenant's rules that apply to actionType
// (steward.EgressHTTPRequest or steward.EgressSendEmail), or nil when none
// do: a tenant without rules for a type is not restricted.
func TenantRules(rules []*steward.EgressRule, actionType string) *Rules {
	r := &Rules{actionType: actionType, hosts: map[string]bool{}}
	for _, rule := range rules {
		if !rule.Allows(actionType) {
			continue
		}
		r.count++
		if p, ok := rule.Prefix(); ok {
			r.prefixes = append(r.prefixes, netip.PrefixFrom(p.Addr().Unmap(), p.Bits()-unmapBits(p)).Masked())
		} else if rule.FQDN != "" {
			r.hosts[normalizeHost(rule.FQDN)] = true
		}
	}
	if r.count == 0 {
		return nil
	}
	return r
}

func unmapBits(p netip.Prefix) int {
	if p.Addr().Is4In6() && p.Bits() >= 96 {
		return 96
	}
	return 0
}

// AllowsHost reports whether an fqdn rule names host (for Send Email, the
// recipient's domain). A nil *Rules allows every host.
func (r *Rules) AllowsHost(host string) bool {
	return r == nil || r.hosts[normalizeHost(host)]
}

// Len is how many rules apply.
func (r *Rules) Len() int {
	if r == nil {
		return 0
	}
	return r.count
}

// check allows addr, reached for a request naming host, when an fqdn rule
// names host or an ip rule contains addr.
func (r *Rules) check(host string, addr netip.AddrPort) error {
	if r == nil || r.hosts[host] {
		return nil
	}
	for _, p := range r.prefixes {
		if p.Contains(addr.Addr()) {
			return nil
		}
	}
	what := fmt.Sprintf("address %s matches none", addr.Addr())
	if host != "" && host != addr.Addr().String() {
		what = fmt.Sprintf("neither host %s nor address %s matches any", host, addr.Addr())
	}
	return &RefusedError{Host: host, Addr: addr, Tenant: true,
		Reason: fmt.Sprintf("%s of the tenant's %d action egress control rules for %s", what, r.count, r.actionType)}
}

// key identifies what the rules allow, so that connections opened under
// one set of rules are reused only under the same set.
func (r *Rules) key() string {
	if r == nil {
		return ""
	}
	parts := make([]string, 0, len(r.prefixes)+len(r.hosts))
	for _, p := range r.prefixes {
		parts = append(parts, p.String())
	}
	for h := range r.hosts {
		parts = append(parts, h)
	}
	slices.Sort(parts)
	return r.actionType + "|" + strings.Join(parts, ",")
}
