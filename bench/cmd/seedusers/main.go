// Command seedusers bulk-inserts users into one tenant of a migrated
// Steward database, for the users API load benchmark. It writes straight
// through SQL in large multi-row INSERTs inside one transaction, because
// seeding is set-up, not what is measured.
//
//	seedusers --db PATH-or-URL --tenant 1 --n 100000
//
// It prints {"tenant_id":1,"min_id":1,"max_id":100001,"count":100001}: the
// id range of the tenant's users, for the load generator's random ids.
package main

import (
	"context"
	"database/sql"
	"encoding/json"
	"flag"
	"fmt"
	"os"
	"strings"
	"time"

	"github.com/steward-dev/steward/postgres"
	"github.com/steward-dev/steward/sqlite"
	"github.com/steward-dev/steward/sqlstore"
)

// rowsPerInsert keeps each statement under SQLite's 32,766 bound-parameter
// limit (8 parameters per row) and PostgreSQL's 65,535.
const rowsPerInsert = 1000

func main() {
	dbURL := flag.String("db", "", "SQLite file path or postgres:// URL of a migrated Steward database")
	tenant := flag.Int64("tenant", 1, "tenant to add the users to")
	n := flag.Int("n", 100_000, "number of users to insert")
	flag.Parse()
	if err := run(context.Background(), *dbURL, *tenant, *n); err != nil {
		fmt.Fprintln(os.Stderr, "seedusers:", err)
		os.Exit(1)
	}
}

func open(ctx context.Context, url string) (*sqlstore.DB, error) {
	if strings.HasPrefix(url, "postgres://") || strings.HasPrefix(url, "postgresql://") {
		return postgres.Open(ctx, url)
	}
	return sqlite.Open(url)
}

// seedResult is what seedusers prints.
type seedResult struct {
	TenantID int64 `json:"tenant_id"`
	MinID    int64 `json:"min_id"`
	MaxID    int64 `json:"max_id"`
	Count    int64 `json:"count"`
}

func run(ctx context.Context, url string, tenantID int64, n int) error {
	if url == "" {
		return fmt.Errorf("--db is required")
	}
	db, err := open(ctx, url)
	if err != nil {
		return err
	}
	defer db.Close()
	now := sqlstore.Micros(time.Now())
	err = db.InTx(ctx, func(tx *sql.Tx) error {
		for done := 0; done < n; {
			batch := min(rowsPerInsert, n-done)
			if err := insertBatch(ctx, db, tx, tenantID, done, batch, now); err != nil {
				return err
			}
			done += batch
		}
		return nil
	})
	if err != nil {
		return fmt.Errorf("insert users: %w", err)
	}
	// PostgreSQL's autovacuum would analyze the table soon after such a
	// load; do it now so the plans are the steady state's. Steward never
	// runs ANALYZE on SQLite, so a deployed SQLite database has no
	// statistics tables, and neither does this one (with sqlite_stat4
	// present, SQLite re-prepares statements whose bound values could
	// change the plan, which would change what is measured).
	if isPostgres(db) {
		if _, err := db.Write.ExecContext(ctx, `ANALYZE users`); err != nil {
			return fmt.Errorf("analyze: %w", err)
		}
	} else if _, err := db.Write.ExecContext(ctx, `PRAGMA wal_checkpoint(TRUNCATE)`); err != nil {
		return fmt.Errorf("checkpoint: %w", err)
	}
	var res seedResult
	res.TenantID = tenantID
	err = db.Read.QueryRowContext(ctx, db.Q(`SELECT MIN(id), MAX(id), COUNT(*) FROM users WHERE tenant_id = ?`), tenantID).
		Scan(&res.MinID, &res.MaxID, &res.Count)
	if err != nil {
		return fmt.Errorf("count users: %w", err)
	}
	return json.NewEncoder(os.Stdout).Encode(res)
}

// insertBatch inserts users number from+1 … from+count as one statement.
// Every fifth user is an admin and every tenth is inactive, so the rows
// look like a real tenant's rather than all alike.
func insertBatch(ctx context.Context, db *sqlstore.DB, tx *sql.Tx, tenantID int64, from, count int, now int64) error {
	var q strings.Builder
	q.WriteString(`INSERT INTO users (tenant_id, email, first_name, last_name, admin, is_active, password_hash, created_at, updated_at) VALUES `)
	args := make([]any, 0, count*8)
	for i := range count {
		if i > 0 {
			q.WriteString(", ")
		}
		q.WriteString("(?, ?, ?, ?, ?, ?, '', ?, ?)")
		k := from + i + 1
		args = append(args, tenantID, fmt.Sprintf("user%06d@bench.example", k),
			fmt.Sprintf("First%06d", k), fmt.Sprintf("Last%06d", k), k%5 == 0, k%10 != 0, now+int64(k), now+int64(k))
	}
	if _, err := tx.ExecContext(ctx, db.Q(q.String()), args...); err != nil {
		return fmt.Errorf("users %d-%d: %w", from+1, from+count, err)
	}
	return nil
}

// isPostgres reports whether db is PostgreSQL, whose seed uses its own SQL.
func isPostgres(db *sqlstore.DB) bool { return db.Dialect.Name() == "postgres" }
