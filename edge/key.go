package edge

import (
	"github.com/shoal-cdn/shoal/cachestore"
)

// cacheKey is the store's primary key (cachestore.Key): the one definition edge and purge share.
func cacheKey(scheme, host, path, query string) string {
	return cachestore.Key(scheme, host, path, query)
}

// key is the primary key of a request with this canonical target. The target is already
// folded, so cachestore.Key changes nothing but joins the parts: the key is the URL the
// origin is sent.
func (t *requestTarget) key(scheme string) string {
	return cacheKey(scheme, t.host, t.path, t.query)
}

// plainHost reports whether cachestore.NormalHost would return host unchanged: no upper case, no port.
func plainHost(host []byte) bool {
	for _, c := range host {
		if 'A' <= c && c <= 'Z' || c == ':' {
			return false
		}
	}
	return true
}
