package edge

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/shoal-cdn/shoal/cachestore"
	"github.com/shoal-cdn/shoal/httpcache"
	"github.com/shoal-cdn/shoal/origin"
	"github.com/shoal-cdn/shoal/ring"
	"github.com/valyala/fasthttp"
)

// hotMaxObject bounds the objects a non-owner keeps a hot copy of.
const hotMaxObject = 1 << 20

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
// key is the request's primary key, borrowed from the request's scratch (requestScratch):
// every path that keeps it past the request copies it. now is the request's start time.
func (p *pipeline) forwardToOwner(x *exchange, rt *settings, r *route, key string, now time.Time) (string, bool) {
	first, self := p.ownerOf(rt, key)
	if self {
		// The common case, and the only one on a lone node: no list of owners is built, and
		// in the adoption window not for a key this node holds (a hit) either.
		if !p.adopting(now) || p.ring.SoleOwner() || !p.mayAdopt(x, key) {
			return "", false
		}
		if owners := p.ring.Owners(key, 2); len(owners) > 1 && owners[0].Name == p.name {
			p.processing(x) // a forwarding peer waits for the runner-up, and maybe the origin, through us
			return p.forwardWith(x, rt, owners[1], strings.Clone(key), true)
		}
		return "", false
	}
	if x.forwarded {
		return "", false
	}
	key = strings.Clone(key)
	if p.freshLocalCopy(key, rt, x) {
		return "", false // a hot copy: the local pipeline answers it as a hit
	}
	candidates := append(make([]ring.Member, 0, 3), first)
	for _, m := range p.ring.Owners(key, 2) {
		if m.Name != first.Name {
			candidates = append(candidates, m)
		}
	}
	for _, owner := range candidates {
		if owner.Name == p.name {
			return "", false // the owner is unreachable and this node is next: serve it here
		}
		p.inflight.add(owner.Name, 1)
		result, ok := p.forwardTo(x, rt, owner, key)
		p.inflight.add(owner.Name, -1)
		if ok {
			return result, true
		}
		p.metrics.forwardFailures.Inc()
		if result == ownerSilent {
			// One bounded wait per request: the next owner may be as starved as this one
			// (one load spike), and two waits in a row outlast a client's own timeout.
			return "", false
		}
	}
	return "", false
}

// ownerOf is the key's owner, or with cluster.bounded_load the first owner in ring order
// whose load stays under that factor of the mean (consistent hashing with bounded loads),
// load being the requests this node has in flight to each member, its own cache requests
// included.
func (p *pipeline) ownerOf(rt *settings, key string) (ring.Member, bool) {
	if rt.cfg.Cluster.BoundedLoad <= 1 {
		return p.ring.Owner(key)
	}
	return p.ring.OwnerBounded(key, p.inflight.load)
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

func (p *pipeline) adopting(now time.Time) bool {
	started := p.started.Load()
	return started != nil && now.Sub(*started) < adoptWindow
}

// mayAdopt reports a request for which an owner in its adoption window asks the runner-up
// for a stored copy (only-if-cached: it never goes to the origin for us) and keeps it with
// its full remaining freshness (forwardWith): one this node has nothing stored for. When
// the runner-up has none either, the local pipeline fills from the origin.
func (p *pipeline) mayAdopt(x *exchange, key string) bool {
	if len(x.req.Peek("Cache-Control")) > 0 || len(x.req.Peek("Range")) > 0 {
		return false // the client's own directives and ranges go through the full pipeline
	}
	if _, ok := p.store.Peek(key); ok {
		return false // stored here: serveCache counts the hit (Peek counts nothing)
	}
	_, varies := p.store.Vary(key)
	return !varies
}

// freshLocalCopy reports whether the store holds a usable copy of a key this node does not
// own (a hot copy), so that serving it locally needs no peer.
func (p *pipeline) freshLocalCopy(key string, rt *settings, x *exchange) bool {
	return p.freshCopy(rt, key, x, p.now(), true)
}

// freshCopy is freshLocalCopy at now; count says whether the lookup counts as a hit or miss
// (Get) or not at all (Peek, for the HTTP/2 probe, whose pipeline run counts it).
func (p *pipeline) freshCopy(rt *settings, key string, x *exchange, now time.Time, count bool) bool {
	if _, varies := p.store.Vary(key); varies {
		return false
	}
	var obj *cachestore.Object
	var ok bool
	if count {
		obj, ok = p.store.Get(key)
	} else {
		obj, ok = p.store.Peek(key)
	}
	if !ok || obj.SoftPurged() {
		return false
	}
	meta := obj.Meta
	if meta == nil {
		return false
	}
	req := httpcache.Request{Method: string(x.req.Method()), Header: requestView(x.req, nil)}
	resp := httpcache.Response{Status: int(obj.Status), Packed: obj.Header, RequestTime: obj.RequestTime.Time(), ResponseTime: obj.ResponseTime.Time()}
	return rt.policy.Evaluate(req, resp, meta.Decision(), now).State == httpcache.Fresh
}

// forwardTo relays the request to one peer. It reports false only when the peer sent nothing
// (could not be connected to, reset or dropped from the ring before its first byte, silent
// for cluster.forward_timeout), so the caller may try the next owner: a peer that answered
// and then failed answers for its origin (see forwardWith).
//
// A connect that timed out is tried again while the owner stays alive in the ring, within
// cluster.forward_timeout (then this node serves the request itself, as for a silent owner):
// on a starved machine a dial to a live owner's peer port can outlast peerConnectTimeout,
// and passing such a forward to the next owner made that owner fetch the object a second
// time while the owner's own fill was in flight (TestCluster_oneOriginFetchForAColdObject:
// 2 origin fetches, no ring change). A refused connect, or an owner the ring dropped, is
// passed over at once: it cannot be filling.
func (p *pipeline) forwardTo(x *exchange, rt *settings, owner ring.Member, key string) (string, bool) {
	bound := rt.cfg.Cluster.ForwardTimeout.D()
	if bound <= 0 {
		bound = rt.cfg.Cache.FillTimeout.D()
	}
	for until := p.now().Add(bound); ; {
		result, ok := p.forwardWith(x, rt, owner, key, false)
		if ok || result != connectTimedOut {
			return result, ok
		}
		if !p.aliveInRing(owner.Name) {
			return "", false
		}
		if !p.now().Before(until) {
			p.metrics.forwardTimeouts.Inc()
			p.log.Warn("owner could not be connected to within cluster.forward_timeout; serving the request here", "peer", owner.Name,
				"forward_timeout", rt.cfg.Cluster.ForwardTimeout.D())
			return ownerSilent, false
		}
		time.Sleep(connectRetryPause) // a dial that failed fast is not retried in a busy loop
	}
}

// connectRetryPause spaces forwardTo's connects to an owner whose last one timed out.
const connectRetryPause = 10 * time.Millisecond

// aliveInRing reports whether this node's view holds name as an alive member.
func (p *pipeline) aliveInRing(name string) bool {
	for _, m := range p.ring.Members() {
		if m.Name == name {
			return m.State == ring.StateAlive
		}
	}
	return false
}

// forwardWith relays to owner; adopt asks only for a stored copy, to be kept as our own.
//
// Which failures move on: one to connect (origin.ConnectFailed), where the peer never saw the
// request, and one before the owner's first byte (a reset, the owner dropped from the ring,
// nothing within cluster.forward_timeout). Once the owner answered, it may already be fetching
// from the origin, so a failure after that (no final head, a head then a cut body, a
// timeout) is this request's origin failure: asking the next owner would fetch the object again, up to once per owner. The
// client gets 502 (504 on a timeout) when nothing was sent yet, else the body ends as cut
// (connection closed, or the HTTP/2 stream reset). A hot copy's body is read whole before
// the client's first byte, so its cut is answered too: 502 (504 on a timeout); passed over
// only when the cut is prune's, which closes a forward still awaiting its first byte. A reused connection that fails before any
// byte is retried once on a new connection to the same peer: that is a keep-alive connection
// the peer closed while idle, which the peer client's idle limit makes rare. An adoption that
// fails returns false whatever happened: the runner-up never goes to the origin for it.
//
// The owner's 103 Early Hints are relayed to the client as they arrive (relayHints), before
// the final response; other 1xx stay on the peer hop.
func (p *pipeline) forwardWith(x *exchange, rt *settings, owner ring.Member, key string, adopt bool) (string, bool) {
	if owner.PeerAddr == "" {
		return "", false
	}
	client := p.peers.get(owner.PeerAddr, rt.cfg.Cache.FillTimeout.D())
	out := x.outgoing()
	out.Set(forwardedHeader, p.name)
	out.Set(peerSecretHeader, p.peerSecret)
	out.Set(clientIPHeader, x.clientAddr().String())
	out.Set(schemeHeader, x.scheme())
	if adopt {
		out.Set("Cache-Control", "only-if-cached")
		out.Set(adoptHeader, "1")
	}
	var onInterim origin.InterimFunc
	interim := false // the owner sent an interim answer (its 102, a 103) and no final head yet
	if !adopt {
		relay := p.interimTo(x)
		onInterim = func(status int, h *fasthttp.ResponseHeader) {
			interim = true
			relay(status, h)
		}
	}
	generation := p.begin()
	sent := p.now()
	wallSent := time.Now() // the purge log's clock (keepCopy)
	firstByte, head := max(rt.cfg.Cluster.ForwardTimeout.D(), 0), time.Duration(0)
	if adopt && rt.cfg.Cluster.AdoptTimeout > 0 {
		// A probe is an optimisation: a runner-up that has not answered within its own short
		// bound, its 102 included (a fill it joined that waits on the origin, a peer that
		// stalled), is skipped and this node fetches the object itself. Without the bound a
		// 102 lifted forward_timeout and the client waited cache.fill_timeout.
		head = rt.cfg.Cluster.AdoptTimeout.D()
		firstByte = min(firstByte, head)
		if firstByte == 0 {
			firstByte = head
		}
	}
	a, finish, err := askPeer(client, out, peerIdle(rt), firstByte, head, onInterim)
	putOutgoing(out)
	if !adopt { // an adoption that fails is filled from the origin, which names itself
		status := 0
		if err == nil {
			status = a.status
		}
		x.askedUpstream(owner.Name, owner.PeerAddr, status, p.now().Sub(sent))
		x.upstream.peer = true // logged "peer:NAME", joined only when logged
	}
	if err != nil {
		// An owner that never answered a cache request (GET or HEAD: no effects) is passed
		// over like an unreachable one: the next candidate or this node serves it, as nginx's
		// proxy_next_upstream error does. That is an owner killed with the request in flight,
		// reset before its first byte or after no more than its 102 (an owner that exits or is
		// cut by prune as it waits for its origin: passed over, as before it said 102). One
		// that sent nothing within cluster.forward_timeout (proxy_next_upstream timeout) is
		// stuck, not waiting for a slow origin (it would have said 102, processing): this node
		// serves the request itself. A timeout after the owner's first byte stays a 504: the
		// owner may still be filling, and cutting it would fetch the object twice.
		var ne net.Error
		timeout := errors.As(err, &ne) && ne.Timeout()
		silent := timeout && !origin.ResponseStarted(err) && !origin.ConnectFailed(err) && rt.cfg.Cluster.ForwardTimeout > 0
		unanswered := !timeout && (!origin.ResponseStarted(err) || interim)
		if adopt || origin.ConnectFailed(err) || unanswered || silent {
			switch {
			case peerLeft(err):
				// prune closed the connection: the ring dropped the owner while this request
				// waited on it (a frozen or partitioned node). Said once per request, as nginx
				// logs each upstream it passes over.
				p.log.Warn("owner left the ring with the request in flight; passing it over", "peer", owner.Name, "adopt", adopt)
			case adopt && timeout:
				p.log.Warn("runner-up sent no answer within cluster.adopt_timeout; filling here", "peer", owner.Name,
					"adopt_timeout", rt.cfg.Cluster.AdoptTimeout.D())
			case !adopt && timeout && origin.ConnectFailed(err):
				p.log.Debug("peer connect timed out", "peer", owner.Name, "err", err)
				return connectTimedOut, false
			case silent:
				p.metrics.forwardTimeouts.Inc()
				p.log.Warn("owner sent nothing within cluster.forward_timeout; serving the request here", "peer", owner.Name, "adopt", adopt,
					"forward_timeout", rt.cfg.Cluster.ForwardTimeout.D())
				return ownerSilent, false
			default:
				p.log.Debug("peer unreachable", "peer", owner.Name, "err", err)
			}
			return "", false
		}
		p.metrics.forwardFailures.Inc()
		p.peerError(x, owner, err)
		return "forward-error", true
	}
	received := p.now()
	status, length := a.status, a.length
	if adopt && (status != http.StatusOK || length < 0 || length > int(rt.cfg.Cache.MaxObjectSize) || len(a.head.Peek("Vary")) > 0) {
		finish(false)
		a.free()
		return "", false
	}
	body := &peerBody{a: a, finish: finish, length: int64(max(length, -1))}
	empty := bodyless(x.req.Method(), status) || a.body() == nil
	body.eof = empty
	var whole []byte
	// A hot copy (at most hotMaxObject) is read whole before the client's first byte; an
	// adopted object (up to max_object_size) streams, and is kept once read whole.
	keep := !empty && length >= 0 && !adopt && p.hotCandidate(rt, key, status, length, &a.head)
	if keep {
		whole, err = io.ReadAll(io.LimitReader(body, int64(length)+1))
		if err != nil || len(whole) != length {
			// Nothing has reached the client yet, so it gets an answer, not a cut: relayed as
			// a cut, fasthttp failed on the body's first read with the head still in its write
			// buffer and closed the connection, and the client read a bare EOF. An owner the
			// ring dropped meanwhile (prune cut the forward) is passed over as before its
			// first byte; any other cut is this request's origin failure (502, 504).
			body.Close()
			if err == nil {
				err = io.ErrUnexpectedEOF
			}
			if peerLeft(err) {
				p.log.Warn("owner left the ring with the request in flight; passing it over", "peer", owner.Name, "adopt", adopt)
				return "", false
			}
			p.metrics.forwardFailures.Inc()
			p.peerError(x, owner, fmt.Errorf("%w: %w", errPeerCut, err))
			return "forward-error", true
		}
	}
	p.metrics.forwarded.Inc()
	startHead(x.resp.Head(), status, borrowString(a.head.Peek("Date")), p.now())
	copyEndToEnd(x.resp.Head(), &a.head)
	if via := relayedList(x.resp.Head(), "Via"); via != "" {
		// The owner's lines as one list, the node's member last (RFC 9110 section 7.6.3):
		// Set alone rewrote the first line and left the others after the node's member.
		x.resp.Head().Del("Via")
		x.resp.Head().Set("Via", via+", "+p.via())
	}
	ownerStatus := relayedList(x.resp.Head(), "Cache-Status")
	setCacheStatus(x.resp.Head(), ownerStatus, forwarded(p.name, fwdMiss, status))
	switch {
	case empty:
		if bytes.Equal(x.req.Method(), []byte("HEAD")) {
			// The owner's framing of the GET, read before Close gives the answer back.
			x.resp.SkipBody()
			setHeadLength(x.resp.Head(), headAnswerLength(&a.head))
		}
		body.Close()
	case keep, adopt:
		header := responseHeader(&a.head)
		copied := peerCopy{sent: sent, received: received, generation: generation, filled: peerFilled(rt, header, wallSent),
			stale: staleAnswer(ownerStatus)}
		if adopt {
			// Kept when the client read it whole: a cut or abandoned body is no object.
			streamBody(x, &adoptedBody{peerBody: body, whole: make([]byte, 0, length), keep: func(whole []byte) {
				if p.keepCopy(rt, key, status, header, whole, copied, 0) {
					p.metrics.adopted.Inc()
				}
			}}, length)
			flushPending(x, a)
			break
		}
		body.Close()
		if p.keepCopy(rt, key, status, header, whole, copied, rt.cfg.Cache.HotTTL.D()) {
			p.metrics.hotCopies.Inc()
		}
		x.resp.SetBody(whole)
	default:
		// The owner's Content-Length, when it sent one: the client keeps the length, and a body
		// the owner cuts short fails the write instead of ending a chunked stream cleanly.
		streamBody(x, body, max(length, -1))
		flushPending(x, a)
	}
	return "forward", true
}

// flushPending sends the head of a streamed peer answer to the client at once when its body
// had not all arrived with it (the owner flushed its head for a slow origin body, or the
// owner's body is large): held in the write buffer for body bytes, a slow origin behind the
// peer hop delayed the client's first byte as the owner's own clients are no longer delayed.
func flushPending(x *exchange, a *answer) {
	if a.pending {
		x.resp.FlushHead()
	}
}

// ownerSilent is forwardWith's result for an owner that sent nothing within
// cluster.forward_timeout: the forwarding node serves the request itself.
const ownerSilent = "owner-silent"

// connectTimedOut is forwardWith's result for a connect to the owner that timed out
// (forwardTo tries it again while the owner stays in the ring).
const connectTimedOut = "connect-timed-out"

// peerLeft reports a forward failed by prune closing its connection, or refused a new one,
// because its peer left the ring.
func peerLeft(err error) bool {
	return errors.Is(err, errPeerGone) || errors.Is(err, net.ErrClosed)
}

// peerError answers a request whose owner received it and failed before its head: an origin
// failure for this request. The connection closes after it, as after a cut body.
func (p *pipeline) peerError(x *exchange, owner ring.Member, err error) {
	p.log.Warn("peer failed after receiving the request", "peer", owner.Name, "err", err)
	var ne net.Error
	if errors.As(err, &ne) && ne.Timeout() {
		plainError(x, http.StatusGatewayTimeout, "gateway timeout: peer "+owner.Name+" did not answer in time")
	} else {
		plainError(x, http.StatusBadGateway, "bad gateway: peer "+owner.Name+" failed")
	}
	mine := forwarded(p.name, fwdMiss, 0).String()
	x.resp.Head().Set("Cache-Status", mine)
	x.resp.SetConnectionClose()
}

// errPeerCut is a hot copy's body the owner cut short (forwardWith answers 502 for it).
var errPeerCut = errors.New("edge: peer response body cut short")

// peerIdle is how long a peer connection may wait idle before reuse: below the peer's own
// keep-alive limit (limits.idle_timeout, the same on every member), so that no request is
// written into a connection the peer is closing.
func peerIdle(rt *settings) time.Duration {
	if d := rt.cfg.Limits.IdleTimeout.D(); d > 0 {
		return d / 2
	}
	return 30 * time.Second
}

// hotCandidate reports whether a forwarded response is popular and small enough to keep a
// short-lived local copy of. Popular means asked for at least twice in one hot_ttl window.
func (p *pipeline) hotCandidate(rt *settings, key string, status, length int, h *fieldList) bool {
	if !rt.cfg.Cache.HotLocal || status != http.StatusOK || length < 0 || length > hotMaxObject || len(h.Peek("Vary")) > 0 {
		return false
	}
	return p.popularity.seen(key, p.now(), rt.cfg.Cache.HotTTL.D()) >= 2
}

// peerCopy is when an object a peer sent was fetched and, at the latest, filled.
type peerCopy struct {
	sent, received time.Time // request_time and response_time (RFC 9111 section 4.2.3), n.now
	generation     generations
	// filled is a wall-clock time no later than the start of the peer's own fill of the
	// object (peerFilled): a purge applied here at or after it may be one the copy predates.
	filled time.Time
	// stale: the peer said it served the object stale (its Cache-Status ttl was negative),
	// e.g. soft-purged while it revalidates, whatever Age and max-age say.
	stale bool
}

// staleAnswer reports a Cache-Status list in which a cache says it served a stale response:
// a negative ttl (RFC 9211 section 2.5). A key parameter quoted with ";" in it may read as
// stale: that only costs a hot copy.
func staleAnswer(cacheStatus string) bool {
	_, owner := splitOwnerMember(cacheStatus)
	for param := range strings.SplitSeq(owner, ";") {
		if strings.HasPrefix(trimOWSString(param), "ttl=-") {
			return true
		}
	}
	return false
}

// splitOwnerMember splits a peer's Cache-Status into the members of the caches upstream of
// the origin (RFC 9211 section 2: the owner keeps them first) and the owner's own, the last:
// only the owner's says whether its answer was stale, and only the upstream ones belong to a
// copy of it. Every Shoal member has parameters, so the owner's starts at the last ", shoal;"
// (or is the whole value).
func splitOwnerMember(v string) (upstream, owner string) {
	if i := strings.LastIndex(v, ", "+cacheName+";"); i >= 0 {
		return v[:i], v[i+2:]
	}
	return "", v
}

// peerFilled bounds from below when the peer's fill of an object began, by the peer's own
// clock intervals only (no clock of two machines is compared): the peer answered after
// wallSent, its Age field (whole seconds, floored: one more second) is at least how long it
// held the object, and its fill ran for at most cache.fill_timeout before it stored it (a
// fill this request joined may have started before it).
func peerFilled(rt *settings, h httpcache.Header, wallSent time.Time) time.Time {
	age := time.Duration(0)
	if v, err := strconv.ParseInt(trimOWSString(h.Get("Age")), 10, 64); err == nil && v > 0 {
		age = time.Duration(min(v, int64(1<<31))) * time.Second
	}
	return wallSent.Add(-age - time.Second - rt.cfg.Cache.FillTimeout.D())
}

// keepCopy stores an object a peer sent: a hot copy for at most ttl beyond its current age,
// or (ttl 0) an adopted object with its whole remaining freshness. It is an ordinary store
// object, so purges remove it like any other. It reports whether the store took it.
//
// A peer applies a purge on its own schedule: a node that already applied one may forward a
// request to an owner that has not, and get back the object the purge removed here. The
// generation read at the forward's start is already past that purge, so Set alone would
// take the copy; the copy is refused when a purge matching it was applied here since the
// peer's fill began (copied.filled). A soft purge counts too: a hot copy is never served
// stale. An answer already stale when it arrived (the owner serving while it revalidates,
// or after an origin error) is not kept either.
func (p *pipeline) keepCopy(rt *settings, key string, status int, header httpcache.Header, body []byte, copied peerCopy, ttl time.Duration) bool {
	dropOwnerMember(&header)
	resp := httpcache.Response{Status: status, Header: header, RequestTime: copied.sent, ResponseTime: copied.received}
	d := rt.policy.Storable(httpcache.Request{Method: "GET"}, resp)
	if !d.Store || header.Has("Set-Cookie") {
		return false
	}
	if copied.stale || rt.policy.Evaluate(httpcache.Request{Method: "GET"}, resp, d, copied.received).State != httpcache.Fresh {
		return false
	}
	if ttl > 0 {
		if limit := httpcache.CurrentAge(resp, copied.received) + ttl; d.Lifetime > limit {
			d.Lifetime = limit
		}
		d.StaleWhileRevalidate, d.StaleIfError = 0, 0 // a stale hot copy is dropped, not served
	}
	meta := cachestore.NewMeta(d, header)
	meta.Hot = ttl > 0
	obj := &cachestore.Object{Key: key, URL: key, Status: int32(status), Header: httpcache.Pack(header), Body: body,
		RequestTime: cachestore.StampOf(copied.sent), ResponseTime: cachestore.StampOf(copied.received), Generation: copied.generation.memory,
		Tags: cachestore.NewTags(surrogateKeys(header)...), Meta: meta}
	obj.Compact()
	if p.store.PurgedSince(obj, copied.filled) {
		p.log.Debug("peer copy older than a purge applied here", "key", key)
		return false
	}
	if meta.Hot {
		// Memory only: diskRecord already skips a key this node does not own, and diskGen 0
		// keeps eviction from writing it after a ring change made this node the owner. The
		// disk keeps no cap on lifetime: read back, it would be an owner object with the
		// original's whole freshness.
		return p.store.Set(obj)
	}
	return p.setObject(obj, copied.generation.disk)
}

// dropOwnerMember takes the owner's Cache-Status member off a copy the node keeps: it
// described the owner's answer, and each hit on the copy writes the node's own. The
// members before it are the origin's, kept as the owner keeps them (splitOwnerMember).
func dropOwnerMember(h *httpcache.Header) {
	upstream, _ := splitOwnerMember(storedList(httpcache.ViewOf(*h), "Cache-Status"))
	h.Del("Cache-Status")
	if upstream != "" {
		h.Add("Cache-Status", upstream)
	}
}

func joinList(a, b string) string {
	if a == "" {
		return b
	}
	return a + ", " + b
}

// peerBody streams a peer's response to the client and gives the connection back (or closes
// it) when fasthttp closes it: reused only when the body was read to its end.
type peerBody struct {
	a      *answer
	finish func(reuse bool)
	length int64 // Content-Length, -1 without
	read   int64
	eof    bool
	closed bool
}

func (b *peerBody) Read(p []byte) (int, error) {
	if b.eof {
		return 0, io.EOF
	}
	s := b.a.body()
	if s == nil {
		b.eof = true
		return 0, io.EOF
	}
	n, err := s.Read(p)
	b.read += int64(n)
	// fasthttp stops reading a Content-Length body after its last byte, before the EOF.
	if err == io.EOF || (b.length >= 0 && b.read >= b.length) {
		b.eof = true
	}
	return n, err
}

func (b *peerBody) Close() error {
	if b.closed {
		return nil
	}
	b.closed = true
	b.finish(b.eof)
	b.a.free()
	return nil
}

// adoptedBody streams an object adopted from the runner-up (forwardWith) to the client and
// hands keep the whole body once its last byte was read: the client of a rejoining owner
// gets its first byte as a forward's client does, not after the whole object (up to
// max_object_size) crossed the peer hop.
type adoptedBody struct {
	*peerBody
	whole []byte // capacity: the runner-up's Content-Length
	keep  func(whole []byte)
}

func (b *adoptedBody) Read(p []byte) (int, error) {
	n, err := b.peerBody.Read(p)
	if len(b.whole)+n <= cap(b.whole) {
		b.whole = append(b.whole, p[:n]...)
	} else {
		b.keep = nil // more than announced: no object to keep
	}
	return n, err
}

func (b *adoptedBody) Close() error {
	if b.keep != nil && b.peerBody.eof && len(b.whole) == cap(b.whole) {
		b.keep(b.whole)
	}
	b.keep = nil
	return b.peerBody.Close()
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
