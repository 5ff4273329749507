//go:build linux

package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/shoal-cdn/shoal/internal/testenv"
)

// pollLimit bounds a poller even if the test forgets to stop it.
const pollLimit = 3 * time.Minute

// poller is the lab's client: one GET to a VIP every pollEvery, each on a new connection from
// the client namespace, so every poll goes through the client's neighbour table to whoever
// holds the address now.
type poller struct {
	vip     string
	mu      sync.Mutex
	results []pollResult
}

type pollResult struct {
	start, end time.Time
	err        error
	// slow: the connection to the VIP was made and its answer did not come within
	// pollTimeout. The network handed the poll to a node; the node was slow (a race-built
	// process on a loaded machine), which is no failure of the handover.
	slow bool
}

func (l *vipLab) startPoller(v string) *poller {
	p := &poller{vip: v}
	addr, _, _ := strings.Cut(v, "/")
	url := "http://" + addr + ":8080/obj"
	stop := make(chan struct{})
	done := make(chan struct{})
	l.t.Cleanup(func() { close(stop); <-done })
	go func() {
		defer close(done)
		tick := time.NewTicker(pollEvery)
		defer tick.Stop()
		limit := time.After(pollLimit)
		for {
			select {
			case <-stop:
				return
			case <-limit:
				return
			case <-tick.C:
			}
			r := pollResult{start: time.Now()}
			code, body, connected, err := nsGetConnected(l.client, url, pollTimeout)
			if err == nil && (code != 200 || body != "body of /obj") {
				err = fmt.Errorf("status %d, body %q", code, body)
			}
			var ne net.Error
			r.end, r.err, r.slow = time.Now(), err, connected && errors.As(err, &ne) && ne.Timeout()
			p.mu.Lock()
			p.results = append(p.results, r)
			p.mu.Unlock()
		}
	}()
	return p
}

// waitGood waits for the first poll sent at or after since that succeeded and returns when
// its response arrived.
func (p *poller) waitGood(t *testing.T, since time.Time) time.Time {
	t.Helper()
	deadline := time.Now().Add(converge)
	for time.Now().Before(deadline) {
		p.mu.Lock()
		for _, r := range p.results {
			if r.err == nil && !r.start.Before(since) {
				p.mu.Unlock()
				return r.end
			}
		}
		p.mu.Unlock()
		time.Sleep(pollEvery)
	}
	t.Fatalf("no good response from %s within %v (%d failed polls)", p.vip, converge, p.failed(since, time.Now()))
	return time.Time{}
}

// failed counts the polls that failed with their answer (or timeout) in (from, to].
func (p *poller) failed(from, to time.Time) int {
	p.mu.Lock()
	defer p.mu.Unlock()
	n := 0
	for _, r := range p.results {
		if r.err != nil && r.end.After(from) && !r.end.After(to) {
			n++
		}
	}
	return n
}

// outage measures the client's outage around an event at from, looking at polls that ended
// by to: the failed polls, and when the first good response after the last failure arrived
// (the recovery; a poll answered just before the failure took effect does not count).
func (p *poller) outage(from, to time.Time) (recovered time.Time, failed int) {
	p.mu.Lock()
	defer p.mu.Unlock()
	lastFailure := from
	for _, r := range p.results {
		if r.err != nil && r.end.After(from) && !r.end.After(to) {
			failed++
			lastFailure = r.end
		}
	}
	for _, r := range p.results {
		if r.err == nil && !r.start.Before(lastFailure) && !r.end.After(to) {
			return r.end, failed
		}
	}
	return time.Time{}, failed
}

// nsGet is one GET on a new connection dialled from inside ns.
func nsGet(ns *testenv.Netns, url string, timeout time.Duration) (int, string, error) {
	code, body, _, err := nsGetConnected(ns, url, timeout)
	return code, body, err
}

// nsGetConnected is nsGet that also reports whether the connection was made.
func nsGetConnected(ns *testenv.Netns, url string, timeout time.Duration) (int, string, bool, error) {
	var connected atomic.Bool
	client := &http.Client{Timeout: timeout, Transport: &http.Transport{
		DisableKeepAlives: true,
		DialContext: func(_ context.Context, network, addr string) (net.Conn, error) {
			c, err := ns.Dial(network, addr, timeout)
			connected.Store(err == nil)
			return c, err
		},
	}}
	resp, err := client.Get(url)
	if err != nil {
		return 0, "", connected.Load(), err
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	return resp.StatusCode, string(body), true, err
}

// handoverFailures counts the polls that failed in (from, to] other than slow answers and
// how many answers were slow, and gives the first failure (nil when none).
func (p *poller) handoverFailures(from, to time.Time) (failed, slow int, first error) {
	p.mu.Lock()
	defer p.mu.Unlock()
	for _, r := range p.results {
		if r.err == nil || !r.end.After(from) || r.end.After(to) {
			continue
		}
		if r.slow {
			slow++
			continue
		}
		if failed++; first == nil {
			first = fmt.Errorf("poll sent %v after the event: %w", r.start.Sub(from).Round(time.Millisecond), r.err)
		}
	}
	return failed, slow, first
}

// vipOrigin serves cacheable objects, and a health path per node that can be turned down
// to make that node not ready.
type vipOrigin struct {
	mu   sync.Mutex
	down map[string]bool
}

func startVIPOrigin(t *testing.T, ns *testenv.Netns) *vipOrigin {
	o := &vipOrigin{down: map[string]bool{}}
	srv := &http.Server{Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if node, ok := strings.CutPrefix(r.URL.Path, "/health/"); ok {
			o.mu.Lock()
			down := o.down[node]
			o.mu.Unlock()
			if down {
				http.Error(w, "down for "+node, http.StatusServiceUnavailable)
				return
			}
		}
		w.Header().Set("Cache-Control", "max-age=600")
		fmt.Fprint(w, "body of "+r.URL.Path)
	})}
	ln := ns.Listen("tcp", originAddr)
	go srv.Serve(ln)
	t.Cleanup(func() { srv.Close() })
	return o
}

func (o *vipOrigin) setDown(node string, down bool) {
	o.mu.Lock()
	defer o.mu.Unlock()
	o.down[node] = down
}
