package httpapi

import (
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"net/http"

	"github.com/steward-dev/steward"
	"github.com/steward-dev/steward/action"
)

// agentView is an action as Tines' API shows an agent.
type agentView struct {
	ID            int64          `json:"id"`
	Type          string         `json:"type"`
	Name          string         `json:"name"`
	StoryID       int64          `json:"story_id"`
	GUID          string         `json:"guid"`
	Options       map[string]any `json:"options"`
	KeepEventsFor int64          `json:"keep_events_for"`
	Disabled      bool           `json:"disabled"`
	SourceIDs     []int64        `json:"source_ids"`
	ReceiverIDs   []int64        `json:"receiver_ids"`
	TemplateID    *int64         `json:"template_id"`
	LastEventAt   *Time          `json:"last_event_at"`
	CreatedAt     Time           `json:"created_at"`
	UpdatedAt     Time           `json:"updated_at"`
	WebhookURL    string         `json:"webhook_url,omitempty"`
}

func (s *Server) newAgentView(r *http.Request, a *steward.Action) agentView {
	v := agentView{ID: a.ID, Type: string(a.Type), Name: a.Name, StoryID: a.StoryID, GUID: a.GUID, Options: a.Options,
		KeepEventsFor: a.KeepEventsFor, Disabled: a.Disabled, SourceIDs: a.SourceIDs, ReceiverIDs: a.ReceiverIDs,
		LastEventAt: timePtr(a.LastEventAt), CreatedAt: Time(a.CreatedAt), UpdatedAt: Time(a.UpdatedAt)}
	if v.Options == nil {
		v.Options = map[string]any{}
	}
	if a.TemplateID != 0 {
		id := a.TemplateID
		v.TemplateID = &id
	}
	if a.Type == steward.ActionWebhook {
		if secret, _ := a.Options["secret"].(string); secret != "" {
			v.WebhookURL = s.absoluteURL(r, "/webhook/"+a.GUID+"/"+secret)
		}
	}
	return v
}

// agentRequest is the body of agent create and update.
type agentRequest struct {
	Type          *string         `json:"type"`
	Name          *string         `json:"name"`
	StoryID       *int64          `json:"story_id"`
	KeepEventsFor *int64          `json:"keep_events_for"`
	Disabled      *bool           `json:"disabled"`
	SourceIDs     *[]int64        `json:"source_ids"`
	ReceiverIDs   *[]int64        `json:"receiver_ids"`
	Options       json.RawMessage `json:"options"`
	TemplateID    *int64          `json:"template_id"`
}

// webhookSecret gives a Webhook action a random secret unless it has one.
func webhookSecret(t steward.ActionType, opts map[string]any) {
	if t != steward.ActionWebhook {
		return
	}
	if s, _ := opts["secret"].(string); s == "" {
		b := make([]byte, 16)
		rand.Read(b)
		opts["secret"] = hex.EncodeToString(b)
	}
}

func (s *Server) agentRoutes(mux *recordingMux) {
	for _, noun := range []string{"agents", "actions"} {
		base := "/api/v1/" + noun
		mux.Handle("GET "+base, s.requireUser(s.handleAgentList))
		mux.Handle("POST "+base, s.requireUser(s.handleAgentCreate))
		mux.Handle("GET "+base+"/{id}", s.requireUser(s.handleAgentGet))
		mux.Handle("PUT "+base+"/{id}", s.requireUser(s.handleAgentUpdate))
		mux.Handle("PATCH "+base+"/{id}", s.requireUser(s.handleAgentUpdate))
		mux.Handle("DELETE "+base+"/{id}", s.requireUser(s.handleAgentDelete))
		mux.Handle("POST "+base+"/{id}/run", s.requireUser(s.handleAgentRun))
		mux.Handle("GET "+base+"/{id}/events", s.requireUser(s.handleAgentEvents))
		mux.Handle("DELETE "+base+"/{id}/remove_events", s.requireUser(s.handleAgentRemoveEvents))
	}
}

func (s *Server) handleAgentList(w http.ResponseWriter, r *http.Request) error {
	page, err := parsePage(r)
	if err != nil {
		return err
	}
	f := steward.ActionFilter{TenantID: principal(r.Context()).User.TenantID, PageRequest: page}
	if v := r.URL.Query().Get("story_id"); v != "" {
		if f.StoryID, err = queryID(v, "story_id"); err != nil {
			return err
		}
	}
	actions, total, err := s.Actions.FindActions(r.Context(), f)
	if err != nil {
		return err
	}
	views := make([]agentView, len(actions))
	for i, a := range actions {
		views[i] = s.newAgentView(r, a)
	}
	writeJSON(w, http.StatusOK, map[string]any{"agents": views, "meta": s.pageMeta(r, page, total)})
	return nil
}

func (s *Server) handleAgentCreate(w http.ResponseWriter, r *http.Request) error {
	p := principal(r.Context())
	var req agentRequest
	if err := decodeJSON(r, &req); err != nil {
		return err
	}
	var tmpl *steward.Template
	if req.TemplateID != nil {
		var err error
		if tmpl, err = s.applyTemplate(r, p.User.TenantID, &req); err != nil {
			return err
		}
	}
	if req.Type == nil {
		return steward.FieldErrorf("type", "type is required, like Agents::HTTPRequestAgent")
	}
	typ, err := steward.ParseActionType("type", *req.Type)
	if err != nil {
		return err
	}
	if req.Name == nil {
		return steward.FieldErrorf("name", "name is required")
	}
	opts, err := action.ValidateOptions(typ, "options", req.Options)
	if err != nil {
		return err
	}
	webhookSecret(typ, opts)
	a := &steward.Action{TenantID: p.User.TenantID, Type: typ, Name: *req.Name, Options: opts,
		SourceIDs: []int64{}, ReceiverIDs: []int64{}}
	if tmpl != nil {
		a.TemplateID = tmpl.ID
	}
	if req.StoryID != nil {
		a.StoryID = *req.StoryID
	} else {
		stories, _, err := s.Stories.FindStories(r.Context(), p.User.TenantID, steward.PageRequest{Page: 1, PerPage: 1})
		if err != nil {
			return err
		}
		if len(stories) == 0 {
			return steward.FieldErrorf("story_id", "story_id is required; create a story first")
		}
		a.StoryID = stories[0].ID
	}
	if req.KeepEventsFor != nil {
		a.KeepEventsFor = *req.KeepEventsFor
	}
	if req.Disabled != nil {
		a.Disabled = *req.Disabled
	}
	if req.SourceIDs != nil {
		a.SourceIDs = *req.SourceIDs
	}
	if req.ReceiverIDs != nil {
		a.ReceiverIDs = *req.ReceiverIDs
	}
	if err := s.Actions.CreateAction(r.Context(), a); err != nil {
		return err
	}
	writeJSON(w, http.StatusCreated, s.newAgentView(r, a))
	return nil
}

// findAgent loads the action named by the path's id in the caller's tenant.
func (s *Server) findAgent(r *http.Request) (*steward.Action, error) {
	id, err := pathID(r, "id")
	if err != nil {
		return nil, err
	}
	return s.Actions.FindActionByID(r.Context(), principal(r.Context()).User.TenantID, id)
}

func (s *Server) handleAgentGet(w http.ResponseWriter, r *http.Request) error {
	a, err := s.findAgent(r)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, s.newAgentView(r, a))
	return nil
}

func (s *Server) handleAgentUpdate(w http.ResponseWriter, r *http.Request) error {
	a, err := s.findAgent(r)
	if err != nil {
		return err
	}
	var req agentRequest
	if err := decodeJSON(r, &req); err != nil {
		return err
	}
	if req.Type != nil {
		typ, err := steward.ParseActionType("type", *req.Type)
		if err != nil {
			return err
		}
		if typ != a.Type {
			return steward.FieldErrorf("type", "an agent's type cannot change (it is %s); create a new agent instead", a.Type)
		}
	}
	if req.StoryID != nil && *req.StoryID != a.StoryID {
		return steward.FieldErrorf("story_id", "an agent cannot move to another story")
	}
	if err := checkTemplateUnchanged(a, &req); err != nil {
		return err
	}
	upd := steward.ActionUpdate{Name: req.Name, KeepEventsFor: req.KeepEventsFor, Disabled: req.Disabled,
		SourceIDs: req.SourceIDs, ReceiverIDs: req.ReceiverIDs}
	if len(req.Options) > 0 {
		opts, err := action.ValidateOptions(a.Type, "options", req.Options)
		if err != nil {
			return err
		}
		if a.Type == steward.ActionWebhook {
			if _, ok := opts["secret"]; !ok {
				opts["secret"] = a.Options["secret"]
			}
		}
		webhookSecret(a.Type, opts)
		upd.Options = opts
	}
	a, err = s.Actions.UpdateAction(r.Context(), a.TenantID, a.ID, upd)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, s.newAgentView(r, a))
	return nil
}

func (s *Server) handleAgentDelete(w http.ResponseWriter, r *http.Request) error {
	a, err := s.findAgent(r)
	if err != nil {
		return err
	}
	if err := s.Actions.DeleteAction(r.Context(), a.TenantID, a.ID); err != nil {
		return err
	}
	w.WriteHeader(http.StatusNoContent)
	return nil
}

// handleAgentRun queues a job that runs the agent once on an empty event,
// as Tines' "Run agent" does. The body, if any, is ignored.
func (s *Server) handleAgentRun(w http.ResponseWriter, r *http.Request) error {
	a, err := s.findAgent(r)
	if err != nil {
		return err
	}
	if _, err := readBody(r); err != nil {
		return err
	}
	if err := s.Jobs.EnqueueJobs(r.Context(), []steward.NewJob{{TenantID: a.TenantID, ActionID: a.ID, Kind: steward.JobKindRun}}); err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, map[string]any{"message": "Agent run queued", "agent_id": a.ID})
	return nil
}

func (s *Server) handleAgentEvents(w http.ResponseWriter, r *http.Request) error {
	a, err := s.findAgent(r)
	if err != nil {
		return err
	}
	return s.listEvents(w, r, a.ID)
}

// handleAgentRemoveEvents deletes the agent's events and answers 200 with
// the agent's JSON, as Tines documents (its clients parse the body).
func (s *Server) handleAgentRemoveEvents(w http.ResponseWriter, r *http.Request) error {
	a, err := s.findAgent(r)
	if err != nil {
		return err
	}
	if _, err := s.Events.DeleteActionEvents(r.Context(), a.TenantID, a.ID); err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, s.newAgentView(r, a))
	return nil
}
