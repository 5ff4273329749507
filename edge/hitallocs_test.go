package edge

import (
	"bufio"
	"bytes"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/valyala/fasthttp"
)

// TestNode_hitAllocatesNothing: a fresh hit from memory allocates nothing in the node, for
// bodies of 1 and 16 KiB, on a route with 5 response field rules, for a request with a query
// and the fields browsers send, and for HEAD (issue 15: the hit path was 6 allocations,
// 8 with rules). The request runs through Node.handle as the listener calls it.
func TestNode_hitAllocatesNothing(t *testing.T) {
	o := startOrigin(t, func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Cache-Control", "max-age=3600")
		w.Header().Set("Content-Type", "application/octet-stream")
		w.Header().Set("ETag", `"v1"`)
		w.Header().Set("Last-Modified", "Sat, 21 Nov 2026 10:00:00 GMT")
		w.Header().Set("X-Powered-By", "PHP/8.2")
		size := 1 << 10
		if strings.HasPrefix(r.URL.Path, "/16k") {
			size = 16 << 10
		}
		w.Write([]byte(strings.Repeat("x", size)))
	})
	rules := `    headers:
      response:
        set:
          Strict-Transport-Security: "max-age=31536000"
          X-Content-Type-Options: nosniff
          X-Frame-Options: SAMEORIGIN
          Referrer-Policy: strict-origin-when-cross-origin
        remove: [X-Powered-By]
`
	cfg := "node: {name: bench}\ncache: {memory: 64MiB}\norigins:\n  o: {servers: [{url: " + o.URL + "}]}\nroutes:\n" +
		"  - match: {path_prefix: /rules/}\n    origin: o\n    cache: true\n" + rules +
		"  - {match: {path_prefix: /}, origin: o, cache: true}\n"
	n := startNode(t, cfg, Options{})
	tests := []struct {
		name, method, path string
		header             []string
		// wire, when set, is the request as a client sends it, parsed as the listener
		// parses it (the raw head readHTTP1Head walks), instead of built field by field.
		wire string
	}{
		{"1 KiB", "GET", "/1k.bin", nil, ""},
		{"16 KiB", "GET", "/16k.bin", nil, ""},
		{"5 response rules", "GET", "/rules/1k.bin", nil, ""},
		{"browser fields and a query", "GET", "/1k.bin?v=3&lang=en", []string{
			"Accept-Encoding", "gzip, deflate, br", "Accept-Language", "en", "If-None-Match", `"v0"`,
			"Cookie", "a=1"}, ""},
		{"HEAD", "HEAD", "/1k.bin", nil, ""},
		// make bench's shape: a Host with a port that is not the scheme's default, read
		// from the wire (it was 3 allocations: the lower-cased name, the port, the join).
		{"Host with a port, from the wire", "GET", "/1k.bin", nil,
			"GET /1k.bin HTTP/1.1\r\nHost: 127.0.0.1:18304\r\nUser-Agent: wrk\r\nAccept: */*\r\n\r\n"},
		{"a name and a port", "GET", "/1k.bin", []string{"Host", "bench.local:8080"}, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ctx := benchCtx(tt.path)
			if tt.wire != "" {
				ctx.Request.Reset()
				ctx.Request.Header.DisableNormalizing()
				if err := ctx.Request.Header.Read(bufio.NewReader(strings.NewReader(tt.wire))); err != nil {
					t.Fatal(err)
				}
			}
			ctx.Request.Header.SetMethod(tt.method)
			for i := 0; i+1 < len(tt.header); i += 2 {
				ctx.Request.Header.Set(tt.header[i], tt.header[i+1])
			}
			// Fill (the store applies its Set asynchronously), then hit once to render the
			// head's template.
			for i := 0; ; i++ {
				n.handleHTTP1(ctx)
				hit := bytes.Contains(ctx.Response.Header.Peek("Cache-Status"), []byte("; hit"))
				resetResponse(ctx)
				if hit {
					break
				}
				if i == 400 { // 2 s
					t.Fatal("never a hit")
				}
				n.bg.Wait()
				time.Sleep(5 * time.Millisecond) // a finished fill stays joinable for a while (fillLinger)
			}
			allocs := testing.AllocsPerRun(200, func() {
				n.handleHTTP1(ctx)
				if !bytes.Contains(ctx.Response.Header.Peek("Cache-Status"), []byte("; hit")) || ctx.Response.StatusCode() != fasthttp.StatusOK {
					t.Fatalf("not a hit: %d %s", ctx.Response.StatusCode(), ctx.Response.Header.Peek("Cache-Status"))
				}
				resetResponse(ctx)
			})
			if raceEnabled {
				// The race detector's instrumentation allocates (and sync.Pool drops some of
				// what is put back): the count is checked by a run without -race.
				t.Logf("%.0f allocations per hit under -race (not checked)", allocs)
				return
			}
			if allocs != 0 {
				t.Errorf("%.2f allocations per hit, want 0", allocs)
			}
		})
	}
}
