// Package postgres opens Steward on PostgreSQL through pgx, for several
// Steward servers sharing one database and its job queues. It holds every
// piece of SQL that only PostgreSQL speaks, behind sqlstore.Dialect.
package postgres

import (
	"context"
	"crypto/rand"
	"database/sql"
	"database/sql/driver"
	"embed"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"net"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/jackc/pgx/v5"
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
//
// The event batch (sqlstore's emit writers) has a third, small pool whose
// sessions plan each prepared statement once (plan_cache_mode =
// force_generic_plan). The batch takes arrays whose length a custom plan
// counts, so PostgreSQL judged the generic plan (which assumes ten
// elements) dearer than the one-element custom plans and planned the
// statement again on most calls: about 1 ms of CPU each, more than the
// statement's own execution (BENCHMARKS.md, "The event path, third
// round"). Only that statement gets this: the lease and the admin writes
// need custom plans at millions of jobs (a generic lease took 0.66 s).
func Open(ctx context.Context, url string) (*sqlstore.DB, error) {
	write, err := openPool(ctx, url, 24, "")
	if err != nil {
		return nil, err
	}
	read, err := openPool(ctx, url, 16, "")
	if err != nil {
		write.Close()
		return nil, err
	}
	events, err := openPool(ctx, url, sqlstore.EmitWriters, "SET plan_cache_mode = force_generic_plan")
	if err != nil {
		write.Close()
		read.Close()
		return nil, err
	}
	db := sqlstore.New(write, read, &dialect{origin: rand.Text()})
	db.Events = events
	return db, nil
}

// openPool opens a pool of at most n connections, each of which runs the
// statement setup (unless empty) once connected, and checks that the
// server answers. setup is a SET rather than a startup parameter so that
// connection poolers which refuse unknown startup parameters still work.
func openPool(ctx context.Context, url string, n int, setup string) (*sql.DB, error) {
	cfg, err := pgx.ParseConfig(url)
	if err != nil {
		return nil, fmt.Errorf("postgres: open: %w", err)
	}
	var opts []stdlib.OptionOpenDB
	if setup != "" {
		opts = append(opts, stdlib.OptionAfterConnect(func(ctx context.Context, c *pgx.Conn) error {
			_, err := c.Exec(ctx, setup)
			return err
		}))
	}
	db := stdlib.OpenDB(*cfg, opts...)
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

// dialect implements sqlstore.Dialect for PostgreSQL.
type dialect struct {
	rebound sync.Map // query text with '?' → text with $1, $2, …
	origin  string   // this store's job announcements' payload (listen.go)
}

var _ sqlstore.Dialect = (*dialect)(nil)

func (*dialect) Name() string { return "postgres" }

func (*dialect) Migrations() fs.FS {
	sub, err := fs.Sub(migrations, "migrations")
	if err != nil {
		panic(err) // the embedded directory always exists
	}
	return sub
}

// migrationLock is the first key of the advisory lock migrations hold;
// the second is the schema's hash, so that databases in different
// schemas of one server migrate independently.
const migrationLock = 0x5374_6577 // "Stew"

// LockMigrations holds a session-level advisory lock on a connection of
// its own until release.
func (*dialect) LockMigrations(ctx context.Context, db *sql.DB) (func(), error) {
	conn, err := db.Conn(ctx)
	if err != nil {
		return nil, err
	}
	if _, err := conn.ExecContext(ctx, `SELECT pg_advisory_lock($1, hashtext(current_schema()))`, migrationLock); err != nil {
		conn.Close()
		return nil, err
	}
	return func() {
		uctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 10*time.Second)
		defer cancel()
		if _, err := conn.ExecContext(uctx, `SELECT pg_advisory_unlock($1, hashtext(current_schema()))`, migrationLock); err != nil {
			// Ending the session releases the lock: never pool it.
			_ = conn.Raw(func(any) error { return driver.ErrBadConn })
		}
		conn.Close()
	}, nil
}

// InTxWithoutForeignKeys refuses: PostgreSQL changes tables in place
// (ALTER TABLE), so its migrations never turn foreign keys off.
func (*dialect) InTxWithoutForeignKeys(context.Context, *sql.DB, func(tx *sql.Tx) error) error {
	return errors.New("postgres: migrations do not run with foreign keys off; change the table with ALTER TABLE")
}

// Rebind turns '?' placeholders into $1, $2, …, remembering each text.
func (d *dialect) Rebind(query string) string {
	if q, ok := d.rebound.Load(query); ok {
		return q.(string)
	}
	var b strings.Builder
	n := 0
	for i := 0; i < len(query); i++ {
		if query[i] == '?' {
			n++
			b.WriteByte('$')
			b.WriteString(strconv.Itoa(n))
			continue
		}
		b.WriteByte(query[i])
	}
	q := b.String()
	d.rebound.Store(query, q)
	return q
}

func (*dialect) TranslateError(err error) error {
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

// Transient: deadlocks and serialization failures between concurrent
// queue transactions succeed when retried.
func (*dialect) Transient(err error) bool {
	var pe *pgconn.PgError
	return errors.As(err, &pe) && (pe.Code == "40P01" || pe.Code == "40001")
}

// sessionEnded reports whether the server ended the session: the
// operator intervention codes (admin_shutdown when an administrator
// terminates the backend, crash_shutdown, cannot_connect_now) and
// connection exceptions (class 08).
func sessionEnded(pe *pgconn.PgError) bool {
	switch pe.Code {
	case "57P01", "57P02", "57P03":
		return true
	}
	return strings.HasPrefix(pe.Code, "08")
}

// ConnectionLost classifies by error type and code: the server ending the
// session, database/sql's bad connection, or the socket failing (EOF,
// reset, a closed pgx connection). Timeouts are not lost connections.
func (*dialect) ConnectionLost(err error) bool {
	if err == nil || pgconn.Timeout(err) || errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded) {
		return false
	}
	var pe *pgconn.PgError
	if errors.As(err, &pe) {
		return sessionEnded(pe)
	}
	if errors.Is(err, driver.ErrBadConn) || pgconn.SafeToRetry(err) ||
		errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) || errors.Is(err, net.ErrClosed) {
		return true
	}
	var ne *net.OpError
	return errors.As(err, &ne)
}

// NotCommitted: the commit was never sent (pgx says it is safe to retry,
// or database/sql found the connection bad first), or the server answered
// it by ending the session. PostgreSQL holds off termination while it
// commits and reports a finished commit before it reads again, so a
// session ended in answer to COMMIT ended before the commit.
func (*dialect) NotCommitted(err error) bool {
	if errors.Is(err, driver.ErrBadConn) || pgconn.SafeToRetry(err) {
		return true
	}
	var pe *pgconn.PgError
	return errors.As(err, &pe) && sessionEnded(pe) && !strings.HasPrefix(pe.Code, "08")
}

func (*dialect) LockTenant(ctx context.Context, tx *sql.Tx, tenantID int64) error {
	_, err := tx.ExecContext(ctx, `SELECT id FROM tenants WHERE id = $1 FOR UPDATE`, tenantID)
	return err
}
