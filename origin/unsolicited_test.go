//go:build linux || darwin || freebsd || netbsd || openbsd

package origin

import (
	"bufio"
	"io"
	"net"
	"net/http"
	"strings"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/valyala/fasthttp"
)

// Bytes that reach a pooled connection's socket after its response, however soon, are
// seen at its reuse: whether the last read drained the socket (the server's extra bytes came
// in a write of their own) or left them there (they came with the response).
func TestUnsolicited_peeksEveryReuse(t *testing.T) {
	ic, srv := dialedPair(t, time.Second, time.Second)
	waitFor := func(n int) { // until n bytes are in the client's socket
		t.Helper()
		for deadline := time.Now().Add(2 * time.Second); time.Now().Before(deadline); time.Sleep(time.Millisecond) {
			var b [64]byte
			if k, _, _ := recvPeek(t, ic, b[:]); k >= n {
				return
			}
		}
		t.Fatalf("%d bytes never arrived", n)
	}

	// The response ends with the socket drained; bytes come after it.
	srv.Write([]byte("HTTP/1.1 204 No Content\r\n\r\n"))
	buf := make([]byte, 4096)
	if n, err := ic.Read(buf); err != nil || n == len(buf) {
		t.Fatalf("read %d: %v; want a short read that drains the socket", n, err)
	}
	if unsolicited(ic) {
		t.Error("a drained connection with nothing after its response was refused")
	}
	srv.Write([]byte("junk"))
	waitFor(4)
	if !unsolicited(ic) {
		t.Error("bytes that came after a drained response not seen at an immediate reuse")
	}

	// The response filled the reader's buffer: more waits, and is seen.
	small := make([]byte, 2)
	if n, err := ic.Read(small); err != nil || n != 2 {
		t.Fatalf("read %d: %v; want a full read", n, err)
	}
	if !unsolicited(ic) {
		t.Error("bytes left in the socket by a full read not seen on an immediate reuse")
	}
}

// recvPeek reports how many bytes wait in c's socket without taking them.
func recvPeek(t *testing.T, c *inactivityConn, b []byte) (int, bool, error) {
	t.Helper()
	rc, err := c.Conn.(*net.TCPConn).SyscallConn()
	if err != nil {
		t.Fatal(err)
	}
	var n int
	err = rc.Read(func(fd uintptr) bool {
		n, _, _ = syscall.Recvfrom(int(fd), b, syscall.MSG_PEEK|syscall.MSG_DONTWAIT)
		return true
	})
	return n, n > 0, err
}

// RFC 9112 section 6.3: bytes after a response whose end fills the reader's 16 KiB buffer
// exactly (so none wait in the buffer) are in the socket when the next request takes the
// connection, however soon it does: that request goes on a new connection and never reads
// them as its response.
func TestPool_bytesPastTheReaderRefuseImmediateReuse(t *testing.T) {
	ln := listenLocal(t)
	var conns atomic.Int32
	evil := "HTTP/1.1 200 OK\r\nContent-Length: 4\r\n\r\nevil"
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			first := conns.Add(1) == 1
			go func(c net.Conn) {
				defer c.Close()
				br := bufio.NewReader(c)
				for {
					req, err := http.ReadRequest(br)
					if err != nil {
						return
					}
					io.Copy(io.Discard, req.Body)
					if first {
						// One write: the response, sized to the reader, and the forged one.
						head := "HTTP/1.1 200 OK\r\nContent-Length: 16342\r\n\r\n"
						c.Write([]byte(head + strings.Repeat("x", 16<<10-len(head)) + evil))
						first = false
						continue
					}
					c.Write([]byte("HTTP/1.1 200 OK\r\nContent-Length: 4\r\n\r\ngood"))
				}
			}(c)
		}
	}()
	p, err := NewPool(poolConf("roundrobin", "http://"+ln.Addr().String()), Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer p.Close()
	get := func() (int, string) { return poolGet(t, p, "GET", "/x") }
	if status, body := get(); status != 200 || len(body) != 16342 {
		t.Fatalf("first answer %d with %d bytes, want 200 with 16342", status, len(body))
	}
	if status, body := get(); status != 200 || body != "good" {
		t.Fatalf("second request got %d %q, want 200 \"good\" on a new connection", status, body)
	}
	if n := conns.Load(); n != 2 {
		t.Errorf("%d connections, want 2", n)
	}
}

// One deadline covers a request written in one Write and the first read of its answer
// (armRequest); a request that needs more writes re-arms its first read, so the time its
// content takes to send never eats into its first-byte timeout.
func TestInactivityConn_armRequest(t *testing.T) {
	for _, tt := range []struct {
		name     string
		writes   int
		wantFail bool
	}{
		{"one write: the first-byte timeout counts from the request", 1, true},
		{"two writes: the first read re-arms", 2, false},
	} {
		t.Run(tt.name, func(t *testing.T) {
			ic, srv := dialedPair(t, time.Second, 300*time.Millisecond)
			if err := ic.armRequest(time.Now()); err != nil {
				t.Fatal(err)
			}
			for i := range tt.writes {
				if i > 0 {
					time.Sleep(200 * time.Millisecond) // a slow upload
				}
				if _, err := ic.Write([]byte("x")); err != nil {
					t.Fatal(err)
				}
			}
			time.Sleep(350 * time.Millisecond) // past the limit from armRequest
			srv.Write([]byte("HTTP/1.1 204 No Content\r\n\r\n"))
			_, err := ic.Read(make([]byte, 64))
			if failed := err != nil; failed != tt.wantFail {
				t.Errorf("read: %v, want failure %v", err, tt.wantFail)
			}
		})
	}
}

// deadlineCount counts the deadlines set on a connection.
type deadlineCount struct {
	net.Conn
	set atomic.Int32
}

func (c *deadlineCount) SetDeadline(t time.Time) error {
	c.set.Add(1)
	return c.Conn.SetDeadline(t)
}

// A busy connection keeps the deadline armed before its last request while that one is
// still at least the limit away (armSlack): requests in quick succession arm it once, and
// the first-byte timeout still never ends a wait sooner than the limit after the request.
func TestInactivityConn_armRequestKeepsADeadlineFarEnough(t *testing.T) {
	ic, srv := dialedPair(t, time.Second, 300*time.Millisecond)
	counted := &deadlineCount{Conn: ic.Conn}
	ic.Conn = counted
	start := time.Now()
	for i := range 3 {
		if err := ic.armRequest(start.Add(time.Duration(i) * time.Millisecond)); err != nil {
			t.Fatal(err)
		}
	}
	if n := counted.set.Load(); n != 1 {
		t.Errorf("%d deadlines set for three requests within limit/%d, want 1", n, armSlack)
	}
	// Later than the slack: the armed deadline is too close, a new one is set.
	later := time.Now().Add(300 * time.Millisecond / armSlack)
	if err := ic.armRequest(later); err != nil {
		t.Fatal(err)
	}
	if n := counted.set.Load(); n != 2 {
		t.Errorf("%d deadlines set, want 2 once the armed one is less than the limit away", n)
	}
	// The answer comes 280 ms after the last request: within the limit, so it is read.
	time.Sleep(time.Until(later.Add(280 * time.Millisecond)))
	srv.Write([]byte("HTTP/1.1 204 No Content\r\n\r\n"))
	if _, err := ic.Read(make([]byte, 64)); err != nil {
		t.Errorf("read within the limit of the last request: %v", err)
	}
}

// dialedPair dials a loopback listener through dialer(connect, firstByte) and returns the
// client's inactivityConn and the server's side; both are closed when the test ends.
func dialedPair(t *testing.T, connect, firstByte time.Duration) (*inactivityConn, net.Conn) {
	t.Helper()
	ln := listenLocal(t)
	accepted := make(chan net.Conn, 1)
	go func() {
		if c, err := ln.Accept(); err == nil {
			accepted <- c
		}
	}()
	c, err := dialer(connect, firstByte)(ln.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	srv := <-accepted
	t.Cleanup(func() { srv.Close() })
	return c.(*inactivityConn), srv
}

// poolGet sends method path to www.example.com through p and returns the status and the
// whole body.
func poolGet(t *testing.T, p *Pool, method, path string) (int, string) {
	t.Helper()
	req, resp := fasthttp.AcquireRequest(), fasthttp.AcquireResponse()
	defer fasthttp.ReleaseRequest(req)
	defer fasthttp.ReleaseResponse(resp)
	req.Header.SetMethod(method)
	req.SetRequestURI("http://www.example.com" + path)
	_, done, err := p.Do(req, resp, Target{Idempotent: true})
	if err != nil {
		t.Fatal(err)
	}
	defer done()
	b, err := io.ReadAll(resp.BodyStream())
	if err != nil {
		t.Fatal(err)
	}
	return resp.StatusCode(), string(b)
}
