package ring

import (
	"fmt"
	"io"
	"log/slog"
	"sync"
	"testing"
	"time"

	"github.com/shoal-cdn/shoal/conf"
)

const testSecret = "correct horse battery staple"

// eventually polls cond until it returns nil or the deadline passes, then fails with the
// last error. It returns how long cond took to hold.
func eventually(t *testing.T, within time.Duration, cond func() error) time.Duration {
	t.Helper()
	start := time.Now()
	var err error
	for {
		if err = cond(); err == nil {
			return time.Since(start)
		}
		if time.Since(start) > within {
			t.Fatalf("not true within %s: %v", within, err)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// testLogger logs to the test's output until the test ends; memberlist goroutines may still
// log while shutting down, after testing.T must no longer be used.
func testLogger(t *testing.T) *slog.Logger {
	w := &testWriter{t: t}
	t.Cleanup(w.close)
	return slog.New(slog.NewTextHandler(w, &slog.HandlerOptions{Level: slog.LevelWarn}))
}

type testWriter struct {
	mu     sync.Mutex
	t      *testing.T
	closed bool
}

func (w *testWriter) Write(p []byte) (int, error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	if !w.closed {
		w.t.Log(string(p))
	}
	return len(p), nil
}

func (w *testWriter) close() {
	w.mu.Lock()
	defer w.mu.Unlock()
	w.closed = true
}

var _ io.Writer = (*testWriter)(nil)

// node describes one test member; zero fields get defaults.
type node struct {
	secret string
	opts   Options
	self   Member
}

// startCluster starts len(nodes) rings on 127.0.0.1 with dynamic ports, each joining the
// first, and waits until every ring sees all of them.
func startCluster(t *testing.T, nodes ...node) []*Ring {
	t.Helper()
	rings := make([]*Ring, len(nodes))
	for i, n := range nodes {
		cluster := conf.Cluster{Bind: "127.0.0.1:0", Secret: testSecret}
		if n.secret != "" {
			cluster.Secret = n.secret
		}
		if i > 0 {
			cluster.Join = []string{rings[0].GossipAddr()}
		}
		rings[i] = startNode(t, cluster, n, i)
	}
	waitMembers(t, rings, len(rings))
	return rings
}

func startNode(t *testing.T, cluster conf.Cluster, n node, i int) *Ring {
	t.Helper()
	self := n.self
	if self.Name == "" {
		self.Name = fmt.Sprintf("edge-%d", i+1)
	}
	if self.PeerAddr == "" {
		self.PeerAddr = fmt.Sprintf("127.0.0.1:%d", 18080+i)
	}
	if n.opts.Logger == nil {
		n.opts.Logger = testLogger(t)
	}
	r, err := New(cluster, self, n.opts)
	if err != nil {
		t.Fatalf("New(%s): %v", self.Name, err)
	}
	if err := r.Start(); err != nil {
		t.Fatalf("Start(%s): %v", self.Name, err)
	}
	t.Cleanup(func() { _ = r.Shutdown() })
	return r
}

func waitMembers(t *testing.T, rings []*Ring, want int) {
	t.Helper()
	eventually(t, 10*time.Second, func() error {
		for _, r := range rings {
			if got := len(r.Members()); got != want {
				return fmt.Errorf("%s sees %d members, want %d", r.Self().Name, got, want)
			}
		}
		return nil
	})
}

func names(ms []Member) []string {
	out := make([]string, len(ms))
	for i, m := range ms {
		out[i] = m.Name
	}
	return out
}
