package edge

import (
	"bufio"
	"net/http"
	"strings"
	"testing"

	"github.com/valyala/fasthttp"
)

// BenchmarkNode_hit1KiBWire is BenchmarkNode_hit1KiB with the request wrk sends to make
// bench, parsed from the wire as the listener parses it: the raw head is what
// readHTTP1Head and the framing guard walk, and Host carries the node's port.
// Run: go test -run '^$' -bench 'Node_hit1KiBWire' -benchmem ./edge/
func BenchmarkNode_hit1KiBWire(b *testing.B) {
	body := strings.Repeat("x", 1024)
	o := startOrigin(b, func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Cache-Control", "max-age=3600")
		w.Header().Set("Content-Type", "application/octet-stream")
		w.Header().Set("ETag", `"v1"`)
		w.Header().Set("Last-Modified", "Sat, 21 Nov 2026 10:00:00 GMT")
		w.Write([]byte(body))
	})
	n := startNode(b, oneRoute(true, o.URL), Options{})
	ctx := benchCtx("/1k.bin")
	ctx.Request.Reset()
	ctx.Request.Header.DisableNormalizing()
	wire := "GET /1k.bin HTTP/1.1\r\nHost: 127.0.0.1:18304\r\n\r\n"
	if err := ctx.Request.Header.Read(bufio.NewReader(strings.NewReader(wire))); err != nil {
		b.Fatal(err)
	}
	defer func(on bool) { poisonScratch = on }(poisonScratch)
	poisonScratch = false
	n.handleHTTP1(ctx) // fill
	resetResponse(ctx)
	n.bg.Wait()
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		n.handleHTTP1(ctx)
		if ctx.Response.StatusCode() != fasthttp.StatusOK {
			b.Fatalf("status %d", ctx.Response.StatusCode())
		}
		resetResponse(ctx)
	}
	b.StopTimer()
	if o.requests.Load() != 1 {
		b.Fatalf("origin saw %d requests, want 1 (every other should hit)", o.requests.Load())
	}
}
