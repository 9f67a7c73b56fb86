package main

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"

	"github.com/steward-dev/steward/httpapi"
)

func bootstrap(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	var cfg config
	fs := newFlagSet("bootstrap", "--email E [--password P] [--tenant NAME] [--json] [--if-empty] [--db URL]", stdout, stderr, &cfg, databaseEnv)
	email := fs.String("email", "", "the admin's email address (required)")
	pass := fs.String("password", "", "the admin's password (default: a random one, printed)")
	tenant := fs.String("tenant", "Default", "the new tenant's name")
	asJSON := fs.Bool("json", false, "print the result as JSON")
	ifEmpty := fs.Bool("if-empty", false, "do nothing (and succeed) when the database already has a tenant, so re-run deployment jobs are idempotent")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if *email == "" {
		return fmt.Errorf("bootstrap: --email is required")
	}
	db, err := openMigrated(ctx, cfg.DatabaseURL, slog.New(slog.DiscardHandler))
	if err != nil {
		return err
	}
	defer db.Close()
	if *ifEmpty {
		n, err := db.CountTenants(ctx)
		if err != nil {
			return err
		}
		if n > 0 {
			fmt.Fprintf(stderr, "steward bootstrap: the database already has %d tenant(s); nothing created (--if-empty)\n", n)
			if *asJSON {
				return json.NewEncoder(stdout).Encode(map[string]any{"created": false, "tenants": n})
			}
			return nil
		}
	}
	ctx, _ = cliAudit(ctx, "CliBootstrap", map[string]any{"tenant": *tenant, "email": *email})
	res, err := httpapi.Bootstrap(ctx, httpapi.StoreServices(db), *tenant, *email, *pass, 0)
	if err != nil {
		return err
	}
	if *asJSON {
		return json.NewEncoder(stdout).Encode(res)
	}
	printCredentials(stdout, res)
	return nil
}

// printCredentials shows new credentials once, clearly.
func printCredentials(w io.Writer, res *httpapi.BootstrapResult) {
	fmt.Fprintf(w, "\n  Steward tenant %d created with admin %s\n", res.TenantID, res.Email)
	if res.Password != "" {
		fmt.Fprintf(w, "  password: %s\n", res.Password)
	}
	fmt.Fprintf(w, "  API key:  %s\n\n  These are shown once; store them now.\n\n", res.APIKey)
}
