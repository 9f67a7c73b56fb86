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
	fs := newFlagSet("bootstrap", stderr, &cfg)
	email := fs.String("email", "", "the admin's email address (required)")
	pass := fs.String("password", "", "the admin's password (default: a random one, printed)")
	tenant := fs.String("tenant", "Default", "the new tenant's name")
	asJSON := fs.Bool("json", false, "print the result as JSON")
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
