package main

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"os/user"
	"strconv"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/steward-dev/steward"
	"github.com/steward-dev/steward/httpapi"
	"github.com/steward-dev/steward/password"
	"github.com/steward-dev/steward/sqlstore"
)

// Break-glass commands: an operator with shell access repairs what the
// API cannot (a locked-out or forgotten admin, a lost key, mail that never
// left) directly on the database. Each writes an audit record naming the
// command line and the operating-system user as the actor, in the same
// transaction as its change.

// cliAudit starts the audit record of a command.
func cliAudit(ctx context.Context, operation string, inputs map[string]any) (context.Context, *steward.PendingAudit) {
	p := steward.NewPendingAudit(operation, true)
	who := "unknown"
	if u, err := user.Current(); err == nil {
		who = u.Username
	}
	host, _ := os.Hostname()
	ver, _ := buildVersion()
	p.Update(func(a *steward.AuditLog) {
		a.UserName = "command line (" + who + "@" + host + ")"
		a.UserAgent = "steward-cli/" + ver
		a.Inputs = inputs
	})
	return steward.WithPendingAudit(ctx, p), p
}

// writeCLIAudit writes a command's record when no change wrote it (a
// command that only reads).
func writeCLIAudit(ctx context.Context, db *sqlstore.DB, p *steward.PendingAudit) error {
	entry, ok := p.ClaimAny()
	if !ok {
		return nil
	}
	err := db.CreateAuditLog(ctx, &entry)
	p.Release(err == nil)
	return err
}

// openForCLI opens and migrates the database quietly.
func openForCLI(ctx context.Context, url string, log *slog.Logger) (*sqlstore.DB, error) {
	return openMigrated(ctx, url, log)
}

// findUserByEmail finds the one user with email, in tenant when tenant is
// not 0; several matches across tenants is an error listing them.
func findUserByEmail(ctx context.Context, db *sqlstore.DB, email string, tenant int64) (*steward.User, error) {
	if strings.TrimSpace(email) == "" {
		return nil, errors.New("--email is required")
	}
	norm, err := steward.NormalizeEmail(email)
	if err != nil {
		return nil, fmt.Errorf("--email: %s", steward.ErrorMessage(err))
	}
	users, err := db.FindUsersByEmail(ctx, norm)
	if err != nil {
		return nil, err
	}
	var match []*steward.User
	for _, u := range users {
		if tenant == 0 || u.TenantID == tenant {
			match = append(match, u)
		}
	}
	switch len(match) {
	case 0:
		if tenant != 0 {
			return nil, fmt.Errorf("no user with email %s in tenant %d", norm, tenant)
		}
		return nil, fmt.Errorf("no user with email %s", norm)
	case 1:
		return match[0], nil
	}
	ids := make([]string, len(match))
	for i, u := range match {
		ids[i] = strconv.FormatInt(u.TenantID, 10)
	}
	return nil, fmt.Errorf("email %s belongs to users in %d tenants (%s); choose one with --tenant", norm, len(match), strings.Join(ids, ", "))
}

// subcommandHelp answers a command group called without a subcommand (an
// error naming them) or with -h, --help or help (its usage, exit 0). It
// reports handled false when args name a subcommand to run.
func subcommandHelp(group, synopsis, names string, args []string, stdout, stderr io.Writer) (handled bool, err error) {
	if len(args) > 0 && args[0] != "-h" && args[0] != "--help" && args[0] != "help" {
		return false, nil
	}
	newCommandFlags(group, synopsis, stdout, stderr, databaseEnv).Usage()
	if len(args) == 0 {
		return true, fmt.Errorf("%s: name a subcommand: %s", group, names)
	}
	return true, nil
}

// usersCommand is `steward users list|reset-password|unlock`.
func usersCommand(ctx context.Context, args []string, stdin io.Reader, stdout, stderr io.Writer, log *slog.Logger) error {
	const synopsis = "list --tenant T | reset-password --email E [--tenant T] [--password-stdin] | unlock --email E [--tenant T]"
	if handled, err := subcommandHelp("users", synopsis, "list, reset-password or unlock", args, stdout, stderr); handled {
		return err
	}
	usages := map[string]string{
		"list":           "--tenant T [--db URL]",
		"reset-password": "--email E [--tenant T] [--password-stdin] [--db URL]",
		"unlock":         "--email E [--tenant T] [--db URL]",
	}
	if _, ok := usages[args[0]]; !ok {
		return fmt.Errorf("users: unknown subcommand %q; use list, reset-password or unlock", args[0])
	}
	var cfg config
	fs := newFlagSet("users "+args[0], usages[args[0]], stdout, stderr, &cfg, databaseEnv)
	tenant := fs.Int64("tenant", 0, "tenant id (required for list; chooses the account when an email is in several tenants)")
	email := fs.String("email", "", "the user's email address")
	fromStdin := fs.Bool("password-stdin", false, "reset-password: read the new password from the first line of standard input instead of generating one")
	if err := fs.Parse(args[1:]); err != nil {
		return err
	}
	db, err := openForCLI(ctx, cfg.DatabaseURL, log)
	if err != nil {
		return err
	}
	defer db.Close()
	switch args[0] {
	case "list":
		return listUsers(ctx, db, *tenant, stdout)
	case "reset-password":
		return resetPassword(ctx, db, *email, *tenant, *fromStdin, stdin, stdout)
	default:
		return unlockUser(ctx, db, *email, *tenant, stdout)
	}
}

func listUsers(ctx context.Context, db *sqlstore.DB, tenant int64, stdout io.Writer) error {
	if tenant < 1 {
		return errors.New("users list: --tenant is required (a tenant id)")
	}
	if _, err := db.FindTenantByID(ctx, tenant); err != nil {
		return fmt.Errorf("users list: tenant %d: %s", tenant, steward.ErrorMessage(err))
	}
	ctx, p := cliAudit(ctx, "CliUserList", map[string]any{"tenant": tenant})
	steward.AuditTenant(ctx, tenant)
	tw := tabwriter.NewWriter(stdout, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "ID\tEMAIL\tNAME\tADMIN\tACTIVE\tLOCKED UNTIL\tLAST SEEN")
	now := time.Now()
	for page := 1; ; page++ {
		users, total, err := db.FindUsers(ctx, steward.UserFilter{TenantID: tenant, PageRequest: steward.PageRequest{Page: page, PerPage: 500}})
		if err != nil {
			return err
		}
		for _, u := range users {
			locked, seen := "-", "-"
			if u.Locked(now) {
				locked = u.LockedUntil.UTC().Format(time.RFC3339)
			}
			if u.LastSeenAt != nil {
				seen = u.LastSeenAt.UTC().Format(time.RFC3339)
			}
			fmt.Fprintf(tw, "%d\t%s\t%s\t%t\t%t\t%s\t%s\n", u.ID, u.Email, strings.TrimSpace(u.FirstName+" "+u.LastName),
				u.Admin, u.IsActive, locked, seen)
		}
		if page*500 >= total {
			break
		}
	}
	if err := tw.Flush(); err != nil {
		return err
	}
	return writeCLIAudit(ctx, db, p)
}

func resetPassword(ctx context.Context, db *sqlstore.DB, email string, tenant int64, fromStdin bool, stdin io.Reader, stdout io.Writer) error {
	u, err := findUserByEmail(ctx, db, email, tenant)
	if err != nil {
		return fmt.Errorf("users reset-password: %w", err)
	}
	var plaintext string
	if fromStdin {
		line, err := bufio.NewReader(stdin).ReadString('\n')
		if err != nil && !errors.Is(err, io.EOF) {
			return fmt.Errorf("users reset-password: read standard input: %w", err)
		}
		plaintext = strings.TrimRight(line, "\r\n")
	} else {
		secret, _ := steward.NewSecret("")
		plaintext = secret[:20]
	}
	hash, err := password.Hash("password", plaintext, 0)
	if err != nil {
		return fmt.Errorf("users reset-password: %s", steward.ErrorMessage(err))
	}
	ctx, _ = cliAudit(ctx, "CliUserPasswordReset", map[string]any{"email": u.Email, "tenant": u.TenantID, "user_id": u.ID})
	if _, err := db.UpdateUser(ctx, u.TenantID, u.ID, steward.UserUpdate{PasswordHash: &hash, Unlock: true}); err != nil {
		return fmt.Errorf("users reset-password: %w", err)
	}
	if fromStdin {
		fmt.Fprintf(stdout, "Password of %s (tenant %d) set; the account is unlocked.\n", u.Email, u.TenantID)
		return nil
	}
	fmt.Fprintf(stdout, "One-time password of %s (tenant %d), shown once; the account is unlocked:\n%s\n", u.Email, u.TenantID, plaintext)
	return nil
}

func unlockUser(ctx context.Context, db *sqlstore.DB, email string, tenant int64, stdout io.Writer) error {
	u, err := findUserByEmail(ctx, db, email, tenant)
	if err != nil {
		return fmt.Errorf("users unlock: %w", err)
	}
	ctx, _ = cliAudit(ctx, "CliUserUnlock", map[string]any{"email": u.Email, "tenant": u.TenantID, "user_id": u.ID})
	if _, err := db.UpdateUser(ctx, u.TenantID, u.ID, steward.UserUpdate{Unlock: true}); err != nil {
		return fmt.Errorf("users unlock: %w", err)
	}
	fmt.Fprintf(stdout, "Unlocked %s (tenant %d).\n", u.Email, u.TenantID)
	return nil
}

// keysCommand is `steward keys create`.
func keysCommand(ctx context.Context, args []string, stdout, stderr io.Writer, log *slog.Logger) error {
	const synopsis = "create --email E --name N [--tenant T] [--db URL]"
	if handled, err := subcommandHelp("keys", synopsis, "create", args, stdout, stderr); handled {
		return err
	}
	if args[0] != "create" {
		return fmt.Errorf("keys: unknown subcommand %q; use create", args[0])
	}
	var cfg config
	fs := newFlagSet("keys create", synopsis, stdout, stderr, &cfg, databaseEnv)
	email := fs.String("email", "", "the key owner's email address (required)")
	name := fs.String("name", "", "a name for the key (required)")
	tenant := fs.Int64("tenant", 0, "tenant id, when the email is in several tenants")
	if err := fs.Parse(args[1:]); err != nil {
		return err
	}
	if strings.TrimSpace(*name) == "" {
		return errors.New("keys create: --name is required")
	}
	db, err := openForCLI(ctx, cfg.DatabaseURL, log)
	if err != nil {
		return err
	}
	defer db.Close()
	u, err := findUserByEmail(ctx, db, *email, *tenant)
	if err != nil {
		return fmt.Errorf("keys create: %w", err)
	}
	if !u.IsActive {
		return fmt.Errorf("keys create: %s (tenant %d) is not active; its keys would not work", u.Email, u.TenantID)
	}
	ctx, _ = cliAudit(ctx, "CliApiKeyCreation", map[string]any{"email": u.Email, "tenant": u.TenantID, "user_id": u.ID, "name": *name})
	steward.AuditTenant(ctx, u.TenantID)
	k, key := httpapi.NewAPIKey(strings.TrimSpace(*name), u.TenantID, u.ID, nil)
	if err := db.CreateAPIKey(ctx, k); err != nil {
		return fmt.Errorf("keys create: %w", err)
	}
	fmt.Fprintf(stdout, "API key %q for %s (tenant %d), shown once:\n%s\n", k.Name, u.Email, u.TenantID, key)
	return nil
}

// outboxCommand is `steward outbox list`.
func outboxCommand(ctx context.Context, args []string, stdout, stderr io.Writer, log *slog.Logger) error {
	const synopsis = "list [--db URL]"
	if handled, err := subcommandHelp("outbox", synopsis, "list", args, stdout, stderr); handled {
		return err
	}
	if args[0] != "list" {
		return fmt.Errorf("outbox: unknown subcommand %q; use list", args[0])
	}
	var cfg config
	fs := newFlagSet("outbox list", synopsis, stdout, stderr, &cfg, databaseEnv)
	if err := fs.Parse(args[1:]); err != nil {
		return err
	}
	db, err := openForCLI(ctx, cfg.DatabaseURL, log)
	if err != nil {
		return err
	}
	defer db.Close()
	ctx, p := cliAudit(ctx, "CliOutboxList", map[string]any{})
	// Every unsent message, due or not.
	msgs, err := db.FindDueMail(ctx, time.Now().AddDate(100, 0, 0), 10000)
	if err != nil {
		return err
	}
	if len(msgs) == 0 {
		fmt.Fprintln(stdout, "No mail is waiting.")
	}
	for _, m := range msgs {
		fmt.Fprintf(stdout, "--- message %d to %s (tenant %d), queued %s, %d attempts", m.ID, m.To, m.TenantID,
			m.CreatedAt.UTC().Format(time.RFC3339), m.Attempts)
		if m.LastError != "" {
			fmt.Fprintf(stdout, ", last error: %s", m.LastError)
		}
		fmt.Fprintf(stdout, "\nSubject: %s\n\n%s\n", m.Subject, strings.TrimRight(m.Body, "\n"))
	}
	return writeCLIAudit(ctx, db, p)
}
