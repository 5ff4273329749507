package edge

import (
	"fmt"
	"io"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/shoal-cdn/shoal/internal/testenv"
)

// TestNode_misbehavingOriginAnswers: one raw origin, answers written byte for byte, each
// asked on a miss and on a pass over HTTP/1.1, and after each the next request on the same
// pool gets its own answer (bytes an answer left on its connection must not be read as the
// next one's: RFC 9112 section 6.3, response queue poisoning). What nginx does is the
// reference: interim responses of any 1xx code are skipped, a response without a reason
// phrase or with an HTTP/1.0 status line is read, a message framed two ways or by an unknown
// transfer coding or with two Content-Lengths is 502, as is a head past the size limit, a
// body after a 204 or a 304 or longer than its Content-Length is dropped with its connection.
// All held before this test; it keeps them together. The origin sweep added a "000" status
// and Transfer-Encoding in a head that is not HTTP/1.1, both 502 now (they were relayed and
// stored as 200s).
func TestNode_misbehavingOriginAnswers(t *testing.T) {
	o := testenv.StartBadOrigin(t)
	n := startNode(t, passAndTier(t, o.URL, "memory"), Options{})
	const cc = "Cache-Control: max-age=60\r\n"
	cases := []struct {
		name, raw, method string
		status            int
		body              string
	}{
		{"interim-199", "HTTP/1.1 199 Misc\r\n\r\nHTTP/1.1 200 OK\r\n" + cc + "Content-Length: 5\r\n\r\nhello", "GET", 200, "hello"},
		{"interim-104", "HTTP/1.1 104 Upload Resumption\r\nX-A: 1\r\n\r\nHTTP/1.1 200 OK\r\n" + cc + "Content-Length: 5\r\n\r\nhello", "GET", 200, "hello"},
		{"three-103", strings.Repeat("HTTP/1.1 103 Early Hints\r\nLink: </a.css>; rel=preload\r\n\r\n", 3) + "HTTP/1.1 200 OK\r\n" + cc + "Content-Length: 5\r\n\r\nhello", "GET", 200, "hello"},
		{"head-100-then-body", "HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 200 OK\r\n" + cc + "Content-Length: 5\r\n\r\nhello", "HEAD", 200, ""},
		{"two-lengths", "HTTP/1.1 200 OK\r\n" + cc + "Content-Length: 5\r\nContent-Length: 6\r\n\r\nhello!", "GET", 502, ""},
		{"gzip-chunked", "HTTP/1.1 200 OK\r\n" + cc + "Transfer-Encoding: gzip, chunked\r\n\r\n5\r\nhello\r\n0\r\n\r\n", "GET", 502, ""},
		{"head-too-large", "HTTP/1.1 200 OK\r\n" + cc + "X-Big: " + strings.Repeat("b", 80<<10) + "\r\nContent-Length: 5\r\n\r\nhello", "GET", 502, ""},
		{"no-reason", "HTTP/1.1 200\r\n" + cc + "Content-Length: 5\r\n\r\nhello", "GET", 200, "hello"},
		{"http10-keep-alive", "HTTP/1.0 200 OK\r\n" + cc + "Connection: keep-alive\r\nContent-Length: 5\r\n\r\nhello", "GET", 200, "hello"},
		{"longer-than-length", "HTTP/1.1 200 OK\r\n" + cc + "Content-Length: 5\r\n\r\nhelloHTTP/1.1 200 OK\r\nContent-Length: 6\r\n\r\npoison", "GET", 200, "hello"},
		{"204-with-body", "HTTP/1.1 204 No Content\r\n" + cc + "Content-Length: 6\r\n\r\npoison", "GET", 204, ""},
		{"304-with-body", "HTTP/1.1 304 Not Modified\r\n" + cc + "Content-Length: 6\r\n\r\npoison", "GET", 304, ""},
		// Found by the origin sweep (failed before: 200 "hello", stored): fasthttp reads a
		// "000" status as 0 and reports 0 as 200.
		{"status-000", "HTTP/1.1 000 Zero\r\n" + cc + "Content-Length: 5\r\n\r\nhello", "GET", 502, ""},
		// Found by the origin sweep (failed before: 200 "5\r\nhello\r\n0\r\n\r\n", stored; the
		// kept-alive ones waited for first_byte_timeout): fasthttp ignores Transfer-Encoding in
		// a head that is not HTTP/1.1 and read the chunked bytes to the close as content. RFC
		// 9112 section 6.1: faulty framing, even with a Content-Length.
		{"http10-chunked", "HTTP/1.0 200 OK\r\n" + cc + "Transfer-Encoding: chunked\r\nConnection: keep-alive\r\n\r\n5\r\nhello\r\n0\r\n\r\n", "GET", 502, ""},
		{"http10-chunked-and-length", "HTTP/1.0 200 OK\r\n" + cc + "Transfer-Encoding: chunked\r\nContent-Length: 15\r\nConnection: keep-alive\r\n\r\n5\r\nhello\r\n0\r\n\r\n", "GET", 502, ""},
		{"http12-chunked", "HTTP/1.2 200 OK\r\n" + cc + "Transfer-Encoding: chunked\r\nConnection: keep-alive\r\n\r\n5\r\nhello\r\n0\r\n\r\n", "GET", 502, ""},
	}
	o.Script("/next", testenv.Script{Header: testenv.Fields("Cache-Control", "no-store"), Body: []byte("next")})
	for _, tc := range cases {
		for _, route := range []string{"/", "/pass/"} {
			path := route + tc.name
			o.Script(path, testenv.Script{Raw: []byte(tc.raw)})
			t.Run(path, func(t *testing.T) {
				want := tc.status
				if tc.name == "304-with-body" && route == "/" {
					want = 502 // a 304 to a fill, which asked unconditionally, is an origin error (as Varnish's fetch)
				}
				status, body := ask(t, n, tc.method, path)
				if status != want || want != 502 && body != tc.body {
					t.Errorf("%s %s: %d %q, want %d %q", tc.method, path, status, body, want, tc.body)
				}
				n.settleFills()
				if status, body := ask(t, n, "GET", "/next"); status != 200 || body != "next" {
					t.Errorf("the request after it: %d %q, want 200 \"next\"", status, body)
				}
			})
		}
	}
}

// TestNode_originResetMidBodyOnACollapsedMiss: an origin that resets its connection in the
// middle of a body that several coalesced clients wait for cuts every one of them (none gets
// a complete-looking answer) and stores nothing: the next request asks the origin again.
func TestNode_originResetMidBodyOnACollapsedMiss(t *testing.T) {
	o := testenv.StartBadOrigin(t)
	n := startNode(t, passAndTier(t, o.URL, "memory"), Options{})
	const path = "/collapsed-reset"
	gate := make(chan struct{})
	o.Sequence(path, testenv.Script{Header: testenv.Fields("Cache-Control", "max-age=60"),
		Body: []byte(strings.Repeat("r", 64<<10)), Gate: gate, Lead: 1000, Cut: testenv.Reset, CutAt: 30 << 10},
		testenv.Script{Header: testenv.Fields("Cache-Control", "max-age=60"), Body: []byte("whole")})
	const clients = 4
	got := make([]string, clients)
	var wg sync.WaitGroup
	for i := range clients {
		wg.Add(1)
		go func() {
			defer wg.Done()
			got[i] = outcome(&http.Client{Timeout: 10 * time.Second}, "http://"+n.HTTPAddr()+path, "www.example.test")
		}()
	}
	// The origin cuts once every client joined the fill (or after 5 s).
	key := cacheKey("http", "www.example.test", path, "")
	for deadline := time.Now().Add(5 * time.Second); n.fills.Joined(key) < clients && time.Now().Before(deadline); {
		time.Sleep(5 * time.Millisecond)
	}
	close(gate)
	wg.Wait()
	n.settleFills()
	for i, g := range got {
		if g != "200 cut" && g != "502" {
			t.Errorf("client %d: %q, want the cut relayed as a cut", i, g)
		}
	}
	if status, body := ask(t, n, "GET", path); status != 200 || body != "whole" || o.Count(path) != 2 {
		t.Errorf("after the cut: %d %q, origin asked %d times; want 200 \"whole\", asked twice", status, body, o.Count(path))
	}
}

// ask sends one request to n's HTTP/1.1 port for host www.example.test: status and body.
func ask(t *testing.T, n *Node, method, path string) (int, string) {
	t.Helper()
	req, _ := http.NewRequest(method, "http://"+n.HTTPAddr()+path, nil)
	req.Host = "www.example.test"
	c := http.Client{Timeout: 10 * time.Second}
	resp, err := c.Do(req)
	if err != nil {
		return 0, fmt.Sprint("no response: ", err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		return resp.StatusCode, fmt.Sprint(string(b), " cut: ", err)
	}
	return resp.StatusCode, string(b)
}

// TestCluster_misbehavingOriginHeadsThroughThePeerHop: the heads the origin sweep found
// relayed and stored as 200s (a "000" status; Transfer-Encoding in an HTTP/1.0 head, whose
// chunk sizes were read as content) are 502 for a client that reaches the key's owner through
// another node too, and neither node stores them: a second request asks the origin again.
func TestCluster_misbehavingOriginHeadsThroughThePeerHop(t *testing.T) {
	o := testenv.StartBadOrigin(t)
	nodes := startCluster(t, 2, o.URL)
	const cc = "Cache-Control: max-age=60\r\n"
	for name, raw := range map[string]string{
		"status-000":     "HTTP/1.1 000 Zero\r\n" + cc + "Content-Length: 5\r\n\r\nhello",
		"http10-chunked": "HTTP/1.0 200 OK\r\n" + cc + "Transfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n0\r\n\r\n",
	} {
		t.Run(name, func(t *testing.T) {
			path := "/peer-" + name + ".css"
			o.Script(path, testenv.Script{Raw: []byte(raw), Close: true})
			owner, via := viaNonOwner(t, nodes, path)
			for i := range 2 {
				got := responses(t, via.HTTPAddr(), "GET "+path+" HTTP/1.1\r\nHost: www.example.com\r\n\r\n")
				if last := got[len(got)-1]; last.status != 502 {
					t.Errorf("ask %d through %s (owner %s): %d %q, want 502", i, via.name, owner.name, last.status, last.body)
				}
				owner.settleFills()
				via.settleFills()
			}
			if c := o.Count(path); c != 2 {
				t.Errorf("origin asked %d times, want 2 (nothing stored)", c)
			}
		})
	}
}
