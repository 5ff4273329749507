package edge

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"net"
	"sync"
	"time"

	"github.com/shoal-cdn/shoal/conf"
	"github.com/shoal-cdn/shoal/edge/tlscert"
)

// handshakeTimeout bounds a TLS handshake, so idle half-open connections cannot pile up.
const handshakeTimeout = 10 * time.Second

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
		return fmt.Errorf("listen https %s: %w", cfg.Listen.HTTPS, err)
	}
	n.certs, n.httpsLn = certs, ln
	n.pipeline.certs = certs
	h1 := newConnQueue(ln.Addr())
	n.tlsFeed = startGatedFeed(h1, &n.h1gate, n.refuseH1)
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
		ip, ok := n.admit(c) // until the handshake ends; an h2 connection for its life
		if !ok {
			continue
		}
		go func() {
			tc := tls.Server(c, cfg)
			c.SetDeadline(time.Now().Add(handshakeTimeout))
			if err := tc.Handshake(); err != nil {
				n.gate.leave(ip)
				n.metrics.rejected.WithLabelValues("tls_handshake").Inc()
				c.Close()
				return
			}
			c.SetDeadline(time.Time{})
			if tc.ConnectionState().NegotiatedProtocol == "h2" {
				n.serveH2(tc)
				n.gate.leave(ip)
				return
			}
			n.gate.leave(ip) // fasthttp counts it from here
			if !h1.push(tc) {
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
