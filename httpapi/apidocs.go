package httpapi

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"net/http"
	"time"

	"github.com/steward-dev/steward/httpapi/apidoc"
)

// docsCSP lets the reference page run only its own script (Redoc styles
// itself inline and starts a worker from a blob) and reach only this server.
const docsCSP = "default-src 'none'; script-src 'self'; style-src 'self' 'unsafe-inline'; img-src 'self' data:; " +
	"font-src 'self' data:; connect-src 'self'; worker-src blob:; base-uri 'none'; form-action 'none'; frame-ancestors 'none'"

// serveEmbedded answers with an embedded file, with an ETag from its
// contents so clients revalidate cheaply.
func serveEmbedded(w http.ResponseWriter, r *http.Request, contentType string, data []byte) {
	sum := sha256.Sum256(data)
	w.Header().Set("Content-Type", contentType)
	w.Header().Set("X-Content-Type-Options", "nosniff")
	w.Header().Set("ETag", `"`+hex.EncodeToString(sum[:12])+`"`)
	w.Header().Set("Cache-Control", "no-cache")
	http.ServeContent(w, r, "", time.Time{}, bytes.NewReader(data))
}

// handleOpenAPI serves the OpenAPI document.
func (s *Server) handleOpenAPI(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("Access-Control-Allow-Origin", "*")
	serveEmbedded(w, r, "application/json", apidoc.OpenAPI)
}

// handleDocs serves the interactive API reference page.
func (s *Server) handleDocs(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("Content-Security-Policy", docsCSP)
	w.Header().Set("Referrer-Policy", "no-referrer")
	serveEmbedded(w, r, "text/html; charset=utf-8", apidoc.DocsPage)
}

// handleDocsScript serves the bundled viewer script of the reference page.
func (s *Server) handleDocsScript(w http.ResponseWriter, r *http.Request) {
	serveEmbedded(w, r, "text/javascript; charset=utf-8", apidoc.RedocScript)
}
