package sqlstore

import (
	"fmt"

	"github.com/steward-dev/steward"
)

// jobListQuery returns the condition and order of an admin job list (the
// rows FindJobs pages through), as queue dashboards show them:
//
//   - retry jobs by next retry time, soonest first (jobs_retry_list,
//     jobs_retry_action_list);
//   - dead jobs by time of death, newest first (jobs_dead,
//     jobs_dead_action, read backwards);
//   - queued jobs and jobs in progress as jobWhere and jobOrder say.
//
// The id breaks ties, so the order is total and pages never overlap or
// skip rows between requests that change nothing. The state is written as
// a literal so that SQLite sees the partial indexes apply.
func jobListQuery(tenantID int64, state steward.JobState, actionID int64) (where, order string, args []any) {
	switch state {
	case steward.JobRetry:
		order = `jobs.run_at, jobs.id`
	case steward.JobDead:
		order = `jobs.died_at DESC, jobs.id DESC`
	default:
		where, args = jobWhere(tenantID, state, actionID)
		return where, jobOrder(state, actionID), args
	}
	where = fmt.Sprintf(`jobs.tenant_id = ? AND jobs.state = %d`, int(state))
	args = []any{tenantID}
	if actionID != 0 {
		where = fmt.Sprintf(`jobs.tenant_id = ? AND jobs.action_id = ? AND jobs.state = %d`, int(state))
		args = append(args, actionID)
	}
	return where, order, args
}
