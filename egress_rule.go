package steward

import (
	"context"
	"net/netip"
	"slices"
	"strings"
	"time"
	"unicode/utf8"
)

// The action types an egress control rule can allow, as Tines names them.
const (
	EgressHTTPRequest = "http-request"
	EgressSendEmail   = "send-email"
)

// MaxEgressRuleDescriptionLength caps a rule's description, in characters.
const MaxEgressRuleDescriptionLength = 255

// EgressRule is one entry of a tenant's action egress allowlist (Tines'
// action egress control rule). Once a tenant has a rule for an action type,
// that type's actions may reach only destinations some rule names: an IP
// rule matches the address a connection goes to, an FQDN rule the host
// name a request names (HTTP Request) or the domain of a recipient (Send
// Email). A rule never opens what the instance refuses.
type EgressRule struct {
	ID       int64
	TenantID int64
	// IP is an address or CIDR range ("192.168.1.1", "10.0.0.0/8",
	// "2001:db8::/32"); "" when FQDN is set. Stored in canonical form.
	IP string
	// FQDN is a host name, lower case without a trailing dot; "" when IP
	// is set.
	FQDN               string
	Description        string
	AllowedActionTypes []string // EgressHTTPRequest, EgressSendEmail
	CreatedAt          time.Time
	UpdatedAt          time.Time
}

// Allows reports whether the rule applies to actions of the given egress
// type (EgressHTTPRequest or EgressSendEmail).
func (r *EgressRule) Allows(actionType string) bool {
	return slices.Contains(r.AllowedActionTypes, actionType)
}

// Prefix returns the rule's IP as a range (a single address is a /32 or
// /128); ok is false for an FQDN rule.
func (r *EgressRule) Prefix() (p netip.Prefix, ok bool) {
	if r.IP == "" {
		return netip.Prefix{}, false
	}
	if a, err := netip.ParseAddr(r.IP); err == nil {
		return netip.PrefixFrom(a, a.BitLen()), true
	}
	p, err := netip.ParsePrefix(r.IP)
	return p, err == nil
}

// EgressRuleUpdate holds the fields an update changes; nil means unchanged.
// Setting IP to a non-empty value clears FQDN and the other way round.
type EgressRuleUpdate struct {
	IP                 *string
	FQDN               *string
	Description        *string
	AllowedActionTypes *[]string
}

// Apply changes r as upd says. EINVALID when both ip and fqdn are given.
func (upd EgressRuleUpdate) Apply(r *EgressRule) error {
	setIP := upd.IP != nil && strings.TrimSpace(*upd.IP) != ""
	setFQDN := upd.FQDN != nil && strings.TrimSpace(*upd.FQDN) != ""
	if setIP && setFQDN {
		return FieldErrorf("ip", "a rule has an ip or an fqdn, not both; send one of them")
	}
	if upd.IP != nil {
		r.IP = *upd.IP
		if setIP {
			r.FQDN = ""
		}
	}
	if upd.FQDN != nil {
		r.FQDN = *upd.FQDN
		if setFQDN {
			r.IP = ""
		}
	}
	if upd.Description != nil {
		r.Description = *upd.Description
	}
	if upd.AllowedActionTypes != nil {
		r.AllowedActionTypes = *upd.AllowedActionTypes
	}
	return nil
}

// ValidateEgressRule checks r and puts its fields in canonical form: ip or
// fqdn (exactly one), a description, and allowed_action_types from
// http-request and send-email (send-email only with an fqdn). Absent
// allowed_action_types mean http-request. EINVALID naming the field.
func ValidateEgressRule(r *EgressRule) error {
	r.IP, r.FQDN = strings.TrimSpace(r.IP), strings.TrimSpace(r.FQDN)
	switch {
	case r.IP == "" && r.FQDN == "":
		return FieldErrorf("ip", "a rule needs an ip (an address or CIDR range such as 10.0.0.0/8) or an fqdn (a host name such as api.example.com)")
	case r.IP != "" && r.FQDN != "":
		return FieldErrorf("ip", "a rule has an ip or an fqdn, not both; send one of them")
	case r.IP != "":
		ip, err := canonicalIP(r.IP)
		if err != nil {
			return err
		}
		r.IP = ip
	default:
		fqdn, err := canonicalFQDN(r.FQDN)
		if err != nil {
			return err
		}
		r.FQDN = fqdn
	}
	r.Description = strings.TrimSpace(r.Description)
	if r.Description == "" {
		return FieldErrorf("description", "description is required: say what the destination is")
	}
	if !utf8.ValidString(r.Description) {
		return FieldErrorf("description", "description must be valid UTF-8 text")
	}
	if utf8.RuneCountInString(r.Description) > MaxEgressRuleDescriptionLength {
		return FieldErrorf("description", "description must be at most %d characters", MaxEgressRuleDescriptionLength)
	}
	if r.AllowedActionTypes == nil {
		r.AllowedActionTypes = []string{EgressHTTPRequest}
	}
	if len(r.AllowedActionTypes) == 0 {
		return FieldErrorf("allowed_action_types", "allowed_action_types must name at least one of %q, %q", EgressHTTPRequest, EgressSendEmail)
	}
	var types []string
	for _, t := range r.AllowedActionTypes {
		t = strings.ToLower(strings.TrimSpace(t))
		if t != EgressHTTPRequest && t != EgressSendEmail {
			return FieldErrorf("allowed_action_types", "allowed_action_types: %q is not one of %q, %q", t, EgressHTTPRequest, EgressSendEmail)
		}
		if t == EgressSendEmail && r.FQDN == "" {
			return FieldErrorf("allowed_action_types", "allowed_action_types: %q needs an fqdn rule (the domain mail may go to), not an ip rule", EgressSendEmail)
		}
		if !slices.Contains(types, t) {
			types = append(types, t)
		}
	}
	slices.Sort(types)
	r.AllowedActionTypes = types
	return nil
}

// canonicalIP parses an address or CIDR range and returns it in canonical
// form (the range's base address: 10.1.2.3/8 becomes 10.0.0.0/8).
func canonicalIP(s string) (string, error) {
	if a, err := netip.ParseAddr(s); err == nil {
		if a.Zone() != "" {
			return "", FieldErrorf("ip", "ip %q: a zone (%%%s) is not allowed", s, a.Zone())
		}
		return a.Unmap().String(), nil
	}
	p, err := netip.ParsePrefix(s)
	if err != nil {
		return "", FieldErrorf("ip", "ip %q is not an IPv4 or IPv6 address or CIDR range (such as 192.168.1.1 or 10.0.0.0/8)", s)
	}
	if p.Addr().Is4In6() && p.Bits() >= 96 {
		p = netip.PrefixFrom(p.Addr().Unmap(), p.Bits()-96)
	}
	return p.Masked().String(), nil
}

// canonicalFQDN checks a host name and returns it lower case without a
// trailing dot.
func canonicalFQDN(s string) (string, error) {
	h := strings.TrimSuffix(strings.ToLower(s), ".")
	if _, err := netip.ParseAddr(strings.Trim(h, "[]")); err == nil {
		return "", FieldErrorf("fqdn", "fqdn %q is an IP address; send it as ip instead", s)
	}
	if h == "" || len(h) > 253 {
		return "", FieldErrorf("fqdn", "fqdn %q is not a host name (such as api.example.com)", s)
	}
	for _, label := range strings.Split(h, ".") {
		if label == "" || len(label) > 63 || label[0] == '-' || label[len(label)-1] == '-' {
			return "", FieldErrorf("fqdn", "fqdn %q is not a host name (such as api.example.com)", s)
		}
		for _, c := range label {
			if !(c >= 'a' && c <= 'z' || c >= '0' && c <= '9' || c == '-' || c == '_') {
				return "", FieldErrorf("fqdn", "fqdn %q is not a host name: %q is not allowed (use the ASCII, punycode form)", s, c)
			}
		}
	}
	return h, nil
}

// EgressRuleService stores tenants' action egress control rules. Every
// method is scoped to one tenant.
type EgressRuleService interface {
	// CreateEgressRule validates r, inserts it and sets its ID and
	// timestamps. EINVALID naming the field at fault.
	CreateEgressRule(ctx context.Context, r *EgressRule) error
	// FindEgressRuleByID returns ENOTFOUND if the tenant has no such rule.
	FindEgressRuleByID(ctx context.Context, tenantID, id int64) (*EgressRule, error)
	// FindEgressRules returns one page of the tenant's rules by id, and the
	// total.
	FindEgressRules(ctx context.Context, tenantID int64, page PageRequest) ([]*EgressRule, int, error)
	// AllEgressRules returns every rule of the tenant (what actions are
	// checked against). A store may serve it from memory for up to a
	// second after another server changed the rules; changes made through
	// the store itself apply at once. The result is shared: callers must
	// not modify it.
	AllEgressRules(ctx context.Context, tenantID int64) ([]*EgressRule, error)
	// UpdateEgressRule applies upd and validates the rule as changed.
	// ENOTFOUND, EINVALID.
	UpdateEgressRule(ctx context.Context, tenantID, id int64, upd EgressRuleUpdate) (*EgressRule, error)
	// DeleteEgressRule removes the rule. ENOTFOUND.
	DeleteEgressRule(ctx context.Context, tenantID, id int64) error
}
