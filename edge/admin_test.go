package edge

import (
	"bytes"
	"encoding/json"
	"io"
	"net/http"
	"strconv"
	"strings"
	"testing"
	"time"
)

func TestNode_adminMetricsAndHealth(t *testing.T) {
	origin := startOrigin(t, func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Cache-Control", "max-age=60")
		w.Write([]byte("hello"))
	})
	n := startNode(t, oneRoute(true, origin.URL), Options{})
	parallel(10, func(int) { get(t, "http://"+n.HTTPAddr()+"/m") })
	n.settleFills()
	get(t, "http://"+n.HTTPAddr()+"/m")

	_, _, body := get(t, "http://"+n.AdminAddr()+"/metrics")
	for _, name := range []string{
		"shoal_edge_requests_total", "shoal_edge_cache_hits_total", "shoal_edge_cache_misses_total",
		"shoal_edge_coalesced_followers_total", "shoal_edge_origin_seconds_bucket", "shoal_edge_origin_bytes_total",
		"shoal_edge_client_bytes_total", "shoal_cachestore_bytes", "shoal_cachestore_objects",
		"shoal_cachestore_evictions_total", "shoal_origin_requests_total",
	} {
		if !strings.Contains(body, name) {
			t.Errorf("/metrics lacks %s", name)
		}
	}
	// Ten concurrent requests share one fill; some may arrive after it was stored and hit.
	hits, misses := metricValue(body, "shoal_edge_cache_hits_total"), metricValue(body, "shoal_edge_cache_misses_total")
	if hits < 1 || hits+misses != 11 || origin.requests.Load() != 1 {
		t.Errorf("hits %v + misses %v, want 11 requests with at least one hit and one origin fetch (got %d)", hits, misses, origin.requests.Load())
	}
	for path, want := range map[string]int{"/healthz": 200, "/readyz": 200} {
		if status, _, _ := get(t, "http://"+n.AdminAddr()+path); status != want {
			t.Errorf("%s = %d", path, status)
		}
	}
}

// A node whose every origin pool is down is not ready: /readyz says so and the ring state
// carries it to peers, DNS and VIP election.
// A lone node whose every pool is down stays ready (issue 13): there is no peer that would
// serve its clients better, so stepping back would only move its VIPs and DNS answers to
// nowhere. Only a node that sees more pools down than most of its peers steps back
// (TestCluster_nodeAloneWithoutOriginIsNotReady).
func TestNode_loneNodeStaysReadyWhenEveryPoolIsDown(t *testing.T) {
	origin := startOrigin(t, func(w http.ResponseWriter, r *http.Request) { w.Write([]byte("OK")) })
	cfg := strings.Replace(oneRoute(false, origin.URL), "    servers:\n", "    health: {path: /health, interval: 100ms, timeout: 50ms, rise: 1, fall: 1}\n    servers:\n", 1)
	n := startNode(t, cfg, Options{})
	waitStatus(t, "http://"+n.AdminAddr()+"/readyz", http.StatusOK)
	origin.srv.Close()
	pollUntil(t, 5*time.Second, "the health check to take the pool down", func() bool { return !n.stats().Pools[0].Healthy })
	for end := time.Now().Add(2 * readinessInterval); time.Now().Before(end); time.Sleep(50 * time.Millisecond) {
		if status, _, _ := get(t, "http://"+n.AdminAddr()+"/readyz"); status != http.StatusOK {
			t.Fatalf("/readyz %d with every pool down on a lone node, want 200", status)
		}
	}
	if s := n.Ring().Self().State; s != "alive" {
		t.Errorf("ring state %q, want alive", s)
	}
}

func waitStatus(t *testing.T, url string, want int) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for {
		status, _, _ := get(t, url)
		if status == want {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("%s stayed %d, want %d", url, status, want)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

func TestNode_adminRefusesOtherNetworks(t *testing.T) {
	origin := startOrigin(t, func(w http.ResponseWriter, r *http.Request) {})
	n := startNode(t, "admin: {allow: [10.0.0.0/8]}\n"+oneRoute(false, origin.URL), Options{})
	if status, _, body := get(t, "http://"+n.AdminAddr()+"/metrics"); status != http.StatusForbidden || !strings.Contains(body, "admin.allow") {
		t.Errorf("loopback client outside admin.allow got %d %q, want 403 naming admin.allow", status, body)
	}
}

func TestNode_accessLogFormats(t *testing.T) {
	origin := startOrigin(t, func(w http.ResponseWriter, r *http.Request) { w.Write([]byte("12345")) })
	for _, format := range []string{"json", "combined"} {
		t.Run(format, func(t *testing.T) {
			var buf syncBuffer
			n := startNode(t, "log: {access: "+format+"}\n"+oneRoute(false, origin.URL), Options{AccessLog: &buf})
			get(t, "http://"+n.HTTPAddr()+"/logged?x=1", "User-Agent", "tester/1")
			line := buf.String()
			switch format {
			case "json":
				var e struct {
					URI       string `json:"uri"`
					Status    int    `json:"status"`
					Bytes     int    `json:"bytes"`
					UserAgent string `json:"user_agent"`
					Result    string `json:"result"`
					Msg       string `json:"msg"`
				}
				if err := json.Unmarshal([]byte(line), &e); err != nil {
					t.Fatalf("not JSON: %q", line)
				}
				if e.URI != "/logged?x=1" || e.Status != 200 || e.Bytes != 5 || e.UserAgent != "tester/1" || e.Result != "pass" || e.Msg != "access" {
					t.Errorf("entry %+v", e)
				}
			case "combined":
				if !strings.Contains(line, `"GET /logged?x=1 HTTP/1.1" 200 5 "-" "tester/1"`) {
					t.Errorf("combined line %q", line)
				}
			}
		})
	}
}

// metricValue reads an unlabelled sample from Prometheus text output.
func metricValue(text, name string) float64 {
	for _, line := range strings.Split(text, "\n") {
		if v, ok := strings.CutPrefix(line, name+" "); ok {
			f, _ := strconv.ParseFloat(v, 64)
			return f
		}
	}
	return -1
}

type syncBuffer struct {
	mu  chan struct{}
	buf bytes.Buffer
}

func (b *syncBuffer) Write(p []byte) (int, error) {
	b.lock()
	defer b.unlock()
	return b.buf.Write(p)
}

func (b *syncBuffer) String() string {
	b.lock()
	defer b.unlock()
	return b.buf.String()
}

func (b *syncBuffer) lock() {
	if b.mu == nil {
		b.mu = make(chan struct{}, 1)
	}
	b.mu <- struct{}{}
}

func (b *syncBuffer) unlock() { <-b.mu }

var _ io.Writer = (*syncBuffer)(nil)
