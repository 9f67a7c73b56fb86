package main

import (
	"flag"
	"fmt"
	"io"
	"text/tabwriter"
)

// envSetting documents one environment-only setting in a command's help.
type envSetting struct {
	Name, Default, Meaning string
}

// databaseEnv is the setting every database command reads.
var databaseEnv = []envSetting{
	{"STEWARD_DATABASE_URL", "steward.db", "SQLite file path, or a postgres:// URL (--db)"},
	{"STEWARD_LOG_LEVEL", "info", "debug, info, warn or error"},
	{"STEWARD_LOG_FORMAT", "json", "json or text"},
}

// serveEnv lists every setting `steward serve` reads from the environment.
var serveEnv = append(append([]envSetting{}, databaseEnv...), []envSetting{
	{"STEWARD_ADDR", "127.0.0.1:3000", "listen address (--addr)"},
	{"STEWARD_WORKERS", "10", "concurrent job workers (--workers)"},
	{"STEWARD_BASE_URL", "the request's host", "public URL for links (--base-url)"},
	{"STEWARD_TLS_CERT", "unset", "PEM certificate (--tls-cert)"},
	{"STEWARD_TLS_KEY", "unset", "PEM private key (--tls-key)"},
	{"STEWARD_ADMIN_SECRET", "unset (disabled)", "secret of the instance admin API's admin-auth header"},
	{"STEWARD_SMTP_URL", "unset", "smtp://user:pass@host:port for outgoing mail"},
	{"STEWARD_MAIL_FROM", "steward@localhost", "sender address of outgoing mail"},
	{"STEWARD_LOCKOUT_THRESHOLD", "10", "wrong passwords within the window that lock an account (0 disables)"},
	{"STEWARD_LOCKOUT_WINDOW", "15m", "the window those failures are counted in"},
	{"STEWARD_LOCKOUT_DURATION", "30m", "how long a lock lasts"},
	{"STEWARD_SESSION_TTL", "336h", "how long a sign-in session lasts"},
	{"STEWARD_INVITATION_TTL", "168h", "how long an invitation link stays valid"},
	{"STEWARD_LOGIN_RETENTION_DAYS", "30", "days sign-in activity is kept (0: forever)"},
	{"STEWARD_AUDIT_RETENTION_DAYS", "365", "days audit records are kept (0: forever)"},
	{"STEWARD_JOB_MAX_RETRIES", "25", "retries of a failing job before it is dead"},
	{"STEWARD_JOB_BACKOFF_SCALE", "1", "multiplies every retry delay"},
	{"STEWARD_JOB_LEASE", "30s", "how long a worker owns a job"},
	{"STEWARD_JOB_DEAD_MAX", "10000", "dead jobs kept per tenant"},
	{"STEWARD_JOB_DEAD_MAX_AGE", "4320h", "dead jobs older than this are trimmed"},
	{"STEWARD_JOB_SHUTDOWN_TIMEOUT", "30s", "how long running jobs may finish on shutdown"},
	{"STEWARD_METRICS_TOKEN", "unset (open)", "bearer token GET /metrics requires"},
	{"STEWARD_DEBUG_ADDR", "unset (off)", "loopback host:port serving Go's profiles at /debug/pprof/"},
}...)

// newCommandFlags returns a command's flag set: errors are reported, not
// exits; -h and --help print the synopsis, the flags with their defaults
// and the environment settings (to stdout, and Parse returns flag.ErrHelp,
// which run turns into success).
func newCommandFlags(name, synopsis string, stdout, stderr io.Writer, env []envSetting) *flag.FlagSet {
	fs := flag.NewFlagSet(name, flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.Usage = func() {
		w := stdout
		fmt.Fprintf(w, "usage: steward %s %s\n", name, synopsis)
		hasFlags := false
		fs.VisitAll(func(*flag.Flag) { hasFlags = true })
		if hasFlags {
			fmt.Fprintln(w, "\nflags:")
			fs.SetOutput(w)
			fs.PrintDefaults()
			fs.SetOutput(stderr)
		}
		if len(env) > 0 {
			fmt.Fprintln(w, "\nenvironment (flags win over it):")
			tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
			for _, e := range env {
				fmt.Fprintf(tw, "  %s\tdefault %s\t%s\n", e.Name, e.Default, e.Meaning)
			}
			tw.Flush()
		}
	}
	return fs
}
