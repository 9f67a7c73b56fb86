package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"os"
	"strconv"
	"strings"

	"github.com/steward-dev/steward/postgres"
	"github.com/steward-dev/steward/sqlite"
	"github.com/steward-dev/steward/sqlstore"
)

// config is everything a command can be told, from flags with environment
// fallbacks. Flags win over the environment.
type config struct {
	DatabaseURL string
	Addr        string
	Workers     int
	BaseURL     string
	AdminSecret string
	SMTPURL     string
	MailFrom    string
	TLSCert     string
	TLSKey      string
}

func envOr(name, def string) string {
	if v, ok := os.LookupEnv(name); ok && v != "" {
		return v
	}
	return def
}

func envInt(name string, def int) (int, error) {
	v := envOr(name, "")
	if v == "" {
		return def, nil
	}
	n, err := strconv.Atoi(v)
	if err != nil {
		return 0, fmt.Errorf("%s=%q: not a whole number", name, v)
	}
	return n, nil
}

// newFlagSet returns a command's flag set (see newCommandFlags: -h lists
// the flags and env) with the flag every database command shares: --db.
func newFlagSet(name, synopsis string, stdout, stderr io.Writer, cfg *config, env []envSetting) *flag.FlagSet {
	fs := newCommandFlags(name, synopsis, stdout, stderr, env)
	fs.StringVar(&cfg.DatabaseURL, "db", envOr("STEWARD_DATABASE_URL", "steward.db"),
		"SQLite file path, or a postgres:// URL (env STEWARD_DATABASE_URL)")
	return fs
}

// openDB opens the database named by url: PostgreSQL for postgres:// or
// postgresql:// URLs, otherwise an SQLite file.
func openDB(ctx context.Context, url string) (*sqlstore.DB, error) {
	if strings.HasPrefix(url, "postgres://") || strings.HasPrefix(url, "postgresql://") {
		return postgres.Open(ctx, url)
	}
	return sqlite.Open(url)
}

// openMigrated opens the database and applies pending migrations.
func openMigrated(ctx context.Context, url string, log *slog.Logger) (*sqlstore.DB, error) {
	db, err := openDB(ctx, url)
	if err != nil {
		return nil, err
	}
	if err := db.Migrate(ctx, log); err != nil {
		db.Close()
		return nil, err
	}
	return db, nil
}

func migrate(ctx context.Context, args []string, stdout, stderr io.Writer, log *slog.Logger) error {
	var cfg config
	fs := newFlagSet("migrate", "[--db PATH-or-URL]", stdout, stderr, &cfg, databaseEnv)
	if err := fs.Parse(args); err != nil {
		return err
	}
	db, err := openMigrated(ctx, cfg.DatabaseURL, log)
	if err != nil {
		return err
	}
	return db.Close()
}
