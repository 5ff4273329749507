package edge

import (
	"strconv"
	"strings"
	"testing"

	"github.com/valyala/fasthttp"
)

// BenchmarkNode_miss1KiB drives the data plane on a miss of 1 KiB: every request a new URL,
// fetched from a local fasthttp origin, stored, and its body read as the server writes it
// (make bench's miss-1k). Run: go test -run '^$' -bench 'Node_miss1KiB' -benchmem ./edge/
//
// inline has the daemon's default timeouts (cache.fill_timeout 30s, first_byte_timeout 15s),
// as make bench runs it: the leader fetches on its own goroutine (startFill). goroutine has
// a fill timeout below the pool's first-byte timeout (the tests' 5s), so the fill runs in a
// goroutine of its own.
func BenchmarkNode_miss1KiB(b *testing.B) {
	b.Run("inline", func(b *testing.B) { benchMiss(b, "fill_timeout: 30s") })
	b.Run("goroutine", func(b *testing.B) { benchMiss(b, "fill_timeout: 5s") })
}

func benchMiss(b *testing.B, fillTimeout string) {
	body := []byte(strings.Repeat("x", 1024))
	url := startFastOrigin(b, func(ctx *fasthttp.RequestCtx) {
		ctx.Response.Header.Set("Cache-Control", "max-age=3600")
		ctx.SetContentType("application/octet-stream")
		ctx.SetBody(body)
	})
	n := startNode(b, strings.Replace(oneRoute(true, url), "fill_timeout: 5s", fillTimeout, 1), Options{})
	defer func(on bool) { poisonScratch = on }(poisonScratch)
	poisonScratch = false
	ctx := benchCtx("/miss/0")
	uri := make([]byte, 0, 64)
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		uri = strconv.AppendInt(append(uri[:0], "/miss/"...), int64(i+1), 10)
		ctx.Request.SetRequestURIBytes(uri)
		n.handleHTTP1(ctx)
		if ctx.Response.StatusCode() != fasthttp.StatusOK {
			b.Fatalf("status %d", ctx.Response.StatusCode())
		}
		drainBody(ctx)
		resetResponse(ctx)
	}
	b.StopTimer()
	n.bg.Wait()
}
