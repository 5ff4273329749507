package edge

import (
	"fmt"
	"net"
	"net/http"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/shoal-cdn/shoal/origin"
	"github.com/valyala/fasthttp"
)

// timingOutPeerDials makes the first `first` connects of the peer clients made from now on
// time out (a real dial whose deadline has passed: the error a starved dial gets), and every
// connect when first is negative.
func timingOutPeerDials(t *testing.T, first int64) *atomic.Int64 {
	var dials atomic.Int64
	testHookPeerDial = func(dial fasthttp.DialFunc) fasthttp.DialFunc {
		expired := origin.Dialer(time.Nanosecond, time.Second)
		return func(addr string) (net.Conn, error) {
			if n := dials.Add(1); first < 0 || n <= first {
				return expired(addr)
			}
			return dial(addr)
		}
	}
	t.Cleanup(func() { testHookPeerDial = nil })
	return &dials
}

// viaOrigin is an origin that records which node asked it (the last Via member's name).
func viaOrigin(t *testing.T) (*countingOrigin, func() []string) {
	var mu sync.Mutex
	var askedBy []string
	o := startOrigin(t, func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		askedBy = append(askedBy, viaLastName(r.Header.Get("Via")))
		mu.Unlock()
		w.Header().Set("Cache-Control", "max-age=60")
		fmt.Fprint(w, "object")
	})
	return o, func() []string {
		mu.Lock()
		defer mu.Unlock()
		return append([]string(nil), askedBy...)
	}
}

// keyOwnedByOther is a path on host whose key nodes[0] sees owned by another node.
func keyOwnedByOther(t *testing.T, nodes []*Node, host string) (string, string) {
	for i := range 1000 {
		path := fmt.Sprintf("/k/%d", i)
		if m, self := nodes[0].Ring().Owner(cacheKey("http", host, path, "")); !self {
			return path, m.Name
		}
	}
	t.Fatal("node-1 owns every key")
	return "", ""
}

// A connect to a live owner that times out (a starved dial) is tried again, not passed to
// the next owner: the next owner would fetch the object while the owner may be filling it
// (TestCluster_oneOriginFetchForAColdObject failed so, 2 origin fetches with no ring change).
// Before, the first timed-out connect sent the request to the runner-up, here node-1 itself.
func TestCluster_connectTimeoutToALiveOwnerIsRetried(t *testing.T) {
	o, askedBy := viaOrigin(t)
	dials := timingOutPeerDials(t, 2)
	nodes := startCluster(t, 2, o.URL)
	path, owner := keyOwnedByOther(t, nodes, "site")
	status, h, body := get(t, "http://"+nodes[0].HTTPAddr()+path, "Host", "site")
	if status != 200 || body != "object" {
		t.Fatalf("got %d %q", status, body)
	}
	if got := askedBy(); len(got) != 1 || got[0] != owner {
		t.Errorf("the origin was asked by %v, want once by the owner %s", got, owner)
	}
	if cs := h.Get("Cache-Status"); !strings.Contains(cs, "detail="+owner) {
		t.Errorf("Cache-Status %q, want it forwarded to %s", cs, owner)
	}
	if n := dials.Load(); n < 3 {
		t.Errorf("%d connects, want the two that timed out and one more", n)
	}
}

// An owner that cannot be connected to within cluster.forward_timeout is given up on like
// a silent one: this node serves the request itself, once, and counts a forward timeout.
func TestCluster_connectTimeoutsPastForwardTimeoutServeHere(t *testing.T) {
	o, askedBy := viaOrigin(t)
	timingOutPeerDials(t, -1)
	nodes := startClusterWith(t, 2, o.URL, ", forward_timeout: 300ms")
	path, _ := keyOwnedByOther(t, nodes, "site")
	status, _, body := get(t, "http://"+nodes[0].HTTPAddr()+path, "Host", "site")
	if status != 200 || body != "object" {
		t.Fatalf("got %d %q", status, body)
	}
	if got := askedBy(); len(got) != 1 || got[0] != nodes[0].name {
		t.Errorf("the origin was asked by %v, want once by %s", got, nodes[0].name)
	}
	if v := metricValue(metricsText(t, nodes[0]), "shoal_edge_forward_timeouts_total"); v != 1 {
		t.Errorf("shoal_edge_forward_timeouts_total %v, want 1", v)
	}
}
