package httpapi

import (
	"html/template"
	"net/http"
	"strings"

	"github.com/steward-dev/steward"
)

// invitationPage is the minimal page where an invited user chooses a
// password. It loads nothing from elsewhere; the CSP header forbids it.
var invitationPage = template.Must(template.New("invitation").Parse(`<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<title>{{.Title}} · Steward</title>
<style>body{font-family:system-ui,sans-serif;max-width:28rem;margin:4rem auto;padding:0 1rem;color:#222}
label{display:block;margin:1rem 0 .3rem}input{width:100%;padding:.5rem;box-sizing:border-box}
button{margin-top:1rem;padding:.5rem 1rem}.error{color:#a00}</style></head>
<body><h1>{{.Title}}</h1>
{{if .Error}}<p class="error">{{.Error}}</p>{{end}}
{{if .Message}}<p>{{.Message}}</p>{{end}}
{{if .Token}}<p>Choose a password for <strong>{{.Email}}</strong> (at least {{.MinLength}} characters).</p>
<form method="post" action="/users/invitation">
<input type="hidden" name="invitation_token" value="{{.Token}}">
<label for="password">Password</label>
<input id="password" name="password" type="password" minlength="{{.MinLength}}" maxlength="{{.MaxLength}}" autocomplete="new-password" required autofocus>
<button type="submit">Set password</button>
</form>{{end}}
</body></html>
`))

// invitationPageData fills invitationPage.
type invitationPageData struct {
	Title, Error, Message, Token, Email string
	MinLength, MaxLength                int
}

// renderInvitationPage writes the page with headers that keep the token
// out of referrers and caches and allow no outside content.
func (s *Server) renderInvitationPage(w http.ResponseWriter, status int, d invitationPageData) {
	d.MinLength, d.MaxLength = s.Config.passwordPolicy().Min(), steward.MaxPasswordLength
	h := w.Header()
	h.Set("Content-Type", "text/html; charset=utf-8")
	h.Set("Content-Security-Policy", "default-src 'none'; style-src 'unsafe-inline'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'")
	h.Set("Referrer-Policy", "no-referrer")
	h.Set("Cache-Control", "no-store")
	h.Set("X-Content-Type-Options", "nosniff")
	h.Set("X-Frame-Options", "DENY")
	w.WriteHeader(status)
	_ = invitationPage.Execute(w, d)
}

// findInvitation returns the user a token invites, or a clear error:
// ENOTFOUND for an unknown or already used token, EINVALID for an expired one.
func (s *Server) findInvitation(r *http.Request, token string) (*steward.User, error) {
	token = strings.TrimSpace(token)
	if token == "" {
		return nil, steward.FieldErrorf("invitation_token", "invitation_token is required")
	}
	u, err := s.Invitations.FindUserByInvitationHash(r.Context(), steward.HashSecret(token))
	if steward.ErrorCode(err) == steward.ENOTFOUND {
		return nil, &steward.Error{Code: steward.ENOTFOUND, Field: "invitation_token",
			Message: "this invitation link is not valid or has already been used; ask an administrator to resend the invitation"}
	} else if err != nil {
		return nil, err
	}
	if u.InvitationStatus(s.Clock.Now()) == steward.InvitationExpired {
		return nil, steward.FieldErrorf("invitation_token", "this invitation has expired; ask an administrator to resend it")
	}
	return u, nil
}

// handleInvitationPage serves the form for GET /users/invitation/accept.
func (s *Server) handleInvitationPage(w http.ResponseWriter, r *http.Request) error {
	token := r.URL.Query().Get("invitation_token")
	u, err := s.findInvitation(r, token)
	if err != nil {
		if status := ErrorStatus(err); status < 500 {
			s.renderInvitationPage(w, status, invitationPageData{Title: "Invitation", Error: steward.ErrorMessage(err)})
			return nil
		}
		return err
	}
	s.renderInvitationPage(w, http.StatusOK, invitationPageData{Title: "Accept your invitation", Token: strings.TrimSpace(token), Email: u.Email})
	return nil
}

// invitationRequest is the body of POST /users/invitation.
type invitationRequest struct {
	InvitationToken string `json:"invitation_token"`
	Password        string `json:"password"`
}

// handleInvitationAccept sets the invited user's password (JSON or form).
// A form post (the invitation page) gets an HTML answer, JSON gets JSON.
func (s *Server) handleInvitationAccept(w http.ResponseWriter, r *http.Request) error {
	if err := s.checkSameOrigin(r); err != nil {
		return err
	}
	var req invitationRequest
	form := isForm(r)
	if form {
		v, err := formValues(w, r)
		if err != nil {
			return err
		}
		req.InvitationToken, req.Password = v.Get("invitation_token"), v.Get("password")
	} else if err := decodeJSON(r, &req); err != nil {
		return err
	}
	u, err := s.acceptInvitation(r, req)
	if form {
		switch {
		case err == nil:
			s.renderInvitationPage(w, http.StatusOK, invitationPageData{Title: "Invitation accepted",
				Message: "Your password is set. Sign in as " + u.Email + " with it."})
			return nil
		case ErrorStatus(err) < 500 && steward.ErrorField(err) == "password":
			s.renderInvitationPage(w, ErrorStatus(err), invitationPageData{Title: "Accept your invitation",
				Error: steward.ErrorMessage(err), Token: strings.TrimSpace(req.InvitationToken), Email: u.Email})
			return nil
		case ErrorStatus(err) < 500:
			s.renderInvitationPage(w, ErrorStatus(err), invitationPageData{Title: "Invitation", Error: steward.ErrorMessage(err)})
			return nil
		}
	}
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, map[string]any{"message": "Invitation accepted. Sign in with your email and new password.",
		"user": newUserView(u, s.Clock.Now())})
	return nil
}

// acceptInvitation checks the token and the password and accepts. On a
// password error it still returns the invited user (for the form).
func (s *Server) acceptInvitation(r *http.Request, req invitationRequest) (*steward.User, error) {
	u, err := s.findInvitation(r, req.InvitationToken)
	if err != nil {
		return nil, err
	}
	hash, err := s.hashPassword("password", req.Password)
	if err != nil {
		return u, err
	}
	accepted, err := s.Invitations.AcceptInvitation(r.Context(), steward.HashSecret(strings.TrimSpace(req.InvitationToken)), hash, s.Clock.Now())
	if steward.ErrorCode(err) == steward.ENOTFOUND {
		return nil, &steward.Error{Code: steward.ENOTFOUND, Field: "invitation_token",
			Message: "this invitation link is not valid or has already been used; ask an administrator to resend the invitation"}
	}
	return accepted, err
}
