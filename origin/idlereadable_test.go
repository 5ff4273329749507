//go:build linux || darwin || freebsd || netbsd || openbsd

package origin

import (
	"bufio"
	"crypto/tls"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"sync/atomic"
	"testing"
	"time"

	"github.com/valyala/fasthttp"
)

// A pooled connection that became readable while idle is never reused, as nginx's and
// HAProxy's idle upstream connections are closed once readable: bytes a server sent after its
// response, late (0, 5 or 50 ms after it) and in a write of their own, would be read as the
// answer to the next request, for another URL; over TLS as over plain TCP.
func TestPool_lateBytesOnAnIdleConnectionAreNeverAnAnswer(t *testing.T) {
	stray := "HTTP/1.1 200 OK\r\nContent-Length: 6\r\nCache-Control: max-age=60\r\n\r\npoison" + "garbage\r\n\r\n"
	for _, scheme := range []string{"http", "https"} {
		for _, delay := range []time.Duration{0, 5 * time.Millisecond, 50 * time.Millisecond} {
			t.Run(fmt.Sprintf("%s/%v", scheme, delay), func(t *testing.T) {
				ln := listenLocal(t)
				var tlsConf *tls.Config
				if scheme == "https" {
					srv := httptest.NewUnstartedServer(nil)
					srv.StartTLS()
					tlsConf = srv.TLS
					t.Cleanup(srv.Close)
					ln = tls.NewListener(ln, tlsConf)
				}
				written := make(chan struct{}, 1)
				serveEach(ln, func(c net.Conn, br *bufio.Reader) {
					for {
						req, err := http.ReadRequest(br)
						if err != nil {
							return
						}
						io.Copy(io.Discard, req.Body)
						fmt.Fprintf(c, "HTTP/1.1 200 OK\r\nContent-Length: %d\r\n\r\n%s", len(req.URL.Path), req.URL.Path)
						time.Sleep(delay)
						c.Write([]byte(stray))
						written <- struct{}{}
					}
				})
				p, _ := newTestPool(t, poolConf("roundrobin", scheme+"://"+ln.Addr().String()), nil)
				if tlsConf != nil {
					p.servers[0].client.TLSConfig = &tls.Config{InsecureSkipVerify: true}
				}
				for i := range 5 {
					path := fmt.Sprintf("/r%d", i)
					if status, body := poolGet(t, p, "GET", path); status != 200 || body != path {
						t.Fatalf("%s got %d %q, want 200 %q: the bytes the server sent after an earlier answer", path, status, body, path)
					}
					<-written
					waitReadable(t, p)
				}
			})
		}
	}
}

// A connection the server closed while it was idle (its FIN is in the socket) is not
// written to: a request that may not be retried (a POST) would fail with it, where nginx and
// HAProxy, seeing the idle connection readable, have closed it and open a new one.
func TestPool_connectionClosedWhileIdleIsNotReused(t *testing.T) {
	ln := listenLocal(t)
	var conns atomic.Int32
	closed := make(chan struct{}, 1)
	serveEach(ln, func(c net.Conn, br *bufio.Reader) {
		conns.Add(1)
		req, err := http.ReadRequest(br)
		if err != nil {
			return
		}
		io.Copy(io.Discard, req.Body)
		c.Write([]byte("HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok"))
		time.Sleep(5 * time.Millisecond) // the pool has the connection back: idle
		c.Close()
		closed <- struct{}{}
	})
	p, _ := newTestPool(t, poolConf("roundrobin", "http://"+ln.Addr().String()), nil)
	for i := range 3 {
		req, resp := fasthttp.AcquireRequest(), fasthttp.AcquireResponse()
		req.Header.SetMethod("POST")
		req.SetRequestURI("http://www.example.com/form")
		req.SetBodyString("a=1")
		_, done, err := p.Do(req, resp, Target{})
		if err != nil {
			t.Fatalf("POST %d on a connection the server closed while idle: %v", i, err)
		}
		b, _ := io.ReadAll(resp.BodyStream())
		done()
		if resp.StatusCode() != 200 || string(b) != "ok" {
			t.Fatalf("POST %d: %d %q", i, resp.StatusCode(), b)
		}
		fasthttp.ReleaseRequest(req)
		fasthttp.ReleaseResponse(resp)
		<-closed
		waitReadable(t, p)
	}
	if n := conns.Load(); n != 3 {
		t.Errorf("%d connections for 3 requests whose connections the server closed, want 3", n)
	}
}

// waitReadable waits until what the server wrote (or its FIN) has reached the pool's idle
// connection: on loopback it is there within microseconds of the write; the wait only keeps
// a loaded machine from racing the next request ahead of it.
func waitReadable(t *testing.T, _ *Pool) {
	t.Helper()
	time.Sleep(2 * time.Millisecond)
}
