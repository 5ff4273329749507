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
// true: when the walk is not handed over (a hot copy, a reload or a purge in between) the
// pipeline looks again a moment later with its own clock reading, and an object that
// expired in between would be revalidated on the connection's goroutine.
const probeMargin = time.Second

// probeResult is freshHit's walk, kept for the pipeline: when the probe found a fresh hit
// this node owns, handle and serveCache take its target, route, key, request view, object
// and verdict instead of walking parse, route, key, owner, lookup and freshness again (about
// a tenth of an HTTP/2 hit's CPU). It lives in the listener's pooled exchange (h2exchange),
// so handing it over allocates nothing.
type probeResult struct {
	// obj is the object found: served even if a purge or an eviction took it from the store
	// since (probedObject).
	obj *cachestore.Object
	// sc holds the bytes of t, url, key and req.Header (borrowed strings): handle takes it
	// as its own scratch and returns it. nil when the walk is not handed over (a hot copy:
	// forwardToOwner decides again); the object alone then travels.
	sc    *requestScratch
	rt    *settings
	r     *route
	rules *routeRules
	// t is the canonical target, its query already shaped by the route's key rules and
	// sort_params.
	t        requestTarget
	url, key string // primary key; primary plus secondary key (Vary)
	vary     []string
	req      httpcache.Request
	use      httpcache.Use // obj's evaluation at now
	now      time.Time     // the clock reading the walk used: the request's start
	// gen is the store's purge generation read before the lookup: a purge applied since
	// (its generation is bumped before it removes or marks anything) makes serveCache look
	// again rather than trust the verdict.
	gen uint64
}

// handed reports a walk the pipeline may take as its own under rt: the settings a reload
// may have swapped since are the probe's.
func (pr *probeResult) handed(rt *settings) bool {
	return pr != nil && pr.sc != nil && pr.rt == rt
}

// freshHit returns the object the pipeline (Node.handle) will answer x from without
// blocking, or nil: for a GET or HEAD without content on a cache route whose key this node
// owns (or holds a fresh hot copy of), stored in memory, and fresh (or servable
// stale-while-revalidate) for probeMargin more. It walks the same steps as handle up to the
// lookup and changes no metric, rate limit, log line or store counter
// (cachestore.Memory.Peek); it drops the fields handle drops on receipt (proxy-only and
// Connection-listed ones) before it keys the request, so its key is handle's. When it finds
// a hit it fills pr, and for a key this node owns it hands its walk over (pr.sc set): handle
// then counts the hit (CountHit) and serves pr's verdict without a second walk.
//
// It errs on the side of nil, which costs a goroutine, never correctness. What could turn a
// hit into a fill on the connection's goroutine between the probe and the pipeline's serve:
//   - expiry: the object must be usable probeMargin from now, far longer than the gap;
//   - a purge or an eviction: the object travels in pr and serveCache serves it when the
//     store no longer has it (probedObject). The request arrived before the purge, so
//     answering it from the object it found is answering it first. A purge applied after
//     the probe read the generation makes serveCache look again (a soft purge then serves
//     the object stale and revalidates it, as on HTTP/1.1).
//
// A ring change in the gap (the key moved to another owner) is not seen by a handed walk:
// the object is fresh here and served. A hit that would first compress a variant the client
// accepts and the store lacks is detached (variantMissing).
func (p *pipeline) freshHit(x *exchange, pr *probeResult) *cachestore.Object {
	*pr = probeResult{}
	sc := getScratch()
	if !p.probe(x, pr, sc) {
		putScratch(sc)
		*pr = probeResult{}
		return nil
	}
	if pr.sc == nil {
		putScratch(sc) // a hot copy: handle walks again
	}
	return pr.obj
}

// probedObject is the object freshHit found for x, when the pipeline's lookup of key no
// longer finds it (purged or evicted since: see freshHit). key may lack the secondary key
// (Vary) the probed object's has: a purge of the URL takes its Vary record with it, and the
// pipeline then looks the URL up alone.
func probedObject(x *exchange, key string) (*cachestore.Object, bool) {
	if x.probe == nil || x.probe.obj == nil {
		return nil, false
	}
	obj := x.probe.obj
	if !strings.HasPrefix(obj.Key, key) {
		return nil, false
	}
	return obj, len(obj.Key) == len(key) || obj.Key[len(key)] == 0
}

// probe is freshHit's walk: it fills pr and reports a hit. The target, key and request view
// are built in sc; pr.sc is set to it when the walk is handed over.
func (p *pipeline) probe(x *exchange, pr *probeResult, sc *requestScratch) bool {
	method := x.req.Method()
	head := bytes.Equal(method, []byte("HEAD"))
	if !head && !bytes.Equal(method, []byte("GET")) {
		return false
	}
	rt := p.rt.Load()
	if rt.pages.Maintenance {
		return false
	}
	hdr := x.req
	sch := x.scheme()
	t, bad := parseTargetIn(sc, sch, hdr.RequestURI(), x.host, x.hosts, hdr.Protocol())
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
	// handle drops these on receipt, before its key, Vary and cookie rules read the request;
	// dropping them twice changes nothing.
	dropProxyOnlyFields(hdr, rt.trusted(x.clientAddr()), rt.cfg.Limits.UnderscoresInHeaders)
	dropConnectionListed(hdr)
	if bypassCache(rules, hdr) {
		return false
	}
	url := policyKeyIn(sc, rules, &t, sch, hdr)
	now := p.now()
	later := now.Add(probeMargin)
	_, self := p.ownerOf(rt, url)
	if self {
		if p.adopting(now) {
			if owners := p.ring.Owners(url, 2); len(owners) > 1 && owners[0].Name == p.name {
				return false // forwardToOwner may adopt the runner-up's copy
			}
		}
	} else if !p.freshHotCopy(rt, url, x, later) {
		return false // forwardToOwner would forward it
	}
	// Read before the lookup: a purge bumps the generation before it applies, so one that
	// the lookup may have missed shows in serveCache's reading.
	gen := p.store.Begin()
	vary, varies := p.store.Vary(url)
	m := "GET"
	if head {
		m = "HEAD"
	}
	req := httpcache.Request{Method: m, Header: requestViewIn(sc, hdr, vary)}
	key := url
	if varies {
		secondary, ok := httpcache.SecondaryKey(vary, req.Header)
		if !ok {
			return false
		}
		key = url + "\x00" + secondary // its own string, as serveCache's (lookup.own keeps it)
	}
	obj, found := p.store.Peek(key)
	if !found || obj.Key != key {
		return false
	}
	meta := obj.Meta
	if meta == nil {
		return false
	}
	resp, d := meta.Response(obj), meta.Decision()
	use := rt.policy.Evaluate(req, resp, d, now) // what the pipeline serves
	if use.State != httpcache.Fresh || use.TTL <= probeMargin || hasRequestDirectives(req.Header) {
		// Fresh for more than probeMargin and no directive of the client's (max-age,
		// min-fresh, max-stale, no-cache) is still fresh at later, age growing as the clock
		// does: only the others are evaluated again.
		switch rt.policy.Evaluate(req, resp, d, later).State {
		case httpcache.Fresh, httpcache.StaleWhileRevalidate:
		default:
			return false
		}
	}
	if p.variantMissing(rt, obj, meta, req) {
		return false
	}
	*pr = probeResult{obj: obj}
	if !self {
		return true // a hot copy: forwardToOwner's own walk decides again
	}
	*pr = probeResult{obj: obj, sc: sc, rt: rt, r: r, rules: rules, t: t, url: url, key: key,
		vary: vary, req: req, use: use, now: now, gen: gen}
	return true
}

// hasRequestDirectives reports a request view with Cache-Control or Pragma, whose
// directives make a stored response's usability depend on more than its freshness.
func hasRequestDirectives(h httpcache.Header) bool {
	for _, f := range h {
		if strings.EqualFold(f.Name, "Cache-Control") || strings.EqualFold(f.Name, "Pragma") {
			return true
		}
	}
	return false
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
