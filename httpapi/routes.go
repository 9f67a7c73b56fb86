package httpapi

// routes registers every endpoint. Each resource's handlers live in their
// own file; authorization is chosen here, per route, by requireUser or
// requireAdmin.
func (s *Server) routes(mux *recordingMux) {
	mux.HandleFunc("GET /healthz", s.handleHealthz)
	mux.HandleFunc("GET /readyz", s.handleReadyz)

	// Personal API keys.
	mux.Handle("GET /api/v1/api_keys", s.requireUser(s.handleAPIKeyList))
	mux.Handle("POST /api/v1/api_keys", s.requireUser(s.handleAPIKeyCreate))
	mux.Handle("DELETE /api/v1/api_keys/{id}", s.requireUser(s.handleAPIKeyDelete))

	// Users admin API.
	mux.Handle("GET /api/v1/admin/users", s.requireAdmin(s.handleUserList))
	mux.Handle("POST /api/v1/admin/users", s.requireAdmin(s.handleUserCreate))
	mux.Handle("GET /api/v1/admin/users/{id}", s.requireAdmin(s.handleUserGet))
	mux.Handle("PUT /api/v1/admin/users/{id}", s.requireAdmin(s.handleUserUpdate))
	mux.Handle("PATCH /api/v1/admin/users/{id}", s.requireAdmin(s.handleUserUpdate))
	mux.Handle("DELETE /api/v1/admin/users/{id}", s.requireAdmin(s.handleUserDelete))

	// Private templates: admins manage them, every user of the tenant reads them.
	mux.Handle("GET /api/v1/admin/templates", s.requireAdmin(s.handleTemplateList("admin/templates")))
	mux.Handle("POST /api/v1/admin/templates", s.requireAdmin(s.handleTemplateCreate))
	mux.Handle("GET /api/v1/admin/templates/export", s.requireAdmin(s.handleTemplateExport))
	mux.Handle("POST /api/v1/admin/templates/import", s.requireAdmin(s.handleTemplateImport))
	mux.Handle("GET /api/v1/admin/templates/{id}", s.requireAdmin(s.handleTemplateGet))
	mux.Handle("PUT /api/v1/admin/templates/{id}", s.requireAdmin(s.handleTemplateUpdate))
	mux.Handle("PATCH /api/v1/admin/templates/{id}", s.requireAdmin(s.handleTemplateUpdate))
	mux.Handle("DELETE /api/v1/admin/templates/{id}", s.requireAdmin(s.handleTemplateDelete))
	mux.Handle("GET /api/v1/templates", s.requireUser(s.handleTemplateList("templates")))
	mux.Handle("GET /api/v1/templates/{id}", s.requireUser(s.handleTemplateGet))

	// Action egress control rules (Tines-compatible): the tenant's allowlist
	// of what its actions may reach; see egress_rules.go.
	mux.Handle("GET /api/v1/admin/action_egress_control_rules", s.requireAdmin(s.handleEgressRuleList))
	mux.Handle("POST /api/v1/admin/action_egress_control_rules", s.requireAdmin(s.handleEgressRuleCreate))
	mux.Handle("GET /api/v1/admin/action_egress_control_rules/{id}", s.requireAdmin(s.handleEgressRuleGet))
	mux.Handle("PUT /api/v1/admin/action_egress_control_rules/{id}", s.requireAdmin(s.handleEgressRuleUpdate))
	mux.Handle("PATCH /api/v1/admin/action_egress_control_rules/{id}", s.requireAdmin(s.handleEgressRuleUpdate))
	mux.Handle("DELETE /api/v1/admin/action_egress_control_rules/{id}", s.requireAdmin(s.handleEgressRuleDelete))

	// IP access control rules (admin); see ipaccess.go for the paths.
	s.ipAccessRoutes(mux)

	// Tyk-compatible instance admin API (/admin/...) and /api/users; see tyk.go.
	s.tykRoutes(mux)

	// Sign-in, sessions, sign-in activity and invitations.
	mux.Handle("POST /users/sign_in", s.handle(s.handleSignIn))
	mux.Handle("DELETE /users/sign_out", s.handle(s.handleSignOut))
	mux.Handle("GET /users/invitation/accept", s.handle(s.handleInvitationPage))
	mux.Handle("POST /users/invitation", s.handle(s.handleInvitationAccept))
	mux.Handle("GET /api/v1/admin/users/{id}/signin_activities", s.requireAdmin(s.handleSignInActivities))
	mux.Handle("POST /api/v1/admin/users/{id}/resend_invitation", s.requireAdmin(s.handleResendInvitation))
	mux.Handle("POST /api/v1/admin/users/{id}/expire_session", s.requireAdmin(s.handleExpireSession))

	// Stories, agents (actions), events, webhooks, the Job Management
	// Admin API and Prometheus metrics.
	s.jobRoutes(mux)
	s.storyRoutes(mux)

	// The audit log (audit.go).
	mux.Handle("GET /api/v1/audit_logs", s.requireUser(s.handleAuditLogList))

	// The API contract: the OpenAPI document and the reference page built from it.
	mux.HandleFunc("GET /api/openapi.json", s.handleOpenAPI)
	mux.HandleFunc("GET /api/docs", s.handleDocs)
	mux.HandleFunc("GET /api/docs/redoc.standalone.js", s.handleDocsScript)
}
