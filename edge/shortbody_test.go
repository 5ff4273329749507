package edge

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/shoal-cdn/shoal/internal/testenv"
)

// shortRaw is a response whose Content-Length is ten more than the body sent before the
// origin closes.
func shortRaw(cacheControl string, body int) []byte {
	return []byte(fmt.Sprintf("HTTP/1.1 200 OK\r\nCache-Control: %s\r\nContent-Length: %d\r\n\r\n%s",
		cacheControl, body+10, strings.Repeat("x", body)))
}

// passAndTier is a config whose pool is the origin at url, cached but for paths under /pass/,
// with a disk tier (small objects in memory) when tier is "disk".
func passAndTier(t *testing.T, url, tier string) string {
	cfg := strings.Replace(oneRoute(true, url), "routes:\n",
		"routes:\n  - {match: {path_prefix: /pass/}, origin: o, cache: false}\n", 1)
	if tier == "disk" {
		cfg = strings.Replace(cfg, "fill_timeout: 5s}", fmt.Sprintf("fill_timeout: 5s, disk: {path: %q, size: 16MiB, ram_cache_cutoff: 1KiB}}", t.TempDir()), 1)
	}
	return cfg
}

// TestNode_shortOriginBodyBeforeTheHeadIs502: an origin that sends fewer bytes than its
// Content-Length and closes (RFC 9112 section 8: an incomplete message) left an HTTP/1.1
// client with no response at all when the body was small (the head waited in the write
// buffer with the body's first bytes when the read failed, and the connection closed), and
// an HTTP/2 client with a 200 whose stream was reset. With nothing sent yet, the answer is
// now 502, on a miss, a pass, a miss with a disk tier, over HTTP/1.1 and HTTP/2, and nothing
// is stored (the origin is asked again). Size 0 is an origin that closes right after its
// head (Content-Length 10, no body byte: startBody looked only when body bytes came with the
// head; failed before: "no response" and "200 cut" on every path). A body that breaks after
// the head went out (a large one) is still a cut: the HTTP/1.1 body ends short, the HTTP/2 stream is reset with
// INTERNAL_ERROR, and nothing is stored. Failed before: "no response" (HTTP/1.1) and "200
// cut" (HTTP/2) for the small bodies.
func TestNode_shortOriginBodyBeforeTheHeadIs502(t *testing.T) {
	o := testenv.StartBadOrigin(t)
	for _, tier := range []string{"memory", "disk"} {
		n, pool := h2Node(t, passAndTier(t, o.URL, tier))
		h2 := h2Client(pool, n.HTTPSAddr())
		for _, size := range []int{0, 5, 3000, 200 << 10} {
			want := "502"
			if size > 16<<10 {
				want = "200 cut" // past the first buffer: the head went out before the cut
			}
			for _, route := range []string{"/", "/pass/"} {
				path := fmt.Sprintf("%sshort-%s-%d", route, tier, size)
				o.Script(path, testenv.Script{Raw: shortRaw("max-age=60", size), Close: true})
				t.Run(path, func(t *testing.T) {
					asked := 0
					for _, client := range []string{"HTTP/1.1", "HTTP/2"} {
						var got string
						if client == "HTTP/2" {
							got = outcome(h2, "https://www.example.test"+path, "")
						} else {
							got = outcome(http.DefaultClient, "http://"+n.HTTPAddr()+path, "www.example.test")
						}
						n.settleFills()
						if got != want {
							t.Errorf("%s: got %q, want %q", client, got, want)
						}
						if o.Count(path) <= asked {
							t.Fatalf("%s: the origin was not asked again: the short response was stored", client)
						}
						asked = o.Count(path)
					}
				})
			}
		}
		if tier == "memory" {
			// The HTTP/2 cut is INTERNAL_ERROR (RFC 9113 section 8.1: the stream is
			// incomplete), never a clean END_STREAM.
			path := "/pass/short-reset"
			o.Script(path, testenv.Script{Raw: shortRaw("max-age=60", 200<<10), Close: true})
			resp, err := h2.Get("https://www.example.test" + path)
			if err != nil {
				t.Fatal(err)
			}
			_, err = io.ReadAll(resp.Body)
			resp.Body.Close()
			if err == nil || !strings.Contains(err.Error(), "INTERNAL_ERROR") {
				t.Errorf("HTTP/2 cut: %v, want a reset with INTERNAL_ERROR", err)
			}
		}
	}
}

// TestNode_shortOriginBodyOnRevalidationServesStale: RFC 5861 section 4. A revalidation whose
// answer is cut short of its Content-Length is the origin failing to respond: under
// stale-if-error the stored copy is served (and kept); under must-revalidate the client gets
// the node's error. Failed before: the client got no response at all (with size 0, an origin
// closing right after the head, until startBody looked at what arrived with no body byte).
func TestNode_shortOriginBodyOnRevalidationServesStale(t *testing.T) {
	o := testenv.StartBadOrigin(t)
	clock := newTestClock()
	n := startNode(t, oneRoute(true, o.URL), Options{Now: clock.Now})
	ask := func(path string) string {
		req, _ := http.NewRequest("GET", "http://"+n.HTTPAddr()+path, nil)
		req.Host, req.Close = "www.example.test", true
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			return "no response: " + err.Error()
		}
		defer resp.Body.Close()
		body, err := io.ReadAll(resp.Body)
		if err != nil {
			return fmt.Sprintf("%d cut", resp.StatusCode)
		}
		return fmt.Sprintf("%d %s", resp.StatusCode, body)
	}
	for _, tc := range []struct{ cc, want string }{
		{"max-age=10, stale-if-error=3600", "200 good"},
		{"max-age=10, must-revalidate", "5"},
	} {
		path := "/reval/" + strings.NewReplacer("=", "", ",", "", " ", "").Replace(tc.cc)
		o.Script(path, testenv.Script{Header: testenv.Fields("Cache-Control", tc.cc), Body: []byte("good")})
		if got := ask(path); got != "200 good" {
			t.Fatalf("%s: first fill %q", path, got)
		}
		n.settleFills()
		clock.Add(20 * time.Second)
		for _, size := range []int{0, 5} { // 0: closed right after the head
			o.Script(path, testenv.Script{Raw: shortRaw(tc.cc, size), Close: true})
			for i := range 2 {
				if got := ask(path); !strings.HasPrefix(got, tc.want) {
					t.Errorf("%s size %d request %d: %q, want %q...", path, size, i, got, tc.want)
				}
				n.settleFills()
			}
		}
	}
}

// TestNode_originClosingAfterTheHeadWentOutIsACut: an origin that sends its head, and closes
// only once the client has that head (testenv.Script.Gate), cuts a response already started:
// the HTTP/1.1 client gets the head and a body that ends short, the HTTP/2 stream is reset,
// on a miss and a pass, and nothing is stored. Failed before: the HTTP/1.1 client got no
// response at all (the head waited in the write buffer for body bytes, and the connection
// closed with it) and the gate was never opened (the head came only with the close).
func TestNode_originClosingAfterTheHeadWentOutIsACut(t *testing.T) {
	o := testenv.StartBadOrigin(t)
	n, pool := h2Node(t, passAndTier(t, o.URL, "memory"))
	h2 := h2Client(pool, n.HTTPSAddr())
	for _, route := range []string{"/", "/pass/"} {
		for _, client := range []string{"HTTP/1.1", "HTTP/2"} {
			path := route + "late-close-" + client[5:]
			gate := make(chan struct{})
			o.Script(path, testenv.Script{Header: testenv.Fields("Cache-Control", "max-age=60"),
				Body: []byte("0123456789"), Cut: testenv.ShortLength, Gate: gate})
			c, url := http.Client{Timeout: 5 * time.Second}, "http://"+n.HTTPAddr()+path
			if client == "HTTP/2" {
				c, url = *h2, "https://www.example.test"+path
			}
			req, _ := http.NewRequest("GET", url, nil)
			req.Host = "www.example.test"
			resp, err := c.Do(req)
			close(gate)
			if err != nil {
				t.Errorf("%s %s: no response: %v", path, client, err)
				continue
			}
			_, err = io.ReadAll(resp.Body)
			resp.Body.Close()
			if resp.StatusCode != 200 || err == nil {
				t.Errorf("%s %s: %d, body error %v; want 200 cut", path, client, resp.StatusCode, err)
			}
			n.settleFills()
			before := o.Count(path)
			outcome(http.DefaultClient, "http://"+n.HTTPAddr()+path, "www.example.test")
			if o.Count(path) == before {
				t.Errorf("%s %s: the cut response was stored", path, client)
			}
		}
	}
}

// TestNode_slowStreamHeadGoesOutAtOnce: an origin that sends a Content-Length head and then
// trickles its body (nothing, or a few bytes, with the head) has its head relayed at once,
// before the rest of the body, on a miss and a pass, memory and disk tier, to HTTP/1.1 and
// HTTP/2 clients: nginx passes a head on as it comes. The origin holds the body until the
// client saw the head (testenv.Script.Gate), 5 s at most. Failed before: the head waited for
// 16 KiB of body (origin.startBody's peek) or the client's write buffer.
func TestNode_slowStreamHeadGoesOutAtOnce(t *testing.T) {
	o := testenv.StartBadOrigin(t)
	body := []byte(strings.Repeat("s", 64<<10))
	for _, tier := range []string{"memory", "disk"} {
		n, pool := h2Node(t, passAndTier(t, o.URL, tier))
		h2 := h2Client(pool, n.HTTPSAddr())
		for _, lead := range []int{0, 100} {
			for _, route := range []string{"/", "/pass/"} {
				for _, client := range []string{"HTTP/1.1", "HTTP/2"} {
					path := fmt.Sprintf("%sslow-%s-%d-%s", route, tier, lead, client[5:])
					gate := make(chan struct{})
					o.Script(path, testenv.Script{Header: testenv.Fields("Cache-Control", "max-age=60"), Body: body, Gate: gate, Lead: lead})
					c, url := http.DefaultClient, "http://"+n.HTTPAddr()+path
					if client == "HTTP/2" {
						c, url = h2, "https://www.example.test"+path
					}
					getWhileHeld(t, c, url, "www.example.test", gate, len(body), path+" "+client)
					n.settleFills()
				}
			}
		}
	}
}

// getWhileHeld GETs url with c (Host host) while the origin holds its body behind gate: the
// head must come within 5 s, before gate is closed, and then the body, want bytes.
func getWhileHeld(t *testing.T, c *http.Client, url, host string, gate chan struct{}, want int, what string) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	req, _ := http.NewRequestWithContext(ctx, "GET", url, nil)
	req.Host = host
	resp, err := c.Do(req)
	close(gate)
	if err != nil {
		t.Errorf("%s: no head while the origin held its body: %v", what, err)
		return
	}
	got, err := io.ReadAll(resp.Body)
	resp.Body.Close()
	if err != nil || len(got) != want {
		t.Errorf("%s: body %d bytes, %v", what, len(got), err)
	}
}
