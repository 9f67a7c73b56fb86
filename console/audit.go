package console

import (
	"bytes"
	"encoding/json"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/steward-dev/steward"
)

// auditRecord is an audit record as the API lists it.
type auditRecord struct {
	ID               int64          `json:"id"`
	CreatedAt        time.Time      `json:"created_at"`
	OperationName    string         `json:"operation_name"`
	Inputs           map[string]any `json:"inputs"`
	Outputs          map[string]any `json:"outputs"`
	RequestIP        string         `json:"request_ip"`
	RequestUserAgent string         `json:"request_user_agent"`
	UserID           *int64         `json:"user_id"`
	UserEmail        string         `json:"user_email"`
	UserName         string         `json:"user_name"`
}

// maxAgentSummary is how much of a user agent the table shows before
// the rest goes behind "more".
const maxAgentSummary = 40

// AgentSummary is the start of the record's user agent.
func (a auditRecord) AgentSummary() string {
	if len(a.RequestUserAgent) <= maxAgentSummary {
		return a.RequestUserAgent
	}
	return steward.Truncate(a.RequestUserAgent, maxAgentSummary) + "…"
}

// AgentShortened reports whether AgentSummary leaves some of it out.
func (a auditRecord) AgentShortened() bool { return len(a.RequestUserAgent) > maxAgentSummary }

// maxAuditSummary is how many characters of a record's inputs or outputs
// the table shows before the rest goes behind "more".
const maxAuditSummary = 120

// InputsSummary is the record's inputs as compact JSON, shortened.
func (a auditRecord) InputsSummary() string { return summarize(a.Inputs) }

// OutputsSummary is the record's outputs as compact JSON, shortened.
func (a auditRecord) OutputsSummary() string { return summarize(a.Outputs) }

// InputsFull is the record's inputs as indented JSON, when the summary
// leaves some out; otherwise "".
func (a auditRecord) InputsFull() string { return fullJSON(a.Inputs) }

// OutputsFull is the record's outputs as indented JSON, when the summary
// leaves some out; otherwise "".
func (a auditRecord) OutputsFull() string { return fullJSON(a.Outputs) }

// marshalText writes m as JSON without escaping <, > and & (the page
// escapes what it shows).
func marshalText(m map[string]any, indent string) ([]byte, error) {
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	enc.SetIndent("", indent)
	if err := enc.Encode(m); err != nil {
		return nil, err
	}
	return bytes.TrimSuffix(buf.Bytes(), []byte("\n")), nil
}

func summarize(m map[string]any) string {
	if len(m) == 0 {
		return ""
	}
	b, err := marshalText(m, "")
	if err != nil {
		return ""
	}
	if len(b) <= maxAuditSummary {
		return string(b)
	}
	return steward.Truncate(string(b), maxAuditSummary) + "…"
}

func fullJSON(m map[string]any) string {
	if len(m) == 0 {
		return ""
	}
	b, err := marshalText(m, "")
	if err != nil || len(b) <= maxAuditSummary {
		return ""
	}
	b, _ = marshalText(m, "  ")
	return string(b)
}

const auditPerPage = 25

// auditFields are the filter inputs, named as the API's parameters (the
// API names user_id[] and operation_name[] without the brackets).
var auditFields = []string{"after", "before", "user_id", "operation_name"}

// auditPage is the audit log page's data.
type auditPage struct {
	Records  []auditRecord
	Pager    pager
	Filtered bool
	// Refused is true when the filter was refused and no records are shown.
	Refused bool
}

// canReadAudit mirrors the API's audit read policy for the navigation
// only; the API decides what is shown.
func canReadAudit(u *steward.User) bool {
	return u != nil && (u.Admin || slices.Contains(u.TenantPermissions, steward.PermissionAuditLogRead))
}

// handleAudit lists a page of the tenant's audit log, filtered by time
// range, user and operation name.
func (c *Console) handleAudit(w http.ResponseWriter, r *http.Request) error {
	in := r.URL.Query()
	form := url.Values{}
	api := url.Values{"per_page": {strconv.Itoa(auditPerPage)}}
	for _, f := range []string{"after", "before", "user_id", "operation_name"} {
		v := strings.TrimSpace(in.Get(f))
		if v == "" {
			continue
		}
		form.Set(f, v)
		name := f
		if f == "user_id" || f == "operation_name" {
			name += "[]"
		}
		api.Set(name, v)
	}
	page := 1
	if p := strings.TrimSpace(in.Get("page")); p != "" {
		// The API says what is wrong with a bad page number.
		api.Set("page", p)
		page, _ = strconv.Atoi(p)
	}
	var body struct {
		Records []auditRecord `json:"audit_logs"`
		Meta    meta          `json:"meta"`
	}
	v := &view{Title: "Audit log", Nav: "audit", Form: form}
	d := auditPage{Filtered: len(form) > 0}
	status := http.StatusOK
	if _, err := c.call(r, "GET", "/api/v1/audit_logs?"+api.Encode(), nil, &body); err != nil {
		var ok bool
		if status, ok = formError(v, err, auditFields...); !ok {
			return err
		}
		d.Refused = true
	} else {
		d.Records, d.Pager = body.Records, newPager(r, "page", max(page, 1), body.Meta)
	}
	v.Data = d
	c.render(w, r, status, "audit", v)
	return nil
}
