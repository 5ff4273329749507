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
				}
			})
		}
	}
}

// An origin answer with both Content-Length and Transfer-Encoding (RFC 9112 section 6.3) is
// framed by Transfer-Encoding, so the client gets the whole chunked body and not the first
// Content-Length bytes; and since such a message is a sign of response smuggling, the origin
// connection it came on is closed, never reused for the next request, whichever field came
// first. A clean chunked answer keeps its connection.
func TestNode_originAnswerFramedTwiceClosesItsConnection(t *testing.T) {
	body := "0123456789abcdef"
	chunked := "10\r\n" + body + "\r\n0\r\n\r\n"
	for _, tc := range []struct {
		name, fields string
		wantConns    int
	}{
		{"Content-Length first", "Content-Length: 4\r\nTransfer-Encoding: chunked\r\n", 3},
		{"Transfer-Encoding first", "transfer-encoding: chunked\r\ncontent-length: 4\r\n", 3},
		{"bare LF line ends", "Content-Length: 4\nTransfer-Encoding: chunked\n", 3},
		{"chunked alone", "Transfer-Encoding: chunked\r\n", 1},
	} {
		t.Run(tc.name, func(t *testing.T) {
			o := testenv.StartBadOrigin(t)
			o.Script("/twice", testenv.Script{Raw: []byte("HTTP/1.1 200 OK\r\n" + tc.fields + "\r\n" + chunked)})
			n := startNode(t, oneRoute(false, o.URL), Options{})
			for i := range 3 {
				r := strictGet(t, n.HTTPAddr(), "/twice")
				if r.status != 200 || r.err != nil || r.body != body {
					t.Errorf("request %d: %d %q err %v, want 200 with the chunked body", i, r.status, r.body, r.err)
				}
			}
			if got := o.Conns(); got != tc.wantConns {
				t.Errorf("the origin saw %d connections for 3 requests, want %d", got, tc.wantConns)
			}
		})
	}
}
