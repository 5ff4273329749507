package edge

import (
	"fmt"
	"io"
	"net/http"
	"strings"
	"testing"
)

// TestViaLoop_aNodeThatIsItsOwnOriginAnswers508: a pool that names the node itself (or an
// origin path that leads back to it) sends each request round again. The node sees its own
// Via member come back and answers 508 Loop Detected (RFC 9110 section 7.6.3) instead of
// forwarding it once more, on HTTP/1.1 and HTTP/2, pass and miss. Failed before: one client
// request made 440 requests to the node itself (one connection each) until the head, grown
// by a Via, Forwarded and X-Forwarded-For member per turn, got 431; with a larger
// max_header_bytes it runs out of descriptors first.
func TestViaLoop_aNodeThatIsItsOwnOriginAnswers508(t *testing.T) {
	self := closedAddr(t) // the node binds it next: its own pool points at it
	cfg := fmt.Sprintf(`listen: {http: %q, h2c: "127.0.0.1:0", admin: "127.0.0.1:0"}
node: {name: loop-edge}
cache: {memory: 64MiB, fill_timeout: 5s}
origins:
  o: {servers: [{url: "http://%s"}], retries: 0}
routes:
  - {match: {path_prefix: /dyn/}, origin: o, cache: false}
  - {match: {path_prefix: /}, origin: o, cache: true}
`, self, self)
	n := startNode(t, cfg, Options{})
	h2 := h2cClient()
	defer h2.CloseIdleConnections()
	for _, path := range []string{"/dyn/a", "/static/a.css"} {
		for _, proto := range []string{"HTTP/1.1", "HTTP/2"} {
			before := loopsRefused(t, n)
			var status int
			var body string
			if proto == "HTTP/1.1" {
				status, _, body = get(t, "http://"+self+path, "Host", "www.example.test")
			} else {
				req, _ := http.NewRequest("GET", "http://"+n.H2CAddr()+path, nil)
				req.Host = "www.example.test"
				resp, err := h2.Do(req)
				if err != nil {
					t.Fatalf("%s %s: %v", proto, path, err)
				}
				b, _ := io.ReadAll(resp.Body)
				resp.Body.Close()
				status, body = resp.StatusCode, string(b)
			}
			turns := loopsRefused(t, n) - before
			if status != http.StatusLoopDetected || !strings.Contains(body, "loop") {
				t.Errorf("%s %s: got %d %q, want 508 Loop Detected", proto, path, status, body)
			}
			// The client's request, forwarded once to the node itself, comes back once and
			// is refused there: one refusal, not hundreds of turns.
			if turns != 1 {
				t.Errorf("%s %s: %v requests refused, want the one that came back", proto, path, turns)
			}
		}
	}
}

// loopsRefused is the node's count of requests refused as loops.
func loopsRefused(t *testing.T, n *Node) float64 {
	return max(metricValue(metricsText(t, n), `shoal_edge_rejected_requests_total{reason="loop"}`), 0)
}

// TestViaLoop_readsMembersAsRFC9110Says: only a member whose received-by is this node's
// name is a loop; other nodes, a name inside a comment or a longer name are not.
func TestViaLoop_readsMembersAsRFC9110Says(t *testing.T) {
	for _, tc := range []struct {
		via  string
		loop bool
	}{
		{"1.1 loop-edge", true},
		{"1.0 other, 1.1 LOOP-EDGE", true},
		{"HTTP/1.1 loop-edge (Shoal)", true},
		{"1.1 a (x, y), 2 loop-edge", true},
		{"1.1 loop-edge:8080", false}, // a host and port is another recipient than the pseudonym
		{"1.1 other (loop-edge)", false},
		{"1.1 other (a, 1.1 loop-edge)", false},
		{"1.1 loop-edge-2", false},
		{"loop-edge", false},
		{"", false},
	} {
		var l fieldList
		l.Add("Via", tc.via)
		if got := viaLoop(&l, "loop-edge"); got != tc.loop {
			t.Errorf("Via: %q: loop %v, want %v", tc.via, got, tc.loop)
		}
	}
}
