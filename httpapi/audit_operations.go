package httpapi

import (
	"net/http"
	"strings"
	"unicode"
)

// Audit operation names, by route pattern. Every state-changing route is
// audited: those listed here get a name chosen for people, any other (a
// route added later) a name derived from its method and path by
// derivedOperationName, so no change goes unrecorded because this table was
// forgotten. Trailing-slash twins ("/{$}") share their route's name.
var auditOperations = map[string]string{
	"POST /api/v1/api_keys":        "ApiKeyCreation",
	"DELETE /api/v1/api_keys/{id}": "ApiKeyRevocation",

	"POST /api/v1/admin/users":                               "UserCreation",
	"PUT /api/v1/admin/users/{id}":                           "UserUpdate",
	"PATCH /api/v1/admin/users/{id}":                         "UserUpdate",
	"DELETE /api/v1/admin/users/{id}":                        "UserDeletion",
	"POST /api/v1/admin/users/{id}/resend_invitation":        "UserInvitationResend",
	"POST /api/v1/admin/users/{id}/expire_session":           "UserSessionExpiry",
	"POST /users/sign_in":                                    "SignIn",
	"DELETE /users/sign_out":                                 "SignOut",
	"POST /users/invitation":                                 "InvitationAcceptance",
	"POST /api/v1/admin/templates":                           "TemplateCreation",
	"POST /api/v1/admin/templates/import":                    "TemplateImport",
	"PUT /api/v1/admin/templates/{id}":                       "TemplateUpdate",
	"PATCH /api/v1/admin/templates/{id}":                     "TemplateUpdate",
	"DELETE /api/v1/admin/templates/{id}":                    "TemplateDeletion",
	"POST /api/v1/stories":                                   "StoryCreation",
	"PUT /api/v1/stories/{id}":                               "StoryUpdate",
	"PATCH /api/v1/stories/{id}":                             "StoryUpdate",
	"DELETE /api/v1/stories/{id}":                            "StoryDeletion",
	"POST /api/v1/agents":                                    "ActionCreation",
	"POST /api/v1/actions":                                   "ActionCreation",
	"PUT /api/v1/agents/{id}":                                "ActionUpdate",
	"PUT /api/v1/actions/{id}":                               "ActionUpdate",
	"PATCH /api/v1/agents/{id}":                              "ActionUpdate",
	"PATCH /api/v1/actions/{id}":                             "ActionUpdate",
	"DELETE /api/v1/agents/{id}":                             "ActionDeletion",
	"DELETE /api/v1/actions/{id}":                            "ActionDeletion",
	"POST /api/v1/agents/{id}/run":                           "ActionRun",
	"POST /api/v1/actions/{id}/run":                          "ActionRun",
	"DELETE /api/v1/agents/{id}/remove_events":               "ActionEventsDeletion",
	"DELETE /api/v1/actions/{id}/remove_events":              "ActionEventsDeletion",
	"DELETE /api/v1/admin/delete_all_queued_jobs":            "QueuedJobsDeletion",
	"DELETE /api/v1/admin/delete_all_retry_jobs":             "RetryJobsDeletion",
	"DELETE /api/v1/admin/delete_all_dead_jobs":              "DeadJobsDeletion",
	"DELETE /api/v1/admin/jobs/{id}":                         "JobDeletion",
	"POST /api/v1/admin/jobs/{id}/retry":                     "JobRetry",
	"POST /api/v1/admin/retry_all_dead_jobs":                 "DeadJobsRetry",
	"POST /admin/organisations":                              "OrganisationCreation",
	"PUT /admin/organisations/{id}":                          "OrganisationUpdate",
	"DELETE /admin/organisations/{id}":                       "OrganisationDeletion",
	"POST /admin/users":                                      "UserCreation",
	"PUT /admin/users/{id}":                                  "UserUpdate",
	"DELETE /admin/users/{id}":                               "UserDeletion",
	"PUT /admin/users/{id}/actions/allow_reset_passwords":    "UserPasswordResetAllowance",
	"PUT /admin/users/{id}/actions/disallow_reset_passwords": "UserPasswordResetDisallowance",
	"POST /api/v1/admin/ip_access_control_rules":             "IpAccessControlRuleCreation",
	"PUT /api/v1/admin/ip_access_control_rules/{id}":         "IpAccessControlRuleUpdate",
	"PATCH /api/v1/admin/ip_access_control_rules/{id}":       "IpAccessControlRuleUpdate",
	"DELETE /api/v1/admin/ip_access_control_rules/{id}":      "IpAccessControlRuleDeletion",
	"POST /api/v1/admin/action_egress_control_rules":         "ActionEgressControlRuleCreation",
	"PUT /api/v1/admin/action_egress_control_rules/{id}":     "ActionEgressControlRuleUpdate",
	"PATCH /api/v1/admin/action_egress_control_rules/{id}":   "ActionEgressControlRuleUpdate",
	"DELETE /api/v1/admin/action_egress_control_rules/{id}":  "ActionEgressControlRuleDeletion",
	"POST /api/users":                                        "UserCreation",
	"PUT /api/users/{id}":                                    "UserUpdate",
	"DELETE /api/users/{id}":                                 "UserDeletion",
	"POST /api/users/{id}/actions/reset":                     "UserPasswordReset",
	"PUT /api/users/{id}/actions/key/reset":                  "ApiKeyReset",
}

// Operations recorded outside the route table.
const (
	opSignInFailure        = "SignInFailure"
	opAuthorizationRefusal = "AuthorizationRefusal"
)

// unauditedRoutes change state but are not an operator's action: webhook
// deliveries emit events, and their volume belongs in metrics, not the
// audit log.
var unauditedRoutes = map[string]bool{
	"POST /webhook/{guid}/{secret}": true,
	"GET /webhook/{guid}/{secret}":  true,
}

// auditOperation returns the operation name of a route pattern, and
// whether requests to it change state and are recorded.
func auditOperation(pattern string) (string, bool) {
	pattern = strings.TrimSuffix(pattern, "/{$}")
	if unauditedRoutes[pattern] {
		return "", false
	}
	method, _, _ := strings.Cut(pattern, " ")
	switch method {
	case http.MethodGet, http.MethodHead, http.MethodOptions, "":
		return "", false
	}
	if name, ok := auditOperations[pattern]; ok {
		return name, true
	}
	for _, p := range []struct{ from, to string }{
		{"/api/v1/admin/actions/{id}/", "/api/v1/admin/"}, {"/api/v1/admin/agents/{id}/", "/api/v1/admin/"},
	} {
		// Per-action job purges and retries share the tenant-wide names.
		if rest, ok := strings.CutPrefix(pattern, method+" "+p.from); ok {
			if name, ok := auditOperations[method+" "+p.to+rest]; ok {
				return "Action" + name, true
			}
		}
	}
	return derivedOperationName(pattern), true
}

// derivedOperationName names a route missing from auditOperations after
// its path and method: "DELETE /api/v1/egress_rules/{id}" is
// "EgressRulesDeletion".
func derivedOperationName(pattern string) string {
	method, path, _ := strings.Cut(pattern, " ")
	path = strings.TrimPrefix(path, "/api/v1")
	var b strings.Builder
	for _, seg := range strings.Split(path, "/") {
		if seg == "" || strings.HasPrefix(seg, "{") {
			continue
		}
		for _, word := range strings.FieldsFunc(seg, func(r rune) bool { return r == '_' || r == '-' || r == '.' }) {
			rs := []rune(word)
			rs[0] = unicode.ToUpper(rs[0])
			b.WriteString(string(rs))
		}
	}
	switch method {
	case http.MethodPost:
		b.WriteString("Creation")
	case http.MethodPut, http.MethodPatch:
		b.WriteString("Update")
	case http.MethodDelete:
		b.WriteString("Deletion")
	default:
		b.WriteString(strings.ToUpper(method[:1]) + strings.ToLower(method[1:]))
	}
	return b.String()
}
