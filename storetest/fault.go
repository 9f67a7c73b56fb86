package storetest

import (
	"context"
	"testing"

	"github.com/steward-dev/steward/sqlstore"
)

// FailInserts makes every insert into table fail with a database error
// until the returned function is called (or the test ends), so that tests
// can break the last step of a use case and check nothing of it remains.
// It uses a trigger, the same way on both databases.
func FailInserts(t testing.TB, db *sqlstore.DB, table string) (restore func()) {
	t.Helper()
	ctx := context.Background()
	name := "steward_test_fail_" + table
	create := []string{`CREATE TRIGGER ` + name + ` BEFORE INSERT ON ` + table + ` BEGIN SELECT RAISE(ABORT, 'injected failure'); END`}
	drop := `DROP TRIGGER IF EXISTS ` + name
	if db.Dialect.Name() == "postgres" {
		create = []string{
			`CREATE OR REPLACE FUNCTION steward_test_fail() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN RAISE EXCEPTION 'injected failure'; END $$`,
			`CREATE TRIGGER ` + name + ` BEFORE INSERT ON ` + table + ` FOR EACH ROW EXECUTE FUNCTION steward_test_fail()`,
		}
		drop = `DROP TRIGGER IF EXISTS ` + name + ` ON ` + table
	}
	for _, q := range create {
		if _, err := db.Write.ExecContext(ctx, q); err != nil {
			t.Fatalf("make inserts into %s fail: %v", table, err)
		}
	}
	done := false
	restore = func() {
		if done {
			return
		}
		done = true
		if _, err := db.Write.ExecContext(context.Background(), drop); err != nil {
			t.Errorf("restore inserts into %s: %v", table, err)
		}
	}
	t.Cleanup(restore)
	return restore
}
