package httpapi

import (
	"net/http"

	"github.com/steward-dev/steward"
)

// egressRuleRequest is the body of rule create and update; pointers tell
// absent fields from sent ones (null counts as absent).
type egressRuleRequest struct {
	IP                 *string   `json:"ip"`
	FQDN               *string   `json:"fqdn"`
	Description        *string   `json:"description"`
	AllowedActionTypes *[]string `json:"allowed_action_types"`
}

// egressRuleView is a rule as Tines shows it: ip or fqdn, the other null.
type egressRuleView struct {
	ID                 int64    `json:"id"`
	IP                 *string  `json:"ip"`
	FQDN               *string  `json:"fqdn"`
	Description        string   `json:"description"`
	AllowedActionTypes []string `json:"allowed_action_types"`
	CreatedAt          Time     `json:"created_at"`
	UpdatedAt          Time     `json:"updated_at"`
}

func newEgressRuleView(r *steward.EgressRule) egressRuleView {
	v := egressRuleView{ID: r.ID, Description: r.Description, AllowedActionTypes: r.AllowedActionTypes,
		CreatedAt: Time(r.CreatedAt), UpdatedAt: Time(r.UpdatedAt)}
	if r.IP != "" {
		v.IP = &r.IP
	}
	if r.FQDN != "" {
		v.FQDN = &r.FQDN
	}
	if v.AllowedActionTypes == nil {
		v.AllowedActionTypes = []string{}
	}
	return v
}

func (s *Server) handleEgressRuleList(w http.ResponseWriter, r *http.Request) error {
	page, err := parsePage(r)
	if err != nil {
		return err
	}
	rules, total, err := s.EgressRules.FindEgressRules(r.Context(), principal(r.Context()).User.TenantID, page)
	if err != nil {
		return err
	}
	views := make([]egressRuleView, len(rules))
	for i, rule := range rules {
		views[i] = newEgressRuleView(rule)
	}
	writeJSON(w, http.StatusOK, map[string]any{"admin/action_egress_control_rules": views, "meta": s.pageMeta(r, page, total)})
	return nil
}

func (s *Server) handleEgressRuleGet(w http.ResponseWriter, r *http.Request) error {
	id, err := pathID(r, "id")
	if err != nil {
		return err
	}
	rule, err := s.EgressRules.FindEgressRuleByID(r.Context(), principal(r.Context()).User.TenantID, id)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, newEgressRuleView(rule))
	return nil
}

func (s *Server) handleEgressRuleCreate(w http.ResponseWriter, r *http.Request) error {
	var req egressRuleRequest
	if err := decodeJSON(r, &req); err != nil {
		return err
	}
	rule := &steward.EgressRule{TenantID: principal(r.Context()).User.TenantID}
	if err := (steward.EgressRuleUpdate{IP: req.IP, FQDN: req.FQDN, Description: req.Description,
		AllowedActionTypes: req.AllowedActionTypes}).Apply(rule); err != nil {
		return err
	}
	if err := s.EgressRules.CreateEgressRule(r.Context(), rule); err != nil {
		return err
	}
	writeJSON(w, http.StatusCreated, newEgressRuleView(rule))
	return nil
}

// handleEgressRuleUpdate serves PUT and PATCH alike: any subset of the
// fields. Sending ip to an fqdn rule (or the other way round) turns it
// into the other kind.
func (s *Server) handleEgressRuleUpdate(w http.ResponseWriter, r *http.Request) error {
	id, err := pathID(r, "id")
	if err != nil {
		return err
	}
	var req egressRuleRequest
	if err := decodeJSON(r, &req); err != nil {
		return err
	}
	rule, err := s.EgressRules.UpdateEgressRule(r.Context(), principal(r.Context()).User.TenantID, id, steward.EgressRuleUpdate{
		IP: req.IP, FQDN: req.FQDN, Description: req.Description, AllowedActionTypes: req.AllowedActionTypes})
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, newEgressRuleView(rule))
	return nil
}

func (s *Server) handleEgressRuleDelete(w http.ResponseWriter, r *http.Request) error {
	id, err := pathID(r, "id")
	if err != nil {
		return err
	}
	if err := s.EgressRules.DeleteEgressRule(r.Context(), principal(r.Context()).User.TenantID, id); err != nil {
		return err
	}
	w.WriteHeader(http.StatusNoContent)
	return nil
}
