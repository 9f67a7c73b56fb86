package httpapi

import (
	"net/http"
	"net/netip"
	"strconv"
	"strings"

	"github.com/steward-dev/steward"
)

// IP access control rules, Tines-compatible: tenant admins keep a list of
// addresses and ranges; once the list has a rule, the tenant's users may
// authenticate only from addresses that match one (see checkIPAccess).

// ipAccessRuleView is a rule as Tines' admin API shows one.
type ipAccessRuleView struct {
	ID          int64  `json:"id"`
	IP          string `json:"ip"`
	Description string `json:"description"`
	CreatedAt   Time   `json:"created_at"`
	UpdatedAt   Time   `json:"updated_at"`
}

func newIPAccessRuleView(r *steward.IPAccessRule) ipAccessRuleView {
	return ipAccessRuleView{ID: r.ID, IP: r.IP, Description: r.Description,
		CreatedAt: Time(r.CreatedAt), UpdatedAt: Time(r.UpdatedAt)}
}

// ipAccessRuleRequest is the body of create and update; nil fields are absent.
type ipAccessRuleRequest struct {
	IP          *string `json:"ip"`
	Description *string `json:"description"`
}

// ipAccessRoutes registers the IP access control admin API.
func (s *Server) ipAccessRoutes(mux *recordingMux) {
	mux.Handle("GET /api/v1/admin/ip_access_control_rules", s.requireAdmin(s.handleIPAccessRuleList))
	mux.Handle("POST /api/v1/admin/ip_access_control_rules", s.requireAdmin(s.handleIPAccessRuleCreate))
	mux.Handle("GET /api/v1/admin/ip_access_control_rules/{id}", s.requireAdmin(s.handleIPAccessRuleGet))
	mux.Handle("PUT /api/v1/admin/ip_access_control_rules/{id}", s.requireAdmin(s.handleIPAccessRuleUpdate))
	mux.Handle("PATCH /api/v1/admin/ip_access_control_rules/{id}", s.requireAdmin(s.handleIPAccessRuleUpdate))
	mux.Handle("DELETE /api/v1/admin/ip_access_control_rules/{id}", s.requireAdmin(s.handleIPAccessRuleDelete))
}

func (s *Server) handleIPAccessRuleList(w http.ResponseWriter, r *http.Request) error {
	page, err := parsePage(r)
	if err != nil {
		return err
	}
	f := steward.IPAccessRuleFilter{TenantID: principal(r.Context()).User.TenantID, PageRequest: page}
	if v := strings.TrimSpace(r.URL.Query().Get("matching_ip")); v != "" {
		a, err := netip.ParseAddr(v)
		if err != nil || a.Zone() != "" {
			return &steward.Error{Code: steward.EMALFORMED, Field: "matching_ip",
				Message: "matching_ip must be an IP address such as 192.0.2.7 or 2001:db8::1, got " + strconv.Quote(v)}
		}
		f.MatchingIP = a.Unmap()
	}
	rules, total, err := s.IPAccessRules.FindIPAccessRules(r.Context(), f)
	if err != nil {
		return err
	}
	views := make([]ipAccessRuleView, len(rules))
	for i, rule := range rules {
		views[i] = newIPAccessRuleView(rule)
	}
	writeJSON(w, http.StatusOK, map[string]any{"admin/ip_access_control_rules": views, "meta": s.pageMeta(r, page, total)})
	return nil
}

func (s *Server) handleIPAccessRuleGet(w http.ResponseWriter, r *http.Request) error {
	id, err := pathID(r, "id")
	if err != nil {
		return err
	}
	rule, err := s.IPAccessRules.FindIPAccessRuleByID(r.Context(), principal(r.Context()).User.TenantID, id)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, newIPAccessRuleView(rule))
	return nil
}

func (s *Server) handleIPAccessRuleCreate(w http.ResponseWriter, r *http.Request) error {
	tenantID := principal(r.Context()).User.TenantID
	var req ipAccessRuleRequest
	if err := decodeJSON(r, &req); err != nil {
		return err
	}
	rule := &steward.IPAccessRule{TenantID: tenantID, IP: derefString(req.IP), Description: derefString(req.Description)}
	err := s.IPAccessRules.CreateIPAccessRule(r.Context(), rule, s.clientAddr(r))
	s.ipRules.forget(tenantID)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusCreated, newIPAccessRuleView(rule))
	return nil
}

// handleIPAccessRuleUpdate serves PUT and PATCH alike: any subset of the fields.
func (s *Server) handleIPAccessRuleUpdate(w http.ResponseWriter, r *http.Request) error {
	tenantID := principal(r.Context()).User.TenantID
	id, err := pathID(r, "id")
	if err != nil {
		return err
	}
	var req ipAccessRuleRequest
	if err := decodeJSON(r, &req); err != nil {
		return err
	}
	rule, err := s.IPAccessRules.UpdateIPAccessRule(r.Context(), tenantID, id,
		steward.IPAccessRuleUpdate{IP: req.IP, Description: req.Description}, s.clientAddr(r))
	s.ipRules.forget(tenantID)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, newIPAccessRuleView(rule))
	return nil
}

func (s *Server) handleIPAccessRuleDelete(w http.ResponseWriter, r *http.Request) error {
	tenantID := principal(r.Context()).User.TenantID
	id, err := pathID(r, "id")
	if err != nil {
		return err
	}
	err = s.IPAccessRules.DeleteIPAccessRule(r.Context(), tenantID, id, s.clientAddr(r))
	s.ipRules.forget(tenantID)
	if err != nil {
		return err
	}
	w.WriteHeader(http.StatusNoContent)
	return nil
}
