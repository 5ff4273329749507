package edge

import (
	"time"

	"bytes"

	"github.com/shoal-cdn/shoal/cachestore"
	"github.com/shoal-cdn/shoal/edge/httpcache"
	"github.com/valyala/fasthttp"
)

// freshHit reports whether the pipeline (Node.handle) will answer ctx from memory without
// blocking: a GET or HEAD without content on a cache route whose key this node owns (or holds
// a fresh hot copy of), stored in memory and fresh or servable stale-while-revalidate. It
// walks the same steps as handle up to the lookup and changes nothing: no metric, rate limit,
// log line or store counter (cachestore.Memory.Peek), so handle then runs once either way.
//
// It errs on the side of false, which costs a goroutine, never correctness. A true can turn
// false before handle looks again (the object is evicted, purged or expires in between, or
// bounded load moves the key): handle then fills or forwards on the connection's goroutine,
// which delays that connection's other streams by the fill's head, never deadlocks it (the
// fill does not wait for this connection), and is bounded by cache.fill_timeout.
func (n *Node) freshHit(ctx *fasthttp.RequestCtx) bool {
	method := ctx.Method()
	head := bytes.Equal(method, []byte("HEAD"))
	if !head && !bytes.Equal(method, []byte("GET")) {
		return false
	}
	rt := n.rt.Load()
	if rt.pages.Maintenance {
		return false
	}
	hdr := &ctx.Request.Header
	sch := scheme(ctx)
	host, hosts := hostFields(hdr.RawHeaders(), hdr.Host())
	t, bad := parseTarget(sch, hdr.RequestURI(), host, hosts, true)
	if bad != nil || (rt.cfg.TLS.RedirectHTTP && sch == "http") {
		return false
	}
	r := rt.match(method, t.name, t.path)
	if r == nil || !r.cache || r.pool == nil {
		return false
	}
	rules := rt.rulesFor(r)
	if rules != nil {
		if rules.Redirect != nil {
			return false
		}
		if rules.Key != nil {
			t.setQuery(rules.Key.Query(t.query))
		}
	}
	if r.sortParams {
		t.setQuery(cachestore.SortQuery(t.query))
	}
	if bypassCache(rules, hdr) {
		return false
	}
	key := policyKey(rules, &t, sch, hdr)
	now := n.now()
	if _, self := n.ownerOf(rt, key); self {
		if n.adopting(now) {
			if owners := n.ring.Owners(key, 2); len(owners) > 1 && owners[0].Name == n.name {
				return false // forwardToOwner may adopt the runner-up's copy
			}
		}
	} else if !n.freshHotCopy(rt, key, ctx, now) {
		return false // forwardToOwner would forward it
	}
	vary, varies := n.store.Vary(key)
	m := "GET"
	if head {
		m = "HEAD"
	}
	req := httpcache.Request{Method: m, Header: requestView(hdr, vary)}
	if varies {
		secondary, ok := httpcache.SecondaryKey(vary, req.Header)
		if !ok {
			return false
		}
		key += "\x00" + secondary
	}
	obj, found := n.store.Peek(key)
	if !found || obj.Key != key {
		return false
	}
	meta, ok := obj.Meta.(*objectMeta)
	if !ok {
		return false
	}
	switch rt.policy.Evaluate(req, meta.response(obj), meta.decision, now).State {
	case httpcache.Fresh, httpcache.StaleWhileRevalidate:
		return true
	}
	return false
}

// freshHotCopy is freshLocalCopy (forward.go) through Peek: a non-owner answers from a fresh
// copy of its own instead of forwarding.
func (n *Node) freshHotCopy(rt *settings, key string, ctx *fasthttp.RequestCtx, now time.Time) bool {
	if _, varies := n.store.Vary(key); varies {
		return false
	}
	obj, ok := n.store.Peek(key)
	if !ok || obj.SoftPurged() {
		return false
	}
	meta, ok := obj.Meta.(*objectMeta)
	if !ok {
		return false
	}
	req := httpcache.Request{Method: string(ctx.Method()), Header: requestView(&ctx.Request.Header, nil)}
	resp := httpcache.Response{Status: obj.Status, Header: obj.Header, RequestTime: obj.RequestTime, ResponseTime: obj.ResponseTime}
	return rt.policy.Evaluate(req, resp, meta.decision, now).State == httpcache.Fresh
}
