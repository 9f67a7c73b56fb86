package console_test

import (
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/chromedp/cdproto/runtime"
	"github.com/chromedp/chromedp"
	"github.com/steward-dev/steward"
	"github.com/steward-dev/steward/storetest"
)

var updateDocs = flag.Bool("update-docs", false, "write the queues screenshot to docs/console-jobs.png")

// repoRoot is the module's root directory (tests run in the package's).
func repoRoot(t *testing.T) string {
	t.Helper()
	dir, err := os.Getwd()
	if err != nil {
		t.Fatal(err)
	}
	for {
		if _, err := os.Stat(filepath.Join(dir, "go.mod")); err == nil {
			return dir
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			t.Fatal("no go.mod above the test's directory")
		}
		dir = parent
	}
}

// browserTools finds Chromium and axe-core. Without them the test skips,
// unless STEWARD_TEST_BROWSER=required (as in CI), when it fails.
func browserTools(t *testing.T) (chromium, axe string) {
	t.Helper()
	required := os.Getenv("STEWARD_TEST_BROWSER") == "required"
	missing := func(format string, args ...any) {
		t.Helper()
		if required {
			t.Fatalf(format+" (STEWARD_TEST_BROWSER=required)", args...)
		}
		t.Skipf(format+"; set STEWARD_TEST_BROWSER=required to fail instead", args...)
	}
	chromium = os.Getenv("STEWARD_TEST_CHROMIUM")
	if chromium == "" {
		for _, name := range []string{"chromium", "chromium-browser", "google-chrome"} {
			if p, err := exec.LookPath(name); err == nil {
				chromium = p
				break
			}
		}
	}
	if chromium == "" {
		missing("Chromium is not installed")
	}
	axe = filepath.Join(repoRoot(t), ".ci", "node_modules", "axe-core", "axe.min.js")
	if _, err := os.Stat(axe); err != nil {
		missing("axe-core is not installed: run npm ci --prefix .ci")
	}
	return chromium, axe
}

// TestConsoleInBrowser drives the console in headless Chromium: sign-in,
// live queue counts, a bulk delete and a job retry, an invitation, a new
// API key, a template edit and sign-out. Every page is scanned with axe-core
// (no serious or critical violations) and screenshotted at 1280 and 390
// pixels wide into .ci/out/.
func TestConsoleInBrowser(t *testing.T) {
	chromium, axePath := browserTools(t)
	axeSource, err := os.ReadFile(axePath)
	if err != nil {
		t.Fatal(err)
	}
	outDir := filepath.Join(repoRoot(t), ".ci", "out")
	if err := os.MkdirAll(outDir, 0o755); err != nil {
		t.Fatal(err)
	}

	s := newSite(t, storetest.OpenSQLite(t), false)
	crm := s.addAction("Call the CRM")
	other := s.addAction("Notify chat")
	s.addJobs(crm, 3, steward.JobDead, "POST https://crm.example/api/contacts: 502 Bad Gateway")
	s.addJobs(crm, 2, steward.JobRetry, "POST https://crm.example/api/contacts: 502 Bad Gateway")
	s.addJobs(other, 4, steward.JobQueued, "POST https://crm.example/api/contacts: 502 Bad Gateway")
	s.addJobs(other, 1, steward.JobDead, "POST https://crm.example/api/contacts: 502 Bad Gateway")
	var tpl struct {
		ID int64 `json:"id"`
	}
	s.api("POST", "/api/v1/admin/templates", map[string]any{"name": "Lookup user", "vendor": "Acme", "agent_type": "HTTP Request",
		"agent_options": map[string]any{"url": "https://dir.example/{{.email}}", "method": "get"}}, &tpl)

	opts := []chromedp.ExecAllocatorOption{
		chromedp.ExecPath(chromium),
		chromedp.Flag("headless", true),
		chromedp.Flag("no-sandbox", true),
		chromedp.Flag("disable-gpu", true),
		chromedp.Flag("disable-quic", true),
		chromedp.Flag("no-first-run", true),
		chromedp.Flag("disable-background-networking", true),
		chromedp.Flag("disable-component-update", true),
		chromedp.Flag("disable-sync", true),
		chromedp.UserDataDir(t.TempDir()),
		chromedp.WindowSize(1280, 900),
	}
	actx, cancelAlloc := chromedp.NewExecAllocator(context.Background(), opts...)
	defer cancelAlloc()
	ctx, cancel := chromedp.NewContext(actx)
	defer cancel()
	// The first action starts the browser; later ones share a deadline.
	if err := chromedp.Do(ctx, chromedp.Navigate("about:blank")); err != nil {
		t.Fatalf("start Chromium: %v", err)
	}
	ctx, cancelTimeout := context.WithTimeout(ctx, 3*time.Minute)
	defer cancelTimeout()

	// Script errors and console errors fail the test.
	var mu sync.Mutex
	var consoleErrors []string
	if err := chromedp.Listen(ctx, func(ev any) {
		var msg string
		switch e := ev.(type) {
		case *runtime.EventExceptionThrown:
			msg = e.ExceptionDetails.Text
		case *runtime.EventConsoleAPICalled:
			if e.Type != runtime.ConsoleAPICalledTypeError && e.Type != runtime.ConsoleAPICalledTypeWarning {
				return
			}
			for _, a := range e.Args {
				msg += " " + string(a.Value)
			}
		default:
			return
		}
		mu.Lock()
		consoleErrors = append(consoleErrors, msg)
		mu.Unlock()
	}); err != nil {
		t.Fatal(err)
	}

	run := func(what string, steps ...chromedp.Action[chromedp.Void]) {
		t.Helper()
		if err := chromedp.Do(ctx, steps...); err != nil {
			t.Fatalf("%s: %v", what, err)
		}
	}
	text := func(sel string) string {
		t.Helper()
		s, err := chromedp.Run(ctx, chromedp.Text(chromedp.CSS(sel)))
		if err != nil {
			t.Fatalf("read %s: %v", sel, err)
		}
		return s
	}
	value := func(sel string) string {
		t.Helper()
		s, err := chromedp.Run(ctx, chromedp.Value(chromedp.CSS(sel)))
		if err != nil {
			t.Fatalf("read %s: %v", sel, err)
		}
		return s
	}
	// waitText waits until the element's text contains want: after a click
	// the old page may still be there, or the new one still loading.
	waitText := func(sel, want string) {
		t.Helper()
		js, _ := json.Marshal(sel)
		w, _ := json.Marshal(want)
		expr := fmt.Sprintf(`(document.querySelector(%s) || {textContent: ""}).textContent.includes(%s)`, js, w)
		deadline := time.Now().Add(30 * time.Second)
		for {
			ok, err := chromedp.Run(ctx, chromedp.Evaluate[bool](expr))
			if err == nil && ok {
				return
			}
			if time.Now().After(deadline) {
				got, _ := chromedp.Run(ctx, chromedp.Evaluate[string](fmt.Sprintf(`(document.querySelector(%s) || {textContent: "(none)"}).textContent`, js)))
				t.Fatalf("waiting for %s to contain %q: it has %q (%v)", sel, want, got, err)
			}
			time.Sleep(50 * time.Millisecond)
		}
	}
	// check scans the page with axe-core and screenshots it at both widths.
	check := func(name string) {
		t.Helper()
		run("load axe-core on "+name, chromedp.Evaluate[chromedp.Void](string(axeSource)))
		res, err := chromedp.Run(ctx, chromedp.Evaluate[string](`axe.run(document).then(r => JSON.stringify({
				passes: r.passes.length,
				minor: r.violations.filter(v => v.impact === "minor" || v.impact === "moderate").map(v => v.id),
				violations: r.violations.filter(v => v.impact === "serious" || v.impact === "critical")
				 .map(v => ({id: v.id, impact: v.impact, help: v.help, nodes: v.nodes.map(n => n.target.join(" ")).slice(0, 5)}))}))`,
			chromedp.EvalAwaitPromise))
		if err != nil {
			t.Fatalf("axe on %s: %v", name, err)
		}
		var scan struct {
			Passes     int
			Minor      []string
			Violations []any
		}
		if err := json.Unmarshal([]byte(res), &scan); err != nil || scan.Passes == 0 {
			t.Fatalf("axe on %s did not run: %v %s", name, err, res)
		}
		t.Logf("axe-core on %s: %d rules pass; minor or moderate findings: %v", name, scan.Passes, scan.Minor)
		if len(scan.Violations) > 0 {
			b, _ := json.MarshalIndent(scan.Violations, "", "  ")
			t.Errorf("axe-core: serious or critical violations on %s:\n%s", name, b)
		}
		for _, w := range []int64{1280, 390} {
			run("resize", chromedp.EmulateViewport(w, 900))
			// Readable at this width: nothing but a table's own scroll box
			// is wider than the window.
			wide, err := chromedp.Run(ctx, chromedp.Evaluate[[]string](`Array.from(document.querySelectorAll("body *"))
				.filter(e => !(e.parentElement && e.parentElement.closest(".scroll")) && e.getBoundingClientRect().right > window.innerWidth + 1)
				.map(e => e.tagName + "." + e.className + " " + Math.round(e.getBoundingClientRect().right))`))
			if err != nil {
				t.Fatal(err)
			}
			if len(wide) > 0 {
				t.Errorf("%s at %d px: wider than the window: %v", name, w, wide)
			}
			height, err := chromedp.Run(ctx, chromedp.Evaluate[int64](`document.documentElement.scrollHeight`))
			if err != nil {
				t.Fatal(err)
			}
			run("resize to the page", chromedp.EmulateViewport(w, max(height, 600)))
			png, err := chromedp.Run(ctx, chromedp.CaptureScreenshot())
			if err != nil {
				t.Fatalf("screenshot %s: %v", name, err)
			}
			file := filepath.Join(outDir, fmt.Sprintf("console-%s-%d.png", name, w))
			if err := os.WriteFile(file, png, 0o644); err != nil {
				t.Fatal(err)
			}
			if name == "jobs" && w == 1280 && *updateDocs {
				if err := os.WriteFile(filepath.Join(repoRoot(t), "docs", "console-jobs.png"), png, 0o644); err != nil {
					t.Fatal(err)
				}
			}
		}
		run("reset viewport", chromedp.EmulateViewport(1280, 900))
	}

	// Sign in: / leads to the form, the form to the queues.
	run("open the console", chromedp.Navigate(s.URL+"/"), chromedp.WaitVisible(chromedp.CSS(`#email`)))
	check("signin")
	run("sign in",
		chromedp.SendKeys(chromedp.CSS(`#email`), s.Admin.Email),
		chromedp.SendKeys(chromedp.CSS(`#password`), adminPassword),
		chromedp.Click(chromedp.CSS(`form button[type=submit]`)),
		chromedp.WaitVisible(chromedp.CSS(`[data-total="queued"]`)),
	)
	if got := text(`[data-total="dead"]`); got != "4" {
		t.Fatalf("dead jobs shown: %q", got)
	}
	check("jobs")

	// Live counts: jobs added now appear without a reload.
	s.addJobs(other, 3, steward.JobQueued, "POST https://crm.example/api/contacts: 502 Bad Gateway")
	run("live counts", chromedp.Poll[chromedp.Void](`document.querySelector('[data-total="queued"]').textContent === "7"`,
		chromedp.WithPollingTimeout(30*time.Second)))

	// Delete the CRM action's dead jobs: the confirmation says how many.
	run("ask to delete",
		chromedp.Click(chromedp.CSS(fmt.Sprintf(`a[href="/console/jobs/confirm?do=delete&state=dead&action_id=%d"]`, crm))),
		chromedp.WaitVisible(chromedp.CSS(`.question`)),
	)
	if q := text(`.question`); !strings.Contains(q, "Delete 3 dead jobs") {
		t.Fatalf("confirmation: %q", q)
	}
	check("confirm")
	run("confirm delete",
		chromedp.Click(chromedp.CSS(`main form button[type=submit]`)),
	)
	waitText(`.flash`, "Deleted 3 dead jobs")

	// Retry one job now from the retry list.
	run("retry a job",
		chromedp.Click(chromedp.CSS(`table.jobs tbody tr:first-child form[action$="/retry"] button`)),
	)
	waitText(`.flash`, "will run again now")

	// Invite a user; without mail the link is shown with a copy button.
	run("invite",
		chromedp.Navigate(s.URL+"/console/users"),
		chromedp.WaitVisible(chromedp.CSS(`#invite-email`)),
		chromedp.SendKeys(chromedp.CSS(`#invite-email`), "jane@acme.example"),
		chromedp.SendKeys(chromedp.CSS(`#invite-first`), "Jane"),
		chromedp.Click(chromedp.CSS(`#invite-h + form button[type=submit]`)),
		chromedp.WaitVisible(chromedp.CSS(`#invitation-link`)),
		chromedp.WaitVisible(chromedp.CSS(`button.copy`)),
	)
	link := value(`#invitation-link`)
	if !strings.Contains(link, "/users/invitation/accept?invitation_token=inv_") {
		t.Fatalf("invitation link %q", link)
	}
	check("users")
	run("open a user",
		chromedp.Click(chromedp.CSS(`a[href^="/console/users/"]`)),
		chromedp.WaitVisible(chromedp.CSS(`#activity-h`)),
	)
	check("user")

	// Create an API key: the secret is shown once, with a copy button.
	run("create key",
		chromedp.Navigate(s.URL+"/console/api_keys"),
		chromedp.WaitVisible(chromedp.CSS(`#name`)),
		chromedp.SendKeys(chromedp.CSS(`#name`), "CI deploy"),
		chromedp.Click(chromedp.CSS(`#create-h + form button[type=submit]`)),
		chromedp.WaitVisible(chromedp.CSS(`#new-key`)),
		chromedp.WaitVisible(chromedp.CSS(`button.copy`)),
	)
	key := value(`#new-key`)
	if !strings.HasPrefix(key, steward.APIKeyPrefix) {
		t.Fatalf("new key %q", key)
	}
	check("apikeys")

	// Edit a template: bad options show the API's message beside the field.
	run("open templates", chromedp.Navigate(s.URL+"/console/templates"), chromedp.WaitVisible(chromedp.CSS(`#search`)))
	check("templates")
	run("edit template",
		chromedp.Navigate(fmt.Sprintf("%s/console/templates/%d", s.URL, tpl.ID)),
		chromedp.WaitVisible(chromedp.CSS(`#agent_options`)),
		chromedp.SetValue(chromedp.CSS(`#agent_options`), `{"method": "post"}`),
		chromedp.Click(chromedp.CSS(`main form button[type=submit]`)),
		chromedp.WaitVisible(chromedp.CSS(`#agent_options-error`)),
	)
	if msg := text(`#agent_options-error`); !strings.Contains(msg, "agent_options.url") {
		t.Fatalf("options error: %q", msg)
	}
	check("template-error")
	run("fix template",
		chromedp.SetValue(chromedp.CSS(`#agent_options`), `{"url": "https://dir2.example/{{.email}}", "method": "post"}`),
		chromedp.Click(chromedp.CSS(`main form button[type=submit]`)),
	)
	waitText(`.flash`, "Saved.")
	if v := value(`#agent_options`); !strings.Contains(v, "dir2.example") {
		t.Fatalf("saved options: %q", v)
	}
	run("open security", chromedp.Navigate(s.URL+"/console/security"), chromedp.WaitVisible(chromedp.CSS(`#ip_ip`)))
	check("security")
	run("open import", chromedp.Navigate(s.URL+"/console/templates/import"), chromedp.WaitVisible(chromedp.CSS(`#document`)))
	check("import")

	// The audit log lists what this session did, and filters without script.
	run("open audit log", chromedp.Navigate(s.URL+"/console/audit"), chromedp.WaitVisible(chromedp.CSS(`table.audit`)))
	waitText(`table.audit tbody`, "TemplateUpdate")
	check("audit")
	run("filter audit log by a bad time",
		chromedp.SetValue(chromedp.CSS(`#before`), "soon"),
		chromedp.Click(chromedp.CSS(`form.filters button[type=submit]`)),
		chromedp.WaitVisible(chromedp.CSS(`#before-error`)),
	)
	if msg := text(`#before-error`); !strings.Contains(msg, "before must be") {
		t.Fatalf("audit before error: %q", msg)
	}
	check("audit-error")

	// Sign out from the header.
	run("sign out",
		chromedp.Click(chromedp.CSS(`form.signout button`)),
		chromedp.WaitVisible(chromedp.CSS(`#email`)),
	)
	loc, err := chromedp.Run(ctx, chromedp.Location())
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasSuffix(loc, "/users/sign_in") {
		t.Fatalf("after sign out at %s", loc)
	}
	run("signed out", chromedp.Navigate(s.URL+"/console/jobs"), chromedp.WaitVisible(chromedp.CSS(`#email`)))

	mu.Lock()
	defer mu.Unlock()
	for _, e := range consoleErrors {
		t.Errorf("browser console: %s", e)
	}
}
