// Command steward runs the Steward automation server.
//
//	steward serve     [--addr 127.0.0.1:3000] [--db PATH-or-URL] [--workers N] [--base-url URL] [--tls-cert FILE --tls-key FILE]
//	steward migrate   [--db PATH-or-URL]
//	steward bootstrap --email E [--password P] [--tenant NAME] [--db PATH-or-URL] [--json] [--if-empty]
//	steward version
//	steward users list --tenant T | reset-password --email E [--tenant T] | unlock --email E
//	steward keys create --email E --name N
//	steward outbox list
//
// Every flag also reads an environment variable (see README.md).
package main

import (
	"context"
	"errors"
	"flag"
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
  version    print the version, commit and Go version

break-glass commands, working on the database directly (each is audited):
  users      list --tenant T | reset-password --email E | unlock --email E
  keys       create --email E --name N
  outbox     list (mail not yet sent, invitation links included)

Run 'steward <command> -h' for a command's flags and environment settings.
`

// run dispatches a subcommand; it is main without the process exits, so
// tests can call it.
func run(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	return runWithInput(ctx, args, os.Stdin, stdout, stderr)
}

// runWithInput is run with standard input given (reset-password reads a
// password from it).
func runWithInput(ctx context.Context, args []string, stdin io.Reader, stdout, stderr io.Writer) error {
	if len(args) == 0 {
		fmt.Fprint(stderr, usage)
		return fmt.Errorf("no command given")
	}
	logOut := newBufferedLog(stderr, 100*time.Millisecond)
	defer logOut.Close()
	log, err := newLogger(logOut)
	if err != nil {
		return err
	}
	cliLog := log
	if args[0] != "serve" {
		// Commands run by a person keep their output readable: only
		// warnings and errors are logged.
		cliLog = slog.New(levelAtLeast{log.Handler(), slog.LevelWarn})
	}
	switch args[0] {
	case "serve":
		err = serve(ctx, args[1:], stdout, stderr, log)
	case "migrate":
		err = migrate(ctx, args[1:], stdout, stderr, log)
	case "bootstrap":
		err = bootstrap(ctx, args[1:], stdout, stderr)
	case "version":
		err = printVersion(args[1:], stdout, stderr)
	case "users":
		err = usersCommand(ctx, args[1:], stdin, stdout, stderr, cliLog)
	case "keys":
		err = keysCommand(ctx, args[1:], stdout, stderr, cliLog)
	case "outbox":
		err = outboxCommand(ctx, args[1:], stdout, stderr, cliLog)
	case "help", "-h", "--help":
		fmt.Fprint(stdout, usage)
		return nil
	default:
		fmt.Fprint(stderr, usage)
		return fmt.Errorf("unknown command %q", args[0])
	}
	if errors.Is(err, flag.ErrHelp) {
		return nil // -h or --help: the help is printed
	}
	return err
}

// levelAtLeast is a handler that drops records below a level.
type levelAtLeast struct {
	slog.Handler
	min slog.Level
}

func (h levelAtLeast) Enabled(ctx context.Context, l slog.Level) bool {
	return l >= h.min && h.Handler.Enabled(ctx, l)
}
