package edge

import (
	"bytes"
	"strings"
	"sync/atomic"
	"time"
	"unsafe"

	"github.com/shoal-cdn/shoal/cachestore"
	"github.com/shoal-cdn/shoal/edge/httpcache"
	"github.com/valyala/fasthttp"
)

// lookup is one cache-route request on its way through the pipeline.
type lookup struct {
	// varyEncoding: the response depends on Accept-Encoding (the node compresses it).
	varyEncoding bool
	rt           *settings
	r            *route
	url          string // primary key
	key          string // primary plus secondary key
	vary         []string
	req          httpcache.Request
	stale        *cachestore.Object // a stored object that needs validation, or nil
	use          httpcache.Use      // the stale object's evaluation
	status       httpcache.CacheStatus
	head         bool // HEAD request
	start        time.Time
	// revalidating is set on a background revalidation: the stale object's mark.
	revalidating *atomic.Bool
	// sc is the request's scratch: url, key and req.Header are borrowed from it until own.
	// A background revalidation's copy of the lookup has none.
	sc    *requestScratch
	owned bool
	// memoryHit: the object served was found in memory (not read from disk), so its
	// head may come from a template (hithead.go).
	memoryHit bool
}

// own gives l copies of url and key that outlive the request: a fill, a coalesced call, a
// revalidation, the disk tier and the pass marks keep them, and the request's scratch is
// reused by the next request once handle returns (requestScratch).
func (l *lookup) own() {
	if l.owned {
		return
	}
	l.owned = true
	// key is url itself, or url joined with a secondary key in a string of its own.
	same := unsafe.StringData(l.key) == unsafe.StringData(l.url)
	l.url = strings.Clone(l.url)
	if same {
		l.key = l.url
	}
	if len(l.req.Header) == 0 {
		l.req.Header = nil
		return
	}
	h := make(httpcache.Header, len(l.req.Header))
	for i, f := range l.req.Header {
		h[i] = httpcache.Field{Name: f.Name, Value: strings.Clone(f.Value)}
	}
	l.req.Header = h
}

// serveCache answers a GET or HEAD on a cache route: from the store when it can, otherwise
// through one coalesced fill per key.
//
// key is the request's primary key (policyKeyIn), borrowed from sc: a fresh hit uses it
// only to look up, and every other outcome takes its own copy first (lookup.own). now is
// the request's start: one clock read serves the whole lookup.
func (n *Node) serveCache(ctx *fasthttp.RequestCtx, rt *settings, r *route, key string, now time.Time, sc *requestScratch) string {
	l := &lookup{rt: rt, r: r, head: bytes.Equal(ctx.Method(), []byte("HEAD")), start: now, sc: sc}
	l.url = key
	l.status = httpcache.CacheStatus{Cache: "shoal", Detail: n.name}
	l.key = l.url
	vary, varies := n.store.Vary(l.url)
	l.vary = vary
	method := "GET" // the only methods a cache route looks up
	if l.head {
		method = "HEAD"
	}
	l.req = httpcache.Request{Method: method, Header: requestViewIn(sc, &ctx.Request.Header, vary)}
	if varies {
		secondary, ok := httpcache.SecondaryKey(vary, l.req.Header)
		if !ok {
			l.own()
			l.status.Fwd = "vary-miss"
			return n.fill(ctx, l, true)
		}
		l.key = l.url + "\x00" + secondary
	}
	obj, found := n.store.Get(l.key)
	// The store finds objects by a hash of the key; the stored key itself is the proof that
	// this is the variant the request selects (RFC 9111 section 4.1), whatever the hash did.
	found = found && obj.Key == l.key
	if !found {
		// An HTTP/2 hit probed on its connection's goroutine must not fill there.
		obj, found = probedObject(ctx, l.key)
	}
	if !found {
		l.own()
		if res, ok := n.diskLookup(ctx, l); ok {
			return res
		}
		l.status.Fwd = "uri-miss"
		if varies {
			l.status.Fwd = "vary-miss"
		}
		if onlyIfCached(l.req) {
			return n.gatewayTimeoutOnlyIfCached(ctx, l)
		}
		return n.fill(ctx, l, n.passMark.active(l.url, now))
	}
	n.touchDisk(l.key)
	meta := obj.Meta.(*objectMeta)
	if meta.hot && isForwarded(ctx) && onlyIfCached(l.req) {
		// An owner adopting its keys back asks only-if-cached and keeps what it gets for its
		// whole freshness: a hot copy, bounded by hot_ttl here, is not ours to give.
		l.own()
		l.status.Fwd = "uri-miss"
		return n.gatewayTimeoutOnlyIfCached(ctx, l)
	}
	use := rt.policy.Evaluate(l.req, meta.response(obj), meta.decision, now)
	if obj.SoftPurged() && use.State == httpcache.Fresh {
		use.State = httpcache.StaleWhileRevalidate
		// Cache-Status says stale (RFC 9211 ttl below zero): a peer that forwarded this
		// request must not keep it as a fresh hot copy (keepCopy).
		use.TTL = min(use.TTL, -time.Second)
	}
	switch use.State {
	case httpcache.Fresh:
		n.metrics.hits.Inc()
		l.status.Hit, l.memoryHit = true, true
		n.serveObject(ctx, l, obj, use)
		return "hit"
	case httpcache.StaleWhileRevalidate:
		l.own()
		n.metrics.hits.Inc()
		l.status.Hit, l.memoryHit = true, true
		n.serveObject(ctx, l, obj, use)
		n.revalidateInBackground(ctx, l, obj)
		return "stale"
	}
	l.own()
	if use.OnlyIfCached {
		return n.gatewayTimeoutOnlyIfCached(ctx, l)
	}
	l.stale, l.use = obj, use
	l.status.Fwd = "stale"
	if use.TTL > 0 && !meta.decision.NoCache && !obj.SoftPurged() {
		// RFC 9211 section 2.2: a fresh response the request's own directives (no-cache,
		// max-age, min-fresh) did not let us use.
		l.status.Fwd = "request"
	}
	return n.fill(ctx, l, false)
}

func onlyIfCached(req httpcache.Request) bool {
	return httpcache.ParseCacheControl(req.Header.Values("Cache-Control")).OnlyIfCached
}

// gatewayTimeoutOnlyIfCached is RFC 9111 section 5.2.1.7: nothing usable is stored and the
// client forbade contacting the origin.
func (n *Node) gatewayTimeoutOnlyIfCached(ctx *fasthttp.RequestCtx, l *lookup) string {
	plainError(ctx, fasthttp.StatusGatewayTimeout, "only-if-cached: no stored response")
	l.status.Fwd = ""
	setCacheStatus(&ctx.Response.Header, l.status)
	return "miss"
}

// objectMeta is what the edge keeps beside a stored object: the storing decision, computed
// once at fill time so the hit path does not parse the response again.
type objectMeta struct {
	decision httpcache.StoreDecision
	// date is the response's Date field parsed, in Unix seconds (HTTP dates have no finer
	// resolution; 8 bytes instead of a time.Time's 24 on every object), so that evaluating a
	// hit does not parse it again. 0 means absent or invalid: httpcache then parses Header.
	date int64
	// revalidating marks an object whose background revalidation (stale-while-revalidate)
	// has started, so that it runs once however many requests read the stale object.
	revalidating atomic.Bool
	// diskGen is the disk tier's generation when the object was stored in memory, passed
	// with it to disk so a purge since then refuses it there; onDisk marks an object
	// written to disk (or read from it), which eviction need not write again (disktier.go).
	diskGen uint64
	onDisk  atomic.Bool
	// hot marks a hot copy (keepCopy): an object this node keeps for cache.hot_ttl only,
	// which never answers an owner's adoption request (serveCache), or the owner would keep
	// it for the original's whole freshness.
	hot bool
}

func (m *objectMeta) response(o *cachestore.Object) httpcache.Response {
	r := httpcache.Response{Status: o.Status, Header: o.Header, RequestTime: o.RequestTime, ResponseTime: o.ResponseTime}
	if m.date != 0 {
		r.Date = time.Unix(m.date, 0)
	}
	return r
}

// newObjectMeta is the meta of an object about to be stored with header h.
func newObjectMeta(d httpcache.StoreDecision, h httpcache.Header) *objectMeta {
	m := &objectMeta{decision: d}
	if t := httpcache.DateOf(h); !t.IsZero() {
		m.date = t.Unix()
	}
	return m
}

// fillSeq makes keys for fills that must not be shared.
var fillSeq atomic.Uint64
