package compress

import (
	"strings"
	"testing"

	"github.com/shoal-cdn/shoal/httpcache"
)

// The cache keys a variant by httpcache.NormalizeAcceptEncoding and Negotiate picks the
// coding the body is then sent in: they must read every element alike, or the identity
// variant's key could hold a compressed body. Only SP and HTAB are whitespace (RFC 9110
// 5.6.3), and an element whose coding is not a token is ignored by both.
func TestNegotiate_agreesWithTheCachesVariantKey(t *testing.T) {
	all := []Encoding{Zstd, Brotli, Gzip}
	for _, v := range []string{
		"gzip", "gzip\u00a0", "\u00a0gzip", "gzip\u2003;q=1", "gz ip", `"gzip"`, "gzip\t", " gzip ;q=0.5, br;q=0.4",
		"gzip;q=1.5", "gzip;q=0.x", "x-gzip", "br;q=0, *;q=0.3", "identity;q=1, gzip;q=0.9", "zstd\u00a0, br",
		"gzip\x01", "*", "gzip;Q=0.2, br;q=0.1",
	} {
		got := Negotiate(v, all)
		// The bucket's own coding: what follows a "-" names later codings it refuses.
		own, _, _ := strings.Cut(httpcache.NormalizeAcceptEncoding(v), "-")
		want := Encoding(own)
		if got != want {
			t.Errorf("Accept-Encoding %q: Negotiate = %q, the cache's variant key = %q", v, got, want)
		}
	}
}

// Content-Encoding is trimmed of SP and HTAB only: a coding wrapped in other spaces is
// not "identity" but a coding Shoal does not know, so the body is never compressed again.
func TestCompressible_contentEncodingTrimsOnlyOWS(t *testing.T) {
	types := []string{"text/*"}
	for ce, want := range map[string]bool{
		"": true, " identity\t": true, "IDENTITY": true,
		"\u00a0identity": false, "identity\u2003": false, "gzip": false, " gzip ": false,
	} {
		if got := Compressible("text/html", types, ce, 4096, 1024, false); got != want {
			t.Errorf("Content-Encoding %q: Compressible = %v, want %v", ce, got, want)
		}
	}
}
