package httpapi

import (
	"encoding/json"
	"log/slog"
	"net/http"

	"github.com/steward-dev/steward"
)

// codeStatus is the one table from error code to HTTP status.
var codeStatus = map[string]int{
	steward.EINVALID:         http.StatusUnprocessableEntity,
	steward.EMALFORMED:       http.StatusBadRequest,
	steward.ENOTFOUND:        http.StatusNotFound,
	steward.ECONFLICT:        http.StatusConflict,
	steward.EUNAUTHORIZED:    http.StatusUnauthorized,
	steward.EFORBIDDEN:       http.StatusForbidden,
	steward.ETOOLARGE:        http.StatusRequestEntityTooLarge,
	steward.ETOOMANYREQUESTS: http.StatusTooManyRequests,
	steward.EINTERNAL:        http.StatusInternalServerError,
}

// ErrorStatus returns the HTTP status for an error's code.
func ErrorStatus(err error) int {
	if s, ok := codeStatus[steward.ErrorCode(err)]; ok {
		return s
	}
	return http.StatusInternalServerError
}

// Problem is an RFC 9457 problem details body. Errors repeats the detail in
// the shape Tines' SDK reads (errors[].message), naming the field at fault.
type Problem struct {
	Type   string         `json:"type"`
	Title  string         `json:"title"`
	Status int            `json:"status"`
	Detail string         `json:"detail"`
	Errors []ProblemError `json:"errors"`
}

// ProblemError is one entry of Problem.Errors.
type ProblemError struct {
	Message string `json:"message"`
	Field   string `json:"field,omitempty"`
}

// writeError renders err as problem JSON. Internal errors are logged with
// the request id and never described to the client.
func writeError(w http.ResponseWriter, r *http.Request, log *slog.Logger, err error) {
	status := ErrorStatus(err)
	if status == http.StatusInternalServerError {
		log.ErrorContext(r.Context(), "request failed", "method", r.Method, "path", r.URL.Path,
			"request_id", requestID(r.Context()), "error", err)
	}
	if status == http.StatusUnauthorized {
		w.Header().Set("WWW-Authenticate", `Bearer realm="steward"`)
	}
	writeProblem(w, status, steward.ErrorMessage(err), steward.ErrorField(err))
}

// writeProblem writes a problem body with the given status and detail.
func writeProblem(w http.ResponseWriter, status int, detail, field string) {
	p := Problem{
		Type:   "about:blank",
		Title:  http.StatusText(status),
		Status: status,
		Detail: detail,
		Errors: []ProblemError{{Message: detail, Field: field}},
	}
	w.Header().Set("Content-Type", "application/problem+json")
	w.Header().Set("X-Content-Type-Options", "nosniff")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(p)
}
