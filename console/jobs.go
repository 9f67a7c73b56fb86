package console

import (
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/steward-dev/steward"
)

// jobStats is the API's job_stats answer.
type jobStats struct {
	Queued         int64    `json:"queued"`
	InProgress     int64    `json:"in_progress"`
	Retry          int64    `json:"retry"`
	Dead           int64    `json:"dead"`
	OldestQueuedAt *string  `json:"oldest_queued_at"`
	OldestAge      *float64 `json:"oldest_queued_age_seconds"`
}

// OldestAgeText is the oldest queued job's age for display.
func (s jobStats) OldestAgeText() string { return formatAge(s.OldestAge) }

// actionStats is one action's row in the queues table.
type actionStats struct {
	ID    int64    `json:"id"`
	Name  string   `json:"name"`
	Stats jobStats `json:"stats"`
}

// jobCounts is the queues page's live data (GET /console/jobs/counts).
type jobCounts struct {
	Total   jobStats      `json:"total"`
	Actions []actionStats `json:"actions"`
	Pager   pager         `json:"-"`
}

// job is a job as the API lists one.
type job struct {
	ID    int64 `json:"id"`
	Agent struct {
		ID   int64  `json:"id"`
		Name string `json:"name"`
	} `json:"agent"`
	State        string     `json:"state"`
	RetryCount   int        `json:"retry_count"`
	ErrorClass   *string    `json:"error_class"`
	ErrorMessage *string    `json:"error_message"`
	CreatedAt    time.Time  `json:"created_at"`
	NextRetryAt  *time.Time `json:"next_retry_at"`
	DiedAt       *time.Time `json:"died_at"`
}

// actionsPerPage is how many actions the queues table shows at once; their
// counts come in one request.
const actionsPerPage = 10

// jobsPerPage is how many retry or dead jobs a list page shows.
const jobsPerPage = 20

// loadCounts reads the tenant's totals and one page of actions' counts:
// two API requests, whatever the page size.
func (c *Console) loadCounts(r *http.Request) (*jobCounts, error) {
	var out jobCounts
	if _, err := c.call(r, "GET", "/api/v1/admin/job_stats", nil, &out.Total); err != nil {
		return nil, err
	}
	page := pageParam(r, "apage")
	var actions struct {
		Actions []struct {
			ID   int64  `json:"action_id"`
			Name string `json:"name"`
			jobStats
		} `json:"admin/action_job_stats"`
		Meta meta `json:"meta"`
	}
	if _, err := c.call(r, "GET", fmt.Sprintf("/api/v1/admin/job_stats/actions?page=%d&per_page=%d", page, actionsPerPage), nil, &actions); err != nil {
		return nil, err
	}
	out.Actions = make([]actionStats, len(actions.Actions))
	for i, a := range actions.Actions {
		out.Actions[i] = actionStats{ID: a.ID, Name: a.Name, Stats: a.jobStats}
	}
	out.Pager = newPager(r, "apage", page, actions.Meta)
	return &out, nil
}

// jobsPage is the queues page's data.
type jobsPage struct {
	Counts   *jobCounts
	List     string // "retry" or "dead"
	Jobs     []job
	Pager    pager
	ActionID int64
	Back     string
}

// handleJobs shows the queues: counts, then the retry or dead list.
func (c *Console) handleJobs(w http.ResponseWriter, r *http.Request) error {
	counts, err := c.loadCounts(r)
	if err != nil {
		return err
	}
	list := r.URL.Query().Get("list")
	if list != "dead" {
		list = "retry"
	}
	page := pageParam(r, "page")
	q := url.Values{"page": {strconv.Itoa(page)}, "per_page": {strconv.Itoa(jobsPerPage)}}
	actionID, _ := strconv.ParseInt(r.URL.Query().Get("action_id"), 10, 64)
	if actionID > 0 {
		q.Set("action_id", strconv.FormatInt(actionID, 10))
	}
	var body map[string]json.RawMessage
	if _, err := c.call(r, "GET", "/api/v1/admin/"+list+"_jobs?"+q.Encode(), nil, &body); err != nil {
		if steward.ErrorCode(err) != steward.ENOTFOUND || actionID == 0 {
			return err
		}
		http.Redirect(w, r, "/console/jobs?list="+list, http.StatusSeeOther)
		return nil
	}
	var jobs []job
	var m meta
	if err := json.Unmarshal(body["admin/"+list+"_jobs"], &jobs); err != nil {
		return fmt.Errorf("decode job list: %w", err)
	}
	if err := json.Unmarshal(body["meta"], &m); err != nil {
		return fmt.Errorf("decode job list: %w", err)
	}
	c.render(w, r, http.StatusOK, "jobs", &view{Title: "Queues", Nav: "jobs", Data: jobsPage{
		Counts: counts, List: list, Jobs: jobs, Pager: newPager(r, "page", page, m), ActionID: actionID,
		Back: r.URL.RequestURI(),
	}})
	return nil
}

// handleJobCounts answers the queues page's script with fresh counts.
func (c *Console) handleJobCounts(w http.ResponseWriter, r *http.Request) error {
	counts, err := c.loadCounts(r)
	if err != nil {
		return err
	}
	w.Header().Set("Content-Type", "application/json")
	return json.NewEncoder(w).Encode(counts)
}

// bulkOp is a change to all of one state's jobs, of an action or the tenant.
type bulkOp struct {
	Do       string // "delete" or "retry"
	State    string // queued, retry or dead; retry only for dead
	ActionID int64
	Action   string // the action's name, "" for the whole tenant
	Count    int64  // how many jobs it will touch
}

// Describe says what the operation does, for the confirmation and result.
func (b bulkOp) Describe(n int64) string {
	verb := "Delete"
	if b.Do == "retry" {
		verb = "Retry"
	}
	what := plural(n, strings.ReplaceAll(b.State, "_", " ")+" job", strings.ReplaceAll(b.State, "_", " ")+" jobs")
	if b.Action != "" {
		return fmt.Sprintf("%s %s of action “%s”", verb, what, b.Action)
	}
	return fmt.Sprintf("%s %s of every action", verb, what)
}

// readBulkOp reads and checks do, state and action_id from values.
func readBulkOp(v url.Values) (bulkOp, error) {
	op := bulkOp{Do: v.Get("do"), State: v.Get("state")}
	switch {
	case op.Do == "delete" && (op.State == "queued" || op.State == "retry" || op.State == "dead"):
	case op.Do == "retry" && op.State == "dead":
	default:
		return op, steward.Errorf(steward.EMALFORMED, "unknown operation %q on %q jobs: delete queued, retry or dead jobs, or retry dead jobs", op.Do, op.State)
	}
	if s := v.Get("action_id"); s != "" {
		id, err := strconv.ParseInt(s, 10, 64)
		if err != nil || id < 1 {
			return op, steward.Errorf(steward.EMALFORMED, "action_id must be a positive whole number, got %q", s)
		}
		op.ActionID = id
	}
	return op, nil
}

// describeBulk fills in the action's name and the number of jobs now.
func (c *Console) describeBulk(r *http.Request, op *bulkOp) error {
	path := "/api/v1/admin/job_stats"
	if op.ActionID != 0 {
		var a struct {
			Name string `json:"name"`
		}
		if _, err := c.call(r, "GET", fmt.Sprintf("/api/v1/agents/%d", op.ActionID), nil, &a); err != nil {
			return err
		}
		op.Action = a.Name
		path += "?action_id=" + strconv.FormatInt(op.ActionID, 10)
	}
	var st jobStats
	if _, err := c.call(r, "GET", path, nil, &st); err != nil {
		return err
	}
	op.Count = map[string]int64{"queued": st.Queued, "retry": st.Retry, "dead": st.Dead}[op.State]
	return nil
}

// handleJobConfirm asks before a bulk change, saying how many jobs it touches.
func (c *Console) handleJobConfirm(w http.ResponseWriter, r *http.Request) error {
	op, err := readBulkOp(r.URL.Query())
	if err != nil {
		return err
	}
	if err := c.describeBulk(r, &op); err != nil {
		return err
	}
	c.render(w, r, http.StatusOK, "confirm", &view{Title: "Confirm", Nav: "jobs", Data: confirmation{
		Question: op.Describe(op.Count) + "?",
		Detail:   "The count may change while workers run; the change applies to the jobs in that state when you confirm.",
		Action:   "/console/jobs/bulk", Button: op.Describe(op.Count), Cancel: "/console/jobs",
		Hidden: map[string]string{"do": op.Do, "state": op.State, "action_id": formatID(op.ActionID)},
	}})
	return nil
}

// handleJobBulk applies a confirmed bulk change and says how many jobs it touched.
func (c *Console) handleJobBulk(w http.ResponseWriter, r *http.Request) error {
	op, err := readBulkOp(r.PostForm)
	if err != nil {
		return err
	}
	if err := c.describeBulk(r, &op); err != nil {
		return err
	}
	scope := "/api/v1/admin/"
	if op.ActionID != 0 {
		scope = fmt.Sprintf("/api/v1/admin/actions/%d/", op.ActionID)
	}
	var n int64
	if op.Do == "retry" {
		var out struct {
			Retried int64 `json:"retried"`
		}
		if _, err := c.call(r, "POST", scope+"retry_all_dead_jobs", nil, &out); err != nil {
			return err
		}
		n = out.Retried
	} else {
		res, err := c.call(r, "DELETE", scope+"delete_all_"+op.State+"_jobs", nil, nil)
		if err != nil {
			return err
		}
		n = res.report.Count
	}
	var msg string
	if op.Do == "retry" {
		msg = fmt.Sprintf("Retried %s.", plural(n, "dead job", "dead jobs"))
	} else {
		msg = fmt.Sprintf("Deleted %s.", plural(n, op.State+" job", op.State+" jobs"))
	}
	if op.Action != "" {
		msg = strings.TrimSuffix(msg, ".") + " of action “" + op.Action + "”."
	}
	redirectWith(w, r, "/console/jobs", msg)
	return nil
}

// handleJobRetry runs one retry or dead job now.
func (c *Console) handleJobRetry(w http.ResponseWriter, r *http.Request) error {
	id, err := pathID(r)
	if err != nil {
		return err
	}
	if _, err := c.call(r, "POST", fmt.Sprintf("/api/v1/admin/jobs/%d/retry", id), nil, nil); err != nil {
		if steward.ErrorCode(err) != steward.ENOTFOUND && steward.ErrorCode(err) != steward.EINVALID && steward.ErrorCode(err) != steward.ECONFLICT {
			return err
		}
		redirectWith(w, r, localPath(r.PostForm.Get("back"), "/console/jobs"), fmt.Sprintf("Job %d was not retried: %s", id, steward.ErrorMessage(err)))
		return nil
	}
	redirectWith(w, r, localPath(r.PostForm.Get("back"), "/console/jobs"), fmt.Sprintf("Job %d will run again now.", id))
	return nil
}

// handleJobDelete deletes one job.
func (c *Console) handleJobDelete(w http.ResponseWriter, r *http.Request) error {
	id, err := pathID(r)
	if err != nil {
		return err
	}
	if _, err := c.call(r, "DELETE", fmt.Sprintf("/api/v1/admin/jobs/%d", id), nil, nil); err != nil {
		if steward.ErrorCode(err) != steward.ENOTFOUND && steward.ErrorCode(err) != steward.EINVALID && steward.ErrorCode(err) != steward.ECONFLICT {
			return err
		}
		redirectWith(w, r, localPath(r.PostForm.Get("back"), "/console/jobs"), fmt.Sprintf("Job %d was not deleted: %s", id, steward.ErrorMessage(err)))
		return nil
	}
	redirectWith(w, r, localPath(r.PostForm.Get("back"), "/console/jobs"), fmt.Sprintf("Deleted job %d.", id))
	return nil
}

// confirmation is the data of the confirm page: a question and a form.
type confirmation struct {
	Question, Detail string
	Action, Button   string
	Cancel           string
	Danger           bool
	Hidden           map[string]string
}

func formatID(id int64) string {
	if id == 0 {
		return ""
	}
	return strconv.FormatInt(id, 10)
}
