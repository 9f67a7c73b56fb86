package storetest

import (
	"context"
	"database/sql"
	"fmt"
	"io/fs"
	"slices"
	"strconv"
	"strings"
	"testing"
	"testing/fstest"

	"github.com/steward-dev/steward"
	"github.com/steward-dev/steward/sqlite"
	"github.com/steward-dev/steward/sqlstore"
)

// TestIDsAreNeverReused deletes the newest object of each kind and checks
// that the next one created gets a new id: a script or URL holding the old
// id must never reach a different object.
func TestIDsAreNeverReused(t *testing.T) {
	t.Parallel()
	Each(t, func(t *testing.T, db *sqlstore.DB) {
		ctx := context.Background()
		tn, admin := newTenant(t, db, "alpha")
		stories, _, err := db.FindStories(ctx, tn.ID, steward.PageRequest{Page: 1, PerPage: 1})
		if err != nil || len(stories) != 1 {
			t.Fatalf("default story: %v %v", stories, err)
		}
		kinds := []struct {
			name   string
			create func(i int) (int64, error)
			delete func(id int64) error
		}{
			{"user", func(i int) (int64, error) {
				u := &steward.User{TenantID: tn.ID, Email: fmt.Sprintf("u%d@example.com", i), IsActive: true}
				err := db.CreateUser(ctx, u)
				return u.ID, err
			}, func(id int64) error { return db.DeleteUser(ctx, tn.ID, id) }},
			{"organisation", func(i int) (int64, error) {
				o := &steward.Organisation{OwnerName: fmt.Sprintf("org %d", i)}
				err := db.CreateOrganisation(ctx, o)
				return o.ID, err
			}, func(id int64) error { return db.DeleteOrganisation(ctx, id) }},
			{"template", func(i int) (int64, error) {
				tm := newTemplate(tn.ID, admin.ID, fmt.Sprintf("template %d", i), `{"url":"https://x.example"}`)
				err := db.CreateTemplate(ctx, tm)
				return tm.ID, err
			}, func(id int64) error { return db.DeleteTemplate(ctx, tn.ID, id) }},
			{"story", func(i int) (int64, error) {
				s := &steward.Story{TenantID: tn.ID, Name: fmt.Sprintf("story %d", i)}
				err := db.CreateStory(ctx, s)
				return s.ID, err
			}, func(id int64) error { return db.DeleteStory(ctx, tn.ID, id) }},
			{"action", func(i int) (int64, error) {
				a := &steward.Action{TenantID: tn.ID, StoryID: stories[0].ID, Type: steward.ActionHTTPRequest,
					Name: fmt.Sprintf("action %d", i), Options: map[string]any{"url": "https://x.example"}}
				err := db.CreateAction(ctx, a)
				return a.ID, err
			}, func(id int64) error { return db.DeleteAction(ctx, tn.ID, id) }},
			{"API key", func(i int) (int64, error) {
				_, hash := steward.NewSecret(steward.APIKeyPrefix)
				k := &steward.APIKey{TenantID: tn.ID, UserID: admin.ID, Name: "k", Prefix: "stw_xxxxxx", Hash: hash}
				err := db.CreateAPIKey(ctx, k)
				return k.ID, err
			}, func(id int64) error {
				// Keys are revoked, not deleted, through the API; a deleted
				// key must not hand its id on either.
				_, err := db.Exec(ctx, `DELETE FROM api_keys WHERE id = ?`, id)
				return err
			}},
		}
		for _, k := range kinds {
			t.Run(k.name, func(t *testing.T) {
				first, err := k.create(1)
				if err != nil {
					t.Fatal(err)
				}
				if err := k.delete(first); err != nil {
					t.Fatalf("delete %d: %v", first, err)
				}
				next, err := k.create(2)
				if err != nil {
					t.Fatal(err)
				}
				if next <= first {
					t.Errorf("after deleting the newest %s (id %d) the next one got id %d; ids must never be reused", k.name, first, next)
				}
			})
		}
	})
}

// TestSchemaIDsNeverReused checks every table with an id column, including
// tables added later: on SQLite it must be AUTOINCREMENT (a plain INTEGER
// PRIMARY KEY reuses the largest id once its row is deleted), on
// PostgreSQL an identity or sequence default (sequences never go back).
func TestSchemaIDsNeverReused(t *testing.T) {
	t.Parallel()
	Each(t, func(t *testing.T, db *sqlstore.DB) {
		ctx := context.Background()
		if db.Dialect.Name() == "postgres" {
			rows, err := db.Read.QueryContext(ctx, `SELECT table_name, is_identity, COALESCE(column_default, '')
				FROM information_schema.columns WHERE table_schema = current_schema() AND column_name = 'id'`)
			if err != nil {
				t.Fatal(err)
			}
			defer rows.Close()
			n := 0
			for rows.Next() {
				var table, identity, def string
				if err := rows.Scan(&table, &identity, &def); err != nil {
					t.Fatal(err)
				}
				n++
				if identity != "YES" && !strings.HasPrefix(def, "nextval(") {
					t.Errorf("%s.id is neither an identity nor a sequence default (default %q)", table, def)
				}
			}
			if err := rows.Err(); err != nil || n < 9 {
				t.Fatalf("found %d tables with an id (%v)", n, err)
			}
			return
		}
		rows, err := db.Read.QueryContext(ctx, `SELECT m.name, m.sql FROM sqlite_master m
			WHERE m.type = 'table' AND EXISTS (SELECT 1 FROM pragma_table_info(m.name) c WHERE c.name = 'id' AND c.pk = 1)`)
		if err != nil {
			t.Fatal(err)
		}
		defer rows.Close()
		n := 0
		for rows.Next() {
			var table, ddl string
			if err := rows.Scan(&table, &ddl); err != nil {
				t.Fatal(err)
			}
			n++
			if !strings.Contains(strings.ToUpper(ddl), "AUTOINCREMENT") {
				t.Errorf("table %s: id is not AUTOINCREMENT, so SQLite reuses the id of a deleted newest row", table)
			}
		}
		if err := rows.Err(); err != nil || n < 9 {
			t.Fatalf("found %d tables with an id (%v)", n, err)
		}
	})
}

// upToMigration is a dialect that knows only the migrations up to and
// including version max, to build a database as an older Steward left it.
type upToMigration struct {
	sqlstore.Dialect
	max int
}

// InTxWithoutForeignKeys passes the wrapped dialect's capability on, so
// that migration 9 runs through the wrapper as it does without it.
func (d upToMigration) InTxWithoutForeignKeys(ctx context.Context, pool *sql.DB, fn func(tx *sql.Tx) error) error {
	m, ok := d.Dialect.(sqlstore.ForeignKeysOffMigrator)
	if !ok {
		return fmt.Errorf("the %s dialect cannot run a migration with foreign keys off", d.Name())
	}
	return m.InTxWithoutForeignKeys(ctx, pool, fn)
}

func (d upToMigration) Migrations() fs.FS {
	all := d.Dialect.Migrations()
	names, _ := fs.Glob(all, "*.sql")
	out := fstest.MapFS{}
	for _, name := range names {
		if v, _ := strconv.Atoi(strings.SplitN(name, "_", 2)[0]); v <= d.max {
			b, _ := fs.ReadFile(all, name)
			out[name] = &fstest.MapFile{Data: b}
		}
	}
	return out
}

// dumpTables returns every row of the tables as text, in id order.
func dumpTables(t *testing.T, db *sql.DB, tables []string) map[string][]string {
	t.Helper()
	out := map[string][]string{}
	for _, table := range tables {
		rows, err := db.Query(`SELECT * FROM ` + table + ` ORDER BY 1`)
		if err != nil {
			t.Fatal(err)
		}
		cols, _ := rows.Columns()
		for rows.Next() {
			vals := make([]any, len(cols))
			ptrs := make([]any, len(cols))
			for i := range vals {
				ptrs[i] = &vals[i]
			}
			if err := rows.Scan(ptrs...); err != nil {
				t.Fatal(err)
			}
			var b strings.Builder
			for i, c := range cols {
				fmt.Fprintf(&b, "%s=%v ", c, vals[i])
			}
			out[table] = append(out[table], b.String())
		}
		rows.Close()
	}
	return out
}

// schemaObjects returns the names of the indexes and triggers of the database.
func schemaObjects(t *testing.T, db *sql.DB) []string {
	t.Helper()
	rows, err := db.Query(`SELECT type || ' ' || name || ' on ' || tbl_name FROM sqlite_master
		WHERE type IN ('index', 'trigger') AND name NOT LIKE 'sqlite_autoindex_%' ORDER BY 1`)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	var out []string
	for rows.Next() {
		var s string
		if err := rows.Scan(&s); err != nil {
			t.Fatal(err)
		}
		out = append(out, s)
	}
	return out
}

// objectTable is the table of a schemaObjects entry ("index i on t" → "t").
func objectTable(object string) string {
	_, table, _ := strings.Cut(object, " on ")
	return table
}

// TestSQLiteStableIDsMigration builds a database as Steward left it before
// migration 9 and checks that the migration keeps every id, row, index,
// trigger and foreign key; that an action id the queue still names after
// the action's deletion never comes back; and that rows deleted after it
// never hand their ids on.
func TestSQLiteStableIDsMigration(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	path := SQLitePath(t)
	old, err := sqlite.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	old.Dialect = upToMigration{Dialect: old.Dialect, max: 8}
	if err := old.Migrate(ctx, nil); err != nil {
		t.Fatal(err)
	}
	tn, admin := newTenant(t, old, "alpha")
	gone, _ := newTenant(t, old, "gone")
	story := &steward.Story{TenantID: tn.ID, Name: "Flow"}
	if err := old.CreateStory(ctx, story); err != nil {
		t.Fatal(err)
	}
	tm := newTemplate(tn.ID, admin.ID, "Lookup", `{"url":"https://x.example"}`)
	if err := old.CreateTemplate(ctx, tm); err != nil {
		t.Fatal(err)
	}
	keep := &steward.Action{TenantID: tn.ID, StoryID: story.ID, Type: steward.ActionHTTPRequest, Name: "Keep",
		Options: map[string]any{"url": "https://x.example"}, TemplateID: tm.ID}
	dropped := &steward.Action{TenantID: tn.ID, StoryID: story.ID, Type: steward.ActionHTTPRequest, Name: "Dropped",
		Options: map[string]any{"url": "https://x.example"}}
	for _, a := range []*steward.Action{keep, dropped} {
		if err := old.CreateAction(ctx, a); err != nil {
			t.Fatal(err)
		}
	}
	// A job of the newest action stays queued after the action is deleted:
	// jobs have no foreign keys, so that id must not come back.
	if err := old.EnqueueJobs(ctx, []steward.NewJob{{TenantID: tn.ID, ActionID: dropped.ID}}); err != nil {
		t.Fatal(err)
	}
	if err := old.DeleteAction(ctx, tn.ID, dropped.ID); err != nil {
		t.Fatal(err)
	}
	bob := &steward.User{TenantID: tn.ID, Email: "bob@example.com", IsActive: true}
	if err := old.CreateUser(ctx, bob); err != nil {
		t.Fatal(err)
	}
	_, hash := steward.NewSecret(steward.APIKeyPrefix)
	key := &steward.APIKey{TenantID: tn.ID, UserID: bob.ID, Name: "k", Prefix: "stw_xxxxxx", Hash: hash}
	if err := old.CreateAPIKey(ctx, key); err != nil {
		t.Fatal(err)
	}
	if err := old.EnqueueMail(ctx, &steward.MailMessage{TenantID: tn.ID, To: "bob@example.com", Subject: "s", Body: "b"}); err != nil {
		t.Fatal(err)
	}
	// A deleted tenant's rows go with it (ON DELETE CASCADE).
	if _, err := old.Exec(ctx, `DELETE FROM tenants WHERE id = ?`, gone.ID); err != nil {
		t.Fatal(err)
	}
	tables := []string{"tenants", "users", "api_keys", "sessions", "login_activities", "mail_outbox", "stories",
		"templates", "actions", "action_links", "events", "jobs", "job_counts", "tenant_user_counts"}
	before := dumpTables(t, old.Write, tables)
	objectsBefore := schemaObjects(t, old.Write)
	old.Close()

	db, err := sqlite.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	// Only migration 9 here: later migrations may add columns and indexes.
	full := db.Dialect
	db.Dialect = upToMigration{Dialect: full, max: 9}
	if err := db.Migrate(ctx, nil); err != nil {
		t.Fatalf("migrate an existing database: %v", err)
	}
	after := dumpTables(t, db.Write, tables)
	for _, table := range tables {
		if strings.Join(before[table], "\n") != strings.Join(after[table], "\n") {
			t.Errorf("%s changed:\nbefore %q\nafter  %q", table, before[table], after[table])
		}
	}
	// Tables that later migrations add bring their own indexes: compare
	// only the objects on the tables that were there before.
	var objectsAfter []string
	for _, o := range schemaObjects(t, db.Write) {
		if slices.ContainsFunc(objectsBefore, func(b string) bool { return objectTable(b) == objectTable(o) }) {
			objectsAfter = append(objectsAfter, o)
		}
	}
	if got, want := strings.Join(objectsAfter, "\n"), strings.Join(objectsBefore, "\n"); got != want {
		t.Errorf("indexes and triggers changed:\nbefore\n%s\nafter\n%s", want, got)
	}
	db.Dialect = full
	if err := db.Migrate(ctx, nil); err != nil {
		t.Fatalf("the migrations after 9: %v", err)
	}

	var fk int
	if err := db.Write.QueryRowContext(ctx, `PRAGMA foreign_keys`).Scan(&fk); err != nil || fk != 1 {
		t.Fatalf("foreign keys after the migration: %d (%v), want on", fk, err)
	}
	if err := db.CreateUser(ctx, &steward.User{TenantID: 999, Email: "x@example.com"}); err == nil {
		t.Error("a user in a deleted tenant was accepted: foreign keys are not enforced")
	}

	// Rows deleted from now on never hand their ids on.
	newTn := &steward.Tenant{Name: "new"}
	if err := db.CreateTenant(ctx, newTn); err != nil {
		t.Fatal(err)
	}
	if err := db.DeleteOrganisation(ctx, newTn.ID); err != nil {
		t.Fatal(err)
	}
	next := &steward.Tenant{Name: "next"}
	if err := db.CreateTenant(ctx, next); err != nil {
		t.Fatal(err)
	}
	if next.ID <= newTn.ID {
		t.Errorf("new tenant id %d reuses the deleted tenant's %d", next.ID, newTn.ID)
	}
	dave := &steward.User{TenantID: tn.ID, Email: "dave@example.com", IsActive: true}
	if err := db.CreateUser(ctx, dave); err != nil {
		t.Fatal(err)
	}
	if err := db.DeleteUser(ctx, tn.ID, dave.ID); err != nil {
		t.Fatal(err)
	}
	u := &steward.User{TenantID: tn.ID, Email: "carol@example.com", IsActive: true}
	if err := db.CreateUser(ctx, u); err != nil {
		t.Fatal(err)
	}
	if u.ID <= dave.ID {
		t.Errorf("new user id %d reuses the deleted user's %d", u.ID, dave.ID)
	}
	a := &steward.Action{TenantID: tn.ID, StoryID: story.ID, Type: steward.ActionHTTPRequest, Name: "New",
		Options: map[string]any{"url": "https://x.example"}}
	if err := db.CreateAction(ctx, a); err != nil {
		t.Fatal(err)
	}
	if a.ID <= dropped.ID {
		t.Errorf("new action id %d reuses the deleted action's %d, which a queued job still names", a.ID, dropped.ID)
	}
	// The user count trigger survived the rebuild.
	_, total, err := db.FindUsers(ctx, steward.UserFilter{TenantID: tn.ID, PageRequest: steward.PageRequest{Page: 1, PerPage: 10}})
	if err != nil || total != 3 {
		t.Errorf("users of the tenant: %d (%v), want 3 (admin, bob, carol)", total, err)
	}
	// Cascades still work: deleting the tenant removes its users.
	if err := db.DeleteOrganisation(ctx, tn.ID); err != nil {
		t.Fatal(err)
	}
	var left int
	if err := db.Read.QueryRowContext(ctx, `SELECT COUNT(*) FROM users WHERE tenant_id = ?`, tn.ID).Scan(&left); err != nil || left != 0 {
		t.Errorf("users left after deleting their tenant: %d (%v)", left, err)
	}
}

// TestSQLiteForeignKeysOffMigration checks the runner support for table
// rebuilds: a migration that leaves a broken foreign key is rolled back,
// and enforcement is on again afterwards, whether it failed or not.
func TestSQLiteForeignKeysOffMigration(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	db := OpenSQLite(t)
	off, ok := db.Dialect.(sqlstore.ForeignKeysOffMigrator)
	if !ok {
		t.Fatal("the SQLite dialect cannot run migrations with foreign keys off")
	}
	tn, _ := newTenant(t, db, "alpha")
	err := off.InTxWithoutForeignKeys(ctx, db.Write, func(tx *sql.Tx) error {
		_, err := tx.ExecContext(ctx, `INSERT INTO stories (tenant_id, guid, name, created_at, updated_at) VALUES (999, 'g', 'orphan', 0, 0)`)
		return err
	})
	if err == nil || !strings.Contains(err.Error(), "foreign key check failed") {
		t.Fatalf("a migration leaving an orphan: %v, want the foreign key check to fail it", err)
	}
	if n := count(t, db, `SELECT COUNT(*) FROM stories WHERE tenant_id = 999`); n != 0 {
		t.Errorf("the failed migration was committed")
	}
	// Rows that still point somewhere survive a drop and rebuild of their
	// parent table, where enforcement would have cascaded the drop.
	err = off.InTxWithoutForeignKeys(ctx, db.Write, func(tx *sql.Tx) error {
		for _, q := range []string{
			`CREATE TABLE tenants_copy AS SELECT * FROM tenants`,
			`DELETE FROM tenants`,
			`INSERT INTO tenants SELECT * FROM tenants_copy`,
			`DROP TABLE tenants_copy`,
		} {
			if _, err := tx.ExecContext(ctx, q); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if n := count(t, db, `SELECT COUNT(*) FROM users WHERE tenant_id = ?`, tn.ID); n != 1 {
		t.Errorf("%d users left after the parent rows were rewritten with enforcement off, want 1", n)
	}
	var fk int
	if err := db.Write.QueryRowContext(ctx, `PRAGMA foreign_keys`).Scan(&fk); err != nil || fk != 1 {
		t.Fatalf("foreign keys afterwards: %d (%v), want on", fk, err)
	}
}
