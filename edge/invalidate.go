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
// It runs for pass routes too, and there invalidates only URIs a cache route covers
// (purgeTargets): nothing else can be stored, and a form post on a pass route costs no
// cluster round trip for a Location that names another pass page.
//
// It also labels the answer: on a cache route (cacheRoute) an unsafe method went forward
// because of its method, which RFC 9211 section 2.2 spells fwd=method (a pass route keeps
// the fwd=bypass the pass path wrote).
func (p *pipeline) invalidateAfterUnsafe(x *exchange, cacheRoute bool) {
	status := x.resp.Head().StatusCode()
	if cacheRoute && len(x.resp.Head().Peek("Cache-Status")) > 0 {
		// The pass path wrote the origin's members, then its fwd=bypass member: only that
		// last one is relabelled (RFC 9211 section 2 keeps the upstream ones).
		prior, ok := strings.CutSuffix(string(x.resp.Head().Peek("Cache-Status")), forwarded(p.name, fwdBypass, status).String())
		if !ok {
			prior = ""
		}
		setCacheStatus(x.resp.Head(), strings.TrimSuffix(prior, ", "), forwarded(p.name, fwdMethod, status))
	}
	if status < 200 || status > 399 {
		return // section 4.4: only a non-error response invalidates (InvalidationTargets)
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
		if err != nil || !cacheRoute && len(p.purgeTargets(key)) == 0 {
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
