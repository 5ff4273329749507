package edge

import "strings"

// lowerNames maps the response field names the pipeline commonly writes, as spelled by
// origins or by the node (canonical case) and in lowercase, to their HTTP/2 spelling
// (RFC 9113 section 8.2.1): a hit's fields then need no lowercasing and no allocation.
var lowerNames = func() map[string]string {
	names := []string{"Accept-Ranges", "Access-Control-Allow-Origin", "Age", "Cache-Control",
		"Cache-Status", "Content-Disposition", "Content-Encoding", "Content-Language",
		"Content-Location", "Content-Range", "Content-Security-Policy", "Content-Type", "Date",
		"ETag", "Etag", "Expires", "Last-Modified", "Link", "Location", "Retry-After", "Server",
		"Set-Cookie", "Strict-Transport-Security", "Surrogate-Key", "Cache-Tag", "Vary", "Via",
		"WWW-Authenticate", "X-Content-Type-Options", "X-Frame-Options", "Allow",
		"Alt-Svc", "Timing-Allow-Origin", "Cross-Origin-Resource-Policy", "Referrer-Policy",
		"Permissions-Policy", "X-Request-Id", "X-Cache"}
	m := make(map[string]string, 2*len(names))
	for _, n := range names {
		lower := strings.ToLower(n)
		m[n], m[lower] = lower, lower
	}
	return m
}()

// fieldName is a response field name in lowercase.
func fieldName(k []byte) string {
	if s, ok := lowerNames[string(k)]; ok {
		return s
	}
	return strings.ToLower(string(k))
}
