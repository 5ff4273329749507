package edge

import "github.com/shoal-cdn/shoal/httpcache"

// unshared says why a response the RFC 9111 rules let a shared cache store is still not
// shared with other clients, or "" when it is: a Set-Cookie the origin did not mark as
// private="Set-Cookie" or no-cache="Set-Cookie" (like Varnish's built-in rule: a response
// that sets a cookie is someone's session), and Vary: * (RFC 9111 section 4.1: it matches no
// later request). A fill asks it of the origin's response; a revalidation asks it of the
// stored response freshened with the 304's fields (RFC 9111 section 3.2), since those fields
// are then the stored response's own.
func unshared(header httpcache.Header, d httpcache.StoreDecision, vary []string) string {
	switch {
	case header.Has("Set-Cookie") && !containsName(d.NoCacheFields, "Set-Cookie") && !containsName(d.PrivateFields, "Set-Cookie"):
		return "set-cookie"
	case containsStar(vary):
		return "vary *"
	}
	return ""
}
