package postgres_test

import (
	"context"
	"crypto/rand"
	"database/sql"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"net/url"
	"os"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/steward-dev/steward"
	"github.com/steward-dev/steward/postgres"
	"github.com/steward-dev/steward/sqlstore"
	"github.com/steward-dev/steward/storetest"
)

// TestConformance runs the store conformance suite on PostgreSQL, each
// test in a schema of its own.
func TestConformance(t *testing.T) {
	storetest.Exercise(t, func(t *testing.T) *sqlstore.DB { return storetest.OpenPostgres(t) })
}

// withApplicationName returns the URL with an application_name unique to
// the test, so that the test can find (and terminate) its own sessions.
func withApplicationName(t *testing.T, raw string) (string, string) {
	t.Helper()
	b := make([]byte, 4)
	rand.Read(b)
	name := "steward_test_" + hex.EncodeToString(b)
	u, err := url.Parse(raw)
	if err != nil {
		t.Fatal(err)
	}
	q := u.Query()
	q.Set("application_name", name)
	u.RawQuery = q.Encode()
	return u.String(), name
}

// admin opens a separate connection to the test server.
func admin(t *testing.T) *sql.DB {
	t.Helper()
	a, err := sql.Open("pgx", os.Getenv(storetest.PostgresEnv))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { a.Close() })
	return a
}

// terminate ends every session named name and waits until they are gone.
func terminate(t *testing.T, a *sql.DB, name string) int {
	t.Helper()
	var n int
	if err := a.QueryRow(`SELECT COUNT(pg_terminate_backend(pid)) FROM pg_stat_activity
		WHERE datname = current_database() AND pid <> pg_backend_pid() AND application_name = $1`, name).Scan(&n); err != nil {
		t.Fatal(err)
	}
	for deadline := time.Now().Add(10 * time.Second); time.Now().Before(deadline); time.Sleep(10 * time.Millisecond) {
		var left int
		if err := a.QueryRow(`SELECT COUNT(*) FROM pg_stat_activity WHERE application_name = $1`, name).Scan(&left); err != nil {
			t.Fatal(err)
		}
		if left == 0 {
			return n
		}
	}
	t.Fatalf("sessions of %s survived pg_terminate_backend", name)
	return n
}

// TestConcurrentMigrations starts several migrations of one empty schema
// at once, as servers starting together do: all succeed.
func TestConcurrentMigrations(t *testing.T) {
	t.Parallel()
	u := storetest.PostgresURL(t)
	const servers = 4
	var wg sync.WaitGroup
	errs := make([]error, servers)
	for i := range servers {
		wg.Go(func() {
			db, err := postgres.Open(context.Background(), u)
			if err != nil {
				errs[i] = err
				return
			}
			defer db.Close()
			errs[i] = db.Migrate(context.Background(), nil)
		})
	}
	wg.Wait()
	for i, err := range errs {
		if err != nil {
			t.Errorf("server %d: %v", i, err)
		}
	}
	db := storetest.OpenPostgres(t) // a fresh schema, to count its migrations
	var want, got int
	if err := db.Read.QueryRow(`SELECT COUNT(*) FROM schema_migrations`).Scan(&want); err != nil {
		t.Fatal(err)
	}
	a := admin(t)
	schema, _ := url.Parse(u)
	if err := a.QueryRow(fmt.Sprintf(`SELECT COUNT(*) FROM %s.schema_migrations`, schema.Query().Get("search_path"))).Scan(&got); err != nil {
		t.Fatal(err)
	}
	if got != want || got == 0 {
		t.Errorf("%d migrations recorded, want %d", got, want)
	}
}

// openNamed opens and migrates a fresh schema whose sessions carry an
// application_name of their own.
func openNamed(t *testing.T) (*sqlstore.DB, string) {
	t.Helper()
	u, name := withApplicationName(t, storetest.PostgresURL(t))
	db, err := postgres.Open(context.Background(), u)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	if err := db.Migrate(context.Background(), nil); err != nil {
		t.Fatal(err)
	}
	return db, name
}

// TestTransactionRetriedAfterTerminatedSession ends a transaction's
// session in the middle of it: InTx runs it once more on a live
// connection and it commits once.
func TestTransactionRetriedAfterTerminatedSession(t *testing.T) {
	t.Parallel()
	db, _ := openNamed(t)
	ctx := context.Background()
	var attempts atomic.Int64
	err := db.InTx(ctx, func(tx *sql.Tx) error {
		if _, err := tx.ExecContext(ctx, `INSERT INTO tenants (name, created_at, updated_at) VALUES ('t', 0, 0)`); err != nil {
			return err
		}
		if attempts.Add(1) == 1 {
			_, err := tx.ExecContext(ctx, `SELECT pg_terminate_backend(pg_backend_pid())`)
			if err == nil {
				t.Fatal("a terminated session went on")
			}
			return err
		}
		return nil
	})
	if err != nil || attempts.Load() != 2 {
		t.Fatalf("InTx: %v after %d attempts; want success on the second", err, attempts.Load())
	}
	n, err := db.CountTenants(ctx)
	if err != nil || n != 1 {
		t.Errorf("%d tenants (%v), want exactly 1", n, err)
	}
}

// TestReadsAndWritesSurviveTerminatedPool terminates every pooled session
// of the store between requests: the next reads and writes succeed.
func TestReadsAndWritesSurviveTerminatedPool(t *testing.T) {
	t.Parallel()
	db, name := openNamed(t)
	ctx := context.Background()
	a := admin(t)
	tn := &steward.Tenant{Name: "faults"}
	if err := db.CreateTenant(ctx, tn); err != nil {
		t.Fatal(err)
	}
	for round := range 5 {
		// Fill the pool with idle connections, then end them all.
		var wg sync.WaitGroup
		for range 8 {
			wg.Go(func() { db.Read.QueryRow(`SELECT pg_sleep(0.01)`).Scan(new(string)) })
		}
		wg.Wait()
		if n := terminate(t, a, name); n == 0 {
			t.Fatal("no session to terminate")
		}
		if _, _, err := db.FindStories(ctx, tn.ID, steward.PageRequest{Page: 1, PerPage: 10}); err != nil {
			t.Errorf("round %d: read after termination: %v", round, err)
		}
		terminate(t, a, name)
		if err := db.CreateStory(ctx, &steward.Story{TenantID: tn.ID, Name: fmt.Sprint("s", round)}); err != nil {
			t.Errorf("round %d: write after termination: %v", round, err)
		}
		terminate(t, a, name)
		if err := db.EnqueueJobs(ctx, []steward.NewJob{{TenantID: tn.ID, ActionID: 1}}); err != nil {
			t.Errorf("round %d: enqueue after termination: %v", round, err)
		}
	}
	st, err := db.JobStats(ctx, tn.ID, 0)
	if err != nil || st.Queued != 5 {
		t.Errorf("job stats %+v (%v), want 5 queued", st, err)
	}
}

// TestStoreReadsSurviveTerminatedPool terminates every pooled session of
// the store before each of the store's plain reads and single-statement
// writes outside a transaction: each one succeeds on a fresh connection.
func TestStoreReadsSurviveTerminatedPool(t *testing.T) {
	t.Parallel()
	db, name := openNamed(t)
	ctx := context.Background()
	a := admin(t)
	tn := &steward.Tenant{Name: "faults"}
	if err := db.CreateTenant(ctx, tn); err != nil {
		t.Fatal(err)
	}
	u := &steward.User{TenantID: tn.ID, Email: "ann@example.com", FirstName: "Ann", IsActive: true}
	if err := db.CreateUser(ctx, u); err != nil {
		t.Fatal(err)
	}
	org := &steward.Organisation{OwnerName: "Acme"}
	if err := db.CreateOrganisation(ctx, org); err != nil {
		t.Fatal(err)
	}
	if err := db.EnqueueMail(ctx, &steward.MailMessage{TenantID: tn.ID, To: "ann@example.com", Subject: "s", Body: "b"}); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name string
		call func() error
	}{
		{"find users by email", func() error {
			us, err := db.FindUsersByEmail(ctx, "ann@example.com")
			if err == nil && len(us) != 1 {
				err = fmt.Errorf("%d users", len(us))
			}
			return err
		}},
		{"list users", func() error {
			_, n, err := db.FindTykUsers(ctx, steward.UserScope{TenantID: tn.ID}, steward.PageRequest{Page: 1, PerPage: 10})
			if err == nil && n != 1 {
				err = fmt.Errorf("%d users", n)
			}
			return err
		}},
		{"find user", func() error {
			_, err := db.FindTykUser(ctx, steward.UserScope{TenantID: tn.ID}, u.ID)
			return err
		}},
		{"find organisation", func() error { _, err := db.FindOrganisationByID(ctx, org.ID); return err }},
		{"list organisations", func() error {
			_, _, err := db.FindOrganisations(ctx, steward.PageRequest{Page: 1, PerPage: 10})
			return err
		}},
		{"find tenant", func() error { _, err := db.FindTenantByID(ctx, tn.ID); return err }},
		{"count tenants", func() error { _, err := db.CountTenants(ctx); return err }},
		{"outbox backlog", func() error {
			n, _, err := db.OutboxBacklog(ctx)
			if err == nil && n != 1 {
				err = fmt.Errorf("%d pending", n)
			}
			return err
		}},
		{"outbox pending", func() error {
			ms, err := db.FindDueMail(ctx, time.Now().Add(time.Hour), 10)
			if err == nil && len(ms) != 1 {
				err = fmt.Errorf("%d due", len(ms))
			}
			return err
		}},
		{"egress rules", func() error {
			_, _, err := db.FindEgressRules(ctx, tn.ID, steward.PageRequest{Page: 1, PerPage: 10})
			return err
		}},
		{"ip access rules", func() error {
			_, _, err := db.FindIPAccessRules(ctx, steward.IPAccessRuleFilter{TenantID: tn.ID, PageRequest: steward.PageRequest{Page: 1, PerPage: 10}})
			return err
		}},
		{"audit records", func() error {
			_, _, err := db.FindAuditLogs(ctx, steward.AuditLogFilter{TenantID: tn.ID, PageRequest: steward.PageRequest{Page: 1, PerPage: 10}})
			return err
		}},
		{"prune audit records", func() error { _, err := db.PruneAuditLogs(ctx, time.Unix(0, 0), 10); return err }},
	}
	for _, tt := range tests {
		// Fill both pools with idle connections, then end them all.
		var wg sync.WaitGroup
		for range 8 {
			wg.Go(func() { db.Read.QueryRow(`SELECT pg_sleep(0.01)`).Scan(new(string)) })
			wg.Go(func() { db.Write.QueryRow(`SELECT pg_sleep(0.01)`).Scan(new(string)) })
		}
		wg.Wait()
		if n := terminate(t, a, name); n == 0 {
			t.Fatal("no session to terminate")
		}
		if err := tt.call(); err != nil {
			t.Errorf("%s after termination: %v", tt.name, err)
		}
	}
}

// TestEventPoolPlansOnce checks that the event pool's sessions, new ones
// after a terminated pool included, plan prepared statements once
// (force_generic_plan), that the write and read pools keep PostgreSQL's
// choice, and that events are written through the event pool.
func TestEventPoolPlansOnce(t *testing.T) {
	t.Parallel()
	db, name := openNamed(t)
	a := admin(t)
	mode := func(pool *sql.DB) string {
		t.Helper()
		var m string
		var err error
		// The first use of a terminated session fails; the pool then
		// opens a new one.
		for range 3 {
			if err = pool.QueryRow(`SELECT current_setting('plan_cache_mode')`).Scan(&m); err == nil {
				return m
			}
		}
		t.Fatal(err)
		return ""
	}
	if db.Events == nil {
		t.Fatal("no event pool")
	}
	for round := range 2 {
		if m := mode(db.Events); m != "force_generic_plan" {
			t.Errorf("round %d: event pool plan_cache_mode = %q, want force_generic_plan", round, m)
		}
		for _, p := range []*sql.DB{db.Write, db.Read} {
			if m := mode(p); m != "auto" {
				t.Errorf("round %d: write or read pool plan_cache_mode = %q, want auto", round, m)
			}
		}
		terminate(t, a, name)
	}
	// An emit goes through the event pool: it opens a connection there.
	ctx := context.Background()
	tn := &steward.Tenant{Name: "events"}
	if err := db.CreateTenant(ctx, tn); err != nil {
		t.Fatal(err)
	}
	st := &steward.Story{TenantID: tn.ID, Name: "s"}
	if err := db.CreateStory(ctx, st); err != nil {
		t.Fatal(err)
	}
	act := &steward.Action{TenantID: tn.ID, StoryID: st.ID, Type: "webhook", Name: "in"}
	if err := db.CreateAction(ctx, act); err != nil {
		t.Fatal(err)
	}
	// With the write pool closed, only the event pool can write it.
	db.Write.Close()
	evs, err := db.EmitEvents(ctx, act, []json.RawMessage{json.RawMessage(`{"a":1}`)})
	if err != nil {
		t.Fatalf("emit with the write pool closed: %v", err)
	}
	var payload string
	if err := db.Read.QueryRow(`SELECT payload FROM events WHERE id = $1`, evs[0].ID).Scan(&payload); err != nil || payload != `{"a":1}` {
		t.Errorf("event %d: payload %q (%v)", evs[0].ID, payload, err)
	}
}

// TestAnnouncementsSkipTheirOrigin checks that a store's job announcement
// wakes another store's listener and not its own (the store woke its own
// workers in memory already). Both stores use a database of their own,
// since notifications reach every session of a database and other tests
// announce jobs meanwhile.
func TestAnnouncementsSkipTheirOrigin(t *testing.T) {
	t.Parallel()
	storetest.PostgresURL(t) // skips without a test server (fails in CI)
	a := admin(t)
	b := make([]byte, 6)
	rand.Read(b)
	name := "steward_notify_" + hex.EncodeToString(b)
	if _, err := a.Exec(`CREATE DATABASE ` + name); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { a.Exec(`DROP DATABASE IF EXISTS ` + name + ` WITH (FORCE)`) })
	u, err := url.Parse(os.Getenv(storetest.PostgresEnv))
	if err != nil {
		t.Fatal(err)
	}
	u.Path = "/" + name
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	open := func() *sqlstore.DB {
		db, err := postgres.Open(ctx, u.String())
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { db.Close() })
		ready := db.JobsAvailable()
		go db.WatchJobs(ctx)
		select { // the listener wakes the store once it listens
		case <-ready:
		case <-time.After(10 * time.Second):
			t.Fatal("the listener did not start")
		}
		return db
	}
	one, two := open(), open()
	for _, c := range []struct {
		name     string
		from, to *sqlstore.DB
	}{{"one to two", one, two}, {"two to one", two, one}} {
		self, other := c.from.JobsAvailable(), c.to.JobsAvailable()
		if err := c.from.Dialect.AnnounceJobs(ctx, c.from.Write); err != nil {
			t.Fatal(err)
		}
		select {
		case <-other:
		case <-time.After(10 * time.Second):
			t.Fatalf("%s: the other store's listener did not wake", c.name)
		}
		// The announcing store's own listener had the notification by
		// now or a moment later: give it that moment.
		time.Sleep(200 * time.Millisecond)
		select {
		case <-self:
			t.Errorf("%s: the announcing store's own listener woke it", c.name)
		default:
		}
	}
}
