package edge

import (
	"context"
	"fmt"
	"net"
	"net/http"
	"net/netip"
	"strconv"
	"sync"
	"testing"
	"time"
)

var limiterEpoch = time.Date(2030, 1, 1, 0, 0, 0, 0, time.UTC)

// limiterStep is one request to the limiter: at an offset from limiterEpoch, from client, and
// what it must get.
type limiterStep struct {
	at     time.Duration
	client string
	ok     bool
	wait   time.Duration // checked when !ok
}

func TestRateLimiter_tokenBucket(t *testing.T) {
	cases := []struct {
		name  string
		rate  float64
		burst int
		steps []limiterStep
	}{
		{"burst then refuse", 1, 2, []limiterStep{
			{0, "192.0.2.1", true, 0}, {0, "192.0.2.1", true, 0}, {0, "192.0.2.1", true, 0},
			{0, "192.0.2.1", false, time.Second},
		}},
		{"no burst allows one at a time", 2, 0, []limiterStep{
			{0, "192.0.2.1", true, 0}, {100 * time.Millisecond, "192.0.2.1", false, 400 * time.Millisecond},
			{500 * time.Millisecond, "192.0.2.1", true, 0}, {500 * time.Millisecond, "192.0.2.1", false, 500 * time.Millisecond},
		}},
		{"refill is proportional to elapsed time", 10, 0, []limiterStep{
			{0, "192.0.2.1", true, 0}, {50 * time.Millisecond, "192.0.2.1", false, 50 * time.Millisecond},
			{100 * time.Millisecond, "192.0.2.1", true, 0},
		}},
		{"clients have their own buckets", 1, 0, []limiterStep{
			{0, "192.0.2.1", true, 0}, {0, "192.0.2.1", false, time.Second},
			{0, "192.0.2.2", true, 0}, {0, "2001:db8::1", true, 0}, {0, "2001:db8::1", false, time.Second},
		}},
		{"a long idle time refills only up to 1+burst", 1, 1, []limiterStep{
			{0, "192.0.2.1", true, 0}, {0, "192.0.2.1", true, 0},
			{time.Hour, "192.0.2.1", true, 0}, {time.Hour, "192.0.2.1", true, 0},
			{time.Hour, "192.0.2.1", false, time.Second},
		}},
		{"a clock stepping back mints no tokens", 1, 0, []limiterStep{
			{10 * time.Second, "192.0.2.1", true, 0}, {0, "192.0.2.1", false, time.Second},
			{10 * time.Second, "192.0.2.1", false, time.Second}, {11 * time.Second, "192.0.2.1", true, 0},
		}},
		{"a fractional rate waits long", 0.5, 0, []limiterStep{
			{0, "192.0.2.1", true, 0}, {time.Second, "192.0.2.1", false, time.Second},
		}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			l := newRateLimiter(c.rate, c.burst)
			for i, s := range c.steps {
				ok, wait := l.allow(netip.MustParseAddr(s.client), limiterEpoch.Add(s.at))
				if ok != s.ok {
					t.Fatalf("limiterStep %d (%+v): allowed=%v", i, s, ok)
				}
				if !ok && wait != s.wait {
					t.Errorf("limiterStep %d: wait %v, want %v", i, wait, s.wait)
				}
				if ok && wait != 0 {
					t.Errorf("limiterStep %d: allowed with wait %v", i, wait)
				}
			}
		})
	}
}

func TestRateLimiter_sweepsIdleBuckets(t *testing.T) {
	l := newRateLimiter(1, 1) // refills in 2s; sweeps at most once a second
	for i := range 100 {
		l.allow(netip.AddrFrom4([4]byte{192, 0, 2, byte(i)}), limiterEpoch)
	}
	if l.size() != 100 {
		t.Fatalf("size %d, want 100", l.size())
	}
	l.allow(netip.MustParseAddr("198.51.100.1"), limiterEpoch.Add(time.Second))
	if l.size() != 101 {
		t.Fatalf("buckets not yet full were swept: size %d", l.size())
	}
	l.allow(netip.MustParseAddr("198.51.100.2"), limiterEpoch.Add(2*time.Second))
	if got := l.size(); got != 2 {
		t.Errorf("after the refill time only the two recent clients should remain, have %d", got)
	}
}

// When the table is full, clients without a bucket share one: a flood from many addresses
// cannot grow memory or escape the limit.
func TestRateLimiter_fullTableSharesOverflowBucket(t *testing.T) {
	l := newRateLimiter(1, 0)
	l.max = 2
	addr := func(i int) netip.Addr { return netip.AddrFrom4([4]byte{192, 0, 2, byte(i)}) }
	for i := range 2 {
		if ok, _ := l.allow(addr(i), limiterEpoch); !ok {
			t.Fatalf("client %d refused", i)
		}
	}
	if ok, _ := l.allow(addr(10), limiterEpoch); !ok {
		t.Fatal("first overflow client refused: the overflow bucket starts full")
	}
	if ok, wait := l.allow(addr(11), limiterEpoch); ok || wait != time.Second {
		t.Errorf("second overflow client: allowed=%v wait=%v, want refused for 1s", ok, wait)
	}
	if l.size() != 2 {
		t.Errorf("table grew past its bound: %d", l.size())
	}
	if ok, _ := l.allow(addr(0), limiterEpoch.Add(time.Second)); !ok {
		t.Error("a client with its own bucket is limited by the overflow bucket")
	}
}

func TestRateLimiter_concurrentClientsNeverExceedTheBucket(t *testing.T) {
	l := newRateLimiter(1, 9)
	var mu sync.Mutex
	allowed := 0
	parallel(8, func(int) {
		for range 10 {
			if ok, _ := l.allow(netip.MustParseAddr("192.0.2.1"), limiterEpoch); ok {
				mu.Lock()
				allowed++
				mu.Unlock()
			}
		}
	})
	if allowed != 10 {
		t.Errorf("allowed %d of 80 requests at one instant, want 1+burst = 10", allowed)
	}
}

// limiterClock is a settable clock for Options.Now.
type limiterClock struct {
	mu  sync.Mutex
	now time.Time
}

func (c *limiterClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

func (c *limiterClock) Advance(d time.Duration) {
	c.mu.Lock()
	c.now = c.now.Add(d)
	c.mu.Unlock()
}

// clientFrom is an HTTP client whose connections come from the loopback address local, so one
// test can be several clients.
func clientFrom(local string) *http.Client {
	d := &net.Dialer{LocalAddr: &net.TCPAddr{IP: net.ParseIP(local)}}
	return &http.Client{Transport: &http.Transport{DialContext: func(ctx context.Context, network, addr string) (net.Conn, error) {
		return d.DialContext(ctx, network, addr)
	}}}
}

func TestNode_rateLimitPerClient(t *testing.T) {
	origin := startOrigin(t, func(w http.ResponseWriter, r *http.Request) { w.Write([]byte("ok")) })
	clock := &limiterClock{now: limiterEpoch}
	n := startNode(t, fmt.Sprintf(`node: {name: rl}
origins:
  o: {servers: [{url: %s}]}
routes:
  - {match: {path_prefix: /api/}, origin: o, rate_limit: {rate: 1, burst: 1}}
  - {match: {path_prefix: /}, origin: o}
`, origin.URL), Options{Now: clock.Now})
	base := "http://" + n.HTTPAddr()
	alice, bob := clientFrom("127.0.0.1"), clientFrom("127.0.0.2")
	do := func(c *http.Client, path string) (int, string, string) {
		t.Helper()
		resp, err := c.Get(base + path)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		var body [256]byte
		k, _ := resp.Body.Read(body[:])
		return resp.StatusCode, resp.Header.Get("Retry-After"), string(body[:k])
	}

	for i := range 2 {
		if status, _, _ := do(alice, "/api/x"); status != 200 {
			t.Fatalf("alice request %d within burst: %d", i, status)
		}
	}
	status, retryAfter, body := do(alice, "/api/x")
	if status != http.StatusTooManyRequests || body != "too many requests\n" {
		t.Fatalf("alice past burst: %d %q, want 429", status, body)
	}
	if secs, err := strconv.Atoi(retryAfter); err != nil || secs < 1 || secs > 2 {
		t.Errorf("Retry-After %q, want the 1s until the next token rounded up (1 or 2)", retryAfter)
	}
	if status, _, _ := do(bob, "/api/x"); status != 200 {
		t.Errorf("bob, another client address, was limited by alice's bucket: %d", status)
	}
	if status, _, _ := do(alice, "/other"); status != 200 {
		t.Errorf("a route without rate_limit refused alice: %d", status)
	}
	before := origin.requests.Load()
	do(alice, "/api/x")
	if origin.requests.Load() != before {
		t.Error("a refused request reached the origin")
	}
	clock.Advance(time.Second)
	if status, _, _ := do(alice, "/api/x"); status != 200 {
		t.Errorf("alice one token later: %d, want 200", status)
	}
	if _, _, metrics := get(t, "http://"+n.AdminAddr()+"/metrics"); !containsLine(metrics, `shoal_edge_rejected_requests_total{reason="rate_limited"} 2`) {
		t.Errorf("rate-limited requests not counted:\n%s", grepLines(metrics, "rejected"))
	}
}

func BenchmarkRateLimiter_allow(b *testing.B) {
	l := newRateLimiter(1e9, 100)
	clients := make([]netip.Addr, 1024)
	for i := range clients {
		clients[i] = netip.AddrFrom4([4]byte{10, 0, byte(i >> 8), byte(i)})
	}
	b.ReportAllocs()
	i := 0
	for b.Loop() {
		l.allow(clients[i%len(clients)], limiterEpoch.Add(time.Duration(i)))
		i++
	}
}
