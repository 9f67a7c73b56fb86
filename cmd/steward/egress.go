package main

import (
	"fmt"
	"log/slog"
	"net"
	"net/netip"
	"strings"

	"github.com/steward-dev/steward/action"
	"github.com/steward-dev/steward/egress"
	"github.com/steward-dev/steward/sqlstore"
)

// tenantSafety holds the settings that bound what tenants' actions may do:
// where HTTP Request actions may connect, and how deep and wide chains of
// events may grow.
type tenantSafety struct {
	EgressAllow []string // STEWARD_EGRESS_ALLOW: CIDRs and host names opened
	Limits      action.Limits
}

// readTenantSafety reads STEWARD_EGRESS_ALLOW, STEWARD_MAX_EVENT_DEPTH and
// STEWARD_MAX_EXPLODE.
func readTenantSafety() (tenantSafety, error) {
	var ts tenantSafety
	for _, s := range strings.Split(envOr("STEWARD_EGRESS_ALLOW", ""), ",") {
		if s = strings.TrimSpace(s); s != "" {
			ts.EgressAllow = append(ts.EgressAllow, s)
		}
	}
	if _, err := egress.New(egress.Config{Allow: ts.EgressAllow}); err != nil {
		return ts, fmt.Errorf("STEWARD_EGRESS_ALLOW: %w", err)
	}
	var err error
	if ts.Limits.MaxEventDepth, err = envInt("STEWARD_MAX_EVENT_DEPTH", action.DefaultMaxEventDepth); err != nil {
		return ts, err
	}
	if ts.Limits.MaxEventDepth < 1 {
		return ts, fmt.Errorf("STEWARD_MAX_EVENT_DEPTH=%d: must be at least 1", ts.Limits.MaxEventDepth)
	}
	if ts.Limits.MaxExplode, err = envInt("STEWARD_MAX_EXPLODE", action.DefaultMaxExplode); err != nil {
		return ts, err
	}
	if ts.Limits.MaxExplode < 1 {
		return ts, fmt.Errorf("STEWARD_MAX_EXPLODE=%d: must be at least 1", ts.Limits.MaxExplode)
	}
	return ts, nil
}

// newRunner builds the job runner: HTTP Request actions connect through
// the egress policy, which always refuses Steward's own listening socket
// (listen), whatever STEWARD_EGRESS_ALLOW opens.
func newRunner(db *sqlstore.DB, ts tenantSafety, listen net.Addr, log *slog.Logger) (*action.Runner, error) {
	cfg := egress.Config{Allow: ts.EgressAllow}
	if ap, err := netip.ParseAddrPort(listen.String()); err == nil {
		cfg.Self = append(cfg.Self, ap)
	}
	policy, err := egress.New(cfg)
	if err != nil {
		return nil, fmt.Errorf("STEWARD_EGRESS_ALLOW: %w", err)
	}
	return &action.Runner{Actions: db, Events: db, Outbox: db, EgressRules: db, Egress: policy, Limits: ts.Limits, Log: log}, nil
}
