package edge

import (
	"net"
	"net/netip"
	"sync"
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
// connections already in keep what they hold, new ones are counted against the new limits.
func (g *connGate) setLimits(max, perIP int) {
	g.mu.Lock()
	g.max, g.maxPerIP = max, perIP
	g.mu.Unlock()
}

// enter counts a connection from ip, or reports false when either limit is reached; then
// the caller closes it uncounted.
func (g *connGate) enter(ip netip.Addr) bool {
	g.mu.Lock()
	defer g.mu.Unlock()
	if g.max > 0 && g.total >= g.max {
		return false
	}
	if g.maxPerIP > 0 {
		if g.perIP[ip] >= g.maxPerIP {
			return false
		}
		if g.perIP == nil {
			g.perIP = make(map[netip.Addr]int)
		}
		g.perIP[ip]++
	}
	g.total++
	return true
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
