package httpapi_test

import (
	"context"
	"encoding/json"
	"net/http"
	"strings"
	"testing"

	"github.com/steward-dev/steward/httpapi"
	"golang.org/x/crypto/bcrypt"
)

// exportDoc is the export document as a client reads it.
type exportDoc struct {
	Version    int    `json:"version"`
	ExportedAt string `json:"exported_at"`
	Templates  []struct {
		Name         string          `json:"name"`
		Description  string          `json:"description"`
		Vendor       string          `json:"vendor"`
		Product      string          `json:"product"`
		AgentType    string          `json:"agent_type"`
		AgentOptions json.RawMessage `json:"agent_options"`
	} `json:"templates"`
}

// importReport is an import's response, as names per outcome.
func importReport(t *testing.T, r response) (created, updated, unchanged []string) {
	t.Helper()
	var rep map[string][]struct {
		ID   int64  `json:"id"`
		Name string `json:"name"`
	}
	if err := json.Unmarshal(r.Body, &rep); err != nil {
		t.Fatalf("import report: %v: %s", err, r.Body)
	}
	names := func(k string) []string {
		out := []string{}
		for _, e := range rep[k] {
			if e.ID == 0 {
				t.Errorf("%s entry %q has no id", k, e.Name)
			}
			out = append(out, e.Name)
		}
		return out
	}
	return names("created"), names("updated"), names("unchanged")
}

func TestTemplatesExportImport(t *testing.T) {
	t.Parallel()
	eachEnv(t, func(t *testing.T, e *env) {
		createTemplate(t, e, e.AdminKey, postmanCreateTemplate)
		createTemplate(t, e, e.AdminKey, `{"name":"Lookup user","vendor":"Acme","agent_type":"HTTP Request",
			"agent_options":{"url":"https://dir.internal/{{.email}}","headers":{"X-Note":"<b>&</b>"},"n":1.50}}`)

		r := e.do("GET", "/api/v1/admin/templates/export", e.AdminKey, nil)
		want(t, r, http.StatusOK)
		if cd := r.Header.Get("Content-Disposition"); !strings.Contains(cd, "attachment") {
			t.Errorf("Content-Disposition = %q", cd)
		}
		document := r.Body
		var doc exportDoc
		if err := json.Unmarshal(document, &doc); err != nil {
			t.Fatal(err)
		}
		if doc.Version != 1 || doc.ExportedAt == "" || len(doc.Templates) != 2 {
			t.Fatalf("export: %s", document)
		}
		if got := string(doc.Templates[0].AgentOptions); got != sentOptions(t, postmanCreateTemplate) {
			t.Errorf("exported options changed: %s", got)
		}
		if doc.Templates[1].AgentType != "Agents::HTTPRequestAgent" || string(doc.Templates[1].AgentOptions) !=
			`{"url":"https://dir.internal/{{.email}}","headers":{"X-Note":"<b>&</b>"},"n":1.50}` {
			t.Errorf("exported entry: %+v", doc.Templates[1])
		}
		if strings.Contains(string(document), `"id"`) || strings.Contains(string(document), "created_by") {
			t.Errorf("export carries tenant-specific fields: %s", document)
		}

		other, err := httpapi.Bootstrap(context.Background(), services(e.DB), "Other", "boss@other.example", "", bcrypt.MinCost)
		if err != nil {
			t.Fatal(err)
		}

		t.Run("import into another tenant, then again", func(t *testing.T) {
			r := e.do("POST", "/api/v1/admin/templates/import", other.APIKey, document)
			want(t, r, http.StatusOK)
			created, updated, unchanged := importReport(t, r)
			if strings.Join(created, ",") != "Test API Name,Lookup user" || len(updated)+len(unchanged) != 0 {
				t.Errorf("first import: created %v updated %v unchanged %v", created, updated, unchanged)
			}
			r = e.do("GET", "/api/v1/admin/templates/export", other.APIKey, nil)
			want(t, r, http.StatusOK)
			var theirs exportDoc
			if err := json.Unmarshal(r.Body, &theirs); err != nil {
				t.Fatal(err)
			}
			mine, _ := json.Marshal(doc.Templates)
			copied, _ := json.Marshal(theirs.Templates)
			if string(mine) != string(copied) {
				t.Errorf("round trip changed the templates:\n%s\n%s", mine, copied)
			}
			list := e.do("GET", "/api/v1/admin/templates", other.APIKey, nil).JSON(t)["admin/templates"].([]any)
			if by := list[0].(map[string]any)["created_by"].(map[string]any); by["email"] != "boss@other.example" {
				t.Errorf("imported template's creator: %v", by)
			}

			r = e.do("POST", "/api/v1/admin/templates/import", other.APIKey, document)
			want(t, r, http.StatusOK)
			created, updated, unchanged = importReport(t, r)
			if len(created)+len(updated) != 0 || strings.Join(unchanged, ",") != "Test API Name,Lookup user" {
				t.Errorf("second import: created %v updated %v unchanged %v", created, updated, unchanged)
			}
		})

		t.Run("import updates by name and leaves other templates alone", func(t *testing.T) {
			createTemplate(t, e, other.APIKey, `{"name":"Only theirs","agent_type":"Webhook"}`)
			body := `{"version":1,"templates":[
				{"name":"Lookup user","vendor":"Acme","agent_type":"Agents::HTTPRequestAgent","agent_options":{"url":"https://dir.internal/v2/{{.email}}"}},
				{"name":"Test API Name","description":"test","vendor":"API","product":"API","agent_type":"Event Transformation",
				 "agent_options":` + sentOptions(t, postmanCreateTemplate) + `},
				{"name":"Brand new","agent_type":"Webhook"}]}`
			r := e.do("POST", "/api/v1/admin/templates/import", other.APIKey, body)
			want(t, r, http.StatusOK)
			created, updated, unchanged := importReport(t, r)
			if strings.Join(created, ",") != "Brand new" || strings.Join(updated, ",") != "Lookup user" || strings.Join(unchanged, ",") != "Test API Name" {
				t.Errorf("import: created %v updated %v unchanged %v", created, updated, unchanged)
			}
			r = e.do("GET", "/api/v1/admin/templates?search=only+theirs", other.APIKey, nil)
			if n := r.JSON(t)["meta"].(map[string]any)["count"]; n != 1.0 {
				t.Errorf("a template missing from the document was removed: %s", r.Body)
			}
		})

		t.Run("every entry is validated before anything is written", func(t *testing.T) {
			before := e.do("GET", "/api/v1/admin/templates/export", other.APIKey, nil)
			cases := []struct {
				name, body string
				status     int
				field      string
			}{
				{"options the type rejects", `{"templates":[{"name":"Fresh","agent_type":"Webhook"},
					{"name":"Lookup user","agent_type":"HTTP Request","agent_options":{"method":"get"}}]}`, 422, "templates[1].agent_options.url"},
				{"unknown type", `{"templates":[{"name":"Fresh","agent_type":"Fax"}]}`, 422, "templates[0].agent_type"},
				{"missing name", `{"templates":[{"name":"Fresh","agent_type":"Webhook"},{"agent_type":"Webhook"}]}`, 422, "templates[1].name"},
				{"duplicate names", `{"templates":[{"name":"Twin","agent_type":"Webhook"},{"name":" Twin ","agent_type":"Webhook"}]}`, 422, "templates[1].name"},
				{"unsupported version", `{"version":2,"templates":[]}`, 422, "version"},
				{"no templates", `{"version":1}`, 422, "templates"},
				{"templates of the wrong type", `{"templates":{"name":"x"}}`, 422, "templates"},
				{"malformed JSON", `{"templates":[`, 400, ""},
				{"too large", `{"templates":[],"pad":"` + strings.Repeat("x", httpapi.MaxTemplateImportBytes) + `"}`, 413, ""},
			}
			for _, c := range cases {
				t.Run(c.name, func(t *testing.T) {
					wantProblem(t, e.do("POST", "/api/v1/admin/templates/import", other.APIKey, c.body), c.status, c.field)
				})
			}
			after := e.do("GET", "/api/v1/admin/templates/export", other.APIKey, nil)
			var b, a exportDoc
			if err := json.Unmarshal(before.Body, &b); err != nil {
				t.Fatal(err)
			}
			if err := json.Unmarshal(after.Body, &a); err != nil {
				t.Fatal(err)
			}
			bj, _ := json.Marshal(b.Templates)
			aj, _ := json.Marshal(a.Templates)
			if string(bj) != string(aj) {
				t.Errorf("a refused import wrote:\nbefore %s\nafter  %s", bj, aj)
			}
		})

		t.Run("an empty document imports nothing", func(t *testing.T) {
			r := e.do("POST", "/api/v1/admin/templates/import", other.APIKey, `{"version":1,"templates":[]}`)
			want(t, r, http.StatusOK)
			if c, u, n := importReport(t, r); len(c)+len(u)+len(n) != 0 {
				t.Errorf("empty import: %s", r.Body)
			}
		})
	})
}
