package console

import (
	"bytes"
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base64"
	"errors"
	"fmt"
	"html/template"
	"io/fs"
	"net/http"
	"net/url"
	"path"
	"strconv"
	"strings"
	"time"

	"github.com/steward-dev/steward"
)

// view is what every page template receives.
type view struct {
	Title  string
	Nav    string
	User   *steward.User
	CSRF   string
	Flash  string
	Error  string
	Fields map[string]string // field → the API's message about it
	Form   url.Values        // what the user typed, shown again after an error
	Data   any
}

// FieldError returns the message for a field, or "".
func (v *view) FieldError(field string) string { return v.Fields[field] }

// Value returns what the user typed into a field.
func (v *view) Value(field string) string { return v.Form.Get(field) }

var funcs = template.FuncMap{
	"ts": func(t any) string {
		switch v := t.(type) {
		case time.Time:
			if v.IsZero() {
				return ""
			}
			return v.UTC().Format("2006-01-02 15:04:05 UTC")
		case *time.Time:
			if v == nil {
				return ""
			}
			return v.UTC().Format("2006-01-02 15:04:05 UTC")
		}
		return ""
	},
	"iso": func(t any) string {
		switch v := t.(type) {
		case time.Time:
			return v.UTC().Format(time.RFC3339)
		case *time.Time:
			if v != nil {
				return v.UTC().Format(time.RFC3339)
			}
		}
		return ""
	},
	"age":          formatAge,
	"add":          func(a, b int) int { return a + b },
	"plural":       plural,
	"canReadAudit": canReadAudit,
}

// formatAge renders a duration in seconds as "3 min", "2 h 5 min".
func formatAge(seconds *float64) string {
	if seconds == nil {
		return "—"
	}
	d := time.Duration(*seconds * float64(time.Second)).Round(time.Second)
	switch {
	case d < time.Minute:
		return fmt.Sprintf("%d s", int(d.Seconds()))
	case d < time.Hour:
		return fmt.Sprintf("%d min %d s", int(d.Minutes()), int(d.Seconds())%60)
	case d < 48*time.Hour:
		return fmt.Sprintf("%d h %d min", int(d.Hours()), int(d.Minutes())%60)
	}
	return fmt.Sprintf("%d days", int(d.Hours()/24))
}

// plural writes "1 job", "3 jobs".
func plural(n int64, one, many string) string {
	if n == 1 {
		return "1 " + one
	}
	return strconv.FormatInt(n, 10) + " " + many
}

// parsePages parses each page template with the shared layout.
func parsePages() map[string]*template.Template {
	base := template.Must(template.New("").Funcs(funcs).ParseFS(templateFS, "templates/layout.html"))
	names, err := fs.Glob(templateFS, "templates/*.html")
	if err != nil {
		panic(err)
	}
	pages := map[string]*template.Template{}
	for _, n := range names {
		name := strings.TrimSuffix(path.Base(n), ".html")
		if name == "layout" {
			continue
		}
		pages[name] = template.Must(template.Must(base.Clone()).ParseFS(templateFS, n))
	}
	return pages
}

// render writes a page. The view is filled with the session's user and
// CSRF token and a flash message left by the previous request.
func (c *Console) render(w http.ResponseWriter, r *http.Request, status int, name string, v *view) {
	if s := sessionFrom(r.Context()); s != nil {
		v.User, v.CSRF = s.p.User, s.csrf
	}
	if v.CSRF == "" {
		v.CSRF = c.csrfToken(w, r)
	}
	if v.Flash == "" {
		v.Flash = takeFlash(w, r)
	}
	var buf bytes.Buffer
	if err := c.pages[name].ExecuteTemplate(&buf, "layout", v); err != nil {
		c.deps.Log.Error("render console page", "page", name, "error", err)
		http.Error(w, "Internal error.", http.StatusInternalServerError)
		return
	}
	securityHeaders(w.Header())
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.WriteHeader(status)
	_, _ = w.Write(buf.Bytes())
}

// renderError shows an error as a page: the API's message for client
// errors, a generic one (logged) for internal errors. A lost session
// returns to the sign-in form.
func (c *Console) renderError(w http.ResponseWriter, r *http.Request, err error) {
	code := steward.ErrorCode(err)
	if code == steward.EUNAUTHORIZED && sessionFrom(r.Context()) != nil {
		c.redirectToSignIn(w, r)
		return
	}
	status := http.StatusInternalServerError
	for s, cd := range statusCode {
		if cd == code {
			status = s
		}
	}
	if status == http.StatusInternalServerError {
		c.deps.Log.ErrorContext(r.Context(), "console request failed", "method", r.Method, "path", r.URL.Path, "error", err)
	}
	title := map[int]string{http.StatusForbidden: "Not allowed", http.StatusNotFound: "Not found",
		http.StatusInternalServerError: "Something went wrong"}[status]
	if title == "" {
		title = "That did not work"
	}
	c.render(w, r, status, "error", &view{Title: title, Error: steward.ErrorMessage(err)})
}

// formError re-renders a form with the API's message: beside its field
// when the API names one that the form has, otherwise above the form.
func formError(v *view, err error, fields ...string) (int, bool) {
	code := steward.ErrorCode(err)
	if code == steward.EINTERNAL || code == steward.EUNAUTHORIZED || code == steward.EFORBIDDEN {
		return 0, false
	}
	status := http.StatusUnprocessableEntity
	for s, cd := range statusCode {
		if cd == code {
			status = s
		}
	}
	field := steward.ErrorField(err)
	for _, f := range fields {
		// agent_options.url belongs beside agent_options.
		if f == field || strings.HasPrefix(field, f+".") || strings.HasPrefix(field, f+"[") {
			if v.Fields == nil {
				v.Fields = map[string]string{}
			}
			v.Fields[f] = steward.ErrorMessage(err)
			v.Error = "Please correct the field marked below."
			return status, true
		}
	}
	v.Error = steward.ErrorMessage(err)
	return status, true
}

// Cookies the console sets besides the API's session cookie.
const (
	csrfCookie  = "steward_csrf"
	flashCookie = "steward_flash"
)

// csrfToken is the request's CSRF token. With a session it is derived from
// the session secret (which only the browser holds), so it needs no state;
// before sign-in it is derived from a random cookie the console sets.
func (c *Console) csrfToken(w http.ResponseWriter, r *http.Request) string {
	if ck, err := r.Cookie(c.deps.SessionCookie); err == nil && ck.Value != "" {
		return deriveToken("session", ck.Value)
	}
	if ck, err := r.Cookie(csrfCookie); err == nil && len(ck.Value) >= 32 {
		return deriveToken("pre-session", ck.Value)
	}
	b := make([]byte, 32)
	_, _ = rand.Read(b)
	v := base64.RawURLEncoding.EncodeToString(b)
	http.SetCookie(w, &http.Cookie{Name: csrfCookie, Value: v, Path: "/", HttpOnly: true,
		Secure: r.TLS != nil, SameSite: http.SameSiteLaxMode})
	// Later code in this request reads the token from the request.
	r.AddCookie(&http.Cookie{Name: csrfCookie, Value: v})
	return deriveToken("pre-session", v)
}

func deriveToken(kind, secret string) string {
	h := sha256.Sum256([]byte("steward console csrf\x00" + kind + "\x00" + secret))
	return base64.RawURLEncoding.EncodeToString(h[:])
}

// errCSRF is the answer to a state-changing request without a valid token.
var errCSRF = steward.Errorf(steward.EFORBIDDEN,
	"the form has expired or did not come from this console; reload the page and try again")

// CheckCSRF verifies a state-changing console request: its csrf_token form
// field (or X-CSRF-Token header) must match the token of its cookies.
func (c *Console) CheckCSRF(r *http.Request) error {
	got := r.Header.Get("X-CSRF-Token")
	if got == "" {
		got = r.PostFormValue("csrf_token")
	}
	var want string
	if ck, err := r.Cookie(c.deps.SessionCookie); err == nil && ck.Value != "" {
		want = deriveToken("session", ck.Value)
	} else if ck, err := r.Cookie(csrfCookie); err == nil && len(ck.Value) >= 32 {
		want = deriveToken("pre-session", ck.Value)
	}
	if want == "" || got == "" || subtle.ConstantTimeCompare([]byte(got), []byte(want)) != 1 {
		return errCSRF
	}
	return nil
}

// checkCSRF reads the form (bounded) and checks its token.
func (c *Console) checkCSRF(r *http.Request) error {
	limit := int64(maxFormBytes)
	if r.URL.Path == "/console/templates/import" {
		limit = maxImportBytes + 64<<10
	}
	if err := parseForm(r, limit); err != nil {
		return err
	}
	return c.CheckCSRF(r)
}

// maxFormBytes bounds a console form; the template import has its own limit.
const (
	maxFormBytes   = 1 << 20
	maxImportBytes = 8 << 20
)

// parseForm parses a URL-encoded or multipart form of at most limit bytes.
func parseForm(r *http.Request, limit int64) error {
	if r.PostForm != nil {
		return nil
	}
	r.Body = http.MaxBytesReader(nil, r.Body, limit)
	var err error
	if strings.HasPrefix(r.Header.Get("Content-Type"), "multipart/form-data") {
		err = r.ParseMultipartForm(limit)
	} else {
		err = r.ParseForm()
	}
	var tooBig *http.MaxBytesError
	if errors.As(err, &tooBig) {
		return steward.Errorf(steward.ETOOLARGE, "the form is larger than %d bytes", limit)
	} else if err != nil {
		return steward.Errorf(steward.EMALFORMED, "could not read the form: %v", err)
	}
	return nil
}

// setFlash leaves a message for the next page the browser shows.
func setFlash(w http.ResponseWriter, r *http.Request, msg string) {
	http.SetCookie(w, &http.Cookie{Name: flashCookie, Value: base64.RawURLEncoding.EncodeToString([]byte(msg)),
		Path: "/", HttpOnly: true, Secure: r.TLS != nil, SameSite: http.SameSiteLaxMode, MaxAge: 60})
}

// takeFlash returns and clears the flash message.
func takeFlash(w http.ResponseWriter, r *http.Request) string {
	ck, err := r.Cookie(flashCookie)
	if err != nil {
		return ""
	}
	http.SetCookie(w, &http.Cookie{Name: flashCookie, Value: "", Path: "/", MaxAge: -1,
		HttpOnly: true, Secure: r.TLS != nil, SameSite: http.SameSiteLaxMode})
	b, err := base64.RawURLEncoding.DecodeString(ck.Value)
	if err != nil || len(b) > 500 {
		return ""
	}
	return strings.ToValidUTF8(string(b), "")
}

// redirectWith stores a flash message and sends the browser to target.
func redirectWith(w http.ResponseWriter, r *http.Request, target, msg string) {
	if msg != "" {
		setFlash(w, r, msg)
	}
	http.Redirect(w, r, target, http.StatusSeeOther)
}

// localPath keeps a return address only if it is a console path.
func localPath(s, fallback string) string {
	if strings.HasPrefix(s, "/console/") && !strings.HasPrefix(s, "//") && !strings.ContainsAny(s, "\\\r\n") {
		return s
	}
	return fallback
}

// pager is a page of a list: the numbers and links for the template.
type pager struct {
	Page, Pages, Count int
	Prev, Next         string
}

// newPager builds the links for page of pages, keeping the other query
// parameters (param names the page parameter).
func newPager(r *http.Request, param string, page int, m meta) pager {
	p := pager{Page: page, Pages: max(m.Pages, 1), Count: m.Count}
	link := func(n int) string {
		q := r.URL.Query()
		q.Set(param, strconv.Itoa(n))
		return r.URL.Path + "?" + q.Encode()
	}
	if page > 1 {
		p.Prev = link(min(page-1, p.Pages))
	}
	if page < m.Pages {
		p.Next = link(page + 1)
	}
	return p
}

// pageParam reads a page number; anything but a positive number is 1.
func pageParam(r *http.Request, name string) int {
	n, err := strconv.Atoi(r.URL.Query().Get(name))
	if err != nil || n < 1 || n > 1_000_000 {
		return 1
	}
	return n
}

// pathID reads the {id} path parameter; a bad one is "not found".
func pathID(r *http.Request) (int64, error) {
	id, err := strconv.ParseInt(r.PathValue("id"), 10, 64)
	if err != nil || id < 1 {
		return 0, steward.Errorf(steward.ENOTFOUND, "there is no such page")
	}
	return id, nil
}
