package edge

import (
	"sync"
	"time"

	"github.com/shoal-cdn/shoal/conf"
	"github.com/shoal-cdn/shoal/origin"
	"github.com/shoal-cdn/shoal/purge"
	"github.com/shoal-cdn/shoal/ring"
	"github.com/valyala/fasthttp"
	"github.com/valyala/fasthttp/fasthttpadaptor"
)

// Peer-port header fields. The secret authenticates a cluster member; Forwarded marks a
// request already forwarded once, so the owner serves it itself and never forwards again;
// Adopt marks an owner's adoption probe (forwardWith), no client's request.
const (
	peerSecretHeader = purge.SecretHeader
	forwardedHeader  = "Shoal-Forwarded"
	clientIPHeader   = "Shoal-Client-IP"
	schemeHeader     = "Shoal-Scheme"
	adoptHeader      = "Shoal-Adopt"
)

// peerAuthorized admits a request carrying the cluster secret, or one accepted during a
// rotation (compared in constant time, every one).
func (n *Node) peerAuthorized(got []byte) bool {
	if n.peerSecret == "" || len(got) == 0 {
		return false
	}
	ok := purge.SecretEqual(n.peerSecret, string(got))
	for _, a := range n.peerAccepted {
		ok = purge.SecretEqual(a, string(got)) || ok
	}
	return ok
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
		ctx.SetStatusCode(fasthttp.StatusServiceUnavailable)
		ctx.SetBodyString("purge service not running\n")
		return
	}
	n.purgePeerOnce.Do(func() { n.purgePeerHandler = fasthttpadaptor.NewFastHTTPHandler(n.purge.PeerHandler()) })
	n.purgePeerHandler(ctx)
}

// peerHeadBytes bounds the head of a request a peer forwards (the peer port's read buffer),
// for a client head of at most maxHead bytes (limits.max_header_bytes): twice that, and room
// for the peer fields. A forwarded head is the client's rendered again, which can grow it by
// half: "a:" becomes "a: " (a quarter more for a head of empty fields), "Cookie: a;b;c"
// becomes "Cookie: a; b; c". With maxHead plus 1 KiB, a client head the node accepted was
// refused 431 by the owner.
func peerHeadBytes(maxHead conf.Size) int {
	return int(min(2*int64(maxHead)+1024, 1<<30))
}
