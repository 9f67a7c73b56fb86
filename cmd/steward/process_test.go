package main_test

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/steward-dev/steward/postgres"
	"github.com/steward-dev/steward/storetest"
)

// binary is the steward command built once for this package's tests.
var binary string

func TestMain(m *testing.M) {
	dir, err := os.MkdirTemp("", "steward-bin")
	if err != nil {
		panic(err)
	}
	binary = filepath.Join(dir, "steward")
	if out, err := exec.Command("go", "build", "-o", binary, ".").CombinedOutput(); err != nil {
		fmt.Fprintf(os.Stderr, "go build: %v\n%s", err, out)
		os.Exit(1)
	}
	code := m.Run()
	os.RemoveAll(dir)
	os.Exit(code)
}

// server is a running `steward serve`.
type server struct {
	cmd    *exec.Cmd
	base   string
	stderr *bytes.Buffer // read only after cmd.Wait
}

// startServe starts `steward serve` on db with extra environment and waits
// until it listens. Loopback, where the tests' upstream servers listen, is
// opened for HTTP Request actions unless env sets STEWARD_EGRESS_ALLOW.
func startServe(t *testing.T, db string, workers int, env ...string) *server {
	t.Helper()
	cmd := exec.Command(binary, "serve", "--db", db, "--addr", "127.0.0.1:0", "--workers", fmt.Sprint(workers))
	cmd.Env = append(append(os.Environ(), "STEWARD_EGRESS_ALLOW=127.0.0.0/8,::1"), env...)
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { cmd.Process.Kill(); cmd.Wait() })
	found := make(chan string, 1)
	go func() {
		sc := bufio.NewScanner(stdout)
		for sc.Scan() {
			if _, addr, ok := strings.Cut(sc.Text(), "listening on "); ok {
				found <- strings.TrimSpace(addr)
			}
		}
		io.Copy(io.Discard, stdout)
	}()
	select {
	case base := <-found:
		return &server{cmd: cmd, base: base, stderr: &stderr}
	case <-time.After(20 * time.Second):
		t.Fatalf("steward serve did not start; stderr:\n%s", stderr.String())
	}
	return nil
}

// bootstrap creates a tenant and returns an admin API key.
func bootstrap(t *testing.T, db string) string {
	t.Helper()
	out, err := exec.Command(binary, "bootstrap", "--db", db, "--email", "ops@example.com", "--json").Output()
	if err != nil {
		t.Fatalf("bootstrap: %v", err)
	}
	var res struct {
		APIKey string `json:"api_key"`
	}
	if err := json.Unmarshal(out, &res); err != nil {
		t.Fatal(err)
	}
	return res.APIKey
}

// call sends a JSON request and decodes the JSON answer.
func call(t *testing.T, base, key, method, path string, body any) map[string]any {
	t.Helper()
	var rd io.Reader
	if body != nil {
		b, _ := json.Marshal(body)
		rd = bytes.NewReader(b)
	}
	req, _ := http.NewRequest(method, base+path, rd)
	req.Header.Set("Authorization", "Bearer "+key)
	req.Header.Set("Content-Type", "application/json")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	data, _ := io.ReadAll(resp.Body)
	if resp.StatusCode >= 300 {
		t.Fatalf("%s %s: %d %s", method, path, resp.StatusCode, data)
	}
	out := map[string]any{}
	json.Unmarshal(data, &out)
	return out
}

func waitUntil(t *testing.T, d time.Duration, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(d)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(25 * time.Millisecond)
	}
}

// TestKilledServerJobCompletesAfterRestart kills `steward serve` with
// SIGKILL while a job is running; after a restart the job's lease expires,
// it runs again and completes.
func TestKilledServerJobCompletesAfterRestart(t *testing.T) {
	t.Run("sqlite", func(t *testing.T) { killAndRestart(t, filepath.Join(t.TempDir(), "steward.db")) })
	t.Run("postgres", func(t *testing.T) { killAndRestart(t, storetest.PostgresURL(t)) })
}

func killAndRestart(t *testing.T, db string) {
	key := bootstrap(t, db)
	var hits atomic.Int64
	started := make(chan struct{}, 10)
	release := make(chan struct{})
	upstream := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if hits.Add(1) == 1 {
			started <- struct{}{}
			<-release // hold the first request until its server is dead
			return
		}
		fmt.Fprint(w, `{"ok":true}`)
	}))
	defer upstream.Close()
	defer close(release)

	env := []string{"STEWARD_JOB_LEASE=2s"}
	s1 := startServe(t, db, 2, env...)
	agent := call(t, s1.base, key, "POST", "/api/v1/agents", map[string]any{"type": "HTTP Request", "name": "slow",
		"options": map[string]any{"url": upstream.URL + "/slow"}})
	id := fmt.Sprint(agent["id"])
	call(t, s1.base, key, "POST", "/api/v1/agents/"+id+"/run", map[string]any{})
	select {
	case <-started:
	case <-time.After(20 * time.Second):
		t.Fatal("the job never started")
	}
	if err := s1.cmd.Process.Kill(); err != nil { // SIGKILL: no graceful shutdown
		t.Fatal(err)
	}
	s1.cmd.Wait()

	s2 := startServe(t, db, 2, env...)
	waitUntil(t, 30*time.Second, "the job to complete after the restart", func() bool {
		ev := call(t, s2.base, key, "GET", "/api/v1/agents/"+id+"/events", nil)
		st := call(t, s2.base, key, "GET", "/api/v1/admin/job_stats", nil)
		return len(ev["events"].([]any)) == 1 && st["queued"] == 0.0 && st["in_progress"] == 0.0 && st["retry"] == 0.0
	})
	ev := call(t, s2.base, key, "GET", "/api/v1/agents/"+id+"/events", nil)["events"].([]any)[0].(map[string]any)
	if p := ev["payload"].(map[string]any); p["status"] != 200.0 {
		t.Errorf("event payload %v, want the upstream's 200", p)
	}
	if st := call(t, s2.base, key, "GET", "/api/v1/admin/job_stats", nil); st["dead"] != 0.0 {
		t.Errorf("job_stats %v", st)
	}
}

// TestTwoServersShareOnePostgresQueue runs 10,000 jobs through two
// `steward serve` processes on one PostgreSQL schema and checks that every
// job ran exactly once and none ran in two places at the same time.
func TestTwoServersShareOnePostgresQueue(t *testing.T) {
	url := storetest.PostgresURL(t)
	key := bootstrap(t, url)
	const jobs = 10000
	var mu sync.Mutex
	running := map[string]bool{}
	runs := map[string]int{}
	overlaps := 0
	upstream := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		n := r.URL.Path
		mu.Lock()
		if running[n] {
			overlaps++
		}
		running[n] = true
		runs[n]++
		mu.Unlock()
		time.Sleep(100 * time.Microsecond)
		mu.Lock()
		delete(running, n)
		mu.Unlock()
		fmt.Fprint(w, `{}`)
	}))
	defer upstream.Close()

	a := startServe(t, url, 50)
	b := startServe(t, url, 50)
	hook := call(t, a.base, key, "POST", "/api/v1/agents", map[string]any{"type": "Webhook", "name": "source"})
	call(t, a.base, key, "POST", "/api/v1/agents", map[string]any{"type": "HTTP Request", "name": "count",
		"source_ids": []any{hook["id"]}, "options": map[string]any{"url": upstream.URL + "/n/{{.n}}"}})

	// Emit the events straight into the store: 10,000 webhook calls would
	// test the HTTP server, not the queue.
	db, err := postgres.Open(context.Background(), url)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	h, err := db.FindActionByGUID(context.Background(), fmt.Sprint(hook["guid"]))
	if err != nil {
		t.Fatal(err)
	}
	for i := 0; i < jobs; i += 1000 {
		payloads := make([]json.RawMessage, 1000)
		for k := range payloads {
			payloads[k] = json.RawMessage(fmt.Sprintf(`{"n":%d}`, i+k))
		}
		if _, err := db.EmitEvents(context.Background(), h, payloads); err != nil {
			t.Fatal(err)
		}
	}
	waitUntil(t, 90*time.Second, "all jobs to run", func() bool {
		st := call(t, b.base, key, "GET", "/api/v1/admin/job_stats", nil)
		return st["queued"] == 0.0 && st["in_progress"] == 0.0 && st["retry"] == 0.0
	})
	mu.Lock()
	defer mu.Unlock()
	if overlaps != 0 {
		t.Errorf("%d jobs ran in two places at once", overlaps)
	}
	if len(runs) != jobs {
		t.Errorf("%d distinct jobs ran, want %d", len(runs), jobs)
	}
	for n, c := range runs {
		if c != 1 {
			t.Errorf("%s ran %d times", n, c)
		}
	}
}

// TestZeroWorkersServesWithoutRunning checks that --workers 0 serves the
// API and leaves queued jobs queued.
func TestZeroWorkersServesWithoutRunning(t *testing.T) {
	db := filepath.Join(t.TempDir(), "steward.db")
	key := bootstrap(t, db)
	var hits atomic.Int64
	upstream := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { hits.Add(1) }))
	defer upstream.Close()
	s := startServe(t, db, 0)
	agent := call(t, s.base, key, "POST", "/api/v1/agents", map[string]any{"type": "HTTP Request", "name": "idle",
		"options": map[string]any{"url": upstream.URL}})
	call(t, s.base, key, "POST", fmt.Sprintf("/api/v1/agents/%v/run", agent["id"]), nil)
	time.Sleep(time.Second)
	st := call(t, s.base, key, "GET", "/api/v1/admin/job_stats", nil)
	if st["queued"] != 1.0 || hits.Load() != 0 {
		t.Errorf("with no workers: job_stats %v, %d upstream calls; want the job still queued", st, hits.Load())
	}
}

// TestOwnPortRefusedWithLoopbackOpen: startServe opens all of loopback to
// HTTP Request actions, yet an action calling the server's own /metrics
// dies at once with the refusal, while another loopback server is reached.
func TestOwnPortRefusedWithLoopbackOpen(t *testing.T) {
	t.Run("sqlite", func(t *testing.T) { ownPortRefused(t, filepath.Join(t.TempDir(), "steward.db")) })
	t.Run("postgres", func(t *testing.T) { ownPortRefused(t, storetest.PostgresURL(t)) })
}

func ownPortRefused(t *testing.T, db string) {
	key := bootstrap(t, db)
	upstream := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { fmt.Fprint(w, `{}`) }))
	defer upstream.Close()
	s := startServe(t, db, 2)
	self := call(t, s.base, key, "POST", "/api/v1/agents", map[string]any{"type": "HTTP Request", "name": "self",
		"options": map[string]any{"url": s.base + "/metrics"}})
	other := call(t, s.base, key, "POST", "/api/v1/agents", map[string]any{"type": "HTTP Request", "name": "other",
		"options": map[string]any{"url": upstream.URL}})
	for _, a := range []map[string]any{self, other} {
		call(t, s.base, key, "POST", fmt.Sprintf("/api/v1/agents/%v/run", a["id"]), map[string]any{})
	}
	var dead []any
	waitUntil(t, 20*time.Second, "the self-call to die", func() bool {
		dead = call(t, s.base, key, "GET", "/api/v1/admin/dead_jobs", nil)["admin/dead_jobs"].([]any)
		return len(dead) > 0
	})
	j := dead[0].(map[string]any)
	if j["action_id"] != self["id"] || j["error_class"] != "HTTPRequest::EgressRefused" || j["retry_count"] != 0.0 ||
		!strings.Contains(j["error_message"].(string), "Steward's own listening socket") {
		t.Errorf("dead job %v", j)
	}
	waitUntil(t, 20*time.Second, "the other loopback server's event", func() bool {
		ev := call(t, s.base, key, "GET", fmt.Sprintf("/api/v1/agents/%v/events", other["id"]), nil)
		return len(ev["events"].([]any)) == 1
	})
}
