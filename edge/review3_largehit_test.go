package edge

import (
	"bufio"
	"bytes"
	"crypto/tls"
	"crypto/x509"
	"fmt"
	"io"
	"net"
	"net/http"
	"strconv"
	"strings"
	"testing"
	"time"
)

// Review of large hits served from the disk tier over the HTTP/1.1 listener, where the body
// leaves with sendfile(2) after a flushed head: pipelined requests that mix disk hits, HEADs,
// ranges and memory hits; HTTP/1.0; a client that stops reading (limits.write_timeout); and
// one that hangs up mid-body.

// review3LargeSizes are the disk-only bodies (memory keeps 64 KiB at most): just past the
// cutoff, one of the benchmark's, and one larger than loopback's socket buffers.
var review3LargeSizes = []int{64<<10 + 1, 1 << 20, 6 << 20}

func review3LargeNode(t *testing.T, extra string) (*Node, map[string][]byte) {
	t.Helper()
	n, bodies, _ := review3LargeTLSNode(t, extra, false)
	return n, bodies
}

// review3LargeTLSNode is review3LargeNode with listen.https too when withTLS, and the pool
// that trusts its certificate (www.example.test).
func review3LargeTLSNode(t *testing.T, extra string, withTLS bool) (*Node, map[string][]byte, *x509.CertPool) {
	t.Helper()
	var pool *x509.CertPool
	if withTLS {
		dir := t.TempDir()
		certFile, keyFile, p := writeCert(t, dir, "site", "www.example.test", "www.example.com") // the requests name www.example.com (misdirected.go)
		pool = p
		extra += fmt.Sprintf("listen: {http: \"127.0.0.1:0\", https: \"127.0.0.1:0\", admin: \"127.0.0.1:0\"}\ntls: {certificates: [{cert: %s, key: %s}]}\n", certFile, keyFile)
	}
	bodies := map[string][]byte{}
	for _, size := range review3LargeSizes {
		path := fmt.Sprintf("/l/%d.bin", size)
		bodies[path] = review3Body(path, 1)[:0]
		b := fmt.Appendf(nil, "%s\n", path)
		bodies[path] = append(b, largeBody(size-len(b))...)
	}
	bodies["/l/small.bin"] = []byte("a memory hit\n")
	o := startOrigin(t, func(w http.ResponseWriter, r *http.Request) {
		b, ok := bodies[r.URL.Path]
		if !ok {
			http.NotFound(w, r)
			return
		}
		w.Header().Set("Cache-Control", "max-age=600")
		w.Header().Set("ETag", `"e`+strconv.Itoa(len(b))+`"`)
		w.Header().Set("Content-Length", strconv.Itoa(len(b)))
		w.Write(b)
	})
	yaml := strings.Replace(oneRoute(true, o.URL), "max_object_size: 8MiB, fill_timeout: 5s}",
		fmt.Sprintf("max_object_size: 8MiB, fill_timeout: 5s, disk: {path: %q, size: 256MiB, max_object_size: 64MiB, admit_frequency: -1, ram_cache_cutoff: 64KiB}}", t.TempDir()), 1) + extra
	n := startNode(t, yaml, Options{Logger: testLogger(t)})
	waitDiskReady(t, n)
	for path := range bodies {
		review3Do(t, "GET", "http://"+n.HTTPAddr()+path)
	}
	var https *http.Client
	if withTLS { // https objects have keys of their own
		https = tlsClient(pool, false, n.HTTPSAddr())
		for path := range bodies {
			review3DoWith(t, https, "GET", "https://"+n.HTTPSAddr()+path)
		}
	}
	n.settleDisk()
	for path := range bodies { // decode and keep the heads
		if resp, _ := review3Do(t, "GET", "http://"+n.HTTPAddr()+path); path != "/l/small.bin" && !strings.HasSuffix(resp.Header.Get("Cache-Status"), "/disk") {
			t.Fatalf("%s: Cache-Status %q, want a disk hit", path, resp.Header.Get("Cache-Status"))
		}
		if https == nil {
			continue
		}
		if resp, _ := review3DoWith(t, https, "GET", "https://"+n.HTTPSAddr()+path); path != "/l/small.bin" && !strings.HasSuffix(resp.Header.Get("Cache-Status"), "/disk") {
			t.Fatalf("https %s: Cache-Status %q, want a disk hit", path, resp.Header.Get("Cache-Status"))
		}
	}
	return n, bodies, pool
}

type review3Req struct {
	method, path, proto, extra string
}

func (r review3Req) wire() string {
	proto := r.proto
	if proto == "" {
		proto = "HTTP/1.1"
	}
	return fmt.Sprintf("%s %s %s\r\nHost: www.example.com\r\n%s\r\n", r.method, r.path, proto, r.extra)
}

// Pipelined requests on one connection, all sent before any answer is read: every answer
// is whole, in order, its body byte-exact (or none for HEAD), including after a range and a
// HEAD of a disk hit whose body sendfile would have sent.
func TestReview3_pipelinedDiskHits(t *testing.T) {
	n, bodies, pool := review3LargeTLSNode(t, "", true)
	t.Run("http", func(t *testing.T) {
		c, err := net.Dial("tcp", n.HTTPAddr())
		if err != nil {
			t.Fatal(err)
		}
		review3Pipeline(t, c, bodies)
	})
	t.Run("https", func(t *testing.T) {
		c, err := tls.Dial("tcp", n.HTTPSAddr(), &tls.Config{RootCAs: pool, ServerName: "www.example.test", NextProtos: []string{"http/1.1"}})
		if err != nil {
			t.Fatal(err)
		}
		review3Pipeline(t, c, bodies)
	})
}

func review3Pipeline(t *testing.T, c net.Conn, bodies map[string][]byte) {
	var reqs []review3Req
	for _, size := range review3LargeSizes {
		p := fmt.Sprintf("/l/%d.bin", size)
		reqs = append(reqs,
			review3Req{method: "GET", path: p},
			review3Req{method: "HEAD", path: p},
			review3Req{method: "GET", path: p, extra: "Range: bytes=10-19\r\n"},
			review3Req{method: "GET", path: "/l/small.bin"},
			review3Req{method: "GET", path: p, extra: "If-None-Match: \"e" + strconv.Itoa(len(bodies[p])) + "\"\r\n"},
			review3Req{method: "GET", path: p},
		)
	}
	var wire strings.Builder
	for _, r := range reqs {
		wire.WriteString(r.wire())
	}
	defer c.Close()
	c.SetDeadline(time.Now().Add(20 * time.Second))
	go c.Write([]byte(wire.String()))
	br := bufio.NewReader(c)
	for i, r := range reqs {
		req, _ := http.NewRequest(r.method, "http://www.example.com"+r.path, nil)
		resp, err := http.ReadResponse(br, req)
		if err != nil {
			t.Fatalf("answer %d (%s %s %q): %v", i, r.method, r.path, r.extra, err)
		}
		body, err := io.ReadAll(resp.Body)
		resp.Body.Close()
		if err != nil {
			t.Fatalf("answer %d (%s %s): body: %v", i, r.method, r.path, err)
		}
		want := bodies[r.path]
		switch {
		case r.method == "HEAD":
			if resp.StatusCode != 200 || len(body) != 0 || resp.ContentLength != int64(len(want)) {
				t.Fatalf("answer %d HEAD %s: %d, %d body bytes, Content-Length %d", i, r.path, resp.StatusCode, len(body), resp.ContentLength)
			}
		case strings.HasPrefix(r.extra, "Range"):
			if resp.StatusCode != 206 || !bytes.Equal(body, want[10:20]) {
				t.Fatalf("answer %d range of %s: %d, %d bytes (Cache-Status %q)", i, r.path, resp.StatusCode, len(body), resp.Header.Get("Cache-Status"))
			}
		case strings.HasPrefix(r.extra, "If-None-Match"):
			if resp.StatusCode != 304 || len(body) != 0 {
				t.Fatalf("answer %d conditional %s: %d, %d bytes", i, r.path, resp.StatusCode, len(body))
			}
		default:
			if resp.StatusCode != 200 || !bytes.Equal(body, want) {
				t.Fatalf("answer %d GET %s: %d, %d bytes of %d (Cache-Status %q)", i, r.path, resp.StatusCode, len(body), len(want), resp.Header.Get("Cache-Status"))
			}
		}
	}
}

// HTTP/1.0 clients, with and without keep-alive, get each disk hit whole with its
// Content-Length; without keep-alive the connection closes after it.
func TestReview3_http10DiskHits(t *testing.T) {
	n, bodies := review3LargeNode(t, "")
	for _, size := range review3LargeSizes {
		p := fmt.Sprintf("/l/%d.bin", size)
		for _, keepAlive := range []bool{false, true} {
			extra := ""
			if keepAlive {
				extra = "Connection: keep-alive\r\n"
			}
			c, err := net.Dial("tcp", n.HTTPAddr())
			if err != nil {
				t.Fatal(err)
			}
			c.SetDeadline(time.Now().Add(20 * time.Second))
			r := review3Req{method: "GET", path: p, proto: "HTTP/1.0", extra: extra}
			c.Write([]byte(r.wire() + r.wire()))
			br := bufio.NewReader(c)
			for i := range 2 {
				resp, err := http.ReadResponse(br, nil)
				if !keepAlive && i == 1 {
					if err == nil {
						t.Errorf("HTTP/1.0 %s without keep-alive: a second answer on the connection", p)
					}
					break
				}
				if err != nil {
					t.Fatalf("HTTP/1.0 %s, keep-alive %v, answer %d: %v", p, keepAlive, i, err)
				}
				body, err := io.ReadAll(resp.Body)
				resp.Body.Close()
				if err != nil || !bytes.Equal(body, bodies[p]) || resp.ContentLength != int64(len(bodies[p])) {
					t.Fatalf("HTTP/1.0 %s, keep-alive %v, answer %d: %v, %d bytes, Content-Length %d", p, keepAlive, i, err, len(body), resp.ContentLength)
				}
			}
			c.Close()
		}
	}
}

// A client that stops reading a disk hit is cut off within limits.write_timeout (the
// sendfile loop waits in the poller, under the connection's write deadline), and one that
// hangs up mid-body leaves the node serving the object whole to the next.
func TestReview3_diskHitSlowAndVanishingReaders(t *testing.T) {
	n, bodies := review3LargeNode(t, "limits: {write_timeout: 1s}\n")
	p := fmt.Sprintf("/l/%d.bin", 6<<20)
	for range 10 {
		c, err := net.Dial("tcp", n.HTTPAddr())
		if err != nil {
			t.Fatal(err)
		}
		c.Write([]byte(review3Req{method: "GET", path: p}.wire()))
		buf := make([]byte, 100<<10)
		io.ReadFull(c, buf)
		c.Close()
	}
	resp, body := review3Do(t, "GET", "http://"+n.HTTPAddr()+p)
	if !bytes.Equal(body, bodies[p]) || !strings.HasSuffix(resp.Header.Get("Cache-Status"), "/disk") {
		t.Fatalf("after clients hung up: %d bytes, Cache-Status %q", len(body), resp.Header.Get("Cache-Status"))
	}

	d := net.Dialer{Control: nil}
	c, err := d.Dial("tcp", n.HTTPAddr())
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	c.(*net.TCPConn).SetReadBuffer(64 << 10)
	c.Write([]byte(review3Req{method: "GET", path: p}.wire()))
	time.Sleep(2500 * time.Millisecond) // past write_timeout, reading nothing
	c.SetReadDeadline(time.Now().Add(10 * time.Second))
	got, err := io.Copy(io.Discard, c)
	if err != nil && !isReset(err) {
		t.Fatalf("reading after the stall: %v (the node did not close the connection)", err)
	}
	if got >= int64(len(bodies[p])) {
		t.Errorf("a client that read nothing for 2.5 s got all %d bytes; want the node to give up after write_timeout (1s)", got)
	}
}

// Disk hits over HTTP/2 take the kept head's fields (copyHitHead's field-by-field branch):
// whole, HEAD and a range, each with the right length and no field twice.
func TestReview3_diskHitsOverHTTP2(t *testing.T) {
	n, bodies, pool := review3LargeTLSNode(t, "", true)
	h2 := tlsClient(pool, true, n.HTTPSAddr())
	for _, size := range review3LargeSizes {
		p := fmt.Sprintf("/l/%d.bin", size)
		url := "https://" + n.HTTPSAddr() + p
		for i := range 2 {
			resp, body := review3DoWith(t, h2, "GET", url)
			if resp.ProtoMajor != 2 || resp.StatusCode != 200 || !bytes.Equal(body, bodies[p]) || !strings.HasSuffix(resp.Header.Get("Cache-Status"), "/disk") {
				t.Fatalf("h2 GET %s, %d: %s %d, %d bytes of %d, Cache-Status %q", p, i, resp.Proto, resp.StatusCode, len(body), len(bodies[p]), resp.Header.Get("Cache-Status"))
			}
			for k, v := range resp.Header {
				if len(v) > 1 && k != "Cache-Status" {
					t.Errorf("h2 GET %s: %s sent %d times: %q", p, k, len(v), v)
				}
			}
			resp, body = review3DoWith(t, h2, "HEAD", url)
			if resp.StatusCode != 200 || len(body) != 0 || resp.ContentLength != int64(len(bodies[p])) {
				t.Errorf("h2 HEAD %s: %d, %d bytes, Content-Length %d", p, resp.StatusCode, len(body), resp.ContentLength)
			}
			resp, body = review3DoWith(t, h2, "GET", url, "Range", "bytes=-5")
			if resp.StatusCode != 206 || !bytes.Equal(body, bodies[p][len(bodies[p])-5:]) ||
				resp.Header.Get("Content-Range") != fmt.Sprintf("bytes %d-%d/%d", len(bodies[p])-5, len(bodies[p])-1, len(bodies[p])) {
				t.Errorf("h2 range of %s: %d, %q, Content-Range %q", p, resp.StatusCode, body, resp.Header.Get("Content-Range"))
			}
		}
	}
}

// Clients that hang up in the middle of a disk hit's body, over HTTP/1.1 (sendfile) and
// HTTP/2, leave no Handle open: once the tier has reclaimed every segment they read from,
// nothing stays pinned (disk.Stats.Pinned), so their bytes are not kept on the file system.
func TestReview3_abortedDiskHitsPinNothing(t *testing.T) {
	body := largeBody(600 << 10)
	o := startOrigin(t, func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Cache-Control", "max-age=600")
		w.Header().Set("Content-Length", strconv.Itoa(len(body)))
		w.Write(body)
	})
	dir := t.TempDir()
	certFile, keyFile, pool := writeCert(t, dir, "site", "www.example.test")
	yaml := fmt.Sprintf("listen: {http: \"127.0.0.1:0\", https: \"127.0.0.1:0\", admin: \"127.0.0.1:0\"}\ntls: {certificates: [{cert: %s, key: %s}]}\n", certFile, keyFile) +
		strings.Replace(oneRoute(true, o.URL), "fill_timeout: 5s}",
			fmt.Sprintf("fill_timeout: 5s, disk: {path: %q, size: 8MiB, segment_size: 1MiB, admit_frequency: -1, ram_cache_cutoff: 64KiB}}", t.TempDir()), 1)
	n := startNode(t, yaml, Options{Logger: testLogger(t)})
	waitDiskReady(t, n)
	h2 := tlsClient(pool, true, n.HTTPSAddr())
	for i := range 4 {
		p := fmt.Sprintf("/abort/%d.bin", i)
		review3Do(t, "GET", "http://"+n.HTTPAddr()+p)
		review3DoWith(t, h2, "GET", "https://"+n.HTTPSAddr()+p)
	}
	n.settleDisk()
	for i := range 4 {
		p := fmt.Sprintf("/abort/%d.bin", i)
		for range 3 {
			c, err := net.Dial("tcp", n.HTTPAddr())
			if err != nil {
				t.Fatal(err)
			}
			c.Write([]byte(review3Req{method: "GET", path: p}.wire()))
			io.ReadFull(c, make([]byte, 32<<10))
			c.(*net.TCPConn).SetLinger(0) // a reset, not a polite close
			c.Close()

			req, _ := http.NewRequest("GET", "https://"+n.HTTPSAddr()+p, nil)
			req.Host = "www.example.com"
			resp, err := h2.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			io.ReadFull(resp.Body, make([]byte, 32<<10))
			resp.Body.Close() // RST_STREAM mid-body
		}
	}
	for i := range 40 { // 24 MiB through an 8 MiB tier: every segment above is reclaimed (the poll below waits for readers the resets have not closed yet)
		review3Do(t, "GET", fmt.Sprintf("http://%s/churn/%d.bin", n.HTTPAddr(), i))
	}
	n.settleDisk()
	deadline := time.Now().Add(5 * time.Second)
	for n.disk.d.Stats().Pinned != 0 && time.Now().Before(deadline) {
		time.Sleep(20 * time.Millisecond)
	}
	if st := n.disk.d.Stats(); st.Pinned != 0 || st.Evictions == 0 {
		t.Fatalf("after clients hung up mid-body: %d bytes still pinned, %d evictions; want 0 pinned after reclaim", st.Pinned, st.Evictions)
	}
}
