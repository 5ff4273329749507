package edge

import (
	"context"
	"errors"
	"net"
	"net/http"

	"github.com/shoal-cdn/shoal/conf"
	"github.com/valyala/fasthttp"
)

// The peer port's server follows limits as the client port's does (listener.go): a reload
// that changes limits starts a new fasthttp.Server generation on the same socket, through a
// feed of its own, and shuts the old one down gracefully. Before, the peer port kept the
// limits it started with (a reload to a smaller max_body_bytes left members' requests bound
// by the old one) and answered a body over its bound with fasthttp's 400.
//
// Its connections keep fasthttp's own timeouts (ReadTimeout, WriteTimeout, IdleTimeout: a
// few members' keep-alive connections, not the client port's many), so the feed's sweeper
// enforces none there; it only hands connections over. Its answers to a head or body over
// the limits are the client port's (headError: 431 or 414, 413, 408, 400), but for content
// from a head without the cluster secret, which peerHeaderReceived bounds to one byte: 403,
// as handlePeer answers a stranger.

// startPeerGen starts a peer server generation with l's limits and shuts the older ones
// down. Called with n.mu held.
func (n *Node) startPeerGen(l conf.Limits) {
	srv := &fasthttp.Server{Handler: n.handlePeer, NoDefaultServerHeader: true, NoDefaultDate: true,
		NoDefaultContentType: true, DisableHeaderNamesNormalizing: true, ReadTimeout: l.ReadTimeout.D(),
		WriteTimeout: l.WriteTimeout.D(), IdleTimeout: l.IdleTimeout.D(),
		MaxRequestBodySize: int(l.MaxBodyBytes), ReadBufferSize: peerHeadBytes(l.MaxHeaderBytes),
		HeaderReceived: n.peerHeaderReceived, ErrorHandler: n.peerHeadError,
		ConnState: n.peerConnState, Logger: fasthttpLogger{n.log}}
	gen := &serverGen{srv: srv}
	for _, old := range n.peerGens {
		go old.shutdown(context.Background())
	}
	n.peerGens = []*serverGen{gen}
	ln := &handoffListener{feed: n.peerFeed, addr: n.peerFeed.ln.Addr(), closed: make(chan struct{})}
	go func() {
		if err := srv.Serve(ln); err != nil {
			n.log.Debug("peer server generation ended", "err", err)
		}
	}()
}

// peerConnState is the peer servers' ConnState hook: a connection fasthttp closed (or handed
// to a hijacker) leaves the peer feed's live set. It runs on the connection's goroutine.
func (n *Node) peerConnState(c net.Conn, s fasthttp.ConnState) {
	if s == fasthttp.StateClosed || s == fasthttp.StateHijacked {
		n.peerFeed.untrack(c)
	}
}

// peerHeadError is the peer servers' ErrorHandler: headError's answers, and 403 (counted as a
// refused stranger) for content refused because its head carries no cluster secret.
func (n *Node) peerHeadError(ctx *fasthttp.RequestCtx, err error) {
	if errors.Is(err, fasthttp.ErrBodyTooLarge) && !n.peerAuthorized(peekFold(&ctx.Request.Header, peerSecretHeader)) {
		n.refuseStranger(ctx)
		return
	}
	n.headError(ctx, err)
}

// refuseStranger answers a request without the cluster secret on the peer port: 403, counted,
// the connection closed.
func (n *Node) refuseStranger(ctx *fasthttp.RequestCtx) {
	n.metrics.peerRefused.Inc()
	e := n.getHTTP1(ctx)
	e.x.resp.SetConnectionClose()
	plainError(&e.x, http.StatusForbidden, "forbidden: the peer port serves cluster members only")
	putHTTP1(e)
}
