package edge

import (
	"fmt"
	"strings"
	"testing"

	"github.com/shoal-cdn/shoal/internal/testenv"
)

// RFC 9112 section 6.3: an origin response whose framing cannot be trusted (two different
// Content-Lengths, an invalid one, Transfer-Encoding other than chunked last) is an
// unrecoverable error: the client gets 502, never a body at either length, and nothing is
// stored. Duplicated list fields combine (RFC 9110 section 5.3): a no-store on any line
// wins. A head too large to read is a 502 as well.
func TestNode_untrustworthyOriginFraming(t *testing.T) {
	o := testenv.StartBadOrigin(t)
	body := "0123456789"
	raw := func(fields string) testenv.Script {
		return testenv.Script{Raw: []byte("HTTP/1.1 200 OK\r\nCache-Control: max-age=60\r\n" + fields + "\r\n" + body), Close: true}
	}
	for _, cache := range []bool{true, false} {
		n := startNode(t, oneRoute(cache, o.URL), Options{})
		for _, tc := range []struct {
			name   string
			script testenv.Script
			want   int // status; 200 also needs the whole body
		}{
			{"two different Content-Lengths", raw("Content-Length: 10\r\nContent-Length: 4\r\n"), 502},
			{"a Content-Length list that disagrees", raw("Content-Length: 10, 4\r\n"), 502},
			{"a negative Content-Length", raw("Content-Length: -4\r\n"), 502},
			{"gzip last in Transfer-Encoding", raw("Transfer-Encoding: chunked, gzip\r\n"), 502},
			{"a huge field", testenv.Script{Header: []testenv.Field{testenv.HugeField("X-Huge", 256<<10)}, Body: []byte(body)}, 502},
			{"no-store on a second Cache-Control line", testenv.Script{Header: testenv.Fields("Cache-Control", "max-age=60", "Cache-Control", "no-store"), Body: []byte(body)}, 200},
		} {
			t.Run(fmt.Sprintf("cache=%v/%s", cache, tc.name), func(t *testing.T) {
				path := fmt.Sprintf("/%v-%s", cache, strings.ReplaceAll(tc.name, " ", "-"))
				o.Script(path, tc.script)
				for i := range 2 {
					r := strictGet(t, n.HTTPAddr(), path)
					if r.status != tc.want || tc.want == 200 && (r.err != nil || r.body != body) || tc.want != 200 && strings.Contains(r.body, "0123") {
						t.Errorf("request %d: %d %q err %v, want %d", i, r.status, r.body, r.err, tc.want)
					}
					if r.hit() {
						t.Errorf("request %d was a hit: %q", i, r.header.Get("Cache-Status"))
					}
					n.bg.Wait()
					n.Store().Wait()
				}
			})
		}
	}
}
