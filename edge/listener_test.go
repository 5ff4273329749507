package edge

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"net"
	"net/http"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/valyala/fasthttp"
)

// The feed hands fasthttp the bare *net.TCPConn (fasthttp writes a response larger than its
// buffer with one writev only to that type), and forgets a connection when the server reports
// it closed or hijacked, whether it reports the socket or a wrapper of it (its per-IP one).
func TestConnFeed_handsOutTheBareSocketAndForgetsItWhenClosed(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	f := startFeed(ln)
	defer f.close()
	n := &Node{feed: f}
	hl := &handoffListener{feed: f, addr: ln.Addr(), closed: make(chan struct{})}
	for _, c := range []struct {
		name  string
		state fasthttp.ConnState
		wrap  bool
	}{
		{"closed", fasthttp.StateClosed, false},
		{"hijacked", fasthttp.StateHijacked, false},
		{"closed, reported through a wrapper", fasthttp.StateClosed, true},
	} {
		client, err := net.Dial("tcp", ln.Addr().String())
		if err != nil {
			t.Fatal(err)
		}
		conn, err := hl.Accept()
		if err != nil {
			t.Fatal(err)
		}
		if _, ok := conn.(*net.TCPConn); !ok {
			t.Fatalf("%s: the feed handed out a %T, want the bare *net.TCPConn", c.name, conn)
		}
		if got := f.socketOf(conn); got != conn {
			t.Errorf("%s: socketOf = %v, want the connection", c.name, got)
		}
		var reported net.Conn = conn
		if c.wrap {
			reported = struct{ net.Conn }{conn}
			if got := f.socketOf(reported); got != conn {
				t.Errorf("%s: socketOf(wrapper) = %v, want the bare socket", c.name, got)
			}
		}
		n.connState(reported, fasthttp.StateActive)
		n.connState(reported, fasthttp.StateIdle)
		if liveCount(f) != 1 {
			t.Errorf("%s: %d live connections while active or idle, want 1", c.name, liveCount(f))
		}
		n.connState(reported, c.state)
		conn.Close()
		client.Close()
		if liveCount(f) != 0 {
			t.Errorf("%s: %d live connections after the server reported it, want 0", c.name, liveCount(f))
		}
	}
}

// rawGET sends one keep-alive GET on c and returns the status code it gets back.
func rawGET(t *testing.T, c net.Conn, r *bufio.Reader, path string) (int, error) {
	t.Helper()
	c.SetDeadline(time.Now().Add(5 * time.Second))
	if _, err := fmt.Fprintf(c, "GET %s HTTP/1.1\r\nHost: www.test\r\n\r\n", path); err != nil {
		return 0, err
	}
	resp, err := http.ReadResponse(r, nil)
	if err != nil {
		return 0, err
	}
	io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	return resp.StatusCode, nil
}

// limits.max_conns_per_ip refuses the connection over the limit with 429, and a closed
// connection gives its place back (the limit counts closes, not only opens).
// limits.max_conns refuses the connection over the limit with 503.
func TestNode_connectionLimitsRefuseTheNextAndCountCloses(t *testing.T) {
	o := startOrigin(t, func(w http.ResponseWriter, r *http.Request) { w.Write([]byte("ok")) })
	for _, c := range []struct {
		key    string
		status int
	}{
		{"max_conns_per_ip", http.StatusTooManyRequests},
		{"max_conns", http.StatusServiceUnavailable},
	} {
		t.Run(c.key, func(t *testing.T) {
			n := startNode(t, oneRoute(false, o.URL)+fmt.Sprintf("limits: {%s: 2}\n", c.key), Options{})
			var conns []net.Conn
			for i := range 2 {
				conn, err := net.Dial("tcp", n.HTTPAddr())
				if err != nil {
					t.Fatal(err)
				}
				defer conn.Close()
				if st, err := rawGET(t, conn, bufio.NewReader(conn), "/a"); err != nil || st != 200 {
					t.Fatalf("connection %d within the limit: status %d, %v", i+1, st, err)
				}
				conns = append(conns, conn)
			}
			over, err := net.Dial("tcp", n.HTTPAddr())
			if err != nil {
				t.Fatal(err)
			}
			st, _ := rawGET(t, over, bufio.NewReader(over), "/a")
			over.Close()
			if st != c.status {
				t.Errorf("the third connection got status %d, want %d", st, c.status)
			}
			conns[0].Close()
			// The server learns of the close when its read fails; poll for the free place.
			deadline := time.Now().Add(5 * time.Second)
			for {
				again, err := net.Dial("tcp", n.HTTPAddr())
				if err != nil {
					t.Fatal(err)
				}
				st, _ := rawGET(t, again, bufio.NewReader(again), "/a")
				again.Close()
				if st == 200 {
					break
				}
				if time.Now().After(deadline) {
					t.Fatalf("after one of two connections closed, a new one still gets %d", st)
				}
				time.Sleep(20 * time.Millisecond)
			}
		})
	}
}

// Shutdown does not wait out read_timeout for a connection that was accepted and never sent
// a request (drain gives it a short read deadline), and a keep-alive connection between
// requests is closed; both see the connection end.
func TestNode_shutdownDrainsConnectionsThatSendNothing(t *testing.T) {
	o := startOrigin(t, func(w http.ResponseWriter, r *http.Request) { w.Write([]byte("ok")) })
	n := startNode(t, oneRoute(false, o.URL)+"limits: {read_timeout: 60s, idle_timeout: 60s}\n", Options{})
	silent, err := net.Dial("tcp", n.HTTPAddr())
	if err != nil {
		t.Fatal(err)
	}
	defer silent.Close()
	idle, err := net.Dial("tcp", n.HTTPAddr())
	if err != nil {
		t.Fatal(err)
	}
	defer idle.Close()
	if st, err := rawGET(t, idle, bufio.NewReader(idle), "/a"); err != nil || st != 200 {
		t.Fatalf("keep-alive request: %d, %v", st, err)
	}
	// Shutdown's drain reaches the connections in the feed's live set: wait for the silent one
	// to be there (accepted and tracked) rather than for a guessed moment.
	pollUntil(t, 10*time.Second, "the feed tracking the silent connection", func() bool { return feedTracks(n.feed, silent.LocalAddr()) })
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	var done atomic.Bool
	go func() { n.Shutdown(ctx); done.Store(true) }()
	for name, c := range map[string]net.Conn{"silent": silent, "idle keep-alive": idle} {
		// The node may answer the silent one (408) before it closes it.
		c.SetReadDeadline(time.Now().Add(15 * time.Second))
		if out, err := io.ReadAll(c); err != nil && !isReset(err) {
			t.Errorf("%s connection: read %q then %v, want it closed by the node well before read_timeout (60s)", name, out, err)
		}
	}
	deadline := time.Now().Add(15 * time.Second)
	for !done.Load() && time.Now().Before(deadline) {
		time.Sleep(10 * time.Millisecond)
	}
	if !done.Load() {
		t.Error("Shutdown still running 15s after the connections closed")
	}
}

func isReset(err error) bool {
	return err != nil && strings.Contains(err.Error(), "connection reset")
}

// A disk hit over plain HTTP/1.1 leaves by sendfile, byte-exact, also when max_conns_per_ip
// puts fasthttp's per-IP wrapper around the socket (before, that wrapper hid the socket's
// ReadFrom and such hits were copied through user space).
func TestNode_diskHitSendfileThroughThePerIPWrapper(t *testing.T) {
	var sent atomic.Int64
	testHookSendfile = func(k int64, _ bool) { sent.Add(k) }
	t.Cleanup(func() { testHookSendfile = nil }) // registered first: runs after the node stops
	want := largeBody(2<<20 + 5)
	o := startOrigin(t, func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Cache-Control", "max-age=3600")
		w.Write(want)
	})
	for _, extra := range []string{"", "limits: {max_conns_per_ip: 4}\n"} {
		sent.Store(0)
		dir := t.TempDir()
		yaml := strings.Replace(oneRoute(true, o.URL), "max_object_size: 8MiB, fill_timeout: 5s}",
			fmt.Sprintf("max_object_size: 1MiB, fill_timeout: 5s, disk: {path: %q, size: 64MiB, max_object_size: 32MiB}}", dir), 1) + extra
		n := startNode(t, yaml, Options{Logger: testLogger(t)})
		waitDiskReady(t, n)
		url := "http://" + n.HTTPAddr() + "/big.bin"
		var status []string
		for i := range 2 { // the fill, then (once the tier has written it) the disk hit
			resp, body := getRange(t, url, "")
			status = append(status, resp.Header.Get("Cache-Status"))
			if !bytesEqual(body, want) {
				t.Fatalf("%q: %d bytes, not the object's %d", extra, len(body), len(want))
			}
			if i == 0 {
				n.settleDisk() // the fill handed the object to the tier, and the tier wrote it
			}
		}
		if got := sent.Load(); got != int64(len(want)) {
			t.Errorf("%q: sendfile sent %d bytes, want the whole %d-byte disk hit (Cache-Status %q)", extra, got, len(want), status)
		}
	}
}

func bytesEqual(a, b []byte) bool { return string(a) == string(b) }
