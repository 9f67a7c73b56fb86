package httpapi_test

import (
	"fmt"
	"net"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/steward-dev/steward/action"
	"github.com/steward-dev/steward/egress"
)

// policyFor returns an egress policy for cfg, failing the test on error.
func policyFor(t *testing.T, cfg egress.Config) *egress.Policy {
	t.Helper()
	p, err := egress.New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	return p
}

// serveOn starts a test server listening on addr (such as 127.0.0.2:0),
// counting the requests it gets.
func serveOn(t *testing.T, addr string, hits *atomic.Int32, h http.HandlerFunc) *httptest.Server {
	t.Helper()
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		t.Skipf("cannot listen on %s: %v", addr, err)
	}
	srv := httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		hits.Add(1)
		if h != nil {
			h(w, r)
			return
		}
		fmt.Fprint(w, `{"ok":true}`)
	}))
	srv.Listener.Close()
	srv.Listener = ln
	srv.Start()
	t.Cleanup(srv.Close)
	return srv
}

// runAgent runs an agent by hand.
func runAgent(t *testing.T, e *env, agent map[string]any) {
	t.Helper()
	want(t, e.do("POST", fmt.Sprintf("/api/v1/agents/%v/run", agent["id"]), e.AdminKey, map[string]any{}), http.StatusOK)
}

// deadJobOf waits for the agent's job to die and returns it.
func deadJobOf(t *testing.T, e *env, agent map[string]any) map[string]any {
	t.Helper()
	var dead map[string]any
	waitFor(t, fmt.Sprintf("the job of agent %v to die", agent["name"]), func() bool {
		r := e.do("GET", fmt.Sprintf("/api/v1/admin/dead_jobs?action_id=%v", agent["id"]), e.AdminKey, nil)
		want(t, r, http.StatusOK)
		if list := r.JSON(t)["admin/dead_jobs"].([]any); len(list) > 0 {
			dead = list[0].(map[string]any)
		}
		return dead != nil
	})
	return dead
}

// eventsOf returns the agent's events.
func eventsOf(t *testing.T, e *env, agent map[string]any) []any {
	t.Helper()
	r := e.do("GET", fmt.Sprintf("/api/v1/agents/%v/events", agent["id"]), e.AdminKey, nil)
	want(t, r, http.StatusOK)
	return r.JSON(t)["events"].([]any)
}

// wantRefused checks a dead job failed once, permanently, on an egress
// refusal whose message contains every one of parts.
func wantRefused(t *testing.T, dead map[string]any, parts ...string) {
	t.Helper()
	msg, _ := dead["error_message"].(string)
	if dead["error_class"] != "HTTPRequest::EgressRefused" || dead["retry_count"] != 0.0 {
		t.Errorf("dead job %v, want HTTPRequest::EgressRefused without retries", dead)
	}
	for _, p := range parts {
		if !strings.Contains(msg, p) {
			t.Errorf("error message %q does not mention %q", msg, p)
		}
	}
}

// TestEgressRefusedByDefault runs HTTP Request actions under the default
// policy: loopback, however spelled, and cloud metadata are refused, the
// job dies at once and the server is never reached.
func TestEgressRefusedByDefault(t *testing.T) {
	eachEnv(t, func(t *testing.T, e *env) {
		var hits atomic.Int32
		srv := serveOn(t, "127.0.0.1:0", &hits, nil)
		port := srv.Listener.Addr().(*net.TCPAddr).Port
		startRunner(t, e, 25, &action.Runner{})
		cases := []struct{ url, mention string }{
			{srv.URL + "/direct", "127.0.0.0/8"},
			{fmt.Sprintf("http://localhost:%d/name", port), "localhost"},
			{fmt.Sprintf("http://2130706433:%d/decimal", port), "loopback"},
			{fmt.Sprintf("http://[::1]:%d/v6", port), "loopback"},
			{fmt.Sprintf("http://0.0.0.0:%d/unspecified", port), "0.0.0.0/8"},
			{"http://169.254.169.254/latest/meta-data/", "169.254.0.0/16"},
		}
		for i, c := range cases {
			agent := createAgent(t, e, e.AdminKey, map[string]any{"type": "HTTP Request", "name": fmt.Sprintf("ssrf %d", i),
				"options": map[string]any{"url": c.url}})
			runAgent(t, e, agent)
			wantRefused(t, deadJobOf(t, e, agent), c.mention, "STEWARD_EGRESS_ALLOW")
		}
		if n := hits.Load(); n != 0 {
			t.Errorf("the loopback server was reached %d times", n)
		}
	})
}

// TestEgressOwnSocketRefused opens all of loopback, yet Steward's own
// listening socket stays refused.
func TestEgressOwnSocketRefused(t *testing.T) {
	eachEnv(t, func(t *testing.T, e *env) {
		self := netip.MustParseAddrPort(e.Server.Listener.Addr().String())
		startRunner(t, e, 25, &action.Runner{Egress: policyFor(t, egress.Config{Allow: []string{"127.0.0.0/8", "::1"}, Self: []netip.AddrPort{self}})})
		agent := createAgent(t, e, e.AdminKey, map[string]any{"type": "HTTP Request", "name": "metrics",
			"options": map[string]any{"url": e.Server.URL + "/metrics"}})
		runAgent(t, e, agent)
		wantRefused(t, deadJobOf(t, e, agent), "Steward's own listening socket", self.String())
	})
}

// TestEgressTenantRules allows one loopback address by a tenant rule and
// refuses another, directly and through a redirect.
func TestEgressTenantRules(t *testing.T) {
	eachEnv(t, func(t *testing.T, e *env) {
		var okHits, refusedHits atomic.Int32
		refusedSrv := serveOn(t, "127.0.0.2:0", &refusedHits, nil)
		okSrv := serveOn(t, "127.0.0.1:0", &okHits, func(w http.ResponseWriter, r *http.Request) {
			if r.URL.Path == "/redirect" {
				http.Redirect(w, r, refusedSrv.URL+"/after-redirect", http.StatusFound)
				return
			}
			fmt.Fprint(w, `{"ok":true}`)
		})
		startRunner(t, e, 25, &action.Runner{Egress: policyFor(t, egress.Config{Allow: []string{"127.0.0.0/8"}})})

		r := e.do("POST", "/api/v1/admin/action_egress_control_rules", e.AdminKey,
			map[string]any{"ip": "127.0.0.1", "description": "the allowed test server"})
		want(t, r, http.StatusCreated)
		// A send-email rule does not open anything for HTTP Request.
		want(t, e.do("POST", "/api/v1/admin/action_egress_control_rules", e.AdminKey,
			map[string]any{"fqdn": "mail.example.com", "description": "mail", "allowed_action_types": []string{"send-email"}}), http.StatusCreated)

		allowed := createAgent(t, e, e.AdminKey, map[string]any{"type": "HTTP Request", "name": "allowed",
			"options": map[string]any{"url": okSrv.URL + "/fine"}})
		refused := createAgent(t, e, e.AdminKey, map[string]any{"type": "HTTP Request", "name": "refused",
			"options": map[string]any{"url": refusedSrv.URL + "/direct"}})
		redirected := createAgent(t, e, e.AdminKey, map[string]any{"type": "HTTP Request", "name": "redirected",
			"options": map[string]any{"url": okSrv.URL + "/redirect"}})
		for _, a := range []map[string]any{allowed, refused, redirected} {
			runAgent(t, e, a)
		}
		waitFor(t, "the allowed request's event", func() bool { return len(eventsOf(t, e, allowed)) == 1 })
		wantRefused(t, deadJobOf(t, e, refused), "127.0.0.2", "1 action egress control rules for http-request")
		wantRefused(t, deadJobOf(t, e, redirected), "127.0.0.2", "action egress control rules")
		if n := refusedHits.Load(); n != 0 {
			t.Errorf("the refused server was reached %d times", n)
		}
		if n := okHits.Load(); n != 2 {
			t.Errorf("the allowed server was reached %d times, want 2 (the request and the redirect)", n)
		}
	})
}

// TestLinkLoopRefusedByAPI builds c1 → c2 → c3 and refuses c3 → c1 with
// 422 naming the loop, on update and on create.
func TestLinkLoopRefusedByAPI(t *testing.T) {
	eachEnv(t, func(t *testing.T, e *env) {
		newAgent := func(name string, sources ...any) map[string]any {
			return createAgent(t, e, e.AdminKey, map[string]any{"type": "Event Transformation", "name": name,
				"source_ids": sources, "options": map[string]any{"mode": "message_only", "message": "hi"}})
		}
		c1 := newAgent("c1")
		c2 := newAgent("c2", c1["id"])
		c3 := newAgent("c3", c2["id"])
		r := e.do("PUT", fmt.Sprintf("/api/v1/agents/%v", c1["id"]), e.AdminKey, map[string]any{"source_ids": []any{c3["id"]}})
		want(t, r, http.StatusUnprocessableEntity)
		body := string(r.Body)
		for _, name := range []string{`c1`, `c2`, `c3`, "loop"} {
			if !strings.Contains(body, name) {
				t.Errorf("422 body %s does not name %s", body, name)
			}
		}
		r = e.do("POST", "/api/v1/agents", e.AdminKey, map[string]any{"type": "Event Transformation", "name": "c4",
			"source_ids": []any{c3["id"]}, "receiver_ids": []any{c1["id"]}, "options": map[string]any{"mode": "message_only"}})
		want(t, r, http.StatusUnprocessableEntity)
	})
}

// TestEventDepthLimit runs a chain one action longer than the depth limit:
// the last action does not run and its job says why.
func TestEventDepthLimit(t *testing.T) {
	eachEnv(t, func(t *testing.T, e *env) {
		startRunner(t, e, 25, &action.Runner{Limits: action.Limits{MaxEventDepth: 2}})
		hook := createAgent(t, e, e.AdminKey, map[string]any{"type": "Webhook", "name": "start"})
		prev := hook
		var chain []map[string]any
		for i := 1; i <= 3; i++ {
			prev = createAgent(t, e, e.AdminKey, map[string]any{"type": "Event Transformation", "name": fmt.Sprintf("step %d", i),
				"source_ids": []any{prev["id"]}, "options": map[string]any{"mode": "message_only", "step": i}})
			chain = append(chain, prev)
		}
		url := hook["webhook_url"].(string)
		want(t, e.do("POST", url[strings.Index(url, "/webhook/"):], "", `{"n":1}`), http.StatusCreated)
		dead := deadJobOf(t, e, chain[2])
		if dead["error_class"] != "Event::ChainTooDeep" || dead["retry_count"] != 0.0 ||
			!strings.Contains(dead["error_message"].(string), "STEWARD_MAX_EVENT_DEPTH=2") {
			t.Errorf("dead job %v", dead)
		}
		if n := len(eventsOf(t, e, chain[1])); n != 1 {
			t.Errorf("step 2 (depth 2) emitted %d events, want 1", n)
		}
		if n := len(eventsOf(t, e, chain[2])); n != 0 {
			t.Errorf("step 3 (depth 3) emitted %d events, want none", n)
		}
	})
}

// TestExplodeLimit explodes an array at and past the limit.
func TestExplodeLimit(t *testing.T) {
	eachEnv(t, func(t *testing.T, e *env) {
		startRunner(t, e, 25, &action.Runner{Limits: action.Limits{MaxExplode: 3}})
		hook := createAgent(t, e, e.AdminKey, map[string]any{"type": "Webhook", "name": "items"})
		explode := createAgent(t, e, e.AdminKey, map[string]any{"type": "Event Transformation", "name": "explode",
			"source_ids": []any{hook["id"]}, "options": map[string]any{"mode": "explode", "path": "{{.items}}"}})
		url := hook["webhook_url"].(string)
		path := url[strings.Index(url, "/webhook/"):]
		want(t, e.do("POST", path, "", `{"items":[1,2,3]}`), http.StatusCreated)
		waitFor(t, "three exploded events", func() bool { return len(eventsOf(t, e, explode)) == 3 })
		want(t, e.do("POST", path, "", `{"items":[1,2,3,4]}`), http.StatusCreated)
		dead := deadJobOf(t, e, explode)
		if dead["error_class"] != "EventTransformation::TooManyItems" || dead["retry_count"] != 0.0 ||
			!strings.Contains(dead["error_message"].(string), "4 items") {
			t.Errorf("dead job %v", dead)
		}
		if n := len(eventsOf(t, e, explode)); n != 3 {
			t.Errorf("%d events after the refused explode, want 3", n)
		}
	})
}
