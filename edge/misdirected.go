package edge

import (
	"crypto/tls"
	"net"
	"net/netip"
	"strings"
)

// misdirected reports whether a request for host (the target's name, without port) came on a
// TLS connection whose certificate does not cover it: RFC 9110 section 7.4 lets the server
// refuse it with 421 (Misdirected Request), and RFC 9113 section 9.1.1 expects it of a server
// an HTTP/2 client reached by reusing a connection for another origin. The connection's
// certificate is the one the client's SNI selected; a request for the SNI name itself, or on
// a connection without SNI (a client that dialled an address), is not looked at, as the
// client chose this connection for that name knowingly; nor is a request for an address
// rather than a name (a client that dialled the node's address and named it), which matches
// no site's host routes and no certificate name is at stake for. Without the check a client that
// verified the certificate for one site would be answered for another on its connection, the
// request field and the handshake disagreeing (domain fronting, which CDNs refuse the same
// way).
//
// A connection from a front proxy in trusted_proxies is not looked at either: such a proxy
// (HAProxy with a fixed "sni", Envoy, nginx with proxy_ssl_name) keeps a pool of connections
// to the node made with one name and sends every site's requests over them, so each host but
// that name got 421. It is trusted to have checked its own clients' names.
func (p *pipeline) misdirected(x *exchange, rt *settings, host string) bool {
	if x.sni == "" || p.certs == nil || x.forwarded || rt.trusted(x.remote) {
		return false
	}
	sni := strings.TrimSuffix(x.sni, ".")
	if strings.EqualFold(sni, host) || isIPHost(host) {
		return false
	}
	return !p.certs.Covers(sni, host)
}

// serverName is the SNI of an HTTP/1.1 connection over TLS, or "".
func serverName(c net.Conn) string {
	if tc, ok := c.(interface{ ConnectionState() tls.ConnectionState }); ok {
		return tc.ConnectionState().ServerName
	}
	return ""
}

// isIPHost reports whether the target's name is an IP address literal (an IPv6 one in
// brackets).
func isIPHost(host string) bool {
	_, err := netip.ParseAddr(strings.TrimSuffix(strings.TrimPrefix(host, "["), "]"))
	return err == nil
}
