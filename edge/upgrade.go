package edge

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"sync"
	"sync/atomic"
	"time"

	"github.com/shoal-cdn/shoal/origin"
)

// Protocol upgrades on HTTP/1.1 (RFC 9110 section 7.8), WebSocket's handshake (RFC 6455)
// above all: a GET without content whose Connection lists "upgrade" and that names a
// protocol in Upgrade is sent to the route's pool, on a connection of its own, with its
// Connection: upgrade and Upgrade fields (hop-by-hop fields every other request loses). A
// 101 from the origin is relayed and both connections become one tunnel, bytes copied both
// ways, as HAProxy does by default and nginx with its documented WebSocket settings; any
// other answer is relayed as an ordinary response. Before, Upgrade was dropped as a
// hop-by-hop field, so a WebSocket handshake reached the origin as a plain GET and never
// upgraded.
//
// A tunnel never touches the cache: the request passes whatever the route says (a 101 is
// never stored). It is closed once either side closes (the other side's write half is
// closed and the rest drained), and when no byte crossed it either way for
// limits.idle_timeout, as HAProxy's "timeout tunnel" and nginx's proxy_read_timeout close
// an idle WebSocket. HTTP/2 has no Upgrade (RFC 9113 section 8.6): its requests pass as
// before.

// upgradeOf is the protocol the request asks to switch to, or nil: an HTTP/1.1 GET without
// content whose Connection lists "upgrade" (asked: dropConnectionListed saw it) and that
// has one Upgrade field.
func upgradeOf(x *exchange, asked bool) []byte {
	if !asked {
		return nil
	}
	if _, ok := x.resp.(*http1Response); !ok || x.forwarded || x.hasBody() ||
		!bytes.Equal(x.req.Method(), []byte("GET")) || !bytes.Equal(x.req.Protocol(), []byte("HTTP/1.1")) {
		return nil
	}
	var upgrade []byte
	n := 0
	for k, v := range x.req.All() {
		if len(k) == len("Upgrade") && bytes.EqualFold(k, []byte("Upgrade")) {
			upgrade, n = v, n+1
		}
	}
	protocols := connectionTokens(upgrade)
	if n != 1 || len(protocols) == 0 {
		return nil
	}
	for _, proto := range protocols {
		// h2c (RFC 7540 section 3.2, removed by RFC 9113): an origin that takes it speaks
		// HTTP/2 over the tunnel, and every request on it then reaches the origin unseen by
		// the routes, access rules and limits ("h2c smuggling"). nginx and HAProxy never
		// pass it; the request is served as a plain GET, its Upgrade dropped.
		if bytes.EqualFold(proto, []byte("h2c")) {
			return nil
		}
	}
	return trimOWS(upgrade)
}

// switchedToAsked reports whether the protocols the Upgrade of a 101 (got) names are all
// among those the request asked for (asked): RFC 9110 section 7.8, a server "MUST NOT switch
// to a protocol that was not indicated by the client", and a 101 names what it switched to.
func switchedToAsked(got string, asked []byte) bool {
	names := connectionTokens([]byte(got))
	if len(names) == 0 {
		return false
	}
	offered := connectionTokens(asked)
	for _, name := range names {
		if !containsFold(offered, name) {
			return false
		}
	}
	return true
}

// serveUpgrade sends an upgrade request (upgradeOf) to r's pool and relays the answer: on 101
// the client's connection is taken from the listener and joined to the origin's.
func (p *pipeline) serveUpgrade(x *exchange, rt *settings, r *route, upgrade []byte) string {
	out := x.outgoing()
	p.originRequestPolicy(x, rt.rulesFor(r), out)
	var ipBuf [len("ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff%") + 16]byte
	setForwardingFields(out, clientIPIn(ipBuf[:0], x.clientAddr()), x.scheme(), p.requestVia(x))
	out.AddBytesKV([]byte("Connection"), []byte("Upgrade"))
	out.AddBytesKV([]byte("Upgrade"), upgrade)
	u, err := r.pool.Upgrade(out, p.borrowedTarget(x, r))
	putOutgoing(out)
	if err != nil {
		p.originError(x, r.pool, err)
		return "error"
	}
	resp := u.Response
	if resp.StatusCode != http.StatusSwitchingProtocols {
		// The origin declined (a page that speaks no WebSocket, a 403, a 426): an answer
		// like any other, read from the tunnel's connection, which closes after it.
		h := x.resp.Head()
		startOwnHead(x, resp.StatusCode)
		h.Del("Date") // the origin's, below
		eachEndToEnd(resp.Header, func(name, value string) { h.Add(name, value) })
		h.Add("Via", p.via())
		x.resp.SetConnectionClose()
		streamBody(x, &declinedUpgrade{r: resp.Body, u: u}, int(max(resp.ContentLength, -1)))
		return "pass"
	}
	if !switchedToAsked(resp.Header.Get("Upgrade"), upgrade) {
		// A tunnel in a protocol the client never offered (or none named) would hand it
		// bytes it cannot read: refused as a broken answer, as a fill refuses a 206 it
		// never asked for.
		u.Close()
		p.originError(x, r.pool, fmt.Errorf("origin switched to %q, asked for %q", resp.Header.Get("Upgrade"), upgrade))
		return "error"
	}
	// RFC 9110 section 7.8: the 101 names the protocol switched to: the origin's own.
	head := make([]byte, 0, 512)
	head = append(head, "HTTP/1.1 101 Switching Protocols\r\n"...)
	eachEndToEnd(resp.Header, func(name, value string) {
		head = append(append(append(append(head, name...), ": "...), value...), "\r\n"...)
	})
	head = append(head, "Via: "+p.via()+"\r\nConnection: Upgrade\r\nUpgrade: "...)
	head = append(head, resp.Header.Get("Upgrade")...)
	head = append(head, "\r\n\r\n"...)
	x.resp.Head().SetStatusCode(http.StatusSwitchingProtocols) // for the access log only
	idle := rt.cfg.Limits.IdleTimeout.D()
	w := x.resp.(*http1Response)
	// the 101 goes out from the hijacker, before the bytes
	p.hijack(w.ctx, func(c net.Conn) {
		if _, err := c.Write(head); err != nil {
			u.Close()
			return
		}
		joinTunnel(c, u, idle)
	})
	return "upgrade"
}

// eachEndToEnd calls f with each end-to-end field of an origin's answer: not the hop-by-hop
// fields, those its Connection lists, or the framing fields (the listener writes its own).
func eachEndToEnd(h http.Header, f func(name, value string)) {
	var listed [][]byte
	for _, v := range h.Values("Connection") {
		listed = append(listed, connectionTokens([]byte(v))...)
	}
	for name, values := range h {
		if isHopByHop([]byte(name)) || framingField([]byte(name)) || containsFold(listed, []byte(name)) {
			continue
		}
		for _, v := range values {
			f(name, v)
		}
	}
}

// declinedUpgrade is the body of an answer other than 101 to an upgrade request: its Close
// ends the origin connection it came on.
type declinedUpgrade struct {
	r io.Reader
	u *origin.Upgraded
}

func (d *declinedUpgrade) Read(p []byte) (int, error) { return d.r.Read(p) }
func (d *declinedUpgrade) Close() error               { return d.u.Close() }

// joinTunnel copies bytes between the client's connection c and the origin's until either
// side ends its stream or fails, or no byte crossed either way for idle (zero: no limit).
// A side that ends its stream (a FIN) has the other side's write half closed, so a closing
// handshake in the new protocol finishes; both connections are closed when both directions
// are done.
func joinTunnel(c net.Conn, u *origin.Upgraded, idle time.Duration) {
	var last atomic.Int64 // when a byte last crossed, Unix nanoseconds
	last.Store(time.Now().UnixNano())
	var wg sync.WaitGroup
	pipe := func(dst net.Conn, src io.Reader, srcConn net.Conn) {
		defer wg.Done()
		buf := make([]byte, 16<<10)
		for {
			if idle > 0 {
				srcConn.SetReadDeadline(time.Now().Add(idle))
			}
			k, err := src.Read(buf)
			if k > 0 {
				last.Store(time.Now().UnixNano())
				if idle > 0 {
					dst.SetWriteDeadline(time.Now().Add(idle))
				}
				if _, werr := dst.Write(buf[:k]); werr != nil {
					break
				}
				continue
			}
			var ne net.Error
			if err != nil && errors.As(err, &ne) && ne.Timeout() && time.Since(time.Unix(0, last.Load())) < idle {
				continue // the other direction is busy: the tunnel is not idle
			}
			if err != nil {
				break
			}
		}
		closeWrite(dst)
	}
	wg.Add(2)
	go pipe(u.Conn, c, c)
	go pipe(c, u.Reader, u.Conn)
	wg.Wait()
	c.Close()
	u.Close()
}

// closeWrite ends c's write stream (a FIN) where it can, else closes it.
func closeWrite(c net.Conn) {
	type closeWriter interface{ CloseWrite() error }
	if cw, ok := c.(closeWriter); ok {
		if cw.CloseWrite() == nil {
			return
		}
	}
	c.Close()
}
