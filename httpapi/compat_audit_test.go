package httpapi_test

import (
	"net/http"
	"strings"
	"testing"
)

// TestAuditLogTimestampFilters checks that the audit log's before and
// after take the shared timestamp forms, Python's str(datetime) included.
func TestAuditLogTimestampFilters(t *testing.T) {
	t.Parallel()
	eachEnv(t, func(t *testing.T, e *env) {
		want(t, e.do("POST", "/api/v1/stories", e.AdminKey, `{"name":"Audited"}`), http.StatusCreated)
		count := func(q string) int {
			t.Helper()
			r := e.do("GET", "/api/v1/audit_logs?"+q, e.AdminKey, nil)
			want(t, r, http.StatusOK)
			return len(r.JSON(t)["audit_logs"].([]any))
		}
		if n := count("after=2000-01-01+00%3A00%3A00"); n == 0 {
			t.Error("nothing after 2000-01-01 00:00:00")
		}
		if n := count("before=2000-01-01+00%3A00%3A00"); n != 0 {
			t.Errorf("%d records before 2000", n)
		}
		if n := count("before=946684800"); n != 0 {
			t.Errorf("%d records before epoch 946684800", n)
		}
		r := e.do("GET", "/api/v1/audit_logs?after=yesterday", e.AdminKey, nil)
		want(t, r, http.StatusBadRequest)
		if !strings.Contains(string(r.Body), "epoch seconds") || !strings.Contains(string(r.Body), `"field":"after"`) {
			t.Errorf("error: %s", r.Body)
		}
	})
}
