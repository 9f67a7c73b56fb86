// Package metrics keeps Steward's counters and histograms in memory and
// writes them in the Prometheus text exposition format. It is small on
// purpose: Steward exports a handful of series, which does not justify the
// Prometheus client library and its dependencies.
package metrics

import (
	"fmt"
	"io"
	"math"
	"sort"
	"strconv"
	"strings"
	"sync"
)

// Registry holds named metric families.
type Registry struct {
	mu       sync.Mutex
	families map[string]*family
}

// NewRegistry returns an empty registry.
func NewRegistry() *Registry { return &Registry{families: map[string]*family{}} }

type family struct {
	name, help, kind string
	buckets          []float64
	series           map[string]*series // label text → series
}

type series struct {
	labels string
	value  float64
	counts []uint64 // histogram bucket counts (not cumulative)
	sum    float64
	count  uint64
}

// DurationBuckets are histogram bounds in seconds, from 1 ms to 60 s.
var DurationBuckets = []float64{0.001, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60}

func (r *Registry) get(name, help, kind string, buckets []float64, labels []string) *series {
	f := r.families[name]
	if f == nil {
		f = &family{name: name, help: help, kind: kind, buckets: buckets, series: map[string]*series{}}
		r.families[name] = f
	}
	key := labelText(labels)
	s := f.series[key]
	if s == nil {
		s = &series{labels: key, counts: make([]uint64, len(buckets))}
		f.series[key] = s
	}
	return s
}

// labelText renders name/value pairs as {a="b",c="d"}.
func labelText(kv []string) string {
	if len(kv) == 0 {
		return ""
	}
	var b strings.Builder
	b.WriteByte('{')
	for i := 0; i+1 < len(kv); i += 2 {
		if i > 0 {
			b.WriteByte(',')
		}
		b.WriteString(kv[i])
		b.WriteString(`="`)
		labelEscaper.WriteString(&b, kv[i+1])
		b.WriteByte('"')
	}
	b.WriteByte('}')
	return b.String()
}

// labelEscaper escapes label values as the text format requires. It is
// built once: this runs on every observation, such as every HTTP request.
var labelEscaper = strings.NewReplacer(`\`, `\\`, `"`, `\"`, "\n", `\n`)

// Add adds d to a counter; labels are name/value pairs.
func (r *Registry) Add(name, help string, d float64, labels ...string) {
	r.mu.Lock()
	r.get(name, help, "counter", nil, labels).value += d
	r.mu.Unlock()
}

// Set sets a gauge.
func (r *Registry) Set(name, help string, v float64, labels ...string) {
	r.mu.Lock()
	r.get(name, help, "gauge", nil, labels).value = v
	r.mu.Unlock()
}

// Observe records v (seconds) in a histogram with DurationBuckets.
func (r *Registry) Observe(name, help string, v float64, labels ...string) {
	r.mu.Lock()
	s := r.get(name, help, "histogram", DurationBuckets, labels)
	for i, b := range DurationBuckets {
		if v <= b {
			s.counts[i]++
			break
		}
	}
	s.sum += v
	s.count++
	r.mu.Unlock()
}

// WriteText writes every family in the Prometheus text format, sorted by name.
func (r *Registry) WriteText(w io.Writer) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	names := make([]string, 0, len(r.families))
	for n := range r.families {
		names = append(names, n)
	}
	sort.Strings(names)
	var b strings.Builder
	for _, n := range names {
		f := r.families[n]
		fmt.Fprintf(&b, "# HELP %s %s\n# TYPE %s %s\n", f.name, f.help, f.name, f.kind)
		keys := make([]string, 0, len(f.series))
		for k := range f.series {
			keys = append(keys, k)
		}
		sort.Strings(keys)
		for _, k := range keys {
			s := f.series[k]
			if f.kind != "histogram" {
				fmt.Fprintf(&b, "%s%s %s\n", f.name, s.labels, num(s.value))
				continue
			}
			var cum uint64
			for i, bound := range f.buckets {
				cum += s.counts[i]
				fmt.Fprintf(&b, "%s_bucket%s %d\n", f.name, withLabel(s.labels, "le", num(bound)), cum)
			}
			fmt.Fprintf(&b, "%s_bucket%s %d\n", f.name, withLabel(s.labels, "le", "+Inf"), s.count)
			fmt.Fprintf(&b, "%s_sum%s %s\n%s_count%s %d\n", f.name, s.labels, num(s.sum), f.name, s.labels, s.count)
		}
	}
	_, err := io.WriteString(w, b.String())
	return err
}

func withLabel(labels, k, v string) string {
	if labels == "" {
		return "{" + k + `="` + v + `"}`
	}
	return labels[:len(labels)-1] + "," + k + `="` + v + `"}`
}

func num(v float64) string {
	if math.IsInf(v, 1) {
		return "+Inf"
	}
	return strconv.FormatFloat(v, 'g', -1, 64)
}
