package edge

import (
	"bytes"
	"net"
	"strconv"
	"strings"
	"testing"

	"github.com/valyala/fasthttp"
)

// TestNode_storedMissDoesNotAllocatePastItsParts: a 1 KiB miss through Node.handle, stored,
// allocates the parts of the stored object (the Object, its Meta, its packed header and the
// one allocation Compact makes of key and header, the body, the URL's own copy), what the
// fill shares with whoever joins it (the Call, the fill's head, the origin's fields as one
// text and a slice) and httpcache's list of Cache-Control lines: 11, plus the table's and
// the index's amortised growth. It was 14: the Call's head channel (made now only for a
// waiter that selects on it), and the leader's body stream and its record closure (a
// leader whose fill ended whole answers with the bytes, as a hit does).
func TestNode_storedMissDoesNotAllocatePastItsParts(t *testing.T) {
	body := []byte(strings.Repeat("x", 1024))
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	srv := &fasthttp.Server{Handler: func(ctx *fasthttp.RequestCtx) {
		ctx.Response.Header.Set("Cache-Control", "max-age=3600")
		ctx.SetContentType("application/octet-stream")
		ctx.SetBody(body)
	}}
	go srv.Serve(ln)
	t.Cleanup(func() { srv.Shutdown() })
	// The daemon's default fill_timeout (30s): the leader fills on its own goroutine.
	n := startNode(t, strings.Replace(oneRoute(true, "http://"+ln.Addr().String()), "fill_timeout: 5s", "fill_timeout: 30s", 1), Options{})
	ctx := benchCtx("/miss/0")
	uri := make([]byte, 0, 64)
	i := 0
	miss := func() {
		i++
		uri = strconv.AppendInt(append(uri[:0], "/miss/"...), int64(i), 10)
		ctx.Request.SetRequestURIBytes(uri)
		n.handleHTTP1(ctx)
		if ctx.Response.StatusCode() != fasthttp.StatusOK || len(ctx.Response.Body()) != len(body) {
			t.Fatalf("status %d, %d bytes", ctx.Response.StatusCode(), len(ctx.Response.Body()))
		}
		if got := ctx.Response.Header.Peek("Cache-Status"); !bytes.Contains(got, []byte("stored")) {
			t.Fatalf("Cache-Status %q, want a stored miss", got)
		}
		drainBody(ctx)
		resetResponse(ctx)
	}
	for range 100 { // the pools, the table's shards and the index get their room
		miss()
	}
	allocs := testing.AllocsPerRun(500, miss)
	if raceEnabled {
		t.Logf("%.1f allocations per stored miss under -race (not checked)", allocs)
		return
	}
	if allocs > 11.5 {
		t.Errorf("%.2f allocations per stored miss, want at most 11 (and the store's amortised growth)", allocs)
	}
}
