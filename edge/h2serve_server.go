package edge

import (
	"context"
	"fmt"
	"net"

	"github.com/shoal-cdn/shoal/conf"
	"github.com/shoal-cdn/shoal/edge/h2"
)

// h2Config is the HTTP/2 server's configuration from the node's limits: the header list and
// request content bounds are the HTTP/1.1 listener's, and so are the timeouts
// (limits.read_timeout bounds a header block, as it bounds an HTTP/1.1 head).
func (n *Node) h2Config(l conf.Limits) h2.Config {
	return h2.Config{
		MaxHeaderListSize: uint32(min(int64(l.MaxHeaderBytes), 1<<31-1)),
		MaxHeaderFields:   l.MaxHdr,
		MaxBodyBytes:      int64(l.MaxBodyBytes),
		IdleTimeout:       l.IdleTimeout.D(),
		HeaderTimeout:     l.ReadTimeout.D(), // as the HTTP/1.1 listener bounds a head
		BodyTimeout:       l.ReadTimeout.D(), // and each wait for its content
		WriteTimeout:      l.WriteTimeout.D(),
		StallTimeout:      l.WriteTimeout.D(), // a shut window is a write making no progress
		Logger:            n.log,
		Registerer:        n.registry,
	}
}

// startH2Gen starts serving new HTTP/2 connections (listen.https with ALPN h2, listen.h2c)
// with a server built from l. The previous generation, if any, is shut down gracefully: its
// connections get GOAWAY and finish the streams they have; their clients open the next
// connection on the new generation. Called with n.mu held (Start, Reload).
func (n *Node) startH2Gen(l conf.Limits) error {
	h := h2handler{n: n, strs: newFieldStrings()}
	cfg := n.h2Config(l)
	cfg.Refused = h.refused
	cfg.Rejected = h.rejected
	srv, err := h2.NewServer(cfg, h)
	if err != nil {
		return fmt.Errorf("http/2 server: %w", err)
	}
	if old := n.h2srv.Swap(srv); old != nil {
		// As the fasthttp generations (listener.go): the old one is dropped from view and
		// ends when its last stream does.
		go old.Shutdown(context.Background())
	}
	return nil
}

// serveH2 serves one HTTP/2 connection (a *tls.Conn that negotiated h2, or a cleartext one
// from listen.h2c) on the current generation; it returns when the connection ends.
func (n *Node) serveH2(c net.Conn) {
	srv := n.h2srv.Load()
	if srv == nil {
		c.Close()
		return
	}
	srv.ServeConn(c)
}

// startH2C binds listen.h2c; Start then accepts on it (acceptH2C).
func (n *Node) startH2C(cfg *conf.Config) error {
	ln, err := net.Listen("tcp", cfg.Listen.H2C)
	if err != nil {
		return conf.At("listen.h2c", err)
	}
	n.h2cLn = ln
	return nil
}

// acceptH2C accepts cleartext HTTP/2 connections until the listener closes; each goes to
// the HTTP/2 server of the current generation.
func (n *Node) acceptH2C(ln net.Listener) {
	// returns once the listener is closed: nothing to report
	_ = h2.Accept(ln, func(c net.Conn) {
		ip, ok := n.admit(c)
		if !ok {
			return
		}
		defer n.gate.leave(ip)
		n.serveH2(c)
	})
}

// H2CAddr is the bound listen.h2c address ("" without one).
func (n *Node) H2CAddr() string {
	if n.h2cLn == nil {
		return ""
	}
	return n.h2cLn.Addr().String()
}

// stopH2 closes listen.h2c and shuts every HTTP/2 generation down: GOAWAY (NO_ERROR, the
// last stream accepted), streams in flight finish until ctx ends, then the connections close.
func (n *Node) stopH2(ctx context.Context) error {
	if n.h2cLn != nil {
		n.h2cLn.Close()
	}
	if srv := n.h2srv.Load(); srv != nil {
		return srv.Shutdown(ctx)
	}
	return nil
}
