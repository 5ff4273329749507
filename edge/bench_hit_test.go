package edge

import (
	"net/http"
	"strings"
	"testing"

	"github.com/valyala/fasthttp"
)

// BenchmarkNode_hit16KiB is BenchmarkNode_hit1KiB with the 16 KiB object make bench asks for.
// Run: go test -run '^$' -bench 'Node_hit(1|16)KiB$' -benchmem ./edge/
func BenchmarkNode_hit16KiB(b *testing.B) {
	body := strings.Repeat("x", 16<<10)
	o := startOrigin(b, func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Cache-Control", "max-age=3600")
		w.Header().Set("Content-Type", "application/octet-stream")
		w.Header().Set("ETag", `"v1"`)
		w.Header().Set("Last-Modified", "Sat, 21 Nov 2026 10:00:00 GMT")
		w.Write([]byte(body))
	})
	n := startNode(b, oneRoute(true, o.URL), Options{})
	benchDrive(b, n, "/16k.bin", fasthttp.StatusOK)
	if o.requests.Load() != 1 {
		b.Fatalf("origin saw %d requests, want 1 (every other should hit)", o.requests.Load())
	}
}

// BenchmarkNode_hit16KiBSocket serves the 16 KiB hit through the node's listener to a
// keep-alive fasthttp client on loopback, so it measures what the in-process benchmarks
// cannot: how the response reaches the socket (one writev for head and body, or two
// writes). Client and server share the machine's cores; compare runs, not absolutes.
// Run: go test -run '^$' -bench 'Node_hit16KiBSocket' -benchmem ./edge/
func BenchmarkNode_hit16KiBSocket(b *testing.B) {
	body := strings.Repeat("x", 16<<10)
	o := startOrigin(b, func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Cache-Control", "max-age=3600")
		w.Header().Set("Content-Type", "application/octet-stream")
		w.Write([]byte(body))
	})
	n := startNode(b, oneRoute(true, o.URL), Options{})
	benchSocketHits(b, n, "/16k.bin", len(body), nil, o.requests.Load)
}

// benchSocketHits GETs path from n's listener on 64 keep-alive connections in parallel,
// each answer checked to be a 200 of size bytes: one request to fill, then warm (if not
// nil), then the measured hits; the origin (originRequests) must have seen the fill only.
func benchSocketHits(b *testing.B, n *Node, path string, size int, warm func(), originRequests func() int64) {
	b.Helper()
	c := &fasthttp.HostClient{Addr: n.HTTPAddr(), MaxConns: 64, MaxResponseBodySize: max(size, 4<<20)}
	url := "http://" + n.HTTPAddr() + path
	get := func(req *fasthttp.Request, resp *fasthttp.Response) bool {
		req.SetRequestURI(url)
		if err := c.Do(req, resp); err != nil || resp.StatusCode() != 200 || len(resp.Body()) != size {
			b.Errorf("GET: %v, status %d, %d bytes", err, resp.StatusCode(), len(resp.Body()))
			return false
		}
		return true
	}
	if !get(&fasthttp.Request{}, &fasthttp.Response{}) {
		return
	}
	if warm != nil {
		warm()
	}
	b.SetBytes(int64(size))
	b.ReportAllocs()
	b.ResetTimer()
	b.SetParallelism(4)
	b.RunParallel(func(pb *testing.PB) {
		var req fasthttp.Request
		var resp fasthttp.Response
		for pb.Next() {
			if !get(&req, &resp) {
				return
			}
		}
	})
	b.StopTimer()
	if got := originRequests(); got != 1 {
		b.Fatalf("origin saw %d requests, want 1 (every other should hit)", got)
	}
}
