package edge

import (
	"bytes"
	"strings"
	"time"

	"github.com/shoal-cdn/shoal/cachestore"
	"github.com/shoal-cdn/shoal/edge/compress"
	"github.com/shoal-cdn/shoal/httpcache"
)

// probeMargin is how much longer than now an object must stay usable for freshHit to say
// true: the pipeline looks again a moment later with its own clock reading, and an object
// that expired in between would be revalidated on the connection's goroutine.
const probeMargin = time.Second

// freshHit returns the object the pipeline (Node.handle) will answer x from without
// blocking, or nil: for a GET or HEAD without content on a cache route whose key this node
// owns (or holds a fresh hot copy of), stored in memory, and fresh (or servable
// stale-while-revalidate) for probeMargin more. It walks the same steps as handle up to the
// lookup and changes nothing: no metric, rate limit, log line or store counter
// (cachestore.Memory.Peek), so handle then runs once either way.
//
// It errs on the side of nil, which costs a goroutine, never correctness. What could turn a
// hit into a fill on the connection's goroutine between the probe and the pipeline's own
// lookup, delaying that connection's other streams by an origin's answer:
//   - expiry: the object must be usable probeMargin from now, far longer than the gap;
//   - a purge or an eviction: the caller puts the object in the exchange (exchange.probed) and serveCache
//     serves it when the store no longer has it (probedObject). The request arrived before
//     the purge, so answering it from the object it found is answering it first.
//
// A ring change in the gap (the key moved to another owner) still forwards on the
// connection's goroutine, bounded by the peer timeout. A hit that would first compress a
// variant the client accepts and the store lacks is detached (variantMissing).
func (p *pipeline) freshHit(x *exchange) *cachestore.Object {
	obj, ok := p.probe(x)
	if !ok {
		return nil
	}
	return obj
}

// probedObject is the object freshHit found for x, when the pipeline's lookup of key no
// longer finds it (purged or evicted since: see freshHit). key may lack the secondary key
// (Vary) the probed object's has: a purge of the URL takes its Vary record with it, and the
// pipeline then looks the URL up alone.
func probedObject(x *exchange, key string) (*cachestore.Object, bool) {
	obj := x.probed
	if obj == nil || !strings.HasPrefix(obj.Key, key) {
		return nil, false
	}
	return obj, len(obj.Key) == len(key) || obj.Key[len(key)] == 0
}

// probe is freshHit's walk.
func (p *pipeline) probe(x *exchange) (*cachestore.Object, bool) {
	method := x.req.Method()
	head := bytes.Equal(method, []byte("HEAD"))
	if !head && !bytes.Equal(method, []byte("GET")) {
		return nil, false
	}
	rt := p.rt.Load()
	if rt.pages.Maintenance {
		return nil, false
	}
	// The target, key and request view are borrowed from a scratch, as handle's are: the
	// probe keeps none of them past its return (only the object it finds).
	sc := getScratch()
	defer putScratch(sc)
	hdr := x.req
	sch := x.scheme()
	t, bad := parseTargetIn(sc, sch, hdr.RequestURI(), x.host, x.hosts, true)
	if bad != nil || (rt.cfg.TLS.RedirectHTTP && sch == "http") {
		return nil, false
	}
	r := rt.match(method, t.name, t.path)
	if r == nil || !r.cache || r.pool == nil {
		return nil, false
	}
	rules := rt.rulesFor(r)
	if rules != nil {
		if rules.Redirect != nil {
			return nil, false
		}
		if rules.Key != nil {
			t.setQuery(rules.Key.Query(t.query))
		}
	}
	if r.sortParams {
		t.setQuery(cachestore.SortQuery(t.query))
	}
	if bypassCache(rules, hdr) {
		return nil, false
	}
	key := policyKeyIn(sc, rules, &t, sch, hdr)
	now := p.now()
	later := now.Add(probeMargin)
	if _, self := p.ownerOf(rt, key); self {
		if p.adopting(now) {
			if owners := p.ring.Owners(key, 2); len(owners) > 1 && owners[0].Name == p.name {
				return nil, false // forwardToOwner may adopt the runner-up's copy
			}
		}
	} else if !p.freshHotCopy(rt, key, x, later) {
		return nil, false // forwardToOwner would forward it
	}
	vary, varies := p.store.Vary(key)
	m := "GET"
	if head {
		m = "HEAD"
	}
	req := httpcache.Request{Method: m, Header: requestViewIn(sc, hdr, vary)}
	if varies {
		secondary, ok := httpcache.SecondaryKey(vary, req.Header)
		if !ok {
			return nil, false
		}
		key += "\x00" + secondary
	}
	obj, found := p.store.Peek(key)
	if !found || obj.Key != key {
		return nil, false
	}
	meta := obj.Meta
	if meta == nil {
		return nil, false
	}
	switch rt.policy.Evaluate(req, meta.Response(obj), meta.Decision(), later).State {
	case httpcache.Fresh, httpcache.StaleWhileRevalidate:
		if p.variantMissing(rt, obj, meta, req) {
			return nil, false
		}
		return obj, true
	}
	return nil, false
}

// variantMissing reports a hit that variantFor would answer by compressing obj first: the
// client takes an encoding whose variant is not stored (or is of an older fill). Coding a
// large body takes milliseconds, which on the connection's goroutine every other stream of
// the connection would wait for.
func (p *pipeline) variantMissing(rt *settings, obj *cachestore.Object, meta *cachestore.Meta, req httpcache.Request) bool {
	if !compressible(rt, int(obj.Status), obj.Header.View(), int64(len(obj.Body)), meta.NoTransform()) {
		return false
	}
	enc := compress.Negotiate(req.Header.List("Accept-Encoding"), rt.encodings)
	if enc == compress.Identity {
		return false
	}
	v, ok := p.store.Peek(obj.Key + compress.VariantKey(enc))
	return !ok || v.ResponseTime != obj.ResponseTime || v.SoftPurged()
}

// freshHotCopy is freshLocalCopy (forward.go) through Peek, at the probe's later time: a
// non-owner answers from a fresh copy of its own instead of forwarding.
func (p *pipeline) freshHotCopy(rt *settings, key string, x *exchange, now time.Time) bool {
	return p.freshCopy(rt, key, x, now, false)
}
