package edge

import (
	"io"
	"net/http"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// testClock is the node's injected clock; the origin stamps Date from it too, so ages and
// lifetimes are exact without sleeping.
type testClock struct{ ns atomic.Int64 }

func newTestClock() *testClock {
	c := &testClock{}
	c.ns.Store(time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC).UnixNano())
	return c
}

func (c *testClock) Now() time.Time      { return time.Unix(0, c.ns.Load()).UTC() }
func (c *testClock) Add(d time.Duration) { c.ns.Add(int64(d)) }
func (c *testClock) httpDate(d time.Duration) string {
	return c.Now().Add(d).Format(http.TimeFormat)
}

// rfcOrigin is an origin whose handler stamps Date from the test clock (a handler may
// override it) and records the request headers each path saw.
type rfcOrigin struct {
	*countingOrigin
	mu   sync.Mutex
	seen map[string][]http.Header
}

func startRFCOrigin(t *testing.T, clock *testClock, handler http.HandlerFunc) *rfcOrigin {
	t.Helper()
	o := &rfcOrigin{seen: map[string][]http.Header{}}
	o.countingOrigin = startOrigin(t, func(w http.ResponseWriter, r *http.Request) {
		o.mu.Lock()
		h := r.Header.Clone()
		h.Set(":method", r.Method)
		o.seen[r.URL.Path] = append(o.seen[r.URL.Path], h)
		o.mu.Unlock()
		w.Header().Set("Date", clock.Now().Format(http.TimeFormat))
		handler(w, r)
	})
	return o
}

// seenBy returns the request headers the origin saw for path, in order.
func (o *rfcOrigin) seenBy(path string) []http.Header {
	o.mu.Lock()
	defer o.mu.Unlock()
	return append([]http.Header(nil), o.seen[path]...)
}

// rfcNode starts a cache node with the test clock in front of origin; cacheExtra is added to
// the cache block (e.g. "heuristic_max: 30s").
func rfcNode(t *testing.T, clock *testClock, origin string, cacheExtra string) *Node {
	t.Helper()
	cfg := oneRoute(true, origin)
	if cacheExtra != "" {
		cfg = strings.Replace(cfg, "fill_timeout: 5s", "fill_timeout: 5s, "+cacheExtra, 1)
	}
	return startNode(t, cfg, Options{Now: clock.Now})
}

// rfcClient neither decompresses nor follows redirects: tests see what the node sent.
var rfcClient = &http.Client{
	Transport:     &http.Transport{DisableCompression: true},
	CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
}

// reply is one answer from the node.
type reply struct {
	status int
	header http.Header
	body   string
	err    error // reading the body failed: a broken response
}

func (r reply) cacheStatus() string { return r.header.Get("Cache-Status") }
func (r reply) hit() bool           { return strings.Contains(r.cacheStatus(), "; hit") }

// send makes one request through the node; header is name, value pairs.
func send(t *testing.T, n *Node, method, path string, header ...string) reply {
	t.Helper()
	req, err := http.NewRequest(method, "http://"+n.HTTPAddr()+path, nil)
	if err != nil {
		t.Fatal(err)
	}
	for i := 0; i+1 < len(header); i += 2 {
		req.Header.Add(header[i], header[i+1])
	}
	resp, err := rfcClient.Do(req)
	if err != nil {
		t.Fatalf("%s %s: %v", method, path, err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	return reply{status: resp.StatusCode, header: resp.Header, body: string(body), err: err}
}

// fillOnce requests path once and waits until the store shows what the fill stored.
func fillOnce(t *testing.T, n *Node, path string, header ...string) reply {
	t.Helper()
	r := send(t, n, "GET", path, header...)
	n.bg.Wait()
	return r
}
