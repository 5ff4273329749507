package edge

import (
	"fmt"
	"strings"
	"testing"

	"github.com/shoal-cdn/shoal/internal/testenv"
)

// Responses the node does not store are compressed as they stream, like nginx "gzip on" for
// dynamic pages (issue 17): passes and uncacheable misses. Failed before: they went out
// identity whatever the client accepted.
func TestNode_compressesPassAndUncacheableMissesWhileStreaming(t *testing.T) {
	page := strings.Repeat("<p>dynamic page, not stored</p>\n", 200)
	ngx := testenv.StartNginx(t, testenv.NginxOptions{Extra: `
default_type text/html;
location /nostore/ { add_header Cache-Control "no-store"; }
location /coded/ { add_header Content-Encoding br; }
location /nt/ { add_header Cache-Control "no-transform"; }`})
	for _, f := range []string{"dyn", "nostore/a", "coded/a", "nt/a"} {
		ngx.WriteFile(f, page)
	}
	n := startNode(t, fmt.Sprintf(`node: {name: zip}
compression: {encodings: [gzip, zstd]}
origins:
  o: {servers: [{url: %q}]}
routes:
  - {match: {path_prefix: /nostore/}, origin: o, cache: true}
  - {match: {path_prefix: /}, origin: o, cache: false}
`, ngx.URL), Options{})
	base := "http://" + n.HTTPAddr()
	cases := []struct {
		path, accept, want string
	}{
		{"/dyn", "gzip", "gzip"},
		{"/dyn", "zstd, gzip;q=0.5", "zstd"},
		{"/dyn", "", ""},
		{"/nostore/a", "gzip", "gzip"},
		{"/nt/a", "gzip", ""},
	}
	for _, c := range cases {
		status, h, body := rawGet(t, base+c.path, "Accept-Encoding", c.accept)
		if status != 200 || h.Get("Content-Encoding") != c.want {
			t.Errorf("%s with %q: %d Content-Encoding %q, want %q", c.path, c.accept, status, h.Get("Content-Encoding"), c.want)
			continue
		}
		if got := decode(t, c.want, body); got != page {
			t.Errorf("%s with %q: %d bytes do not decode to the page", c.path, c.accept, len(body))
		}
		if c.path != "/nt/a" && !strings.Contains(h.Get("Vary"), "Accept-Encoding") {
			t.Errorf("%s: no Vary: Accept-Encoding", c.path)
		}
	}
	// Coded by the origin already: relayed as it is.
	_, h, body := rawGet(t, base+"/coded/a", "Accept-Encoding", "gzip")
	if h.Get("Content-Encoding") != "br" || string(body) != page {
		t.Errorf("an origin-coded body was coded again: %q, %d bytes", h.Get("Content-Encoding"), len(body))
	}
}

// A pass body the origin cuts short is cut short for the client too, compressed or not: the
// coded stream must not end as if complete (RFC 9112 section 6.3).
func TestNode_compressedPassCutByTheOriginIsCut(t *testing.T) {
	o := testenv.StartBadOrigin(t)
	o.Script("/cut", testenv.Script{Header: testenv.Fields("Content-Type", "text/plain"),
		Body: []byte(strings.Repeat("abcdefgh", 4096)), Cut: testenv.ShortLength, CutAt: 20000}) // past the first buffer: the head goes out
	n := startNode(t, "compression: {encodings: [gzip]}\n"+oneRoute(false, o.URL), Options{})
	raw := rawResponse(t, n.HTTPAddr(), "GET /cut HTTP/1.1\r\nHost: x\r\nAccept-Encoding: gzip\r\nConnection: close\r\n\r\n")
	if !strings.Contains(raw, "Content-Encoding: gzip") {
		t.Fatalf("not compressed:\n%.300s", raw)
	}
	if strings.HasSuffix(raw, "\r\n0\r\n\r\n") {
		t.Errorf("a cut body was sent as a complete chunked response")
	}
}
