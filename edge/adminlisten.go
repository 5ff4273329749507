package edge

import (
	"context"
	"errors"
	"net"
	"net/http"
	"time"

	"github.com/shoal-cdn/shoal/conf"
)

// The admin listener follows reloads of the limits that bound its connections
// (limits.read_timeout, idle_timeout, write_timeout, and purge.timeout, which a purge's answer
// waits for) as the peer port does (peerlisten.go): a new net/http server generation on the
// same socket, fed by a connFeed of its own, and the old one shut down gracefully, so no
// connection is refused in between. Before, the admin server kept the timeouts it started
// with: a reload to a shorter read_timeout left a slow admin client its old time, and a longer
// purge.timeout cut the answers of purges that waited for it.
//
// Its connections keep net/http's own timeouts; the feed's sweeper enforces none there.

// adminServer is the admin listener's server for cfg's limits, serving h.
func adminServer(cfg *conf.Config, h http.Handler, connState func(net.Conn, http.ConnState)) *http.Server {
	// The data listeners' limits bound admin connections too: without ReadTimeout and
	// IdleTimeout net/http lets an idle keep-alive connection, or a body sent a byte at a
	// time, hold its connection for ever, from any address (admin.allow is checked per request).
	return &http.Server{Handler: h, ReadHeaderTimeout: 10 * time.Second,
		ReadTimeout: cfg.Limits.ReadTimeout.D(), IdleTimeout: cfg.Limits.IdleTimeout.D(),
		// A purge answers once its peers acknowledged or purge.timeout passed.
		WriteTimeout: max(cfg.Limits.WriteTimeout.D(), 2*cfg.Purge.Timeout.D()),
		ConnState:    connState}
}

// adminLimitsChanged says whether a reload from old to cfg needs a new admin generation.
func adminLimitsChanged(old, cfg *conf.Config) bool {
	return old.Limits.ReadTimeout != cfg.Limits.ReadTimeout || old.Limits.IdleTimeout != cfg.Limits.IdleTimeout ||
		old.Limits.WriteTimeout != cfg.Limits.WriteTimeout || old.Purge.Timeout != cfg.Purge.Timeout
}

// adminGen is one admin server generation and its view of the admin feed.
type adminGen struct {
	srv *http.Server
	ln  *handoffListener
}

// startAdminGen starts an admin server generation with cfg's limits and retires the older
// ones. Called with n.mu held.
func (n *Node) startAdminGen(cfg *conf.Config) {
	srv := adminServer(cfg, n.adminMux, n.adminConnState)
	for _, old := range n.adminGens {
		old.retire()
	}
	ln := &handoffListener{feed: n.adminFeed, addr: n.adminFeed.ln.Addr(), closed: make(chan struct{})}
	n.adminGens = append(n.adminGens[:0], adminGen{srv: srv, ln: ln})
	go func() {
		if err := srv.Serve(ln); err != nil && !errors.Is(err, http.ErrServerClosed) && !errors.Is(err, net.ErrClosed) {
			n.log.Error("admin listener stopped", "err", err)
		}
	}()
}

// retire stops g taking connections and lets those it has finish: each current request is
// answered and its connection closed after it, and a connection it accepted whose request has
// not arrived yet is still answered. http.Server.Shutdown would drop that one unanswered
// (net/http closes a connection whose request it reads once shutdown began), so a scrape or
// a purge that met a reload got EOF. Shutdown runs once every such connection has had its
// ReadHeaderTimeout, and closes what is left.
func (g adminGen) retire() {
	g.ln.Close()
	g.srv.SetKeepAlivesEnabled(false) // closes idle keep-alive connections; others close after their answer
	time.AfterFunc(g.srv.ReadHeaderTimeout, func() { g.srv.Shutdown(context.Background()) })
}

// adminConnState is the admin servers' ConnState hook: a connection net/http closed (or
// handed to a hijacker) leaves the admin feed's live set. It runs on the connection's
// goroutine.
func (n *Node) adminConnState(c net.Conn, s http.ConnState) {
	if s == http.StateClosed || s == http.StateHijacked {
		n.adminFeed.untrack(c)
	}
}
