package edge

import (
	"bufio"
	"fmt"
	"io"
	"net/http"
	"strings"
	"testing"

	"github.com/valyala/fasthttp"
)

// TestNode_expectContinueRouteLimit: a route's own max_body_bytes (1 KiB, under the global
// limits.max_body_bytes of 4 KiB) counts before the 100 (Continue) as the global limit does:
// an announced length over either is answered 413 with no 100, the connection closed, and no
// origin asked. Under both, the 100 comes and the upload is answered 200; a chunked body
// (no length to judge) gets its 100; an HTTP/1.0 client's Expect is ignored (RFC 9110
// section 10.1.1): no 100, and the limit applies once the body is read. On a pass route and
// a cache route alike. Failed before: over the route's limit alone, "100 Continue" came
// first and the 413 after the body.
func TestNode_expectContinueRouteLimit(t *testing.T) {
	origin := startOrigin(t, func(w http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(r.Body)
		w.Header().Set("Cache-Control", "no-store")
		fmt.Fprintf(w, "%s %d", r.Method, len(b))
	})
	n := policyNode(t, origin.URL, `  - {match: {path_prefix: /pass/}, origin: o, cache: false, max_body_bytes: 1KiB}
  - {match: {path_prefix: /cache/}, origin: o, cache: true, max_body_bytes: 1KiB}
  - {match: {path_prefix: /}, origin: o}
`, "limits: {max_body_bytes: 4KiB}\n")
	head := func(proto, path string, framing string) string {
		return fmt.Sprintf("POST %s %s\r\nHost: www.example.com\r\n%s\r\nExpect: 100-continue\r\n\r\n", path, proto, framing)
	}
	length := func(k int) string { return fmt.Sprintf("Content-Length: %d", k) }
	want := 0 // uploads the origin should see
	for _, path := range []string{"/pass/up", "/cache/up"} {
		// Over the route's limit, and over the global one: 413 alone, closing.
		for _, k := range []int{1025, 2048, 4097} {
			out := rawResponse(t, n.HTTPAddr(), head("HTTP/1.1", path, length(k)))
			if !strings.HasPrefix(out, "HTTP/1.1 413 ") || strings.Contains(out, "100 Continue") || !strings.Contains(out, "Connection: close") {
				t.Errorf("%s, %d bytes announced with Expect: %q, want 413 without 100, closing", path, k, out)
			}
		}
		// At the route's limit: 100, then the upload's answer.
		c, _ := sendRaw(t, n.HTTPAddr(), head("HTTP/1.1", path, length(1024)))
		br := bufio.NewReader(c)
		if interim, err := http.ReadResponse(br, nil); err != nil || interim.StatusCode != 100 {
			t.Fatalf("%s at the limit: %v %v before the body, want 100", path, interim, err)
		}
		io.WriteString(c, strings.Repeat("b", 1024))
		if resp, err := http.ReadResponse(br, nil); err != nil || resp.StatusCode != 200 {
			t.Fatalf("%s at the limit: %v %v after the body, want 200", path, resp, err)
		} else {
			io.ReadAll(resp.Body)
		}
		want++
		// Chunked: no length to judge before the body, so the 100 comes.
		io.WriteString(c, head("HTTP/1.1", path, "Transfer-Encoding: chunked"))
		if interim, err := http.ReadResponse(br, nil); err != nil || interim.StatusCode != 100 {
			t.Fatalf("%s chunked: %v %v before the body, want 100", path, interim, err)
		}
		io.WriteString(c, "10\r\n"+strings.Repeat("c", 16)+"\r\n0\r\n\r\n")
		if resp, err := http.ReadResponse(br, nil); err != nil || resp.StatusCode != 200 {
			t.Fatalf("%s chunked: %v %v after the body, want 200", path, resp, err)
		}
		want++
		c.Close()
		// HTTP/1.0: the expectation is ignored; the body comes with the head.
		for k, status := range map[int]string{512: "200", 2048: "413"} {
			out := rawResponse(t, n.HTTPAddr(), head("HTTP/1.0", path, length(k))+strings.Repeat("z", k))
			if strings.Contains(out, "100 Continue") || !strings.HasPrefix(out, "HTTP/1.1 "+status+" ") {
				t.Errorf("%s, HTTP/1.0 with Expect and %d bytes: %q, want %s without 100", path, k, out, status)
			}
		}
		want++
	}
	// A route without its own limit still answers 100 up to the global one.
	c, _ := sendRaw(t, n.HTTPAddr(), head("HTTP/1.1", "/other", length(4096)))
	buf := make([]byte, 64)
	k, _ := c.Read(buf)
	c.Close()
	if got := string(buf[:k]); got != "HTTP/1.1 100 Continue\r\n\r\n" {
		t.Fatalf("4 KiB on a route without a limit: %q, want 100 Continue", got)
	}
	if got := origin.requests.Load(); got != int64(want) {
		t.Fatalf("the origin was asked %d times, want %d (the accepted uploads only)", got, want)
	}
}

// TestNode_expectContinueRouteLimitAllocatesNothing: judging an announced length against the route's
// limit (a canonical target parsed, the route matched) allocates nothing, whether it refuses
// or not, as handle allocates nothing for it; a length under every route's limit routes not at all.
func TestNode_expectContinueRouteLimitAllocatesNothing(t *testing.T) {
	if raceEnabled {
		t.Skip("sync.Pool drops what is put back under the race detector")
	}
	n := policyNode(t, "http://127.0.0.1:1", `  - {match: {path_prefix: /pass/}, origin: o, cache: false, max_body_bytes: 1KiB}
  - {match: {path_prefix: /}, origin: o}
`, "")
	var ctx fasthttp.RequestCtx
	raw := "POST /pass/up?a=1 HTTP/1.1\r\nHost: www.example.com\r\nContent-Length: 2048\r\nExpect: 100-continue\r\n\r\n"
	if err := ctx.Request.Header.Read(bufio.NewReader(strings.NewReader(raw))); err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct {
		cl     int64
		refuse bool
	}{{2048, true}, {1024, false}, {512, false}} {
		if got := n.routeRefusesLength(&ctx, c.cl); got != c.refuse {
			t.Errorf("%d bytes: refused %v, want %v", c.cl, got, c.refuse)
		}
		if a := testing.AllocsPerRun(100, func() { n.routeRefusesLength(&ctx, c.cl) }); a != 0 {
			t.Errorf("%d bytes: %v allocations, want 0", c.cl, a)
		}
	}
}
