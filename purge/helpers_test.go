package purge

import (
	"context"
	"net/http"
	"net/http/httptest"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	dto "github.com/prometheus/client_model/go"
	"github.com/shoal-cdn/shoal/cachestore"
	"github.com/shoal-cdn/shoal/conf"
)

const (
	testToken  = "tok-tok-tok-tok-tok"
	testSecret = "0123456789abcdef-secret"
)

// fakeClock is a settable clock shared by the nodes of a test.
type fakeClock struct {
	mu sync.Mutex
	t  time.Time
}

func newFakeClock() *fakeClock {
	return &fakeClock{t: time.Date(2025, 3, 1, 12, 0, 0, 0, time.UTC)}
}

func (c *fakeClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *fakeClock) Advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = c.t.Add(d)
}

func newTestMemory(t testing.TB) *cachestore.Memory {
	t.Helper()
	m, err := cachestore.NewMemory(cachestore.Config{MaxBytes: 64 << 20}, nil)
	if err != nil {
		t.Fatalf("NewMemory: %v", err)
	}
	t.Cleanup(m.Close)
	return m
}

// node is one cluster member of a test: a real store, a Service, and its peer port on
// 127.0.0.1.
type node struct {
	name  string
	store *cachestore.Memory
	svc   *Service
	srv   *httptest.Server
	// The peer port's goroutines read these; atomics, since the race detector cannot see
	// the ordering a TCP connection gives.
	handler   atomic.Pointer[Service]
	peerHits  atomic.Int64
	intercept atomic.Pointer[interceptor]
}

// interceptor sees a node's peer requests first and returns true when it answered itself.
type interceptor func(w http.ResponseWriter, r *http.Request) bool

func (n *node) setIntercept(f interceptor) { n.intercept.Store(&f) }

func (n *node) peer() Peer { return Peer{Name: n.name, PeerAddr: n.srv.Listener.Addr().String()} }

// cluster starts len(names) nodes that all know each other, sharing clock and options. tweak,
// if not nil, may change each node before its Service is built.
func newCluster(t *testing.T, clock *fakeClock, names ...string) []*node {
	t.Helper()
	nodes := make([]*node, len(names))
	for i, name := range names {
		n := &node{name: name, store: newTestMemory(t)}
		n.srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			n.peerHits.Add(1)
			if f := n.intercept.Load(); f != nil && (*f)(w, r) {
				return
			}
			n.handler.Load().PeerHandler().ServeHTTP(w, r)
		}))
		t.Cleanup(n.srv.Close)
		nodes[i] = n
	}
	for _, n := range nodes {
		var peers []Peer
		for _, o := range nodes {
			if o != n {
				peers = append(peers, o.peer())
			}
		}
		n.svc = newTestService(t, conf.Purge{Token: testToken}, n.store, StaticCluster{Name: n.name, Members: peers},
			Options{Secret: testSecret, Now: clock.Now})
		n.handler.Store(n.svc)
	}
	return nodes
}

func newTestService(t testing.TB, cfg conf.Purge, store Store, cluster Cluster, opts Options) *Service {
	t.Helper()
	s, err := New(cfg, store, cluster, opts)
	if err != nil {
		t.Fatalf("New: %v", err)
	}
	s.backoff = time.Millisecond
	return s
}

// object builds an object of url (already in key form) stored under url+variant.
func object(url, variant string, tags ...string) *cachestore.Object {
	return &cachestore.Object{Key: url + variant, URL: url, Status: 200, Body: []byte("body of " + url + variant), Tags: cachestore.NewTags(tags...)}
}

func mustSet(t testing.TB, m *cachestore.Memory, objs ...*cachestore.Object) {
	t.Helper()
	for _, o := range objs {
		o.Generation = m.Begin()
		if !m.Set(o) {
			t.Fatalf("Set(%q) refused", o.Key)
		}
	}
	for _, o := range objs {
		if _, ok := m.Get(o.Key); !ok {
			t.Fatalf("Get(%q) after Set found nothing", o.Key)
		}
	}
}

// present reports whether key is stored.
func present(m *cachestore.Memory, key string) bool {
	_, ok := m.Get(key)
	return ok
}

func counterValue(t testing.TB, c prometheus.Counter) float64 {
	t.Helper()
	var m dto.Metric
	if err := c.Write(&m); err != nil {
		t.Fatalf("reading counter: %v", err)
	}
	return m.GetCounter().GetValue()
}

func purgeOrFail(t testing.TB, s *Service, r Request) Response {
	t.Helper()
	resp, err := s.Purge(context.Background(), r)
	if err != nil {
		t.Fatalf("Purge(%+v): %v", r, err)
	}
	return resp
}
