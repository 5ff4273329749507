package edge

import (
	"net"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/shoal-cdn/shoal/edge/h2"
)

// respondRecorder is an h2.ResponseWriter that keeps what Respond was given; the other
// calls only count, enough for the inline hit path.
type respondRecorder struct {
	status   int
	fields   int
	body     int
	detached bool
}

func (w *respondRecorder) Respond(status int, fields []h2.Field, body []byte) error {
	w.status, w.fields, w.body = status, len(fields), len(body)
	return nil
}
func (w *respondRecorder) WriteInterim(int, []h2.Field) error { return nil }
func (w *respondRecorder) WriteHeader(status int, fields []h2.Field) error {
	w.status = status
	return nil
}
func (w *respondRecorder) Write(p []byte) (int, error) { w.body += len(p); return len(p), nil }
func (w *respondRecorder) Close([]h2.Field) error      { return nil }
func (w *respondRecorder) Abort()                      {}
func (w *respondRecorder) Detach()                     { w.detached = true }
func (w *respondRecorder) Done() <-chan struct{}       { return nil }

// h2HitHandler returns the node's HTTP/2 handler and a GET for /1k.bin whose object (1 KiB,
// max-age=3600) is stored: each ServeH2 with it is a fresh hit answered inline.
func h2HitHandler(tb testing.TB) (h2handler, *h2.Request) {
	body := strings.Repeat("x", 1024)
	o := startOrigin(tb, func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Cache-Control", "max-age=3600")
		w.Header().Set("Content-Type", "text/plain")
		w.Header().Set("ETag", `"v1"`)
		w.Header().Set("Last-Modified", "Sat, 21 Nov 2026 10:00:00 GMT")
		w.Write([]byte(body))
	})
	n := startNode(tb, oneRoute(true, o.URL), Options{})
	// Past the adoption window that follows a start (forward.go), as a node in service is.
	long := time.Now().Add(-time.Hour)
	n.started.Store(&long)
	req := &h2.Request{Method: "GET", Scheme: "https", Authority: "bench.local", Path: "/1k.bin",
		Fields:        []h2.Field{{Name: "user-agent", Value: "h2load"}, {Name: "accept", Value: "*/*"}},
		ContentLength: -1, Body: new(h2.Body), RemoteAddr: &net.TCPAddr{IP: net.IPv4(127, 0, 0, 1), Port: 40000}, TLS: true}
	h := h2handler{n: n, strs: newFieldStrings()}
	warm := &respondRecorder{}
	h.ServeH2(warm, req) // a miss: detached, answered on a goroutine
	for deadline := time.Now().Add(5 * time.Second); n.Store().Stats().Objects == 0 && time.Now().Before(deadline); {
		time.Sleep(time.Millisecond) // the fill stores when its detached goroutine has read the body
	}
	n.settleFills()
	w := &respondRecorder{}
	h.ServeH2(w, req)
	if w.detached || w.status != 200 || w.body != 1024 {
		tb.Fatalf("not an inline hit: detached %v, status %d, %d bytes", w.detached, w.status, w.body)
	}
	return h, req
}

// BenchmarkH2Serve_hit1KiB drives the HTTP/2 listener's handler on a 1 KiB cache hit, as
// edge/h2 calls it on the connection's goroutine, without sockets or frames: the fresh-hit
// probe, the request copy, the pipeline and the response fields.
// Run: go test -run '^$' -bench H2Serve_ -benchmem ./edge/
func BenchmarkH2Serve_hit1KiB(b *testing.B) {
	h, req := h2HitHandler(b)
	w := &respondRecorder{}
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		*w = respondRecorder{}
		h.ServeH2(w, req)
		if w.status != 200 || w.detached {
			b.Fatalf("status %d, detached %v", w.status, w.detached)
		}
	}
}
