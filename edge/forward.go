package edge

import (
	"bytes"
	"io"
	"sync"
	"sync/atomic"
	"time"

	"github.com/shoal-cdn/shoal/cachestore"
	"github.com/shoal-cdn/shoal/edge/httpcache"
	"github.com/shoal-cdn/shoal/ring"
	"github.com/valyala/fasthttp"
)

// hotMaxObject bounds the objects a non-owner keeps a hot copy of.
const hotMaxObject = 1 << 20

// retryableBody is the size up to which a peer's response is read whole before anything is
// sent to the client: if the peer dies meanwhile, the next owner can still answer.
const retryableBody = 256 << 10

// forwardToOwner serves a cacheable request that another node owns: from a fresh local hot
// copy if there is one, else from the owner over the peer port, else from the next owner.
// It reports false when this node should serve the request itself: it is the owner (or the
// next one, the owner being unreachable), or no peer answered and the origin is the fallback.
//
// A request a peer forwarded is never forwarded again, so two nodes that disagree about the
// owner cannot bounce it. The one exception is adoption: an owner that rejoined asks the
// runner-up only-if-cached, and the runner-up, seeing a forwarded request, answers from its
// store or not at all.
//
// key is the request's primary key and now its start time.
func (n *Node) forwardToOwner(ctx *fasthttp.RequestCtx, rt *settings, r *route, key string, now time.Time) (string, bool) {
	first, self := n.ownerOf(rt, key)
	if self {
		// The common case, and the only one on a lone node: no list of owners is built.
		if !n.adopting(now) {
			return "", false
		}
		if owners := n.ring.Owners(key, 2); len(owners) > 1 && owners[0].Name == n.name {
			return n.adoptFrom(ctx, rt, owners[1], key)
		}
		return "", false
	}
	if isForwarded(ctx) {
		return "", false
	}
	if n.freshLocalCopy(key, rt, ctx) {
		return "", false // a hot copy: the local pipeline answers it as a hit
	}
	candidates := append(make([]ring.Member, 0, 3), first)
	for _, m := range n.ring.Owners(key, 2) {
		if m.Name != first.Name {
			candidates = append(candidates, m)
		}
	}
	for _, owner := range candidates {
		if owner.Name == n.name {
			return "", false // the owner is unreachable and this node is next: serve it here
		}
		n.inflight.add(owner.Name, 1)
		result, ok := n.forwardTo(ctx, rt, owner, key)
		n.inflight.add(owner.Name, -1)
		if ok {
			return result, true
		}
		n.metrics.forwardFailures.Inc()
	}
	return "", false
}

// ownerOf is the key's owner, or with cluster.bounded_load the first owner in ring order
// whose load stays under that factor of the mean (consistent hashing with bounded loads),
// load being the requests this node has in flight to each member, its own cache requests
// included.
func (n *Node) ownerOf(rt *settings, key string) (ring.Member, bool) {
	if rt.cfg.Cluster.BoundedLoad <= 1 {
		return n.ring.Owner(key)
	}
	return n.ring.OwnerBounded(key, n.inflight.load)
}

// inflight counts requests in flight per member, as this node sees them.
type inflight struct{ counts sync.Map } // member name -> *atomic.Int64

func (f *inflight) add(name string, delta int64) {
	c, ok := f.counts.Load(name)
	if !ok {
		c, _ = f.counts.LoadOrStore(name, new(atomic.Int64))
	}
	c.(*atomic.Int64).Add(delta)
}

func (f *inflight) load(name string) float64 {
	if c, ok := f.counts.Load(name); ok {
		return float64(c.(*atomic.Int64).Load())
	}
	return 0
}

// adoptWindow is how long after start an owner asks the key's runner-up for objects it
// misses: the runner-up served this node's keys while it was away, so a node that rejoins
// takes its keys back from its peers instead of refetching them all from the origin.
const adoptWindow = 2 * time.Minute

func (n *Node) adopting(now time.Time) bool {
	started := n.started.Load()
	return started != nil && now.Sub(*started) < adoptWindow
}

// adoptFrom asks the runner-up for a stored copy (only-if-cached: it never goes to the origin
// for us) and keeps it with its full remaining freshness. It reports false, so the local
// pipeline fills from the origin, when the runner-up has none.
func (n *Node) adoptFrom(ctx *fasthttp.RequestCtx, rt *settings, peer ring.Member, key string) (string, bool) {
	if len(ctx.Request.Header.Peek("Cache-Control")) > 0 || len(ctx.Request.Header.Peek("Range")) > 0 {
		return "", false // the client's own directives and ranges go through the full pipeline
	}
	if _, ok := n.store.Get(key); ok {
		return "", false
	}
	if _, varies := n.store.Vary(key); varies {
		return "", false
	}
	return n.forwardWith(ctx, rt, peer, key, true)
}

// freshLocalCopy reports whether the store holds a usable copy of a key this node does not
// own (a hot copy), so that serving it locally needs no peer.
func (n *Node) freshLocalCopy(key string, rt *settings, ctx *fasthttp.RequestCtx) bool {
	if _, varies := n.store.Vary(key); varies {
		return false
	}
	obj, ok := n.store.Get(key)
	if !ok || obj.SoftPurged() {
		return false
	}
	meta, ok := obj.Meta.(*objectMeta)
	if !ok {
		return false
	}
	req := httpcache.Request{Method: string(ctx.Method()), Header: requestView(&ctx.Request.Header, nil)}
	resp := httpcache.Response{Status: obj.Status, Header: obj.Header, RequestTime: obj.RequestTime, ResponseTime: obj.ResponseTime}
	return rt.policy.Evaluate(req, resp, meta.decision, n.now()).State == httpcache.Fresh
}

// forwardTo relays the request to one peer. It reports false when the peer could not be
// reached, before anything was sent to the client, so the caller may try the next owner.
func (n *Node) forwardTo(ctx *fasthttp.RequestCtx, rt *settings, owner ring.Member, key string) (string, bool) {
	return n.forwardWith(ctx, rt, owner, key, false)
}

// forwardWith relays to owner; adopt asks only for a stored copy, to be kept as our own.
func (n *Node) forwardWith(ctx *fasthttp.RequestCtx, rt *settings, owner ring.Member, key string, adopt bool) (string, bool) {
	if owner.PeerAddr == "" {
		return "", false
	}
	client := n.peers.get(owner.PeerAddr, rt.cfg.Cache.FillTimeout.D())
	req := fasthttp.AcquireRequest()
	ctx.Request.CopyTo(req)
	req.Header.Set(forwardedHeader, n.name)
	req.Header.Set(peerSecretHeader, n.peerSecret)
	req.Header.Set(clientIPHeader, clientAddr(ctx).String())
	req.Header.Set(schemeHeader, scheme(ctx))
	if adopt {
		req.Header.Set("Cache-Control", "only-if-cached")
	}
	resp := fasthttp.AcquireResponse()
	generation := n.store.Begin()
	sent := n.now()
	err := client.Do(req, resp)
	fasthttp.ReleaseRequest(req)
	if err != nil {
		fasthttp.ReleaseResponse(resp)
		n.log.Debug("peer unreachable", "peer", owner.Name, "err", err)
		return "", false
	}
	received := n.now()
	resp.Header.SetNoDefaultContentType(true) // see originHead
	status, length := resp.StatusCode(), resp.Header.ContentLength()
	if adopt && (status != fasthttp.StatusOK || length < 0 || length > int(rt.cfg.Cache.MaxObjectSize) || len(resp.Header.Peek("Vary")) > 0) {
		resp.CloseBodyStream()
		fasthttp.ReleaseResponse(resp)
		return "", false
	}
	var body []byte
	whole := !bodyless(ctx.Method(), status) && length >= 0 && (adopt || length <= max(retryableBody, hotLimit(rt)))
	if whole {
		body, err = io.ReadAll(io.LimitReader(resp.BodyStream(), int64(length)+1))
		if err != nil || len(body) != length {
			resp.CloseBodyStream()
			fasthttp.ReleaseResponse(resp)
			n.log.Debug("peer failed mid-body", "peer", owner.Name, "err", err)
			return "", false
		}
	}
	n.metrics.forwarded.Inc()
	startHead(&ctx.Response.Header, status, string(resp.Header.Peek("Date")), n.now())
	copyEndToEnd(&ctx.Response.Header, &resp.Header)
	if via := resp.Header.Peek("Via"); len(via) > 0 {
		ctx.Response.Header.Set("Via", string(via)+", "+n.via())
	}
	ownerStatus := string(resp.Header.Peek("Cache-Status"))
	mine := httpcache.CacheStatus{Cache: "shoal", Fwd: "miss", FwdStatus: status, Detail: n.name}.String()
	ctx.Response.Header.Set("Cache-Status", joinList(ownerStatus, mine))
	switch {
	case bodyless(ctx.Method(), status):
		resp.CloseBodyStream()
		ctx.Response.SkipBody = bytes.Equal(ctx.Method(), []byte("HEAD"))
	case whole:
		resp.CloseBodyStream()
		if adopt {
			n.keepCopy(rt, key, status, responseHeader(&resp.Header), body, sent, received, generation, 0)
			n.metrics.adopted.Inc()
		} else if n.hotCandidate(rt, key, status, length, &resp.Header) {
			n.keepCopy(rt, key, status, responseHeader(&resp.Header), body, sent, received, generation, rt.cfg.Cache.HotTTL.D())
			n.metrics.hotCopies.Inc()
		}
		ctx.Response.SetBodyRaw(body)
	default:
		// The owner's Content-Length, when it sent one: the client keeps the length, and a body
		// the owner cuts short fails the write instead of ending a chunked stream cleanly.
		ctx.SetBodyStream(&peerBody{resp: resp}, max(length, -1))
		return "forward", true // released by peerBody.Close
	}
	fasthttp.ReleaseResponse(resp)
	return "forward", true
}

// hotLimit is the largest object kept as a hot copy (0 when hot copies are off).
func hotLimit(rt *settings) int {
	if !rt.cfg.Cache.HotLocal {
		return 0
	}
	return hotMaxObject
}

// hotCandidate reports whether a forwarded response is popular and small enough to keep a
// short-lived local copy of. Popular means asked for at least twice in one hot_ttl window.
func (n *Node) hotCandidate(rt *settings, key string, status, length int, h *fasthttp.ResponseHeader) bool {
	if !rt.cfg.Cache.HotLocal || status != fasthttp.StatusOK || length < 0 || length > hotMaxObject || len(h.Peek("Vary")) > 0 {
		return false
	}
	return n.popularity.seen(key, n.now(), rt.cfg.Cache.HotTTL.D()) >= 2
}

// keepCopy stores an object a peer sent: a hot copy for at most ttl beyond its current age,
// or (ttl 0) an adopted object with its whole remaining freshness. It is an ordinary store
// object, so purges remove it like any other.
func (n *Node) keepCopy(rt *settings, key string, status int, header httpcache.Header, body []byte, sent, received time.Time, generation uint64, ttl time.Duration) {
	header.Del("Cache-Status")
	resp := httpcache.Response{Status: status, Header: header, RequestTime: sent, ResponseTime: received}
	d := rt.policy.Storable(httpcache.Request{Method: "GET"}, resp)
	if !d.Store || header.Has("Set-Cookie") {
		return
	}
	if ttl > 0 {
		if limit := httpcache.CurrentAge(resp, received) + ttl; d.Lifetime > limit {
			d.Lifetime = limit
		}
		d.StaleWhileRevalidate, d.StaleIfError = 0, 0 // a stale hot copy is dropped, not served
	}
	obj := &cachestore.Object{Key: key, URL: key, Status: status, Header: header, Body: body,
		RequestTime: sent, ResponseTime: received, Generation: generation, Tags: surrogateKeys(header),
		Meta: newObjectMeta(d, header)}
	n.store.Set(obj)
}

func joinList(a, b string) string {
	if a == "" {
		return b
	}
	return a + ", " + b
}

// peerBody streams a peer's response to the client and releases it when fasthttp closes it.
type peerBody struct {
	resp   *fasthttp.Response
	closed bool
}

func (b *peerBody) Read(p []byte) (int, error) { return b.resp.BodyStream().Read(p) }

func (b *peerBody) Close() error {
	if b.closed {
		return nil
	}
	b.closed = true
	err := b.resp.CloseBodyStream()
	fasthttp.ReleaseResponse(b.resp)
	return err
}

// popularity counts requests per key in windows of hot_ttl, bounded in size.
type popularity struct {
	mu     sync.Mutex
	counts map[string]int
	start  time.Time
}

func (p *popularity) seen(key string, now time.Time, window time.Duration) int {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.counts == nil || now.Sub(p.start) > window || len(p.counts) > 1<<16 {
		p.counts, p.start = map[string]int{}, now
	}
	p.counts[key]++
	return p.counts[key]
}
