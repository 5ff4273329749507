package origin

import (
	"bufio"
	"net"
	"net/http"
	"net/http/httptest"
	"sync"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/shoal-cdn/shoal/conf"
	"github.com/valyala/fasthttp"
)

// fakeClock is an injected clock that moves only when told.
type fakeClock struct {
	mu sync.Mutex
	t  time.Time
}

func newFakeClock() *fakeClock { return &fakeClock{t: time.Unix(1_700_000_000, 0)} }

func (c *fakeClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *fakeClock) Advance(d time.Duration) {
	c.mu.Lock()
	c.t = c.t.Add(d)
	c.mu.Unlock()
}

func weight(w int) *int { return &w }

// poolConf builds a pool of servers with the given URLs, all of weight 1, every key at its
// default (as a file that names only the servers).
func poolConf(balance string, urls ...string) *conf.Pool {
	def := conf.DefaultPool()
	cfg := &def
	cfg.Name, cfg.Balance = "test", balance
	for _, u := range urls {
		cfg.Servers = append(cfg.Servers, conf.Server{URL: u})
	}
	return cfg
}

// fakeURLs are servers that pick-level tests never dial.
func fakeURLs(n int) []string {
	urls := make([]string, n)
	for i := range urls {
		urls[i] = "http://192.0.2." + string(rune('1'+i)) + ":80"
	}
	return urls
}

func newTestPool(t *testing.T, cfg *conf.Pool, clock *fakeClock) (*Pool, *prometheus.Registry) {
	t.Helper()
	reg := prometheus.NewRegistry()
	opts := Options{Registerer: reg}
	if clock != nil {
		opts.Now = clock.Now
	}
	p, err := NewPool(cfg, opts)
	if err != nil {
		t.Fatalf("NewPool: %v", err)
	}
	t.Cleanup(p.Close)
	return p, reg
}

// pickIndex acquires and immediately releases a slot, returning the chosen server's position.
func pickIndex(t *testing.T, p *Pool, target Target) (int, bool) {
	t.Helper()
	s, assigned, err := p.acquire(&target, nil)
	if err != nil {
		t.Fatalf("acquire: %v", err)
	}
	p.release(s)
	return s.index, assigned
}

func setProbe(p *Pool, i int, up bool) {
	p.mu.Lock()
	p.servers[i].probeUp = up
	if up {
		p.servers[i].upSince = p.now()
	}
	p.mu.Unlock()
}

// closedPort returns a 127.0.0.1 address nothing listens on.
// listenLocal is a TCP listener on a free loopback port, closed when the test ends.
func listenLocal(t testing.TB) net.Listener {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { ln.Close() })
	return ln
}

// serveEach accepts connections on ln until it closes and runs serve on each, on a goroutine
// of its own, with a reader over it; the connection is closed when serve returns.
func serveEach(ln net.Listener, serve func(c net.Conn, br *bufio.Reader)) {
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			go func() {
				defer c.Close()
				serve(c, bufio.NewReader(c))
			}()
		}
	}()
}

func closedPort(t *testing.T) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close()
	return addr
}

// countingServer is an httptest origin that counts the connections it accepted.
type countingServer struct {
	*httptest.Server
	mu    sync.Mutex
	conns int
}

func newCountingServer(t *testing.T, h http.HandlerFunc) *countingServer {
	t.Helper()
	cs := &countingServer{}
	cs.Server = httptest.NewUnstartedServer(h)
	cs.Server.Config.ConnState = func(_ net.Conn, state http.ConnState) {
		if state == http.StateNew {
			cs.mu.Lock()
			cs.conns++
			cs.mu.Unlock()
		}
	}
	cs.Start()
	t.Cleanup(cs.Close)
	return cs
}

func (cs *countingServer) connections() int {
	cs.mu.Lock()
	defer cs.mu.Unlock()
	return cs.conns
}

// counterValue reads one series of a counter or gauge from reg, 0 when absent.
func counterValue(t *testing.T, reg *prometheus.Registry, name string, labels map[string]string) float64 {
	t.Helper()
	families, err := reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	for _, f := range families {
		if f.GetName() != name {
			continue
		}
	next:
		for _, m := range f.GetMetric() {
			for _, lp := range m.GetLabel() {
				if v, ok := labels[lp.GetName()]; ok && v != lp.GetValue() {
					continue next
				}
			}
			if m.GetCounter() != nil {
				return m.GetCounter().GetValue()
			}
			return m.GetGauge().GetValue()
		}
	}
	return 0
}

// beforeRelease runs f on a goroutine of its own and closes release once f returned or 2 s
// passed, whichever comes first: early reports that f returned before release was closed,
// so that a server holding part of its answer until release did not hold f.
func beforeRelease[T any](release chan struct{}, f func() T) (r T, early bool) {
	returned := make(chan T, 1)
	go func() { returned <- f() }()
	select {
	case r = <-returned:
		close(release)
		return r, true
	case <-time.After(2 * time.Second):
		close(release)
		return <-returned, false
	}
}

// doResult is what Pool.Do handed back for one request.
type doResult struct {
	res  Result
	resp *fasthttp.Response
	done func()
	err  error
}

// doURL sends an idempotent GET of url through p; the caller reads the body, calls done
// when err is nil, and releases resp.
func doURL(p *Pool, url string) doResult {
	req, resp := fasthttp.AcquireRequest(), fasthttp.AcquireResponse()
	defer fasthttp.ReleaseRequest(req)
	req.SetRequestURI(url)
	res, done, err := p.Do(req, resp, Target{Idempotent: true})
	return doResult{res, resp, done, err}
}
