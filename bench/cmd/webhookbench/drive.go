package main

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"sync"
	"sync/atomic"
	"time"
)

// poster sends events, one per POST, to a webhook URL over keep-alive
// loopback connections.
type poster struct {
	client *http.Client
	url    string
	phase  string
}

func newClient() *http.Client {
	tr := http.DefaultTransport.(*http.Transport).Clone()
	tr.MaxIdleConns, tr.MaxIdleConnsPerHost = 1024, 1024
	return &http.Client{Transport: tr, Timeout: 60 * time.Second}
}

// post sends one event whose body carries its start time and reports
// whether the webhook accepted it.
func (p *poster) post(ctx context.Context) error {
	t := time.Now().UnixNano()
	body := []byte(`{"phase":"` + p.phase + `","t":"` + strconv.FormatInt(t, 10) + `","note":"an event as a webhook might carry it"}`)
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, p.url, bytes.NewReader(body))
	if err != nil {
		return err
	}
	req.Header.Set("Content-Type", "application/json")
	resp, err := p.client.Do(req)
	if err != nil {
		return err
	}
	io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	if resp.StatusCode != http.StatusCreated && resp.StatusCode != http.StatusOK {
		return fmt.Errorf("webhook answered %d", resp.StatusCode)
	}
	return nil
}

// phaseResult is one target's figures for one phase.
type phaseResult struct {
	target, phase string
	rate          int // asked rate, 0 for saturation
	accepted      int
	failed        int
	firstErr      error
	postTime      time.Duration // how long posting went on
	deliverTime   time.Duration // first POST to last arrival at the sink
	latencies     []time.Duration
	undelivered   int
	postP99       time.Duration // p99 of the POST round trip (the webhook's answer)
}

func (r phaseResult) acceptedRate() float64 { return float64(r.accepted) / r.postTime.Seconds() }
func (r phaseResult) deliveredRate() float64 {
	if r.deliverTime <= 0 {
		return 0
	}
	return float64(len(r.latencies)) / r.deliverTime.Seconds()
}

func percentile(d []time.Duration, p float64) time.Duration {
	if len(d) == 0 {
		return 0
	}
	i := int(float64(len(d))*p/100+0.5) - 1
	return d[min(max(i, 0), len(d)-1)]
}

// atRate posts rate events/s for d, open loop: each POST in its own
// goroutine (at most 1,024 at once) so a slow answer does not lower the
// offered rate. It returns accepted and failed counts and POST times.
func atRate(ctx context.Context, p *poster, rate int, d time.Duration) (st postStats) {
	tick := time.NewTicker(time.Second / time.Duration(rate))
	defer tick.Stop()
	sem := make(chan struct{}, 1024)
	var wg sync.WaitGroup
	var mu sync.Mutex
	for end := time.Now().Add(d); time.Now().Before(end); {
		select {
		case <-ctx.Done():
			wg.Wait()
			st.first = ctx.Err()
			return st
		case <-tick.C:
		}
		sem <- struct{}{}
		wg.Go(func() {
			defer func() { <-sem }()
			start := time.Now()
			err := p.post(ctx)
			el := time.Since(start)
			mu.Lock()
			defer mu.Unlock()
			if err != nil {
				st.failed++
				if st.first == nil {
					st.first = err
				}
				return
			}
			st.accepted++
			st.posts = append(st.posts, el)
		})
	}
	wg.Wait()
	return st
}

// closedLoop keeps conc POSTs in flight for d (each poster sends its next
// event when the previous is answered): the saturation rate.
func closedLoop(ctx context.Context, p *poster, conc int, d time.Duration) (st postStats) {
	var ok, bad atomic.Int64
	var mu sync.Mutex
	var wg sync.WaitGroup
	end := time.Now().Add(d)
	for range conc {
		wg.Go(func() {
			var mine []time.Duration
			for time.Now().Before(end) && ctx.Err() == nil {
				start := time.Now()
				if err := p.post(ctx); err != nil {
					bad.Add(1)
					mu.Lock()
					if st.first == nil {
						st.first = err
					}
					mu.Unlock()
					continue
				}
				ok.Add(1)
				mine = append(mine, time.Since(start))
			}
			mu.Lock()
			st.posts = append(st.posts, mine...)
			mu.Unlock()
		})
	}
	wg.Wait()
	st.accepted, st.failed = int(ok.Load()), int(bad.Load())
	return st
}

// postStats is what a run of POSTs did: how many were accepted and
// failed, the first failure, and each accepted POST's round trip.
type postStats struct {
	accepted, failed int
	first            error
	posts            []time.Duration
}
