package edge

import (
	"net"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/valyala/fasthttp"
)

// Request-smuggling shapes are refused with 400 and never reach the origin.
func TestNode_rejectsSmugglingShapes(t *testing.T) {
	origin := startOrigin(t, func(w http.ResponseWriter, r *http.Request) { w.Write([]byte("ok")) })
	n := startNode(t, oneRoute(false, origin.URL), Options{})
	cases := map[string]string{
		"CL and TE":        "POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 4\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n",
		"two CL":           "POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 4\r\nContent-Length: 5\r\n\r\nabcde",
		"obs-fold":         "GET / HTTP/1.1\r\nHost: a\r\nX-Folded: a\r\n b\r\n\r\n",
		"TE not chunked":   "POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: gzip, chunked\r\n\r\n0\r\n\r\n",
		"space before :":   "GET / HTTP/1.1\r\nHost: a\r\nContent-Length : 0\r\n\r\n",
		"bad request line": "GARBAGE\r\n\r\n",
		"bad CL":           "POST / HTTP/1.1\r\nHost: a\r\nContent-Length: -1\r\n\r\n",
	}
	for name, raw := range cases {
		if line := rawRequest(t, n.HTTPAddr(), raw); !strings.Contains(line, " 400 ") {
			t.Errorf("%s: got %q, want 400", name, line)
		}
	}
	if got := origin.requests.Load(); got != 0 {
		t.Errorf("origin received %d smuggling-shaped requests", got)
	}
	if line := rawRequest(t, n.HTTPAddr(), "GET / HTTP/1.1\r\nHost: a\r\n\r\n"); !strings.Contains(line, " 200 ") {
		t.Errorf("a clean request after them: %q", line)
	}
}

func TestNode_oversizeHeadersGet431(t *testing.T) {
	origin := startOrigin(t, func(w http.ResponseWriter, r *http.Request) {})
	n := startNode(t, "limits: {max_header_bytes: 4KiB}\n"+oneRoute(false, origin.URL), Options{})
	raw := "GET / HTTP/1.1\r\nHost: a\r\nX-Big: " + strings.Repeat("x", 8<<10) + "\r\n\r\n"
	if line := rawRequest(t, n.HTTPAddr(), raw); !strings.Contains(line, " 431 ") {
		t.Errorf("got %q, want 431", line)
	}
	if origin.requests.Load() != 0 {
		t.Error("an oversize request reached the origin")
	}
}

// A client that stops sending its head is cut off by the read timeout.
func TestNode_slowClientTimesOut(t *testing.T) {
	origin := startOrigin(t, func(w http.ResponseWriter, r *http.Request) {})
	n := startNode(t, "limits: {read_timeout: 200ms}\n"+oneRoute(false, origin.URL), Options{})
	c, err := net.Dial("tcp", n.HTTPAddr())
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	c.Write([]byte("GET / HTTP/1.1\r\nHost: a\r\nX-Slow: "))
	c.SetReadDeadline(time.Now().Add(10 * time.Second))
	buf := make([]byte, 512)
	for {
		if _, err := c.Read(buf); err != nil {
			if ne, ok := err.(net.Error); ok && ne.Timeout() {
				t.Fatal("the server kept a stalled client for 10 s")
			}
			break // closed by the server, with or without a 408 first
		}
	}
	if origin.requests.Load() != 0 {
		t.Error("a stalled request reached the origin")
	}
}

func FuzzFramingProblem(f *testing.F) {
	f.Add([]byte("Host: a\r\nContent-Length: 4\r\nTransfer-Encoding: chunked\r\n"))
	f.Add([]byte("Host: a\r\n folded\r\n"))
	f.Add([]byte("Content-Length: 1\r\nContent-Length: 1\r\n"))
	f.Fuzz(func(t *testing.T, raw []byte) {
		problem := framingProblem(raw)
		lower := strings.ToLower(string(raw))
		if strings.Contains(lower, "\ncontent-length:") && strings.Contains(lower, "\ntransfer-encoding:") && problem == "" {
			t.Errorf("CL and TE together accepted: %q", raw)
		}
	})
}

// plainError resets the response: a close decided before it (refused heads, strangers on the
// peer port) must survive, or fasthttp keeps reading the connection after the answer.
func TestPlainError_keepsConnectionClose(t *testing.T) {
	var n Node
	var ctx fasthttp.RequestCtx
	e := n.getHTTP1(&ctx)
	e.x.resp.SetConnectionClose()
	plainError(&e.x, fasthttp.StatusBadRequest, "bad")
	if !ctx.Response.ConnectionClose() || ctx.Response.StatusCode() != 400 {
		t.Errorf("close %v, status %d", ctx.Response.ConnectionClose(), ctx.Response.StatusCode())
	}
	var open fasthttp.RequestCtx
	plainError(&n.getHTTP1(&open).x, fasthttp.StatusNotFound, "no route")
	if open.Response.ConnectionClose() {
		t.Error("a 404 closed the connection")
	}
}
