package edge

import (
	"bytes"
	"fmt"
	"io"
	"net"
	"net/http"
	"runtime"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/shoal-cdn/shoal/internal/testenv"
	"golang.org/x/net/http2"
	"golang.org/x/net/http2/hpack"
)

// Node-level abuse of the HTTP/2 data plane (issue 14): each attack runs on listen.h2c of a
// real node in front of nginx, and each checks that the node keeps answering another
// connection, that its heap and goroutines come back, and that nginx is not flooded.
// edge/h2's abuse_test.go tests the same limits on the bare server.

// abuseHeapBound is the heap growth an attack on one connection may leave behind it, in
// bytes: generous, as the machine is shared and the race detector inflates allocations.
const abuseHeapBound = 64 << 20

// abuseGoroutineSlack is how many more goroutines than before an attack may remain once its
// connection is closed (idle origin connections, timers of the runtime).
const abuseGoroutineSlack = 20

// abuseNode starts a node with listen.h2c in front of nginx: /big.bin (1 MiB) and /small.css
// are cacheable hits once fetched; /stream/ serves 8 MiB no-store (a streamed miss every
// time); /miss/ answers every path from nginx itself (a miss per path).
func abuseNode(t *testing.T) (*Node, *testenv.Nginx) {
	t.Helper()
	ngx := testenv.StartNginx(t, testenv.NginxOptions{Extra: `
location /miss/ { add_header Cache-Control "max-age=60"; return 200 "miss\n"; }
location /stream/ { add_header Cache-Control "no-store"; }
location / { expires 60s; }`})
	ngx.WriteFile("big.bin", string(patterned(1<<20)))
	ngx.WriteFile("small.css", "body{}\n")
	ngx.WriteFile("stream/huge.bin", string(patterned(8<<20)))
	n, _ := h2Node(t, "limits: {max_body_bytes: 1MiB}\n"+strings.Replace(oneRoute(true, ngx.URL),
		"max_object_size: 8MiB", "max_object_size: 16MiB", 1))
	return n, ngx
}

// h2cClient is Go's HTTP/2 client with prior knowledge over cleartext, a new connection
// per client.
func h2cClient() *http.Client {
	tr := &http.Transport{Protocols: new(http.Protocols)}
	tr.Protocols.SetUnencryptedHTTP2(true)
	return &http.Client{Transport: tr, Timeout: 10 * time.Second}
}

// answeredElsewhere GETs /small.css on a fresh connection and fails unless it arrives whole
// within 10 s; the latency goes to the log (a shared machine: not asserted tighter).
func answeredElsewhere(t *testing.T, n *Node, when string) {
	t.Helper()
	c := h2cClient()
	defer c.CloseIdleConnections()
	start := time.Now()
	req, _ := http.NewRequest("GET", "http://"+n.H2CAddr()+"/small.css", nil)
	req.Host = "www.example.test"
	resp, err := c.Do(req)
	if err != nil {
		t.Fatalf("%s: another connection: %v", when, err)
	}
	body, err := io.ReadAll(resp.Body)
	resp.Body.Close()
	if err != nil || resp.StatusCode != 200 || string(body) != "body{}\n" {
		t.Fatalf("%s: another connection got %d, %q, %v", when, resp.StatusCode, body, err)
	}
	t.Logf("%s: another connection answered in %v", when, time.Since(start).Round(time.Microsecond))
}

// warm fetches path and /small.css whole over HTTP/2, so that they are hits.
func warm(t *testing.T, n *Node, path string) {
	t.Helper()
	req, _ := http.NewRequest("GET", "http://"+n.H2CAddr()+path, nil)
	req.Host = "www.example.test" // the attackers' :authority, so the same cache key
	resp, err := h2cClient().Do(req)
	if err != nil {
		t.Fatal(err)
	}
	io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	answeredElsewhere(t, n, "warm")
	n.settleFills()
}

// abuseBaseline is the heap in use and the goroutine count before an attack, after a
// collection.
type abuseBaseline struct {
	heap       uint64
	goroutines int
}

func takeBaseline() abuseBaseline {
	runtime.GC()
	var m runtime.MemStats
	runtime.ReadMemStats(&m)
	return abuseBaseline{m.HeapInuse, runtime.NumGoroutine()}
}

// recovered fails unless, within 10 s, the heap is back within abuseHeapBound of b and the
// goroutines within abuseGoroutineSlack.
func (b abuseBaseline) recovered(t *testing.T) {
	t.Helper()
	var m runtime.MemStats
	var g int
	for deadline := time.Now().Add(10 * time.Second); ; {
		runtime.GC()
		runtime.ReadMemStats(&m)
		g = runtime.NumGoroutine()
		if (m.HeapInuse <= b.heap+abuseHeapBound && g <= b.goroutines+abuseGoroutineSlack) || time.Now().After(deadline) {
			break
		}
		time.Sleep(50 * time.Millisecond)
	}
	t.Logf("heap in use %d -> %d KiB, goroutines %d -> %d", b.heap>>10, m.HeapInuse>>10, b.goroutines, g)
	if m.HeapInuse > b.heap+abuseHeapBound {
		t.Errorf("heap in use grew by %d KiB and stayed", (m.HeapInuse-b.heap)>>10)
	}
	if g > b.goroutines+abuseGoroutineSlack {
		buf := make([]byte, 1<<20)
		t.Errorf("%d goroutines left, %d before:\n%s", g, b.goroutines, buf[:runtime.Stack(buf, true)])
	}
}

// attacker is a frame-level h2c client. A goroutine reads every frame the node sends
// (without granting window unless asked), so the node's writes never block on it; it
// records the GOAWAY and counts the RST_STREAMs.
type attacker struct {
	c      net.Conn
	fr     *http2.Framer
	buf    bytes.Buffer
	enc    *hpack.Encoder
	goAway atomic.Pointer[http2.GoAwayFrame]
	resets atomic.Int64
	ended  atomic.Int64 // streams answered whole
	heads  atomic.Int64 // response header blocks received
	closed chan struct{}
}

func dialAttacker(t *testing.T, addr string, grant bool, settings ...http2.Setting) *attacker {
	t.Helper()
	c, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	a := &attacker{c: c, fr: http2.NewFramer(c, c), closed: make(chan struct{})}
	a.enc = hpack.NewEncoder(&a.buf)
	a.fr.SetMaxReadFrameSize(1 << 20)
	io.WriteString(c, http2.ClientPreface)
	a.fr.WriteSettings(settings...)
	go func() {
		defer close(a.closed)
		rd := http2.NewFramer(io.Discard, c)
		rd.SetMaxReadFrameSize(1 << 20)
		for {
			f, err := rd.ReadFrame()
			if err != nil {
				return
			}
			switch f := f.(type) {
			case *http2.GoAwayFrame:
				g := *f
				a.goAway.Store(&g)
			case *http2.RSTStreamFrame:
				a.resets.Add(1)
			case *http2.HeadersFrame:
				a.heads.Add(1)
				if f.StreamEnded() {
					a.ended.Add(1)
				}
			case *http2.DataFrame:
				if f.StreamEnded() {
					a.ended.Add(1)
				}
			}
		}
	}()
	if grant {
		// A window that is always open: the attack is the streams, not the windows.
		a.fr.WriteWindowUpdate(0, 1<<30)
	}
	return a
}

// block is a request header block for GET path on www.example.test.
func (a *attacker) block(method, path string, extra ...string) []byte {
	a.buf.Reset()
	for _, f := range [][2]string{{":method", method}, {":scheme", "http"}, {":authority", "www.example.test"}, {":path", path}} {
		a.enc.WriteField(hpack.HeaderField{Name: f[0], Value: f[1]})
	}
	for i := 0; i+1 < len(extra); i += 2 {
		a.enc.WriteField(hpack.HeaderField{Name: extra[i], Value: extra[i+1]})
	}
	return a.buf.Bytes()
}

// flood sends frames with send(i) for i below count, stopping at the first write error (the
// node closed the connection) or after 10 s. It returns how many were sent.
func (a *attacker) flood(count int, send func(i int) error) int {
	a.c.SetWriteDeadline(time.Now().Add(10 * time.Second))
	defer a.c.SetWriteDeadline(time.Time{})
	for i := range count {
		if send(i) != nil {
			return i
		}
	}
	return count
}

// wantGoAway waits for the node to end the connection with GOAWAY code.
func (a *attacker) wantGoAway(t *testing.T, code http2.ErrCode) {
	t.Helper()
	select {
	case <-a.closed:
	case <-time.After(10 * time.Second):
		t.Fatal("the connection is still open 10 s after the attack")
	}
	if g := a.goAway.Load(); g == nil || g.ErrCode != code {
		t.Fatalf("GOAWAY %+v, want %v", g, code)
	}
}

// TestH2Serve_abuseRapidReset (CVE-2023-44487): 10,000 requests for distinct misses, each
// reset as soon as it is sent. The node ends the connection with ENHANCE_YOUR_CALM; the
// misses it had detached reach nginx at most MaxResets plus MaxConcurrentStreams times.
func TestH2Serve_abuseRapidReset(t *testing.T) {
	n, ngx := abuseNode(t)
	answeredElsewhere(t, n, "before")
	base := takeBaseline()
	a := dialAttacker(t, n.H2CAddr(), true)
	done := make(chan int)
	go func() {
		done <- a.flood(10000, func(i int) error {
			id := uint32(2*i + 1)
			if err := a.fr.WriteHeaders(http2.HeadersFrameParam{StreamID: id, EndStream: true, EndHeaders: true,
				BlockFragment: a.block("GET", fmt.Sprintf("/miss/%d", i))}); err != nil {
				return err
			}
			return a.fr.WriteRSTStream(id, http2.ErrCodeCancel)
		})
	}()
	answeredElsewhere(t, n, "during")
	sent := <-done
	a.wantGoAway(t, http2.ErrCodeEnhanceYourCalm)
	origin := ngx.Requests("/miss/")
	t.Logf("%d streams sent and reset, %d reached nginx", sent, origin)
	if origin > 200+100 {
		t.Errorf("nginx got %d requests from reset streams, want at most MaxResets+MaxConcurrentStreams (300)", origin)
	}
	answeredElsewhere(t, n, "after")
	base.recovered(t)
}

// TestH2Serve_abuseContinuationFlood (CVE-2024-27316's kind): a header block continued by
// CONTINUATION frames that never end it ends the connection with ENHANCE_YOUR_CALM before it
// reaches the pipeline: nginx gets nothing.
func TestH2Serve_abuseContinuationFlood(t *testing.T) {
	n, ngx := abuseNode(t)
	answeredElsewhere(t, n, "before")
	base := takeBaseline()
	for _, name := range []string{"empty frames", "valid fields"} {
		t.Run(name, func(t *testing.T) {
			a := dialAttacker(t, n.H2CAddr(), true)
			var frag []byte
			if name == "valid fields" {
				var buf bytes.Buffer
				enc := hpack.NewEncoder(&buf)
				for j := range 100 {
					enc.WriteField(hpack.HeaderField{Name: "x-flood", Value: strings.Repeat("v", 50+j%7)})
				}
				frag = buf.Bytes()
			}
			done := make(chan int)
			go func() {
				done <- a.flood(100000, func(i int) error {
					if i == 0 {
						return a.fr.WriteHeaders(http2.HeadersFrameParam{StreamID: 1, EndStream: true,
							BlockFragment: a.block("GET", "/stream/huge.bin")})
					}
					return a.fr.WriteContinuation(1, false, frag)
				})
			}()
			answeredElsewhere(t, n, "during")
			t.Logf("%d frames sent", <-done)
			a.wantGoAway(t, http2.ErrCodeEnhanceYourCalm)
		})
	}
	if c := ngx.Requests("/stream/"); c != 0 {
		t.Errorf("nginx got %d requests from unfinished header blocks", c)
	}
	answeredElsewhere(t, n, "after")
	base.recovered(t)
}

// TestH2Serve_abuseAbandonedStreams: 10,000 streams opened and abandoned, on hits (answered
// inline, never read: the client grants no window) and on one miss (detached, coalesced).
// The node refuses streams past MaxConcurrentStreams and ends the connection; nginx sees the
// miss once.
func TestH2Serve_abuseAbandonedStreams(t *testing.T) {
	n, ngx := abuseNode(t)
	warm(t, n, "/big.bin")
	base := takeBaseline()
	for _, path := range []string{"/big.bin", "/miss/abandoned"} {
		t.Run(path, func(t *testing.T) {
			// A zero initial window: no response makes progress, so every stream stays open.
			a := dialAttacker(t, n.H2CAddr(), false, http2.Setting{ID: http2.SettingInitialWindowSize, Val: 0})
			done := make(chan int)
			go func() {
				done <- a.flood(10000, func(i int) error {
					return a.fr.WriteHeaders(http2.HeadersFrameParam{StreamID: uint32(2*i + 1), EndStream: true,
						EndHeaders: true, BlockFragment: a.block("GET", path)})
				})
			}()
			answeredElsewhere(t, n, "during")
			t.Logf("%d streams opened", <-done)
			a.wantGoAway(t, http2.ErrCodeEnhanceYourCalm)
		})
	}
	if c := ngx.Requests("/miss/abandoned"); c != 1 {
		t.Errorf("nginx got %d requests for one abandoned miss, want 1 (coalesced, then a hit)", c)
	}
	if c := ngx.Requests("/big.bin"); c != 1 {
		t.Errorf("nginx got %d requests for a hit", c)
	}
	answeredElsewhere(t, n, "after")
	base.recovered(t)
}

// TestH2Serve_abuseWindowNeverOpens: a client whose windows never open (initial window 0,
// no WINDOW_UPDATE) asks for a 1 MiB hit and an 8 MiB streamed miss on a few streams each and
// then sits. Other connections are answered meanwhile; once the client goes away the
// detached miss goroutines end and the memory they held is freed; nginx sent the streamed
// object once per stream that asked for it (no-store: nothing is shared).
func TestH2Serve_abuseWindowNeverOpens(t *testing.T) {
	n, ngx := abuseNode(t)
	warm(t, n, "/big.bin")
	base := takeBaseline()
	const streams = 8
	a := dialAttacker(t, n.H2CAddr(), false, http2.Setting{ID: http2.SettingInitialWindowSize, Val: 0})
	for i := range streams {
		path := "/big.bin"
		if i%2 == 1 {
			path = "/stream/huge.bin"
		}
		a.fr.WriteHeaders(http2.HeadersFrameParam{StreamID: uint32(2*i + 1), EndStream: true,
			EndHeaders: true, BlockFragment: a.block("GET", path)})
	}
	// Every stream's head comes back (a head is not flow-controlled): the misses have reached
	// nginx and their bodies wait on the window, as the hits' do.
	for deadline := time.Now().Add(10 * time.Second); a.heads.Load() < streams; {
		if time.Now().After(deadline) {
			t.Fatalf("%d of %d response heads within 10 s", a.heads.Load(), streams)
		}
		time.Sleep(5 * time.Millisecond)
	}
	answeredElsewhere(t, n, "during")
	if c := ngx.Requests("/stream/"); c > streams/2 {
		t.Errorf("nginx got %d requests for %d streamed misses", c, streams/2)
	}
	if a.ended.Load() != 0 {
		t.Errorf("%d streams ended through a shut window", a.ended.Load())
	}
	a.c.Close()
	answeredElsewhere(t, n, "after")
	base.recovered(t)
}
