package edge

import (
	"bytes"
	"net/netip"
	"sync"
	"time"

	"github.com/shoal-cdn/shoal/origin"
	"github.com/shoal-cdn/shoal/purge"
	"github.com/shoal-cdn/shoal/ring"
	"github.com/valyala/fasthttp"
	"github.com/valyala/fasthttp/fasthttpadaptor"
)

// Peer-port header fields. The secret authenticates a cluster member; Forwarded marks a
// request already forwarded once, so the owner serves it itself and never forwards again.
const (
	peerSecretHeader = purge.SecretHeader
	forwardedHeader  = "Shoal-Forwarded"
	clientIPHeader   = "Shoal-Client-IP"
	schemeHeader     = "Shoal-Scheme"
	forwardedFlag    = "shoal.forwarded"
)

// handlePeer serves the peer port: node-to-node traffic only. Anything without the cluster
// secret is refused and counted.
func (n *Node) handlePeer(ctx *fasthttp.RequestCtx) {
	if !n.peerAuthorized(peekFold(&ctx.Request.Header, peerSecretHeader)) {
		n.metrics.peerRefused.Inc()
		ctx.SetConnectionClose()
		plainError(ctx, fasthttp.StatusForbidden, "forbidden: the peer port serves cluster members only")
		return
	}
	if bytes.HasPrefix(ctx.Path(), []byte(purge.PeerPath)) {
		n.purgePeer(ctx)
		return
	}
	ctx.SetUserValue(forwardedFlag, true)
	if ip, err := netip.ParseAddr(string(peekFold(&ctx.Request.Header, clientIPHeader))); err == nil {
		ctx.SetUserValue(clientIPHeader, ip)
	}
	if string(peekFold(&ctx.Request.Header, schemeHeader)) == "https" {
		ctx.SetUserValue(schemeFlag, true)
	}
	delFold(&ctx.Request.Header, peerSecretHeader)
	delFold(&ctx.Request.Header, clientIPHeader)
	delFold(&ctx.Request.Header, schemeHeader)
	n.handle(ctx)
	// A streamed body goes out after its head has left: fasthttp would otherwise hold a small
	// head in its buffer until the body is written, and a body the origin cuts would close
	// the connection with nothing sent, which the forwarding peer could not tell from a
	// connection closed while idle (see forwardWith).
	ctx.Response.ImmediateHeaderFlush = ctx.Response.IsBodyStream()
}

// peerAuthorized admits a request carrying the cluster secret (compared in constant time).
func (n *Node) peerAuthorized(got []byte) bool {
	return n.peerSecret != "" && len(got) > 0 && purge.SecretEqual(n.peerSecret, string(got))
}

func isForwarded(ctx *fasthttp.RequestCtx) bool {
	v, _ := ctx.UserValue(forwardedFlag).(bool)
	return v
}

// peerClients keeps one keep-alive client per peer port. Requests go through
// origin.RoundTrip over its connections (see forwardWith), not through its Do.
type peerClients struct {
	mu      sync.Mutex
	clients map[string]*fasthttp.HostClient
}

func (p *peerClients) get(addr string, timeout time.Duration) *fasthttp.HostClient {
	p.mu.Lock()
	defer p.mu.Unlock()
	if c, ok := p.clients[addr]; ok {
		return c
	}
	if p.clients == nil {
		p.clients = map[string]*fasthttp.HostClient{}
	}
	c := &fasthttp.HostClient{
		Addr:                          addr,
		Name:                          "shoal-peer",
		NoDefaultUserAgentHeader:      true,
		StreamResponseBody:            true,
		DisableHeaderNamesNormalizing: true,
		DisablePathNormalizing:        true,
		MaxConns:                      4096,
		MaxIdleConnDuration:           60 * time.Second,
		// origin.RoundTrip reads through it: its connections bound each read and write by the
		// fill timeout, and its connect failures are the only ones that try the next owner.
		Dial: origin.Dialer(time.Second, timeout),
	}
	p.clients[addr] = c
	return c
}

// prune closes clients of peers that left.
func (p *peerClients) prune(members []ring.Member) {
	live := map[string]bool{}
	for _, m := range members {
		live[m.PeerAddr] = true
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	for addr, c := range p.clients {
		if !live[addr] {
			c.CloseIdleConnections()
			delete(p.clients, addr)
		}
	}
}

// purgePeer hands purge fan-out and catch-up to the purge service.
func (n *Node) purgePeer(ctx *fasthttp.RequestCtx) {
	if n.purge == nil {
		plainError(ctx, fasthttp.StatusServiceUnavailable, "purge service not running")
		return
	}
	n.purgePeerOnce.Do(func() { n.purgePeerHandler = fasthttpadaptor.NewFastHTTPHandler(n.purge.PeerHandler()) })
	n.purgePeerHandler(ctx)
}
