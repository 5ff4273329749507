package origin

import (
	"bufio"
	"errors"
	"io"
	"net"
	"net/http"
	"testing"
	"time"

	"github.com/valyala/fasthttp"
)

// TestPool_chunkedBodyBrokenAtItsFirstChunkFailsTheExchange: a chunked body whose first size
// line is broken (not hex, 20 digits, a bare LF, the connection closed right after the head)
// fails Do as a broken head does, with the server charged an error, so the edge answers 502
// before any byte reaches its client. The close right after the head counts when it arrived
// with the head (corkClose); it is not waited for (TestPool_chunkedHeadIsNotHeldForItsFirstChunk).
// Before, Do returned the head and the body's first read
// failed: the client got nothing, or a head and a cut. A body that breaks after its first
// size line is still handed on (the caller cuts it), and a body that is only its last chunk
// is read whole.
func TestPool_chunkedBodyBrokenAtItsFirstChunkFailsTheExchange(t *testing.T) {
	const head = "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n"
	answers := map[string]string{
		"/not-hex":     head + "zz\r\nhello\r\n0\r\n\r\n",
		"/20-digits":   head + "99999999999999999999\r\nhello\r\n0\r\n\r\n",
		"/bare-lf":     head + "5\nhello\r\n0\r\n\r\n",
		"/closed":      head, // nothing after the head but the close
		"/later-cut":   head + "5\r\nhello\r\n5\r\nwo",
		"/empty":       head + "0\r\n\r\n",
		"/whole":       head + "5\r\nhello\r\n0\r\n\r\n",
		"/not-chunked": "HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\nhello",
	}
	ln := listenLocal(t)
	serveEach(ln, func(c net.Conn, br *bufio.Reader) {
		req, err := http.ReadRequest(br)
		if err != nil {
			return
		}
		io.Copy(io.Discard, req.Body)
		corkClose(c, []byte(answers[req.URL.Path]))
	})
	p, err := NewPool(poolConf("roundrobin", "http://"+ln.Addr().String()), Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer p.Close()
	for _, tc := range []struct {
		path    string
		failsDo bool   // Do fails: the edge answers 502
		body    string // else what the body reads, and whether it fails
		bodyErr bool
	}{
		{"/not-hex", true, "", false},
		{"/20-digits", true, "", false},
		{"/bare-lf", true, "", false},
		{"/closed", canCorkClose, "", !canCorkClose},
		{"/later-cut", false, "hellowo", true},
		{"/empty", false, "", false},
		{"/whole", false, "hello", false},
		{"/not-chunked", false, "hello", false},
	} {
		before := p.Snapshot().Servers[0].Errors
		req, resp := fasthttp.AcquireRequest(), fasthttp.AcquireResponse()
		req.SetRequestURI("http://www.example.com" + tc.path)
		_, done, err := p.Do(req, resp, Target{Idempotent: true})
		var oe *Error
		switch {
		case tc.failsDo && (err == nil || !errors.As(err, &oe) || !ResponseStarted(err)):
			t.Errorf("%s: Do = %v; want an origin *Error after the response started", tc.path, err)
		case !tc.failsDo && err != nil:
			t.Errorf("%s: Do = %v", tc.path, err)
		case !tc.failsDo:
			b, rerr := io.ReadAll(resp.BodyStream())
			if string(b) != tc.body || (rerr != nil) != tc.bodyErr {
				t.Errorf("%s: body %q, %v; want %q, error %v", tc.path, b, rerr, tc.body, tc.bodyErr)
			}
			done()
		}
		if got := p.Snapshot().Servers[0].Errors - before; tc.failsDo && got != 1 {
			t.Errorf("%s: the server was charged %d errors, want 1", tc.path, got)
		}
		fasthttp.ReleaseRequest(req)
		fasthttp.ReleaseResponse(resp)
	}
}

// TestPool_chunkedHeadIsNotHeldForItsFirstChunk: the first-chunk check reads only a size
// line that came with the head. An origin that sends its head and its first chunk later (a
// stream of server-sent events, a page flushed head first) has its head handed on at once,
// not when the chunk comes: Do returns while the origin still holds the chunk back.
func TestPool_chunkedHeadIsNotHeldForItsFirstChunk(t *testing.T) {
	release := make(chan struct{})
	ln := listenLocal(t)
	serveEach(ln, func(c net.Conn, br *bufio.Reader) {
		if _, err := http.ReadRequest(br); err != nil {
			return
		}
		c.Write([]byte("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n"))
		select {
		case <-release:
		case <-time.After(5 * time.Second):
		}
		c.Write([]byte("5\r\nhello\r\n0\r\n\r\n"))
		c.Close()
	})
	p, err := NewPool(poolConf("roundrobin", "http://"+ln.Addr().String()), Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer p.Close()
	req, resp := fasthttp.AcquireRequest(), fasthttp.AcquireResponse()
	req.SetRequestURI("http://www.example.com/stream")
	type result struct {
		done func()
		err  error
	}
	r, early := beforeRelease(release, func() result {
		_, done, err := p.Do(req, resp, Target{Idempotent: true})
		return result{done, err}
	})
	if !early {
		t.Errorf("Do returned only after the origin sent its first chunk: the head was held for it")
	}
	if r.err != nil {
		t.Fatalf("Do: %v", r.err)
	}
	b, err := io.ReadAll(resp.BodyStream())
	if string(b) != "hello" || err != nil {
		t.Errorf("body %q, %v; want hello", b, err)
	}
	r.done()
}
