package storetest

import (
	"context"
	"testing"
	"time"

	"github.com/steward-dev/steward"
	"github.com/steward-dev/steward/sqlstore"
)

// BenchmarkAuditLogList lists pages of a tenant's audit log among a
// million records (half of them the tenant's), unfiltered and filtered by
// user and operation:
//
//	go test ./storetest -run '^$' -bench AuditLogList -benchtime 200x
func BenchmarkAuditLogList(b *testing.B) {
	for _, open := range []struct {
		name string
		fn   func(testing.TB) *sqlstore.DB
	}{{"sqlite", OpenSQLite}, {"postgres", OpenPostgres}} {
		b.Run(open.name, func(b *testing.B) {
			db := open.fn(b)
			ctx := context.Background()
			tn := &steward.Tenant{Name: "big"}
			if err := db.CreateTenant(ctx, tn); err != nil {
				b.Fatal(err)
			}
			const rows = 1_000_000
			start := sqlstore.Micros(tn.CreatedAt) // one record a millisecond from the tenant's creation on
			// Even ids belong to the tenant, odd ones to another; 20 users, 10 operations.
			_, err := db.Write.ExecContext(ctx, db.Q(`WITH RECURSIVE n(i) AS (SELECT CAST(1 AS BIGINT) UNION ALL SELECT i + 1 FROM n WHERE i < ?)
				INSERT INTO audit_logs (tenant_id, user_id, user_email, operation_name, inputs, outputs, created_at, updated_at)
				SELECT CASE WHEN i % 2 = 0 THEN CAST(? AS BIGINT) ELSE CAST(? AS BIGINT) END, i % 20, 'u@example.com',
					'Op' || (i % 10), '{"name":"x"}', '{}', CAST(? AS BIGINT) + i * 1000, CAST(? AS BIGINT) + i * 1000 FROM n`), rows, tn.ID, tn.ID+1000, start, start)
			if err != nil {
				b.Fatal(err)
			}
			db.Write.ExecContext(ctx, `ANALYZE audit_logs`) // planner statistics, as autovacuum would gather them
			for _, c := range []struct {
				name string
				f    steward.AuditLogFilter
			}{
				{"first page", steward.AuditLogFilter{}},
				{"page 100", steward.AuditLogFilter{PageRequest: steward.PageRequest{Page: 100, PerPage: 20}}},
				{"user and operation", steward.AuditLogFilter{UserIDs: []int64{4}, OperationNames: []string{"Op4"}}},
				{"last 10 seconds", steward.AuditLogFilter{After: ptr(tn.CreatedAt.Add((rows - 10_000) * time.Millisecond))}},
			} {
				b.Run(c.name, func(b *testing.B) {
					c.f.TenantID = tn.ID
					if c.f.PerPage == 0 {
						c.f.PageRequest = steward.PageRequest{Page: 1, PerPage: 20}
					}
					for b.Loop() {
						if _, _, err := db.FindAuditLogs(ctx, c.f); err != nil {
							b.Fatal(err)
						}
					}
				})
			}
		})
	}
}
