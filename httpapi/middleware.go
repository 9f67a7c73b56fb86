package httpapi

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"net/http"
	"runtime/debug"
	"strings"
	"time"

	"github.com/steward-dev/steward"
)

type ctxKey int

const (
	requestIDKey ctxKey = iota
	principalKey
)

// requestID returns the request's id, set by the middleware.
func requestID(ctx context.Context) string {
	id, _ := ctx.Value(requestIDKey).(string)
	return id
}

// statusRecorder remembers the status a handler wrote. For a
// state-changing request it runs beforeAnswer once, just before the first
// byte of the answer goes out (the change is committed by then).
type statusRecorder struct {
	http.ResponseWriter
	status       int
	bytes        int
	beforeAnswer func()
}

func (w *statusRecorder) answering() {
	if w.beforeAnswer != nil {
		w.beforeAnswer()
		w.beforeAnswer = nil
	}
}

func (w *statusRecorder) WriteHeader(code int) {
	w.answering()
	if w.status == 0 {
		w.status = code
	}
	w.ResponseWriter.WriteHeader(code)
}

func (w *statusRecorder) Write(b []byte) (int, error) {
	w.answering()
	if w.status == 0 {
		w.status = http.StatusOK
	}
	n, err := w.ResponseWriter.Write(b)
	w.bytes += n
	return n, err
}

// Unwrap lets http.ResponseController reach the underlying writer.
func (w *statusRecorder) Unwrap() http.ResponseWriter { return w.ResponseWriter }

// middleware wraps every request: a request id (kept from X-Request-Id when
// the client sends a sane one), panic recovery, JSON 404/405 for unknown
// routes and methods, and one structured log line.
func (s *Server) middleware(mux *http.ServeMux) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		start := time.Now()
		id := r.Header.Get("X-Request-Id")
		if len(id) == 0 || len(id) > 64 {
			b := make([]byte, 8)
			rand.Read(b)
			id = hex.EncodeToString(b)
		}
		w.Header().Set("X-Request-Id", id)
		r = s.withClientAddr(r.WithContext(context.WithValue(r.Context(), requestIDKey, id)))
		rec := &statusRecorder{ResponseWriter: w}
		switch r.Method {
		case http.MethodGet, http.MethodHead, http.MethodOptions:
		default:
			// A change to users or keys must hold from the next request on.
			rec.beforeAnswer = s.creds.purge
			defer rec.answering()
		}
		_, pattern := mux.Handler(r)
		defer func() {
			if v := recover(); v != nil {
				if v == http.ErrAbortHandler {
					panic(v)
				}
				s.Log.Error("panic serving request", "request_id", id, "method", r.Method, "path", r.URL.Path,
					"panic", fmt.Sprint(v), "stack", string(debug.Stack()))
				if rec.status == 0 {
					writeProblem(rec, http.StatusInternalServerError, "Internal error.", "")
				}
			}
			s.Log.Info("request", "request_id", id, "method", r.Method, "path", r.URL.Path,
				"status", rec.status, "bytes", rec.bytes, "duration_ms", float64(time.Since(start).Microseconds())/1000)
			s.observeRequest(pattern, rec.status, time.Since(start))
		}()
		if s.refuseBanned(rec, r) {
			return
		}
		if pattern == "" {
			s.unrouted(rec, r, mux)
			return
		}
		if strings.Contains(r.URL.RawQuery, "%00") {
			if err := checkValuesNoNUL(r.URL.Query(), steward.EMALFORMED, "query parameter"); err != nil {
				writeError(rec, r, s.Log, err)
				return
			}
		}
		mux.ServeHTTP(rec, r)
	})
}

// unrouted answers a request no route matched, with the mux's own status
// (404, or 405 with its Allow header) but a problem JSON body.
func (s *Server) unrouted(w http.ResponseWriter, r *http.Request, mux *http.ServeMux) {
	probe := &headerProbe{header: http.Header{}}
	h, _ := mux.Handler(r)
	h.ServeHTTP(probe, r)
	if allow := probe.header.Get("Allow"); allow != "" {
		w.Header().Set("Allow", allow)
	}
	switch probe.status {
	case http.StatusMethodNotAllowed:
		writeProblem(w, probe.status, fmt.Sprintf("method %s is not allowed here; allowed: %s", r.Method, probe.header.Get("Allow")), "")
	case http.StatusNotFound, 0:
		writeProblem(w, http.StatusNotFound, fmt.Sprintf("no route for %s %s", r.Method, r.URL.Path), "")
	default: // a redirect (such as cleaning a path): let the mux answer
		for k, v := range probe.header {
			w.Header()[k] = v
		}
		w.WriteHeader(probe.status)
	}
}

// headerProbe captures what the mux's fallback handler would write.
type headerProbe struct {
	header http.Header
	status int
}

func (p *headerProbe) Header() http.Header { return p.header }
func (p *headerProbe) Write(b []byte) (int, error) {
	if p.status == 0 {
		p.status = http.StatusOK
	}
	return len(b), nil
}
func (p *headerProbe) WriteHeader(code int) {
	if p.status == 0 {
		p.status = code
	}
}
