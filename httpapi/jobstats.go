package httpapi

import "net/http"

// handleActionJobStats lists a page of the tenant's agents, in id order,
// each with its queue sizes as job_stats gives them for one agent: one
// request instead of one job_stats request per agent.
func (s *Server) handleActionJobStats(w http.ResponseWriter, r *http.Request) error {
	page, err := parsePage(r)
	if err != nil {
		return err
	}
	stats, total, err := s.Jobs.FindActionJobStats(r.Context(), principal(r.Context()).User.TenantID, page)
	if err != nil {
		return err
	}
	now := s.Clock.Now()
	views := make([]map[string]any, len(stats))
	for i, st := range stats {
		v := map[string]any{"action_id": st.ActionID, "name": st.ActionName, "queued": st.Queued, "in_progress": st.InProgress,
			"retry": st.Retry, "dead": st.Dead, "oldest_queued_at": timePtr(st.OldestQueuedAt), "oldest_queued_age_seconds": nil}
		if st.OldestQueuedAt != nil {
			v["oldest_queued_age_seconds"] = max(0, now.Sub(*st.OldestQueuedAt).Seconds())
		}
		views[i] = v
	}
	writeJSON(w, http.StatusOK, map[string]any{"admin/action_job_stats": views, "meta": s.pageMeta(r, page, total)})
	return nil
}
