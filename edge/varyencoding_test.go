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
// picks from it. A response in a coding that the requests of its bucket do not accept (RFC
// 9110 section 12.5.3) must not be stored for the bucket: a deflate answer to "deflate" went
// to every identity client, a br answer to "gzip, br;q=0.1" (ngx_brotli prefers br whenever
// it is offered) to every gzip-only client, and neither can decode it. The gzip an origin
// without zstd answers a browser's "gzip, deflate, br, zstd" (bucket zstd) is still shared,
// and so is an identity answer, but not with a client of the bucket that refuses gzip ("zstd,
// gzip;q=0": the /refused rows failed before, a hit in gzip).
func TestNode_varyEncodingStoresOnlyWhatTheBucketAccepts(t *testing.T) {
	clock := newTestClock()
	origin := startRFCOrigin(t, clock, func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Cache-Control", "max-age=60")
		w.Header().Set("Vary", "Accept-Encoding")
		ae := r.Header.Get("Accept-Encoding")
		coding := ""
		switch {
		case ae == "deflate":
			coding = "deflate"
		case r.URL.Path == "/br" && strings.Contains(ae, "br"):
			coding = "br"
		case strings.Contains(ae, "gzip") && !strings.Contains(ae, "gzip;q=0"):
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
		// The browser's gzip, in the zstd bucket, is not for a zstd client that refuses gzip.
		{"/refused", "gzip, deflate, br, zstd", "zstd, gzip;q=0", func(c string) bool { return c != "gzip" }},
		{"/refused-x-gzip", "gzip, deflate, br, zstd", "zstd, x-gzip;q=0", func(c string) bool { return c != "gzip" }},
	}
	for _, c := range cases {
		fillOnce(t, n, c.path, "Accept-Encoding", c.first)
		r := fillOnce(t, n, c.path, "Accept-Encoding", c.second)
		if coding := r.header.Get("Content-Encoding"); !c.accepts(coding) {
			t.Errorf("%s: Accept-Encoding %q after %q: Content-Encoding %q (%s), a coding it does not accept",
				c.path, c.second, c.first, coding, r.cacheStatus())
		}
	}
	shared := []struct{ path, first, second, coding string }{
		{"/browser", "gzip, deflate, br, zstd", "gzip, deflate, br, zstd", "gzip"},
		{"/identity", "compress", "identity", ""},
	}
	for _, c := range shared {
		fillOnce(t, n, c.path, "Accept-Encoding", c.first)
		if r := send(t, n, "GET", c.path, "Accept-Encoding", c.second); !r.hit() || r.header.Get("Content-Encoding") != c.coding {
			t.Errorf("%s: %q after %q: %q, Content-Encoding %q; want a hit in %q", c.path, c.second, c.first, r.cacheStatus(), r.header.Get("Content-Encoding"), c.coding)
		}
	}
}
