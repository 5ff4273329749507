//go:build linux || darwin || freebsd || netbsd || openbsd

package origin

import (
	"bufio"
	"io"
	"net"
	"net/http"
	"testing"
)

// RFC 9112 section 6.3: a server that answers 204, 304 or HEAD and then, in a write of its
// own, sends a forged response has those bytes in the connection's socket before the next request takes
// the connection, however soon after the 204 it does (a busy pool reuses within
// microseconds). The reuse must find them and go to a new connection: read as the next
// request's response, they answer another URL and can be stored under its key.
func TestReview4_bytesAfterABodylessAnswerRefuseImmediateReuse(t *testing.T) {
	ln := listenLocal(t)
	forge := make(chan chan struct{})
	bodyless := map[string]string{
		"GET /204":   "HTTP/1.1 204 No Content\r\n\r\n",
		"GET /304":   "HTTP/1.1 304 Not Modified\r\nETag: \"a\"\r\n\r\n",
		"HEAD /head": "HTTP/1.1 200 OK\r\nContent-Length: 4\r\n\r\n",
	}
	serveEach(ln, func(c net.Conn, br *bufio.Reader) {
		for {
			req, err := http.ReadRequest(br)
			if err != nil {
				return
			}
			io.Copy(io.Discard, req.Body)
			if empty, ok := bodyless[req.Method+" "+req.URL.Path]; ok {
				c.Write([]byte(empty))
				// The forged response, once the pool has read the 204: a write of
				// its own, so the pool's last read drained the socket.
				written := <-forge
				c.Write([]byte("HTTP/1.1 200 OK\r\nContent-Length: 4\r\n\r\nevil"))
				close(written)
				continue
			}
			c.Write([]byte("HTTP/1.1 200 OK\r\nContent-Length: 4\r\n\r\ngood"))
		}
	})
	p, err := NewPool(poolConf("roundrobin", "http://"+ln.Addr().String()), Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer p.Close()
	get := func(method, path string) (int, string) { return poolGet(t, p, method, path) }
	for _, tc := range []struct{ method, path string }{{"GET", "/204"}, {"GET", "/304"}, {"HEAD", "/head"}} {
		for i := 0; i < 10; i++ {
			get(tc.method, tc.path)
			written := make(chan struct{})
			forge <- written
			<-written // on loopback the bytes are in the pool's socket once the write returns
			if status, body := get("GET", "/x"); status != 200 || body != "good" {
				t.Fatalf("%s %s, round %d: /x got %d %q, the bytes the server sent after its answer; want 200 \"good\" on a new connection", tc.method, tc.path, i, status, body)
			}
		}
	}
}
