package httpapi_test

import (
	"encoding/json"
	"net/http"
	"strings"
	"testing"

	"github.com/steward-dev/steward"
)

// auditWatch checks, call by call, that the contract calls leave exactly
// the audit records they should: one for each successful state-changing
// request, one for each refusal (403) and failed sign-in, none for reads
// and for requests refused before changing anything, and never a secret.
type auditWatch struct {
	e       *env
	seen    int64
	secrets map[string]bool
}

func newAuditWatch(t *testing.T, e *env, secrets ...string) *auditWatch {
	t.Helper()
	w := &auditWatch{e: e, secrets: map[string]bool{}}
	for _, s := range secrets {
		w.addSecret(s)
	}
	w.seen = w.lastID(t)
	return w
}

func (w *auditWatch) addSecret(s string) {
	if len(s) >= 8 {
		w.secrets[s] = true
	}
}

// collectSecrets remembers the values of secret fields in a JSON body.
func (w *auditWatch) collectSecrets(v any) {
	switch t := v.(type) {
	case map[string]any:
		for k, e := range t {
			if s, ok := e.(string); ok && steward.IsSecretField(k) {
				w.addSecret(s)
			}
			w.collectSecrets(e)
		}
	case []any:
		for _, e := range t {
			w.collectSecrets(e)
		}
	}
}

func (w *auditWatch) lastID(t *testing.T) int64 {
	t.Helper()
	var id int64
	if err := w.e.DB.Read.QueryRow(`SELECT COALESCE(MAX(id), 0) FROM audit_logs`).Scan(&id); err != nil {
		t.Fatal(err)
	}
	return id
}

// newRecords returns the operation names and full text of the records
// written since the last call.
func (w *auditWatch) newRecords(t *testing.T) (ops []string, texts []string) {
	t.Helper()
	rows, err := w.e.DB.Read.Query(w.e.DB.Q(`SELECT id, operation_name, inputs, outputs, user_email, request_user_agent
		FROM audit_logs WHERE id > ? ORDER BY id`), w.seen)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	for rows.Next() {
		var id int64
		var op, in, out, email, ua string
		if err := rows.Scan(&id, &op, &in, &out, &email, &ua); err != nil {
			t.Fatal(err)
		}
		w.seen = max(w.seen, id)
		ops = append(ops, op)
		texts = append(texts, in+out)
	}
	return ops, texts
}

// check looks at the records a finished call left.
func (w *auditWatch) check(t *testing.T, c contractCall, reqBody, respBody []byte) {
	t.Helper()
	for _, b := range [][]byte{reqBody, respBody} {
		var v any
		if json.Unmarshal(b, &v) == nil {
			w.collectSecrets(v)
		}
	}
	ops, texts := w.newRecords(t)
	want := 0
	path, _, _ := strings.Cut(c.Path, "?")
	switch {
	case c.Status == http.StatusForbidden && strings.Contains(string(respBody), "User email already exists"):
		// Tyk's 403 for a taken email is a conflict, not a refusal: nothing changed.
	case c.Status == http.StatusForbidden:
		want = 1
	case path == "/users/sign_in" && c.Status == http.StatusUnauthorized:
		want = 1
	case strings.HasPrefix(path, "/webhook/"):
	case c.Method != http.MethodGet && c.Status < 300:
		want = 1
	}
	if len(ops) != want {
		t.Errorf("%s: %s %s (%d) left %d audit records %v, want %d", c.Name, c.Method, c.Path, c.Status, len(ops), ops, want)
	}
	for _, text := range texts {
		for s := range w.secrets {
			if strings.Contains(text, s) {
				t.Errorf("%s: audit record carries a secret: %s", c.Name, text)
			}
		}
	}
}
