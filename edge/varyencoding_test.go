package edge

import (
	"fmt"
	"net/http"
	"strings"
	"testing"
)

// TestNode_varyEncodingStoresOnlyWhatTheBucketAccepts: the variant key buckets Accept-Encoding
// (zstd, br, gzip or identity: httpcache.NormalizeAcceptEncoding, RFC 9111 section 4.1), but
// the origin is asked with the client's own Accept-Encoding and answers in the coding it
// picks from it. A response in a coding that some requests of its bucket do not accept (RFC
// 9110 section 12.5.3) must not be stored for the bucket: a deflate answer to "deflate" went
// to every identity client, a br answer to "gzip, br;q=0.1" (ngx_brotli prefers br whenever
// it is offered) to every "gzip" client, a gzip answer to "*" to every "zstd" client, and
// none of them can decode it. The second client gets a coding it accepts; an identity answer
// is still shared by its bucket.
func TestNode_varyEncodingStoresOnlyWhatTheBucketAccepts(t *testing.T) {
	clock := newTestClock()
	origin := startRFCOrigin(t, clock, func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Cache-Control", "max-age=60")
		w.Header().Set("Vary", "Accept-Encoding")
		ae := r.Header.Get("Accept-Encoding")
		coding := ""
		switch {
		case strings.Contains(ae, "deflate"):
			coding = "deflate"
		case strings.Contains(ae, "br"):
			coding = "br"
		case strings.Contains(ae, "gzip"), ae == "*":
			coding = "gzip"
		}
		if coding != "" {
			w.Header().Set("Content-Encoding", coding)
		}
		fmt.Fprintf(w, "coded %q", coding)
	})
	n := rfcNode(t, clock, origin.URL, "")
	cases := []struct {
		path, first, second string
		accepts             func(coding string) bool
	}{
		{"/deflate", "deflate", "identity", func(c string) bool { return c == "" }},
		{"/br", "gzip, br;q=0.1", "gzip", func(c string) bool { return c == "" || c == "gzip" }},
		{"/star", "*", "zstd", func(c string) bool { return c == "" || c == "zstd" }},
	}
	for _, c := range cases {
		fillOnce(t, n, c.path, "Accept-Encoding", c.first)
		r := fillOnce(t, n, c.path, "Accept-Encoding", c.second)
		if coding := r.header.Get("Content-Encoding"); !c.accepts(coding) {
			t.Errorf("%s: Accept-Encoding %q after %q: Content-Encoding %q (%s), a coding it does not accept",
				c.path, c.second, c.first, coding, r.cacheStatus())
		}
	}
	fillOnce(t, n, "/identity", "Accept-Encoding", "compress")
	if r := send(t, n, "GET", "/identity", "Accept-Encoding", "identity"); !r.hit() || r.header.Get("Content-Encoding") != "" {
		t.Errorf("/identity: an identity answer not shared by its bucket: %q, Content-Encoding %q", r.cacheStatus(), r.header.Get("Content-Encoding"))
	}
}
