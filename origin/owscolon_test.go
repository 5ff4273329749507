package origin

import (
	"bufio"
	"io"
	"net"
	"net/http"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/valyala/fasthttp"
)

// TestPool_whitespaceBeforeTheColonIsRemoved: RFC 9112 section 5.1, "A proxy MUST remove
// any such whitespace from a response message before forwarding it downstream". fasthttp
// removed spaces there but refused a tab ("X-A\t: 1" was an error, 502 to the client, while
// "X-A : 1" was served). Any run of spaces and tabs is now removed, and a framing field so
// spelled frames the message as the clean name does: the body is read at its length or its
// chunks and the connection serves the next request.
func TestPool_whitespaceBeforeTheColonIsRemoved(t *testing.T) {
	heads := map[string]string{
		"/space":      "HTTP/1.1 200 OK\r\nX-A : 1\r\nContent-Length: 5\r\n\r\nhello",
		"/tab":        "HTTP/1.1 200 OK\r\nX-A\t: 1\r\nContent-Length: 5\r\n\r\nhello",
		"/run":        "HTTP/1.1 200 OK\r\nX-A \t \t: 1\r\nContent-Length: 5\r\n\r\nhello",
		"/bare-lf":    "HTTP/1.1 200 OK\nX-A\t: 1\nContent-Length: 5\n\nhello",
		"/length-tab": "HTTP/1.1 200 OK\r\nX-A: 1\r\nContent-Length\t: 5\r\n\r\nhello",
		"/chunked":    "HTTP/1.1 200 OK\r\nX-A: 1\r\nTransfer-Encoding\t : chunked\r\n\r\n5\r\nhello\r\n0\r\n\r\n",
		"/interim":    "HTTP/1.1 103 Early Hints\r\nLink\t: </a.css>\r\n\r\nHTTP/1.1 200 OK\r\nX-A\t: 1\r\nContent-Length: 5\r\n\r\nhello",
	}
	var conns atomic.Int32
	ln := serveHeads(t, heads, &conns)
	p, err := NewPool(poolConf("roundrobin", "http://"+ln.Addr().String()), Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer p.Close()
	readsEachHead(t, p, []string{"/space", "/tab", "/run", "/bare-lf", "/length-tab", "/chunked", "/interim"}, "X-A", "1")
	if n := conns.Load(); n != 1 {
		t.Errorf("the origin saw %d connections, want 1 (each response framed at its end)", n)
	}
}

// TestHeadFlags_framingNameWithWhitespaceBeforeTheColon: a framing field spelled with
// whitespace before its colon frames the message once the whitespace is removed, so it counts
// as the clean name when the head carries both Content-Length and Transfer-Encoding (the
// connection is then not reused: a smuggling attempt must not pass as a single framing).
// Failed before: "Content-Length :" beside a Transfer-Encoding was not seen as twice.
func TestHeadFlags_framingNameWithWhitespaceBeforeTheColon(t *testing.T) {
	for _, tc := range []struct {
		name, head  string
		twice, kept bool // kept: the head is parsed as it came (no rewrite)
	}{
		{"clean", "HTTP/1.1 200 OK\r\nContent-Length: 3\r\nTransfer-Encoding: chunked\r\n\r\n", true, true},
		{"space before CL's colon", "HTTP/1.1 200 OK\r\nContent-Length : 3\r\nTransfer-Encoding: chunked\r\n\r\n", true, false},
		{"tab before TE's colon", "HTTP/1.1 200 OK\r\nContent-Length: 3\r\nTransfer-Encoding\t: chunked\r\n\r\n", true, false},
		{"both spaced", "HTTP/1.1 200 OK\r\nTransfer-Encoding \t: chunked\r\nContent-Length  : 3\r\n\r\n", true, false},
		{"CL alone spaced", "HTTP/1.1 200 OK\r\nContent-Length\t: 3\r\n\r\n", false, false},
		{"a longer name is not CL", "HTTP/1.1 200 OK\r\nContent-Lengthy : 3\r\nTransfer-Encoding: chunked\r\n\r\n", false, false},
		{"whitespace in a value only", "HTTP/1.1 200 OK\r\nX-A: a \t: b\r\n\r\n", false, true},
	} {
		br := bufio.NewReaderSize(strings.NewReader(tc.head), 4096)
		br.Peek(1)
		twice, _, cleanEnd := headFlags(br)
		if twice != tc.twice || (cleanEnd == 0) != tc.kept {
			t.Errorf("%s: twice %v, cleanEnd %d; want twice %v, rewritten %v", tc.name, twice, cleanEnd, tc.twice, !tc.kept)
		}
	}
}

// doWithin asks p for path and says what came back within 2 s: the field's value and the body
// ("error: ..." when Do or the body read fails, "" when nothing came).
func doWithin(p *Pool, path, field string) string {
	done := make(chan string, 1)
	go func() {
		req, resp := fasthttp.AcquireRequest(), fasthttp.AcquireResponse()
		defer fasthttp.ReleaseRequest(req)
		defer fasthttp.ReleaseResponse(resp)
		req.SetRequestURI("http://www.example.com" + path)
		_, release, err := p.Do(req, resp, Target{Idempotent: true})
		if err != nil {
			done <- "error: " + err.Error()
			return
		}
		b, err := io.ReadAll(resp.BodyStream())
		got := string(resp.Header.Peek(field)) + " " + string(b)
		if err != nil {
			got = "body error: " + err.Error()
		}
		release() // before the answer: the next request may take the connection
		done <- got
	}()
	select {
	case got := <-done:
		return got
	case <-time.After(2 * time.Second):
		return ""
	}
}

// serveHeads is an origin that answers each path in heads with its bytes, and any other path
// with "good", on every connection, counting them in conns when it is not nil.
func serveHeads(t *testing.T, heads map[string]string, conns *atomic.Int32) net.Listener {
	ln := listenLocal(t)
	serveEach(ln, func(c net.Conn, br *bufio.Reader) {
		if conns != nil {
			conns.Add(1)
		}
		for {
			req, err := http.ReadRequest(br)
			if err != nil {
				return
			}
			io.Copy(io.Discard, req.Body)
			if h, ok := heads[req.URL.Path]; ok {
				c.Write([]byte(h))
				continue
			}
			c.Write([]byte("HTTP/1.1 200 OK\r\nContent-Length: 4\r\n\r\ngood"))
		}
	})
	return ln
}
