package postgres

import (
	"context"
	"database/sql"
	"database/sql/driver"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5/stdlib"
)

// jobsChannel is the NOTIFY channel that announces new jobs to every
// Steward process sharing the database.
const jobsChannel = "steward_jobs"

// AnnounceJobs sends a notification, in a statement of its own, that
// PostgreSQL delivers to every listening process. Its payload is this
// store's origin, so that its own listener can pass over it: the process
// woke its workers in memory already, and each echo cost a fetch.
func (d *dialect) AnnounceJobs(ctx context.Context, db *sql.DB) error {
	_, err := db.ExecContext(ctx, `SELECT pg_notify('`+jobsChannel+`', $1)`, d.origin)
	return err
}

// Listen holds one connection of db in LISTEN on the jobs channel and
// calls notify for every notification until ctx ends, reconnecting after
// errors. notify is also called after each (re)connect, since
// announcements may have been missed meanwhile.
func (d *dialect) Listen(ctx context.Context, db *sql.DB, notify func()) error {
	channel := jobsChannel
	delay := 100 * time.Millisecond
	for ctx.Err() == nil {
		err := listenOnce(ctx, db, channel, d.origin, notify)
		if ctx.Err() != nil {
			return nil
		}
		_ = err // the loop reconnects; the caller's polling covers the gap
		select {
		case <-ctx.Done():
		case <-time.After(delay):
		}
		delay = min(2*delay, 5*time.Second)
	}
	return nil
}

// listenOnce listens on one connection until it fails, calling notify
// for every notification but those whose payload is origin (this store's
// own).
func listenOnce(ctx context.Context, db *sql.DB, channel, origin string, notify func()) error {
	conn, err := db.Conn(ctx)
	if err != nil {
		return err
	}
	defer conn.Close()
	return conn.Raw(func(dc any) error {
		sc, ok := dc.(*stdlib.Conn)
		if !ok {
			return fmt.Errorf("postgres: listen: unexpected driver connection %T", dc)
		}
		pc := sc.Conn()
		if _, err := pc.Exec(ctx, `LISTEN `+channel); err != nil {
			return driver.ErrBadConn
		}
		notify()
		for {
			n, err := pc.WaitForNotification(ctx)
			if err != nil {
				// The connection is still listening (or broken): never
				// hand it back to the pool.
				return driver.ErrBadConn
			}
			if n.Payload != origin {
				notify()
			}
		}
	})
}
