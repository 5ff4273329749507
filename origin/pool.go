package origin

import (
	"io"
	"log/slog"
	"math"
	"math/rand/v2"
	"sync"
	"time"

	"github.com/cespare/xxhash/v2"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/shoal-cdn/shoal/conf"
	"github.com/shoal-cdn/shoal/origin/balance"
	"github.com/valyala/fasthttp"
)

// Options are the pool's collaborators; the zero value works.
type Options struct {
	Logger     *slog.Logger          // nil means discard
	Registerer prometheus.Registerer // nil means no metrics
	Now        func() time.Time      // nil means time.Now (for tests)
}

// Pool is one origin pool. It is safe for concurrent use; see the package comment for what holds
// while servers change state.
type Pool struct {
	cfg     settings
	log     *slog.Logger
	now     func() time.Time
	metrics *metrics
	servers []*server

	mu        sync.Mutex // guards the balancers, every server's health and slots, and the queue
	balancer  balance.Balancer
	bySource  balance.Balancer // sticky.source: rendezvous on the client address
	slotFreed chan struct{}    // closed (and replaced) whenever a slot is released
	queued    int
	cands     []balance.Candidate // scratch for pick, reused under mu

	startOnce sync.Once
	closeOnce sync.Once
	stop      chan struct{}
	checks    sync.WaitGroup
}

// NewPool validates cfg, applies its defaults and builds the pool's clients. It starts nothing:
// no connection is made and no check runs before Start (until then every server counts as up).
func NewPool(cfg *conf.Pool, opts Options) (*Pool, error) {
	s, err := resolve(cfg)
	if err != nil {
		return nil, err
	}
	p := &Pool{
		cfg:       s,
		log:       opts.Logger,
		now:       opts.Now,
		slotFreed: make(chan struct{}),
		stop:      make(chan struct{}),
		bySource:  balance.Rendezvous{},
	}
	if p.log == nil {
		p.log = slog.New(slog.NewTextHandler(io.Discard, nil))
	}
	if p.now == nil {
		p.now = time.Now
	}
	p.metrics = newMetrics(opts.Registerer)
	seed := uint64(time.Now().UnixNano())
	rnd := rand.New(rand.NewPCG(seed, seed>>17|1))
	if p.balancer, err = balance.New(s.balance, len(s.servers), rnd.Uint64); err != nil {
		return nil, err // unreachable: resolve accepted the name
	}
	for i, ss := range s.servers {
		srv := &server{
			index:   i,
			cfg:     ss,
			label:   ss.addr,
			hash:    xxhash.Sum64String(ss.id),
			probeUp: true,
			counts:  new(serverCounts),
			client:  p.newClient(ss),
			metrics: p.metrics.forServer(s.name, ss.addr),
		}
		if s.health.path != "" {
			srv.probe = p.newProbeClient(ss)
		}
		p.servers = append(p.servers, srv)
		p.metrics.setUp(s.name, srv.label, true)
	}
	p.cands = make([]balance.Candidate, 0, len(p.servers))
	return p, nil
}

// newClient is the server's connection pool. Requests do not go through its Do: roundTrip
// uses its connections (interim responses, keep-alive limits, stale connections).
func (p *Pool) newClient(ss serverSettings) *fasthttp.HostClient {
	maxConns := p.cfg.maxConns
	if maxConns == 0 {
		maxConns = math.MaxInt32 // unlimited here; fasthttp's default would be 512
	}
	return &fasthttp.HostClient{
		Addr:                          ss.addr,
		IsTLS:                         ss.tls,
		Dial:                          dialer(p.cfg.connectTimeout, p.cfg.firstByteTimeout),
		MaxConns:                      maxConns,
		MaxIdleConnDuration:           p.cfg.idleTTL, // its cleaner closes what roundTrip would refuse
		ReadBufferSize:                16 << 10,      // room for large response heads (cookies)
		DisableHeaderNamesNormalizing: true,
		DisablePathNormalizing:        true,
		NoDefaultUserAgentHeader:      true,
		// The connection released last is taken first (nginx's and HAProxy's order): under
		// load a few connections stay hot, and the ones left idle age out through
		// MaxIdleConnDuration.
		ConnPoolStrategy: fasthttp.LIFO,
	}
}

func (p *Pool) newProbeClient(ss serverSettings) *fasthttp.HostClient {
	return &fasthttp.HostClient{
		Addr:                      ss.addr,
		IsTLS:                     ss.tls,
		Dial:                      dialer(p.cfg.health.timeout, p.cfg.health.timeout),
		MaxConns:                  1,
		MaxIdemponentCallAttempts: 1,
		MaxResponseBodySize:       probeBodyLimit,
		ReadTimeout:               p.cfg.health.timeout,
		WriteTimeout:              p.cfg.health.timeout,
		NoDefaultUserAgentHeader:  true,
	}
}

// Name is the pool's name, the key under origins: in the configuration.
func (p *Pool) Name() string { return p.cfg.name }

// Start begins the active health checks, one goroutine per server, if health.path is set. It
// is idempotent, and does nothing after Close.
func (p *Pool) Start() {
	p.startOnce.Do(func() {
		if p.cfg.health.path == "" {
			return
		}
		select {
		case <-p.stop:
			return
		default:
		}
		for _, s := range p.servers {
			p.checks.Add(1)
			go p.checkLoop(s)
		}
	})
}

// Close stops the health checks, waits for them, and closes idle connections. Requests in
// flight finish normally; their connections close when released. Close is idempotent.
func (p *Pool) Close() {
	p.closeOnce.Do(func() {
		close(p.stop)
		p.startOnce.Do(func() {}) // a Start after Close must not launch checks
		p.checks.Wait()
		for _, s := range p.servers {
			s.client.CloseIdleConnections()
			if s.probe != nil {
				s.probe.CloseIdleConnections()
			}
		}
	})
}

// Healthy reports whether the pool may take requests: whether active checks (or their
// absence) leave at least one server, primary or backup, up and not drained. Passive ejections
// do not count: a pool whose every server they ejected still sends traffic to the least
// recently failed one, so only active checks take a pool fully down.
func (p *Pool) Healthy() bool {
	p.mu.Lock()
	defer p.mu.Unlock()
	for _, s := range p.servers {
		if s.probeUp && (s.cfg.weight > 0 || s.cfg.backup) {
			return true
		}
	}
	return false
}
