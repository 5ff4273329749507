package origin

import (
	"fmt"
	"io"
	"strings"
	"testing"

	"github.com/shoal-cdn/shoal/internal/testenv"
	"github.com/valyala/fasthttp"
)

// sendHead asks p for path with SendHead into h and reads the body whole.
func sendHead(t *testing.T, p *Pool, path string, h *fasthttp.ResponseHeader, onInterim InterimFunc) string {
	t.Helper()
	req := &Request{Head: &testHead{method: "GET", uri: path, host: "h"}}
	_, body, done, err := p.SendHead(req, h, Target{Idempotent: true, OnInterim: onInterim})
	if err != nil {
		t.Fatalf("%s: %v", path, err)
	}
	defer done()
	b, err := io.ReadAll(body)
	if err != nil {
		t.Fatalf("%s: body: %v", path, err)
	}
	return string(b)
}

// fieldLines lists h's fields as "Name: value", in order.
func fieldLines(h *fasthttp.ResponseHeader) []string {
	var out []string
	for k, v := range h.All() {
		out = append(out, string(k)+": "+string(v))
	}
	return out
}

// SendHead parses an HTTP/1.1 head into the caller's header without the hop-by-hop fields
// (RFC 9110 section 7.6.1) and the names Connection lists, spelled any way and with
// whitespace before the colon, every other line kept in order, the framing fields too; the
// connection is still kept alive or closed by what those fields said.
func TestPool_sendHeadLeavesOutHopByHopFields(t *testing.T) {
	for _, tc := range []struct {
		name, fields string
		want         []string
		conns        int // for two requests
	}{
		{"nginx", "Server: nginx\r\nContent-Length: 2\r\nConnection: keep-alive\r\nLink: <a>\r\nKeep-Alive: timeout=5\r\nLink: <b>\r\n",
			[]string{"Content-Length: 2", "Server: nginx", "Link: <a>", "Link: <b>"}, 1},
		{"listed names", "X-A: 1\r\nCONNECTION : X-Gone, x-other\r\nX-Gone: 1\r\nx-other: 2\r\n X-Fold\r\nX-B: 2\r\nContent-Length: 2\r\n",
			[]string{"Content-Length: 2", "X-A: 1", "X-B: 2"}, 1},
		{"every name", "Proxy-Connection: keep-alive\r\nProxy-Authenticate: Basic\r\nProxy-Authorization: x\r\nTE: trailers\r\nUpgrade: h2c\r\nContent-Length: 2\r\nConnection: Upgrade\r\n",
			[]string{"Content-Length: 2"}, 1},
		{"close", "Content-Length: 2\r\nConnection: X-Gone, close\r\nX-Gone: 1\r\n", []string{"Content-Length: 2"}, 2},
		{"keep-alive max=0", "Content-Length: 2\r\nConnection: Keep-Alive\r\nkeep-alive: timeout=5, max=0\r\n", []string{"Content-Length: 2"}, 2},
		{"framing listed", "Content-Length: 2\r\nConnection: Content-Length\r\n", []string{"Content-Length: 2"}, 1},
	} {
		t.Run(tc.name, func(t *testing.T) {
			o := testenv.StartBadOrigin(t)
			o.Script("/x", testenv.Script{Raw: []byte("HTTP/1.1 200 OK\r\n" + tc.fields + "\r\nok")})
			p, _ := newTestPool(t, poolConf("", o.URL), nil)
			for i := range 2 {
				var h fasthttp.ResponseHeader
				h.SetNoDefaultContentType(true)
				if body := sendHead(t, p, "/x", &h, nil); body != "ok" {
					t.Fatalf("request %d: body %q", i+1, body)
				}
				if got := fieldLines(&h); fmt.Sprint(got) != fmt.Sprint(tc.want) {
					t.Errorf("request %d: fields %q, want %q", i+1, got, tc.want)
				}
			}
			if o.Conns() != tc.conns {
				t.Errorf("%d connections for two requests, want %d", o.Conns(), tc.conns)
			}
		})
	}
}

// The caller's header gets the final head only: interim ones are parsed apart, so a caller
// that relays a 103 through the header it gave (the edge's HTTP/1.1 pass) finds none of the
// 103's fields there. Failed before: the 103 was parsed into that header, and its Link
// fields went to the client twice.
func TestPool_sendHeadParsesInterimHeadsApart(t *testing.T) {
	o := testenv.StartBadOrigin(t)
	hints := testenv.Interim{Status: 103, Header: testenv.Fields("Link", "</a.css>; rel=preload")}
	o.Script("/x", testenv.Script{Interim: []testenv.Interim{{Status: 100}, hints, hints}, Header: testenv.Fields("X-Final", "1"), Body: []byte("ok")})
	p, _ := newTestPool(t, poolConf("", o.URL), nil)
	var h fasthttp.ResponseHeader
	h.SetNoDefaultContentType(true)
	var seen []string
	body := sendHead(t, p, "/x", &h, func(status int, ih *fasthttp.ResponseHeader) {
		if ih == &h {
			t.Errorf("interim %d handed over in the caller's own header", status)
		}
		seen = append(seen, fmt.Sprintf("%d %s; caller's: %s", status, ih.Peek("Link"), strings.Join(fieldLines(&h), ",")))
	})
	want := []string{"100 ; caller's: ", "103 </a.css>; rel=preload; caller's: ", "103 </a.css>; rel=preload; caller's: "}
	if body != "ok" || fmt.Sprint(seen) != fmt.Sprint(want) {
		t.Fatalf("body %q, interim %q; want ok, %q", body, seen, want)
	}
	if h.StatusCode() != 200 || string(h.Peek("X-Final")) != "1" || h.Peek("Link") != nil {
		t.Fatalf("final head %d:\n%s", h.StatusCode(), h.String())
	}
}

// Reading Keep-Alive builds no list: it runs on every answer of a server that sends it
// (Apache's "timeout=5, max=100"). Failed before: one allocation per answer (bytes.Split).
func TestParseKeepAlive_allocatesNothing(t *testing.T) {
	v := []byte("timeout=5, max=100")
	allocs := testing.AllocsPerRun(100, func() {
		if timeout, _, maxLeft, _ := parseKeepAlive(v); timeout != 5 || maxLeft != 100 {
			t.Fatalf("timeout %d, max %d", timeout, maxLeft)
		}
	})
	if raceEnabled {
		t.Logf("%.0f allocations under -race (not checked)", allocs)
		return
	}
	if allocs > 0 {
		t.Errorf("%.1f allocations per Keep-Alive value, want 0", allocs)
	}
}
