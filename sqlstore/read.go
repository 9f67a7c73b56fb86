package sqlstore

import (
	"context"
	"database/sql"
)

// Reads run on the read pool. A read that fails because its pooled
// connection died runs again (see connRetries), after dead connections
// have been cleared from the pool: reading again is always safe.

// row is a one-row query that runs when scanned, as *sql.Row would: a
// read on the read pool, or a single-statement write (INSERT … RETURNING)
// on the write pool.
type row struct {
	db       *DB
	ctx      context.Context
	query    string
	args     []any
	prepared bool
	write    bool
}

// Scan runs the query and scans its first row into dest; it returns
// sql.ErrNoRows when there is none.
func (r *row) Scan(dest ...any) error {
	if r.write && !auditDue(r.ctx) {
		return r.db.writeOutsideTx(r.ctx, r.db.Write, r.db.Dialect.NotCommitted, false, func(q Queryer) error {
			return q.QueryRowContext(r.ctx, r.db.Q(r.query), r.args...).Scan(dest...)
		})
	}
	err := r.run(dest)
	for retry := 0; err != nil && retry < connRetries; retry++ {
		if r.write {
			// InTx retried a lost connection already; one that ended
			// the session before the commit is still safe to rerun.
			if r.ctx.Err() != nil || !r.db.Dialect.NotCommitted(err) {
				return err
			}
		} else if !r.db.retryRead(r.ctx, err) {
			return err
		}
		err = r.run(dest)
	}
	return err
}

func (r *row) run(dest []any) error {
	if r.write && auditDue(r.ctx) {
		return r.db.InTx(r.ctx, func(tx *sql.Tx) error {
			return tx.QueryRowContext(r.ctx, r.db.Q(r.query), r.args...).Scan(dest...)
		})
	}
	if r.prepared {
		if st, err := r.db.readStmt(r.ctx, r.query); err == nil {
			return st.QueryRowContext(r.ctx, r.args...).Scan(dest...)
		}
	}
	return r.db.Read.QueryRowContext(r.ctx, r.db.Q(r.query), r.args...).Scan(dest...)
}

// queryRow is QueryRowContext on the read pool, with query rebound.
func (db *DB) queryRow(ctx context.Context, query string, args ...any) *row {
	return &row{db: db, ctx: ctx, query: query, args: args}
}

// query is QueryContext on the read pool, with query rebound.
func (db *DB) query(ctx context.Context, query string, args ...any) (*sql.Rows, error) {
	rows, err := db.Read.QueryContext(ctx, db.Q(query), args...)
	for retry := 0; err != nil && retry < connRetries && db.retryRead(ctx, err); retry++ {
		rows, err = db.Read.QueryContext(ctx, db.Q(query), args...)
	}
	return rows, err
}

// readRow runs a hot read query through a statement prepared once on the
// read pool. database/sql would otherwise prepare ad-hoc queries on every
// call, and parsing and planning was a third of the CPU of an API request
// on SQLite. Use it for the few queries every request makes.
func (db *DB) readRow(ctx context.Context, query string, args ...any) *row {
	return &row{db: db, ctx: ctx, query: query, args: args, prepared: true}
}

// readRows is readRow for queries returning several rows.
func (db *DB) readRows(ctx context.Context, query string, args ...any) (*sql.Rows, error) {
	rows, err := db.readRowsOnce(ctx, query, args)
	for retry := 0; err != nil && retry < connRetries && db.retryRead(ctx, err); retry++ {
		rows, err = db.readRowsOnce(ctx, query, args)
	}
	return rows, err
}

func (db *DB) readRowsOnce(ctx context.Context, query string, args []any) (*sql.Rows, error) {
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

// retryRead reports whether a read that failed with err should run again,
// after clearing dead connections from the read pool: the next query
// takes the most recently returned connection, the live one found here.
func (db *DB) retryRead(ctx context.Context, err error) bool {
	if ctx.Err() != nil || !db.Dialect.ConnectionLost(err) {
		return false
	}
	c, cerr := liveConn(ctx, db.Read)
	if cerr != nil {
		return false
	}
	c.Close()
	return true
}

// readVia runs fn, a read written for any Queryer (so that transactions
// share it), on the read pool, and runs it again as query does when its
// connection died.
func readVia[T any](ctx context.Context, db *DB, fn func(q Queryer) (T, error)) (T, error) {
	v, err := fn(db.Read)
	for retry := 0; err != nil && retry < connRetries && db.retryRead(ctx, err); retry++ {
		v, err = fn(db.Read)
	}
	return v, err
}
