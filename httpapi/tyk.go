package httpapi

import (
	"bytes"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/json"
	"fmt"
	"net/http"
	"strconv"
	"strings"

	"github.com/steward-dev/steward"
)

// The Tyk-compatible API: the instance admin API under /admin (header
// admin-auth) and the organisation-level /api/users (header authorization
// carrying a user's raw access key). Its responses follow Tyk's Dashboard
// rather than Steward's problem+json: an envelope {"Status","Message","Meta"}
// in compact JSON with the keys in that order, because Tyk's clients read
// it with awk and compare strings.

// tykPageSize is the page size of Tyk's paginated lists.
const tykPageSize = 10

// tykResponse is Tyk's envelope. The field order is the key order clients
// depend on.
type tykResponse struct {
	Status  string `json:"Status"`
	Message string `json:"Message"`
	Meta    any    `json:"Meta"`
}

// tykCodeStatus maps error codes to statuses on the Tyk endpoints. It
// differs from codeStatus where Tyk does: a rule broken by valid JSON is
// 400 (Tyk has no 422), and a duplicate email is 403.
var tykCodeStatus = map[string]int{
	steward.EINVALID:         http.StatusBadRequest,
	steward.EMALFORMED:       http.StatusBadRequest,
	steward.ENOTFOUND:        http.StatusNotFound,
	steward.ECONFLICT:        http.StatusForbidden,
	steward.EUNAUTHORIZED:    http.StatusUnauthorized,
	steward.EFORBIDDEN:       http.StatusForbidden,
	steward.ETOOLARGE:        http.StatusRequestEntityTooLarge,
	steward.ETOOMANYREQUESTS: http.StatusTooManyRequests,
	steward.EINTERNAL:        http.StatusInternalServerError,
}

// Messages that Tyk's clients compare as strings.
const (
	tykNotAuthorised   = "Not authorised"
	tykMalformed       = "Request body malformed"
	tykEmailExists     = "User email already exists for this Org"
	tykUserNotFound    = "User not found"
	tykUserNotRetrieve = "Could not retrieve user detail"
	tykOrgNotRetrieve  = "Could not retrieve org detail"
)

// writeTyk writes v as compact JSON, without the trailing newline that
// json.Encoder adds, so a body compares equal to Tyk's byte for byte.
func writeTyk(w http.ResponseWriter, status int, v any) {
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(v); err != nil {
		status, buf = http.StatusInternalServerError, bytes.Buffer{}
		buf.WriteString(`{"Status":"Error","Message":"Internal error.","Meta":null}`)
	}
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("X-Content-Type-Options", "nosniff")
	w.WriteHeader(status)
	_, _ = w.Write(bytes.TrimSuffix(buf.Bytes(), []byte("\n")))
}

// writeTykOK writes a 200 OK envelope.
func writeTykOK(w http.ResponseWriter, message string, meta any) {
	writeTyk(w, http.StatusOK, tykResponse{Status: "OK", Message: message, Meta: meta})
}

// tykHandle adapts a handlerFunc for the Tyk endpoints: a returned error
// becomes an error envelope. Internal errors are logged, never described.
func (s *Server) tykHandle(h handlerFunc) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		err := h(w, r)
		if err == nil {
			return
		}
		s.auditRefusal(r, err)
		status, ok := tykCodeStatus[steward.ErrorCode(err)]
		if !ok {
			status = http.StatusInternalServerError
		}
		msg := steward.ErrorMessage(err)
		if status == http.StatusInternalServerError {
			s.Log.ErrorContext(r.Context(), "request failed", "method", r.Method, "path", r.URL.Path,
				"request_id", requestID(r.Context()), "error", err)
			msg = "Internal error."
		}
		writeTyk(w, status, tykResponse{Status: "Error", Message: msg})
	})
}

// requireInstanceAdmin admits requests whose admin-auth header equals
// Config.AdminSecret. Both sides are hashed first so that the constant-time
// comparison does not even reveal the secret's length. An empty secret
// disables the instance admin API.
func (s *Server) requireInstanceAdmin(h handlerFunc) http.Handler {
	want := sha256.Sum256([]byte(s.Config.AdminSecret))
	enabled := s.Config.AdminSecret != ""
	return s.tykHandle(func(w http.ResponseWriter, r *http.Request) error {
		sent := r.Header.Get("admin-auth")
		got := sha256.Sum256([]byte(sent))
		if subtle.ConstantTimeCompare(got[:], want[:]) != 1 || !enabled {
			if enabled && sent != "" {
				s.authFailed(r)
			}
			return tykErr(steward.EUNAUTHORIZED, tykNotAuthorised)
		}
		steward.PendingAuditFrom(r.Context()).Update(func(a *steward.AuditLog) { a.UserName = "instance admin (admin-auth)" })
		return h(w, r)
	})
}

// tykRoute registers h for method and path and for path with a trailing
// slash, since Tyk's clients use both forms.
func tykRoute(mux *recordingMux, method, path string, h http.Handler) {
	mux.Handle(method+" "+path, h)
	mux.Handle(method+" "+path+"/{$}", h)
}

// tykRoutes registers the Tyk-compatible API.
func (s *Server) tykRoutes(mux *recordingMux) {
	hello := s.requireInstanceAdmin(func(w http.ResponseWriter, r *http.Request) error {
		writeTykOK(w, "Hello", nil)
		return nil
	})
	tykRoute(mux, "GET", "/admin/hello", hello)

	tykRoute(mux, "GET", "/admin/organisations", s.requireInstanceAdmin(s.handleTykOrgList))
	tykRoute(mux, "POST", "/admin/organisations", s.requireInstanceAdmin(s.handleTykOrgCreate))
	tykRoute(mux, "POST", "/admin/organisations/import", s.requireInstanceAdmin(s.handleTykOrgImport))
	tykRoute(mux, "GET", "/admin/organisations/{id}", s.requireInstanceAdmin(s.handleTykOrgGet))
	tykRoute(mux, "PUT", "/admin/organisations/{id}", s.requireInstanceAdmin(s.handleTykOrgUpdate))
	tykRoute(mux, "DELETE", "/admin/organisations/{id}", s.requireInstanceAdmin(s.handleTykOrgDelete))

	tykRoute(mux, "GET", "/admin/users", s.requireInstanceAdmin(s.handleTykAdminUserList))
	tykRoute(mux, "POST", "/admin/users", s.requireInstanceAdmin(s.handleTykAdminUserCreate))
	tykRoute(mux, "GET", "/admin/users/{id}", s.requireInstanceAdmin(s.handleTykAdminUserGet))
	tykRoute(mux, "PUT", "/admin/users/{id}", s.requireInstanceAdmin(s.handleTykAdminUserUpdate))
	tykRoute(mux, "DELETE", "/admin/users/{id}", s.requireInstanceAdmin(s.handleTykAdminUserDelete))
	tykRoute(mux, "PUT", "/admin/users/{id}/actions/allow_reset_passwords", s.requireInstanceAdmin(s.handleTykAllowResetPasswords(true)))
	tykRoute(mux, "PUT", "/admin/users/{id}/actions/disallow_reset_passwords", s.requireInstanceAdmin(s.handleTykAllowResetPasswords(false)))

	tykRoute(mux, "GET", "/api/users", s.requireTykUser(s.handleTykUserList))
	tykRoute(mux, "POST", "/api/users", s.requireTykUser(s.handleTykUserCreate))
	tykRoute(mux, "GET", "/api/users/{id}", s.requireTykUser(s.handleTykUserGet))
	tykRoute(mux, "PUT", "/api/users/{id}", s.requireTykUser(s.handleTykUserUpdate))
	tykRoute(mux, "DELETE", "/api/users/{id}", s.requireTykUser(s.handleTykUserDelete))
	tykRoute(mux, "POST", "/api/users/{id}/actions/reset", s.requireTykUser(s.handleTykUserResetPassword))
	tykRoute(mux, "PUT", "/api/users/{id}/actions/key/reset", s.requireTykUser(s.handleTykUserResetKey))
}

// tykID renders a Steward id as Tyk's 24 lower-case hex characters. It is
// a pure function of the id, so the same user or organisation always has
// the same Tyk id.
func tykID(id int64) string { return fmt.Sprintf("%024x", id) }

// decodeTyk reads a JSON object from the body whatever the Content-Type
// says (curl -d sends a form type). Unparseable JSON gets Tyk's message
// with status 400, not Tyk's 403: see the README.
func decodeTyk(r *http.Request, dst any) error {
	err := decodeJSON(r, dst)
	if steward.ErrorCode(err) == steward.EMALFORMED {
		return tykErr(steward.EMALFORMED, tykMalformed)
	}
	return err
}

// parseTykPage reads Tyk's p parameter: 1-based pages of tykPageSize; p
// absent, 0 or negative lists everything (PerPage 0).
func parseTykPage(r *http.Request) (steward.PageRequest, error) {
	v := strings.TrimSpace(r.URL.Query().Get("p"))
	if v == "" {
		return steward.PageRequest{Page: 1}, nil
	}
	p, err := strconv.Atoi(v)
	if err != nil {
		return steward.PageRequest{}, steward.Errorf(steward.EMALFORMED, "p must be a page number (1, 2, …; 0 or -1 for all), got %q", v)
	}
	if p <= 0 {
		return steward.PageRequest{Page: 1}, nil
	}
	return steward.PageRequest{Page: p, PerPage: tykPageSize}, nil
}

// tykPages is the number of pages of tykPageSize that hold total items.
func tykPages(total int) int {
	return (total + tykPageSize - 1) / tykPageSize
}

// tykErr is an error carrying one of Tyk's fixed messages.
func tykErr(code, message string) error {
	return &steward.Error{Code: code, Message: message}
}
