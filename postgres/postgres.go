// Package postgres opens Steward on PostgreSQL through pgx, for several
// Steward servers sharing one database and its job queues.
package postgres

import (
	"context"
	"database/sql"
	"embed"
	"errors"
	"fmt"
	"io/fs"
	"time"

	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/stdlib"
	"github.com/steward-dev/steward"
	"github.com/steward-dev/steward/sqlstore"
)

//go:embed migrations/*.sql
var migrations embed.FS

// Open connects to the database at a postgres:// URL. It does not migrate.
//
// Writes and reads get separate pools: the job engine and a stream of
// enqueues can hold every connection of the write pool, and admin and API
// reads (job_stats, lists, authentication) must not wait behind them.
func Open(ctx context.Context, url string) (*sqlstore.DB, error) {
	write, err := openPool(ctx, url, 32)
	if err != nil {
		return nil, err
	}
	read, err := openPool(ctx, url, 16)
	if err != nil {
		write.Close()
		return nil, err
	}
	return sqlstore.New(write, read, dialect{}), nil
}

// openPool opens a pool of at most n connections and checks that the
// server answers.
func openPool(ctx context.Context, url string, n int) (*sql.DB, error) {
	db, err := sql.Open("pgx", url)
	if err != nil {
		return nil, fmt.Errorf("postgres: open: %w", err)
	}
	db.SetMaxOpenConns(n)
	db.SetMaxIdleConns(n)
	db.SetConnMaxIdleTime(5 * time.Minute)
	pctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	if err := db.PingContext(pctx); err != nil {
		db.Close()
		return nil, fmt.Errorf("postgres: connect: %w", err)
	}
	return db, nil
}

var _ = stdlib.GetDefaultDriver // registers the "pgx" database/sql driver

type dialect struct{}

func (dialect) Name() string { return "postgres" }

func (dialect) Migrations() fs.FS {
	sub, err := fs.Sub(migrations, "migrations")
	if err != nil {
		panic(err) // the embedded directory always exists
	}
	return sub
}

func (dialect) TranslateError(err error) error {
	var pe *pgconn.PgError
	if err == nil || !errors.As(err, &pe) {
		return err
	}
	switch pe.Code {
	case "23505": // unique_violation
		return fmt.Errorf("%w: %w", &steward.Error{Code: steward.ECONFLICT, Message: "already exists"}, err)
	case "23503": // foreign_key_violation
		return fmt.Errorf("%w: %w", &steward.Error{Code: steward.EINVALID, Message: "refers to an object that does not exist"}, err)
	}
	return err
}
