package edge

import (
	"bufio"
	"bytes"
	"crypto/tls"
	"crypto/x509"
	"fmt"
	"io"
	"math/rand"
	"net"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/shoal-cdn/shoal/internal/testenv"
)

// largeHitSizes are the hit bodies the benchmark's large rows serve (16 KiB, 256 KiB, 1 MiB),
// their neighbours at fasthttp's 4 KiB write buffer, where a hit stops being copied into
// that buffer and leaves in one writev(2) with its head, and one larger than the send buffer
// loopback TCP grows to (tcp_wmem's 4 MiB), so that its writev is partial and the rest is
// written when the netpoller finds the socket writable again.
var largeHitSizes = []int{4096 - 200, 4096, 4097, 16 << 10, 256 << 10, 1 << 20, 6 << 20}

// largeHitNode is a node in front of nginx serving one cacheable file per size, every one
// of them a memory hit already, on listen.http and listen.https. It returns the node, the
// pool that trusts its certificate and the bodies by path.
func largeHitNode(t *testing.T) (*Node, *x509.CertPool, map[string][]byte) {
	t.Helper()
	ng := testenv.StartNginx(t, testenv.NginxOptions{Extra: "location / { expires 60s; }"})
	rng := rand.New(rand.NewSource(15))
	bodies := map[string][]byte{}
	for _, size := range largeHitSizes {
		b := make([]byte, size)
		rng.Read(b)
		path := fmt.Sprintf("/large/%d.bin", size)
		ng.WriteFile(strings.TrimPrefix(path, "/"), string(b))
		bodies[path] = b
	}
	n, pool, _ := tlsNode(t, ng.URL, "")
	addr := n.HTTPAddr()
	// http and https objects have keys of their own: both are filled.
	https := tlsClient(pool, false, n.HTTPSAddr())
	fetch := func(url string) string {
		if strings.HasPrefix(url, "http://") {
			_, h, _ := get(t, url)
			return h.Get("Cache-Status")
		}
		resp, err := https.Get(url)
		if err != nil {
			t.Fatal(err)
		}
		io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
		return resp.Header.Get("Cache-Status")
	}
	for path := range bodies {
		for _, url := range []string{"http://" + addr + path, "https://" + n.HTTPSAddr() + path} {
			fetch(url)
			n.settleFills()
			if cs := fetch(url); !strings.Contains(cs, "hit") {
				t.Fatalf("%s is not a hit: Cache-Status %q", url, cs)
			}
		}
	}
	return n, pool, bodies
}

// slowReader dials addr with a receive buffer of 64 KiB and lets the node's writes fill it
// before it reads, so a body larger than the socket buffers leaves in partial writes, each
// resumed when the client has read. (A 4 KiB buffer makes loopback TCP crawl on delayed
// ACKs, at about 25 KB/s, whatever the server: nginx too.)
// With pool set, it speaks TLS (HTTP/1.1 only) over that connection.
func slowReader(t *testing.T, addr string, pool *x509.CertPool) net.Conn {
	t.Helper()
	c, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	if err := c.(*net.TCPConn).SetReadBuffer(64 << 10); err != nil {
		t.Fatal(err)
	}
	c.SetDeadline(time.Now().Add(20 * time.Second))
	t.Cleanup(func() { c.Close() })
	if pool == nil {
		return c
	}
	tc := tls.Client(c, &tls.Config{RootCAs: pool, ServerName: "www.example.test", NextProtos: []string{"http/1.1"}})
	if err := tc.Handshake(); err != nil {
		t.Fatal(err)
	}
	return tc
}

// largeExchange is one request on a connection and what its answer must be.
type largeExchange struct {
	method, path, proto string
	extra               string // more header lines, each ending in CRLF
}

func (e largeExchange) raw(host string) string {
	return fmt.Sprintf("%s %s %s\r\nHost: %s\r\n%s\r\n", e.method, e.path, e.proto, host, e.extra)
}

// readLarge reads one response per exchange from br and checks it is the stored object whole:
// status 200, a hit, Content-Length the body's size, and the body byte for byte (none for
// sendLarge writes exchanges' requests at once on a new connection with small socket
// buffers (slowReader) and returns its reader. Before the first read it waits until the node
// has stopped writing (waitWritesStalled), so the node writes into buffers already full:
// partial writes are what these tests are about; the answers are checked whole whatever the
// timing.
func sendLarge(t *testing.T, addr string, pool *x509.CertPool, exchanges []largeExchange) *bufio.Reader {
	t.Helper()
	var raw strings.Builder
	for _, e := range exchanges {
		raw.WriteString(e.raw(addr))
	}
	c := slowReader(t, addr, pool)
	if _, err := io.WriteString(c, raw.String()); err != nil {
		t.Fatal(err)
	}
	waitWritesStalled(t, c)
	return bufio.NewReader(c)
}

// waitWritesStalled waits until bytes have arrived on c and stopped arriving: the node's
// writes are blocked on c's full receive buffer, or it has written everything. Off Linux,
// where the kernel does not say, it returns at once.
func waitWritesStalled(t *testing.T, c net.Conn) {
	t.Helper()
	last, ok := bytesReceived(c)
	if !ok {
		return
	}
	for deadline := time.Now().Add(10 * time.Second); ; {
		time.Sleep(time.Millisecond) // a poll of the kernel's count, bounded by the deadline
		got, _ := bytesReceived(c)
		if got > 0 && got == last {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("the node's answers still arriving (or none arrived: %d bytes) after 10 s", got)
		}
		last = got
	}
}

// HEAD). A response framed by closing the connection is read to its end.
func readLarge(t *testing.T, br *bufio.Reader, bodies map[string][]byte, exchanges []largeExchange) {
	t.Helper()
	for i, e := range exchanges {
		req, _ := http.NewRequest(e.method, "http://x"+e.path, nil)
		resp, err := http.ReadResponse(br, req)
		if err != nil {
			t.Fatalf("response %d (%s %s %s): %v", i, e.method, e.path, e.proto, err)
		}
		got, err := io.ReadAll(resp.Body)
		resp.Body.Close()
		want := bodies[e.path]
		what := fmt.Sprintf("response %d (%s %s %s)", i, e.method, e.path, e.proto)
		switch {
		case err != nil:
			t.Fatalf("%s: body after %d of %d bytes: %v", what, len(got), len(want), err)
		case resp.StatusCode != http.StatusOK:
			t.Fatalf("%s: status %d", what, resp.StatusCode)
		case !strings.Contains(resp.Header.Get("Cache-Status"), "hit"):
			t.Errorf("%s: not a hit: Cache-Status %q", what, resp.Header.Get("Cache-Status"))
		case resp.Header.Get("Content-Length") != fmt.Sprint(len(want)):
			t.Errorf("%s: Content-Length %q, want %d", what, resp.Header.Get("Content-Length"), len(want))
		}
		if e.method == http.MethodHead {
			want = nil
		}
		if !bytes.Equal(got, want) {
			t.Fatalf("%s: body of %d bytes differs from the stored %d (first difference at %d)", what, len(got), len(want), firstDiff(got, want))
		}
	}
}

func firstDiff(a, b []byte) int {
	for i := range min(len(a), len(b)) {
		if a[i] != b[i] {
			return i
		}
	}
	return min(len(a), len(b))
}

// A hit larger than the socket's send buffer leaves in several writes, each after the
// client read some: it must arrive whole and byte-exact, followed by the next response on
// the same connection, whether the requests came one at a time (keep-alive), all in one
// write (pipelined, HEADs among them), or from an HTTP/1.0 client with and without
// keep-alive; on plain HTTP, where fasthttp writes a large hit with writev(2), and over TLS,
// where it does not.
func TestNode_largeHitsArriveWholeOverSmallSocketBuffers(t *testing.T) {
	n, pool, bodies := largeHitNode(t)
	t.Run("http", func(t *testing.T) { largeHitsWhole(t, n.HTTPAddr(), nil, bodies) })
	t.Run("https", func(t *testing.T) { largeHitsWhole(t, n.HTTPSAddr(), pool, bodies) })
}

func largeHitsWhole(t *testing.T, addr string, pool *x509.CertPool, bodies map[string][]byte) {
	var all []largeExchange
	for _, size := range largeHitSizes {
		all = append(all, largeExchange{method: "GET", path: fmt.Sprintf("/large/%d.bin", size), proto: "HTTP/1.1"})
	}

	t.Run("keep-alive", func(t *testing.T) {
		c := slowReader(t, addr, pool)
		br := bufio.NewReader(c)
		for _, e := range append(all, all...) {
			if _, err := io.WriteString(c, e.raw(addr)); err != nil {
				t.Fatal(err)
			}
			time.Sleep(5 * time.Millisecond) // the node's write fills both buffers first
			readLarge(t, br, bodies, []largeExchange{e})
		}
	})

	t.Run("pipelined", func(t *testing.T) {
		var seq []largeExchange
		for i := len(all) - 1; i >= 0; i-- { // largest first: later answers wait behind it
			seq = append(seq, all[i], largeExchange{method: "HEAD", path: all[i].path, proto: "HTTP/1.1"})
		}
		seq = append(seq, all...)
		readLarge(t, sendLarge(t, addr, pool, seq), bodies, seq)
	})

	t.Run("HTTP/1.0 keep-alive", func(t *testing.T) {
		var seq []largeExchange
		for _, e := range all {
			seq = append(seq, largeExchange{method: "GET", path: e.path, proto: "HTTP/1.0", extra: "Connection: keep-alive\r\n"})
		}
		readLarge(t, sendLarge(t, addr, pool, seq), bodies, seq)
	})

	t.Run("HTTP/1.0", func(t *testing.T) {
		for _, size := range []int{16 << 10, 1 << 20, 6 << 20} {
			e := largeExchange{method: "GET", path: fmt.Sprintf("/large/%d.bin", size), proto: "HTTP/1.0"}
			br := sendLarge(t, addr, pool, []largeExchange{e})
			readLarge(t, br, bodies, []largeExchange{e})
			if n, err := br.Read(make([]byte, 1)); n != 0 || err != io.EOF {
				t.Errorf("%s: after the body: %d bytes, %v; want the connection closed", e.path, n, err)
			}
		}
	})
}
