package edge

import (
	"bufio"
	"crypto/tls"
	"fmt"
	"io"
	"net"
	"net/http"
	"strings"
	"testing"
	"time"
)

// deadlineConn records the deadlines the sweeper sets; onRead runs inside SetReadDeadline.
type deadlineConn struct {
	net.Conn
	read, write time.Time
	calls       int
	onRead      func()
}

func (c *deadlineConn) SetReadDeadline(t time.Time) error {
	c.read = t
	c.calls++
	if c.onRead != nil {
		c.onRead()
		c.onRead = nil
	}
	return nil
}

func (c *deadlineConn) SetWriteDeadline(t time.Time) error {
	c.write, c.calls = t, c.calls+1
	return nil
}

func (c *deadlineConn) SetDeadline(t time.Time) error {
	c.read, c.write = t, t
	c.calls++
	return nil
}

// Each phase is cut at its own limit, measured from when the sweeper first saw it (the
// accept for a first request, as fasthttp's one deadline for it was), never before; the
// handler's phase has none; a connection that moved on between two sweeps starts again.
func TestConnFeed_sweepCutsEachPhaseAtItsLimit(t *testing.T) {
	const read, write, idle = 3 * time.Second, 5 * time.Second, 7 * time.Second
	limits := &connLimits{read: read, write: write, idle: idle}
	t0 := time.Unix(1_000_000, 0)
	past := aLongTimeAgo
	for _, c := range []struct {
		name    string
		phases  []connPhase // entered after the accept, before the first sweep
		seenAt  time.Duration
		cutAt   time.Duration // 0: never, even an hour later
		read    time.Time     // deadlines once cut, relative to the cut
		writeIn time.Duration // -1: in the past
	}{
		{"new connection, nothing sent", nil, time.Second, read, past, write},
		{"first request's head", []connPhase{phaseReadFirst}, 2 * time.Second, read, past, write},
		{"idle keep-alive", []connPhase{phaseReadFirst, phaseHandler, phaseWrite, phaseIdle}, time.Second, time.Second + idle, past, write},
		{"later request's head", []connPhase{phaseIdle, phaseRead}, time.Second, time.Second + read, past, write},
		{"response write", []connPhase{phaseReadFirst, phaseHandler, phaseWrite}, time.Second, time.Second + write, past, -1},
		{"handler (a miss waiting on its origin)", []connPhase{phaseReadFirst, phaseHandler}, time.Second, 0, time.Time{}, 0},
	} {
		t.Run(c.name, func(t *testing.T) {
			f := &connFeed{}
			dc := &deadlineConn{}
			lc := &liveConn{conn: dc, accepted: t0, seen: ^uint64(0)}
			for _, p := range c.phases {
				lc.enter(p)
			}
			f.live.Store(1, lc)
			f.sweep(t0.Add(c.seenAt), limits)
			if c.cutAt == 0 {
				f.sweep(t0.Add(time.Hour), limits)
				if dc.calls != 0 {
					t.Fatalf("cut after an hour (read %v, write %v); want no limit", dc.read, dc.write)
				}
				return
			}
			f.sweep(t0.Add(c.cutAt-time.Millisecond), limits)
			if dc.calls != 0 {
				t.Fatalf("cut 1 ms before its limit")
			}
			at := t0.Add(c.cutAt)
			f.sweep(at, limits)
			wantWrite := past
			if c.writeIn >= 0 {
				wantWrite = at.Add(c.writeIn)
			}
			if !dc.read.Equal(c.read) || !dc.write.Equal(wantWrite) {
				t.Fatalf("at its limit: read deadline %v, write %v; want %v, %v", dc.read, dc.write, c.read, wantWrite)
			}
			calls := dc.calls
			f.sweep(at.Add(time.Second), limits)
			if dc.calls != calls {
				t.Errorf("deadlines moved again by the next sweep")
			}
		})
	}
}

func TestConnFeed_sweepRestartsAPhaseEnteredAgainAndUndoesARacedCut(t *testing.T) {
	limits := &connLimits{read: time.Second, write: time.Second, idle: time.Second}
	t0 := time.Unix(1_000_000, 0)
	f := &connFeed{}
	dc := &deadlineConn{}
	lc := &liveConn{conn: dc, accepted: t0, seen: ^uint64(0)}
	f.live.Store(1, lc)
	lc.enter(phaseIdle)
	f.sweep(t0, limits)
	// A whole request between two sweeps: idle again, but not the same idle.
	lc.enter(phaseRead)
	lc.enter(phaseHandler)
	lc.enter(phaseWrite)
	lc.enter(phaseIdle)
	f.sweep(t0.Add(1500*time.Millisecond), limits)
	if dc.calls != 0 {
		t.Fatal("a connection idle again since the last sweep was cut by its earlier idle time")
	}
	// The next request's first byte arrives while the sweeper cuts its idle time: the
	// deadlines go back.
	dc.onRead = func() { lc.active() }
	f.sweep(t0.Add(2500*time.Millisecond), limits)
	if !dc.read.IsZero() || !dc.write.IsZero() {
		t.Fatalf("after a cut that raced the next request: read %v, write %v; want none", dc.read, dc.write)
	}
	f.draining.Store(true)
	lc.enter(phaseIdle)
	f.sweep(t0.Add(3*time.Second), limits)
	dc.onRead = func() { lc.active() }
	f.sweep(t0.Add(4*time.Second), limits)
	if !dc.read.Equal(aLongTimeAgo) {
		t.Fatalf("during a drain, a raced cut was undone (read %v)", dc.read)
	}
}

func TestSweepPeriod(t *testing.T) {
	for _, c := range []struct {
		limits []time.Duration
		want   time.Duration
	}{
		{[]time.Duration{30 * time.Second, 60 * time.Second, 60 * time.Second}, 500 * time.Millisecond},
		{[]time.Duration{200 * time.Millisecond, 0, 60 * time.Second}, 20 * time.Millisecond},
		{[]time.Duration{10 * time.Millisecond}, 5 * time.Millisecond},
		{[]time.Duration{0, 0, 0}, 500 * time.Millisecond},
	} {
		if got := sweepPeriod(c.limits...); got != c.want {
			t.Errorf("sweepPeriod(%v) = %v, want %v", c.limits, got, c.want)
		}
	}
}

// closedWithin reads c until it is closed and returns how long that took from start, and
// everything read; it fails the test if c is still open after give.
func closedWithin(t *testing.T, c net.Conn, r io.Reader, start time.Time, give time.Duration) (time.Duration, string) {
	t.Helper()
	c.SetReadDeadline(start.Add(give))
	out, err := io.ReadAll(r)
	took := time.Since(start)
	if ne, ok := err.(net.Error); ok && ne.Timeout() {
		t.Fatalf("the connection was still open after %v (read %q)", give, out)
	}
	return took, string(out)
}

// Every HTTP/1.1 timeout closes the connection after its limit and not before it, with
// nothing but the sweeper to enforce it (fasthttp is given none): a new connection that sends
// nothing and a head that stalls are answered 408 and closed at read_timeout; a keep-alive
// connection is closed quietly at idle_timeout; a later request's stalled head or body is
// cut at read_timeout from its first byte, even with a long idle_timeout.
func TestNode_readAndIdleTimeoutsCloseTheConnection(t *testing.T) {
	const limit = 400 * time.Millisecond
	origin := startOrigin(t, func(w http.ResponseWriter, r *http.Request) {
		io.Copy(io.Discard, r.Body)
		w.Write([]byte("ok"))
	})
	for _, c := range []struct {
		name      string
		limits    string
		keepAlive bool   // one whole request first
		send      string // then this, and nothing more
		want408   bool
	}{
		{"new connection that sends nothing", "{read_timeout: 400ms, idle_timeout: 30s}", false, "", true},
		{"first request's head stalls", "{read_timeout: 400ms, idle_timeout: 30s}", false, "GET / HTTP/1.1\r\nHost: a\r\nX-Slow: ", true},
		{"idle keep-alive connection", "{read_timeout: 30s, idle_timeout: 400ms}", true, "", false},
		{"later request's head stalls", "{read_timeout: 400ms, idle_timeout: 30s}", true, "GET / HTTP/1.1\r\nHost: a\r\nX-Slow: ", true},
		{"later request's body stalls", "{read_timeout: 400ms, idle_timeout: 30s}", true, "POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 100\r\n\r\nonly ten b", true},
	} {
		t.Run(c.name, func(t *testing.T) {
			n := startNode(t, "limits: "+c.limits+"\n"+oneRoute(false, origin.URL), Options{})
			// start is before anything the node's clock could count from: the accept, or the
			// first response's end (idle), or the next request's first byte.
			start := time.Now()
			conn, err := net.Dial("tcp", n.HTTPAddr())
			if err != nil {
				t.Fatal(err)
			}
			defer conn.Close()
			r := bufio.NewReader(conn)
			if c.keepAlive {
				start = time.Now()
				if code, err := rawGET(t, conn, r, "/"); err != nil || code != 200 {
					t.Fatalf("first request: %d, %v", code, err)
				}
				conn.SetDeadline(time.Time{})
			}
			if c.send != "" {
				io.WriteString(conn, c.send)
			}
			took, out := closedWithin(t, conn, r, start, 10*time.Second)
			t.Logf("closed after %v", took)
			if took < limit {
				t.Errorf("closed after %v, before its limit (%v)", took, limit)
			}
			if got408 := strings.HasPrefix(out, "HTTP/1.1 408 "); got408 != c.want408 {
				t.Errorf("answer before the close %q; want a 408: %v", out, c.want408)
			}
			if n.feed.expired.Load() != 1 {
				t.Errorf("the sweeper cut %d connections, want this one", n.feed.expired.Load())
			}
		})
	}
	if got := origin.requests.Load(); got != 3 {
		t.Errorf("origin saw %d requests, want the 3 whole first requests", got)
	}
}

// A client that stops reading a memory hit is cut off at write_timeout: the response write is
// fasthttp's, after the handler, with only the sweeper to bound it.
func TestNode_writeTimeoutCutsAClientThatStopsReadingAMemoryHit(t *testing.T) {
	n, origin, body := startBigHit(t, 6<<20)
	before := origin.requests.Load()
	c, err := net.Dial("tcp", n.HTTPAddr())
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	c.(*net.TCPConn).SetReadBuffer(64 << 10)
	io.WriteString(c, "GET /big HTTP/1.1\r\nHost: "+n.HTTPAddr()+"\r\n\r\n") // the key warmed
	time.Sleep(2500 * time.Millisecond)                                      // past write_timeout, reading nothing
	c.SetReadDeadline(time.Now().Add(10 * time.Second))
	got, err := io.Copy(io.Discard, c)
	if ne, ok := err.(net.Error); ok && ne.Timeout() {
		t.Fatalf("reading after the stall: %v (the node did not close the connection)", err)
	}
	if got >= int64(len(body)) {
		t.Errorf("a client that read nothing for 2.5 s got all %d bytes; want the node to give up after write_timeout (1s)", got)
	}
	if n.feed.expired.Load() != 1 {
		t.Errorf("the sweeper cut %d connections, want the stalled one", n.feed.expired.Load())
	}
	if got := origin.requests.Load(); got != before {
		t.Errorf("origin saw %d requests during the stalled one, want none (a hit)", got-before)
	}
}

// HTTP/1.1 over TLS keeps the same limits: its connections come from their own feed, with
// its own sweeper.
func TestNode_timeoutsCloseHTTP1OverTLS(t *testing.T) {
	const limit = 400 * time.Millisecond
	origin := startOrigin(t, func(w http.ResponseWriter, r *http.Request) { w.Write([]byte("ok")) })
	dir := t.TempDir()
	// rawGET asks for www.test: the certificate covers it, or the node answers 421
	// (misdirected.go) on this connection for www.example.test.
	certFile, keyFile, pool := writeCert(t, dir, "site", "www.example.test", "www.test")
	for _, c := range []struct {
		name, limits, send string
	}{
		{"idle keep-alive connection", "{read_timeout: 30s, idle_timeout: 400ms}", ""},
		{"later request's head stalls", "{read_timeout: 400ms, idle_timeout: 30s}", "GET / HTTP/1.1\r\nHost: a\r\nX-Slow: "},
	} {
		t.Run(c.name, func(t *testing.T) {
			cfg := fmt.Sprintf("listen: {https: \"127.0.0.1:0\", admin: \"127.0.0.1:0\"}\ntls: {certificates: [{cert: %s, key: %s}]}\nlimits: %s\n",
				certFile, keyFile, c.limits) + oneRoute(false, origin.URL)
			n := startNode(t, cfg, Options{})
			conn, err := tls.Dial("tcp", n.HTTPSAddr(), &tls.Config{RootCAs: pool, ServerName: "www.example.test", NextProtos: []string{"http/1.1"}})
			if err != nil {
				t.Fatal(err)
			}
			defer conn.Close()
			r := bufio.NewReader(conn)
			start := time.Now() // before the idle time or the next head could start
			if code, err := rawGET(t, conn, r, "/"); err != nil || code != 200 {
				t.Fatalf("first request: %d, %v", code, err)
			}
			conn.SetDeadline(time.Time{})
			io.WriteString(conn, c.send)
			if took, _ := closedWithin(t, conn, r, start, 10*time.Second); took < limit {
				t.Errorf("closed after %v, before its limit (%v)", took, limit)
			}
			if n.tlsFeed.expired.Load() != 1 {
				t.Errorf("the sweeper cut %d connections, want this one", n.tlsFeed.expired.Load())
			}
		})
	}
}

// startBigHit starts a node with write_timeout 1s in front of an origin answering a cacheable
// body of size bytes at /big, and warms /big until it is a memory hit.
func startBigHit(t *testing.T, size int) (*Node, *countingOrigin, string) {
	t.Helper()
	body := strings.Repeat("x", size)
	origin := startOrigin(t, func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Cache-Control", "max-age=3600")
		w.Header().Set("Content-Type", "application/octet-stream") // not compressed per client
		io.WriteString(w, body)
	})
	n := startNode(t, "limits: {write_timeout: 1s, idle_timeout: 30s, read_timeout: 30s}\n"+oneRoute(true, origin.URL), Options{})
	for i := 0; ; i++ { // until a hit: the store admits an object asynchronously
		code, h, got := get(t, "http://"+n.HTTPAddr()+"/big")
		if code != 200 || len(got) != len(body) {
			t.Fatalf("warming: %d, %d bytes", code, len(got))
		}
		if strings.Contains(h.Get("Cache-Status"), "hit") {
			break
		}
		if i == 20 {
			t.Fatalf("no hit after 20 requests (Cache-Status %q)", h.Get("Cache-Status"))
		}
		time.Sleep(10 * time.Millisecond)
	}
	return n, origin, body
}

// TestNode_writeTimeoutSparesASlowClientThatKeepsReading: write_timeout bounds a write that
// makes no progress, as nginx's send_timeout does, not the whole response: a client that
// reads a large hit steadily but slowly (here 7 MiB at about 1.6 MiB/s, 4.5 s against a 1 s
// write_timeout) gets every byte. Failed before: the sweeper cut it at about 1 s, so any
// download longer than write_timeout (a video, an ISO, on a slow link) broke.
func TestNode_writeTimeoutSparesASlowClientThatKeepsReading(t *testing.T) {
	n, _, body := startBigHit(t, 7<<20)
	c, err := net.Dial("tcp", n.HTTPAddr())
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	c.(*net.TCPConn).SetReadBuffer(64 << 10)
	io.WriteString(c, "GET /big HTTP/1.1\r\nHost: "+n.HTTPAddr()+"\r\nConnection: close\r\n\r\n")
	c.SetReadDeadline(time.Now().Add(30 * time.Second))
	start, got, buf := time.Now(), 0, make([]byte, 64<<10)
	for {
		k, err := io.ReadFull(c, buf)
		got += k
		if err != nil {
			break
		}
		time.Sleep(40 * time.Millisecond) // about 1.6 MiB/s
	}
	took := time.Since(start)
	if got < len(body) {
		t.Fatalf("a client reading steadily got %d of %d bytes in %v; want all (write_timeout 1s bounds a stalled write, not a slow one)",
			got, len(body), took.Round(time.Millisecond))
	}
	if took < 2*time.Second {
		t.Fatalf("the download took %v: the test needs it longer than write_timeout (1s) to mean anything", took)
	}
	if n.feed.expired.Load() != 0 {
		t.Errorf("the sweeper cut %d connections, want none", n.feed.expired.Load())
	}
}
