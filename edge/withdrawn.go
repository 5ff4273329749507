package edge

import (
	"github.com/shoal-cdn/shoal/cachestore/disk"
	"github.com/shoal-cdn/shoal/httpcache"
)

// withdrawn reports whether the origin's answer to a conditional fill takes back the stored
// response the fill nominated: a full answer about the resource itself (RFC 9111 section
// 4.3.3: none of the nominated responses is suitable any more), or a 304 (resp is then the
// stored response freshened with its fields, section 4.3.4), that the response alone
// forbids a shared cache to store: private, no-store, a status no longer cacheable without
// freshness, Vary: *. Only a 2xx or 3xx answer, or 404 or 410, speaks for the resource: an
// error (RFC 5861 section 4), a 429 or a 403 from a firewall in front of the origin,
// however uncacheable, leaves the stale copy to stale-if-error. The request's own reasons
// (Authorization, a request no-store) do not count: they say nothing of the stored response.
func withdrawn(policy httpcache.Policy, resp httpcache.Response) bool {
	switch s := resp.Status; {
	case s >= 200 && s < 400, s == 404, s == 410:
	default:
		return false
	}
	return !policy.Storable(httpcache.Request{Method: "GET"}, resp).Store
}

// replaced reports whether a full answer (not a 304) to a conditional fill takes back the
// stale response the fill nominated: withdrawn, or an answer about the resource the storage
// rules let a shared cache store (d, after the route's policy) that the node still keeps from
// other clients for its Set-Cookie (unshared). RFC 9111 section 4.3.3 lets a cache replace
// the nominated response with the full one; not storing the new one must not leave the old
// one standing, to be served by stale-if-error as if the origin had never replaced it. Varnish
// does the same (its built-in rule passes a Set-Cookie response, and the object the fetch
// replaced is killed); nginx keeps its old file and serves it on proxy_cache_use_stale, which
// hands out content the origin has replaced. A 304 with a Set-Cookie updates the stored
// response into one the node does not share, and drops it too (finishRevalidation).
func replaced(policy httpcache.Policy, resp httpcache.Response, d httpcache.StoreDecision) bool {
	if !d.Store {
		return withdrawn(policy, resp)
	}
	switch s := resp.Status; {
	case s >= 200 && s < 400, s == 404, s == 410:
		return unshared(resp.Header, d, nil, nil, nil) == "set-cookie"
	}
	return false
}

// dropWithdrawn removes the stored response under key from memory and from the disk tier.
// Kept, it went on answering under stale-if-error, or as a stale hit, what the origin had
// since marked private or no-store: Varnish kills the stale object once a fetch replaces it,
// whatever the new object's cacheability.
func (p *pipeline) dropWithdrawn(key string) {
	p.diskBan(disk.BanKey, key, false)
	p.store.Del(key)
}
