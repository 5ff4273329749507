package origin

import (
	"bufio"
	"bytes"
	"io"
	"net"
	"testing"
	"time"

	"github.com/shoal-cdn/shoal/conf"
	"github.com/valyala/fasthttp"
)

// TestPool_sendRelaysAnAnswerThatCameBeforeTheBody: a server may answer an upload before it
// read it (a 413, a 401) and then close, which resets the connection under the body still
// being written, or stop reading, which times the write out. The answer is waiting on the
// socket and is what the client should get; the write's error made it a 502, or after
// first_byte_timeout a 504 charged to the server. Failed before: "connection reset by peer"
// and "i/o timeout" (the write's errors). The connection is never reused (the body was not
// all sent).
func TestPool_sendRelaysAnAnswerThatCameBeforeTheBody(t *testing.T) {
	const early = "HTTP/1.1 413 Content Too Large\r\nContent-Length: 3\r\n\r\nbig"
	quit := make(chan struct{})
	t.Cleanup(func() { close(quit) })
	for _, tc := range []struct {
		name  string
		after func(c net.Conn, br *bufio.Reader) // once the answer is written
	}{
		// Close with unread bytes: the kernel resets the connection.
		{"close", func(c net.Conn, _ *bufio.Reader) { c.Close() }},
		// Read nothing more (until the test ends): the write times out.
		{"stop-reading", func(net.Conn, *bufio.Reader) { <-quit }},
	} {
		t.Run(tc.name, func(t *testing.T) {
			ln := listenLocal(t)
			serveEach(ln, func(c net.Conn, br *bufio.Reader) {
				for { // the head only
					l, err := br.ReadString('\n')
					if err != nil || l == "\r\n" {
						break
					}
				}
				io.WriteString(c, early)
				tc.after(c, br)
			})
			cfg := poolConf("roundrobin", "http://"+ln.Addr().String())
			cfg.FirstByteTimeout = conf.Duration(300 * time.Millisecond) // the stop-reading write's bound
			p, _ := newTestPool(t, cfg, nil)
			const size = 16 << 20 // past every socket buffer: the write cannot finish
			req := &Request{Head: &testHead{method: "POST", uri: "/upload", host: "h"}, Body: bytes.NewReader(make([]byte, size)), BodyLen: size}
			resp := fasthttp.AcquireResponse()
			defer fasthttp.ReleaseResponse(resp)
			_, done, err := p.Send(req, resp, Target{})
			if err != nil {
				t.Fatalf("Send: %v, want the server's 413", err)
			}
			b, _ := io.ReadAll(resp.BodyStream())
			done()
			if resp.StatusCode() != 413 || string(b) != "big" {
				t.Errorf("answer %d %q, want 413 \"big\"", resp.StatusCode(), b)
			}
		})
	}
}
