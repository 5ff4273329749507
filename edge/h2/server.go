package h2

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"net"
	"sync"
	"time"
)

// Server serves HTTP/2 connections to one Handler. Construct it with NewServer; its methods
// are safe for concurrent use.
type Server struct {
	cfg Config
	h   Handler
	m   *metrics

	mu       sync.Mutex
	conns    map[*conn]struct{}
	shutdown bool
	idle     chan struct{} // closed when shutdown is set and the last connection ended
}

// NewServer checks cfg (see Config for the defaults of zero fields) and returns a server
// that hands every request to h.
func NewServer(cfg Config, h Handler) (*Server, error) {
	if h == nil {
		return nil, errors.New("h2: nil Handler")
	}
	cfg, err := cfg.withDefaults()
	if err != nil {
		return nil, err
	}
	m, err := newMetrics(cfg.Registerer)
	if err != nil {
		return nil, err
	}
	return &Server{cfg: cfg, h: h, m: m, conns: make(map[*conn]struct{}), idle: make(chan struct{})}, nil
}

// ServeConn speaks HTTP/2 on nc until the connection ends, then closes nc. nc is either a
// *tls.Conn whose ALPN negotiated "h2" (a handshake not yet done is done here, bounded by
// IdleTimeout), or a plain connection whose client starts with the connection preface (h2c
// with prior knowledge, RFC 9113 §3.3). A TLS connection that negotiated anything else is
// closed.
func (s *Server) ServeConn(nc net.Conn) {
	if tc, ok := nc.(*tls.Conn); ok {
		ctx, cancel := context.WithTimeout(context.Background(), s.cfg.IdleTimeout)
		err := tc.HandshakeContext(ctx)
		cancel()
		if err != nil || tc.ConnectionState().NegotiatedProtocol != "h2" {
			s.cfg.Logger.Debug("h2: refusing TLS connection", "remote", nc.RemoteAddr(), "err", err,
				"alpn", tc.ConnectionState().NegotiatedProtocol)
			nc.Close()
			return
		}
	}
	c := newConn(s, nc)
	if !s.track(c, true) {
		nc.Close()
		return
	}
	defer s.track(c, false)
	c.serve()
}

// Serve accepts connections on ln and serves each on its own goroutine until ln fails or
// Shutdown is called; it returns the Accept error (net.ErrClosed after Close or Shutdown of
// ln). For TLS, pass a tls.NewListener whose config lists "h2" in NextProtos.
func (s *Server) Serve(ln net.Listener) error {
	return Accept(ln, func(c net.Conn) { s.ServeConn(c) })
}

// Accept accepts connections on ln and hands each to serve on its own goroutine until ln
// fails; it returns the Accept error wrapped (net.ErrClosed after Close). A temporary error
// (a timeout, as with EMFILE under a file-descriptor limit) is retried after a backoff that
// doubles from 5 ms to 1 s. It is Serve for a caller that picks the Server per connection
// (Shoal's edge swaps servers on reload).
func Accept(ln net.Listener, serve func(net.Conn)) error {
	var delay time.Duration
	for {
		nc, err := ln.Accept()
		if err != nil {
			var ne net.Error
			if errors.As(err, &ne) && ne.Timeout() {
				delay = min(max(2*delay, 5*time.Millisecond), time.Second)
				time.Sleep(delay)
				continue
			}
			return fmt.Errorf("h2: accept: %w", err)
		}
		delay = 0
		go serve(nc)
	}
}

// Shutdown sends GOAWAY (NO_ERROR, the last stream accepted) on every connection: streams
// already accepted finish, later ones are ignored, and each connection closes when its
// streams are done. It returns when all connections have closed, or ctx's error after
// closing the rest when ctx ends first. Connections served afterwards are closed at once;
// listeners are the caller's to close.
func (s *Server) Shutdown(ctx context.Context) error {
	s.mu.Lock()
	s.shutdown = true
	conns := make([]*conn, 0, len(s.conns))
	for c := range s.conns {
		conns = append(conns, c)
	}
	if len(s.conns) == 0 {
		s.closeIdle()
	}
	s.mu.Unlock()
	for _, c := range conns {
		c.startShutdown()
	}
	select {
	case <-s.idle:
		return nil
	case <-ctx.Done():
		s.mu.Lock()
		for c := range s.conns {
			c.nc.Close()
		}
		s.mu.Unlock()
		return ctx.Err()
	}
}

// track adds (or removes) a connection; adding fails once Shutdown has begun.
func (s *Server) track(c *conn, add bool) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	if add {
		if s.shutdown {
			return false
		}
		s.conns[c] = struct{}{}
		s.m.conns.Inc()
		return true
	}
	delete(s.conns, c)
	s.m.conns.Dec()
	if s.shutdown && len(s.conns) == 0 {
		s.closeIdle()
	}
	return true
}

func (s *Server) closeIdle() {
	select {
	case <-s.idle:
	default:
		close(s.idle)
	}
}
