package edge

import (
	"bytes"
	"io"
	"strings"
	"testing"

	brrr "github.com/molecule-man/go-brrr"
	"github.com/shoal-cdn/shoal/internal/testenv"
)

// unbrotli decodes a br body with the brotli reader, as a browser would; a truncated or
// corrupt stream fails the test.
func unbrotli(t *testing.T, coded []byte) []byte {
	t.Helper()
	out, err := io.ReadAll(brrr.NewReader(bytes.NewReader(coded)))
	if err != nil {
		t.Fatalf("br body (%d bytes) does not decode: %v", len(coded), err)
	}
	return out
}

// compression.encodings: [br, zstd, gzip] through a node in front of nginx: a cacheable
// object's miss (coded as it streams), its hit (the br variant made once from the stored
// identity object) and the variant's hit, and a pass; every br body decodes byte-exact to
// what nginx serves. Failed before brotli: conf refused "br".
func TestNode_brotliRoundTrip(t *testing.T) {
	css := strings.Repeat("body { color: #123456; margin: 0 auto; } /* brotli */\n", 300)
	page := strings.Repeat("<li>dynamic row, never stored</li>\n", 300)
	ngx := testenv.StartNginx(t, testenv.NginxOptions{Extra: `types { text/css css; text/html html; }
location /static/ { expires 10m; etag on; }
location /dyn/ { add_header Cache-Control "no-store"; }`})
	ngx.WriteFile("static/site.css", css)
	ngx.WriteFile("dyn/page.html", page)
	n := policyNode(t, ngx.URL, `  - {match: {path_prefix: /static/}, origin: o, cache: true}
  - {match: {path_prefix: /}, origin: o}
`, "compression: {encodings: [br, zstd, gzip], level: 5}\n")
	base := "http://" + n.HTTPAddr()

	for i, want := range []string{"miss", "hit", "hit"} {
		status, h, body := rawGet(t, base+"/static/site.css", "Accept-Encoding", "gzip, deflate, br, zstd")
		if status != 200 || h.Get("Content-Encoding") != "br" || !strings.Contains(h.Get("Cache-Status"), want) {
			t.Fatalf("request %d: %d Content-Encoding %q Cache-Status %q, want br and %s", i, status, h.Get("Content-Encoding"), h.Get("Cache-Status"), want)
		}
		if got := unbrotli(t, body); !bytes.Equal(got, []byte(css)) {
			t.Fatalf("request %d: br body decodes to %d bytes, not the %d nginx served", i, len(got), len(css))
		}
		if !strings.Contains(h.Get("Vary"), "Accept-Encoding") || !strings.HasSuffix(h.Get("ETag"), `-br"`) {
			t.Errorf("request %d: Vary %q ETag %q, want Accept-Encoding and a br ETag", i, h.Get("Vary"), h.Get("ETag"))
		}
		n.settleFills()
	}
	// Clients that do not take br still get their own coding, and identity stays identity.
	for accept, enc := range map[string]string{"gzip": "gzip", "zstd, gzip": "zstd", "": "", "br;q=0, gzip": "gzip"} {
		_, h, body := rawGet(t, base+"/static/site.css", "Accept-Encoding", accept)
		if h.Get("Content-Encoding") != enc || decode(t, enc, body) != css {
			t.Errorf("Accept-Encoding %q: Content-Encoding %q, want %q", accept, h.Get("Content-Encoding"), enc)
		}
		n.settleFills()
	}
	_, _, metrics := get(t, "http://"+n.AdminAddr()+"/metrics")
	for _, line := range []string{`shoal_edge_compressed_variants_total{encoding="br"} 1`, `shoal_edge_compressed_hits_total{encoding="br"} 1`} {
		if !strings.Contains(metrics, line) {
			t.Errorf("metrics lack %s", line)
		}
	}

	// A pass is coded as it streams, also for a client that spells the field in lower case.
	status, h, body := rawGet(t, base+"/dyn/page.html", "Accept-Encoding", "br")
	if status != 200 || h.Get("Content-Encoding") != "br" || !bytes.Equal(unbrotli(t, body), []byte(page)) {
		t.Errorf("pass: %d Content-Encoding %q, %d bytes", status, h.Get("Content-Encoding"), len(body))
	}
	resp, lbody := lowerGet(t, n.HTTPAddr(), "/dyn/page.html", "accept-encoding: br")
	if resp.Header.Get("Content-Encoding") != "br" || !bytes.Equal(unbrotli(t, []byte(lbody)), []byte(page)) {
		t.Errorf("pass with accept-encoding: Content-Encoding %q, %d bytes", resp.Header.Get("Content-Encoding"), len(lbody))
	}
}
