package httpapi

import (
	"bytes"
	"crypto/subtle"
	"encoding/json"
	"net/http"
	"net/url"
	"strconv"
	"strings"

	"github.com/steward-dev/steward"
)

// storyRoutes registers stories, agents, events and webhooks.
func (s *Server) storyRoutes(mux *recordingMux) {
	mux.Handle("GET /api/v1/stories", s.requireUser(s.handleStoryList))
	mux.Handle("POST /api/v1/stories", s.requireUser(s.handleStoryCreate))
	mux.Handle("GET /api/v1/stories/{id}", s.requireUser(s.handleStoryGet))
	mux.Handle("PUT /api/v1/stories/{id}", s.requireUser(s.handleStoryUpdate))
	mux.Handle("PATCH /api/v1/stories/{id}", s.requireUser(s.handleStoryUpdate))
	mux.Handle("DELETE /api/v1/stories/{id}", s.requireUser(s.handleStoryDelete))
	mux.Handle("GET /api/v1/stories/{id}/export", s.requireUser(s.handleStoryExport))
	s.agentRoutes(mux)
	mux.Handle("GET /api/v1/events", s.requireUser(s.handleEventList))
	mux.Handle("GET /api/v1/events/{id}", s.requireUser(s.handleEventGet))
	mux.Handle("POST /webhook/{guid}/{secret}", s.handle(s.handleWebhook))
	mux.Handle("GET /webhook/{guid}/{secret}", s.handle(s.handleWebhook))
}

// storyView is a story as the API shows one.
type storyView struct {
	ID          int64  `json:"id"`
	Name        string `json:"name"`
	Description string `json:"description"`
	GUID        string `json:"guid"`
	CreatedAt   Time   `json:"created_at"`
	UpdatedAt   Time   `json:"updated_at"`
}

func newStoryView(st *steward.Story) storyView {
	return storyView{ID: st.ID, Name: st.Name, Description: st.Description, GUID: st.GUID,
		CreatedAt: Time(st.CreatedAt), UpdatedAt: Time(st.UpdatedAt)}
}

type storyRequest struct {
	Name        *string `json:"name"`
	Description *string `json:"description"`
}

// queryID parses a positive id from a query parameter.
func queryID(v, name string) (int64, error) {
	id, ok := parseID(strings.TrimSpace(v))
	if !ok {
		return 0, &steward.Error{Code: steward.EMALFORMED, Field: name, Message: name + " must be a positive whole number, got " + strconv.Quote(v)}
	}
	return id, nil
}

func (s *Server) handleStoryList(w http.ResponseWriter, r *http.Request) error {
	page, err := parsePage(r)
	if err != nil {
		return err
	}
	stories, total, err := s.Stories.FindStories(r.Context(), principal(r.Context()).User.TenantID, page)
	if err != nil {
		return err
	}
	views := make([]storyView, len(stories))
	for i, st := range stories {
		views[i] = newStoryView(st)
	}
	writeJSON(w, http.StatusOK, map[string]any{"stories": views, "meta": s.pageMeta(r, page, total)})
	return nil
}

func (s *Server) handleStoryCreate(w http.ResponseWriter, r *http.Request) error {
	var req storyRequest
	if err := decodeJSON(r, &req); err != nil {
		return err
	}
	st := &steward.Story{TenantID: principal(r.Context()).User.TenantID}
	if req.Name != nil {
		st.Name = *req.Name
	}
	if req.Description != nil {
		st.Description = *req.Description
	}
	if err := s.Stories.CreateStory(r.Context(), st); err != nil {
		return err
	}
	writeJSON(w, http.StatusCreated, newStoryView(st))
	return nil
}

func (s *Server) findStory(r *http.Request) (*steward.Story, error) {
	id, err := pathID(r, "id")
	if err != nil {
		return nil, err
	}
	return s.Stories.FindStoryByID(r.Context(), principal(r.Context()).User.TenantID, id)
}

func (s *Server) handleStoryGet(w http.ResponseWriter, r *http.Request) error {
	st, err := s.findStory(r)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, newStoryView(st))
	return nil
}

func (s *Server) handleStoryUpdate(w http.ResponseWriter, r *http.Request) error {
	st, err := s.findStory(r)
	if err != nil {
		return err
	}
	var req storyRequest
	if err := decodeJSON(r, &req); err != nil {
		return err
	}
	st, err = s.Stories.UpdateStory(r.Context(), st.TenantID, st.ID, steward.StoryUpdate{Name: req.Name, Description: req.Description})
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, newStoryView(st))
	return nil
}

func (s *Server) handleStoryDelete(w http.ResponseWriter, r *http.Request) error {
	st, err := s.findStory(r)
	if err != nil {
		return err
	}
	if err := s.Stories.DeleteStory(r.Context(), st.TenantID, st.ID); err != nil {
		return err
	}
	w.WriteHeader(http.StatusNoContent)
	return nil
}

// storyExport is a story as a portable document: its agents, with links
// as indexes into the agents list.
type storyExport struct {
	SchemaVersion int           `json:"schema_version"`
	Name          string        `json:"name"`
	Description   string        `json:"description"`
	GUID          string        `json:"guid"`
	ExportedAt    Time          `json:"exported_at"`
	Agents        []exportAgent `json:"agents"`
	Links         []exportLink  `json:"links"`
}

type exportAgent struct {
	Type          string         `json:"type"`
	Name          string         `json:"name"`
	GUID          string         `json:"guid"`
	Options       map[string]any `json:"options"`
	KeepEventsFor int64          `json:"keep_events_for"`
	Disabled      bool           `json:"disabled"`
}

type exportLink struct {
	Source   int `json:"source"`
	Receiver int `json:"receiver"`
}

func (s *Server) handleStoryExport(w http.ResponseWriter, r *http.Request) error {
	st, err := s.findStory(r)
	if err != nil {
		return err
	}
	var actions []*steward.Action
	for page := 1; ; page++ {
		batch, total, err := s.Actions.FindActions(r.Context(), steward.ActionFilter{TenantID: st.TenantID, StoryID: st.ID,
			PageRequest: steward.PageRequest{Page: page, PerPage: maxPerPage}})
		if err != nil {
			return err
		}
		actions = append(actions, batch...)
		if len(batch) == 0 || len(actions) >= total {
			break
		}
	}
	ex := storyExport{SchemaVersion: 1, Name: st.Name, Description: st.Description, GUID: st.GUID,
		ExportedAt: Time(s.Clock.Now()), Agents: []exportAgent{}, Links: []exportLink{}}
	index := map[int64]int{}
	for i, a := range actions {
		index[a.ID] = i
		opts := make(map[string]any, len(a.Options))
		for k, v := range a.Options {
			if !(a.Type == steward.ActionWebhook && k == "secret") { // an export is shared; webhook secrets stay home
				opts[k] = v
			}
		}
		ex.Agents = append(ex.Agents, exportAgent{Type: string(a.Type), Name: a.Name, GUID: a.GUID, Options: opts,
			KeepEventsFor: a.KeepEventsFor, Disabled: a.Disabled})
	}
	for i, a := range actions {
		for _, rcv := range a.ReceiverIDs {
			if j, ok := index[rcv]; ok {
				ex.Links = append(ex.Links, exportLink{Source: i, Receiver: j})
			}
		}
	}
	writeJSON(w, http.StatusOK, ex)
	return nil
}

// eventView is an event as the API shows one.
type eventView struct {
	ID        int64           `json:"id"`
	AgentID   int64           `json:"agent_id"`
	StoryID   int64           `json:"story_id"`
	Payload   json.RawMessage `json:"payload"`
	CreatedAt Time            `json:"created_at"`
}

func newEventView(e *steward.Event) eventView {
	return eventView{ID: e.ID, AgentID: e.ActionID, StoryID: e.StoryID, Payload: e.Payload, CreatedAt: Time(e.CreatedAt)}
}

func (s *Server) handleEventList(w http.ResponseWriter, r *http.Request) error {
	var actionID int64
	if v := r.URL.Query().Get("agent_id"); v != "" {
		id, err := queryID(v, "agent_id")
		if err != nil {
			return err
		}
		if err := s.ownAction(r, id); err != nil {
			return err
		}
		actionID = id
	}
	return s.listEvents(w, r, actionID)
}

// listEvents writes a page of the tenant's events (of one action when
// actionID is not 0), honouring since_id.
func (s *Server) listEvents(w http.ResponseWriter, r *http.Request, actionID int64) error {
	page, err := parsePage(r)
	if err != nil {
		return err
	}
	f := steward.EventFilter{TenantID: principal(r.Context()).User.TenantID, ActionID: actionID, PageRequest: page}
	if v := r.URL.Query().Get("since_id"); v != "" {
		if f.SinceID, err = queryID(v, "since_id"); err != nil {
			return err
		}
	}
	events, total, err := s.Events.FindEvents(r.Context(), f)
	if err != nil {
		return err
	}
	views := make([]eventView, len(events))
	for i, e := range events {
		views[i] = newEventView(e)
	}
	writeJSON(w, http.StatusOK, map[string]any{"events": views, "meta": s.pageMeta(r, page, total)})
	return nil
}

func (s *Server) handleEventGet(w http.ResponseWriter, r *http.Request) error {
	id, err := pathID(r, "id")
	if err != nil {
		return err
	}
	e, err := s.Events.FindEventByID(r.Context(), principal(r.Context()).User.TenantID, id)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, newEventView(e))
	return nil
}

// handleWebhook receives POST (or GET) /webhook/{guid}/{secret} and emits
// the body (or the query) as an event of the Webhook action. An unknown
// action, a wrong secret and a disabled action all answer 404 alike.
func (s *Server) handleWebhook(w http.ResponseWriter, r *http.Request) error {
	notFound := steward.Errorf(steward.ENOTFOUND, "no webhook at this URL")
	find := s.Actions.FindActionByGUID
	if snap, ok := s.Actions.(steward.ActionSnapshots); ok {
		find = snap.ActionSnapshotByGUID // read on every event: served from memory
	}
	a, err := find(r.Context(), r.PathValue("guid"))
	if steward.ErrorCode(err) == steward.ENOTFOUND {
		return notFound
	} else if err != nil {
		return err
	}
	secret, _ := a.Options["secret"].(string)
	if a.Type != steward.ActionWebhook || a.Disabled || secret == "" ||
		subtle.ConstantTimeCompare([]byte(secret), []byte(r.PathValue("secret"))) != 1 {
		return notFound
	}
	payload, err := webhookPayload(r)
	if err != nil {
		return err
	}
	events, err := s.Events.EmitEvents(r.Context(), a, []json.RawMessage{payload})
	if err != nil {
		return err
	}
	s.Metrics.Add("steward_webhook_events_accepted_total", "Events accepted by webhooks.", 1)
	writeJSON(w, http.StatusCreated, map[string]any{"event_id": events[0].ID})
	return nil
}

// webhookPayload reads a webhook's event: a JSON body as is, a form as an
// object, another body as {"body": text}, and a GET's query as an object.
func webhookPayload(r *http.Request) (json.RawMessage, error) {
	values := func(v url.Values) (json.RawMessage, error) {
		m := map[string]any{}
		for k, vs := range v {
			if len(vs) == 1 {
				m[k] = vs[0]
			} else {
				m[k] = vs
			}
		}
		return json.Marshal(m)
	}
	if r.Method == http.MethodGet {
		return values(r.URL.Query())
	}
	body, err := readBody(r)
	if err != nil {
		return nil, err
	}
	body = bytes.TrimSpace(body)
	ct := strings.ToLower(r.Header.Get("Content-Type"))
	switch {
	case len(body) == 0:
		return json.RawMessage(`{}`), nil
	case strings.Contains(ct, "application/x-www-form-urlencoded"):
		v, err := url.ParseQuery(string(body))
		if err != nil {
			return nil, steward.Errorf(steward.EMALFORMED, "the form body cannot be parsed: %v", err)
		}
		return values(v)
	case json.Valid(body):
		return json.RawMessage(body), nil
	case strings.Contains(ct, "json"):
		return nil, steward.Errorf(steward.EMALFORMED, "the body is not valid JSON")
	}
	return json.Marshal(map[string]string{"body": string(body)})
}
