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
	return cacheKey(scheme, t.host, t.keyPath(), t.query)
}

// key is cacheKey built in the request's scratch (see requestScratch) for a host already in
// cachestore.NormalHost's form (a canonical target's host, or ignoredHost), on which
// NormalHost changes nothing; path and query are folded as cachestore.Key folds them. A nil
// scratch returns cacheKey itself.
func (s *requestScratch) key(scheme, host, path, query string) string {
	if s == nil {
		return cacheKey(scheme, host, path, query)
	}
	path, query = cachestore.FoldPercent(path), cachestore.FoldPercent(query)
	if path == "" {
		path = "/"
	}
	if query == "" {
		return s.join(scheme, "://", host, path)
	}
	return s.join(scheme, "://", host, path, "?", query)
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
