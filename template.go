package steward

import (
	"bytes"
	"context"
	"encoding/json"
	"reflect"
	"time"
)

// Limits on template fields, so a template library stays a library and
// not a place to park arbitrary data.
const (
	MaxTemplateNameLength        = 255
	MaxTemplateLabelLength       = 255 // vendor and product
	MaxTemplateDescriptionLength = 10000
)

// Template is a private action template: a pre-configured action (type and
// options) that a tenant's admins publish for everyone in the tenant to
// build on. Options are kept as the JSON text the client sent (with
// insignificant whitespace removed), so {{...}} placeholders, key order and
// number spellings survive unchanged.
type Template struct {
	ID           int64
	TenantID     int64
	Name         string
	Description  string
	Vendor       string
	Product      string
	AgentType    ActionType
	AgentOptions json.RawMessage
	// CreatedBy and UpdatedBy name the users who created and last changed
	// the template; nil once that user has been deleted.
	CreatedBy *UserRef
	UpdatedBy *UserRef
	CreatedAt time.Time
	UpdatedAt time.Time
}

// UserRef identifies a user in another object: their id and, when read
// back from the store, their email.
type UserRef struct {
	ID    int64
	Email string
}

// SameContent reports whether t and o describe the same template: equal
// name, description, vendor, product, type, and options that decode to the
// same JSON value (whitespace, key order and escapes aside). Import uses it
// to tell an unchanged template from an updated one.
func (t *Template) SameContent(o *Template) bool {
	if t.Name != o.Name || t.Description != o.Description || t.Vendor != o.Vendor ||
		t.Product != o.Product || t.AgentType != o.AgentType {
		return false
	}
	a, errA := decodeJSONValue(t.AgentOptions)
	b, errB := decodeJSONValue(o.AgentOptions)
	return errA == nil && errB == nil && reflect.DeepEqual(a, b)
}

// decodeJSONValue decodes raw keeping numbers as their text; empty or
// null decodes as an empty object, as template options do.
func decodeJSONValue(raw json.RawMessage) (any, error) {
	raw = bytes.TrimSpace(raw)
	if len(raw) == 0 || string(raw) == "null" {
		return map[string]any{}, nil
	}
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.UseNumber()
	var v any
	err := dec.Decode(&v)
	return v, err
}

// TemplateFilter selects templates of one tenant.
type TemplateFilter struct {
	TenantID int64
	// Search is a case-insensitive substring of the name, description,
	// vendor, product or the options' JSON text.
	Search string
	PageRequest
}

// TemplateUpdate holds the fields an update changes; nil means unchanged.
type TemplateUpdate struct {
	Name         *string
	Description  *string
	Vendor       *string
	Product      *string
	AgentType    *ActionType
	AgentOptions *json.RawMessage
	// UpdatedBy is the id of the user making the change.
	UpdatedBy int64
	// Validate, when set, checks the template as changed, before it is
	// saved and within the same transaction; its error aborts the update.
	// It is how a change to only the type or only the options is checked
	// against the other half.
	Validate func(t *Template) error
}

// TemplateImportEntry is one template of an import document. The Keep
// fields name the optional fields an existing template of the same name
// keeps rather than taking the entry's value: in a merge (the default),
// those the document omitted. A new template gets the entry's values ("").
type TemplateImportEntry struct {
	*Template
	KeepDescription, KeepVendor, KeepProduct bool
}

// ReplaceEntries wraps templates as import entries that set every field,
// as an import with mode=replace does.
func ReplaceEntries(templates []*Template) []TemplateImportEntry {
	out := make([]TemplateImportEntry, len(templates))
	for i, t := range templates {
		out[i] = TemplateImportEntry{Template: t}
	}
	return out
}

// TemplateImport reports what an import did, template by template.
type TemplateImport struct {
	Created   []*Template
	Updated   []*Template
	Unchanged []*Template
}

// TemplateService stores templates. Every method is scoped to one tenant.
type TemplateService interface {
	// CreateTemplate inserts t (CreatedBy set by the caller) and sets its
	// ID, timestamps and authors. ECONFLICT naming "name" if the tenant
	// already has a template of that name.
	CreateTemplate(ctx context.Context, t *Template) error
	// FindTemplateByID returns ENOTFOUND if there is no such template in
	// the tenant.
	FindTemplateByID(ctx context.Context, tenantID, id int64) (*Template, error)
	// FindTemplates returns one page of matching templates, ordered by id,
	// and the total number of matches.
	FindTemplates(ctx context.Context, f TemplateFilter) ([]*Template, int, error)
	// AllTemplates returns every template of the tenant, ordered by id.
	AllTemplates(ctx context.Context, tenantID int64) ([]*Template, error)
	// UpdateTemplate applies upd and returns the updated template.
	// ENOTFOUND, ECONFLICT naming "name" for a taken name, or upd.Validate's
	// error.
	UpdateTemplate(ctx context.Context, tenantID, id int64, upd TemplateUpdate) (*Template, error)
	// DeleteTemplate removes the template. ENOTFOUND.
	DeleteTemplate(ctx context.Context, tenantID, id int64) error
	// ImportTemplates creates or updates, by name, the template of each
	// entry (which the caller has validated) in one transaction: all are
	// written or none. An existing template keeps the fields its entry
	// marks Keep. userID is recorded as the creator or updater. Templates
	// whose content is already the same are left untouched and reported
	// unchanged.
	ImportTemplates(ctx context.Context, tenantID, userID int64, entries []TemplateImportEntry) (*TemplateImport, error)
}
