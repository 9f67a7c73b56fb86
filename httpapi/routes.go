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

	// The API contract: the OpenAPI document and the reference page built from it.
	mux.HandleFunc("GET /api/openapi.json", s.handleOpenAPI)
	mux.HandleFunc("GET /api/docs", s.handleDocs)
	mux.HandleFunc("GET /api/docs/redoc.standalone.js", s.handleDocsScript)
}
