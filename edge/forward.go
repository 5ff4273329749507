package edge

import (
	"bytes"
	"io"
	"sync"
	"time"

	"github.com/shoal-cdn/shoal/cachestore"
	"github.com/shoal-cdn/shoal/edge/httpcache"
	"github.com/shoal-cdn/shoal/ring"
	"github.com/valyala/fasthttp"
)

// hotMaxObject bounds the objects a non-owner keeps a hot copy of.
const hotMaxObject = 1 << 20

// forwardToOwner serves a cacheable request that another node owns: from a fresh local hot
// copy if there is one, else from the owner over the peer port, else from the next owner.
// It reports false when this node should serve the request itself: it is the owner (or the
// next one, the owner being unreachable), or no peer answered and the origin is the fallback.
func (n *Node) forwardToOwner(ctx *fasthttp.RequestCtx, rt *settings, r *route) (string, bool) {
	key := cacheKey("http", string(ctx.Host()), string(ctx.Path()), string(ctx.URI().QueryString()))
	owners := n.ring.Owners(key, 2)
	if len(owners) == 0 || owners[0].Name == n.name {
		return "", false
	}
	if n.freshLocalCopy(key, rt, ctx) {
		return "", false // a hot copy: the local pipeline answers it as a hit
	}
	for _, owner := range owners {
		if owner.Name == n.name {
			return "", false
		}
		if result, ok := n.forwardTo(ctx, rt, owner, key); ok {
			return result, true
		}
		n.metrics.forwardFailures.Inc()
	}
	return "", false
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
	if owner.PeerAddr == "" {
		return "", false
	}
	client := n.peers.get(owner.PeerAddr, rt.cfg.Cache.FillTimeout.D())
	req := fasthttp.AcquireRequest()
	ctx.Request.CopyTo(req)
	req.Header.Set(forwardedHeader, n.name)
	req.Header.Set(peerSecretHeader, n.peerSecret)
	req.Header.Set(clientIPHeader, clientAddr(ctx).String())
	resp := fasthttp.AcquireResponse()
	generation := n.store.Begin()
	sent := n.now()
	err := client.Do(req, resp)
	fasthttp.ReleaseRequest(req)
	if err != nil {
		fasthttp.ReleaseResponse(resp)
		n.log.Warn("peer unreachable", "peer", owner.Name, "err", err)
		return "", false
	}
	received := n.now()
	n.metrics.forwarded.Inc()
	status := resp.StatusCode()
	ctx.SetStatusCode(status)
	copyEndToEnd(&ctx.Response.Header, &resp.Header)
	if via := resp.Header.Peek("Via"); len(via) > 0 {
		ctx.Response.Header.Set("Via", string(via)+", "+n.via())
	}
	ownerStatus := string(resp.Header.Peek("Cache-Status"))
	mine := httpcache.CacheStatus{Cache: "shoal", Fwd: "miss", FwdStatus: status, Detail: n.name}.String()
	ctx.Response.Header.Set("Cache-Status", joinList(ownerStatus, mine))

	length := resp.Header.ContentLength()
	if bodyless(ctx.Method(), status) {
		resp.CloseBodyStream()
		fasthttp.ReleaseResponse(resp)
		ctx.Response.SkipBody = bytes.Equal(ctx.Method(), []byte("HEAD"))
		return "forward", true
	}
	if n.hotCandidate(rt, key, status, length, &resp.Header) {
		body, err := io.ReadAll(io.LimitReader(resp.BodyStream(), hotMaxObject+1))
		resp.CloseBodyStream()
		if err == nil && len(body) == length {
			n.keepHotCopy(rt, key, status, responseHeader(&resp.Header), body, sent, received, generation)
			fasthttp.ReleaseResponse(resp)
			ctx.Response.SetBodyRaw(body)
			return "forward", true
		}
		fasthttp.ReleaseResponse(resp)
		ctx.SetConnectionClose()
		plainError(ctx, fasthttp.StatusBadGateway, "bad gateway: peer "+owner.Name+" sent an incomplete body")
		return "error", true
	}
	if length < 0 {
		length = -1
	}
	ctx.SetBodyStream(&peerBody{resp: resp}, length)
	return "forward", true
}

// hotCandidate reports whether a forwarded response is popular and small enough to keep a
// short-lived local copy of. Popular means asked for at least twice in one hot_ttl window.
func (n *Node) hotCandidate(rt *settings, key string, status, length int, h *fasthttp.ResponseHeader) bool {
	if !rt.cfg.Cache.HotLocal || status != fasthttp.StatusOK || length < 0 || length > hotMaxObject || len(h.Peek("Vary")) > 0 {
		return false
	}
	return n.popularity.seen(key, n.now(), rt.cfg.Cache.HotTTL.D()) >= 2
}

// keepHotCopy stores a forwarded object locally for at most hot_ttl beyond its current age.
// It is an ordinary store object, so purges remove it like any other.
func (n *Node) keepHotCopy(rt *settings, key string, status int, header httpcache.Header, body []byte, sent, received time.Time, generation uint64) {
	header.Del("Cache-Status")
	resp := httpcache.Response{Status: status, Header: header, RequestTime: sent, ResponseTime: received}
	d := rt.policy.Storable(httpcache.Request{Method: "GET"}, resp)
	if !d.Store || header.Has("Set-Cookie") {
		return
	}
	if limit := httpcache.CurrentAge(resp, received) + rt.cfg.Cache.HotTTL.D(); d.Lifetime > limit {
		d.Lifetime = limit
	}
	d.StaleWhileRevalidate, d.StaleIfError = 0, 0 // a stale hot copy is dropped, not served
	obj := &cachestore.Object{Key: key, URL: key, Status: status, Header: header, Body: body,
		RequestTime: sent, ResponseTime: received, Generation: generation, Tags: surrogateKeys(header),
		Meta: &objectMeta{decision: d}}
	if n.store.Set(obj) {
		n.metrics.hotCopies.Inc()
	}
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
