package edge

import (
	"context"
	"strings"
	"time"

	"github.com/shoal-cdn/shoal/httpcache"
	"github.com/shoal-cdn/shoal/purge"
)

// invalidateAfterUnsafe applies RFC 9111 section 4.4: a non-error response to an unsafe
// method invalidates the target URI and the same-origin Location and Content-Location.
// It runs after the response head is known, before the body streams.
//
// In a cluster the invalidation goes to every live member (purge.Service.Invalidate) and
// is acknowledged before the answer is sent.
//
// It also labels the answer: on a cache route an unsafe method went forward because of its
// method, which RFC 9211 section 2.2 spells fwd=method (the pass path wrote fwd=bypass).
func (p *pipeline) invalidateAfterUnsafe(x *exchange) {
	status := x.resp.Head().StatusCode()
	if len(x.resp.Head().Peek("Cache-Status")) > 0 {
		x.resp.Head().Set("Cache-Status", forwarded(p.name, fwdMethod, status).String())
	}
	target := x.scheme() + "://" + string(x.req.Host()) + string(x.req.RequestURI())
	var resp httpcache.Header
	for k, v := range x.resp.Head().All() {
		// Names as the origin sent them: compare without case.
		for _, name := range []string{"Location", "Content-Location"} {
			if strings.EqualFold(name, string(k)) && len(v) > 0 && !resp.Has(name) {
				resp.Add(name, string(v))
			}
		}
	}
	for _, u := range httpcache.InvalidationTargets(string(x.req.Method()), status, target, resp) {
		key, err := purge.KeyForURL(u)
		if err != nil {
			continue
		}
		// The URL goes through its route (purgeTargets): a POST to /assets/a.css on a route
		// that strips /assets invalidates the object keyed /a.css, as a purge of it does.
		if p.purge == nil {
			p.applyPurgeLocally(key, false)
			continue
		}
		p.clearMarks(key)
		for _, t := range p.purgeTargets(key) {
			p.clearMarks(t.Value)
		}
		// Cluster-wide, and before the answer leaves: the URL's stored response lives on its
		// owner and hot copies on any member, and the client's next request may reach any of
		// them. Not x: fasthttp recycles it.
		pctx, cancel := context.WithTimeout(context.Background(), p.rt.Load().cfg.Purge.Timeout.D()+time.Second)
		if _, err := p.purge.Invalidate(pctx, key); err != nil {
			p.log.Warn("invalidation after an unsafe request failed", "url", key, "err", err)
		}
		cancel()
	}
}
