package purge

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"net/netip"
	"sync/atomic"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/shoal-cdn/shoal/conf"
)

// Store is what purge needs of the object store. Each method removes (or, when soft, marks
// stale) what it matches and returns how many objects that was; each must also make a fill
// that began before the call unstorable after it (cachestore.Memory's generations do). It is
// called from many goroutines at once: admin and peer handlers, gossip and catch-up.
type Store interface {
	PurgeURL(url string, soft bool) int
	PurgePrefix(prefix string, soft bool) int
	PurgeTag(tag string, soft bool) int
	PurgeAll(soft bool) int
}

// Peer is another live node.
type Peer struct {
	Name     string
	PeerAddr string // host:port of the node's peer HTTP port
}

// Cluster is what purge needs of the membership. Both methods are called concurrently from
// every purge and must not block on the network.
type Cluster interface {
	Self() string  // this node's name
	Peers() []Peer // live nodes other than self; the caller does not change the slice
}

// StaticCluster is a fixed membership: a single node (no Members) or a test cluster. It is
// safe for concurrent use as long as Members is not changed.
type StaticCluster struct {
	Name    string
	Members []Peer
}

func (c StaticCluster) Self() string  { return c.Name }
func (c StaticCluster) Peers() []Peer { return c.Members }

// Options are the Service's collaborators. The zero value works.
type Options struct {
	Logger     *slog.Logger          // nil: discard
	Registerer prometheus.Registerer // nil: metrics are kept but not registered
	// Secret is the cluster secret: sent to peers in SecretHeader and required from them.
	// Empty means this node neither sends nor accepts peer purges (fan-out reports every
	// peer missing), so an unconfigured peer port cannot be used to wipe the cache.
	Secret string
	// AcceptSecrets are also accepted from peers (never sent): the old or the new secret
	// during a rolling rotation (cluster.accept_secret_files).
	AcceptSecrets []string
	Client        *http.Client     // for fan-out and catch-up; nil: a keep-alive client of our own
	Now           func() time.Time // nil: time.Now
	// Broadcast, if set, is called with EncodeForGossip of every purge this node originates,
	// before the fan-out, as a backstop for peers the fan-out misses. It is called from the
	// purging goroutine and must not block (memberlist's QueueBroadcast does not).
	Broadcast func(msg []byte)
	// Resolve, if set, names what a URL purge accepted by this node matches besides the URL
	// (a store key, as KeyForURL makes it): the keys the route that URL matches stores it
	// under. Nil, or no targets for a URL, keeps the URL's own key alone. It is called once
	// per URL purge this node originates (API, PURGE method, Invalidate), concurrently, and
	// must not block; purges from peers, gossip and catch-up carry their targets already.
	Resolve func(key string) []Target
}

// Paths and header of the node-to-node protocol, served by PeerHandler.
const (
	PeerPath     = "/_shoal/purge"     // POST a Request; answers {"node": ..., "purged": N}
	PeerLogPath  = "/_shoal/purge/log" // GET ?since=RFC3339; answers {"node": ..., "purges": [...]}
	SecretHeader = "Shoal-Peer-Secret"
)

const (
	defaultTimeout = 2 * time.Second
	logEntries     = 10_000
	logAge         = time.Hour
	maxBodyBytes   = 64 << 10
	fanoutAttempts = 3
	firstBackoff   = 50 * time.Millisecond
)

// Service applies purges locally and across the cluster. Build it with New.
type Service struct {
	store     Store
	cluster   Cluster
	secret    string
	client    *http.Client
	now       func() time.Time
	logger    *slog.Logger
	metrics   *metrics
	bans      *banLog
	broadcast func([]byte)
	resolver  func(string) []Target
	settings  atomic.Pointer[settings]

	// equal compares secrets; a field so tests can check that every check goes through it.
	equal    func(a, b string) bool
	accepted []string // Options.AcceptSecrets
	attempts int
	backoff  time.Duration
}

// settings is the part of conf.Purge that Reload swaps.
type settings struct {
	token   string
	allow   []netip.Prefix
	timeout time.Duration
}

func newSettings(cfg conf.Purge) (*settings, error) {
	st := &settings{token: cfg.Token, timeout: cfg.Timeout.D()}
	if st.timeout <= 0 {
		st.timeout = defaultTimeout
	}
	allow := cfg.Allow
	if len(allow) == 0 {
		allow = []string{"127.0.0.0/8", "::1/128"} // conf's default, for callers that skip conf.Load
	}
	for _, c := range allow {
		p, err := netip.ParsePrefix(c)
		if err != nil {
			return nil, fmt.Errorf("purge: allow: %w", err)
		}
		st.allow = append(st.allow, p.Masked())
	}
	return st, nil
}

func (st *settings) allows(a netip.Addr) bool {
	a = a.Unmap()
	for _, p := range st.allow {
		if p.Contains(a) {
			return true
		}
	}
	return false
}

// New builds a Service over store and cluster, both required.
func New(cfg conf.Purge, store Store, cluster Cluster, opts Options) (*Service, error) {
	if store == nil || cluster == nil {
		return nil, errors.New("purge: New needs a store and a cluster")
	}
	st, err := newSettings(cfg)
	if err != nil {
		return nil, err
	}
	m, err := newMetrics(opts.Registerer)
	if err != nil {
		return nil, err
	}
	s := &Service{
		store:     store,
		cluster:   cluster,
		secret:    opts.Secret,
		accepted:  opts.AcceptSecrets,
		client:    opts.Client,
		now:       opts.Now,
		logger:    opts.Logger,
		metrics:   m,
		bans:      newBanLog(logEntries, logAge),
		broadcast: opts.Broadcast,
		resolver:  opts.Resolve,
		equal:     SecretEqual,
		attempts:  fanoutAttempts,
		backoff:   firstBackoff,
	}
	if s.client == nil {
		s.client = &http.Client{Transport: &http.Transport{
			MaxIdleConnsPerHost: 4,
			IdleConnTimeout:     90 * time.Second,
		}}
	}
	if s.now == nil {
		s.now = time.Now
	}
	if s.logger == nil {
		s.logger = slog.New(slog.DiscardHandler)
	}
	s.settings.Store(st)
	if s.secret == "" {
		s.logger.Warn("purge: no cluster secret; purges stay on this node until one is configured (cluster.secret_file)")
	}
	return s, nil
}

// Reload swaps the token, allow list and timeout; the ban log and metrics stay.
func (s *Service) Reload(cfg conf.Purge) error {
	st, err := newSettings(cfg)
	if err != nil {
		return err
	}
	s.settings.Store(st)
	return nil
}

// Close unregisters the metrics, so a new Service can be built on the same registerer.
func (s *Service) Close() { s.metrics.unregister() }

// Purge applies r on this node, offers it to gossip, and sends it to every live peer in
// parallel with retries until all acknowledged or conf.Purge.Timeout passed. The error is
// non-nil (wrapping ErrInvalid) only when r is refused; stragglers are named in Missing.
func (s *Service) Purge(ctx context.Context, r Request) (Response, error) {
	return s.originate(ctx, r, sourceAPI)
}

// PurgeMethod is Purge of one URL for the Varnish-style PURGE method on the data port; the
// edge checks AllowPurgeMethod first. It differs from Purge only in its metrics label.
func (s *Service) PurgeMethod(ctx context.Context, rawURL string, soft bool) (Response, error) {
	return s.originate(ctx, Request{Kind: KindURL, Value: rawURL, Soft: soft}, sourceMethod)
}

// Invalidate is RFC 9111 section 4.4 for the cluster: after a non-error answer to an unsafe
// request, the stored responses of key (a URL in any spelling KeyForURL accepts) are removed
// on this node and on every live peer, as by a hard Purge of the URL, before the call
// returns (or the timeout passes). It differs from Purge in its metrics label and logs at
// debug level: it follows client traffic.
func (s *Service) Invalidate(ctx context.Context, rawURL string) (Response, error) {
	return s.originate(ctx, Request{Kind: KindURL, Value: rawURL}, sourceUnsafe)
}

// AllowPurgeMethod reports whether client may send PURGE requests (conf.Purge.Allow).
func (s *Service) AllowPurgeMethod(client netip.Addr) bool {
	return s.settings.Load().allows(client)
}

func (s *Service) originate(ctx context.Context, r Request, source string) (Response, error) {
	r, err := r.normalize()
	if err != nil {
		s.metrics.refused.WithLabelValues(reasonInvalid).Inc()
		return Response{}, err
	}
	r = s.resolve(r)
	r.ID, r.Time = newID(), s.now().UTC()
	purged, _ := s.applyOnce(r, source)
	if s.broadcast != nil {
		s.broadcast(s.EncodeForGossip(r))
	}
	resp := s.fanOut(ctx, r)
	resp.Purged += purged
	level := slog.LevelInfo
	if source == sourceUnsafe {
		level = slog.LevelDebug
	}
	s.logger.Log(ctx, level, "purge", "id", r.ID, "kind", r.Kind, "value", r.Value, "also", len(r.Also), "soft", r.Soft,
		"source", source, "purged", resp.Purged, "acked", resp.Acked, "missing", resp.Missing)
	return resp, nil
}

// applyOnce applies r to the store unless its id is already in the ban log, and reports the
// objects purged and whether it was new.
//
// A delivery that finds r claimed by another one still applying it (the fan-out arriving
// while the gossip copy fsyncs the disk tier's ban) returns only once that apply is done:
// its caller acknowledges the purge (peer) or opens the disk tier (catch-up) next, and an
// acknowledged purge must no longer be served. It reports what that apply purged, so the
// originator's sum counts this node whichever copy arrived first. Gossip does not wait:
// nobody waits on it, and memberlist's NotifyMsg must not block.
func (s *Service) applyOnce(r Request, source string) (int, bool) {
	if !s.bans.claim(r, s.now()) {
		if source == sourceGossip {
			return 0, false
		}
		if done := s.bans.pending(r.ID); done != nil {
			<-done
		}
		return s.bans.purged(r.ID), false
	}
	var n int
	defer func() { s.bans.applied(r.ID, n) }()
	switch r.Kind {
	case KindURL:
		n = s.store.PurgeURL(r.Value, r.Soft) + s.applyTargets(r)
	case KindPrefix:
		n = s.store.PurgePrefix(r.Value, r.Soft)
	case KindKey:
		n = s.store.PurgeTag(r.Value, r.Soft)
	case KindAll:
		n = s.store.PurgeAll(r.Soft)
	}
	s.metrics.requests.WithLabelValues(string(r.Kind), source).Inc()
	s.metrics.objects.WithLabelValues(string(r.Kind)).Add(float64(n))
	return n, true
}

// applyRemote applies a purge another node originated. Purges older than the ban log's reach
// are ignored: their id may have been forgotten, and applying them would only remove objects
// filled correctly since.
func (s *Service) applyRemote(r Request, source string) (purged int, fresh bool, err error) {
	if err := r.checkRemote(); err != nil {
		s.metrics.refused.WithLabelValues(reasonInvalid).Inc()
		return 0, false, err
	}
	if s.now().Sub(r.Time) > logAge {
		s.logger.Debug("purge: ignoring a purge older than the ban log", "id", r.ID, "purge_time", r.Time, "source", source)
		return 0, false, nil
	}
	purged, fresh = s.applyOnce(r, source)
	if fresh {
		s.logger.Debug("purge applied", "id", r.ID, "kind", r.Kind, "value", r.Value, "soft", r.Soft, "source", source, "purged", purged)
	}
	return purged, fresh, nil
}

// Apply applies purges pulled from a peer's ban log, skipping those already applied, and
// returns how many were new. Invalid entries are skipped and logged.
func (s *Service) Apply(reqs []Request) int {
	applied := 0
	for _, r := range reqs {
		_, fresh, err := s.applyRemote(r, sourceCatchUp)
		if err != nil {
			s.logger.Warn("purge: skipping an invalid ban log entry", "id", r.ID, "err", err)
		}
		if fresh {
			applied++
		}
	}
	return applied
}

// LogSince returns the purges this node applied that their origin accepted at or after t,
// within the ban log's bounds (the last 10,000 purges, at most one hour old).
func (s *Service) LogSince(t time.Time) []Request { return s.bans.since(t, s.now()) }
