package console_test

import (
	"bytes"
	"context"
	"encoding/json"
	"html"
	"io"
	"net/http"
	"net/http/cookiejar"
	"net/http/httptest"
	"net/url"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/steward-dev/steward"
	"github.com/steward-dev/steward/httpapi"
	"github.com/steward-dev/steward/sqlstore"
	"golang.org/x/crypto/bcrypt"
)

// site is a running Steward (API and console) on a real database, with
// one tenant whose admin has a password and an API key.
type site struct {
	t     *testing.T
	DB    *sqlstore.DB
	URL   string
	Srv   *httptest.Server
	Admin *httpapi.BootstrapResult
}

const adminPassword = "correct horse battery"

// newSite starts Steward on db; tls serves HTTPS; configure adjusts the
// HTTP configuration.
func newSite(t *testing.T, db *sqlstore.DB, tls bool, configure ...func(*httpapi.Config)) *site {
	t.Helper()
	cfg := httpapi.DefaultConfig()
	cfg.BcryptCost = bcrypt.MinCost
	cfg.CredentialCacheTTL = 0
	cfg.Console.ShowInvitationLinks = true
	for _, f := range configure {
		f(&cfg)
	}
	api := httpapi.NewServer(httpapi.StoreServices(db), cfg, nil, nil)
	var srv *httptest.Server
	if tls {
		srv = httptest.NewTLSServer(api)
	} else {
		srv = httptest.NewServer(api)
	}
	t.Cleanup(srv.Close)
	res, err := httpapi.Bootstrap(context.Background(), httpapi.StoreServices(db), "Acme", "owner@acme.example", adminPassword, bcrypt.MinCost)
	if err != nil {
		t.Fatal(err)
	}
	return &site{t: t, DB: db, URL: srv.URL, Srv: srv, Admin: res}
}

// api sends a JSON API request with the admin's key and decodes the answer.
func (s *site) api(method, path string, body any, out any) int {
	s.t.Helper()
	var rd io.Reader
	if body != nil {
		b, _ := json.Marshal(body)
		rd = bytes.NewReader(b)
	}
	req, _ := http.NewRequest(method, s.URL+path, rd)
	req.Header.Set("Authorization", "Bearer "+s.Admin.APIKey)
	req.Header.Set("Content-Type", "application/json")
	resp, err := s.Srv.Client().Do(req)
	if err != nil {
		s.t.Fatal(err)
	}
	defer resp.Body.Close()
	data, _ := io.ReadAll(resp.Body)
	if out != nil {
		if err := json.Unmarshal(data, out); err != nil {
			s.t.Fatalf("%s %s: %d %s", method, path, resp.StatusCode, data)
		}
	}
	return resp.StatusCode
}

// addMember creates a member (not an admin) with a password.
func (s *site) addMember(email string) {
	s.t.Helper()
	if st := s.api("POST", "/api/v1/admin/users", map[string]any{"email": email, "password": adminPassword}, nil); st != http.StatusCreated {
		s.t.Fatalf("create member: %d", st)
	}
}

// addAction creates an HTTP Request action and returns its id.
func (s *site) addAction(name string) int64 {
	s.t.Helper()
	var a struct {
		ID int64 `json:"id"`
	}
	if st := s.api("POST", "/api/v1/agents", map[string]any{"type": "HTTP Request", "name": name,
		"options": map[string]any{"url": "https://example.com/", "method": "get"}}, &a); st != http.StatusCreated {
		s.t.Fatalf("create action: %d", st)
	}
	return a.ID
}

// addJobs puts n jobs of action into state (queued, retry or dead); failed
// ones carry the error message.
func (s *site) addJobs(action int64, n int, state steward.JobState, message string) {
	s.t.Helper()
	ctx := context.Background()
	jobs := make([]steward.NewJob, n)
	for i := range jobs {
		jobs[i] = steward.NewJob{TenantID: s.Admin.TenantID, ActionID: action}
	}
	if err := s.DB.EnqueueJobs(ctx, jobs); err != nil {
		s.t.Fatal(err)
	}
	if state == steward.JobQueued {
		return
	}
	fetched, err := s.DB.FetchJobs(ctx, "test-worker", n, time.Minute)
	if err != nil {
		s.t.Fatal(err)
	}
	var failed []steward.JobFailure
	for _, j := range fetched {
		failed = append(failed, steward.JobFailure{ID: j.ID, Dead: state == steward.JobDead, RunAt: time.Now().Add(time.Hour),
			ErrorClass: "HTTPError", ErrorMessage: message})
	}
	if err := s.DB.FinishJobs(ctx, "test-worker", nil, failed); err != nil {
		s.t.Fatal(err)
	}
}

// visitor is a browser without JavaScript: a cookie jar, no automatic
// redirects, and the CSRF token of the last page it saw.
type visitor struct {
	t     *testing.T
	s     *site
	c     *http.Client
	token string
}

func (s *site) visitor() *visitor {
	jar, _ := cookiejar.New(nil)
	c := *s.Srv.Client()
	c.Jar = jar
	c.CheckRedirect = func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }
	return &visitor{t: s.t, s: s, c: &c}
}

// page is a response as the tests read it.
type page struct {
	Status int
	Header http.Header
	Body   string
}

var tokenRE = regexp.MustCompile(`name="csrf_token" value="([^"]+)"`)

func (v *visitor) do(req *http.Request) page {
	v.t.Helper()
	resp, err := v.c.Do(req)
	if err != nil {
		v.t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	p := page{Status: resp.StatusCode, Header: resp.Header, Body: string(b)}
	if m := tokenRE.FindStringSubmatch(p.Body); m != nil {
		v.token = html.UnescapeString(m[1])
	}
	return p
}

// get loads a page.
func (v *visitor) get(path string) page {
	v.t.Helper()
	req, _ := http.NewRequest("GET", v.s.URL+path, nil)
	req.Header.Set("Accept", "text/html")
	return v.do(req)
}

// post submits a form with the current CSRF token (unless form sets one).
func (v *visitor) post(path string, form url.Values) page {
	v.t.Helper()
	if form == nil {
		form = url.Values{}
	}
	if _, ok := form["csrf_token"]; !ok {
		form.Set("csrf_token", v.token)
	}
	req, _ := http.NewRequest("POST", v.s.URL+path, strings.NewReader(form.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("Accept", "text/html")
	return v.do(req)
}

// signIn signs in through the HTML form and checks it lands on /.
func (v *visitor) signIn(email string) {
	v.t.Helper()
	v.get("/users/sign_in")
	p := v.post("/users/sign_in", url.Values{"email": {email}, "password": {adminPassword}})
	if p.Status != http.StatusSeeOther || p.Header.Get("Location") != "/" {
		v.t.Fatalf("sign in as %s: %d %s %s", email, p.Status, p.Header.Get("Location"), p.Body)
	}
}

// wantStatus fails unless p has status.
func wantStatus(t *testing.T, p page, status int) {
	t.Helper()
	if p.Status != status {
		t.Fatalf("status %d, want %d; body:\n%s", p.Status, status, p.Body)
	}
}

// wantText fails unless p's body contains each text.
func wantText(t *testing.T, p page, texts ...string) {
	t.Helper()
	for _, s := range texts {
		if !strings.Contains(p.Body, s) {
			t.Fatalf("page does not contain %q:\n%s", s, p.Body)
		}
	}
}
