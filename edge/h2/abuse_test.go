package h2

import (
	"bytes"
	"runtime"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"golang.org/x/net/http2"
	"golang.org/x/net/http2/hpack"
)

// holdHandler is a miss that never completes on its own: it detaches and holds the
// stream until the client goes away, as an origin fetch would. It counts calls and the
// goroutines in flight.
type holdHandler struct{ calls, inFlight, maxInFlight atomic.Int64 }

func (h *holdHandler) ServeH2(w ResponseWriter, r *Request) {
	h.calls.Add(1)
	if r.Path == "/" {
		w.Respond(200, nil, page1k)
		return
	}
	w.Detach()
	n := h.inFlight.Add(1)
	for {
		m := h.maxInFlight.Load()
		if n <= m || h.maxInFlight.CompareAndSwap(m, n) {
			break
		}
	}
	go func() {
		<-w.Done()
		h.inFlight.Add(-1)
		w.Abort()
	}()
}

// heapInUse is the live heap after a collection, in bytes.
func heapInUse() uint64 {
	runtime.GC()
	var m runtime.MemStats
	runtime.ReadMemStats(&m)
	return m.HeapAlloc
}

// heapPeak samples the heap every few milliseconds until stop is called, which returns
// the largest growth over the heap at the start, in bytes.
func heapPeak() (stop func() int64) {
	base := int64(heapInUse())
	var peak atomic.Int64
	quit, done := make(chan struct{}), make(chan struct{})
	go func() {
		defer close(done)
		var m runtime.MemStats
		for {
			runtime.ReadMemStats(&m)
			if g := int64(m.HeapAlloc) - base; g > peak.Load() {
				peak.Store(g)
			}
			select {
			case <-quit:
				return
			case <-time.After(2 * time.Millisecond):
			}
		}
	}()
	return func() int64 { close(quit); <-done; return peak.Load() }
}

// maxHeapGrowth bounds the heap growth an attack on one connection may cause while it
// lasts: its streams, windows and header block, plus the garbage of a short burst.
const maxHeapGrowth = 16 << 20

// stillServes checks that a fresh connection is answered.
func stillServes(t *testing.T, addr string) {
	t.Helper()
	c := dialRaw(t, addr)
	c.request(1, "/", true)
	c.flush()
	if r := c.readResponse(1, 0); r.status != 200 || !bytes.Equal(r.body, page1k) {
		t.Fatalf("another connection got %d with %d bytes", r.status, len(r.body))
	}
}

// wantCalm reads until GOAWAY ENHANCE_YOUR_CALM and the close that follows.
func wantCalm(t *testing.T, c *rawClient) {
	t.Helper()
	if g := c.readGoAway(20 * time.Second); g.ErrCode != http2.ErrCodeEnhanceYourCalm {
		t.Fatalf("GOAWAY %v, want ENHANCE_YOUR_CALM", g.ErrCode)
	}
	if !c.closedWithin(5 * time.Second) {
		t.Fatal("connection still open after GOAWAY")
	}
}

// TestServer_rapidReset (CVE-2023-44487): streams opened and reset at once, 10,000 of
// them, end in GOAWAY ENHANCE_YOUR_CALM after MaxResets; handlers started stay within
// MaxConcurrentStreams because a reset does not free the slot a detached handler holds;
// another connection is answered and memory returns.
func TestServer_rapidReset(t *testing.T) {
	h := &holdHandler{}
	ts := startServer(t, Config{}, h, false)
	before := heapInUse()
	peak := heapPeak()
	c := dialRaw(t, ts.Addr)
	c.floodFrom(10000, func(i int) {
		id := uint32(2*i + 1)
		c.request(id, "/miss", true)
		c.fr.WriteRSTStream(id, http2.ErrCodeCancel)
	})
	stillServes(t, ts.Addr) // while the flood runs
	wantCalm(t, c)
	p := peak()
	t.Logf("heap growth during the attack: at most %d KiB", p>>10)
	if p > maxHeapGrowth {
		t.Errorf("heap grew by up to %d bytes during the attack", p)
	}
	if calls := h.calls.Load(); calls > 200+100+1 {
		t.Errorf("handler called %d times, want at most MaxResets+MaxConcurrentStreams", calls)
	}
	if m := h.maxInFlight.Load(); m > 100 {
		t.Errorf("%d detached handlers at once, want at most MaxConcurrentStreams (100)", m)
	}
	stillServes(t, ts.Addr)
	assertNoQueued(t, ts.srv)
	if grew := int64(heapInUse()) - int64(before); grew > 8<<20 {
		t.Errorf("heap grew %d bytes", grew)
	}
}

// TestServer_abandonedStreams: 10,000 streams opened and never read. Requests that never
// end are answered and reset (NO_ERROR) so they hold nothing; responses nobody reads pile
// up only to the connection window, then streams are refused and the connection ends.
func TestServer_abandonedStreams(t *testing.T) {
	t.Run("requests never ended", func(t *testing.T) {
		hit := HandlerFunc(func(w ResponseWriter, r *Request) { w.Respond(200, nil, page1k) })
		ts := startServer(t, Config{}, hit, false)
		c := dialRaw(t, ts.Addr)
		answered, reset := 0, 0
		for batch := 0; batch < 100; batch++ {
			for i := range 100 {
				c.request(uint32(2*(batch*100+i)+1), "/", false)
			}
			c.flush()
			for done := 0; done < 100; {
				f, err := c.readFrame(10 * time.Second)
				if err != nil {
					t.Fatalf("after %d answers: %v", answered, err)
				}
				switch f := f.(type) {
				case *http2.DataFrame:
					if f.StreamEnded() {
						answered++
					}
					c.grant(0, f.Length)
					c.flush()
				case *http2.RSTStreamFrame:
					if f.ErrCode != http2.ErrCodeNo {
						t.Fatalf("stream %d reset with %v", f.StreamID, f.ErrCode)
					}
					reset++
					done++
				case *http2.GoAwayFrame:
					t.Fatalf("GOAWAY %v after %d answers", f.ErrCode, answered)
				}
			}
		}
		if answered != 10000 || reset != 10000 {
			t.Fatalf("%d answered and %d reset, want 10000 each", answered, reset)
		}
		assertNoQueued(t, ts.srv)
	})

	t.Run("responses never read", func(t *testing.T) {
		ts := startServer(t, Config{}, nil, false)
		before := heapInUse()
		peak := heapPeak()
		c := dialRaw(t, ts.Addr)
		c.floodFrom(10000, func(i int) { c.request(uint32(2*i+1), "/", true) })
		stillServes(t, ts.Addr)
		wantCalm(t, c)
		p := peak()
		t.Logf("heap growth during the attack: at most %d KiB", p>>10)
		if p > maxHeapGrowth {
			t.Errorf("heap grew by up to %d bytes during the attack", p)
		}
		stillServes(t, ts.Addr)
		assertNoQueued(t, ts.srv)
		if grew := int64(heapInUse()) - int64(before); grew > 8<<20 {
			t.Errorf("heap grew %d bytes", grew)
		}
	})
}

// TestServer_continuationFlood (CVE-2024-27316's kind): a header block that never ends,
// in empty CONTINUATION frames or in valid fields past every bound, ends the connection
// with ENHANCE_YOUR_CALM after a bounded number of frames; a header list just over
// MaxHeaderListSize gets 431 and the connection lives on.
func TestServer_continuationFlood(t *testing.T) {
	ts := startServer(t, Config{}, nil, false)
	flood := func(t *testing.T, c *rawClient, frag func(i int) []byte) {
		peak := heapPeak()
		defer func() {
			p := peak()
			t.Logf("heap growth during the flood: at most %d KiB", p>>10)
			if p > maxHeapGrowth {
				t.Errorf("heap grew by up to %d bytes during the flood", p)
			}
		}()
		c.floodFrom(100000, func(i int) {
			if i == 0 {
				c.fr.WriteHeaders(http2.HeadersFrameParam{StreamID: 1, BlockFragment: c.headerBlock("GET", "/"), EndStream: true})
			}
			c.fr.WriteContinuation(1, false, frag(i))
		})
		stillServes(t, ts.Addr)
		wantCalm(t, c)
	}

	t.Run("empty frames", func(t *testing.T) {
		flood(t, dialRaw(t, ts.Addr), func(int) []byte { return nil })
	})

	t.Run("valid fields", func(t *testing.T) {
		c := dialRaw(t, ts.Addr)
		var buf bytes.Buffer
		enc := hpack.NewEncoder(&buf)
		flood(t, c, func(i int) []byte {
			buf.Reset()
			for j := range 100 {
				enc.WriteField(hpack.HeaderField{Name: "x-flood", Value: strings.Repeat("v", 50+(i*100+j)%7)})
			}
			return append([]byte(nil), buf.Bytes()...)
		})
	})

	for name, fields := range map[string][]string{
		"list just too large: one value": {"x-big", strings.Repeat("b", 33<<10)},
		"list just too large: one name":  {"x-" + strings.Repeat("n", 33<<10), "1"},
		"list just too large: many":      strings.Split(strings.Repeat("x-many,"+strings.Repeat("m", 100)+",", 300), ",")[:600],
	} {
		t.Run(name, func(t *testing.T) {
			c := dialRaw(t, ts.Addr)
			c.writeBlock(1, c.headerBlock("GET", "/", fields...), true)
			c.flush()
			if r := c.readResponse(1, 0); r.status != 431 {
				t.Fatalf("status %d, want 431", r.status)
			}
			c.request(3, "/", true)
			c.flush()
			if r := c.readResponse(3, 0); r.status != 200 {
				t.Fatalf("next request on the connection: %d", r.status)
			}
		})
	}
	stillServes(t, ts.Addr)
}

// TestServer_floods is the flood family (CVE-2019-9512, -9514, -9515, -9517, -9518,
// CVE-2023-44487): each kind of cheap frame, sent 100,000 times, ends the connection with
// GOAWAY ENHANCE_YOUR_CALM, and another connection is served meanwhile. WINDOW_UPDATE is
// one of them: increments of 1 on the connection or on an open stream cost the client
// 13 bytes and the server a lock and a frame's work each, as a PING does. Failed before
// for the two increment-1 cases: 100,000 frames were accepted and no GOAWAY came (a zero
// increment is a stream error, counted with the resets already).
func TestServer_floods(t *testing.T) {
	ts := startServer(t, Config{}, nil, false)
	openUpload := func(c *rawClient, i int) {
		if i == 0 {
			c.fr.WriteHeaders(http2.HeadersFrameParam{StreamID: 1, EndHeaders: true,
				BlockFragment: c.headerBlock("POST", "/echo")})
		}
	}
	for _, tc := range []struct {
		name string
		send func(c *rawClient, i int)
	}{
		{"ping", func(c *rawClient, i int) { c.fr.WritePing(false, [8]byte{byte(i)}) }},
		{"settings", func(c *rawClient, i int) { c.fr.WriteSettings() }},
		{"priority", func(c *rawClient, i int) {
			c.fr.WritePriority(uint32(2*i+1001), http2.PriorityParam{Weight: 1})
		}},
		{"unknown frame type", func(c *rawClient, i int) { c.fr.WriteRawFrame(0xfa, 0, 0, nil) }},
		{"empty data", func(c *rawClient, i int) {
			openUpload(c, i)
			c.fr.WriteData(1, false, nil)
		}},
		{"rapid reset", func(c *rawClient, i int) {
			c.request(uint32(2*i+1), "/", true)
			c.fr.WriteRSTStream(uint32(2*i+1), http2.ErrCodeCancel)
		}},
		{"continuation", func(c *rawClient, i int) {
			if i == 0 {
				c.fr.WriteHeaders(http2.HeadersFrameParam{StreamID: 1, BlockFragment: c.headerBlock("GET", "/"), EndStream: true})
			}
			c.fr.WriteContinuation(1, false, nil)
		}},
		{"window_update connection increment 1", func(c *rawClient, i int) { c.fr.WriteWindowUpdate(0, 1) }},
		{"window_update stream increment 1", func(c *rawClient, i int) {
			openUpload(c, i)
			c.fr.WriteWindowUpdate(1, 1)
		}},
		{"window_update stream increment 0", func(c *rawClient, i int) {
			openUpload(c, i)
			c.fr.AllowIllegalWrites = true
			c.fr.WriteWindowUpdate(1, 0) // a stream error each (RFC 9113 §6.9)
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c := dialRaw(t, ts.Addr)
			c.floodFrom(100000, func(i int) { tc.send(c, i) })
			stillServes(t, ts.Addr)
			wantCalm(t, c)
		})
	}
	stillServes(t, ts.Addr)
}

// TestServer_malformedFlood: a client that sends malformed request after malformed request
// makes the server reset each (RST_STREAM PROTOCOL_ERROR) and, with Config.Rejected, log each,
// at no cost to itself. Those resets are streams the server refused and count with the
// client's own resets against MaxResets: past it the connection ends in GOAWAY
// ENHANCE_YOUR_CALM. Failed before: 10,000 malformed streams and no GOAWAY.
func TestServer_malformedFlood(t *testing.T) {
	h := &holdHandler{}
	var rejected atomic.Int64
	ts := startServer(t, Config{Rejected: func(RejectedRequest) { rejected.Add(1) }}, h, false)
	c := dialRaw(t, ts.Addr)
	c.floodFrom(10000, func(i int) {
		c.request(uint32(2*i+1), "/miss", true, "Upper-Case", "x")
	})
	wantCalm(t, c)
	if got := rejected.Load(); got > 200+1 {
		t.Errorf("%d malformed streams reset and reported, want at most MaxResets+1", got)
	}
	if calls := h.calls.Load(); calls != 0 {
		t.Errorf("handler called %d times for malformed requests", calls)
	}
	stillServes(t, ts.Addr)
}

// TestServer_resetFlood (CVE-2019-9514): frames that each make the server send RST_STREAM
// (here DATA on streams already closed, cycling over more of them than the server remembers
// resetting) count against MaxResets like the client's own resets: past it the connection
// ends in GOAWAY ENHANCE_YOUR_CALM instead of answering frame after frame. Failed before:
// 10,000 such frames, a reset for each, no GOAWAY.
func TestServer_resetFlood(t *testing.T) {
	ts := startServer(t, Config{}, &holdHandler{}, false)
	c := dialRaw(t, ts.Addr)
	const closed = 40
	for i := range closed {
		id := uint32(2*i + 1)
		c.request(id, "/", true)
		c.flush()
		if r := c.readResponse(id, 0); r.status != 200 {
			t.Fatalf("stream %d: %d", id, r.status)
		}
	}
	c.floodFrom(10000, func(i int) {
		c.fr.WriteData(uint32(2*(i%closed)+1), false, []byte("x"))
	})
	wantCalm(t, c)
	stillServes(t, ts.Addr)
}

// TestServer_dataInFlightOnManyRefusedUploadsIsNoFlood: a client that starts more uploads
// at once than the server remembers resets for (each refused 413 from its head, the server
// resetting the stream NO_ERROR, RFC 9113 §8.1) has sent DATA on each before it reads the
// answers. The server must ignore those frames (§5.1, closed after RST_STREAM), not answer
// them STREAM_CLOSED and count them against MaxResets: a legitimate connection was closed
// with GOAWAY ENHANCE_YOUR_CALM.
func TestServer_dataInFlightOnManyRefusedUploadsIsNoFlood(t *testing.T) {
	ts := startServer(t, Config{MaxBodyBytes: 10, MaxResets: 20}, &holdHandler{}, false)
	c := dialRaw(t, ts.Addr)
	const uploads = 60
	for i := range uploads {
		c.request(uint32(2*i+1), "/", false, "content-length", "100")
	}
	for i := range uploads {
		c.fr.WriteData(uint32(2*i+1), false, []byte("x"))
	}
	last := uint32(2*uploads + 1)
	c.request(last, "/", true)
	c.flush()
	if r := c.readResponse(last, 0); r.status != 200 {
		t.Fatalf("a request after %d refused uploads: %d", uploads, r.status)
	}
}

// TestServer_trailersInFlightOnAResetStreamAreIgnored: trailers the client sent before it saw
// the server reset its upload (refused 413 from its head) are a frame on a stream closed by
// our RST_STREAM, which RFC 9113 §5.1 has the server ignore; treated as a connection error
// STREAM_CLOSED, they ended every other stream of the connection.
func TestServer_trailersInFlightOnAResetStreamAreIgnored(t *testing.T) {
	ts := startServer(t, Config{MaxBodyBytes: 10}, &holdHandler{}, false)
	c := dialRaw(t, ts.Addr)
	c.request(1, "/", false, "content-length", "100")
	c.fr.WriteData(1, false, []byte("x"))
	c.writeBlock(1, encodeFields(c, "x-checksum", "1"), true)
	c.request(3, "/", true)
	c.flush()
	if r := c.readResponse(3, 0); r.status != 200 {
		t.Fatalf("the request after a refused upload with trailers: %d", r.status)
	}
}

// TestServer_emptyDataFloodOnAResetStream (CVE-2019-9518): empty DATA frames without
// END_STREAM count against MaxControlFrames on a stream the server reset too, whose frames
// are otherwise ignored as in flight: ignored uncounted, they cost the server a frame's work
// each for as long as the client liked.
func TestServer_emptyDataFloodOnAResetStream(t *testing.T) {
	ts := startServer(t, Config{MaxBodyBytes: 10}, &holdHandler{}, false)
	c := dialRaw(t, ts.Addr)
	c.request(1, "/", false, "content-length", "100")
	c.flush()
	if r := c.readResponse(1, 0); r.status != 413 {
		t.Fatalf("refused upload: %d, want 413", r.status)
	}
	c.floodFrom(10000, func(int) { c.fr.WriteData(1, false, nil) })
	wantCalm(t, c)
	stillServes(t, ts.Addr)
}
