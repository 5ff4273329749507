package edge

import (
	"errors"
	"net"
	"sync"
	"sync/atomic"
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
	clients map[string]*peerClient
	// draining: the peer ports of members last seen draining (prune). A member that leaves
	// from there is finishing what it was sent (Shutdown's drain), not frozen.
	draining map[string]bool
}

// peerClient is one peer port's client and every connection it dialled, idle or carrying a
// forward, so that a peer the ring drops can have them all closed (prune).
type peerClient struct {
	hc    *fasthttp.HostClient
	mu    sync.Mutex
	conns map[*peerConn]struct{}
	gone  bool // pruned: the client dials nothing more
}

// peerConnectTimeout bounds a connect to a peer port. It covers one lost SYN (Linux
// retransmits it after the 1 s initial RTO, RFC 6298) and a busy node's scheduler, as
// HAProxy advises for "timeout connect": at 1 s, a burst of forwards to one owner on a
// starved machine failed to connect by the hundreds and each was filled from the origin by
// the node asked (TestCluster_oneOriginFetchForAColdObject: 208 "i/o timeout" dials, 2
// origin fetches). It stays below cluster.forward_timeout's default, which includes it.
const peerConnectTimeout = 3 * time.Second

// testHookPeerDial, when set, wraps the dial of each peer client made after (a test makes
// connects to an owner time out).
var testHookPeerDial func(fasthttp.DialFunc) fasthttp.DialFunc

// errPeerGone fails a forward whose peer left the ring while it waited, or a dial to it after.
var errPeerGone = errors.New("edge: peer left the ring")

func (p *peerClients) get(addr string, timeout time.Duration) *fasthttp.HostClient {
	p.mu.Lock()
	defer p.mu.Unlock()
	if c, ok := p.clients[addr]; ok {
		return c.hc
	}
	if p.clients == nil {
		p.clients = map[string]*peerClient{}
	}
	c := &peerClient{conns: map[*peerConn]struct{}{}}
	// origin.RoundTrip reads through it: its connections bound each read and write by the
	// fill timeout, and its connect failures are the only ones that try the next owner.
	dial := origin.Dialer(peerConnectTimeout, timeout)
	if testHookPeerDial != nil {
		dial = testHookPeerDial(dial)
	}
	c.hc = &fasthttp.HostClient{
		Addr:                          addr,
		Name:                          "shoal-peer",
		NoDefaultUserAgentHeader:      true,
		StreamResponseBody:            true,
		DisableHeaderNamesNormalizing: true,
		DisablePathNormalizing:        true,
		MaxConns:                      4096,
		MaxIdleConnDuration:           60 * time.Second,
		Dial:                          c.dial(dial),
	}
	p.clients[addr] = c
	return c.hc
}

// dial dials with dial and keeps the connection in c.conns until it closes.
func (c *peerClient) dial(dial fasthttp.DialFunc) fasthttp.DialFunc {
	return func(addr string) (net.Conn, error) {
		c.mu.Lock()
		gone := c.gone
		c.mu.Unlock()
		if gone {
			// A forward retrying on a new connection after prune closed its own (a closed
			// connection passes for one the peer closed while idle) must not reach a peer that
			// answers nothing: a frozen process's kernel still accepts connections.
			return nil, errPeerGone
		}
		conn, err := dial(addr)
		if err != nil {
			return nil, err
		}
		pc := &peerConn{Conn: conn, client: c}
		c.mu.Lock()
		if c.gone {
			c.mu.Unlock()
			conn.Close()
			return nil, errPeerGone
		}
		c.conns[pc] = struct{}{}
		c.mu.Unlock()
		return pc, nil
	}
}

// closeAll closes the connections of c that are idle or wait for an answer, and dials no
// more: the peer left the ring. A forward waiting for its answer fails at once with nothing
// received, and forwardWith serves it from the next owner or this node. A connection whose
// answer is arriving (a body streaming from a peer declared dead while it still sends, or
// leaving after it) is left to finish, within its inactivity bound. graceful (the peer was
// draining before it left) closes only idle connections: the leaver answers what it was sent
// before it exits, as HAProxy's soft stop does; cutting those forwards fetched each of them
// from the origin a second time, in a burst, just as the leaver's keys moved here.
func (c *peerClient) closeAll(graceful bool) {
	c.mu.Lock()
	c.gone = true
	conns := make([]*peerConn, 0, len(c.conns))
	for pc := range c.conns {
		if !graceful && pc.awaiting.Load() {
			conns = append(conns, pc)
		}
	}
	c.mu.Unlock()
	for _, pc := range conns {
		pc.Close()
	}
	c.hc.CloseIdleConnections()
}

// peerConn is a connection of a peerClient. NetConn unwraps it for origin's inactivity bounds.
type peerConn struct {
	net.Conn
	client *peerClient
	// awaiting: a request was written and no byte of its answer read yet but the owner's
	// 102 Processing (processing.go): an owner that said it waits for its origin and then
	// froze or died holds the forward as one that said nothing would.
	awaiting atomic.Bool
}

func (pc *peerConn) NetConn() net.Conn { return pc.Conn }

func (pc *peerConn) Write(b []byte) (int, error) {
	pc.awaiting.Store(true)
	return pc.Conn.Write(b)
}

func (pc *peerConn) Read(b []byte) (int, error) {
	n, err := pc.Conn.Read(b)
	// The owner writes its 102 whole, before anything else, so it arrives as one read (one
	// split or joined to the answer's head clears awaiting: the forward is then never cut,
	// as before the 102).
	if n > 0 && !(pc.awaiting.Load() && string(b[:n]) == processingLine) {
		pc.awaiting.Store(false)
	}
	return n, err
}

func (pc *peerConn) Close() error {
	pc.client.mu.Lock()
	delete(pc.client.conns, pc)
	pc.client.mu.Unlock()
	return pc.Conn.Close()
}

// prune closes the clients of peers that left the ring, and with them the forwards still
// waiting on those peers: a frozen owner (SIGSTOP, a hung host) accepts connections and
// answers nothing, and held every request forwarded to it for cache.fill_timeout, long after
// memberlist had declared it dead.
//
// A member last seen draining or leaving keeps its forwards in flight (closeAll's graceful),
// unless it is among failed (ring.Failed: it went out of the view without announcing its
// leave): a member frozen, cut off or killed in its drain would hold them for
// cache.fill_timeout, its 102 Processing having already answered forward_timeout.
func (p *peerClients) prune(members, failed []ring.Member) {
	live, draining := map[string]bool{}, map[string]bool{}
	for _, m := range members {
		live[m.PeerAddr] = true
		if m.State == ring.StateDraining || m.State == ring.StateLeaving {
			draining[m.PeerAddr] = true
		}
	}
	type left struct {
		c        *peerClient
		graceful bool
	}
	failedAddr := map[string]bool{}
	for _, m := range failed {
		failedAddr[m.PeerAddr] = true
	}
	var gone []left
	p.mu.Lock()
	for addr, c := range p.clients {
		if !live[addr] {
			gone = append(gone, left{c, p.draining[addr] && !failedAddr[addr]})
			delete(p.clients, addr)
		}
	}
	p.draining = draining
	p.mu.Unlock()
	for _, l := range gone {
		l.c.closeAll(l.graceful)
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
