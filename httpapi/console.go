package httpapi

import (
	"net/http"

	"github.com/steward-dev/steward"
	"github.com/steward-dev/steward/console"
)

// mountConsole builds the web console on top of this API and registers its
// pages. The console calls the API in process with the user's session, so
// it shares every rule and authorization check. Its routes are HTML pages,
// not API routes, so they are registered on the mux directly and are not
// in Routes (nor in the OpenAPI document).
func (s *Server) mountConsole() {
	s.console = console.New(s.Config.Console, console.Deps{
		API:           http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { s.handler.ServeHTTP(w, r) }),
		Authenticate:  s.consoleAuthenticate,
		SessionCookie: SessionCookie,
		Log:           s.Log,
	})
	s.console.Register(s.mux.ServeMux)
}

// handleBrowserSignIn is POST /users/sign_in from the console's sign-in
// form: the same checks as JSON sign-in, plus the form's CSRF token; a
// success redirects to the console, a failure shows the form again with
// the message (and, when the password opens several tenants, a choice).
func (s *Server) handleBrowserSignIn(w http.ResponseWriter, r *http.Request) error {
	if _, err := formValues(w, r); err != nil {
		return err
	}
	form := console.SignInForm{Email: r.PostFormValue("email")}
	fail := func(err error) error {
		if ErrorStatus(err) >= 500 {
			return err
		}
		form.Error, form.Field = steward.ErrorMessage(err), steward.ErrorField(err)
		s.console.RenderSignIn(w, r, ErrorStatus(err), form)
		return nil
	}
	if err := s.console.CheckCSRF(r); err != nil {
		return fail(err)
	}
	req, err := readSignIn(w, r)
	if err != nil {
		return fail(err)
	}
	u, several, err := s.signInAccount(r, req)
	if err != nil {
		for _, o := range several {
			t, terr := s.Tenants.FindTenantByID(r.Context(), o.TenantID)
			if terr != nil {
				return terr
			}
			form.Tenants = append(form.Tenants, console.TenantChoice{ID: t.ID, Name: t.Name})
		}
		if len(several) > 0 {
			form.Field = ""
			form.Error = "This email and password open accounts in several tenants: choose one."
			s.console.RenderSignIn(w, r, ErrorStatus(err), form)
			return nil
		}
		return fail(err)
	}
	if err := s.createSession(w, r, u); err != nil {
		return err
	}
	http.Redirect(w, r, "/", http.StatusSeeOther)
	return nil
}
