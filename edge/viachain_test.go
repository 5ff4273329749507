package edge

import (
	"fmt"
	"net/http"
	"strings"
	"testing"
)

// TestNode_viaAppendsAfterEveryUpstreamLine is RFC 9110 section 7.6.3: each intermediary
// appends its member to Via, so the list reads in the order the message was forwarded. An
// origin behind two proxies may send them as two Via lines (one list, section 5.3). Failed
// before: a miss or a hit rewrote the first line as "first, node" and left the second
// after the node's member (HTTP/1.1), or dropped it (HTTP/2, whose head keeps one line per
// Set); the neighbour of the Cache-Status fault (cachestatuschain_test.go). A pass appends a
// line of its own and was right.
func TestNode_viaAppendsAfterEveryUpstreamLine(t *testing.T) {
	clock := newTestClock()
	origin := startRFCOrigin(t, clock, func(w http.ResponseWriter, r *http.Request) {
		w.Header().Add("Via", "1.1 varnish")
		w.Header().Add("Via", "1.0 shield")
		w.Header().Set("Cache-Control", "max-age=60")
		fmt.Fprint(w, "0123456789")
	})
	cfg := strings.Replace(oneRoute(true, origin.URL), "routes:\n", "routes:\n  - {match: {path_prefix: /pass}, origin: o, cache: false}\n", 1)
	n := startNode(t, cfg, Options{Now: clock.Now})
	const want = "1.1 varnish, 1.0 shield, 1.1 test-edge"
	for _, c := range []struct{ name, method, path string }{
		{"a miss", "GET", "/s"},
		{"hit 1", "GET", "/s"}, {"hit 2", "GET", "/s"}, {"hit 3", "GET", "/s"}, // the template and its patched copy
		{"a HEAD hit", "HEAD", "/s"},
		{"a pass", "GET", "/pass/x"},
	} {
		r := send(t, n, c.method, c.path)
		n.bg.Wait()
		if got := strings.Join(r.header.Values("Via"), ", "); got != want {
			t.Errorf("%s: Via %q, want %q", c.name, got, want)
		}
	}
}

// TestCluster_viaAppendsAfterEveryUpstreamLine: the forwarding node appends after the
// owner's list, whatever lines it came in.
func TestCluster_viaAppendsAfterEveryUpstreamLine(t *testing.T) {
	owner, other := upstreamChainCluster(t, "http://via.example/v.css", "Via", "1.1 varnish", "1.0 shield")
	_, h, _ := get(t, "http://"+other.HTTPAddr()+"/v.css", "Host", "via.example")
	want := "1.1 varnish, 1.0 shield, 1.1 " + owner + ", 1.1 " + other.name
	if got := strings.Join(h.Values("Via"), ", "); got != want {
		t.Errorf("forwarded: Via %q, want %q", got, want)
	}
}
