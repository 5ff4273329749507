package edge

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"sync"
	"time"

	"github.com/shoal-cdn/shoal/conf"
	"github.com/valyala/fasthttp"
)

// serverGen is one fasthttp.Server on the shared listener. A reload that changes limits starts
// a new generation on the same socket and shuts the old one down gracefully: the old one stops
// accepting and finishes its connections; no connection is refused in between.
type serverGen struct {
	srv *fasthttp.Server
}

func (n *Node) startServerGen(l conf.Limits) {
	srv := &fasthttp.Server{
		Handler:                       n.handle,
		Name:                          "",
		NoDefaultServerHeader:         true,
		NoDefaultDate:                 true,
		NoDefaultContentType:          true,
		DisableHeaderNamesNormalizing: true,
		DisablePreParseMultipartForm:  true,
		ReadBufferSize:                int(l.MaxHeaderBytes),
		MaxRequestBodySize:            int(l.MaxBodyBytes),
		ReadTimeout:                   l.ReadTimeout.D(),
		WriteTimeout:                  l.WriteTimeout.D(),
		IdleTimeout:                   l.IdleTimeout.D(),
		Concurrency:                   l.MaxConns,
		MaxConnsPerIP:                 l.MaxConnsPerIP,
		ErrorHandler:                  n.protocolError,
		CloseOnShutdown:               true,
		SecureErrorLogMessage:         true,
		Logger:                        fasthttpLogger{n.log},
	}
	gen := &serverGen{srv: srv}
	for _, old := range n.servers {
		go old.shutdown(context.Background())
	}
	n.servers = []*serverGen{gen}
	for _, feed := range []*connFeed{n.feed, n.tlsFeed} {
		if feed == nil {
			continue
		}
		ln := &handoffListener{feed: feed, addr: feed.ln.Addr(), closed: make(chan struct{})}
		go func() {
			if err := srv.Serve(ln); err != nil {
				n.log.Debug("server generation ended", "err", err)
			}
		}()
	}
}

func (g *serverGen) shutdown(ctx context.Context) error {
	return g.srv.ShutdownWithContext(ctx)
}

// connFeed accepts on the node's socket in one goroutine and hands each connection to
// whichever server generation asks next, so a generation that stops never strands a
// connection it had half accepted.
type connFeed struct {
	ln    net.Listener
	conns chan net.Conn
	done  chan struct{} // closed when the acceptor has stopped
	stop  chan struct{}
	once  sync.Once

	mu   sync.Mutex
	live map[net.Conn]struct{} // handed out and not yet closed, for drain
}

// drain gives every live connection a read deadline of d from now. fasthttp's shutdown
// closes only keep-alive connections between requests; one that was accepted but has not
// sent its request yet (common during a VIP handover) would hold shutdown for the whole
// read timeout. Responses being written are not affected.
func (f *connFeed) drain(d time.Duration) {
	deadline := time.Now().Add(d)
	f.mu.Lock()
	defer f.mu.Unlock()
	for c := range f.live {
		c.SetReadDeadline(deadline)
	}
}

func (f *connFeed) track(c net.Conn) net.Conn {
	f.mu.Lock()
	f.live[c] = struct{}{}
	f.mu.Unlock()
	if tc, ok := c.(*tls.Conn); ok {
		return &trackedTLSConn{Conn: tc, feed: f}
	}
	return &trackedConn{Conn: c, feed: f}
}

func (f *connFeed) untrack(c net.Conn) {
	f.mu.Lock()
	delete(f.live, c)
	f.mu.Unlock()
}

// trackedConn leaves the feed's live set when closed.
type trackedConn struct {
	net.Conn
	feed *connFeed
	once sync.Once
}

func (c *trackedConn) Close() error {
	c.once.Do(func() { c.feed.untrack(c.Conn) })
	return c.Conn.Close()
}

// trackedTLSConn keeps *tls.Conn's methods visible, so fasthttp still sees TLS.
type trackedTLSConn struct {
	*tls.Conn
	feed *connFeed
	once sync.Once
}

func (c *trackedTLSConn) Close() error {
	c.once.Do(func() { c.feed.untrack(c.Conn) })
	return c.Conn.Close()
}

// close stops accepting and closes the socket.
func (f *connFeed) close() {
	f.once.Do(func() {
		close(f.stop)
		f.ln.Close()
	})
}

func startFeed(ln net.Listener) *connFeed {
	f := &connFeed{ln: ln, conns: make(chan net.Conn), done: make(chan struct{}), stop: make(chan struct{}), live: map[net.Conn]struct{}{}}
	go func() {
		defer close(f.done)
		for {
			c, err := ln.Accept()
			if err != nil {
				var ne net.Error
				if errors.As(err, &ne) && ne.Timeout() {
					continue
				}
				return
			}
			select {
			case f.conns <- f.track(c):
			case <-f.stop:
				c.Close()
				return
			}
		}
	}()
	return f
}

// handoffListener is one generation's view of the feed: Close stops its Accept without
// closing the socket that the next generation accepts on.
type handoffListener struct {
	feed   *connFeed
	addr   net.Addr
	once   sync.Once
	closed chan struct{}
}

func (l *handoffListener) Accept() (net.Conn, error) {
	select {
	case <-l.closed:
		return nil, net.ErrClosed
	default:
	}
	select {
	case c := <-l.feed.conns:
		return c, nil
	case <-l.closed:
		return nil, net.ErrClosed
	case <-l.feed.done:
		return nil, net.ErrClosed
	}
}

func (l *handoffListener) Close() error {
	l.once.Do(func() { close(l.closed) })
	return nil
}

func (l *handoffListener) Addr() net.Addr { return l.addr }

// fasthttpLogger sends fasthttp's own messages to slog at debug level.
type fasthttpLogger struct{ log *slog.Logger }

func (l fasthttpLogger) Printf(format string, args ...any) {
	l.log.Debug("fasthttp", "msg", fmt.Sprintf(format, args...))
}
