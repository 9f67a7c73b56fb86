package httpapi

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"mime"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/steward-dev/steward"
)

// The audit log over HTTP. Every routed request carries a
// steward.PendingAudit in its context, built by auditRoute: for a
// state-changing route it is armed, and the store writes it in the
// transaction that commits the request's change (so a request that changes
// nothing, such as one refused by validation, leaves no record). The
// authentication wrappers name the actor; a request refused with 403 is
// recorded explicitly by auditRefusal.

// maxAuditBody is how much of a request body is kept as audit inputs;
// larger bodies are noted, not recorded.
const maxAuditBody = 64 << 10

// auditRoute wraps the handler of one route pattern so that its requests
// carry their audit record.
func (s *Server) auditRoute(pattern string, h http.Handler) http.Handler {
	if unauditedRoutes[strings.TrimSuffix(pattern, "/{$}")] {
		return h
	}
	op, armed := auditOperation(pattern)
	if op == "" {
		op = strings.TrimSuffix(pattern, "/{$}")
	}
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		p := steward.NewPendingAudit(op, armed)
		var inputs map[string]any
		if armed {
			inputs = auditInputs(r, pattern)
		}
		p.Update(func(a *steward.AuditLog) {
			a.RequestIP, a.UserAgent = s.clientIP(r), steward.Truncate(r.UserAgent(), 512)
			a.Inputs = inputs
		})
		r = r.WithContext(steward.WithPendingAudit(r.Context(), p))
		h.ServeHTTP(w, r)
		if rec, ok := w.(*statusRecorder); ok && armed && rec.status >= 200 && rec.status < 300 && !p.Written() {
			// It succeeded without changing anything (signing out without
			// a session, purging an empty queue): still an operation.
			s.writeAuditNow(r, p)
		}
	})
}

// writeAuditNow writes the request's record on its own, unless it is
// already written.
func (s *Server) writeAuditNow(r *http.Request, p *steward.PendingAudit) {
	if s.AuditLogs == nil {
		return
	}
	entry, ok := p.ClaimAny()
	if !ok {
		return
	}
	err := s.AuditLogs.CreateAuditLog(context.WithoutCancel(r.Context()), &entry)
	p.Release(err == nil)
	if err != nil {
		s.Log.Error("write audit record", "request_id", requestID(r.Context()), "operation", entry.OperationName, "error", err)
	}
}

// auditActor names the authenticated user as the actor of the request.
func auditActor(r *http.Request, u *steward.User) {
	steward.PendingAuditFrom(r.Context()).SetActor(u)
}

// auditRefusal records a request refused with EFORBIDDEN: valid
// credentials asking for something they may not do. It writes the record
// on its own, since nothing else changes.
func (s *Server) auditRefusal(r *http.Request, err error) {
	if steward.ErrorCode(err) != steward.EFORBIDDEN || s.AuditLogs == nil {
		return
	}
	p := steward.PendingAuditFrom(r.Context())
	if p == nil {
		return
	}
	p.Update(func(a *steward.AuditLog) {
		if a.Inputs == nil {
			a.Inputs = map[string]any{}
		}
		a.Inputs["operation"] = a.OperationName
		a.Inputs["method"], a.Inputs["path"] = r.Method, steward.Truncate(r.URL.Path, 1024)
		a.OperationName = opAuthorizationRefusal
		a.Outputs = map[string]any{"status": http.StatusForbidden, "error": steward.ErrorMessage(err)}
	})
	s.writeAuditNow(r, p)
}

// auditInputs describes a request for its audit record: path parameters,
// query parameters and the fields of a JSON or URL-encoded body. Secret
// fields are redacted when the record is written (steward.RedactSecrets).
// The body is read here and handed on unchanged.
func auditInputs(r *http.Request, pattern string) map[string]any {
	in := map[string]any{}
	if r.Body != nil && r.Body != http.NoBody {
		prefix, _ := io.ReadAll(io.LimitReader(r.Body, maxAuditBody+1))
		r.Body = struct {
			io.Reader
			io.Closer
		}{io.MultiReader(bytes.NewReader(prefix), r.Body), r.Body}
		ct, _, _ := mime.ParseMediaType(r.Header.Get("Content-Type"))
		switch {
		case len(prefix) == 0:
		case len(prefix) > maxAuditBody:
			in["body_truncated"] = true
		case ct == "application/x-www-form-urlencoded":
			if v, err := url.ParseQuery(string(prefix)); err == nil {
				addValues(in, v)
			}
		case ct == "multipart/form-data":
			in["body_bytes"] = len(prefix)
		default:
			var body map[string]any
			if err := json.Unmarshal(prefix, &body); err == nil {
				for k, v := range body {
					in[k] = v
				}
			} else {
				in["body_bytes"] = len(prefix)
			}
		}
	}
	addValues(in, r.URL.Query())
	for _, seg := range strings.Split(pattern, "/") {
		if name, ok := strings.CutPrefix(seg, "{"); ok {
			name = strings.TrimSuffix(strings.TrimSuffix(name, "}"), "...")
			if name != "$" {
				in[name] = r.PathValue(name)
			}
		}
	}
	return in
}

// addValues copies form or query values into in: one value as a string,
// several as a list.
func addValues(in map[string]any, v url.Values) {
	for k, vs := range v {
		switch len(vs) {
		case 0:
		case 1:
			in[k] = vs[0]
		default:
			list := make([]any, len(vs))
			for i, s := range vs {
				list[i] = s
			}
			in[k] = list
		}
	}
}

// auditLogView is a record as Tines lists it.
type auditLogView struct {
	ID               int64          `json:"id"`
	CreatedAt        Time           `json:"created_at"`
	UpdatedAt        Time           `json:"updated_at"`
	OperationName    string         `json:"operation_name"`
	Inputs           map[string]any `json:"inputs"`
	Outputs          map[string]any `json:"outputs"`
	RequestIP        string         `json:"request_ip"`
	RequestUserAgent string         `json:"request_user_agent"`
	StoryID          *int64         `json:"story_id"`
	TenantID         *int64         `json:"tenant_id"`
	UserID           *int64         `json:"user_id"`
	UserEmail        string         `json:"user_email"`
	UserName         string         `json:"user_name"`
}

func newAuditLogView(a *steward.AuditLog) auditLogView {
	v := auditLogView{ID: a.ID, CreatedAt: Time(a.CreatedAt), UpdatedAt: Time(a.UpdatedAt), OperationName: a.OperationName,
		Inputs: a.Inputs, Outputs: a.Outputs, RequestIP: a.RequestIP, RequestUserAgent: a.UserAgent,
		StoryID: a.StoryID, TenantID: a.TenantID, UserID: a.UserID, UserEmail: a.UserEmail, UserName: a.UserName}
	if v.Inputs == nil {
		v.Inputs = map[string]any{}
	}
	if v.Outputs == nil {
		v.Outputs = map[string]any{}
	}
	return v
}

// canReadAuditLog is the audit log's read policy: tenant admins, and users
// holding the AUDIT_LOG_READ tenant permission.
func canReadAuditLog(u *steward.User) bool {
	return u.Admin || slices.Contains(u.TenantPermissions, steward.PermissionAuditLogRead)
}

// handleAuditLogList lists the caller's tenant's audit records, newest first.
func (s *Server) handleAuditLogList(w http.ResponseWriter, r *http.Request) error {
	u := principal(r.Context()).User
	if !canReadAuditLog(u) {
		return steward.Errorf(steward.EFORBIDDEN, "reading the audit log needs a tenant admin or the %s tenant permission", steward.PermissionAuditLogRead)
	}
	f := steward.AuditLogFilter{TenantID: u.TenantID}
	var err error
	if f.PageRequest, err = parsePage(r); err != nil {
		return err
	}
	if f.Before, err = queryTime(r, "before"); err != nil {
		return err
	}
	if f.After, err = queryTime(r, "after"); err != nil {
		return err
	}
	q := r.URL.Query()
	for _, v := range append(q["user_id[]"], q["user_id"]...) {
		for _, part := range strings.Split(v, ",") {
			part = strings.TrimSpace(part)
			if part == "" {
				continue
			}
			id, err := strconv.ParseInt(part, 10, 64)
			if err != nil || id < 1 {
				return &steward.Error{Code: steward.EMALFORMED, Field: "user_id",
					Message: "user_id[] must be user ids (whole numbers of at least 1), got " + strconv.Quote(part)}
			}
			f.UserIDs = append(f.UserIDs, id)
		}
	}
	for _, v := range append(q["operation_name[]"], q["operation_name"]...) {
		for _, part := range strings.Split(v, ",") {
			if part = strings.TrimSpace(part); part != "" {
				f.OperationNames = append(f.OperationNames, part)
			}
		}
	}
	if len(f.UserIDs) > 100 || len(f.OperationNames) > 100 {
		return steward.Errorf(steward.EMALFORMED, "at most 100 user_id[] and 100 operation_name[] values per request")
	}
	logs, total, err := s.AuditLogs.FindAuditLogs(r.Context(), f)
	if err != nil {
		return err
	}
	views := make([]auditLogView, len(logs))
	for i, a := range logs {
		views[i] = newAuditLogView(a)
	}
	writeJSON(w, http.StatusOK, map[string]any{"audit_logs": views, "meta": s.pageMeta(r, f.PageRequest, total)})
	return nil
}

// PruneAuditLogs deletes audit records older than Config.AuditRetention
// (0 keeps them forever) in bounded batches, returning how many went.
func (s *Server) PruneAuditLogs(ctx context.Context) (int, error) {
	if s.Config.AuditRetention <= 0 || s.AuditLogs == nil {
		return 0, nil
	}
	return s.AuditLogs.PruneAuditLogs(ctx, s.Clock.Now().Add(-s.Config.AuditRetention), 5000)
}

// runAuditRetention is one retention pass over the audit log.
func (s *Server) runAuditRetention(ctx context.Context) {
	if n, err := s.PruneAuditLogs(ctx); err != nil && ctx.Err() == nil {
		s.Log.Warn("prune audit log", "error", err)
	} else if n > 0 {
		s.Log.Info("pruned audit log", "records", n)
	}
}

// defaultAuditRetention is how long audit records are kept by default.
const defaultAuditRetention = 365 * 24 * time.Hour
