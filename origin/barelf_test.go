package origin

import (
	"strings"
	"testing"
)

// TestPool_bareLFHeadIsReadAtItsEnd: RFC 9112 section 2.2, a recipient may take a bare LF
// as a line end, and nginx, Varnish and HAProxy read such an origin's head. The pool read
// it too, but only once a CRLF CRLF arrived: a head that ends "\n\n" on a kept-alive
// connection waited for bytes the origin never sends, until first_byte_timeout (a 504 for
// every request, and a timeout counted against a healthy server). The head is read at its
// own end whatever its line ends, with a length, chunked and after an interim response, and
// the connection is reused for the next request.
func TestPool_bareLFHeadIsReadAtItsEnd(t *testing.T) {
	heads := map[string]string{
		"/length":  "HTTP/1.1 200 OK\nX-Bare: lf\nContent-Length: 5\n\nhello",
		"/mixed":   "HTTP/1.1 200 OK\r\nX-Bare: lf\r\nContent-Length: 5\r\n\nhello",
		"/chunked": "HTTP/1.1 200 OK\nX-Bare: lf\nTransfer-Encoding: chunked\n\n5\r\nhello\r\n0\r\n\r\n",
		"/interim": "HTTP/1.1 103 Early Hints\nLink: </a.css>\n\nHTTP/1.1 200 OK\nX-Bare: lf\nContent-Length: 5\n\nhello",
	}
	ln := serveHeads(t, heads, nil)
	cfg := poolConf("roundrobin", "http://"+ln.Addr().String())
	p, err := NewPool(cfg, Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer p.Close()
	readsEachHead(t, p, []string{"/length", "/mixed", "/chunked", "/interim"}, "X-Bare", "lf")
}

// readsEachHead asks p for each path in turn: each answer must come within 2 s with field
// want and the body hello, and the request after it (/next) must get 200 "good" (the
// connection was framed at the response's end).
func readsEachHead(t *testing.T, p *Pool, paths []string, field, want string) {
	t.Helper()
	for _, path := range paths {
		got := doWithin(p, path, field)
		if got == "" {
			t.Errorf("%s: no answer after 2 s: the pool waits for bytes the origin never sends", path)
			continue
		}
		if got != want+" hello" {
			t.Errorf("%s: got %q, want %s %s and the body hello", path, got, field, want)
		}
		if status, body := poolGet(t, p, "GET", "/next"); status != 200 || body != "good" {
			t.Errorf("after %s: the next request got %d %q", path, status, strings.TrimSpace(body))
		}
	}
}
