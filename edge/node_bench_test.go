package edge

import (
	"io"
	"net"
	"net/http"
	"strings"
	"testing"

	"github.com/valyala/fasthttp"
)

// benchCtx prepares a RequestCtx for path, as the listener would hand it to Node.handle.
func benchCtx(path string) *fasthttp.RequestCtx {
	var ctx fasthttp.RequestCtx
	ctx.Init(&fasthttp.Request{}, &net.TCPAddr{IP: net.IPv4(127, 0, 0, 1), Port: 40000}, nil)
	ctx.Request.Header.DisableNormalizing() // as the listener's server does
	ctx.Request.Header.SetMethod("GET")
	ctx.Request.SetRequestURI(path)
	ctx.Request.Header.SetHost("bench.local")
	ctx.Request.Header.Set("User-Agent", "wrk")
	ctx.Request.Header.Set("Accept", "*/*")
	return &ctx
}

// benchDrive runs n.handle b.N times on a reused ctx, resetting the response like the server.
// A streamed body (a pass, a miss) is read to its end as the server would write it: left
// unread, it would close the origin connection and every request would dial a new one.
func benchDrive(b *testing.B, n *Node, path string, wantStatus int) {
	defer func(on bool) { poisonScratch = on }(poisonScratch)
	poisonScratch = false // what the tests check costs a memset per request
	ctx := benchCtx(path)
	n.handleHTTP1(ctx) // warm: fills the cache on a cache route
	drainBody(ctx)
	resetResponse(ctx)
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		n.handleHTTP1(ctx)
		if ctx.Response.StatusCode() != wantStatus {
			b.Fatalf("status %d, want %d", ctx.Response.StatusCode(), wantStatus)
		}
		drainBody(ctx)
		resetResponse(ctx)
	}
}

// drainBody reads a streamed response body to its end and closes it, as the server does
// when it writes the response.
func drainBody(ctx *fasthttp.RequestCtx) {
	if ctx.Response.IsBodyStream() {
		ctx.Response.BodyWriteTo(io.Discard)
	}
}

// BenchmarkNode_hit1KiB drives the data plane on a 1 KiB cache hit, without sockets.
// Run: go test -run '^$' -bench Node_ -benchmem ./edge/
func BenchmarkNode_hit1KiB(b *testing.B) {
	body := strings.Repeat("x", 1024)
	o := startOrigin(b, func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Cache-Control", "max-age=3600")
		w.Header().Set("Content-Type", "text/plain")
		w.Header().Set("ETag", `"v1"`)
		w.Header().Set("Last-Modified", "Sat, 21 Nov 2026 10:00:00 GMT")
		w.Write([]byte(body))
	})
	n := startNode(b, oneRoute(true, o.URL), Options{})
	benchDrive(b, n, "/1k.bin", fasthttp.StatusOK) // the path scripts/bench/run.sh asks for
	if o.requests.Load() != 1 {
		b.Fatalf("origin saw %d requests, want 1 (every other should hit)", o.requests.Load())
	}
}

// BenchmarkNode_pass1KiB drives a pass-through route to a local origin.
func BenchmarkNode_pass1KiB(b *testing.B) { benchPass(b, false) }

// BenchmarkNode_pass1KiBKeepAlive is BenchmarkNode_pass1KiB from an origin that says
// Connection: keep-alive and Keep-Alive, as nginx and Apache do: hop-by-hop fields the pass
// takes out of every answer.
func BenchmarkNode_pass1KiBKeepAlive(b *testing.B) { benchPass(b, true) }

func benchPass(b *testing.B, keepAlive bool) {
	n := startNode(b, oneRoute(false, startPassOrigin(b, keepAlive)), Options{})
	benchDrive(b, n, "/obj", fasthttp.StatusOK)
}

// startPassOrigin serves 1 KiB of text/plain from a fasthttp server on a loopback port until
// the test ends, with nginx's and Apache's Connection: keep-alive and Keep-Alive fields when
// hop is set, and returns its URL.
func startPassOrigin(tb testing.TB, hop bool) string {
	body := []byte(strings.Repeat("x", 1024))
	return startFastOrigin(tb, func(ctx *fasthttp.RequestCtx) {
		ctx.SetContentType("text/plain")
		if hop {
			ctx.Response.Header.Set("Connection", "keep-alive")
			ctx.Response.Header.Set("Keep-Alive", "timeout=5, max=100")
		}
		ctx.SetBody(body)
	})
}

// startFastOrigin serves handler from a fasthttp server on a loopback port until the test
// ends and returns its URL.
func startFastOrigin(tb testing.TB, handler fasthttp.RequestHandler) string {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		tb.Fatal(err)
	}
	srv := &fasthttp.Server{Handler: handler}
	go srv.Serve(ln)
	tb.Cleanup(func() { srv.Shutdown() })
	return "http://" + ln.Addr().String()
}

// resetResponse readies ctx for the next request as fasthttp's server does.
func resetResponse(ctx *fasthttp.RequestCtx) {
	ctx.Response.Reset()
	ctx.Response.Header.DisableNormalizing()
	ctx.Response.Header.SetNoDefaultContentType(true)
}
