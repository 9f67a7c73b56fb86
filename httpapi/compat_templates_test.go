package httpapi_test

import (
	"net/http"
	"strings"
	"testing"
)

// TestTemplateImportMerges checks that an import entry omitting
// description, vendor or product leaves them unchanged on an existing
// template (the default, mode=merge), that an empty string still blanks
// one, that ?mode=replace blanks omitted fields as before, and that any
// other mode is a 400.
func TestTemplateImportMerges(t *testing.T) {
	t.Parallel()
	eachEnv(t, func(t *testing.T, e *env) {
		path := createTemplate(t, e, e.AdminKey, `{"name":"Lookup user","description":"Finds a user","vendor":"Acme","product":"Directory",
			"agent_type":"Agents::HTTPRequestAgent","agent_options":{"url":"https://dir.internal/{{.email}}"}}`)
		fields := func() (description, vendor, product, url string) {
			t.Helper()
			r := e.do("GET", path, e.AdminKey, nil)
			want(t, r, http.StatusOK)
			m := r.JSON(t)
			return m["description"].(string), m["vendor"].(string), m["product"].(string),
				m["agent_options"].(map[string]any)["url"].(string)
		}
		imp := func(query, body string) response {
			t.Helper()
			return e.do("POST", "/api/v1/admin/templates/import"+query, e.AdminKey, body)
		}

		// A hand-written document: only name, type and new options.
		r := imp("", `{"version":1,"templates":[{"name":"Lookup user","agent_type":"HTTP Request","agent_options":{"url":"https://dir2.internal/{{.email}}"}}]}`)
		want(t, r, http.StatusOK)
		if _, updated, _ := importReport(t, r); len(updated) != 1 {
			t.Errorf("merge: %s", r.Body)
		}
		if d, v, p, u := fields(); d != "Finds a user" || v != "Acme" || p != "Directory" || u != "https://dir2.internal/{{.email}}" {
			t.Errorf("after a merge: %q %q %q %q", d, v, p, u)
		}
		// The same again changes nothing; ?mode=merge is the default spelled out.
		r = imp("?mode=merge", `{"templates":[{"name":"Lookup user","agent_type":"HTTP Request","agent_options":{"url":"https://dir2.internal/{{.email}}"}}]}`)
		want(t, r, http.StatusOK)
		if _, _, unchanged := importReport(t, r); len(unchanged) != 1 {
			t.Errorf("repeated merge: %s", r.Body)
		}
		// Sent empty is blanked, even in a merge.
		r = imp("", `{"templates":[{"name":"Lookup user","vendor":"","agent_type":"HTTP Request","agent_options":{"url":"https://dir2.internal/{{.email}}"}}]}`)
		want(t, r, http.StatusOK)
		if d, v, p, _ := fields(); d != "Finds a user" || v != "" || p != "Directory" {
			t.Errorf("after blanking vendor: %q %q %q", d, v, p)
		}
		// A new template gets "" for what it omits.
		r = imp("", `{"templates":[{"name":"Fresh","agent_type":"Webhook","agent_options":{}}]}`)
		want(t, r, http.StatusOK)
		if c, _, _ := importReport(t, r); len(c) != 1 {
			t.Errorf("create in a merge: %s", r.Body)
		}

		// replace: omitted fields are blanked, as imports did before.
		r = imp("?mode=replace", `{"version":1,"templates":[{"name":"Lookup user","agent_type":"HTTP Request","agent_options":{"url":"https://dir2.internal/{{.email}}"}}]}`)
		want(t, r, http.StatusOK)
		if d, v, p, _ := fields(); d != "" || v != "" || p != "" {
			t.Errorf("after a replace: %q %q %q", d, v, p)
		}

		for _, q := range []string{"?mode=overwrite", "?mode=REPLACE", "?mode="} {
			r := imp(q, `{"templates":[]}`)
			if q == "?mode=" {
				want(t, r, http.StatusOK) // empty is the default
				continue
			}
			want(t, r, http.StatusBadRequest)
			if !strings.Contains(string(r.Body), `"field":"mode"`) || !strings.Contains(string(r.Body), "merge") || !strings.Contains(string(r.Body), "replace") {
				t.Errorf("%s: %s", q, r.Body)
			}
		}
	})
}
