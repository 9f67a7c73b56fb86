// Package sqlstore implements Steward's services over database/sql for both
// supported databases. SQL that is identical in SQLite and PostgreSQL lives
// here, written with '?' placeholders that the dialect rebinds; what
// differs (opening, migrations, error codes, locking, the job queue's
// statements) is supplied by the sqlite and postgres packages through
// Dialect.
//
// Timestamps are stored as BIGINT microseconds since the Unix epoch in both
// databases: one SQL text serves both, comparisons are exact, and SQLite has
// no native time type whose text form sorts correctly.
package sqlstore

import (
	"context"
	"database/sql"
	"errors"
	"strings"
	"sync"
	"time"

	"github.com/steward-dev/steward"
)

// DB is an open Steward database. Write and Read are separate pools: on
// SQLite, Write holds a single connection so writers queue in Go instead of
// spinning on SQLITE_BUSY, while readers proceed in parallel under WAL. On
// PostgreSQL they are two pools of the same database, so that reads never
// wait for a connection behind the job engine and enqueues.
type DB struct {
	Write *sql.DB
	Read  *sql.DB
	// Events, when set, is the pool the event batch is written through
	// (PostgreSQL: sessions that plan its statement once); else Write.
	Events  *sql.DB
	Dialect Dialect
	Clock   steward.Clock

	prepared  sync.Map     // query text → *sql.Stmt on the read pool
	jobs      jobSignal    // wakes this process's workers when jobs are enqueued
	announcer jobAnnouncer // tells other processes, coalesced

	eventStamps eventStamps                             // last_event_at writes of this process
	emits       emitBatcher                             // concurrent emits written together (eventbatch.go)
	taker       takerSlot                               // the engine new jobs are handed to (handoff.go)
	actions     actionCache                             // actions read for the event path (actioncache.go)
	egressRules snapshots[int64, []*steward.EgressRule] // by tenant, read by every job that connects
}

// New wraps pools opened by a dialect package.
func New(write, read *sql.DB, d Dialect) *DB {
	return &DB{Write: write, Read: read, Dialect: d, Clock: steward.SystemClock{}}
}

// Close closes prepared statements and both pools.
func (db *DB) Close() error {
	db.emits.close()
	db.announcer.wg.Wait()
	db.prepared.Range(func(_, st any) bool {
		st.(*sql.Stmt).Close()
		return true
	})
	var err error
	for _, p := range db.Pools() {
		err = errors.Join(err, p.DB.Close())
	}
	return err
}

// Pool is one of a store's connection pools, by name.
type Pool struct {
	Name string // write, read, events
	DB   *sql.DB
}

// Pools returns the store's distinct pools: write, then read and events
// when the dialect opened them.
func (db *DB) Pools() []Pool {
	pools := []Pool{{"write", db.Write}}
	if db.Read != db.Write {
		pools = append(pools, Pool{"read", db.Read})
	}
	if db.Events != nil {
		pools = append(pools, Pool{"events", db.Events})
	}
	return pools
}

// Ping checks that the database answers (readiness).
func (db *DB) Ping(ctx context.Context) error {
	return db.Read.PingContext(ctx)
}

// Q returns the query text for this dialect ('?' placeholders become
// $1, $2, … on PostgreSQL). Queries must not contain '?' anywhere else.
func (db *DB) Q(query string) string { return db.Dialect.Rebind(query) }

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

// idIn returns "IN (?, ?, …)" for ids, to follow a column name, and its
// arguments.
func idIn(ids []int64) (string, []any) {
	args := make([]any, len(ids))
	for i, id := range ids {
		args[i] = id
	}
	return "IN (" + strings.TrimSuffix(strings.Repeat("?, ", len(ids)), ", ") + ")", args
}
