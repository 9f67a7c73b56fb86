package sqlite_test

import (
	"testing"

	"github.com/steward-dev/steward/sqlstore"
	"github.com/steward-dev/steward/storetest"
)

// TestConformance runs the store conformance suite on SQLite, each test
// on a database file of its own.
func TestConformance(t *testing.T) {
	storetest.Exercise(t, func(t *testing.T) *sqlstore.DB { return storetest.OpenSQLite(t) })
}
