package main

import (
	"fmt"
	"net"
	"net/http"
	"os"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"
)

// sink is the HTTP server every event ends at: the HTTP Request action
// (Steward) or the job's worker (River) calls GET /sink/{phase}/{t}, where
// t is the Unix nanosecond time the event's POST began. The sink records,
// per phase, the ingest-to-run latency of each event and when it arrived.
type sink struct {
	srv *http.Server
	url string

	mu     sync.Mutex
	phase  string
	lat    []time.Duration
	last   time.Time
	stray  int // arrivals of another phase (a previous phase's stragglers)
	arrive chan struct{}

	slow  time.Duration // print events slower than this (0: none)
	began time.Time     // the current phase's start
}

func newSink(slow time.Duration) (*sink, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, err
	}
	s := &sink{url: "http://" + ln.Addr().String(), arrive: make(chan struct{}, 1), slow: slow}
	s.srv = &http.Server{Handler: http.HandlerFunc(s.serve), ReadHeaderTimeout: 10 * time.Second}
	go s.srv.Serve(ln)
	return s, nil
}

func (s *sink) serve(w http.ResponseWriter, r *http.Request) {
	now := time.Now()
	parts := strings.Split(strings.TrimPrefix(r.URL.Path, "/sink/"), "/")
	if len(parts) != 2 {
		http.Error(w, "want /sink/{phase}/{t}", http.StatusBadRequest)
		return
	}
	t, err := strconv.ParseInt(parts[1], 10, 64)
	if err != nil {
		http.Error(w, "bad t", http.StatusBadRequest)
		return
	}
	s.mu.Lock()
	if parts[0] == s.phase {
		lat := now.Sub(time.Unix(0, t))
		s.lat = append(s.lat, lat)
		s.last = now
		if s.slow > 0 && lat > s.slow {
			fmt.Fprintf(os.Stderr, "slow: %s posted at +%.3fs took %.1f ms\n", s.phase, time.Unix(0, t).Sub(s.began).Seconds(), float64(lat)/1e6)
		}
	} else {
		s.stray++
	}
	s.mu.Unlock()
	select {
	case s.arrive <- struct{}{}:
	default:
	}
	w.Header().Set("Content-Type", "application/json")
	w.Write([]byte(`{"ok":true}`))
}

// start begins a new phase and forgets the previous one's figures.
func (s *sink) start(phase string) {
	s.mu.Lock()
	s.phase, s.lat, s.last, s.stray, s.began = phase, nil, time.Time{}, 0, time.Now()
	s.mu.Unlock()
}

// wait returns once n events of the current phase arrived, or after
// timeout, with the sorted latencies and the last arrival time.
func (s *sink) wait(n int, timeout time.Duration) ([]time.Duration, time.Time, error) {
	end := time.Now().Add(timeout)
	for {
		s.mu.Lock()
		got := len(s.lat)
		s.mu.Unlock()
		if got >= n {
			break
		}
		if time.Now().After(end) {
			s.mu.Lock()
			defer s.mu.Unlock()
			lat := slices.Clone(s.lat)
			slices.Sort(lat)
			return lat, s.last, fmt.Errorf("%d of %d events reached the sink within %v", got, n, timeout)
		}
		select {
		case <-s.arrive:
		case <-time.After(20 * time.Millisecond):
		}
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	lat := slices.Clone(s.lat)
	slices.Sort(lat)
	return lat, s.last, nil
}

func (s *sink) close() { s.srv.Close() }
