// Package storetest opens real databases for tests: a fresh SQLite file on
// every run, and a fresh PostgreSQL schema whenever STEWARD_TEST_POSTGRES_URL
// is set. Exercise is the conformance suite every store must pass; the
// sqlite and postgres packages' own tests run it.
package storetest

import (
	"context"
	"crypto/rand"
	"database/sql"
	"encoding/hex"
	"net/url"
	"os"
	"path/filepath"
	"testing"

	"github.com/steward-dev/steward/postgres"
	"github.com/steward-dev/steward/sqlite"
	"github.com/steward-dev/steward/sqlstore"

	_ "github.com/jackc/pgx/v5/stdlib" // database/sql driver for schema setup
)

// PostgresEnv names the variable holding the test server's URL.
const PostgresEnv = "STEWARD_TEST_POSTGRES_URL"

// Each runs fn as a subtest against every available database, each freshly
// migrated: "sqlite" always, "postgres" when STEWARD_TEST_POSTGRES_URL is set.
func Each(t *testing.T, fn func(t *testing.T, db *sqlstore.DB)) {
	t.Helper()
	t.Run("sqlite", func(t *testing.T) {
		fn(t, OpenSQLite(t))
	})
	t.Run("postgres", func(t *testing.T) {
		fn(t, OpenPostgres(t))
	})
}

// SQLitePath returns a new database file path in the test's temp dir.
func SQLitePath(t testing.TB) string {
	return filepath.Join(t.TempDir(), "steward.db")
}

// OpenSQLite opens and migrates a new SQLite database, closed at cleanup.
func OpenSQLite(t testing.TB) *sqlstore.DB {
	t.Helper()
	db, err := sqlite.Open(SQLitePath(t))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	if err := db.Migrate(context.Background(), nil); err != nil {
		t.Fatal(err)
	}
	return db
}

// PostgresURL returns the URL of a new, empty schema on the test server,
// dropped at cleanup. It skips the test when no server is configured,
// unless CI is set, where a missing server is a failure.
func PostgresURL(t testing.TB) string {
	t.Helper()
	base := os.Getenv(PostgresEnv)
	if base == "" {
		if os.Getenv("CI") != "" {
			t.Fatalf("%s must be set in CI", PostgresEnv)
		}
		t.Skipf("%s not set", PostgresEnv)
	}
	b := make([]byte, 6)
	rand.Read(b)
	schema := "steward_test_" + hex.EncodeToString(b)
	admin, err := sql.Open("pgx", base)
	if err != nil {
		t.Fatal(err)
	}
	defer admin.Close()
	if _, err := admin.Exec(`CREATE SCHEMA ` + schema); err != nil {
		t.Fatalf("create schema: %v", err)
	}
	t.Cleanup(func() {
		admin, err := sql.Open("pgx", base)
		if err != nil {
			return
		}
		defer admin.Close()
		admin.Exec(`DROP SCHEMA ` + schema + ` CASCADE`)
	})
	u, err := url.Parse(base)
	if err != nil {
		t.Fatalf("%s: %v", PostgresEnv, err)
	}
	q := u.Query()
	q.Set("search_path", schema)
	u.RawQuery = q.Encode()
	return u.String()
}

// OpenPostgres opens and migrates a new PostgreSQL schema, dropped at cleanup.
func OpenPostgres(t testing.TB) *sqlstore.DB {
	t.Helper()
	db, err := postgres.Open(context.Background(), PostgresURL(t))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	if err := db.Migrate(context.Background(), nil); err != nil {
		t.Fatal(err)
	}
	return db
}
