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

// dropWithdrawn removes the stored response under key from memory and from the disk tier.
// Kept, it went on answering under stale-if-error, or as a stale hit, what the origin had
// since marked private or no-store: Varnish kills the stale object once a fetch replaces it,
// whatever the new object's cacheability.
func (p *pipeline) dropWithdrawn(key string) {
	p.diskBan(disk.BanKey, key, false)
	p.store.Del(key)
}
