package conf

import (
	"net"
	"net/netip"
	"strconv"
)

// validPort reports whether port is a decimal TCP/UDP port, 0..65535 (0: any free port). A
// port outside it, or a service name, passed `shoal check` and then failed `shoal run` at
// listen time.
func validPort(port string) bool {
	_, err := strconv.ParseUint(port, 10, 16)
	return err == nil && len(port) <= 5
}

// socket is one address the node binds: the key naming it and its host and port.
type socket struct {
	key, host, port string
}

// wildcard reports whether host binds every address of its family ("", 0.0.0.0, ::): Linux
// refuses another bind of its port on any address.
func wildcard(host string) bool {
	if host == "" {
		return true
	}
	a, err := netip.ParseAddr(host)
	return err == nil && a.IsUnspecified()
}

// sameHost reports whether two listen hosts are the same address (127.0.0.1 and
// ::ffff:127.0.0.1 are).
func sameHost(a, b string) bool {
	if a == b {
		return true
	}
	x, errX := netip.ParseAddr(a)
	y, errY := netip.ParseAddr(b)
	return errX == nil && errY == nil && x.Unmap() == y.Unmap()
}

// distinctSockets fails every listener whose TCP port another listener of this node already
// binds: listen.*, gslb.listen (DNS over TCP too) and cluster.bind (memberlist's TCP). Two
// of them on one port passed `shoal check` and failed at start with "address already in
// use". Port 0 (a free port each) never clashes.
func (v *validator) distinctSockets(c *Config) {
	var socks []socket
	for _, s := range c.Sockets() {
		host, port, err := net.SplitHostPort(s.Addr)
		if s.Addr == "" || err != nil || port == "0" || !validPort(port) {
			continue // empty, or failed by hostPort already
		}
		for _, o := range socks {
			if o.port == port && (sameHost(o.host, host) || wildcard(o.host) || wildcard(host)) {
				v.fail(s.Key, "%q takes the port of %s (%q): one socket each", s.Addr, o.key, net.JoinHostPort(o.host, o.port))
				break
			}
		}
		socks = append(socks, socket{s.Key, host, port})
	}
}

// Socket is an address the node binds and the key that names it.
type Socket struct{ Key, Addr string }

// Sockets lists every address the node binds (empty ones too, for listeners that are off):
// listen.*, gslb.listen (UDP and TCP) and cluster.bind (memberlist's UDP and TCP).
func (c *Config) Sockets() []Socket {
	return []Socket{
		{"listen.http", c.Listen.HTTP}, {"listen.https", c.Listen.HTTPS}, {"listen.h2c", c.Listen.H2C},
		{"listen.peer", c.Listen.Peer}, {"listen.admin", c.Listen.Admin},
		{"gslb.listen", c.GSLB.Listen}, {"cluster.bind", c.Cluster.Bind},
	}
}
