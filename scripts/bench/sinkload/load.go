package main

import (
	"errors"
	"net"
	"os"
	"sync"
	"sync/atomic"
	"time"
)

type loadConfig struct {
	addr     string
	requests [][]byte // walked in turn by each connection, connection i from request i
	size     int64    // expected body bytes per response
	conns    int
	duration time.Duration
	timeout  time.Duration
}

// result is what the connections measured, merged.
type result struct {
	responses int64
	bodyBytes int64
	latencies []time.Duration // one per response, unsorted
	errs      map[string]int64
	elapsed   time.Duration
}

func (r *result) errors() int64 {
	var n int64
	for _, v := range r.errs {
		n += v
	}
	return n
}

// load runs cfg.conns closed loops for cfg.duration. At the end every connection's deadline
// is moved to now: a response still in flight is abandoned uncounted (wrk does the same),
// not an error, and so is one that ends after the run's end, so responses over
// cfg.duration is the rate.
func load(cfg loadConfig) result {
	var (
		stopping atomic.Bool
		wg       sync.WaitGroup
		mu       sync.Mutex
		live     = map[*net.TCPConn]struct{}{}
		parts    = make([]result, cfg.conns)
	)
	// track registers a connection so the stop can cut it; after the stop it is refused.
	track := func(c *net.TCPConn, add bool) bool {
		mu.Lock()
		defer mu.Unlock()
		if !add {
			delete(live, c)
			return true
		}
		if stopping.Load() {
			return false
		}
		live[c] = struct{}{}
		return true
	}
	end := time.Now().Add(cfg.duration)
	for i := range parts {
		wg.Add(1)
		go func(r *result) {
			defer wg.Done()
			loop(cfg, r, i, end, &stopping, track)
		}(&parts[i])
	}
	time.Sleep(time.Until(end))
	mu.Lock()
	stopping.Store(true)
	for c := range live {
		c.SetDeadline(time.Now())
	}
	mu.Unlock()
	wg.Wait()

	total := result{errs: map[string]int64{}, elapsed: cfg.duration}
	for _, p := range parts {
		total.responses += p.responses
		total.bodyBytes += p.bodyBytes
		total.latencies = append(total.latencies, p.latencies...)
		for k, v := range p.errs {
			total.errs[k] += v
		}
	}
	return total
}

// loop is one connection's closed loop: dial, then request, response, request... A
// connection the server closes (Connection: close, or a close between responses) is dialled
// again; an error is counted by kind and the connection dialled again. next is the index of
// its first request in cfg.requests; each response, or error, moves it on by one.
func loop(cfg loadConfig, r *result, next int, end time.Time, stopping *atomic.Bool, track func(*net.TCPConn, bool) bool) {
	r.errs = map[string]int64{}
	var c *client
	defer func() {
		if c != nil {
			track(c.tcp, false)
			c.tcp.Close()
		}
	}()
	for !stopping.Load() {
		if c == nil {
			nc, err := net.DialTimeout("tcp", cfg.addr, cfg.timeout)
			if err != nil {
				if stopping.Load() {
					return
				}
				r.errs["connect: "+err.Error()]++
				// A refused dial returns at once: do not spin on it.
				time.Sleep(10 * time.Millisecond)
				continue
			}
			tcp := nc.(*net.TCPConn)
			if !track(tcp, true) {
				tcp.Close()
				return
			}
			c = newClient(tcp)
		}
		t0 := time.Now()
		c.tcp.SetDeadline(t0.Add(cfg.timeout))
		resp, err := c.roundTrip(cfg.requests[next%len(cfg.requests)])
		next++
		if err != nil {
			if stopping.Load() && errors.Is(err, os.ErrDeadlineExceeded) {
				return // cut by the stop: abandoned, not an error
			}
			r.errs[errKind(err)]++
			track(c.tcp, false)
			c.tcp.Close()
			c = nil
			continue
		}
		done := time.Now()
		if done.After(end) {
			return // ended after the run: not counted, like one cut by the stop
		}
		r.responses++
		r.bodyBytes += resp.body
		r.latencies = append(r.latencies, done.Sub(t0))
		if resp.status < 200 || resp.status > 299 {
			r.errs["status not 2xx"]++
		} else if resp.body != cfg.size {
			r.errs["body length not -size"]++
		}
		if resp.close {
			track(c.tcp, false)
			c.tcp.Close()
			c = nil
		}
	}
}
