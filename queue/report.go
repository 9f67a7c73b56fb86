package queue

import (
	"context"

	"github.com/steward-dev/steward"
)

// A handler tells the engine, through its context, what it learned while
// running a job, so that the outcome metrics can name the action's type
// without reading the action again.

type reportKey struct{}

// jobReport is what a handler reported about the job it ran.
type jobReport struct {
	actionType string
}

// UnknownActionType labels outcomes of jobs whose handler reported no
// known action type (the action was deleted, or failed to load).
const UnknownActionType = "unknown"

// withReport returns ctx carrying a fresh report for one job.
func withReport(ctx context.Context) (context.Context, *jobReport) {
	r := &jobReport{actionType: UnknownActionType}
	return context.WithValue(ctx, reportKey{}, r), r
}

// ReportActionType records the type of the action the job running under
// ctx runs, for the job outcome metrics. Types Steward does not know count
// as UnknownActionType, so that the label's values stay a small set. It
// does nothing outside a job run by an Engine.
func ReportActionType(ctx context.Context, t steward.ActionType) {
	r, ok := ctx.Value(reportKey{}).(*jobReport)
	if !ok {
		return
	}
	for _, at := range steward.ActionTypes {
		if at.Type == t {
			r.actionType = string(t)
			return
		}
	}
	r.actionType = UnknownActionType
}
