package origin

import (
	"bufio"
	"errors"
	"io"
	"net"
	"net/http"
	"strings"
	"testing"

	"github.com/valyala/fasthttp"
)

// TestPool_chunkedStartNeverWaitsForALine: the first size line of a chunked body, and the
// trailer section after a last chunk, are checked before Do returns only when they came with
// the head (startArrived); an origin that trickles them has its head handed on at once, with
// BodyPending, and the body is read whole afterwards. A first size line already longer than
// the bound with no line end fails at once. Failed before: Do waited in chunkedBody.start's
// ReadSlice for the rest of the line (or trailer) until the origin sent it.
func TestPool_chunkedStartNeverWaitsForALine(t *testing.T) {
	const head = "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n"
	cases := map[string]struct{ first, rest, body string }{
		"/size-in-part":      {"1", "0\r\nabcdefghijklmnop\r\n0\r\n\r\n", "abcdefghijklmnop"},
		"/size-without-lf":   {"5\r", "\nhello\r\n0\r\n\r\n", "hello"},
		"/extension-in-part": {"5;name=\"va", "lue\"\r\nhello\r\n0\r\n\r\n", "hello"},
		"/trailer-in-part":   {"0\r\nX-Sum: 1", "2\r\n\r\n", ""},
		"/trailer-end-later": {"0\r\nX-Sum: 12\r\n", "\r\n", ""},
	}
	// One release per path, made before the server runs: beforeRelease closes it.
	releases := map[string]chan struct{}{"/too-long": make(chan struct{})}
	for path := range cases {
		releases[path] = make(chan struct{})
	}
	ln := listenLocal(t)
	serveEach(ln, func(c net.Conn, br *bufio.Reader) {
		req, err := http.ReadRequest(br)
		if err != nil {
			return
		}
		if req.URL.Path == "/too-long" {
			c.Write([]byte(head + strings.Repeat("0", maxChunkLine+1)))
			<-releases["/too-long"]
			return
		}
		tc := cases[req.URL.Path]
		c.Write([]byte(head + tc.first))
		<-releases[req.URL.Path]
		c.Write([]byte(tc.rest))
	})
	p, err := NewPool(poolConf("roundrobin", "http://"+ln.Addr().String()), Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer p.Close()
	do := func(path string) doResult { return doURL(p, "http://www.example.com"+path) }
	for path, tc := range cases {
		r, early := beforeRelease(releases[path], func() doResult { return do(path) })
		if !early {
			t.Errorf("%s: Do returned only after the origin sent the rest of the line: the head was held for it", path)
		}
		if r.err != nil {
			t.Errorf("%s: Do: %v", path, r.err)
			fasthttp.ReleaseResponse(r.resp)
			continue
		}
		if !r.res.BodyPending {
			t.Errorf("%s: BodyPending false; want true", path)
		}
		b, err := io.ReadAll(r.resp.BodyStream())
		if string(b) != tc.body || err != nil {
			t.Errorf("%s: body %q, %v; want %q", path, b, err, tc.body)
		}
		r.done()
		fasthttp.ReleaseResponse(r.resp)
	}

	r, early := beforeRelease(releases["/too-long"], func() doResult { return do("/too-long") })
	if !early {
		t.Errorf("/too-long: Do waited for a line end after more than %d bytes of size line", maxChunkLine)
	}
	var oe *Error
	if r.err == nil || !errors.As(r.err, &oe) || !errors.Is(r.err, errChunkTooLong) {
		t.Errorf("/too-long: Do = %v; want an origin *Error wrapping errChunkTooLong", r.err)
	}
	fasthttp.ReleaseResponse(r.resp)
}
