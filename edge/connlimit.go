package edge

import (
	"io"
	"net"
	"net/netip"
	"sync"
	"time"
)

// connGate keeps limits.max_conns and limits.max_conns_per_ip for the connections fasthttp
// does not count: a listen.https connection from its accept to the end of its TLS handshake
// (one that negotiates HTTP/1.1 is then fasthttp's to count, as a plain one is from its
// accept), and an HTTP/2 connection (listen.https with ALPN h2, listen.h2c) for its whole
// life. Without it a client over the per-address limit, or any clients past max_conns, got
// every HTTP/2 connection they opened, and could hold any number of connections that never
// finish their handshake (each a goroutine and a descriptor for handshakeTimeout). So each
// of the two kinds, HTTP/1.1 and the rest, is bounded by the same limits (HAProxy's and
// nginx's count all connections alike; fasthttp's own count stays where it is, on the hot
// path's connection, and the two are not summed).
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
