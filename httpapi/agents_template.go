package httpapi

import (
	"net/http"

	"github.com/steward-dev/steward"
	"github.com/steward-dev/steward/action"
)

// applyTemplate fills an agent create request from the private template it
// names: the template gives the type, the name and the options, and the
// request's own fields override them (options key by key, a null removing
// the template's key; see action.MergeTemplateOptions). The merged options
// are validated afterwards, with the rest of the request. EINVALID naming
// template_id when the tenant has no such template.
func (s *Server) applyTemplate(r *http.Request, tenantID int64, req *agentRequest) (*steward.Template, error) {
	t, err := s.Templates.FindTemplateByID(r.Context(), tenantID, *req.TemplateID)
	if steward.ErrorCode(err) == steward.ENOTFOUND {
		return nil, steward.FieldErrorf("template_id", "template_id: template %d does not exist", *req.TemplateID)
	} else if err != nil {
		return nil, err
	}
	if req.Type == nil {
		typ := string(t.AgentType)
		req.Type = &typ
	}
	if req.Name == nil {
		name := t.Name
		req.Name = &name
	}
	if req.Options, err = action.MergeTemplateOptions(t.AgentOptions, req.Options); err != nil {
		return nil, err
	}
	return t, nil
}

// checkTemplateUnchanged refuses an update that would change the template
// an agent was created from: that link records the agent's origin.
func checkTemplateUnchanged(a *steward.Action, req *agentRequest) error {
	if req.TemplateID != nil && *req.TemplateID != a.TemplateID {
		return steward.FieldErrorf("template_id", "an agent's template_id cannot change; create a new agent from the template instead")
	}
	return nil
}
