package main

import (
	"context"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/steward-dev/steward/sqlstore"
)

// dbCollector reports, at scrape time, the mail outbox backlog and the
// database connection pools.
type dbCollector struct {
	db *sqlstore.DB

	outboxPending, outboxOldest, conns *prometheus.Desc
}

func newDBCollector(db *sqlstore.DB) *dbCollector {
	return &dbCollector{
		db: db,
		outboxPending: prometheus.NewDesc("steward_outbox_pending",
			"Mail messages waiting to be sent.", nil, nil),
		outboxOldest: prometheus.NewDesc("steward_outbox_oldest_age_seconds",
			"Age of the oldest message waiting to be sent (0 when none waits).", nil, nil),
		conns: prometheus.NewDesc("steward_db_connections",
			"Database connections, by pool (write, read; events on PostgreSQL) and state (in_use, idle).", []string{"pool", "state"}, nil),
	}
}

// Describe implements prometheus.Collector.
func (c *dbCollector) Describe(ch chan<- *prometheus.Desc) {
	ch <- c.outboxPending
	ch <- c.outboxOldest
	ch <- c.conns
}

// Collect implements prometheus.Collector.
func (c *dbCollector) Collect(ch chan<- prometheus.Metric) {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if n, oldest, err := c.db.OutboxBacklog(ctx); err != nil {
		ch <- prometheus.NewInvalidMetric(c.outboxPending, err)
	} else {
		age := 0.0
		if !oldest.IsZero() {
			age = max(0, c.db.Clock.Now().Sub(oldest).Seconds())
		}
		ch <- prometheus.MustNewConstMetric(c.outboxPending, prometheus.GaugeValue, float64(n))
		ch <- prometheus.MustNewConstMetric(c.outboxOldest, prometheus.GaugeValue, age)
	}
	for _, p := range c.db.Pools() {
		st := p.DB.Stats()
		ch <- prometheus.MustNewConstMetric(c.conns, prometheus.GaugeValue, float64(st.InUse), p.Name, "in_use")
		ch <- prometheus.MustNewConstMetric(c.conns, prometheus.GaugeValue, float64(st.Idle), p.Name, "idle")
	}
}
