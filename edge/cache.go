package edge

import (
	"bytes"
	"net/http"
	"strings"
	"sync/atomic"
	"time"
	"unsafe"

	"github.com/shoal-cdn/shoal/cachestore"
	"github.com/shoal-cdn/shoal/cachestore/disk"
	"github.com/shoal-cdn/shoal/httpcache"
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
	staleRecord  disk.RecordID      // the disk record a disk-bodied stale object was read from (staleDiskBody)
	// status is what the lookup did, rendered as this node's Cache-Status member
	// (cacheOutcome): set once per decision below and in fill, serve and diskserve.
	status cacheOutcome
	head   bool // HEAD request
	start  time.Time
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
func (p *pipeline) serveCache(x *exchange, rt *settings, r *route, key string, now time.Time, sc *requestScratch) string {
	l := &lookup{rt: rt, r: r, head: bytes.Equal(x.req.Method(), []byte("HEAD")), start: now, sc: sc}
	l.url = key
	l.status = newCacheOutcome(p.name)
	l.key = l.url
	var obj *cachestore.Object
	var use httpcache.Use
	pr := x.probe
	handed := pr.handed(rt) && p.store.Begin() == pr.gen
	if handed {
		// The HTTP/2 probe's lookup and verdict at this request's start (freshHit). No purge
		// began since the probe read the generation (a purge bumps it before it removes or
		// marks anything); one that began earlier and removed the object after the probe
		// found it is answered as the old path answers it (probedObject), and one that
		// marked it is seen below (SoftPurged). What a lookup now could find besides is a
		// newer fill of the key, which a request that arrived first need not see. A hit
		// counts as Get counts it.
		l.vary, l.req, l.key = pr.vary, pr.req, pr.key
		obj, use = pr.obj, pr.use
		p.store.CountHit(obj)
	} else {
		vary, varies := p.store.Vary(l.url)
		l.vary = vary
		method := "GET" // the only methods a cache route looks up
		if l.head {
			method = "HEAD"
		}
		l.req = httpcache.Request{Method: method, Header: requestViewIn(sc, x.req, vary)}
		if varies {
			secondary, ok := httpcache.SecondaryKey(vary, l.req.Header)
			if !ok {
				l.own()
				l.status.serve(fwdVaryMiss)
				return p.fill(x, l, true)
			}
			l.key = l.url + "\x00" + secondary
		}
		var found bool
		obj, found = p.store.Get(l.key)
		// The store finds objects by a hash of the key; the stored key itself is the proof
		// that this is the variant the request selects (RFC 9111 section 4.1), whatever the
		// hash did.
		found = found && obj.Key == l.key
		if !found {
			// An HTTP/2 hit probed on its connection's goroutine must not fill there.
			obj, found = probedObject(x, l.key)
		}
		if !found {
			if res, ok := p.diskLookup(x, l); ok { // it owns l where what it starts keeps l
				return res
			}
			l.own()
			if varies {
				l.status.serve(fwdVaryMiss)
			} else {
				l.status.serve(fwdURIMiss)
			}
			if onlyIfCached(l.req) {
				if res, ok := p.adoptFromFill(x, l); ok {
					return res
				}
				return p.gatewayTimeoutOnlyIfCached(x, l)
			}
			if p.rangePass(x, l, now) {
				p.processing(x)
				return p.servePass(x, l.rt, l.r)
			}
			return p.fill(x, l, p.passMark.active(l.url, now))
		}
	}
	p.touchDisk(l.key)
	meta := obj.Meta
	if meta.Hot && x.forwarded && onlyIfCached(l.req) {
		// An owner adopting its keys back asks only-if-cached and keeps what it gets for its
		// whole freshness: a hot copy, bounded by hot_ttl here, is not ours to give.
		l.own()
		return p.gatewayTimeoutOnlyIfCached(x, l)
	}
	if !handed {
		use = rt.policy.Evaluate(l.req, meta.Response(obj), meta.Decision(), now)
	}
	if obj.SoftPurged() && use.State == httpcache.Fresh {
		use.State = httpcache.StaleWhileRevalidate
		// Cache-Status says stale (RFC 9211 ttl below zero): a peer that forwarded this
		// request must not keep it as a fresh hot copy (keepCopy).
		use.TTL = min(use.TTL, -time.Second)
	}
	switch use.State {
	case httpcache.Fresh:
		p.metrics.hits.Inc()
		l.status.serve(servedHit)
		l.memoryHit = true
		p.serveObject(x, l, obj, use)
		return "hit"
	case httpcache.StaleWhileRevalidate:
		l.own()
		p.metrics.hits.Inc()
		l.status.serve(servedHit)
		l.memoryHit = true
		p.serveObject(x, l, obj, use)
		p.revalidateInBackground(x, l, obj)
		return "stale"
	}
	l.own()
	if use.OnlyIfCached {
		return p.gatewayTimeoutOnlyIfCached(x, l)
	}
	l.stale, l.use = obj, use
	if use.TTL > 0 && !meta.NoCache() && !obj.SoftPurged() {
		// RFC 9211 section 2.2: a fresh response the request's own directives (no-cache,
		// max-age, min-fresh) did not let us use.
		l.status.serve(fwdRequest)
	} else {
		l.status.serve(fwdStale)
	}
	return p.fill(x, l, false)
}

func onlyIfCached(req httpcache.Request) bool {
	return httpcache.ParseCacheControl(req.Header.Values("Cache-Control")).OnlyIfCached
}

// gatewayTimeoutOnlyIfCached is RFC 9111 section 5.2.1.7: nothing usable is stored and the
// client forbade contacting the origin.
//
// An owner's adoption probe that finds nothing here is no failure of anyone's: the owner
// fills from the origin itself. It is counted as result "adopt_miss", and kept out of the
// access log and of shoal_edge_responses_total (as nginx keeps subrequests out of its log),
// where its 504 read as a gateway failure to every alert on 5xx.
func (p *pipeline) gatewayTimeoutOnlyIfCached(x *exchange, l *lookup) string {
	plainError(x, http.StatusGatewayTimeout, "only-if-cached: no stored response")
	// Nothing was served and nothing went forward: the member says only the node's name.
	l.status.serve(servedUnlabelled)
	setCacheStatus(x.resp.Head(), "", l.status)
	if x.adoption {
		return resultAdoptMiss
	}
	return "miss"
}

// fillSeq makes keys for fills that must not be shared.
var fillSeq atomic.Uint64
