package edge

import (
	"strings"

	"github.com/shoal-cdn/shoal/httpcache"
)

// unshared says why a response the RFC 9111 rules let a shared cache store is still not
// shared with other clients, or "" when it is: a Set-Cookie the origin did not mark as
// private="Set-Cookie" or no-cache="Set-Cookie" (like Varnish's built-in rule: a response
// that sets a cookie is someone's session), and Vary: * (RFC 9111 section 4.1: it matches no
// later request). A fill asks it of the origin's response; a revalidation asks it of the
// stored response freshened with the 304's fields (RFC 9111 section 3.2), since those fields
// are then the stored response's own. req is the request's view with the fields vary names.
func unshared(header httpcache.Header, d httpcache.StoreDecision, vary []string, req httpcache.Header) string {
	switch {
	case header.Has("Set-Cookie") && !containsName(d.NoCacheFields, "Set-Cookie") && !containsName(d.PrivateFields, "Set-Cookie"):
		return "set-cookie"
	case containsStar(vary):
		return "vary *"
	case !codingFitsBucket(header, vary, req):
		return "content-encoding outside the accept-encoding variant"
	}
	return ""
}

// codingFitsBucket reports whether every request that shares req's variant accepts the
// response's Content-Encoding. The variant key buckets Accept-Encoding into the one coding
// the cache would serve (httpcache.NormalizeAcceptEncoding: zstd, br, gzip, or "" for
// identity), but the origin picked its coding from the client's own list: deflate for
// "deflate", br for "gzip, br;q=0.1" (ngx_brotli prefers br whenever offered), gzip for
// "*". Stored, that coding would reach clients of the bucket that cannot decode it (RFC 9110
// section 12.5.3), so a response that varies on Accept-Encoding is shared only in identity
// or in the bucket's own coding. A request without Accept-Encoding accepts any coding and
// has a variant of its own.
func codingFitsBucket(header httpcache.Header, vary []string, req httpcache.Header) bool {
	coding := strings.TrimSpace(strings.Join(header.Values("Content-Encoding"), ","))
	if coding == "" || strings.EqualFold(coding, "identity") || !containsName(vary, "Accept-Encoding") {
		return true
	}
	accept := req.Values("Accept-Encoding")
	if len(accept) == 0 {
		return true
	}
	bucket := httpcache.NormalizeAcceptEncoding(strings.Join(accept, ","))
	return bucket != "" && (strings.EqualFold(coding, bucket) || bucket == "gzip" && strings.EqualFold(coding, "x-gzip"))
}
