package sqlstore

import (
	"context"
	"database/sql"
	"fmt"
	"io/fs"
	"log/slog"
	"sort"
	"strconv"
	"strings"
)

// foreignKeysOffDirective, as a migration's first line, runs it through
// the dialect's InTxWithoutForeignKeys (SQLite table rebuilds).
const foreignKeysOffDirective = "-- steward:foreign-keys-off"

// ForeignKeysOffMigrator is the part of Dialect that runs migrations
// rebuilding tables to change them (SQLite cannot ALTER a column into
// AUTOINCREMENT). Dropping the old table with foreign keys enforced would
// delete or block every row that refers to it, and enforcement cannot
// change inside a transaction.
type ForeignKeysOffMigrator interface {
	// InTxWithoutForeignKeys runs fn in a transaction on one connection of
	// pool with foreign key enforcement off, fails before committing if any
	// foreign key is then broken, and turns enforcement back on. A dialect
	// whose migrations never rebuild tables returns an error.
	InTxWithoutForeignKeys(ctx context.Context, pool *sql.DB, fn func(tx *sql.Tx) error) error
}

// Migrate applies every migration not yet recorded in schema_migrations, in
// order, each in its own transaction. Migrations are forward-only. They
// run under the dialect's migration lock, so that any number of servers
// may start at once on an empty database: the first migrates, the others
// wait and then find nothing left to do.
func (db *DB) Migrate(ctx context.Context, log *slog.Logger) error {
	release, err := db.Dialect.LockMigrations(ctx, db.Write)
	if err != nil {
		return fmt.Errorf("lock migrations: %w", err)
	}
	defer release()
	// Migrations use the write pool directly: they run once at start-up, and
	// a failed one stops the server rather than being retried.
	if _, err := db.Write.ExecContext(ctx,
		`CREATE TABLE IF NOT EXISTS schema_migrations (version BIGINT PRIMARY KEY, name TEXT NOT NULL, applied_at BIGINT NOT NULL)`); err != nil {
		return fmt.Errorf("create schema_migrations: %w", err)
	}
	names, err := fs.Glob(db.Dialect.Migrations(), "*.sql")
	if err != nil {
		return err
	}
	sort.Strings(names)
	applied := map[int64]bool{}
	rows, err := db.Write.QueryContext(ctx, `SELECT version FROM schema_migrations`)
	if err != nil {
		return fmt.Errorf("read schema_migrations: %w", err)
	}
	for rows.Next() {
		var v int64
		if err := rows.Scan(&v); err != nil {
			rows.Close()
			return err
		}
		applied[v] = true
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return err
	}
	for _, name := range names {
		version, err := strconv.ParseInt(strings.SplitN(name, "_", 2)[0], 10, 64)
		if err != nil {
			return fmt.Errorf("migration %s: name must start with a number: %w", name, err)
		}
		if applied[version] {
			continue
		}
		body, err := fs.ReadFile(db.Dialect.Migrations(), name)
		if err != nil {
			return err
		}
		run := db.InTx
		if strings.HasPrefix(string(body), foreignKeysOffDirective) {
			run = func(ctx context.Context, fn func(tx *sql.Tx) error) error {
				return db.Dialect.InTxWithoutForeignKeys(ctx, db.Write, fn)
			}
		}
		err = run(ctx, func(tx *sql.Tx) error {
			if _, err := tx.ExecContext(ctx, string(body)); err != nil {
				return err
			}
			_, err := tx.ExecContext(ctx, db.Q(`INSERT INTO schema_migrations (version, name, applied_at) VALUES (?, ?, ?)`),
				version, name, Micros(db.Clock.Now()))
			return err
		})
		if err != nil {
			return fmt.Errorf("apply migration %s: %w", name, err)
		}
		if log != nil {
			log.Info("applied migration", "dialect", db.Dialect.Name(), "migration", name)
		}
	}
	return nil
}
