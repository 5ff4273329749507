package edge

import (
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

// TestNode_shortOriginBodyBeforeTheHeadIs502: an origin that sends fewer bytes than its
// Content-Length and closes (RFC 9112 section 8: an incomplete message) left an HTTP/1.1
// client with no response at all when the body was small (the head waited in the write
// buffer with the body's first bytes when the read failed, and the connection closed), and
// an HTTP/2 client with a 200 whose stream was reset. With nothing sent yet, the answer is
// now 502, on a miss, a pass, a miss with a disk tier, over HTTP/1.1 and HTTP/2, and nothing
// is stored (the origin is asked again). A body that breaks after the head went out (a
// large one) is still a cut: the HTTP/1.1 body ends short, the HTTP/2 stream is reset with
// INTERNAL_ERROR, and nothing is stored. Failed before: "no response" (HTTP/1.1) and "200
// cut" (HTTP/2) for the small bodies.
func TestNode_shortOriginBodyBeforeTheHeadIs502(t *testing.T) {
	o := testenv.StartBadOrigin(t)
	routes := strings.Replace(oneRoute(true, o.URL), "routes:\n",
		"routes:\n  - {match: {path_prefix: /pass/}, origin: o, cache: false}\n", 1)
	for _, tier := range []string{"memory", "disk"} {
		cfg := routes
		if tier == "disk" {
			cfg = strings.Replace(cfg, "fill_timeout: 5s}", fmt.Sprintf("fill_timeout: 5s, disk: {path: %q, size: 16MiB, ram_cache_cutoff: 1KiB}}", t.TempDir()), 1)
		}
		n, pool := h2Node(t, cfg)
		h2 := h2Client(pool, n.HTTPSAddr())
		for _, size := range []int{5, 3000, 200 << 10} {
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
// the node's error. Failed before: the client got no response at all.
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
		o.Script(path, testenv.Script{Raw: shortRaw(tc.cc, 5), Close: true})
		for i := range 2 {
			if got := ask(path); !strings.HasPrefix(got, tc.want) {
				t.Errorf("%s request %d: %q, want %q...", path, i, got, tc.want)
			}
			n.settleFills()
		}
	}
}
