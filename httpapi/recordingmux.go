package httpapi

import (
	"net/http"
	"slices"
)

// recordingMux is the http.ServeMux the routes are registered on, remembering
// each pattern so the API's route list can be checked against its OpenAPI
// document.
type recordingMux struct {
	*http.ServeMux
	patterns []string
	// wrap, when set, wraps every handler with its pattern (the audit log).
	wrap func(pattern string, h http.Handler) http.Handler
}

func newRecordingMux() *recordingMux {
	return &recordingMux{ServeMux: http.NewServeMux()}
}

// Handle registers handler for pattern ("METHOD /path") and records it.
func (m *recordingMux) Handle(pattern string, handler http.Handler) {
	if m.wrap != nil {
		handler = m.wrap(pattern, handler)
	}
	m.ServeMux.Handle(pattern, handler)
	m.patterns = append(m.patterns, pattern)
}

// HandleFunc registers a handler function for pattern and records it.
func (m *recordingMux) HandleFunc(pattern string, handler func(http.ResponseWriter, *http.Request)) {
	m.Handle(pattern, http.HandlerFunc(handler))
}

// Routes returns every registered route pattern, such as
// "GET /api/v1/admin/users/{id}", in registration order.
func (s *Server) Routes() []string {
	return slices.Clone(s.mux.patterns)
}
