package sqlstore

import (
	"context"
	"database/sql"
	"database/sql/driver"
	"errors"
	"fmt"
	"time"
)

// txBeginner is what *sql.DB and *sql.Conn offer to start a transaction.
type txBeginner interface {
	BeginTx(ctx context.Context, opts *sql.TxOptions) (*sql.Tx, error)
}

// InTx runs fn in a write transaction, committing if it returns nil.
// Driver errors returned by fn are translated by the dialect.
//
// A transaction whose pooled connection died before it committed (the
// error came from BEGIN, from fn, or from a commit the server provably
// did not apply) runs again on a connection that has just answered a
// ping. A commit whose outcome is unknown is never retried. fn may
// therefore run more than once and must start from scratch each time.
func (db *DB) InTx(ctx context.Context, fn func(tx *sql.Tx) error) error {
	again, err := db.runTx(ctx, db.Write, fn)
	for retry := 0; err != nil && again && retry < connRetries && ctx.Err() == nil; retry++ {
		conn, cerr := liveConn(ctx, db.Write)
		if cerr != nil {
			return err
		}
		again, err = db.runTx(ctx, conn, fn)
		conn.Close()
	}
	return err
}

// connRetries is how many times an operation whose connection died runs
// again. Once is enough for one lost connection. More cover a server that
// terminates every session at once, and again and again (a failover, an
// administrator): its sessions end a moment after the signal, so a
// connection may answer a ping and still be ending, and a busy server may
// take longer to terminate them all than a retry takes to start.
const connRetries = 3

// connSettle is how long a retry waits before looking for a live
// connection.
const connSettle = 50 * time.Millisecond

// runTx runs fn in one transaction on b and reports, with a failure,
// whether the transaction certainly did not commit because its connection
// was lost, so that running it again is safe.
func (db *DB) runTx(ctx context.Context, b txBeginner, fn func(tx *sql.Tx) error) (again bool, err error) {
	tx, err := b.BeginTx(ctx, nil)
	if err != nil {
		return db.Dialect.ConnectionLost(err), fmt.Errorf("begin: %w", db.Dialect.TranslateError(err))
	}
	if err := fn(tx); err != nil {
		_ = tx.Rollback()
		return db.Dialect.ConnectionLost(err), db.Dialect.TranslateError(err)
	}
	if err := db.commit(ctx, tx); err != nil { // writes the request's audit record first (audit.go)
		return db.Dialect.NotCommitted(err), fmt.Errorf("commit: %w", db.Dialect.TranslateError(err))
	}
	return false, nil
}

// inTxRetry is InTx, run again a few times when the dialect says a
// failure was transient (a deadlock between concurrent queue
// transactions).
func (db *DB) inTxRetry(ctx context.Context, fn func(tx *sql.Tx) error) error {
	var err error
	for attempt := 0; attempt < 5; attempt++ {
		err = db.InTx(ctx, fn)
		if err == nil || !db.Dialect.Transient(err) {
			return err
		}
	}
	return err
}

// Exec runs a write statement outside a transaction. When its connection
// died before the statement was applied (the dialect's NotCommitted: a
// statement outside a transaction commits as it completes) it runs once
// more (see connRetries); when the outcome is unknown it is not retried.
func (db *DB) Exec(ctx context.Context, query string, args ...any) (sql.Result, error) {
	if auditDue(ctx) {
		return db.execAudited(ctx, query, args...) // with the request's audit record (audit.go)
	}
	var res sql.Result
	err := db.writeOutsideTx(ctx, db.Write, db.Dialect.NotCommitted, false, func(q Queryer) (err error) {
		res, err = q.ExecContext(ctx, db.Q(query), args...)
		return err
	})
	return res, db.Dialect.TranslateError(err)
}

// writeRow runs a single-statement write returning one row (INSERT …
// RETURNING) outside a transaction when scanned, once more as Exec does;
// while the request's audit record is due it runs in InTx, which writes
// the record with it.
func (db *DB) writeRow(ctx context.Context, query string, args ...any) *row {
	return &row{db: db, ctx: ctx, query: query, args: args, write: true}
}

// liveConn returns a connection of pool that has just answered a ping.
// database/sql discards a connection whose ping fails with
// driver.ErrBadConn, so dead pooled connections (all of them, after the
// server terminated this process's sessions) are dropped on the way.
func liveConn(ctx context.Context, pool *sql.DB) (*sql.Conn, error) {
	// Sessions a server terminates together end a moment after the
	// signal: give them that moment, so that the ping finds them gone.
	t := time.NewTimer(connSettle)
	select {
	case <-ctx.Done():
		t.Stop()
		return nil, ctx.Err()
	case <-t.C:
	}
	var err error
	for range 2*max(pool.Stats().MaxOpenConnections, 1) + 2 {
		var c *sql.Conn
		if c, err = pool.Conn(ctx); err != nil {
			if errors.Is(err, driver.ErrBadConn) {
				continue // every connection database/sql tried was dead
			}
			return nil, err
		}
		if err = c.PingContext(ctx); err == nil {
			return c, nil
		}
		c.Close()
		if ctx.Err() != nil {
			return nil, ctx.Err()
		}
	}
	return nil, fmt.Errorf("no live database connection: %w", err)
}

// statement runs fn, one write statement on the write pool that commits
// on its own, again when the dialect says it failed in a way a new
// attempt fixes (a deadlock), or certainly did not commit because its
// connection died.
func (db *DB) statement(ctx context.Context, fn func(q Queryer) error) error {
	return db.statementOn(ctx, db.Write, fn)
}

// statementOn is statement for a statement fn runs on pool.
func (db *DB) statementOn(ctx context.Context, pool *sql.DB, fn func(q Queryer) error) error {
	return db.Dialect.TranslateError(db.writeOutsideTx(ctx, pool, db.Dialect.NotCommitted, true, fn))
}

// writeOutsideTx runs fn, a write outside a transaction, on pool, and
// again (up to connRetries times) while it fails with an error that safe
// says leaves nothing to undo: a lost connection, for the dialect's
// NotCommitted, or any, for an idempotent write; with transient, also up
// to five times after a failure a new attempt fixes (a deadlock). After a
// lost connection the new attempt runs on a connection that has just
// answered a ping (liveConn), as InTx's do: once a server has ended every
// session, the pool's other idle connections are dead too, and handing
// the attempt back to the pool could pick one of them. It returns fn's
// last error as it is.
func (db *DB) writeOutsideTx(ctx context.Context, pool *sql.DB, safe func(error) bool, transient bool, fn func(q Queryer) error) error {
	var q Queryer = pool
	var conn *sql.Conn
	defer func() {
		if conn != nil {
			conn.Close()
		}
	}()
	for attempt, lost := 0, 0; ; attempt++ {
		err := fn(q)
		switch {
		case err == nil:
			return nil
		case transient && db.Dialect.Transient(err) && attempt < 5:
		case lost < connRetries && ctx.Err() == nil && safe(err):
			if conn != nil {
				conn.Close()
				conn = nil
			}
			c, cerr := liveConn(ctx, pool)
			if cerr != nil {
				return err
			}
			conn, q = c, c
			lost++
		default:
			return err
		}
	}
}
