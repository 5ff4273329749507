package edge

import (
	"bufio"
	"io"
	"net"
	"sync/atomic"
	"testing"
)

// An origin answer framed twice (Content-Length and Transfer-Encoding, RFC 9112 section
// 6.3) is read by its Transfer-Encoding and its connection closed (origin/framedtwice.go),
// and the RFC calls it a sign of smuggling: what such an answer carries is relayed to the
// one client that asked, never stored for everyone. It was stored: the second GET was a
// hit. The answer framed once is the control: stored, one origin request for two GETs.
func TestNode_answerFramedTwiceIsNotStored(t *testing.T) {
	for name, c := range map[string]struct {
		framing string
		asked   int64
	}{
		"length then chunked": {"Content-Length: 5\r\nTransfer-Encoding: chunked\r\n", 2},
		"chunked then length": {"Transfer-Encoding: chunked\r\ncontent-length: 40\r\n", 2},
		"chunked alone":       {"Transfer-Encoding: chunked\r\n", 1},
	} {
		t.Run(name, func(t *testing.T) {
			answer := "HTTP/1.1 200 OK\r\nCache-Control: max-age=60\r\n" + c.framing + "\r\n5\r\nhello\r\n0\r\n\r\n"
			url, asked := rawAnswerOrigin(t, answer)
			n := startNode(t, oneRoute(true, url), Options{})
			for i := range 2 {
				if status, _, body := get(t, "http://"+n.HTTPAddr()+"/obj"); status != 200 || body != "hello" {
					t.Fatalf("GET %d: %d %q", i+1, status, body)
				}
				n.settleFills()
			}
			if got := asked.Load(); got != c.asked {
				t.Errorf("origin asked %d times for two GETs, want %d", got, c.asked)
			}
		})
	}
}

// rawAnswerOrigin is an origin that answers every request head on a connection with answer,
// byte for byte, and counts the heads it answered.
func rawAnswerOrigin(t *testing.T, answer string) (url string, asked *atomic.Int64) {
	t.Helper()
	asked = new(atomic.Int64)
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { ln.Close() })
	go func() {
		for {
			conn, err := ln.Accept()
			if err != nil {
				return
			}
			go func() {
				defer conn.Close()
				br := bufio.NewReader(conn)
				for {
					line, err := br.ReadString('\n')
					if err != nil {
						return
					}
					if line == "\r\n" {
						asked.Add(1)
						io.WriteString(conn, answer)
					}
				}
			}()
		}
	}()
	return "http://" + ln.Addr().String(), asked
}

// The neighbour of the fault above in a cluster: a node that forwards to the key's owner
// keeps a hot copy of a popular answer (cache.hot_local). The owner did not store an answer
// framed twice, so neither may the node it relayed it to. It does not today because the
// owner relays the answer as it read it, chunked, and a copy needs a length (hotCandidate);
// this holds that. The answer framed once is the control: the fourth GET is a local hit.
func TestCluster_answerFramedTwiceGetsNoHotCopy(t *testing.T) {
	for name, c := range map[string]struct {
		framing string
		asked   int64
	}{
		"framed twice": {"Content-Length: 5\r\nTransfer-Encoding: chunked\r\n", 4},
		"framed once":  {"Transfer-Encoding: chunked\r\n", 1},
	} {
		t.Run(name, func(t *testing.T) {
			answer := "HTTP/1.1 200 OK\r\nCache-Control: max-age=60\r\n" + c.framing + "\r\n5\r\nhello\r\n0\r\n\r\n"
			url, asked := rawAnswerOrigin(t, answer)
			nodes := startCluster(t, 2, url)
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
			if got := asked.Load(); got != c.asked {
				t.Errorf("origin asked %d times for four GETs through a non-owner, want %d", got, c.asked)
			}
		})
	}
}
