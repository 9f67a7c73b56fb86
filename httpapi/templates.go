package httpapi

import (
	"encoding/json"
	"fmt"
	"io"
	"net/http"

	"github.com/steward-dev/steward"
	"github.com/steward-dev/steward/action"
)

// MaxTemplateImportBytes is the largest template import document Steward
// reads (8 MiB): a whole tenant's library, larger than one API request.
const MaxTemplateImportBytes = 8 << 20

// TemplateExportVersion is the version of the export document format.
const TemplateExportVersion = 1

// templateRequest is the body of template create and update. Pointers tell
// absent fields from empty ones; agent_options stays raw JSON text.
type templateRequest struct {
	Name         *string         `json:"name"`
	Description  *string         `json:"description"`
	Vendor       *string         `json:"vendor"`
	Product      *string         `json:"product"`
	AgentType    *string         `json:"agent_type"`
	AgentOptions json.RawMessage `json:"agent_options"`
}

// userRefView names a user who created or changed something.
type userRefView struct {
	ID    int64  `json:"id"`
	Email string `json:"email"`
}

func newUserRefView(u *steward.UserRef) *userRefView {
	if u == nil {
		return nil
	}
	return &userRefView{ID: u.ID, Email: u.Email}
}

// templateView is a template as the API shows it. agent_type is the class
// name; agent_options is the stored JSON text, unchanged.
type templateView struct {
	ID           int64           `json:"id"`
	Name         string          `json:"name"`
	Description  string          `json:"description"`
	Vendor       string          `json:"vendor"`
	Product      string          `json:"product"`
	AgentType    string          `json:"agent_type"`
	AgentOptions json.RawMessage `json:"agent_options"`
	CreatedBy    *userRefView    `json:"created_by"`
	UpdatedBy    *userRefView    `json:"updated_by"`
	CreatedAt    Time            `json:"created_at"`
	UpdatedAt    Time            `json:"updated_at"`
}

func newTemplateView(t *steward.Template) templateView {
	return templateView{
		ID: t.ID, Name: t.Name, Description: t.Description, Vendor: t.Vendor, Product: t.Product,
		AgentType: string(t.AgentType), AgentOptions: t.AgentOptions,
		CreatedBy: newUserRefView(t.CreatedBy), UpdatedBy: newUserRefView(t.UpdatedBy),
		CreatedAt: Time(t.CreatedAt), UpdatedAt: Time(t.UpdatedAt),
	}
}

func derefString(p *string) string {
	if p == nil {
		return ""
	}
	return *p
}

// handleTemplateList lists the caller's tenant's templates under the
// given envelope key ("admin/templates" or "templates"), filtered by
// search and paged.
func (s *Server) handleTemplateList(envelope string) handlerFunc {
	return func(w http.ResponseWriter, r *http.Request) error {
		page, err := parsePage(r)
		if err != nil {
			return err
		}
		f := steward.TemplateFilter{TenantID: principal(r.Context()).User.TenantID, Search: r.URL.Query().Get("search"), PageRequest: page}
		ts, total, err := s.Templates.FindTemplates(r.Context(), f)
		if err != nil {
			return err
		}
		views := make([]templateView, len(ts))
		for i, t := range ts {
			views[i] = newTemplateView(t)
		}
		writeJSON(w, http.StatusOK, map[string]any{envelope: views, "meta": s.pageMeta(r, page, total)})
		return nil
	}
}

func (s *Server) handleTemplateGet(w http.ResponseWriter, r *http.Request) error {
	id, err := pathID(r, "id")
	if err != nil {
		return err
	}
	t, err := s.Templates.FindTemplateByID(r.Context(), principal(r.Context()).User.TenantID, id)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, newTemplateView(t))
	return nil
}

func (s *Server) handleTemplateCreate(w http.ResponseWriter, r *http.Request) error {
	p := principal(r.Context())
	var req templateRequest
	if err := decodeJSON(r, &req); err != nil {
		return err
	}
	t := &steward.Template{
		TenantID: p.User.TenantID, Name: derefString(req.Name), Description: derefString(req.Description),
		Vendor: derefString(req.Vendor), Product: derefString(req.Product),
		AgentType: steward.ActionType(derefString(req.AgentType)), AgentOptions: req.AgentOptions,
		CreatedBy: &steward.UserRef{ID: p.User.ID},
	}
	if err := action.ValidateTemplate(t, ""); err != nil {
		return err
	}
	if err := s.Templates.CreateTemplate(r.Context(), t); err != nil {
		return err
	}
	writeJSON(w, http.StatusCreated, newTemplateView(t))
	return nil
}

// handleTemplateUpdate serves PUT and PATCH alike: any subset of the
// fields. The template as changed is validated as a whole, so a new type
// is checked against the kept options and new options against the kept
// type.
func (s *Server) handleTemplateUpdate(w http.ResponseWriter, r *http.Request) error {
	p := principal(r.Context())
	id, err := pathID(r, "id")
	if err != nil {
		return err
	}
	var req templateRequest
	if err := decodeJSON(r, &req); err != nil {
		return err
	}
	upd := steward.TemplateUpdate{
		Name: req.Name, Description: req.Description, Vendor: req.Vendor, Product: req.Product,
		UpdatedBy: p.User.ID,
		Validate:  func(t *steward.Template) error { return action.ValidateTemplate(t, "") },
	}
	if req.AgentType != nil {
		typ, err := steward.ParseActionType("agent_type", *req.AgentType)
		if err != nil {
			return err
		}
		upd.AgentType = &typ
	}
	if req.AgentOptions != nil {
		upd.AgentOptions = &req.AgentOptions
	}
	t, err := s.Templates.UpdateTemplate(r.Context(), p.User.TenantID, id, upd)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, newTemplateView(t))
	return nil
}

func (s *Server) handleTemplateDelete(w http.ResponseWriter, r *http.Request) error {
	id, err := pathID(r, "id")
	if err != nil {
		return err
	}
	if err := s.Templates.DeleteTemplate(r.Context(), principal(r.Context()).User.TenantID, id); err != nil {
		return err
	}
	w.WriteHeader(http.StatusNoContent)
	return nil
}

// templateDocument is the export and import format: a tenant's templates
// without ids, authors or timestamps, which belong to the tenant they
// live in. The same document imports into any tenant.
type templateDocument struct {
	Version    int             `json:"version"`
	ExportedAt *Time           `json:"exported_at,omitempty"`
	Templates  []templateEntry `json:"templates"`
}

// templateEntry is one template in a templateDocument.
type templateEntry struct {
	Name         string          `json:"name"`
	Description  string          `json:"description"`
	Vendor       string          `json:"vendor"`
	Product      string          `json:"product"`
	AgentType    string          `json:"agent_type"`
	AgentOptions json.RawMessage `json:"agent_options"`
}

// importDocument is templateDocument as read: absent fields are told from
// empty ones.
type importDocument struct {
	Version   *int               `json:"version"`
	Templates *[]templateRequest `json:"templates"`
}

func (s *Server) handleTemplateExport(w http.ResponseWriter, r *http.Request) error {
	ts, err := s.Templates.AllTemplates(r.Context(), principal(r.Context()).User.TenantID)
	if err != nil {
		return err
	}
	now := Time(s.Clock.Now())
	doc := templateDocument{Version: TemplateExportVersion, ExportedAt: &now, Templates: make([]templateEntry, len(ts))}
	for i, t := range ts {
		doc.Templates[i] = templateEntry{Name: t.Name, Description: t.Description, Vendor: t.Vendor, Product: t.Product,
			AgentType: string(t.AgentType), AgentOptions: t.AgentOptions}
	}
	w.Header().Set("Content-Disposition", `attachment; filename="steward-templates.json"`)
	writeJSON(w, http.StatusOK, doc)
	return nil
}

// templateImportView reports an import: the id and name of each template
// created, updated, or found already identical.
type templateImportView struct {
	Created   []templateRef `json:"created"`
	Updated   []templateRef `json:"updated"`
	Unchanged []templateRef `json:"unchanged"`
}

// templateRef names a template in an import report.
type templateRef struct {
	ID   int64  `json:"id"`
	Name string `json:"name"`
}

func templateRefs(ts []*steward.Template) []templateRef {
	out := make([]templateRef, len(ts))
	for i, t := range ts {
		out[i] = templateRef{ID: t.ID, Name: t.Name}
	}
	return out
}

// handleTemplateImport creates or updates, by name, every template in an
// export document. Every entry is validated before anything is written,
// and the writes happen in one transaction: all or nothing. Templates of
// the tenant missing from the document are left alone.
//
// By default the import merges: an entry that omits description, vendor
// or product leaves that field of an existing template unchanged.
// ?mode=replace sets every field from the entry, blanking omitted ones.
func (s *Server) handleTemplateImport(w http.ResponseWriter, r *http.Request) error {
	p := principal(r.Context())
	replace, err := templateImportMode(r)
	if err != nil {
		return err
	}
	entries, err := readTemplateImport(r, replace)
	if err != nil {
		return err
	}
	report, err := s.Templates.ImportTemplates(r.Context(), p.User.TenantID, p.User.ID, entries)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, templateImportView{
		Created: templateRefs(report.Created), Updated: templateRefs(report.Updated), Unchanged: templateRefs(report.Unchanged),
	})
	return nil
}

// templateImportMode reads ?mode=: merge (the default) or replace, and
// reports whether it is replace. Anything else is EMALFORMED.
func templateImportMode(r *http.Request) (replace bool, err error) {
	switch mode := r.URL.Query().Get("mode"); mode {
	case "", "merge":
		return false, nil
	case "replace":
		return true, nil
	default:
		return false, &steward.Error{Code: steward.EMALFORMED, Field: "mode",
			Message: fmt.Sprintf("mode must be merge (the default: omitted description, vendor and product stay unchanged) or replace (they are blanked), got %q", steward.Truncate(mode, 64))}
	}
}

// readTemplateImport reads and validates an import document. Errors name
// the entry at fault, as in templates[3].agent_options.url. Unless
// replace, the optional fields an entry omits are marked to keep.
func readTemplateImport(r *http.Request, replace bool) ([]steward.TemplateImportEntry, error) {
	body, err := io.ReadAll(io.LimitReader(r.Body, MaxTemplateImportBytes+1))
	if err != nil {
		return nil, steward.Errorf(steward.EMALFORMED, "could not read the request body: %v", err)
	}
	if len(body) > MaxTemplateImportBytes {
		return nil, steward.Errorf(steward.ETOOLARGE, "import document is larger than %d bytes", MaxTemplateImportBytes)
	}
	var doc importDocument
	if err := unmarshalObject(body, &doc); err != nil {
		return nil, err
	}
	if doc.Version != nil && *doc.Version != TemplateExportVersion {
		return nil, steward.FieldErrorf("version", "version %d is not supported; this server reads version %d documents", *doc.Version, TemplateExportVersion)
	}
	if doc.Templates == nil {
		return nil, steward.FieldErrorf("templates", `templates is required: send {"version":1,"templates":[...]} as exported`)
	}
	ts := make([]steward.TemplateImportEntry, len(*doc.Templates))
	seen := map[string]int{}
	for i, e := range *doc.Templates {
		prefix := fmt.Sprintf("templates[%d].", i)
		t := &steward.Template{
			Name: derefString(e.Name), Description: derefString(e.Description), Vendor: derefString(e.Vendor),
			Product: derefString(e.Product), AgentType: steward.ActionType(derefString(e.AgentType)), AgentOptions: e.AgentOptions,
		}
		if err := action.ValidateTemplate(t, prefix); err != nil {
			return nil, err
		}
		if j, ok := seen[t.Name]; ok {
			return nil, steward.FieldErrorf(prefix+"name", "%sname %q is also the name of templates[%d]; names must be unique", prefix, t.Name, j)
		}
		seen[t.Name] = i
		ts[i] = steward.TemplateImportEntry{Template: t}
		if !replace {
			ts[i].KeepDescription, ts[i].KeepVendor, ts[i].KeepProduct = e.Description == nil, e.Vendor == nil, e.Product == nil
		}
	}
	return ts, nil
}
