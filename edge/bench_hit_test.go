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
