package edge

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"net"
	"net/http"
	"sync"
	"time"

	"github.com/shoal-cdn/shoal/conf"
	"github.com/shoal-cdn/shoal/edge/tlscert"
)

// handshakeTimeout bounds a TLS handshake, so idle half-open connections cannot pile up.
const handshakeTimeout = 10 * time.Second

// handshakeLimit bounds a TLS handshake: handshakeTimeout, or limits.read_timeout when that is
// shorter, as nginx's client_header_timeout bounds its handshake. A client that opened the
// connection and sends nothing was held handshakeTimeout whatever read_timeout said.
func (n *Node) handshakeLimit() time.Duration {
	if l := n.tlsFeed.limits.Load(); l != nil && l.read > 0 && l.read < handshakeTimeout {
		return l.read
	}
	return handshakeTimeout
}

// startHTTPS binds listen.https; serveTLS, set here, starts serving it. Handshakes happen
// here, once, offering h2 then http/1.1 (ALPN): connections that negotiate h2 go to the
// node's HTTP/2 server (edge/h2, h2serve.go), the rest to the fasthttp server generations
// through their own connection feed.
func (n *Node) startHTTPS(cfg *conf.Config) error {
	certs, err := tlscert.Load(cfg.TLS.Certificates)
	if err != nil {
		return fmt.Errorf("tls: %w", err)
	}
	ln, err := net.Listen("tcp", cfg.Listen.HTTPS)
	if err != nil {
		return conf.At("listen.https", err)
	}
	n.certs, n.httpsLn = certs, ln
	n.pipeline.certs = certs
	h1 := newConnQueue(ln.Addr())
	n.tlsFeed = startGatedFeed(h1, &n.gate, nil, true) // acceptTLS counted them
	n.serveTLS = func() {
		go n.acceptTLS(ln, certs.TLSConfig(), h1)
	}
	return nil
}

// acceptTLS completes each handshake in its own goroutine and routes by ALPN.
func (n *Node) acceptTLS(ln net.Listener, cfg *tls.Config, h1 *connQueue) {
	defer h1.Close()
	for {
		c, err := ln.Accept()
		if err != nil {
			var ne net.Error
			if errors.As(err, &ne) && ne.Timeout() {
				continue
			}
			return
		}
		ip := remoteAddr(c.RemoteAddr())
		// Counted for the connection's life, whichever protocol it negotiates.
		if why := n.gate.enterWhy(ip); why != admitted {
			n.refuseTLS(c, cfg, why)
			continue
		}
		go func() {
			tc := tls.Server(c, cfg)
			c.SetDeadline(time.Now().Add(n.handshakeLimit()))
			if err := tc.Handshake(); err != nil {
				n.gate.leave(ip)
				if plainHTTPOnTLS(err) {
					n.metrics.rejected.WithLabelValues("plain_http").Inc()
					lingerClose(c, c) // the rest of its request is still coming (linger.go)
				} else {
					n.metrics.rejected.WithLabelValues("tls_handshake").Inc()
				}
				c.Close()
				return
			}
			c.SetDeadline(time.Time{})
			if tc.ConnectionState().NegotiatedProtocol == "h2" {
				n.serveH2(tc)
				n.gate.leave(ip)
				return
			}
			// Still counted: the HTTP/1.1 feed gives its place back when it closes.
			if !h1.push(tc) {
				n.gate.leave(ip)
				tc.Close()
			}
		}()
	}
}

// connQueue is a net.Listener fed with connections accepted elsewhere.
type connQueue struct {
	addr   net.Addr
	conns  chan net.Conn
	once   sync.Once
	closed chan struct{}
}

func newConnQueue(addr net.Addr) *connQueue {
	return &connQueue{addr: addr, conns: make(chan net.Conn), closed: make(chan struct{})}
}

func (q *connQueue) push(c net.Conn) bool {
	select {
	case q.conns <- c:
		return true
	case <-q.closed:
		return false
	}
}

func (q *connQueue) Accept() (net.Conn, error) {
	select {
	case c := <-q.conns:
		return c, nil
	case <-q.closed:
		return nil, net.ErrClosed
	}
}

func (q *connQueue) Close() error {
	q.once.Do(func() { close(q.closed) })
	return nil
}

func (q *connQueue) Addr() net.Addr { return q.addr }

// HTTPSAddr is the bound HTTPS address ("" without one).
func (n *Node) HTTPSAddr() string {
	if n.httpsLn == nil {
		return ""
	}
	return n.httpsLn.Addr().String()
}

func (n *Node) stopHTTPS(ctx context.Context) error {
	if n.httpsLn == nil {
		return nil
	}
	n.httpsLn.Close()
	n.tlsFeed.close()
	n.tlsFeed.drain(drainReads)
	return nil
}

// plainHTTPNotice is the answer to plain HTTP on the TLS listener.
const plainHTTPNotice = "plain HTTP request sent to the HTTPS port\n"

// plainHTTPOnTLS answers a client that spoke plain HTTP to the TLS listener (a health check
// or a URL with the wrong scheme) with a plaintext 400 saying so, as nginx and Go's net/http
// do, where it got a TLS alert its HTTP parser reads as garbage; it reports whether err was
// such a handshake. The connection is closed by the caller.
func plainHTTPOnTLS(err error) bool {
	var re tls.RecordHeaderError
	if !errors.As(err, &re) || re.Conn == nil || !looksLikeHTTP(re.RecordHeader[:]) {
		return false
	}
	re.Conn.SetWriteDeadline(time.Now().Add(time.Second))
	fmt.Fprintf(re.Conn, "HTTP/1.1 400 Bad Request\r\nDate: %s\r\nContent-Type: text/plain; charset=utf-8\r\n"+
		"Content-Length: %d\r\nCache-Control: no-store\r\nConnection: close\r\n\r\n%s",
		time.Now().UTC().Format(http.TimeFormat), len(plainHTTPNotice), plainHTTPNotice)
	return true
}

// looksLikeHTTP reports whether the first five bytes of a connection start an HTTP/1 request
// line: an upper-case method token and a space, or a whole method of five letters.
func looksLikeHTTP(hdr []byte) bool {
	for i, c := range hdr {
		if c == ' ' && i > 0 {
			return true
		}
		if c < 'A' || c > 'Z' {
			return false
		}
	}
	return len(hdr) > 0
}
