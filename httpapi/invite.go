package httpapi

import (
	"fmt"
	"net/http"
	"net/url"

	"github.com/steward-dev/steward"
	"github.com/steward-dev/steward/console"
)

// invite gives u a fresh invitation token (so any older link stops
// working) and queues the email carrying the link. The token itself is
// never stored, only its hash.
func (s *Server) invite(r *http.Request, u *steward.User) error {
	token, hash := steward.NewSecret("inv_")
	now := s.Clock.Now()
	expires := now.Add(s.Config.InvitationTTL)
	if err := s.Invitations.SetInvitation(r.Context(), u.TenantID, u.ID, hash, now, expires); err != nil {
		return err
	}
	u.InvitationSentAt, u.InvitationExpiresAt, u.InvitationAcceptedAt = &now, &expires, nil
	link := s.absoluteURL(r, "/users/invitation/accept") + "?invitation_token=" + url.QueryEscape(token)
	inviter := "An administrator"
	if p := principal(r.Context()); p != nil {
		inviter = p.User.Email
	}
	msg := &steward.MailMessage{
		TenantID: u.TenantID,
		To:       u.Email,
		Subject:  "You have been invited to Steward",
		Body: fmt.Sprintf("Hello,\r\n\r\n%s has invited you to Steward.\r\n\r\n"+
			"Choose your password here to accept the invitation:\r\n%s\r\n\r\n"+
			"The link works once and expires on %s.\r\n",
			inviter, link, expires.Format("2 January 2006 at 15:04 UTC")),
	}
	if err := s.Outbox.EnqueueMail(r.Context(), msg); err != nil {
		return err
	}
	if rep := console.ReportFrom(r.Context()); rep != nil {
		rep.InvitationURL = link // for the console to show when no mail server is configured
	}
	s.Log.Info("invitation queued", "user_id", u.ID, "tenant_id", u.TenantID, "mail_id", msg.ID)
	return nil
}
