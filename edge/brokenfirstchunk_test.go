package edge

import (
	"fmt"
	"io"
	"net/http"
	"strings"
	"sync"
	"testing"

	"github.com/shoal-cdn/shoal/internal/testenv"
)

// TestNode_originChunkBrokenAtTheFirstChunkIs502: an origin's chunked body that breaks at its
// first chunk (a size "zz", a 20-digit size, a bare-LF chunk line; whitespace after the
// size or an invalid extension, RFC 9112 section 7.1.1, as nginx and HAProxy refuse) left the client with
// nothing: no status line and a closed connection, on a fill and on a pass. With no byte of
// the response sent yet, the node answers 502, as it does for a broken head (HAProxy does the
// same), to HTTP/1.1 and HTTP/2 clients, to every coalesced waiter of a fill, and stores
// nothing (the origin is asked again). Only what came with the head is checked, never waited
// for (TestPool_chunkedHeadIsNotHeldForItsFirstChunk): a connection whose close came with the
// head (closed-after-head) is 502 too (before: no response over HTTP/1.1, a reset stream over
// HTTP/2); a body cut after its head went out is a cut: the HTTP/1.1 body ends in an error,
// the HTTP/2 stream is reset, and nothing is stored. Failed before: the client saw no
// response at all.
func TestNode_originChunkBrokenAtTheFirstChunkIs502(t *testing.T) {
	o := testenv.StartBadOrigin(t)
	routes := strings.Replace(oneRoute(true, o.URL), "routes:\n",
		"routes:\n  - {match: {path_prefix: /pass/}, origin: o, cache: false}\n", 1)
	n, pool := h2Node(t, routes)
	h2 := h2Client(pool, n.HTTPSAddr())
	const head = "HTTP/1.1 200 OK\r\nCache-Control: max-age=60\r\nTransfer-Encoding: chunked\r\n\r\n"
	cases := []struct {
		name string
		raw  string
		cut  bool // the head goes out, then the body is cut
	}{
		{"not-hex", head + "zz\r\nhello\r\n0\r\n\r\n", false},
		{"20-digits", head + "99999999999999999999\r\nhello\r\n0\r\n\r\n", false},
		{"bare-lf", head + "5\nhello\r\n0\r\n\r\n", false},
		{"space-after-size", head + "5 \r\nhello\r\n0\r\n\r\n", false},
		{"extension-name-not-token", head + "5;a b\r\nhello\r\n0\r\n\r\n", false},
		{"extension-without-name", head + "5;=x\r\nhello\r\n0\r\n\r\n", false},
		{"extension-broken-later", head + "5\r\nhello\r\n5;x=\"a\r\nworld\r\n0\r\n\r\n", true},
		{"closed-after-head", head, false}, // no size line, but the close came with the head
		{"cut-after-a-chunk", head + "5\r\nhello\r\n5\r\nwo", true},
	}
	for _, tc := range cases {
		for _, route := range []string{"/", "/pass/"} {
			path := route + tc.name
			o.Script(path, testenv.Script{Raw: []byte(tc.raw), Close: true})
			t.Run(tc.name+" "+route, func(t *testing.T) {
				asked := 0
				for _, client := range []string{"HTTP/1.1", "HTTP/2", "HTTP/1.1 coalesced"} {
					clients := 1
					if client == "HTTP/1.1 coalesced" {
						clients = 4
					}
					var wg sync.WaitGroup
					got := make([]string, clients)
					for i := range clients {
						wg.Add(1)
						go func() {
							defer wg.Done()
							if client == "HTTP/2" {
								got[i] = outcome(h2, "https://www.example.test"+path, "")
							} else {
								got[i] = outcome(http.DefaultClient, "http://"+n.HTTPAddr()+path, "www.example.test")
							}
						}()
					}
					wg.Wait()
					n.settleFills()
					for _, g := range got {
						want := "502"
						if tc.cut {
							want = "200 cut"
						}
						if g != want {
							t.Errorf("%s: got %q, want %q", client, g, want)
						}
					}
					if o.Count(path) <= asked {
						t.Fatalf("%s: the origin was not asked again: the broken response was stored", client)
					}
					asked = o.Count(path)
				}
			})
		}
	}
}

// outcome is a GET's outcome as a string: the status, and " cut" when the body ended in an
// error, or "no response: ..." when no status arrived.
func outcome(c *http.Client, url, host string) string {
	req, err := http.NewRequest("GET", url, nil)
	if err != nil {
		return err.Error()
	}
	if host != "" {
		req.Host = host
	}
	req.Close = true // each answer on its own connection: a cut closes it
	resp, err := c.Do(req)
	if err != nil {
		return "no response: " + err.Error()
	}
	defer resp.Body.Close()
	if _, err := io.ReadAll(resp.Body); err != nil {
		return fmt.Sprintf("%d cut", resp.StatusCode)
	}
	return fmt.Sprint(resp.StatusCode)
}
