// Package metrics keeps Steward's counters, gauges and histograms in a
// Prometheus registry (github.com/prometheus/client_golang) and writes them
// in the Prometheus text exposition format. Besides Steward's own series,
// every registry carries the Go runtime, process and build-info collectors.
// Families are created on first use by name, so callers stay as short as
// r.Add("steward_x_total", "help", 1, "label", "value").
package metrics

import (
	"io"
	"sync"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/common/expfmt"
)

// Registry holds named metric families.
type Registry struct {
	reg *prometheus.Registry

	mu       sync.Mutex
	families map[string]*family
}

type family struct {
	labels    []string
	counter   *prometheus.CounterVec
	gauge     *prometheus.GaugeVec
	histogram *prometheus.HistogramVec
}

// NewRegistry returns a registry with the Go runtime, process and build
// information collectors.
func NewRegistry() *Registry {
	reg := prometheus.NewRegistry()
	reg.MustRegister(
		collectors.NewGoCollector(),
		collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}),
		collectors.NewBuildInfoCollector(),
	)
	return &Registry{reg: reg, families: map[string]*family{}}
}

// DurationBuckets are histogram bounds in seconds, from 1 ms to 60 s.
var DurationBuckets = []float64{0.001, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60}

// Register adds a collector (such as one reading the database at scrape
// time).
func (r *Registry) Register(c prometheus.Collector) error { return r.reg.Register(c) }

// family returns the named family, creating it with kv's label names. A
// later call with other label names is ignored (nil), as a programming
// error that must not break the server.
func (r *Registry) family(name, help, kind string, kv []string) (*family, []string) {
	names, values := make([]string, 0, len(kv)/2), make([]string, 0, len(kv)/2)
	for i := 0; i+1 < len(kv); i += 2 {
		names, values = append(names, kv[i]), append(values, kv[i+1])
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	f := r.families[name]
	if f == nil {
		f = &family{labels: names}
		var c prometheus.Collector
		switch kind {
		case "counter":
			f.counter = prometheus.NewCounterVec(prometheus.CounterOpts{Name: name, Help: help}, names)
			c = f.counter
		case "gauge":
			f.gauge = prometheus.NewGaugeVec(prometheus.GaugeOpts{Name: name, Help: help}, names)
			c = f.gauge
		default:
			f.histogram = prometheus.NewHistogramVec(prometheus.HistogramOpts{Name: name, Help: help, Buckets: DurationBuckets}, names)
			c = f.histogram
		}
		if err := r.reg.Register(c); err != nil {
			return nil, nil
		}
		r.families[name] = f
	}
	if !sameLabels(f.labels, names) {
		return nil, nil
	}
	return f, values
}

func sameLabels(a, b []string) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}

// Add adds d to a counter; labels are name/value pairs.
func (r *Registry) Add(name, help string, d float64, labels ...string) {
	if f, v := r.family(name, help, "counter", labels); f != nil && f.counter != nil {
		f.counter.WithLabelValues(v...).Add(d)
	}
}

// Set sets a gauge.
func (r *Registry) Set(name, help string, v float64, labels ...string) {
	if f, vals := r.family(name, help, "gauge", labels); f != nil && f.gauge != nil {
		f.gauge.WithLabelValues(vals...).Set(v)
	}
}

// Observe records v (seconds) in a histogram with DurationBuckets.
func (r *Registry) Observe(name, help string, v float64, labels ...string) {
	if f, vals := r.family(name, help, "histogram", labels); f != nil && f.histogram != nil {
		f.histogram.WithLabelValues(vals...).Observe(v)
	}
}

// ContentType is the media type WriteText writes.
const ContentType = "text/plain; version=0.0.4; charset=utf-8"

// WriteText writes every family in the Prometheus text format, sorted by
// name. A collector that fails leaves out its own series only.
func (r *Registry) WriteText(w io.Writer) error {
	mfs, gatherErr := r.reg.Gather()
	enc := expfmt.NewEncoder(w, expfmt.NewFormat(expfmt.TypeTextPlain))
	for _, mf := range mfs {
		if err := enc.Encode(mf); err != nil {
			return err
		}
	}
	return gatherErr
}
