package console

import (
	"mime"
	"net/http"
	"strings"
)

// SignInForm is what the sign-in page shows again after a failed attempt.
type SignInForm struct {
	Email string
	// Error is the API's message; Field the input it concerns ("" for the
	// form as a whole).
	Error, Field string
	// Tenants are offered when the email and password open accounts in
	// several tenants.
	Tenants []TenantChoice
}

// TenantChoice is one tenant on the sign-in form.
type TenantChoice struct {
	ID   int64
	Name string
}

// IsBrowserForm reports whether a request is an HTML form a browser
// submitted (a form body, and HTML accepted), which gets HTML answers and
// redirects; scripts that post forms keep getting JSON.
func IsBrowserForm(r *http.Request) bool {
	ct, _, _ := mime.ParseMediaType(r.Header.Get("Content-Type"))
	if ct != "application/x-www-form-urlencoded" && ct != "multipart/form-data" {
		return false
	}
	return strings.Contains(r.Header.Get("Accept"), "text/html")
}

// handleSignInPage shows the sign-in form, or goes home when signed in.
func (c *Console) handleSignInPage(w http.ResponseWriter, r *http.Request) error {
	if _, err := c.deps.Authenticate(r); err == nil {
		http.Redirect(w, r, "/", http.StatusSeeOther)
		return nil
	}
	c.RenderSignIn(w, r, http.StatusOK, SignInForm{})
	return nil
}

// RenderSignIn writes the sign-in page with status.
func (c *Console) RenderSignIn(w http.ResponseWriter, r *http.Request, status int, f SignInForm) {
	w.Header().Set("Cache-Control", "no-store")
	v := &view{Title: "Sign in to Steward", Data: f, Form: map[string][]string{"email": {f.Email}}}
	if f.Error != "" {
		if f.Field == "email" || f.Field == "password" || f.Field == "tenant_id" {
			v.Fields = map[string]string{f.Field: f.Error}
		} else {
			v.Error = f.Error
		}
	}
	c.render(w, r, status, "signin", v)
}
