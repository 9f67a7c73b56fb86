// Package steward holds Steward's domain: tenants, users, API keys, sessions,
// stories, actions, jobs and templates, and the service interfaces the
// storage and HTTP packages implement and consume.
//
// The root package imports only the standard library. Each dependency lives
// in its own subpackage (sqlstore, sqlite, postgres, httpapi, mail, queue),
// and cmd/steward wires them together.
package steward

import "time"

// Clock tells the time. Services take one so tests can move time forward
// (lockouts, invitation expiry, retry schedules) without sleeping.
type Clock interface {
	Now() time.Time
}

// SystemClock is the wall clock, in UTC.
type SystemClock struct{}

// Now returns the current UTC time.
func (SystemClock) Now() time.Time { return time.Now().UTC() }

// PageRequest is a 1-based page of a list.
type PageRequest struct {
	Page    int
	PerPage int
}

// Offset returns how many rows precede the page.
func (p PageRequest) Offset() int { return (p.Page - 1) * p.PerPage }
