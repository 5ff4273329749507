package edge

import (
	"bytes"
	"net"
	"strings"
	"testing"

	"github.com/valyala/fasthttp"
)

// BenchmarkNode_passPOST1KiB drives a pass-through POST of 1 KiB content to a local origin
// that answers 1 KiB, the content handed to the handler as the HTTP/1.1 listener hands it
// (a stream: StreamRequestBody, http1content.go).
// Run: go test -run '^$' -bench 'Node_pass' -benchmem ./edge/
func BenchmarkNode_passPOST1KiB(b *testing.B) {
	body := []byte(strings.Repeat("x", 1024))
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		b.Fatal(err)
	}
	srv := &fasthttp.Server{Handler: func(ctx *fasthttp.RequestCtx) {
		if len(ctx.PostBody()) != len(body) {
			ctx.SetStatusCode(fasthttp.StatusBadRequest)
			return
		}
		ctx.SetContentType("text/plain")
		ctx.SetBody(body)
	}}
	go srv.Serve(ln)
	b.Cleanup(func() { srv.Shutdown() })
	n := startNode(b, oneRoute(false, "http://"+ln.Addr().String()), Options{})
	defer func(on bool) { poisonScratch = on }(poisonScratch)
	poisonScratch = false
	ctx := benchCtx("/form")
	ctx.Request.Header.SetMethod("POST")
	content := bytes.NewReader(body)
	drive := func() {
		content.Reset(body)
		ctx.Request.SetBodyStream(content, len(body))
		n.handleHTTP1(ctx)
		if ctx.Response.StatusCode() != fasthttp.StatusOK {
			b.Fatalf("status %d, want 200", ctx.Response.StatusCode())
		}
		drainBody(ctx)
		resetResponse(ctx)
	}
	drive()
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		drive()
	}
}
