// Package sqlstore implements Steward's services over database/sql for both
// supported databases. SQL that is identical in SQLite and PostgreSQL lives
// here, written with '?' placeholders that are rebound for PostgreSQL; what
// differs (opening, migrations, error codes, queue locking) is supplied by
// the sqlite and postgres packages through Dialect.
//
// Timestamps are stored as BIGINT microseconds since the Unix epoch in both
// databases: one SQL text serves both, comparisons are exact, and SQLite has
// no native time type whose text form sorts correctly.
package sqlstore

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"io/fs"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/steward-dev/steward"
)

// Dialect is what one database engine contributes.
type Dialect interface {
	// Name is "sqlite" or "postgres".
	Name() string
	// Migrations holds numbered NNNN_name.sql files applied in order.
	Migrations() fs.FS
	// TranslateError maps a driver error to a *steward.Error by error code
	// (unique violation → ECONFLICT, …) and returns other errors unchanged.
	TranslateError(err error) error
}

// DB is an open Steward database. Write and Read are separate pools: on
// SQLite, Write holds a single connection so writers queue in Go instead of
// spinning on SQLITE_BUSY, while readers proceed in parallel under WAL. On
// PostgreSQL both are the same pool.
type DB struct {
	Write   *sql.DB
	Read    *sql.DB
	Dialect Dialect
	Clock   steward.Clock

	rebound  sync.Map  // query text → rebound text (PostgreSQL only)
	prepared sync.Map  // query text → *sql.Stmt on the read pool
	jobs     jobSignal // wakes this process's workers when jobs are enqueued
}

// New wraps pools opened by a dialect package.
func New(write, read *sql.DB, d Dialect) *DB {
	return &DB{Write: write, Read: read, Dialect: d, Clock: steward.SystemClock{}}
}

// Close closes prepared statements and both pools.
func (db *DB) Close() error {
	db.prepared.Range(func(_, st any) bool {
		st.(*sql.Stmt).Close()
		return true
	})
	err := db.Write.Close()
	if db.Read != db.Write {
		err = errors.Join(err, db.Read.Close())
	}
	return err
}

// Postgres reports whether the dialect is PostgreSQL.
func (db *DB) Postgres() bool { return db.Dialect.Name() == "postgres" }

// Ping checks that the database answers (readiness).
func (db *DB) Ping(ctx context.Context) error {
	return db.Read.PingContext(ctx)
}

// Q returns the query text for this dialect: '?' placeholders become $1,
// $2, … on PostgreSQL. Queries must not contain '?' anywhere else.
func (db *DB) Q(query string) string {
	if !db.Postgres() {
		return query
	}
	if q, ok := db.rebound.Load(query); ok {
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
	db.rebound.Store(query, q)
	return q
}

// readRow runs a hot read query through a statement prepared once on the
// read pool. database/sql would otherwise prepare ad-hoc queries on every
// call, and parsing and planning was a third of the CPU of an API request
// on SQLite. Use it for the few queries every request makes.
func (db *DB) readRow(ctx context.Context, query string, args ...any) *sql.Row {
	st, err := db.readStmt(ctx, query)
	if err != nil {
		return db.Read.QueryRowContext(ctx, db.Q(query), args...) // carries the error to Scan
	}
	return st.QueryRowContext(ctx, args...)
}

// readRows is readRow for queries returning several rows.
func (db *DB) readRows(ctx context.Context, query string, args ...any) (*sql.Rows, error) {
	st, err := db.readStmt(ctx, query)
	if err != nil {
		return nil, err
	}
	return st.QueryContext(ctx, args...)
}

// readStmt returns the read pool's prepared statement for query.
func (db *DB) readStmt(ctx context.Context, query string) (*sql.Stmt, error) {
	q := db.Q(query)
	if st, ok := db.prepared.Load(q); ok {
		return st.(*sql.Stmt), nil
	}
	st, err := db.Read.PrepareContext(ctx, q)
	if err != nil {
		return nil, err
	}
	if prev, loaded := db.prepared.LoadOrStore(q, st); loaded {
		st.Close()
		return prev.(*sql.Stmt), nil
	}
	return st, nil
}

// Queryer is what both *sql.DB and *sql.Tx offer.
type Queryer interface {
	ExecContext(ctx context.Context, query string, args ...any) (sql.Result, error)
	QueryContext(ctx context.Context, query string, args ...any) (*sql.Rows, error)
	QueryRowContext(ctx context.Context, query string, args ...any) *sql.Row
}

// InTx runs fn in a write transaction, committing if it returns nil.
// Driver errors returned by fn are translated by the dialect.
func (db *DB) InTx(ctx context.Context, fn func(tx *sql.Tx) error) error {
	tx, err := db.Write.BeginTx(ctx, nil)
	if err != nil {
		return fmt.Errorf("begin: %w", db.Dialect.TranslateError(err))
	}
	if err := fn(tx); err != nil {
		_ = tx.Rollback()
		return db.Dialect.TranslateError(err)
	}
	if err := db.commit(ctx, tx); err != nil { // writes the request's audit record first (audit.go)
		return fmt.Errorf("commit: %w", db.Dialect.TranslateError(err))
	}
	return nil
}

// Exec runs a write statement outside a transaction.
func (db *DB) Exec(ctx context.Context, query string, args ...any) (sql.Result, error) {
	if auditDue(ctx) {
		return db.execAudited(ctx, query, args...) // with the request's audit record (audit.go)
	}
	res, err := db.Write.ExecContext(ctx, db.Q(query), args...)
	return res, db.Dialect.TranslateError(err)
}

// Micros converts a time to the stored form.
func Micros(t time.Time) int64 { return t.UnixMicro() }

// MicrosPtr converts an optional time to the stored form.
func MicrosPtr(t *time.Time) sql.NullInt64 {
	if t == nil {
		return sql.NullInt64{}
	}
	return sql.NullInt64{Int64: t.UnixMicro(), Valid: true}
}

// FromMicros converts a stored time back, in UTC.
func FromMicros(us int64) time.Time { return time.UnixMicro(us).UTC() }

// FromNullMicros converts an optional stored time back.
func FromNullMicros(n sql.NullInt64) *time.Time {
	if !n.Valid {
		return nil
	}
	t := FromMicros(n.Int64)
	return &t
}

// notFound is the ENOTFOUND error for a kind of object.
func notFound(kind string) error {
	return steward.Errorf(steward.ENOTFOUND, "%s not found", kind)
}
