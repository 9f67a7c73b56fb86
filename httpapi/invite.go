package httpapi

import (
	"fmt"
	"net/http"
	"net/url"

	"github.com/steward-dev/steward"
)

// newInvitation makes a fresh invitation for the user with this email: a
// token (of which only the hash is stored, so any older link stops
// working) and the email carrying the link. The store saves both with the
// user in one transaction (CreateInvitedUser, SetInvitation).
func (s *Server) newInvitation(r *http.Request, email string) *steward.Invitation {
	token, hash := steward.NewSecret("inv_")
	now := s.Clock.Now()
	expires := now.Add(s.Config.InvitationTTL)
	link := s.absoluteURL(r, "/users/invitation/accept") + "?invitation_token=" + url.QueryEscape(token)
	inviter := "An administrator"
	if p := principal(r.Context()); p != nil {
		inviter = p.User.Email
	}
	return &steward.Invitation{
		TokenHash: hash, SentAt: now, ExpiresAt: expires,
		Mail: &steward.MailMessage{
			To:      email,
			Subject: "You have been invited to Steward",
			Body: fmt.Sprintf("Hello,\r\n\r\n%s has invited you to Steward.\r\n\r\n"+
				"Choose your password here to accept the invitation:\r\n%s\r\n\r\n"+
				"The link works once and expires on %s.\r\n",
				inviter, link, expires.Format("2 January 2006 at 15:04 UTC")),
		},
	}
}

// invitationQueued logs a stored invitation and wakes the mail dispatcher,
// so the email goes out at once rather than at its next poll.
func (s *Server) invitationQueued(u *steward.User) {
	if s.MailQueued != nil {
		s.MailQueued()
	}
	s.Log.Info("invitation queued", "user_id", u.ID, "tenant_id", u.TenantID)
}

// invite gives an existing user a fresh invitation and queues its email.
func (s *Server) invite(r *http.Request, u *steward.User) error {
	inv := s.newInvitation(r, u.Email)
	if err := s.Invitations.SetInvitation(r.Context(), u.TenantID, u.ID, inv); err != nil {
		return err
	}
	u.InvitationSentAt, u.InvitationExpiresAt, u.InvitationAcceptedAt = &inv.SentAt, &inv.ExpiresAt, nil
	s.invitationQueued(u)
	return nil
}
