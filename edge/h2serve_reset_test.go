package edge

import (
	"bytes"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"runtime"
	"strings"
	"testing"
	"time"

	"golang.org/x/net/http2"
	"golang.org/x/net/http2/hpack"
)

// dialRawH2C is dialRawH2 on listen.h2c: cleartext with prior knowledge.
func dialRawH2C(t *testing.T, addr string) *rawH2 {
	t.Helper()
	c, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	io.WriteString(c, http2.ClientPreface)
	r := &rawH2{t: t, c: c, fr: http2.NewFramer(c, c), dec: hpack.NewDecoder(4096, nil)}
	r.enc = hpack.NewEncoder(&r.buf)
	r.fr.WriteSettings()
	return r
}

// openFDs is how many file descriptors the process has open.
func openFDs(t *testing.T) int {
	t.Helper()
	ents, err := os.ReadDir("/proc/self/fd")
	if err != nil {
		t.Fatalf("counting descriptors: %v", err)
	}
	return len(ents)
}

// resetAfterData reads stream id's HEADERS and first DATA frame (decoding every header
// block in order) and resets it; it returns the response's fields.
func (r *rawH2) resetAfterData(id uint32) map[string]string {
	r.t.Helper()
	fields := map[string]string{}
	for {
		switch f := r.next().(type) {
		case *http2.HeadersFrame:
			hf, err := r.dec.DecodeFull(f.HeaderBlockFragment())
			if err != nil {
				r.t.Fatal(err)
			}
			if f.StreamID == id {
				for _, h := range hf {
					fields[h.Name] = h.Value
				}
			}
		case *http2.DataFrame:
			if f.StreamID == id {
				r.fr.WriteRSTStream(id, http2.ErrCodeCancel)
				return fields
			}
		case *http2.RSTStreamFrame:
			if f.StreamID == id {
				r.t.Fatalf("stream %d reset by the node (%v) before any content", id, f.ErrCode)
			}
		}
	}
}

// TestH2Serve_resetOnDiskAndStreamedBodies: a client that resets streams part way through a
// body read from the disk tier (HTTP/2 has no sendfile: the body comes from ReadAt on the
// segment) or through a streamed pass leaves no descriptor or goroutine behind, and the
// connection serves its next stream: a whole disk hit, byte-exact. A client's GOAWAY lets
// the response in flight finish (RFC 9113 section 6.8: it refuses only new streams).
func TestH2Serve_resetOnDiskAndStreamedBodies(t *testing.T) {
	want := largeBody(4 << 20)
	origin := startOrigin(t, func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Length", fmt.Sprint(len(want)))
		w.Header().Set("Cache-Control", "max-age=600")
		if strings.HasPrefix(r.URL.Path, "/pass") {
			w.Header().Set("Cache-Control", "no-store")
		}
		w.Write(want)
	})
	yaml := `listen: {http: "127.0.0.1:0", h2c: "127.0.0.1:0", admin: "127.0.0.1:0"}
` + strings.Replace(oneRoute(true, origin.URL), "max_object_size: 8MiB, fill_timeout: 5s}",
		fmt.Sprintf("max_object_size: 1MiB, fill_timeout: 5s, disk: {path: %q, size: 128MiB, max_object_size: 32MiB}}", t.TempDir()), 1)
	n := startNode(t, yaml, Options{Logger: testLogger(t)})
	waitDiskReady(t, n)

	c := dialRawH2C(t, n.H2CAddr())
	c.request(1, "GET", "/big", nil)
	if _, body, reset := c.response(1); reset || !bytes.Equal(body, want) {
		t.Fatalf("miss: %d bytes, reset %v", len(body), reset)
	}
	n.settleDisk()
	runtime.GC()
	fds, goroutines := openFDs(t), runtime.NumGoroutine()

	id := uint32(3)
	for i := range 20 {
		path := "/big"
		if i%4 == 3 {
			path = fmt.Sprintf("/pass/%d", i)
		}
		c.request(id, "GET", path, nil)
		fields := c.resetAfterData(id)
		if path == "/big" && !strings.Contains(fields["cache-status"], "/disk") {
			t.Fatalf("%s: Cache-Status %q, want a disk hit", path, fields["cache-status"])
		}
		id += 2
	}
	c.request(id, "GET", "/big", nil)
	fields, body, reset := c.response(id)
	if reset || !bytes.Equal(body, want) || !strings.Contains(strings.Join(fields["cache-status"], ""), "/disk") {
		t.Fatalf("after the resets: %d bytes, reset %v, Cache-Status %q", len(body), reset, fields["cache-status"])
	}

	g := dialRawH2C(t, n.H2CAddr())
	g.request(1, "GET", "/pass/goaway", nil)
	g.fr.WriteGoAway(0, http2.ErrCodeNo, nil)
	if _, body, reset := g.response(1); reset || !bytes.Equal(body, want) {
		t.Errorf("after the client's GOAWAY: %d of %d bytes, reset %v", len(body), len(want), reset)
	}

	c.c.Close()
	g.c.Close()
	var nowFDs, nowG int
	for deadline := time.Now().Add(5 * time.Second); time.Now().Before(deadline); time.Sleep(50 * time.Millisecond) {
		nowFDs, nowG = openFDs(t), runtime.NumGoroutine()
		if nowFDs <= fds+4 && nowG <= goroutines+10 {
			break
		}
	}
	t.Logf("descriptors %d -> %d, goroutines %d -> %d", fds, nowFDs, goroutines, nowG)
	if nowFDs > fds+4 {
		t.Errorf("%d descriptors open after 20 reset streams, %d before", nowFDs, fds)
	}
	if nowG > goroutines+10 {
		t.Errorf("%d goroutines after 20 reset streams, %d before", nowG, goroutines)
	}
}

// TestH2Serve_resetMissStillFills: the client that started a fill resets its stream after
// the first DATA frame; the fill, which other clients may be waiting on, goes on and stores
// the object: the next request is a byte-exact hit and nginx was asked once.
func TestH2Serve_resetMissStillFills(t *testing.T) {
	n, ngx := abuseNode(t)
	c := dialRawH2C(t, n.H2CAddr())
	c.request(1, "GET", "/big.bin", nil)
	c.resetAfterData(1)
	var fields map[string][]string
	var body []byte
	for id, deadline := uint32(3), time.Now().Add(5*time.Second); ; id += 2 {
		n.settleFills()
		c.request(id, "GET", "/big.bin", nil)
		fields, body, _ = c.response(id)
		if strings.Contains(strings.Join(fields["cache-status"], ""), "; hit") || time.Now().After(deadline) {
			break
		}
		time.Sleep(50 * time.Millisecond)
	}
	if !bytes.Equal(body, patterned(1<<20)) || !strings.Contains(strings.Join(fields["cache-status"], ""), "; hit") {
		t.Errorf("after the reset: %d bytes, Cache-Status %q; want a byte-exact hit", len(body), fields["cache-status"])
	}
	if got := ngx.Requests("/big.bin"); got != 1 {
		t.Errorf("nginx asked %d times", got)
	}
}
