package console

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/steward-dev/steward"
)

// actionTemplate is a private template as the API shows it.
type actionTemplate struct {
	ID           int64           `json:"id"`
	Name         string          `json:"name"`
	Description  string          `json:"description"`
	Vendor       string          `json:"vendor"`
	Product      string          `json:"product"`
	AgentType    string          `json:"agent_type"`
	AgentOptions json.RawMessage `json:"agent_options"`
	UpdatedBy    *struct {
		Email string `json:"email"`
	} `json:"updated_by"`
	UpdatedAt time.Time `json:"updated_at"`
}

// TypeName is the template's action type as people say it.
func (t actionTemplate) TypeName() string { return steward.ActionType(t.AgentType).DisplayName() }

// templateFields are the inputs of the template form, named as the API's fields.
var templateFields = []string{"name", "description", "vendor", "product", "agent_type", "agent_options"}

const templatesPerPage = 20

// templatesPage is the template list's data.
type templatesPage struct {
	Templates []actionTemplate
	Search    string
	Pager     pager
}

// templateBase is the API every user reads templates from; admins use
// the admin API, which also lets them change them.
func templateBase(r *http.Request) string {
	if sessionFrom(r.Context()).p.User.Admin {
		return "/api/v1/admin/templates"
	}
	return "/api/v1/templates"
}

// handleTemplates lists and searches the tenant's templates.
func (c *Console) handleTemplates(w http.ResponseWriter, r *http.Request) error {
	search := strings.TrimSpace(r.URL.Query().Get("search"))
	page := pageParam(r, "page")
	q := url.Values{"page": {strconv.Itoa(page)}, "per_page": {strconv.Itoa(templatesPerPage)}}
	if search != "" {
		q.Set("search", search)
	}
	var body map[string]json.RawMessage
	if _, err := c.call(r, "GET", templateBase(r)+"?"+q.Encode(), nil, &body); err != nil {
		return err
	}
	var d templatesPage
	var m meta
	envelope := strings.TrimPrefix(templateBase(r), "/api/v1/")
	if err := json.Unmarshal(body[envelope], &d.Templates); err != nil {
		return fmt.Errorf("decode templates: %w", err)
	}
	if err := json.Unmarshal(body["meta"], &m); err != nil {
		return fmt.Errorf("decode templates: %w", err)
	}
	d.Search, d.Pager = search, newPager(r, "page", page, m)
	c.render(w, r, http.StatusOK, "templates", &view{Title: "Templates", Nav: "templates", Data: d})
	return nil
}

// templatePage is the data of a template's page and of the new-template form.
type templatePage struct {
	Template *actionTemplate // nil for a new one
	Types    []string
}

func actionTypeNames() []string {
	names := make([]string, len(steward.ActionTypes))
	for i, t := range steward.ActionTypes {
		names[i] = t.DisplayName
	}
	return names
}

// handleTemplateNew shows an empty template form.
func (c *Console) handleTemplateNew(w http.ResponseWriter, r *http.Request) error {
	c.render(w, r, http.StatusOK, "template", &view{Title: "New template", Nav: "templates",
		Form: url.Values{"agent_type": {"HTTP Request"}, "agent_options": {"{\n  \"url\": \"https://example.com\",\n  \"method\": \"get\"\n}"}},
		Data: templatePage{Types: actionTypeNames()}})
	return nil
}

// handleTemplate shows a template: a form for admins, read-only for others.
func (c *Console) handleTemplate(w http.ResponseWriter, r *http.Request) error {
	return c.renderTemplate(w, r, http.StatusOK, &view{})
}

func (c *Console) renderTemplate(w http.ResponseWriter, r *http.Request, status int, v *view) error {
	id, err := pathID(r)
	if err != nil {
		return err
	}
	var t actionTemplate
	if _, err := c.call(r, "GET", fmt.Sprintf("%s/%d", templateBase(r), id), nil, &t); err != nil {
		return err
	}
	if v.Form == nil {
		v.Form = url.Values{"name": {t.Name}, "description": {t.Description}, "vendor": {t.Vendor}, "product": {t.Product},
			"agent_type": {t.TypeName()}, "agent_options": {indentJSON(t.AgentOptions)}}
	}
	v.Title, v.Nav, v.Data = t.Name, "templates", templatePage{Template: &t, Types: actionTypeNames()}
	c.render(w, r, status, "template", v)
	return nil
}

// indentJSON lays out JSON text for editing, keeping it as sent otherwise.
func indentJSON(raw json.RawMessage) string {
	var b bytes.Buffer
	if err := json.Indent(&b, raw, "", "  "); err != nil {
		return string(raw)
	}
	return b.String()
}

// templateRequest builds the API body from the form. Options that are not
// JSON at all cannot travel inside a JSON body; they get a message here.
func templateRequest(f url.Values) (map[string]any, error) {
	req := map[string]any{}
	for _, k := range []string{"name", "description", "vendor", "product", "agent_type"} {
		req[k] = f.Get(k)
	}
	opts := strings.TrimSpace(f.Get("agent_options"))
	if opts == "" {
		opts = "{}"
	}
	if !json.Valid([]byte(opts)) {
		var v any
		err := json.Unmarshal([]byte(opts), &v)
		return nil, steward.FieldErrorf("agent_options", "agent_options is not valid JSON: %v", err)
	}
	req["agent_options"] = json.RawMessage(opts)
	return req, nil
}

// handleTemplateCreate creates a template from the form.
func (c *Console) handleTemplateCreate(w http.ResponseWriter, r *http.Request) error {
	req, err := templateRequest(r.PostForm)
	var t actionTemplate
	if err == nil {
		_, err = c.call(r, "POST", "/api/v1/admin/templates", req, &t)
	}
	if err != nil {
		v := &view{Title: "New template", Nav: "templates", Form: r.PostForm, Data: templatePage{Types: actionTypeNames()}}
		status, ok := formError(v, err, templateFields...)
		if !ok {
			return err
		}
		c.render(w, r, status, "template", v)
		return nil
	}
	redirectWith(w, r, fmt.Sprintf("/console/templates/%d", t.ID), fmt.Sprintf("Created the template “%s”.", t.Name))
	return nil
}

// handleTemplateUpdate saves the edit form.
func (c *Console) handleTemplateUpdate(w http.ResponseWriter, r *http.Request) error {
	id, err := pathID(r)
	if err != nil {
		return err
	}
	req, err := templateRequest(r.PostForm)
	if err == nil {
		_, err = c.call(r, "PUT", fmt.Sprintf("/api/v1/admin/templates/%d", id), req, nil)
	}
	if err != nil {
		v := &view{Form: r.PostForm}
		status, ok := formError(v, err, templateFields...)
		if !ok || steward.ErrorCode(err) == steward.ENOTFOUND {
			return err
		}
		return c.renderTemplate(w, r, status, v)
	}
	redirectWith(w, r, fmt.Sprintf("/console/templates/%d", id), "Saved.")
	return nil
}

// handleTemplateDeleteConfirm asks before deleting a template.
func (c *Console) handleTemplateDeleteConfirm(w http.ResponseWriter, r *http.Request) error {
	id, err := pathID(r)
	if err != nil {
		return err
	}
	var t actionTemplate
	if _, err := c.call(r, "GET", fmt.Sprintf("/api/v1/admin/templates/%d", id), nil, &t); err != nil {
		return err
	}
	c.render(w, r, http.StatusOK, "confirm", &view{Title: "Confirm", Nav: "templates", Data: confirmation{
		Question: fmt.Sprintf("Delete the template “%s”?", t.Name),
		Detail:   "Actions built from it keep their options.",
		Action:   fmt.Sprintf("/console/templates/%d/delete", id), Button: "Delete template", Danger: true,
		Cancel: fmt.Sprintf("/console/templates/%d", id),
	}})
	return nil
}

// handleTemplateDelete deletes a template.
func (c *Console) handleTemplateDelete(w http.ResponseWriter, r *http.Request) error {
	id, err := pathID(r)
	if err != nil {
		return err
	}
	if _, err := c.call(r, "DELETE", fmt.Sprintf("/api/v1/admin/templates/%d", id), nil, nil); err != nil {
		return err
	}
	redirectWith(w, r, "/console/templates", "Deleted the template.")
	return nil
}

// handleTemplateExport downloads the export document.
func (c *Console) handleTemplateExport(w http.ResponseWriter, r *http.Request) error {
	res, err := c.call(r, "GET", "/api/v1/admin/templates/export", nil, nil)
	if err != nil {
		return err
	}
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Content-Disposition", `attachment; filename="steward-templates.json"`)
	_, err = w.Write(res.body)
	return err
}

// handleTemplateImportPage shows the import form.
func (c *Console) handleTemplateImportPage(w http.ResponseWriter, r *http.Request) error {
	c.render(w, r, http.StatusOK, "import", &view{Title: "Import templates", Nav: "templates"})
	return nil
}

// handleTemplateImport sends an uploaded or pasted document to the API.
func (c *Console) handleTemplateImport(w http.ResponseWriter, r *http.Request) error {
	doc := []byte(strings.TrimSpace(r.PostFormValue("document")))
	if r.MultipartForm != nil {
		if fhs := r.MultipartForm.File["file"]; len(fhs) > 0 && fhs[0].Size > 0 {
			f, err := fhs[0].Open()
			if err != nil {
				return steward.Errorf(steward.EMALFORMED, "could not read the uploaded file: %v", err)
			}
			defer f.Close()
			if doc, err = io.ReadAll(io.LimitReader(f, maxImportBytes+1)); err != nil {
				return steward.Errorf(steward.EMALFORMED, "could not read the uploaded file: %v", err)
			}
		}
	}
	fail := func(err error) error {
		v := &view{Title: "Import templates", Nav: "templates", Form: url.Values{"document": {string(doc)}}}
		status, ok := formError(v, err, "document")
		if !ok {
			return err
		}
		if f := steward.ErrorField(err); f != "" && f != "document" {
			v.Error = f + ": " + steward.ErrorMessage(err)
		}
		c.render(w, r, status, "import", v)
		return nil
	}
	if len(doc) == 0 {
		return fail(steward.FieldErrorf("document", "choose an export file or paste its JSON"))
	}
	if !json.Valid(doc) {
		return fail(steward.FieldErrorf("document", "the document is not valid JSON"))
	}
	var out struct {
		Created, Updated, Unchanged []struct {
			Name string `json:"name"`
		}
	}
	if _, err := c.call(r, "POST", "/api/v1/admin/templates/import", doc, &out); err != nil {
		return fail(err)
	}
	redirectWith(w, r, "/console/templates", fmt.Sprintf("Imported: %d created, %d updated, %d unchanged.",
		len(out.Created), len(out.Updated), len(out.Unchanged)))
	return nil
}
