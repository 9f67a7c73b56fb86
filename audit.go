package steward

import (
	"context"
	"strings"
	"sync"
	"time"
)

// PermissionAuditLogRead is the tenant permission that lets a non-admin
// read the tenant's audit log.
const PermissionAuditLogRead = "AUDIT_LOG_READ"

// AuditLog is one record of who changed what: written in the same
// transaction as the change it describes, so neither exists without the
// other. Inputs and Outputs never hold secrets (see RedactSecrets).
type AuditLog struct {
	ID            int64
	TenantID      *int64 // the tenant the change touched; nil when none is known (an unknown email's failed sign-in)
	UserID        *int64 // nil for the instance admin and the command line
	UserEmail     string
	UserName      string
	OperationName string
	Inputs        map[string]any
	Outputs       map[string]any
	RequestIP     string
	UserAgent     string
	StoryID       *int64
	CreatedAt     time.Time
	UpdatedAt     time.Time
}

// AuditLogFilter selects a page of one tenant's audit log.
type AuditLogFilter struct {
	TenantID       int64
	Before         *time.Time
	After          *time.Time
	UserIDs        []int64
	OperationNames []string
	PageRequest
}

// AuditCountLimit is where counting a filtered audit log stops: listings
// report at most this many records in total (page past it with before).
const AuditCountLimit = 10_000

// AuditLogService stores audit records.
type AuditLogService interface {
	// CreateAuditLog inserts a record on its own, for events that change
	// nothing else (a refused request). Changes carry their record through
	// a PendingAudit in their context instead.
	CreateAuditLog(ctx context.Context, a *AuditLog) error
	// FindAuditLogs returns one page of a tenant's records, newest first,
	// and the total, counted up to AuditCountLimit.
	FindAuditLogs(ctx context.Context, f AuditLogFilter) ([]*AuditLog, int, error)
	// PruneAuditLogs deletes records created before a time, at most batch
	// rows per transaction, returning how many went.
	PruneAuditLogs(ctx context.Context, before time.Time, batch int) (int, error)
}

// PendingAudit is the audit record of one request or command, waiting for
// the transaction that commits its change. The store writes it inside the
// first transaction that changes something and commits, and never again, so
// a request leaves exactly one record, and none when it changes nothing.
// It is safe for concurrent use.
type PendingAudit struct {
	mu      sync.Mutex
	entry   AuditLog
	armed   bool
	claimed bool
	written bool
}

type pendingAuditKey struct{}

// NewPendingAudit starts the record of an operation. armed says whether a
// store transaction may write it (state-changing requests); an unarmed
// record can only be written explicitly, as for a refused request.
func NewPendingAudit(operation string, armed bool) *PendingAudit {
	return &PendingAudit{entry: AuditLog{OperationName: operation}, armed: armed}
}

// WithPendingAudit returns ctx carrying p.
func WithPendingAudit(ctx context.Context, p *PendingAudit) context.Context {
	return context.WithValue(ctx, pendingAuditKey{}, p)
}

// PendingAuditFrom returns the record ctx carries, or nil.
func PendingAuditFrom(ctx context.Context) *PendingAudit {
	p, _ := ctx.Value(pendingAuditKey{}).(*PendingAudit)
	return p
}

// Update changes the record under its lock. It does nothing on nil.
func (p *PendingAudit) Update(fn func(a *AuditLog)) {
	if p == nil {
		return
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	fn(&p.entry)
}

// SetActor records who acts: a user of a tenant.
func (p *PendingAudit) SetActor(u *User) {
	if u == nil {
		return
	}
	p.Update(func(a *AuditLog) {
		id, tenant := u.ID, u.TenantID
		a.UserID, a.TenantID = &id, &tenant
		a.UserEmail = u.Email
		a.UserName = strings.TrimSpace(u.FirstName + " " + u.LastName)
	})
}

// AuditTenant records, from inside a store transaction, the tenant an
// operation touched when the caller did not know it (an instance admin
// creating an organisation). A tenant already set is kept.
func AuditTenant(ctx context.Context, tenantID int64) {
	PendingAuditFrom(ctx).Update(func(a *AuditLog) {
		if a.TenantID == nil {
			a.TenantID = &tenantID
		}
	})
}

// AuditOutput adds an output (such as the id of a created object) to the
// operation's record, from inside the transaction that writes it.
func AuditOutput(ctx context.Context, key string, value any) {
	PendingAuditFrom(ctx).Update(func(a *AuditLog) {
		if a.Outputs == nil {
			a.Outputs = map[string]any{}
		}
		a.Outputs[key] = value
	})
}

// Claim hands the record to a transaction about to commit, or returns
// false when it is not armed or already written or claimed. The caller
// must call Release with whether the commit succeeded.
func (p *PendingAudit) Claim() (AuditLog, bool) {
	if p == nil {
		return AuditLog{}, false
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	if !p.armed || p.claimed || p.written {
		return AuditLog{}, false
	}
	p.claimed = true
	e := p.entry
	e.Inputs = RedactSecrets(e.Inputs)
	e.Outputs = RedactSecrets(e.Outputs)
	return e, true
}

// ClaimAny is Claim for an explicit write: it ignores whether the record
// is armed.
func (p *PendingAudit) ClaimAny() (AuditLog, bool) {
	if p == nil {
		return AuditLog{}, false
	}
	p.mu.Lock()
	armed := p.armed
	p.armed = true
	p.mu.Unlock()
	e, ok := p.Claim()
	if !ok {
		p.mu.Lock()
		p.armed = armed
		p.mu.Unlock()
	}
	return e, ok
}

// Release ends a Claim: committed marks the record written for good;
// otherwise a later transaction may write it.
func (p *PendingAudit) Release(committed bool) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.claimed = false
	if committed {
		p.written = true
	}
}

// Written reports whether the record has been committed.
func (p *PendingAudit) Written() bool {
	if p == nil {
		return false
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.written
}

// Redacted replaces the value of every secret field in audit inputs and outputs.
const Redacted = "[FILTERED]"

// secretFieldParts are substrings of field names whose values are secrets.
var secretFieldParts = []string{"password", "secret", "token", "key", "hash", "authorization", "cookie", "credential", "session"}

// IsSecretField reports whether a field of this name holds a secret
// (password, current_password, api_key, access_key, invitation_token,
// admin-auth, ...). It errs on the side of hiding.
func IsSecretField(name string) bool {
	n := strings.ToLower(name)
	if n == "admin-auth" || n == "admin_auth" {
		return true
	}
	for _, part := range secretFieldParts {
		if strings.Contains(n, part) {
			return true
		}
	}
	return false
}

// RedactSecrets returns a deep copy of m in which the value of every
// secret field, at any depth, is Redacted.
func RedactSecrets(m map[string]any) map[string]any {
	if m == nil {
		return nil
	}
	out := make(map[string]any, len(m))
	for k, v := range m {
		if IsSecretField(k) {
			out[k] = Redacted
			continue
		}
		out[k] = redactValue(v)
	}
	return out
}

func redactValue(v any) any {
	switch t := v.(type) {
	case map[string]any:
		return RedactSecrets(t)
	case []any:
		out := make([]any, len(t))
		for i, e := range t {
			out[i] = redactValue(e)
		}
		return out
	case []string:
		return append([]string(nil), t...)
	default:
		return v
	}
}
