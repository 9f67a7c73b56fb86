package httpapi

import (
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/steward-dev/steward"
)

// auditTimeLayouts are the timestamp forms the audit log's before and
// after accept; a time without a zone is UTC.
var auditTimeLayouts = []string{time.RFC3339Nano, "2006-01-02T15:04:05.999999999", "2006-01-02T15:04", "2006-01-02 15:04:05", "2006-01-02"}

// auditQueryTime parses an optional timestamp query parameter: ISO 8601
// (with or without a zone) or Unix seconds. A bad value is EMALFORMED
// naming the parameter.
func auditQueryTime(r *http.Request, name string) (*time.Time, error) {
	v := strings.TrimSpace(r.URL.Query().Get(name))
	if v == "" {
		return nil, nil
	}
	if secs, err := strconv.ParseInt(v, 10, 64); err == nil && secs >= 0 && secs < 1<<40 {
		t := time.Unix(secs, 0).UTC()
		return &t, nil
	}
	for _, layout := range auditTimeLayouts {
		if t, err := time.Parse(layout, v); err == nil {
			t = t.UTC()
			return &t, nil
		}
	}
	return nil, &steward.Error{Code: steward.EMALFORMED, Field: name,
		Message: name + " must be an ISO 8601 timestamp such as 2026-07-08T14:16:11Z (or Unix seconds), got " + strconv.Quote(v)}
}
