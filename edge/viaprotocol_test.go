package edge

import (
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/shoal-cdn/shoal/internal/testenv"
)

// TestNode_requestViaNamesTheProtocolItCameOn: RFC 9110 section 7.6.3, a proxy's Via member
// on a forwarded request names the protocol it received the request with: "2" for HTTP/2,
// "1.0" for HTTP/1.0, "1.1" for HTTP/1.1. Every request reached the origin as "1.1 <name>"
// before, HTTP/2 ones included (found by the parity review). Pass and miss; the response's
// member stays "1.1" (the node got the response over HTTP/1.1).
func TestNode_requestViaNamesTheProtocolItCameOn(t *testing.T) {
	o := testenv.StartBadOrigin(t)
	n := startNode(t, `listen: {http: "127.0.0.1:0", h2c: "127.0.0.1:0", admin: "127.0.0.1:0"}
`+hostileConfig(o.URL, ""), Options{})
	for _, prefix := range []string{"/dyn/", "/c/"} {
		o.Script(prefix+"h2", testenv.Script{Header: testenv.Fields("Cache-Control", "max-age=60"), Body: []byte("x")})
		o.Script(prefix+"h10", testenv.Script{Header: testenv.Fields("Cache-Control", "max-age=60"), Body: []byte("x")})
		o.Script(prefix+"h11", testenv.Script{Header: testenv.Fields("Cache-Control", "max-age=60"), Body: []byte("x")})
		req, _ := http.NewRequest("GET", "http://"+n.H2CAddr()+prefix+"h2", nil)
		req.Host = "www.test"
		c := h2cClient()
		resp, err := c.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if got := resp.Header.Get("Via"); got != "1.1 hostile-edge" {
			t.Errorf("h2c %s: response Via %q, want %q", prefix, got, "1.1 hostile-edge")
		}
		converse(t, n.HTTPAddr(), "GET "+prefix+"h10 HTTP/1.0\r\nHost: www.test\r\n\r\n", 2*time.Second)
		converse(t, n.HTTPAddr(), "GET "+prefix+"h11 HTTP/1.1\r\nHost: www.test\r\nConnection: close\r\n\r\n", 2*time.Second)
	}
	want := map[string]string{"h2": "2 hostile-edge", "h10": "1.0 hostile-edge", "h11": "1.1 hostile-edge"}
	seen := 0
	for _, r := range o.Requests() {
		name := r.Path[strings.LastIndexByte(r.Path, '/')+1:]
		var via []string
		for _, f := range r.Header {
			if strings.EqualFold(f.Name, "Via") {
				via = append(via, f.Value)
			}
		}
		if len(via) != 1 || via[0] != want[name] {
			t.Errorf("%s reached the origin with Via %q, want [%q]", r.Path, via, want[name])
		}
		seen++
	}
	if seen != 6 {
		t.Errorf("origin saw %d requests, want 6", seen)
	}
}
