// Command steward runs the Steward automation server.
//
//	steward serve     [--addr 127.0.0.1:3000] [--db PATH-or-URL] [--workers N] [--base-url URL] [--tls-cert FILE --tls-key FILE]
//	steward migrate   [--db PATH-or-URL]
//	steward bootstrap --email E [--password P] [--tenant NAME] [--db PATH-or-URL] --json
//
// Every flag also reads an environment variable (see README.md).
package main

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"os"
	"os/signal"
	"syscall"
	"time"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if err := run(ctx, os.Args[1:], os.Stdout, os.Stderr); err != nil {
		fmt.Fprintln(os.Stderr, "steward:", err)
		os.Exit(1)
	}
}

const usage = `usage: steward <command> [flags]

commands:
  serve      run the HTTP API and job workers (migrates first)
  migrate    apply database migrations and exit
  bootstrap  create a tenant with an admin user and an API key

Run 'steward <command> -h' for a command's flags.
`

// run dispatches a subcommand; it is main without the process exits, so
// tests can call it.
func run(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	if len(args) == 0 {
		fmt.Fprint(stderr, usage)
		return fmt.Errorf("no command given")
	}
	logOut := newBufferedLog(stderr, 100*time.Millisecond)
	defer logOut.Close()
	log := slog.New(slog.NewJSONHandler(logOut, &slog.HandlerOptions{Level: slog.LevelInfo}))
	switch args[0] {
	case "serve":
		return serve(ctx, args[1:], stdout, stderr, log)
	case "migrate":
		return migrate(ctx, args[1:], stderr, log)
	case "bootstrap":
		return bootstrap(ctx, args[1:], stdout, stderr)
	case "help", "-h", "--help":
		fmt.Fprint(stdout, usage)
		return nil
	}
	fmt.Fprint(stderr, usage)
	return fmt.Errorf("unknown command %q", args[0])
}
