package httpapi

import (
	"crypto/subtle"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/steward-dev/steward"
	"github.com/steward-dev/steward/console"
	"github.com/steward-dev/steward/metrics"
)

// agentRef names a job's action as Tines does.
type agentRef struct {
	ID   int64  `json:"id"`
	Name string `json:"name"`
}

// jobView is a job as Tines' job admin API shows one, plus Steward's
// action_id, state, error_message and timestamps.
type jobView struct {
	ID           int64    `json:"id"`
	Type         string   `json:"type"`
	Agent        agentRef `json:"agent"`
	Events       *int64   `json:"events"`
	RetryCount   int      `json:"retry_count"`
	LastRetry    any      `json:"last_retry"` // epoch seconds as a float, or ""
	ErrorClass   *string  `json:"error_class"`
	StartedAt    *Time    `json:"started_at"`
	ActionID     int64    `json:"action_id"`
	State        string   `json:"state"`
	ErrorMessage *string  `json:"error_message"`
	CreatedAt    Time     `json:"created_at"`
	RunAt        Time     `json:"run_at"`
	NextRetryAt  *Time    `json:"next_retry_at"`
	DiedAt       *Time    `json:"died_at"`
}

func newJobView(j *steward.Job) jobView {
	v := jobView{
		ID: j.ID, Type: j.Kind, Agent: agentRef{ID: j.ActionID, Name: j.ActionName}, RetryCount: j.RetryCount,
		LastRetry: "", ActionID: j.ActionID, State: j.State.String(), CreatedAt: Time(j.CreatedAt), RunAt: Time(j.RunAt),
		DiedAt: timePtr(j.DiedAt),
	}
	if j.EventID != 0 {
		id := j.EventID
		v.Events = &id
	}
	if j.LastRetryAt != nil {
		v.LastRetry = float64(j.LastRetryAt.UnixMicro()) / 1e6
	}
	if j.ErrorClass != "" {
		v.ErrorClass, v.ErrorMessage = &j.ErrorClass, &j.ErrorMessage
	}
	if j.State == steward.JobInProgress {
		v.StartedAt = timePtr(j.StartedAt)
	}
	if j.State == steward.JobRetry {
		v.NextRetryAt = timePtr(&j.RunAt)
	}
	return v
}

// jobRoutes registers the Job Management Admin API.
func (s *Server) jobRoutes(mux *recordingMux) {
	for _, st := range steward.JobStates {
		mux.Handle("GET /api/v1/admin/"+st.String()+"_jobs", s.requireAdmin(s.handleJobList(st)))
		if st == steward.JobInProgress {
			continue
		}
		mux.Handle("DELETE /api/v1/admin/delete_all_"+st.String()+"_jobs", s.requireAdmin(s.handleJobDeleteAll(st, false)))
		for _, noun := range []string{"actions", "agents"} {
			mux.Handle("DELETE /api/v1/admin/"+noun+"/{id}/delete_all_"+st.String()+"_jobs", s.requireAdmin(s.handleJobDeleteAll(st, true)))
		}
	}
	mux.Handle("GET /api/v1/admin/job_stats", s.requireAdmin(s.handleJobStats))
	mux.Handle("GET /api/v1/admin/job_stats/actions", s.requireAdmin(s.handleActionJobStats))
	mux.Handle("GET /api/v1/admin/jobs/{id}", s.requireAdmin(s.handleJobGet))
	mux.Handle("DELETE /api/v1/admin/jobs/{id}", s.requireAdmin(s.handleJobDelete))
	mux.Handle("POST /api/v1/admin/jobs/{id}/retry", s.requireAdmin(s.handleJobRetry))
	mux.Handle("POST /api/v1/admin/retry_all_dead_jobs", s.requireAdmin(s.handleRetryAllDead(false)))
	for _, noun := range []string{"actions", "agents"} {
		mux.Handle("POST /api/v1/admin/"+noun+"/{id}/retry_all_dead_jobs", s.requireAdmin(s.handleRetryAllDead(true)))
	}
	mux.HandleFunc("GET /metrics", s.handleMetrics)
}

// actionFilter reads the optional action_id query parameter and checks the
// action is the caller's: ENOTFOUND for unknown or other tenants' actions.
func (s *Server) actionFilter(r *http.Request) (int64, error) {
	id, err := actionParam(r)
	if err != nil || id == 0 {
		return id, err
	}
	return id, s.ownAction(r, id)
}

// actionParam reads the optional action_id (or agent_id) query parameter;
// 0 when absent.
func actionParam(r *http.Request) (int64, error) {
	v := strings.TrimSpace(r.URL.Query().Get("action_id"))
	if v == "" {
		v = strings.TrimSpace(r.URL.Query().Get("agent_id"))
	}
	if v == "" {
		return 0, nil
	}
	id, ok := parseID(v)
	if !ok {
		return 0, &steward.Error{Code: steward.EMALFORMED, Field: "action_id", Message: "action_id must be a positive whole number, got " + strconv.Quote(v)}
	}
	return id, nil
}

// ownAction returns ENOTFOUND unless the caller's tenant has action id.
func (s *Server) ownAction(r *http.Request, id int64) error {
	_, err := s.Actions.FindActionByID(r.Context(), principal(r.Context()).User.TenantID, id)
	return err
}

func (s *Server) handleJobList(state steward.JobState) handlerFunc {
	return func(w http.ResponseWriter, r *http.Request) error {
		page, err := parsePage(r)
		if err != nil {
			return err
		}
		actionID, err := s.actionFilter(r)
		if err != nil {
			return err
		}
		jobs, total, err := s.Jobs.FindJobs(r.Context(), steward.JobFilter{
			TenantID: principal(r.Context()).User.TenantID, State: state, ActionID: actionID, PageRequest: page})
		if err != nil {
			return err
		}
		views := make([]jobView, len(jobs))
		for i, j := range jobs {
			views[i] = newJobView(j)
		}
		writeJSON(w, http.StatusOK, map[string]any{"admin/" + state.String() + "_jobs": views, "meta": s.pageMeta(r, page, total)})
		return nil
	}
}

// handleJobDeleteAll deletes the tenant's jobs in a state, or one
// action's; the store checks, in the deleting transaction, that the action
// is the tenant's (ENOTFOUND otherwise).
func (s *Server) handleJobDeleteAll(state steward.JobState, perAction bool) handlerFunc {
	return func(w http.ResponseWriter, r *http.Request) error {
		var actionID int64
		if perAction {
			id, err := pathID(r, "id")
			if err != nil {
				return err
			}
			actionID = id
		}
		n, err := s.Jobs.DeleteJobs(r.Context(), principal(r.Context()).User.TenantID, state, actionID)
		if err != nil {
			return err
		}
		if rep := console.ReportFrom(r.Context()); rep != nil {
			rep.Count = n
		}
		s.Log.InfoContext(r.Context(), "deleted jobs", "state", state.String(), "action_id", actionID, "count", n,
			"tenant_id", principal(r.Context()).User.TenantID, "user_id", principal(r.Context()).User.ID)
		w.WriteHeader(http.StatusNoContent)
		return nil
	}
}

func (s *Server) handleJobStats(w http.ResponseWriter, r *http.Request) error {
	actionID, err := s.actionFilter(r)
	if err != nil {
		return err
	}
	st, err := s.Jobs.JobStats(r.Context(), principal(r.Context()).User.TenantID, actionID)
	if err != nil {
		return err
	}
	out := map[string]any{"queued": st.Queued, "in_progress": st.InProgress, "retry": st.Retry, "dead": st.Dead,
		"oldest_queued_at": timePtr(st.OldestQueuedAt), "oldest_queued_age_seconds": nil}
	if actionID != 0 {
		out["action_id"] = actionID
	}
	if st.OldestQueuedAt != nil {
		out["oldest_queued_age_seconds"] = max(0, s.Clock.Now().Sub(*st.OldestQueuedAt).Seconds())
	}
	writeJSON(w, http.StatusOK, out)
	return nil
}

func (s *Server) handleJobGet(w http.ResponseWriter, r *http.Request) error {
	id, err := pathID(r, "id")
	if err != nil {
		return err
	}
	j, err := s.Jobs.FindJobByID(r.Context(), principal(r.Context()).User.TenantID, id)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, newJobView(j))
	return nil
}

func (s *Server) handleJobDelete(w http.ResponseWriter, r *http.Request) error {
	id, err := pathID(r, "id")
	if err != nil {
		return err
	}
	if err := s.Jobs.DeleteJob(r.Context(), principal(r.Context()).User.TenantID, id); err != nil {
		return err
	}
	w.WriteHeader(http.StatusNoContent)
	return nil
}

func (s *Server) handleJobRetry(w http.ResponseWriter, r *http.Request) error {
	id, err := pathID(r, "id")
	if err != nil {
		return err
	}
	j, err := s.Jobs.RetryJob(r.Context(), principal(r.Context()).User.TenantID, id)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, newJobView(j))
	return nil
}

// handleRetryAllDead queues the tenant's dead jobs, or one action's (by
// path or action_id); the store checks the action is the tenant's in the
// same transaction (ENOTFOUND otherwise).
func (s *Server) handleRetryAllDead(perAction bool) handlerFunc {
	return func(w http.ResponseWriter, r *http.Request) error {
		actionID, err := actionParam(r)
		if err != nil {
			return err
		}
		if perAction {
			if actionID, err = pathID(r, "id"); err != nil {
				return err
			}
		}
		n, err := s.Jobs.RetryDeadJobs(r.Context(), principal(r.Context()).User.TenantID, actionID)
		if err != nil {
			return err
		}
		writeJSON(w, http.StatusOK, map[string]any{"retried": n})
		return nil
	}
}

// handleMetrics serves Prometheus' text format: queue sizes (read from the
// maintained counters at scrape time), job outcomes and durations, and
// HTTP request durations.
func (s *Server) handleMetrics(w http.ResponseWriter, r *http.Request) {
	if want := s.Config.MetricsToken; want != "" &&
		subtle.ConstantTimeCompare([]byte(bearerToken(r)), []byte(want)) != 1 {
		w.Header().Set("WWW-Authenticate", `Bearer realm="steward-metrics"`)
		writeProblem(w, http.StatusUnauthorized, "metrics require the configured bearer token", "")
		return
	}
	if s.Queue != nil {
		sizes, err := s.Queue.QueueSizes(r.Context())
		if err != nil {
			s.Log.Error("metrics: queue sizes", "error", err)
			writeProblem(w, http.StatusServiceUnavailable, "queue sizes are unavailable", "")
			return
		}
		for st, n := range sizes {
			s.Metrics.Set("steward_jobs", "Jobs in the queue, by state, across tenants.", float64(n), "state", st.String())
		}
	}
	w.Header().Set("Content-Type", metrics.ContentType)
	if err := s.Metrics.WriteText(w); err != nil {
		s.Log.Warn("metrics: a collector failed", "error", err)
	}
}

// observeRequest records one request's duration by route and status.
func (s *Server) observeRequest(pattern string, status int, d time.Duration) {
	if pattern == "" {
		pattern = "unrouted"
	}
	s.Metrics.Observe("steward_http_request_duration_seconds", "HTTP request durations, by route and status.",
		d.Seconds(), "route", pattern, "status", strconv.Itoa(status))
}
