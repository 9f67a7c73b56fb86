package console

import (
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"strconv"
	"time"

	"github.com/steward-dev/steward"
)

// ipRule is an IP access control rule as the API shows it.
type ipRule struct {
	ID          int64     `json:"id"`
	IP          string    `json:"ip"`
	Description string    `json:"description"`
	UpdatedAt   time.Time `json:"updated_at"`
}

// egressRule is an action egress control rule as the API shows it.
type egressRule struct {
	ID                 int64     `json:"id"`
	IP                 *string   `json:"ip"`
	FQDN               *string   `json:"fqdn"`
	Description        string    `json:"description"`
	AllowedActionTypes []string  `json:"allowed_action_types"`
	UpdatedAt          time.Time `json:"updated_at"`
}

// securityPage is the data of the security page.
type securityPage struct {
	IPRules     []ipRule
	IPPager     pager
	EgressRules []egressRule
	EgressPager pager
	Types       []egressType
}

// egressType is an action type an egress rule can name, as the API names it.
type egressType struct{ Value, Label string }

// egressTypes are the action types that reach the network.
var egressTypes = []egressType{{"http-request", "HTTP Request"}, {"send-email", "Send email"}}

const rulesPerPage = 20

// listRules reads one page of a rule list from the API into out.
func (c *Console) listRules(r *http.Request, path, envelope, param string, out any) (pager, error) {
	page := pageParam(r, param)
	var body map[string]json.RawMessage
	q := url.Values{"page": {strconv.Itoa(page)}, "per_page": {strconv.Itoa(rulesPerPage)}}
	if _, err := c.call(r, "GET", path+"?"+q.Encode(), nil, &body); err != nil {
		return pager{}, err
	}
	var m meta
	if err := json.Unmarshal(body[envelope], out); err != nil {
		return pager{}, fmt.Errorf("decode %s: %w", envelope, err)
	}
	if err := json.Unmarshal(body["meta"], &m); err != nil {
		return pager{}, fmt.Errorf("decode %s: %w", envelope, err)
	}
	return newPager(r, param, page, m), nil
}

// handleSecurity shows the tenant's IP access and egress control rules.
func (c *Console) handleSecurity(w http.ResponseWriter, r *http.Request) error {
	return c.renderSecurity(w, r, http.StatusOK, &view{})
}

func (c *Console) renderSecurity(w http.ResponseWriter, r *http.Request, status int, v *view) error {
	var d securityPage
	var err error
	if d.IPPager, err = c.listRules(r, "/api/v1/admin/ip_access_control_rules", "admin/ip_access_control_rules", "ipage", &d.IPRules); err != nil {
		return err
	}
	if d.EgressPager, err = c.listRules(r, "/api/v1/admin/action_egress_control_rules", "admin/action_egress_control_rules", "epage", &d.EgressRules); err != nil {
		return err
	}
	d.Types = egressTypes
	v.Title, v.Nav, v.Data = "Security", "security", d
	c.render(w, r, status, "security", v)
	return nil
}

// handleIPRuleCreate adds an IP access control rule.
func (c *Console) handleIPRuleCreate(w http.ResponseWriter, r *http.Request) error {
	f := r.PostForm
	req := map[string]any{"ip": f.Get("ip"), "description": f.Get("description")}
	if _, err := c.call(r, "POST", "/api/v1/admin/ip_access_control_rules", req, nil); err != nil {
		v := &view{Form: prefixed(f, "ip_")}
		status, ok := formError(v, prefixErr(err, "ip_"), "ip_ip", "ip_description")
		if !ok {
			return err
		}
		return c.renderSecurity(w, r, status, v)
	}
	redirectWith(w, r, "/console/security", "Added the IP access rule.")
	return nil
}

// handleEgressRuleCreate adds an action egress control rule.
func (c *Console) handleEgressRuleCreate(w http.ResponseWriter, r *http.Request) error {
	f := r.PostForm
	req := map[string]any{"description": f.Get("description"), "allowed_action_types": f["allowed_action_types"]}
	if f.Get("ip") != "" {
		req["ip"] = f.Get("ip")
	}
	if f.Get("fqdn") != "" {
		req["fqdn"] = f.Get("fqdn")
	}
	if f["allowed_action_types"] == nil {
		req["allowed_action_types"] = []string{}
	}
	if _, err := c.call(r, "POST", "/api/v1/admin/action_egress_control_rules", req, nil); err != nil {
		v := &view{Form: prefixed(f, "eg_")}
		status, ok := formError(v, prefixErr(err, "eg_"), "eg_ip", "eg_fqdn", "eg_description", "eg_allowed_action_types")
		if !ok {
			return err
		}
		return c.renderSecurity(w, r, status, v)
	}
	redirectWith(w, r, "/console/security", "Added the egress rule.")
	return nil
}

// handleRuleDelete deletes a rule of either kind.
func (c *Console) handleRuleDelete(kind string) handlerFunc {
	return func(w http.ResponseWriter, r *http.Request) error {
		id, err := pathID(r)
		if err != nil {
			return err
		}
		path := map[string]string{"ip": "/api/v1/admin/ip_access_control_rules/%d", "egress": "/api/v1/admin/action_egress_control_rules/%d"}[kind]
		if _, err := c.call(r, "DELETE", fmt.Sprintf(path, id), nil, nil); err != nil {
			v := &view{}
			if _, ok := formError(v, err); !ok || steward.ErrorCode(err) == steward.ENOTFOUND {
				return err
			}
			return c.renderSecurity(w, r, ErrorStatus(err), v)
		}
		redirectWith(w, r, "/console/security", "Deleted the rule.")
		return nil
	}
}

// prefixed renames form fields so the two forms on the page keep apart.
func prefixed(f url.Values, prefix string) url.Values {
	out := url.Values{}
	for k, v := range f {
		out[prefix+k] = v
	}
	return out
}

// prefixErr renames the field an API error names to match prefixed.
func prefixErr(err error, prefix string) error {
	if f := steward.ErrorField(err); f != "" {
		return &steward.Error{Code: steward.ErrorCode(err), Field: prefix + f, Message: steward.ErrorMessage(err)}
	}
	return err
}
