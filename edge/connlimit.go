package edge

import (
	"crypto/tls"
	"io"
	"net"
	"net/netip"
	"sync"
	"time"
)

// connGate keeps limits.max_conns and limits.max_conns_per_ip, one count for every client
// connection as HAProxy's maxconn and nginx's worker_connections count them: plain HTTP/1.1
// from its accept (the feed's connFeed.gate), listen.https from its accept through its
// handshake and then as HTTP/1.1 or HTTP/2 (acceptTLS), listen.h2c (acceptH2C), each until
// it closes. Before it was one count, HTTP/1.1 and the rest were counted apart, so a node
// held up to twice max_conns; before that, a client past the limits got every HTTP/2
// connection and every connection that never finished its handshake.
//
// Concurrency: every method is safe for concurrent use.
type connGate struct {
	mu       sync.Mutex
	total    int
	perIP    map[netip.Addr]int
	max      int // 0: unbounded
	maxPerIP int // 0: unbounded
}

// setLimits applies limits.max_conns and limits.max_conns_per_ip (a reload's too):
// connections already in keep what they hold, new ones are counted against the new limits,
// with those already in counted (each address is counted whatever the limits, so a reload
// that sets max_conns_per_ip counts the connections opened before it).
func (g *connGate) setLimits(max, perIP int) {
	g.mu.Lock()
	g.max, g.maxPerIP = max, perIP
	g.mu.Unlock()
}

// enter counts a connection from ip, or reports false when either limit is reached; then
// the caller closes it uncounted.
func (g *connGate) enter(ip netip.Addr) bool { return g.enterWhy(ip) == admitted }

// Why enterWhy refused a connection.
const (
	admitted = iota
	overMaxConns
	overMaxConnsPerIP
)

// enterWhy is enter, saying which limit refused.
func (g *connGate) enterWhy(ip netip.Addr) int {
	g.mu.Lock()
	defer g.mu.Unlock()
	if g.max > 0 && g.total >= g.max {
		return overMaxConns
	}
	if g.maxPerIP > 0 && g.perIP[ip] >= g.maxPerIP {
		return overMaxConnsPerIP
	}
	if g.perIP == nil {
		g.perIP = make(map[netip.Addr]int)
	}
	g.perIP[ip]++
	g.total++
	return admitted
}

// leave uncounts a connection enter counted.
func (g *connGate) leave(ip netip.Addr) {
	g.mu.Lock()
	defer g.mu.Unlock()
	g.total--
	if n, ok := g.perIP[ip]; ok {
		if n <= 1 {
			delete(g.perIP, ip)
		} else {
			g.perIP[ip] = n - 1
		}
	}
}

// admit counts c at the gate, or closes it and counts the refusal: false then.
func (n *Node) admit(c net.Conn) (netip.Addr, bool) {
	ip := remoteAddr(c.RemoteAddr())
	if n.gate.enter(ip) {
		return ip, true
	}
	n.metrics.rejected.WithLabelValues("max_conns").Inc()
	c.Close()
	return ip, false
}

// maxTLSRefusals bounds the refused listen.https connections whose handshake runs so that
// they can be told why (refuseTLS): past it they are closed at once, so connections over
// the limits cost no more than this many handshakes at a time.
const maxTLSRefusals = 64

// refuseTLS answers a listen.https connection the gate refused as refuseH1 answers a plain
// one, after its handshake: 429 or 503 to HTTP/1.1, as nginx's limit_conn answers after TLS.
// One that negotiates h2, or past maxTLSRefusals, is closed (counted the same).
func (n *Node) refuseTLS(c net.Conn, cfg *tls.Config, why int) {
	if n.tlsRefusing.Add(1) > maxTLSRefusals {
		n.tlsRefusing.Add(-1)
		n.metrics.rejected.WithLabelValues("max_conns").Inc()
		c.Close()
		return
	}
	go func() {
		defer n.tlsRefusing.Add(-1)
		tc := tls.Server(c, cfg)
		c.SetDeadline(time.Now().Add(min(n.handshakeLimit(), refuseTimeout)))
		if tc.Handshake() != nil || tc.ConnectionState().NegotiatedProtocol == "h2" {
			n.metrics.rejected.WithLabelValues("max_conns").Inc()
			c.Close()
			return
		}
		n.refuseH1(tc, why)
	}()
}

// refusedHeads are the answers to an HTTP/1.1 connection over a limit, as fasthttp wrote
// them when it kept the limits (429 for one address's, 503 for the node's), sent before
// the request is read.
var refusedHeads = [...]string{
	overMaxConns:      "HTTP/1.1 503 Service Unavailable\r\nContent-Type: text/plain\r\nContent-Length: 29\r\nConnection: close\r\n\r\ntoo many connections (node)\r\n",
	overMaxConnsPerIP: "HTTP/1.1 429 Too Many Requests\r\nContent-Type: text/plain\r\nContent-Length: 40\r\nConnection: close\r\n\r\ntoo many connections from your address\r\n",
}

// refuseTimeout bounds the write of a refusal: a client that reads nothing holds no goroutine.
const refuseTimeout = time.Second

// refuseH1 answers an HTTP/1.1 connection the feed's gate refused and closes it (on its own
// goroutine: a TLS write may wait for the client).
func (n *Node) refuseH1(c net.Conn, why int) {
	n.metrics.rejected.WithLabelValues("max_conns").Inc()
	c.SetWriteDeadline(time.Now().Add(refuseTimeout))
	io.WriteString(c, refusedHeads[why])
	c.Close()
}
