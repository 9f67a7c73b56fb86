// Package sqlite opens Steward's embedded default database: SQLite through
// modernc.org/sqlite, a pure-Go driver, so the binary needs no cgo. It
// holds every piece of SQL and behaviour that only SQLite needs, behind
// sqlstore.Dialect.
package sqlite

import (
	"context"
	"database/sql/driver"
	"embed"
	"errors"
	"fmt"
	"io/fs"
	"net/url"
	"runtime"
	"strings"

	"github.com/steward-dev/steward"
	"github.com/steward-dev/steward/sqlstore"
	"modernc.org/sqlite"
	sqlite3 "modernc.org/sqlite/lib"

	"database/sql"
)

//go:embed migrations/*.sql
var migrations embed.FS

// Open opens (creating if needed) the SQLite database at path with WAL,
// foreign keys and a busy timeout. It does not migrate.
func Open(path string) (*sqlstore.DB, error) {
	path = strings.TrimPrefix(strings.TrimPrefix(path, "sqlite://"), "sqlite:")
	if path == "" {
		return nil, errors.New("sqlite: empty database path")
	}
	pragmas := url.Values{}
	// mmap_size: pages of the database file are read through a shared
	// memory map (the OS page cache) instead of being copied into each
	// connection's own cache. In WAL mode every commit makes each read
	// connection drop its page cache; with the map, dropping and refilling
	// it costs pointers, not megabytes of copies.
	for _, p := range []string{"journal_mode(WAL)", "foreign_keys(1)", "busy_timeout(10000)", "synchronous(NORMAL)",
		"mmap_size(" + mmapSize + ")"} {
		pragmas.Add("_pragma", p)
	}
	// The writer's cache is never invalidated by its own commits: 64 MiB
	// (SQLite's default is 2 MiB) keeps the job queue's indexes in memory at
	// millions of rows. Readers keep a small cache of their own (the map
	// serves the rest), so that their memory stays bounded.
	write, err := sql.Open("sqlite", "file:"+path+"?"+pragmas.Encode()+"&_pragma=cache_size(-65536)&_txlock=immediate")
	if err != nil {
		return nil, fmt.Errorf("sqlite: open %s: %w", path, err)
	}
	// One writer connection: SQLite allows one writer at a time anyway, and
	// queueing in Go is far cheaper than retrying on SQLITE_BUSY.
	write.SetMaxOpenConns(1)
	write.SetMaxIdleConns(1)
	write.SetConnMaxLifetime(0)
	if err := write.Ping(); err != nil {
		write.Close()
		return nil, fmt.Errorf("sqlite: open %s: %w", path, err)
	}
	pragmas.Add("_pragma", "query_only(1)")
	pragmas.Add("_pragma", "cache_size(-8192)")
	read, err := sql.Open("sqlite", "file:"+path+"?"+pragmas.Encode())
	if err != nil {
		write.Close()
		return nil, fmt.Errorf("sqlite: open %s: %w", path, err)
	}
	n := max(4, runtime.GOMAXPROCS(0)*2)
	read.SetMaxOpenConns(n)
	read.SetMaxIdleConns(n)
	read.SetConnMaxLifetime(0)
	return sqlstore.New(write, read, dialect{}), nil
}

// mmapSize bounds the memory map of the database file (256 MiB); a larger
// file is read through the page cache beyond that.
const mmapSize = "268435456"

// dialect implements sqlstore.Dialect for SQLite. One process owns the
// database file and its single write connection serialises every write
// transaction, so row locks, lock skipping and cross-process wake-ups
// have nothing to do here.
type dialect struct{}

var _ sqlstore.Dialect = dialect{}

func (dialect) Name() string { return "sqlite" }

func (dialect) Migrations() fs.FS {
	sub, err := fs.Sub(migrations, "migrations")
	if err != nil {
		panic(err) // the embedded directory always exists
	}
	return sub
}

// LockMigrations needs no lock: the write connection opens every
// transaction with BEGIN IMMEDIATE, so migrations are serialised already.
func (dialect) LockMigrations(context.Context, *sql.DB) (func(), error) { return func() {}, nil }

// Rebind returns query unchanged: SQLite takes '?' placeholders.
func (dialect) Rebind(query string) string { return query }

// Transient: the single writer never deadlocks; SQLITE_BUSY is absorbed by
// the busy timeout.
func (dialect) Transient(error) bool { return false }

// ConnectionLost: an embedded database's connection dies only as
// database/sql's bad connection.
func (dialect) ConnectionLost(err error) bool { return errors.Is(err, driver.ErrBadConn) }

// NotCommitted: a failed SQLite commit is not retried.
func (dialect) NotCommitted(error) bool { return false }

// LockTenant needs no lock: the single writer serialises transactions.
func (dialect) LockTenant(context.Context, *sql.Tx, int64) error { return nil }

// InTxWithoutForeignKeys implements sqlstore.ForeignKeysOffMigrator.
// PRAGMA foreign_keys is a no-op inside a transaction, so it is set on the
// connection first; PRAGMA foreign_key_check then finds every row whose
// parent is missing, and any such row rolls the migration back.
func (dialect) InTxWithoutForeignKeys(ctx context.Context, pool *sql.DB, fn func(tx *sql.Tx) error) (err error) {
	conn, err := pool.Conn(ctx)
	if err != nil {
		return err
	}
	defer conn.Close()
	if _, err := conn.ExecContext(ctx, `PRAGMA foreign_keys = OFF`); err != nil {
		return err
	}
	defer func() {
		if _, onErr := conn.ExecContext(context.WithoutCancel(ctx), `PRAGMA foreign_keys = ON`); onErr != nil {
			// The connection must not go back to the pool without enforcement.
			_ = conn.Raw(func(any) error { return driver.ErrBadConn })
			err = errors.Join(err, fmt.Errorf("turn foreign keys back on: %w", onErr))
		}
	}()
	tx, err := conn.BeginTx(ctx, nil)
	if err != nil {
		return err
	}
	if err := fn(tx); err != nil {
		_ = tx.Rollback()
		return err
	}
	if err := foreignKeyCheck(ctx, tx); err != nil {
		_ = tx.Rollback()
		return err
	}
	return tx.Commit()
}

// foreignKeyCheck fails naming the first rows whose foreign keys point
// nowhere.
func foreignKeyCheck(ctx context.Context, tx *sql.Tx) error {
	rows, err := tx.QueryContext(ctx, `PRAGMA foreign_key_check`)
	if err != nil {
		return err
	}
	defer rows.Close()
	var broken []string
	for rows.Next() {
		var table, parent string
		var rowid sql.NullInt64
		var fk int
		if err := rows.Scan(&table, &rowid, &parent, &fk); err != nil {
			return err
		}
		if len(broken) < 10 {
			broken = append(broken, fmt.Sprintf("%s row %d refers to a missing %s", table, rowid.Int64, parent))
		}
	}
	if err := rows.Err(); err != nil {
		return err
	}
	if len(broken) > 0 {
		return fmt.Errorf("foreign key check failed: %s", strings.Join(broken, "; "))
	}
	return nil
}

func (dialect) TranslateError(err error) error {
	var se *sqlite.Error
	if err == nil || !errors.As(err, &se) {
		return err
	}
	switch se.Code() {
	case sqlite3.SQLITE_CONSTRAINT_UNIQUE, sqlite3.SQLITE_CONSTRAINT_PRIMARYKEY:
		return fmt.Errorf("%w: %w", &steward.Error{Code: steward.ECONFLICT, Message: "already exists"}, err)
	case sqlite3.SQLITE_CONSTRAINT_FOREIGNKEY:
		return fmt.Errorf("%w: %w", &steward.Error{Code: steward.EINVALID, Message: "refers to an object that does not exist"}, err)
	}
	return err
}
