package main_test

import (
	"context"
	"errors"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/steward-dev/steward"
	"github.com/steward-dev/steward/password"
	"github.com/steward-dev/steward/postgres"
	"github.com/steward-dev/steward/sqlite"
	"github.com/steward-dev/steward/sqlstore"
	"github.com/steward-dev/steward/storetest"
)

// steward runs the binary with stdin and returns stdout, stderr and the
// exit code.
func runCLI(t *testing.T, stdin string, args ...string) (string, string, int) {
	t.Helper()
	cmd := exec.Command(binary, args...)
	cmd.Stdin = strings.NewReader(stdin)
	var out, errb strings.Builder
	cmd.Stdout, cmd.Stderr = &out, &errb
	err := cmd.Run()
	code := 0
	var exit *exec.ExitError
	if errors.As(err, &exit) {
		code = exit.ExitCode()
	} else if err != nil {
		t.Fatal(err)
	}
	return out.String(), errb.String(), code
}

func mustSucceed(t *testing.T, stdin string, args ...string) string {
	t.Helper()
	out, errOut, code := runCLI(t, stdin, args...)
	if code != 0 {
		t.Fatalf("steward %s: exit %d\nstdout: %s\nstderr: %s", strings.Join(args, " "), code, out, errOut)
	}
	return out
}

func TestVersionAndHelp(t *testing.T) {
	out := mustSucceed(t, "", "version")
	for _, want := range []string{"steward ", "commit ", "go1."} {
		if !strings.Contains(out, want) {
			t.Errorf("version output lacks %q: %s", want, out)
		}
	}
	cases := []struct {
		args []string
		want []string
	}{
		{[]string{"serve"}, []string{"-addr", "STEWARD_ADDR", "STEWARD_ADMIN_SECRET", "STEWARD_AUDIT_RETENTION_DAYS", "default 365", "STEWARD_LOG_LEVEL", "STEWARD_METRICS_TOKEN"}},
		{[]string{"migrate"}, []string{"-db", "STEWARD_DATABASE_URL"}},
		{[]string{"bootstrap"}, []string{"-if-empty", "-email", "STEWARD_DATABASE_URL"}},
		{[]string{"version"}, []string{"usage: steward version"}},
		{[]string{"users"}, []string{"reset-password", "STEWARD_DATABASE_URL"}},
		{[]string{"users", "list"}, []string{"-tenant", "STEWARD_DATABASE_URL"}},
		{[]string{"users", "reset-password"}, []string{"-email", "-password-stdin"}},
		{[]string{"users", "unlock"}, []string{"-email"}},
		{[]string{"keys"}, []string{"create"}},
		{[]string{"keys", "create"}, []string{"-name", "-email", "STEWARD_DATABASE_URL"}},
		{[]string{"outbox"}, []string{"list"}},
		{[]string{"outbox", "list"}, []string{"-db", "STEWARD_DATABASE_URL"}},
	}
	for _, c := range cases {
		for _, flag := range []string{"-h", "--help"} {
			t.Run(strings.Join(c.args, " ")+" "+flag, func(t *testing.T) {
				out := mustSucceed(t, "", append(append([]string{}, c.args...), flag)...)
				for _, w := range c.want {
					if !strings.Contains(out, w) {
						t.Errorf("help lacks %q:\n%s", w, out)
					}
				}
			})
		}
	}
}

// cliDatabases runs fn with a fresh database URL on SQLite and, when
// configured, PostgreSQL, with an opener for inspecting it.
func cliDatabases(t *testing.T, fn func(t *testing.T, url string, open func() *sqlstore.DB)) {
	t.Run("sqlite", func(t *testing.T) {
		path := filepath.Join(t.TempDir(), "steward.db")
		fn(t, path, func() *sqlstore.DB {
			db, err := sqlite.Open(path)
			if err != nil {
				t.Fatal(err)
			}
			t.Cleanup(func() { db.Close() })
			return db
		})
	})
	t.Run("postgres", func(t *testing.T) {
		url := storetest.PostgresURL(t)
		fn(t, url, func() *sqlstore.DB {
			db, err := postgres.Open(context.Background(), url)
			if err != nil {
				t.Fatal(err)
			}
			t.Cleanup(func() { db.Close() })
			return db
		})
	})
}

func TestBreakGlassCommands(t *testing.T) {
	cliDatabases(t, func(t *testing.T, url string, open func() *sqlstore.DB) {
		ctx := context.Background()
		mustSucceed(t, "", "bootstrap", "--db", url, "--email", "ops@example.com", "--tenant", "One", "--if-empty")
		out, errOut, code := runCLI(t, "", "bootstrap", "--db", url, "--email", "other@example.com", "--if-empty", "--json")
		if code != 0 || !strings.Contains(out, `"created":false`) || !strings.Contains(errOut, "nothing created") {
			t.Fatalf("bootstrap --if-empty on a used database: %d %s %s", code, out, errOut)
		}
		// The same email in a second tenant makes it ambiguous.
		mustSucceed(t, "", "bootstrap", "--db", url, "--email", "ops@example.com", "--tenant", "Two")
		db := open()
		if n, _ := db.CountTenants(ctx); n != 2 {
			t.Fatalf("%d tenants, want 2", n)
		}

		list := mustSucceed(t, "", "users", "list", "--db", url, "--tenant", "1")
		if !strings.Contains(list, "ops@example.com") || !strings.Contains(list, "EMAIL") {
			t.Errorf("users list: %s", list)
		}
		if _, errOut, code := runCLI(t, "", "users", "list", "--db", url); code == 0 || !strings.Contains(errOut, "--tenant is required") {
			t.Errorf("users list without --tenant: %d %s", code, errOut)
		}

		for _, args := range [][]string{
			{"users", "reset-password", "--email", "ops@example.com"},
			{"users", "unlock", "--email", "OPS@example.com"},
			{"keys", "create", "--email", "ops@example.com", "--name", "x"},
		} {
			_, errOut, code := runCLI(t, "", append(args, "--db", url)...)
			if code == 0 || !strings.Contains(errOut, "2 tenants (1, 2); choose one with --tenant") {
				t.Errorf("%v with an ambiguous email: exit %d: %s", args, code, errOut)
			}
		}
		if _, errOut, code := runCLI(t, "", "users", "unlock", "--db", url, "--email", "nobody@example.com"); code == 0 || !strings.Contains(errOut, "no user with email nobody@example.com") {
			t.Errorf("unknown email: %d %s", code, errOut)
		}

		// A generated one-time password.
		out = mustSucceed(t, "", "users", "reset-password", "--db", url, "--email", "ops@example.com", "--tenant", "2")
		lines := strings.Split(strings.TrimSpace(out), "\n")
		oneTime := lines[len(lines)-1]
		users, _ := db.FindUsersByEmail(ctx, "ops@example.com")
		byTenant := map[int64]*steward.User{}
		for _, u := range users {
			byTenant[u.TenantID] = u
		}
		if len(oneTime) < 16 || !password.Check(byTenant[2].PasswordHash, oneTime) {
			t.Fatalf("the printed password %q does not open the account", oneTime)
		}
		// A password from standard input, and an unlock.
		if err := db.LockUser(ctx, byTenant[1].ID, time.Now().Add(time.Hour)); err != nil {
			t.Fatal(err)
		}
		mustSucceed(t, "chosen password 42\n", "users", "reset-password", "--db", url, "--email", "ops@example.com", "--tenant", "1", "--password-stdin")
		if err := db.LockUser(ctx, byTenant[1].ID, time.Now().Add(time.Hour)); err != nil {
			t.Fatal(err)
		}
		mustSucceed(t, "", "users", "unlock", "--db", url, "--email", "ops@example.com", "--tenant", "1")
		u, err := db.FindUserByID(ctx, 1, byTenant[1].ID)
		if err != nil || u.Locked(time.Now()) || !password.Check(u.PasswordHash, "chosen password 42") {
			t.Fatalf("after reset from stdin and unlock: locked=%v err=%v", u.Locked(time.Now()), err)
		}

		out = mustSucceed(t, "", "keys", "create", "--db", url, "--email", "ops@example.com", "--tenant", "1", "--name", "rescue")
		lines = strings.Split(strings.TrimSpace(out), "\n")
		key := lines[len(lines)-1]
		if k, owner, err := db.FindAPIKeyByHash(ctx, steward.HashSecret(key)); err != nil || owner.ID != byTenant[1].ID || k.Name != "rescue" {
			t.Fatalf("printed key: %v %v", k, err)
		}

		m := &steward.MailMessage{TenantID: 1, To: "new@example.com", Subject: "You are invited",
			Body: "Accept: https://steward.example/users/invitation/accept?invitation_token=abc\n"}
		if err := db.EnqueueMail(ctx, m); err != nil {
			t.Fatal(err)
		}
		out = mustSucceed(t, "", "outbox", "list", "--db", url)
		if !strings.Contains(out, "new@example.com") || !strings.Contains(out, "invitation_token=abc") {
			t.Errorf("outbox list: %s", out)
		}

		// Every command left one record; none holds a secret.
		rows, err := db.Read.Query(`SELECT operation_name, COALESCE(tenant_id, 0), inputs || outputs, user_name FROM audit_logs ORDER BY id`)
		if err != nil {
			t.Fatal(err)
		}
		defer rows.Close()
		var ops []string
		for rows.Next() {
			var op, text, name string
			var tenant int64
			if err := rows.Scan(&op, &tenant, &text, &name); err != nil {
				t.Fatal(err)
			}
			ops = append(ops, op)
			if strings.Contains(text, oneTime) || strings.Contains(text, "chosen password") || strings.Contains(text, key) {
				t.Errorf("%s record holds a secret: %s", op, text)
			}
			if !strings.HasPrefix(name, "command line (") {
				t.Errorf("%s record names %q", op, name)
			}
		}
		want := "CliBootstrap,CliBootstrap,CliUserList,CliUserPasswordReset,CliUserPasswordReset,CliUserUnlock,CliApiKeyCreation,CliOutboxList"
		if got := strings.Join(ops, ","); got != want {
			t.Errorf("audit records:\n got %s\nwant %s", got, want)
		}
	})
}
