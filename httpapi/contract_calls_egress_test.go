package httpapi_test

// egressContractCalls exercise the action egress control rules API; they
// run after the other contract calls.
var egressContractCalls = []contractCall{
	{Name: "create egress rule (ip)", Method: "POST", Path: "/api/v1/admin/action_egress_control_rules",
		Body: map[string]any{"ip": "203.0.113.0/24", "description": "Partner API", "allowed_action_types": []string{"http-request"}}, Status: 201, Save: "egress_rule"},
	{Name: "create egress rule (fqdn, Tines' null ip)", Method: "POST", Path: "/api/v1/admin/action_egress_control_rules",
		Body: `{"ip": null, "fqdn": "mail.example.com", "description": "Mail", "allowed_action_types": ["http-request", "send-email"]}`, Status: 201},
	{Name: "create egress rule with ip and fqdn", Method: "POST", Path: "/api/v1/admin/action_egress_control_rules",
		Body: map[string]any{"ip": "10.0.0.1", "fqdn": "x.example.com", "description": "both"}, Status: 422},
	{Name: "create egress rule without description", Method: "POST", Path: "/api/v1/admin/action_egress_control_rules",
		Body: map[string]any{"ip": "10.0.0.1"}, Status: 422},
	{Name: "create egress rule, send-email on an ip", Method: "POST", Path: "/api/v1/admin/action_egress_control_rules",
		Body: map[string]any{"ip": "10.0.0.1", "description": "x", "allowed_action_types": []string{"send-email"}}, Status: 422},
	{Name: "create egress rule, body not JSON", Method: "POST", Path: "/api/v1/admin/action_egress_control_rules", Body: `{"ip":`, Status: 400},
	{Name: "create egress rule as a member", Method: "POST", Path: "/api/v1/admin/action_egress_control_rules", Auth: authMember,
		Body: map[string]any{"ip": "10.0.0.1", "description": "x"}, Status: 403},
	{Name: "list egress rules", Method: "GET", Path: "/api/v1/admin/action_egress_control_rules?per_page=1", Status: 200},
	{Name: "list egress rules, bad page", Method: "GET", Path: "/api/v1/admin/action_egress_control_rules?page=0", Status: 400},
	{Name: "list egress rules without credentials", Method: "GET", Path: "/api/v1/admin/action_egress_control_rules", Auth: authNone, Status: 401},
	{Name: "list egress rules as a member", Method: "GET", Path: "/api/v1/admin/action_egress_control_rules", Auth: authMember, Status: 403},
	{Name: "get egress rule", Method: "GET", Path: "/api/v1/admin/action_egress_control_rules/{egress_rule}", Status: 200},
	{Name: "get unknown egress rule", Method: "GET", Path: "/api/v1/admin/action_egress_control_rules/999999", Status: 404},
	{Name: "update egress rule", Method: "PUT", Path: "/api/v1/admin/action_egress_control_rules/{egress_rule}",
		Body: map[string]any{"description": "Partner API (production)"}, Status: 200},
	{Name: "patch egress rule into an fqdn rule", Method: "PATCH", Path: "/api/v1/admin/action_egress_control_rules/{egress_rule}",
		Body: map[string]any{"fqdn": "api.partner.example"}, Status: 200},
	{Name: "update egress rule, bad ip", Method: "PATCH", Path: "/api/v1/admin/action_egress_control_rules/{egress_rule}",
		Body: map[string]any{"ip": "10.0.0.300"}, Status: 422},
	{Name: "update unknown egress rule", Method: "PUT", Path: "/api/v1/admin/action_egress_control_rules/999999",
		Body: map[string]any{"description": "x"}, Status: 404},
	{Name: "delete egress rule", Method: "DELETE", Path: "/api/v1/admin/action_egress_control_rules/{egress_rule}", Status: 204},
	{Name: "delete deleted egress rule", Method: "DELETE", Path: "/api/v1/admin/action_egress_control_rules/{egress_rule}", Status: 404},
}

func init() { contractCalls = append(contractCalls, egressContractCalls...) }
