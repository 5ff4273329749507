package edge

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"reflect"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/shoal-cdn/shoal/cachestore"
	"github.com/shoal-cdn/shoal/conf"
	"github.com/shoal-cdn/shoal/edge/h2"
	"github.com/shoal-cdn/shoal/edge/tlscert"
	"github.com/shoal-cdn/shoal/gslb"
	"github.com/shoal-cdn/shoal/ring"
	"github.com/shoal-cdn/shoal/ring/vip"
	"github.com/valyala/fasthttp"
)

// drainReads bounds, at shutdown, the wait for requests that have not arrived yet on
// connections already open.
const drainReads = time.Second

// vipHandover is how long a draining node keeps its VIPs so that peers, having seen the
// drain, add them before this node removes them.
const vipHandover = 500 * time.Millisecond

// fillLinger keeps a finished fill joinable while the store applies its Set.
const fillLinger = 250 * time.Millisecond

// Options are a Node's collaborators; the zero value works.
type Options struct {
	Logger *slog.Logger // nil means discard
	// LogLevel is the level Logger's handler reads (slog.HandlerOptions.Level). Given, a
	// reload sets it to the new log.level; nil means Logger's level is not ours to change,
	// and a reload that changes log.level is refused.
	LogLevel  *slog.LevelVar
	AccessLog io.Writer            // nil means no access log
	Registry  *prometheus.Registry // nil means a new one; /metrics serves it
	Version   string
	Now       func() time.Time // nil means time.Now; tests inject a clock
	// StoreBytes is the memory store's budget in bytes of cachestore.Object.Cost; 0 means
	// cache.memory. cmd/shoal gives the store less than cache.memory when the process's
	// memory policy needs room below it (cmd/shoal/memory.go).
	StoreBytes int64
	// ConfigFile is the file ReloadFile reads again (SIGHUP in cmd/shoal, POST /reload on
	// the admin listener); "" means neither: the admin listener has no /reload.
	ConfigFile string
}

// Node is one running edge: its lifecycle (Start, Reload, Shutdown), its listeners, the
// cluster wiring (ring, purge, GSLB, VIPs) and the admin listener. What a request touches is
// its pipeline (pipeline.go), which the listeners hand every request to; a reload swaps the
// pipeline's configuration and keeps its store.
type Node struct {
	*pipeline

	version  string
	registry *prometheus.Registry
	logLevel *slog.LevelVar // Options.LogLevel
	ready    atomic.Bool

	// The cluster: set by Start, read-only after it.
	dns    *gslb.Server
	vips   *vip.Manager
	quorum *vip.Quorum

	stopReadiness chan struct{} // closed by Shutdown

	absentMu    sync.Mutex // guards the two below: members out of view, for purge catch-up
	absentSince map[string]time.Time
	seen        map[string]bool

	purgePeerOnce    sync.Once
	purgePeerHandler fasthttp.RequestHandler

	mu       sync.Mutex // serialises Start, Reload and Shutdown
	httpLn   net.Listener
	feed     *connFeed
	servers  []*serverGen // the current generation last; older ones are draining
	adminLn  net.Listener
	peerLn   net.Listener
	peerFeed *connFeed    // the peer port's socket, handed to its server generations
	peerGens []*serverGen // the current one last; older ones are draining (peerlisten.go)
	httpsLn  net.Listener
	tlsFeed  *connFeed // HTTP/1.1 connections after their TLS handshake
	serveTLS func()    // starts serving listen.https once the node is assembled

	// adminFeed hands the admin socket's connections to adminGens, the current server
	// generation last (adminlisten.go); adminMux is what they serve.
	adminFeed *connFeed
	adminGens []adminGen
	adminMux  http.Handler

	// h2srv serves HTTP/2 (listen.https with ALPN h2, listen.h2c); a reload that changes
	// limits swaps in a new generation (h2serve_server.go).
	h2srv atomic.Pointer[h2.Server]
	h2cLn net.Listener
	h2ctx sync.Pool // *h2exchange for the HTTP/2 listener (h2serve.go)
	certs *tlscert.Store
	gate  connGate // every client connection: HTTP/1.1 (the feeds' connFeed.gate), TLS handshakes, HTTP/2
	// tlsRefusing counts refused listen.https connections in their handshake (refuseTLS).
	tlsRefusing atomic.Int32
	stopped     bool

	configFile string // Options.ConfigFile (reloadfile.go)
}

// New assembles a node from a validated configuration. It binds nothing; Start does.
func New(cfg *conf.Config, opts Options) (*Node, error) {
	if opts.Logger == nil {
		opts.Logger = slog.New(slog.NewTextHandler(io.Discard, nil))
	}
	if opts.Registry == nil {
		opts.Registry = prometheus.NewRegistry()
		opts.Registry.MustRegister(collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	}
	if opts.Now == nil {
		opts.Now = time.Now
	}
	n := &Node{
		pipeline: &pipeline{
			name:      cfg.Node.Name,
			viaValue:  "1.1 " + cfg.Node.Name,
			via10:     "1.0 " + cfg.Node.Name,
			via2:      "2 " + cfg.Node.Name,
			log:       opts.Logger,
			now:       opts.Now,
			metrics:   newMetrics(opts.Registry),
			largeMark: passMarks{ttl: largeMarkTTL},
		},
		version:    opts.Version,
		registry:   opts.Registry,
		logLevel:   opts.LogLevel,
		configFile: opts.ConfigFile,
	}
	n.onHijackEnd = n.hijackEnded
	n.fills.Linger = fillLinger
	n.h2ctx.New = func() any { return &h2exchange{req: fieldList{contentLength: -2}} }
	n.access = newAccessLog(opts.AccessLog, cfg.Log.Access)
	n.peerSecret, n.peerAccepted = cfg.Cluster.Secret, cfg.Cluster.AcceptSecrets
	dt, err := openDisk(cfg, opts)
	if err != nil {
		return nil, fmt.Errorf("edge: %w", err)
	}
	n.disk = dt
	memCfg := cachestore.Config{MaxBytes: int64(cfg.Cache.Memory)}
	if opts.StoreBytes > 0 {
		memCfg.MaxBytes = opts.StoreBytes
	}
	if dt != nil {
		memCfg.OnEvict = n.evictToDisk
	}
	store, err := cachestore.NewMemory(memCfg, opts.Registry)
	if err != nil {
		n.closeDisk()
		return nil, fmt.Errorf("edge: cache store: %w", err)
	}
	n.store = store
	rt, err := n.buildRuntime(cfg)
	if err != nil {
		store.Close()
		n.closeDisk()
		return nil, fmt.Errorf("edge: %w", err)
	}
	n.rt.Store(rt)
	return n, nil
}

// Start binds the listeners and serves until Shutdown.
func (n *Node) Start() error {
	n.mu.Lock()
	defer n.mu.Unlock()
	rt := n.rt.Load()
	cfg := rt.cfg
	if cfg.Listen.HTTP != "" {
		ln, err := net.Listen("tcp", cfg.Listen.HTTP)
		if err != nil {
			return fmt.Errorf("edge: %w", conf.At("listen.http", err))
		}
		n.httpLn = ln
		n.feed = startGatedFeed(ln, &n.gate, n.refuseH1, false)
	}
	if cfg.Listen.HTTPS != "" {
		if err := n.startHTTPS(cfg); err != nil {
			n.closeListeners()
			return fmt.Errorf("edge: %w", err)
		}
	}
	if cfg.Listen.H2C != "" {
		if err := n.startH2C(cfg); err != nil {
			n.closeListeners()
			return fmt.Errorf("edge: %w", err)
		}
	}
	if cfg.Listen.HTTPS != "" || cfg.Listen.H2C != "" {
		if err := n.startH2Gen(cfg.Limits); err != nil {
			n.closeListeners()
			return fmt.Errorf("edge: %w", err)
		}
	}
	adminLn, err := net.Listen("tcp", cfg.Listen.Admin)
	if err != nil {
		n.closeListeners()
		return fmt.Errorf("edge: %w", conf.At("listen.admin", err))
	}
	n.adminLn = adminLn
	n.adminMux = n.adminHandler()
	if cfg.Listen.Peer != "" {
		if n.peerLn, err = net.Listen("tcp", cfg.Listen.Peer); err != nil {
			n.closeListeners()
			return fmt.Errorf("edge: %w", conf.At("listen.peer", err))
		}
		n.peerFeed = startFeed(n.peerLn)
	}
	// Everything a request may touch exists before the first one is served.
	if err := n.startCluster(cfg); err != nil {
		n.closeListeners()
		return fmt.Errorf("edge: %w", err)
	}
	rt.start()
	n.adminFeed = startFeed(adminLn)
	n.startAdminGen(cfg)
	if n.peerFeed != nil {
		n.startPeerGen(cfg.Limits)
	}
	n.startServerGen(cfg.Limits)
	if n.serveTLS != nil {
		n.serveTLS()
	}
	if n.h2cLn != nil {
		go n.acceptH2C(n.h2cLn)
	}
	if err := n.ring.SetState(ring.StateAlive); err != nil {
		n.log.Warn("could not announce readiness", "err", err)
	}
	if n.peerFeed != nil {
		// The adoption window (forward.go): only a node with a peer port has peers to
		// adopt from. Without one, every miss of its first two minutes would look for a
		// runner-up that cannot exist (a store Peek and a list of owners each).
		started := n.now()
		n.started.Store(&started)
	}
	n.ready.Store(true)
	n.stopReadiness = make(chan struct{})
	go n.watchReadiness(n.stopReadiness)
	if n.disk != nil {
		go n.openGate()
	}
	n.log.Info("edge started", "node", n.name, "http", n.HTTPAddr(), "https", n.HTTPSAddr(), "h2c", n.H2CAddr(), "admin", adminLn.Addr().String(),
		"peer", n.ring.Self().PeerAddr, "gossip", n.ring.GossipAddr())
	return nil
}

func (n *Node) closeListeners() {
	for _, l := range []net.Listener{n.httpLn, n.adminLn, n.peerLn, n.httpsLn, n.h2cLn} {
		if l != nil {
			l.Close()
		}
	}
}

// PeerAddr is the address peers use for this node's peer port ("" without one).
func (n *Node) PeerAddr() string { return n.ring.Self().PeerAddr }

// Ring is the node's cluster membership.
func (n *Node) Ring() *ring.Ring { return n.ring }

// HTTPAddr is the bound plain-HTTP address (port 0 resolved; "" without one).
func (n *Node) HTTPAddr() string {
	if n.httpLn == nil {
		return ""
	}
	return n.httpLn.Addr().String()
}

// AdminAddr is the bound admin address.
func (n *Node) AdminAddr() string { return n.adminLn.Addr().String() }

// Store is the node's object store (purge and tests use it).
func (n *Node) Store() *cachestore.Memory { return n.store }

// ReloadWith reloads the configuration load returns. A load that fails is a refused reload
// too: it is counted as one (shoal_edge_reloads_total{result="refused"}) and returned.
func (n *Node) ReloadWith(load func() (*conf.Config, error)) error {
	cfg, err := load()
	if err != nil {
		n.metrics.reloads.WithLabelValues("refused").Inc()
		return err
	}
	return n.Reload(cfg)
}

// Reload swaps in a new configuration: routes, pools and limits. The listeners' addresses,
// the cache size and the gslb section are fixed at start; a change to them, or a
// cache.max_object_size above the store's budget, is refused so that nothing is half-applied.
func (n *Node) Reload(cfg *conf.Config) error {
	n.mu.Lock()
	defer n.mu.Unlock()
	old := n.rt.Load()
	if err := n.fixedAtStart(old.cfg, cfg); err != nil {
		n.metrics.reloads.WithLabelValues("refused").Inc()
		return err
	}
	// The store's budget is fixed at start and may be below cache.memory (Options.StoreBytes):
	// it would refuse every larger object after its fill said it stored it.
	if budget := n.store.MaxBytes(); int64(cfg.Cache.MaxObjectSize) > budget {
		n.metrics.reloads.WithLabelValues("refused").Inc()
		return fmt.Errorf("edge: reload: cache.max_object_size %s is above the store's budget of %d bytes, set at start: raise it with a restart", cfg.Cache.MaxObjectSize, budget)
	}
	rt, err := n.buildRuntime(cfg)
	if err != nil {
		n.metrics.reloads.WithLabelValues("refused").Inc()
		return fmt.Errorf("edge: reload: %w", err)
	}
	if n.certs != nil {
		if err := n.certs.Reload(cfg.TLS.Certificates); err != nil {
			rt.close()
			n.metrics.reloads.WithLabelValues("refused").Inc()
			return fmt.Errorf("edge: reload: tls: %w", err)
		}
	}
	if n.purge != nil {
		// The token, allow list and timeout: a token rotated by reload must stop the old one.
		if err := n.purge.Reload(cfg.Purge); err != nil {
			rt.close()
			n.metrics.reloads.WithLabelValues("refused").Inc()
			return fmt.Errorf("edge: reload: purge: %w", err)
		}
	}
	for name, p := range rt.pools {
		p.Inherit(old.pools[name]) // servers still listed keep their health
	}
	rt.start()
	n.rt.Store(rt)
	if adminLimitsChanged(old.cfg, cfg) && !n.stopped {
		n.startAdminGen(cfg)
	}
	if old.cfg.Limits != cfg.Limits && !n.stopped {
		n.startServerGen(cfg.Limits)
		if n.peerFeed != nil {
			n.startPeerGen(cfg.Limits)
		}
		if n.h2srv.Load() != nil {
			if err := n.startH2Gen(cfg.Limits); err != nil {
				// Not reachable with limits conf validated; the old generation keeps serving.
				n.log.Error("http/2 limits not applied", "err", err)
			}
		}
	}
	// Requests already holding the old runtime finish on its pools; closing them only stops
	// health checks and idle connections. Retiring them also drops the metric series of the
	// servers and pools the configuration then in force no longer lists.
	time.AfterFunc(cfg.Cache.FillTimeout.D(), func() {
		current := n.rt.Load().pools
		for name, p := range old.pools {
			p.Retire(current[name])
		}
	})
	n.metrics.reloads.WithLabelValues("ok").Inc()
	n.reloadedAt(cfg.Log.Level, "routes", len(rt.routes), "pools", len(rt.pools))
	return nil
}

// reloadedAt moves the log level to level (validated by conf) and then logs "configuration
// reloaded". The line goes to the handler whatever the new level, so an operator who turns
// logging down still sees the reload that did it, and whoever reads it knows the new level
// is in force (logged before the Set, a line logged just after it could still pass the old
// level).
func (n *Node) reloadedAt(level string, args ...any) {
	var to slog.Level
	if n.logLevel == nil || to.UnmarshalText([]byte(level)) != nil {
		n.log.Info("configuration reloaded", args...)
		return
	}
	n.logLevel.Set(to)
	r := slog.NewRecord(time.Now(), slog.LevelInfo, "configuration reloaded", 0)
	r.Add(append(args, "log_level", level)...)
	_ = n.log.Handler().Handle(context.Background(), r) // as slog.Logger does with its error
}

func (n *Node) fixedAtStart(old, cfg *conf.Config) error {
	switch {
	case old.Listen != cfg.Listen:
		return restartOnly("listen", old.Listen, cfg.Listen)
	case old.Cache.Memory != cfg.Cache.Memory:
		return restartOnly("cache.memory", old.Cache.Memory, cfg.Cache.Memory)
	case old.Cache.Disk != cfg.Cache.Disk:
		return restartOnly("cache.disk", old.Cache.Disk, cfg.Cache.Disk)
	case old.Node != cfg.Node:
		// The ring's member record (name, region, DNS address, weight) is gossiped from start.
		return restartOnly("node", old.Node, cfg.Node)
	case !sameClusterBarBoundedLoad(old.Cluster, cfg.Cluster):
		// memberlist, the peer secret and the purge fan-out are built once (cluster.go);
		// bounded_load is read per request.
		a, b := old.Cluster, cfg.Cluster
		a.BoundedLoad, b.BoundedLoad = 0, 0
		return restartOnly("cluster", a, b)
	case !reflect.DeepEqual(old.VIP, cfg.VIP):
		return restartOnly("vip", old.VIP, cfg.VIP)
	case old.Log.Access != cfg.Log.Access:
		// The access log is made once, before the node starts.
		return restartOnly("log.access", old.Log.Access, cfg.Log.Access)
	case old.Log.Level != cfg.Log.Level && n.logLevel == nil:
		// The logger was handed in with a level this node cannot change (Options.LogLevel).
		return fmt.Errorf("edge: reload: %w", &conf.Error{Key: "log.level", Msg: "changes only with a restart (this node's logger has a fixed level)"})
	case !reflect.DeepEqual(old.GSLB, cfg.GSLB):
		// The DNS server is built once (cluster.go) and reads none of them again: an
		// accepted change would keep the old listener, zone, names and regions.
		return restartOnly("gslb", old.GSLB, cfg.GSLB)
	}
	return nil
}

// restartOnly is the refusal of a reload that changes a key read only at start: a
// *conf.Error naming the deepest key of section that differs (listen.http, not listen), so
// that the caller, who has the file, can add its line.
func restartOnly(section string, old, cfg any) error {
	return fmt.Errorf("edge: reload: %w", &conf.Error{Key: firstDifference(section, reflect.ValueOf(old), reflect.ValueOf(cfg)),
		Msg: "changes only with a restart"})
}

// firstDifference returns the dotted YAML path, below path, of the first field of a struct
// that differs between a and b (path itself when they are not structs, or differ in a way
// not narrowed further: a list or a map).
func firstDifference(path string, a, b reflect.Value) string {
	if a.Kind() != reflect.Struct || a.Type() != b.Type() {
		return path
	}
	t := a.Type()
	for i := range t.NumField() {
		f := t.Field(i)
		name, _, _ := strings.Cut(f.Tag.Get("yaml"), ",")
		if !f.IsExported() || name == "" || name == "-" {
			continue
		}
		if !reflect.DeepEqual(a.Field(i).Interface(), b.Field(i).Interface()) {
			return firstDifference(path+"."+name, a.Field(i), b.Field(i))
		}
	}
	return path
}

// sameClusterBarBoundedLoad compares two cluster sections, all but bounded_load.
func sameClusterBarBoundedLoad(a, b conf.Cluster) bool {
	a.BoundedLoad, b.BoundedLoad = 0, 0
	return reflect.DeepEqual(a, b)
}

// Shutdown leaves gracefully: it announces draining (peers stop sending this node keys and
// DNS stops answering it), hands its VIPs over, stops accepting connections, lets requests in
// flight finish until ctx ends, leaves the ring, then closes the pools and the store.
func (n *Node) Shutdown(ctx context.Context) error {
	n.mu.Lock()
	defer n.mu.Unlock()
	if n.stopped {
		return nil
	}
	n.stopped = true
	n.ready.Store(false)
	if n.stopReadiness != nil {
		close(n.stopReadiness)
	}
	var errs []error
	if n.ring != nil {
		if err := n.ring.SetState(ring.StateDraining); err != nil {
			n.log.Warn("could not announce draining", "err", err)
		}
	}
	if n.vips != nil {
		// Peers take a VIP over once they see the drain (gossip, ~100-200 ms); release after.
		// Leave tells them not to wait for our release before they add it (an overlap,
		// rather than a moment with nobody answering).
		n.vips.Leave()
		select {
		case <-time.After(vipHandover):
		case <-ctx.Done():
		}
		errs = append(errs, n.vips.ReleaseAll(ctx))
	}
	if n.httpLn != nil {
		n.feed.close()
		n.feed.drain(drainReads)
	}
	errs = append(errs, n.stopHTTPS(ctx), n.stopH2(ctx))
	for _, g := range n.servers {
		errs = append(errs, g.shutdown(ctx))
	}
	if n.peerFeed != nil {
		// Peers kept forwarding until now, as they may not have seen the drain yet; what they
		// sent is served to its end. The socket closes first, as the client port's did: a
		// generation that shuts down takes no more connections, and the feed would accept
		// them and strand each one until the slowest forward in flight ended, while its member
		// waited out cluster.forward_timeout. A refused connect is passed over at once.
		n.peerFeed.close()
		for _, g := range n.peerGens {
			errs = append(errs, g.shutdown(ctx))
		}
	}
	if n.adminFeed != nil {
		n.adminFeed.close() // first, as the peer port's: a check or scrape is refused, not stranded
	}
	for _, g := range n.adminGens {
		errs = append(errs, g.srv.Shutdown(ctx))
	}
	select {
	case <-n.bg.idleCh():
	case <-ctx.Done():
	}
	if n.ring != nil {
		errs = append(errs, n.ring.Leave(2*time.Second))
	}
	if n.dns != nil {
		errs = append(errs, n.dns.Shutdown(ctx))
	}
	if n.vips != nil {
		errs = append(errs, n.vips.Close())
	}
	if n.purge != nil {
		n.purge.Close()
	}
	n.rt.Load().close()
	n.store.Close()
	n.closeDisk()
	return errors.Join(errs...)
}
