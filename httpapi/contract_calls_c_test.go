package httpapi_test

// Section C of the contract calls: IP access control rules. They run after
// the other sections and leave the tenant without rules. The test server
// and its client are on 127.0.0.1, so the first rule must admit it.
func init() {
	contractCalls = append(contractCalls, []contractCall{
		{Name: "create IP rule that locks the admin out", Method: "POST", Path: "/api/v1/admin/ip_access_control_rules", Status: 422,
			Body: map[string]any{"ip": "10.0.0.0/8", "description": "Office"}},
		{Name: "create IP rule", Method: "POST", Path: "/api/v1/admin/ip_access_control_rules", Status: 201, Save: "ip_rule",
			Body: map[string]any{"ip": "127.0.0.0/8", "description": "Loopback"}},
		{Name: "create second IP rule", Method: "POST", Path: "/api/v1/admin/ip_access_control_rules", Status: 201, Save: "ip_rule2",
			Body: map[string]any{"ip": "2001:db8::/32", "description": "Office v6"}},
		{Name: "create IP rule, bad ip", Method: "POST", Path: "/api/v1/admin/ip_access_control_rules", Status: 422,
			Body: map[string]any{"ip": "10.0.0.1/8"}},
		{Name: "create IP rule without ip", Method: "POST", Path: "/api/v1/admin/ip_access_control_rules", Status: 422,
			Body: map[string]any{"description": "x"}},
		{Name: "create IP rule, body not JSON", Method: "POST", Path: "/api/v1/admin/ip_access_control_rules", Body: `{"ip":`, Status: 400},
		{Name: "create IP rule as a member", Method: "POST", Path: "/api/v1/admin/ip_access_control_rules", Auth: authMember, Status: 403,
			Body: map[string]any{"ip": "127.0.0.1"}},
		{Name: "list IP rules", Method: "GET", Path: "/api/v1/admin/ip_access_control_rules?per_page=1", Status: 200},
		{Name: "list IP rules matching an address", Method: "GET", Path: "/api/v1/admin/ip_access_control_rules?matching_ip=2001:db8::7", Status: 200},
		{Name: "list IP rules, bad matching_ip", Method: "GET", Path: "/api/v1/admin/ip_access_control_rules?matching_ip=nope", Status: 400},
		{Name: "list IP rules without credentials", Method: "GET", Path: "/api/v1/admin/ip_access_control_rules", Auth: authNone, Status: 401},
		{Name: "get IP rule", Method: "GET", Path: "/api/v1/admin/ip_access_control_rules/{ip_rule}", Status: 200},
		{Name: "get unknown IP rule", Method: "GET", Path: "/api/v1/admin/ip_access_control_rules/999999", Status: 404},
		{Name: "get IP rule, id with a leading zero", Method: "GET", Path: "/api/v1/admin/ip_access_control_rules/0{ip_rule}", Status: 404},
		{Name: "update IP rule", Method: "PUT", Path: "/api/v1/admin/ip_access_control_rules/{ip_rule}", Status: 200,
			Body: map[string]any{"description": "Loopback and tunnels"}},
		{Name: "patch IP rule", Method: "PATCH", Path: "/api/v1/admin/ip_access_control_rules/{ip_rule2}", Status: 200,
			Body: map[string]any{"ip": "2001:db8:1::/48"}},
		{Name: "update IP rule, locks the admin out", Method: "PATCH", Path: "/api/v1/admin/ip_access_control_rules/{ip_rule}", Status: 422,
			Body: map[string]any{"ip": "192.0.2.0/24"}},
		{Name: "update unknown IP rule", Method: "PUT", Path: "/api/v1/admin/ip_access_control_rules/999999", Status: 404,
			Body: map[string]any{"description": "x"}},
		{Name: "delete IP rule the admin needs", Method: "DELETE", Path: "/api/v1/admin/ip_access_control_rules/{ip_rule}", Status: 422},
		{Name: "delete IP rule", Method: "DELETE", Path: "/api/v1/admin/ip_access_control_rules/{ip_rule2}", Status: 204},
		{Name: "delete last IP rule", Method: "DELETE", Path: "/api/v1/admin/ip_access_control_rules/{ip_rule}", Status: 204},
		{Name: "delete deleted IP rule", Method: "DELETE", Path: "/api/v1/admin/ip_access_control_rules/{ip_rule}", Status: 404},
	}...)
}
