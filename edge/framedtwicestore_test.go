package edge

import (
	"testing"

	"github.com/shoal-cdn/shoal/internal/testenv"
)

// An origin answer framed twice (Content-Length and Transfer-Encoding, RFC 9112 section
// 6.3) is read by its Transfer-Encoding and its connection closed (origin/framedtwice.go),
// and the RFC calls it a sign of smuggling: what such an answer carries is relayed to the
// one client that asked, never stored for everyone. It was stored: the second GET was a
// hit. The answer framed once is the control: stored, one origin request for two GETs.
func TestNode_answerFramedTwiceIsNotStored(t *testing.T) {
	for name, c := range map[string]struct {
		framing string
		asked   int
	}{
		"length then chunked": {"Content-Length: 5\r\nTransfer-Encoding: chunked\r\n", 2},
		"chunked then length": {"Transfer-Encoding: chunked\r\ncontent-length: 40\r\n", 2},
		"chunked alone":       {"Transfer-Encoding: chunked\r\n", 1},
	} {
		t.Run(name, func(t *testing.T) {
			answer := "HTTP/1.1 200 OK\r\nCache-Control: max-age=60\r\n" + c.framing + "\r\n5\r\nhello\r\n0\r\n\r\n"
			o := testenv.StartBadOrigin(t)
			o.Script("/obj", testenv.Script{Raw: []byte(answer)})
			n := startNode(t, oneRoute(true, o.URL), Options{})
			for i := range 2 {
				if status, _, body := get(t, "http://"+n.HTTPAddr()+"/obj"); status != 200 || body != "hello" {
					t.Fatalf("GET %d: %d %q", i+1, status, body)
				}
				n.settleFills()
			}
			if got := o.Count("/obj"); got != c.asked {
				t.Errorf("origin asked %d times for two GETs, want %d", got, c.asked)
			}
		})
	}
}

// The neighbour of the fault above in a cluster: a node that forwards to the key's owner
// keeps a hot copy of a popular answer (cache.hot_local). The owner did not store an answer
// framed twice, so neither may the node it relayed it to. It does not today because the
// owner relays the answer as it read it, chunked, and a copy needs a length (hotCandidate);
// this holds that. The answer framed once is the control: the fourth GET is a local hit.
func TestCluster_answerFramedTwiceGetsNoHotCopy(t *testing.T) {
	for name, c := range map[string]struct {
		framing string
		asked   int
	}{
		"framed twice": {"Content-Length: 5\r\nTransfer-Encoding: chunked\r\n", 4},
		"framed once":  {"Transfer-Encoding: chunked\r\n", 1},
	} {
		t.Run(name, func(t *testing.T) {
			answer := "HTTP/1.1 200 OK\r\nCache-Control: max-age=60\r\n" + c.framing + "\r\n5\r\nhello\r\n0\r\n\r\n"
			o := testenv.StartBadOrigin(t)
			o.Script("/hot.css", testenv.Script{Raw: []byte(answer)})
			nodes := startCluster(t, 2, o.URL)
			owner, via := viaNonOwner(t, nodes, "/hot.css")
			for i := range 4 {
				status, h, body := get(t, "http://"+via.HTTPAddr()+"/hot.css", "Host", "www.example.com")
				if status != 200 || body != "hello" {
					t.Fatalf("GET %d: %d %q", i+1, status, body)
				}
				t.Logf("GET %d: Cache-Status %q", i+1, h.Get("Cache-Status"))
				owner.settleFills()
				via.settleFills()
			}
			if got := o.Count("/hot.css"); got != c.asked {
				t.Errorf("origin asked %d times for four GETs through a non-owner, want %d", got, c.asked)
			}
		})
	}
}
