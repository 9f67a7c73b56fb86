package httpapi

import (
	"context"
	"net/http"
	"time"

	"github.com/steward-dev/steward"
)

// loginActivityView is one sign-in attempt as the Tines admin API shows
// it, with the 2019 fields success, failure_reason and referrer.
type loginActivityView struct {
	ID            int64   `json:"id"`
	UserID        int64   `json:"user_id"`
	IP            string  `json:"ip"`
	UserAgent     string  `json:"user_agent"`
	CreatedAt     Time    `json:"created_at"`
	Success       bool    `json:"success"`
	FailureReason *string `json:"failure_reason"`
	Referrer      *string `json:"referrer"`
}

func newLoginActivityView(a *steward.LoginActivity) loginActivityView {
	v := loginActivityView{ID: a.ID, IP: a.IP, UserAgent: a.UserAgent, CreatedAt: Time(a.CreatedAt), Success: a.Success}
	if a.UserID != nil {
		v.UserID = *a.UserID
	}
	if a.FailureReason != "" {
		v.FailureReason = &a.FailureReason
	}
	if a.Referrer != "" {
		v.Referrer = &a.Referrer
	}
	return v
}

// handleSignInActivities lists a user's sign-in attempts, newest first.
func (s *Server) handleSignInActivities(w http.ResponseWriter, r *http.Request) error {
	id, err := pathID(r, "id")
	if err != nil {
		return err
	}
	tenant := principal(r.Context()).User.TenantID
	f := steward.LoginActivityFilter{TenantID: tenant, UserID: id}
	if f.PageRequest, err = parsePage(r); err != nil {
		return err
	}
	if f.Before, err = queryTime(r, "before"); err != nil {
		return err
	}
	if f.After, err = queryTime(r, "after"); err != nil {
		return err
	}
	if _, err := s.Users.FindUserByID(r.Context(), tenant, id); err != nil {
		return err
	}
	acts, total, err := s.Sessions.FindLoginActivities(r.Context(), f)
	if err != nil {
		return err
	}
	views := make([]loginActivityView, len(acts))
	for i, a := range acts {
		views[i] = newLoginActivityView(a)
	}
	writeJSON(w, http.StatusOK, map[string]any{"admin/login_activities": views, "meta": s.pageMeta(r, f.PageRequest, total)})
	return nil
}

// handleResendInvitation sends a user a new invitation link; the old one
// stops working. A user who has accepted gets Tines' message instead.
func (s *Server) handleResendInvitation(w http.ResponseWriter, r *http.Request) error {
	id, err := pathID(r, "id")
	if err != nil {
		return err
	}
	u, err := s.Users.FindUserByID(r.Context(), principal(r.Context()).User.TenantID, id)
	if err != nil {
		return err
	}
	if u.InvitationStatus(s.Clock.Now()) == steward.InvitationAccepted {
		writeJSON(w, http.StatusOK, map[string]string{"message": "User already accepted invitation."})
		return nil
	}
	if err := s.invite(r, u); err != nil {
		return err
	}
	w.WriteHeader(http.StatusOK)
	return nil
}

// handleExpireSession signs a user out everywhere.
func (s *Server) handleExpireSession(w http.ResponseWriter, r *http.Request) error {
	id, err := pathID(r, "id")
	if err != nil {
		return err
	}
	if err := s.Sessions.DeleteUserSessions(r.Context(), principal(r.Context()).User.TenantID, id); err != nil {
		return err
	}
	w.WriteHeader(http.StatusNoContent)
	return nil
}

// PruneLoginActivities deletes sign-in records older than the configured
// retention (Config.LoginRetention), returning how many went.
func (s *Server) PruneLoginActivities(ctx context.Context) (int, error) {
	if s.Config.LoginRetention <= 0 {
		return 0, nil
	}
	return s.Sessions.PruneLoginActivities(ctx, s.Clock.Now().Add(-s.Config.LoginRetention))
}

// RunRetention prunes old sign-in records now and then every interval
// until ctx ends.
func (s *Server) RunRetention(ctx context.Context, interval time.Duration) {
	t := time.NewTicker(interval)
	defer t.Stop()
	for {
		s.runAuditRetention(ctx)
		if n, err := s.PruneLoginActivities(ctx); err != nil && ctx.Err() == nil {
			s.Log.Warn("prune sign-in activity", "error", err)
		} else if n > 0 {
			s.Log.Info("pruned sign-in activity", "records", n)
		}
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}
