package edge

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/netip"
	"sync"
	"sync/atomic"
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
		Handler:                       n.handleHTTP1,
		Name:                          "",
		NoDefaultServerHeader:         true,
		NoDefaultDate:                 true,
		NoDefaultContentType:          true,
		DisableHeaderNamesNormalizing: true,
		DisablePreParseMultipartForm:  true,
		ReadBufferSize:                int(l.MaxHeaderBytes),
		MaxRequestBodySize:            int(l.MaxBodyBytes),
		// Content is read through small buffers, never sized by its Content-Length
		// (http1content.go); a Content-Length over the limit is answered from the head.
		StreamRequestBody: true,
		HeaderReceived:    headerReceived(int(l.MaxBodyBytes)),
		// No ReadTimeout, WriteTimeout or IdleTimeout: the feeds' sweepers keep
		// limits.read_timeout, write_timeout and idle_timeout (conntimer.go), without the
		// three deadline moves per request fasthttp makes for them.
		// max_conns and max_conns_per_ip are the feeds' (connFeed.gate), counted across
		// generations; fasthttp's own counts would start at 0 with each reload.
		Concurrency:     max(l.MaxConns, fasthttp.DefaultConcurrency),
		ErrorHandler:    n.headError,
		ExpectHandler:   n.expectContinue(int64(l.MaxBodyBytes)),
		ConnState:       n.connState,
		CloseOnShutdown: true,
		// The handler never asks fasthttp for the request's time (the pipeline reads its
		// own clock): without this, fasthttp reads the clock before every request for it.
		LazyRequestTime:       true,
		SecureErrorLogMessage: true,
		Logger:                fasthttpLogger{n.log},
	}
	n.gate.setLimits(l.MaxConns, l.MaxConnsPerIP)
	gen := &serverGen{srv: srv}
	for _, old := range n.servers {
		go old.shutdown(context.Background())
	}
	n.servers = []*serverGen{gen}
	limits := limitsOf(l)
	for _, feed := range []*connFeed{n.feed, n.tlsFeed} {
		if feed == nil {
			continue
		}
		// Connections of the generation before get the new limits too.
		feed.setLimits(limits)
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
//
// A plain TCP connection is handed over as the bare *net.TCPConn: fasthttp writes a response
// larger than its write buffer (a 16 KiB hit) with one writev(2) only to a *net.TCPConn (or
// its own per-IP wrapper of one), and any wrapper of ours cost that hit a second write. So
// the feed learns that such a connection closed from the server's ConnState hook
// (Node.connState), not from a Close method. TLS connections are wrapped (trackedTLSConn):
// they have no writev to lose, and those that negotiate h2 never reach fasthttp.
type connFeed struct {
	ln    net.Listener
	conns chan net.Conn
	done  chan struct{} // closed when the acceptor has stopped
	stop  chan struct{}
	swept chan struct{} // closed when the sweeper has stopped
	rearm chan struct{} // new limits for the sweeper (setLimits)
	once  sync.Once

	// live holds a *liveConn for each connection handed out and not yet closed, for drain,
	// socketOf and the sweeper. It is keyed by RemoteAddr: a *net.TCPConn returns the same
	// address value for its whole life, and so does every wrapper around it (fasthttp's
	// per-IP one, our TLS one), so the key found from the wrapper fasthttp reports is the
	// bare socket's. A sync.Map: the connection's goroutine looks its entry up three times
	// per request (liveOf), and only accepts and closes write.
	live sync.Map
	// hijacked holds the entries of connections handed to a hijacker (a tunnel, a
	// lingering close, an HTTP/1.0 download): out of the sweeper's reach, as the hijacker
	// times them itself, but still counted at the gate until the hijacker is done
	// (Node.hijackEnded) or the connection closes. Before, a hijack gave the place back,
	// so WebSocket tunnels escaped max_conns and max_conns_per_ip.
	hijacked sync.Map

	// gate counts every connection handed out against limits.max_conns and
	// max_conns_per_ip, from its accept until it leaves live, whichever server generation
	// serves it: fasthttp counts per server, so a reload (a new generation) forgot the
	// connections the one before still served. nil: not counted (the peer and admin ports).
	// refuse answers and closes a connection the gate refused. counted: connections arrive
	// counted already (listen.https's, from their accept: acceptTLS) and only leave here.
	gate    *connGate
	refuse  func(c net.Conn, why int)
	counted bool

	limits   atomic.Pointer[connLimits] // what the sweeper enforces; set by startServerGen
	draining atomic.Bool                // drain set read deadlines the sweeper must keep
	expired  atomic.Int64               // connections whose deadline the sweeper moved
}

// drain gives every live connection a read deadline of d from now. fasthttp's shutdown
// closes only keep-alive connections between requests; one that was accepted but has not
// sent its request yet (common during a VIP handover) would hold shutdown for the whole
// read timeout. Responses being written are not affected.
func (f *connFeed) drain(d time.Duration) {
	deadline := time.Now().Add(d)
	f.draining.Store(true)
	f.live.Range(func(_, v any) bool {
		v.(*liveConn).conn.SetReadDeadline(deadline)
		return true
	})
}

// track adds c to live, counted at the gate under ip (when the feed has a gate).
func (f *connFeed) track(c net.Conn, ip netip.Addr) net.Conn {
	if a := c.RemoteAddr(); a != nil {
		lc := &liveConn{conn: c, accepted: time.Now(), seen: ^uint64(0), ip: ip}
		if old, ok := f.live.Swap(a, lc); ok {
			f.left(old.(*liveConn)) // its address was reused before its close was seen
		}
	}
	if tc, ok := c.(*tls.Conn); ok {
		return &trackedTLSConn{Conn: tc, feed: f}
	}
	return c
}

// untrack forgets c, the connection handed out or any wrapper of it; it may be called more
// than once. It is called before the socket closes, so no other connection has c's address
// yet (one refused uncounted by fasthttp is the sweeper's; track handles its address reused).
func (f *connFeed) untrack(c net.Conn) {
	if a := c.RemoteAddr(); a != nil {
		if v, ok := f.live.LoadAndDelete(a); ok {
			f.left(v.(*liveConn))
		}
		if v, ok := f.hijacked.LoadAndDelete(a); ok {
			f.left(v.(*liveConn))
		}
	}
}

// hijack moves c's entry from live to hijacked: it stays counted at the gate.
func (f *connFeed) hijack(c net.Conn) {
	if a := c.RemoteAddr(); a != nil {
		if v, ok := f.live.LoadAndDelete(a); ok {
			f.hijacked.Store(a, v)
		}
	}
}

// left gives lc's place at the gate back; lc has just left live.
func (f *connFeed) left(lc *liveConn) {
	if f.gate != nil {
		f.gate.leave(lc.ip)
	}
}

// liveOf returns c's entry, or nil when c (or the connection it wraps) did not come from
// this feed.
func (f *connFeed) liveOf(c net.Conn) *liveConn {
	if f == nil || c == nil {
		return nil
	}
	a := c.RemoteAddr()
	if a == nil {
		return nil
	}
	v, ok := f.live.Load(a)
	if !ok {
		return nil
	}
	return v.(*liveConn)
}

// socketOf returns the bare TCP connection behind c (what fasthttp hands a handler, perhaps
// wrapped by its per-IP limit), or nil when c did not come from this feed.
func (f *connFeed) socketOf(c net.Conn) *net.TCPConn {
	lc := f.liveOf(c)
	if lc == nil {
		return nil
	}
	tc, _ := lc.conn.(*net.TCPConn)
	return tc
}

// liveOf finds c's entry in the node's feeds (nil if none: the peer port, a test's context).
func (n *Node) liveOf(c net.Conn) *liveConn {
	if lc := n.feed.liveOf(c); lc != nil {
		return lc
	}
	return n.tlsFeed.liveOf(c)
}

// connState is every server generation's ConnState hook: it tells the sweeper when a
// request's first byte arrived and when its response was written (conntimer.go), and a
// connection fasthttp closed leaves the feeds' live sets; one handed to a hijacker (which
// owns it from then on and reads no further request) leaves them too but stays counted
// until hijackEnded. It runs on the connection's goroutine, once per state change.
func (n *Node) connState(c net.Conn, s fasthttp.ConnState) {
	switch s {
	case fasthttp.StateActive:
		n.liveOf(c).active()
	case fasthttp.StateIdle:
		n.liveOf(c).enter(phaseIdle)
	case fasthttp.StateClosed:
		n.hijackEnded(c)
	case fasthttp.StateHijacked:
		for _, f := range []*connFeed{n.feed, n.tlsFeed} {
			if f != nil {
				f.hijack(c)
			}
		}
	}
}

// hijackEnded gives back the places at the gate of c, a connection that closed or whose
// hijacker is done with it (it is closed next); it may be called more than once.
func (n *Node) hijackEnded(c net.Conn) {
	for _, f := range []*connFeed{n.feed, n.tlsFeed} {
		if f != nil {
			f.untrack(c)
		}
	}
}

// hijack has fasthttp hand ctx's connection to h once the handler returns, writing no
// response of its own; the connection stays counted against max_conns and
// max_conns_per_ip until h returns (fasthttp closes it then).
func (p *pipeline) hijack(ctx *fasthttp.RequestCtx, h func(c net.Conn)) {
	ctx.HijackSetNoResponse(true)
	ctx.Hijack(func(c net.Conn) {
		if p.onHijackEnd != nil {
			defer p.onHijackEnd(c)
		}
		h(c)
	})
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

func startFeed(ln net.Listener) *connFeed { return startGatedFeed(ln, nil, nil, false) }

// startGatedFeed starts a feed whose connections are counted at gate (see connFeed.gate),
// or, with counted, arrive counted there.
func startGatedFeed(ln net.Listener, gate *connGate, refuse func(net.Conn, int), counted bool) *connFeed {
	f := &connFeed{ln: ln, conns: make(chan net.Conn), done: make(chan struct{}), stop: make(chan struct{}), swept: make(chan struct{}), rearm: make(chan struct{}, 1),
		gate: gate, refuse: refuse, counted: counted}
	f.limits.Store(limitsOf(conf.Limits{}))
	go f.sweepLoop()
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
			var ip netip.Addr
			if f.gate != nil {
				ip = remoteAddr(c.RemoteAddr())
				if !f.counted {
					if why := f.gate.enterWhy(ip); why != admitted {
						go f.refuse(c, why)
						continue
					}
				}
			}
			select {
			case f.conns <- f.track(c, ip):
			case <-f.stop:
				f.untrack(c)
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
	l.log.Debug("fasthttp", "detail", fmt.Sprintf(format, args...))
}
