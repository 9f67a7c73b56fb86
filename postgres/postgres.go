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
func Open(ctx context.Context, url string) (*sqlstore.DB, error) {
	db, err := sql.Open("pgx", url)
	if err != nil {
		return nil, fmt.Errorf("postgres: open: %w", err)
	}
	db.SetMaxOpenConns(32)
	db.SetMaxIdleConns(32)
	db.SetConnMaxIdleTime(5 * time.Minute)
	pctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	if err := db.PingContext(pctx); err != nil {
		db.Close()
		return nil, fmt.Errorf("postgres: connect: %w", err)
	}
	return sqlstore.New(db, db, dialect{}), nil
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
