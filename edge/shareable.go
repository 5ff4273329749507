package edge

import (
	"slices"
	"strings"

	"github.com/shoal-cdn/shoal/edge/policy"
	"github.com/shoal-cdn/shoal/httpcache"
)

// unshared says why a response the RFC 9111 rules let a shared cache store is still not
// shared with other clients, or "" when it is: a Set-Cookie the origin did not mark as
// private="Set-Cookie" or no-cache="Set-Cookie" (like Varnish's built-in rule: a response
// that sets a cookie is someone's session), Vary: * (RFC 9111 section 4.1: it matches no
// later request), and a Vary naming a field the node writes per request for the origin
// (written: X-Forwarded-For, Forwarded, Via and the route's per-request fields, see writtenFields). A fill asks it of the origin's response; a revalidation asks it of the
// stored response freshened with the 304's fields (RFC 9111 section 3.2), since those fields
// are then the stored response's own. req is the request's view with the fields vary names.
func unshared(header httpcache.Header, d httpcache.StoreDecision, vary []string, req httpcache.Header, written []string) string {
	switch {
	case header.Has("Set-Cookie") && !containsName(d.NoCacheFields, "Set-Cookie") && !containsName(d.PrivateFields, "Set-Cookie"):
		return "set-cookie"
	case containsStar(vary):
		return "vary *"
	case anyName(vary, written):
		// The node writes these per request (setForwardingFields, the route's request
		// fields) after the key is made from the client's own fields: the variant the
		// origin chose for one client would be every client's (RFC 9111 section 4.1
		// compares the request the response was selected for).
		return "vary on a field the node writes per request"
	case !codingFitsBucket(header, vary, req):
		return "content-encoding outside the accept-encoding variant"
	}
	return ""
}

// codingFitsBucket reports whether the requests that share req's variant accept the
// response's Content-Encoding. The variant key buckets Accept-Encoding by the coding the
// client prefers and the later ones it refuses (httpcache.NormalizeAcceptEncoding), but the
// origin picks its coding from the client's own list: deflate for "deflate" (bucket
// identity), br for "gzip, br;q=0.1" (bucket gzip: ngx_brotli prefers br whenever it is
// offered). Stored, that coding reached clients of the bucket that cannot decode it (RFC
// 9110 section 12.5.3). A bucket's clients accept its own coding and the later ones it does
// not name as refused (httpcache.BucketAccepts), so the gzip an origin without zstd answers
// Chrome's "gzip, deflate, br, zstd" is shared, but not with "zstd, gzip;q=0". Any other
// coding is not, nor any coding in the identity bucket. A request without Accept-Encoding
// accepts any coding and has a variant of its own.
func codingFitsBucket(header httpcache.Header, vary []string, req httpcache.Header) bool {
	coding := strings.TrimSpace(strings.Join(header.Values("Content-Encoding"), ","))
	if coding == "" || strings.EqualFold(coding, "identity") || !containsName(vary, "Accept-Encoding") {
		return true
	}
	accept := req.Values("Accept-Encoding")
	if len(accept) == 0 {
		return true
	}
	return httpcache.BucketAccepts(httpcache.NormalizeAcceptEncoding(strings.Join(accept, ",")), coding)
}

// forwardingFields are the request fields the node writes per request or per hop
// (setForwardingFields): from the client's address, and Via, whose member the node adds
// differs by the client's protocol ("1.0", "1.1", "2") and by the node that fills (a hot
// copy, an object adopted on a ring change). X-Forwarded-Proto is not one: the scheme it
// carries is part of the primary key.
var forwardingFields = []string{"X-Forwarded-For", "Forwarded", "Via"}

// writtenFields lists the request fields the node writes per request for the origin: the
// forwarding fields and the route's fields set or added with ${client_ip} or ${request_id}.
// It allocates only for a route that has the latter.
func writtenFields(rules *policy.Rules) []string {
	if rules == nil || len(rules.Request.PerRequest()) == 0 {
		return forwardingFields
	}
	return append(slices.Clip(forwardingFields), rules.Request.PerRequest()...)
}

// anyName reports whether names holds one of list (names compared without case).
func anyName(names, list []string) bool {
	for _, n := range list {
		if containsName(names, n) {
			return true
		}
	}
	return false
}
