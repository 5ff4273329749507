// Package ring is Shoal's cluster membership: a memberlist (SWIM) gossip cluster whose members
// carry metadata (region, addresses, weight, state, VIPs), and a consistent-hash ring of the
// members that own keys. The view is eventually consistent: while nodes join, fail or leave,
// two nodes may briefly disagree on an owner (for about the failure detection time, 1-2 s on
// a LAN); once gossip settles every node computes the same owner for every key. Reads (Owner,
// Owners, Members) take no lock and all methods are safe for concurrent use.
package ring

import (
	"errors"
	"fmt"
	"log/slog"
	"os"
	"sync"
	"sync/atomic"
	"time"

	"github.com/hashicorp/memberlist"
	"github.com/prometheus/client_golang/prometheus"

	"github.com/shoal-cdn/shoal/conf"
	"github.com/shoal-cdn/shoal/ring/hashring"
)

// State is a member's role in the ring.
type State string

// Member states. Only alive members own keys; the others still serve their own clients.
const (
	StateAlive    State = "alive"    // serving and owning keys
	StateDraining State = "draining" // about to leave: serves, owns no keys
	StateNotReady State = "notready" // starting: owns no keys yet
	// StateLeaving is announced by Leave alone, just before memberlist's leave: the member
	// finished what it was sent and goes. A member that drops out of the view from any other
	// state failed (Failed), whatever memberlist's reason.
	StateLeaving State = "leaving"
)

// MaxBroadcastSize is the largest message Broadcast accepts: one gossip packet must carry it
// next to memberlist's own messages and the encryption overhead.
const MaxBroadcastSize = 1024

// updateTimeout bounds how long SetState waits for its metadata to reach one peer.
const updateTimeout = time.Second

// Member is one node of the cluster as its gossiped metadata describes it. Members returned
// by a Ring share their VIPs slice with the Ring: treat them as read-only.
type Member struct {
	Name       string
	Region     string
	PeerAddr   string // host:port of its peer HTTP port
	PublicAddr string // address DNS hands out
	VIPs       []string
	Weight     int // share of keys; 0 means 1
	State      State
	// OriginsDown is how many origin pools the member sees down (every server failed its
	// active checks), so that a node can tell an outage every node shares from one of its
	// own; -1 when the member did not say (a version before the field).
	OriginsDown int
	// VNodes is the member's cluster.vnodes (set by New for this node); 0 when the member did
	// not say (a version before the field). Every view uses the smallest any member says, so
	// members whose files disagree still agree on owners.
	VNodes int
}

// Options are the ring's collaborators. Every field may be left zero.
type Options struct {
	Logger     *slog.Logger          // nil discards
	Registerer prometheus.Registerer // nil registers nothing
	// OnMessage receives a Broadcast from another member (the purge backstop); a node does
	// not receive its own. It is called from memberlist's packet goroutine, possibly
	// concurrently with itself, and must not block. msg is the callee's to keep.
	OnMessage func(msg []byte)
	// OnDirect receives a message another member sent this node with SendDirect. It is
	// called like OnMessage (memberlist's packet goroutine, possibly concurrently with
	// itself) and must not block: it sits on the path of every gossip packet.
	OnDirect func(msg []byte)
	// OnChange is called after membership or metadata changed and the new view is in place.
	// It runs on the ring's own goroutine, never concurrently with itself; bursts of changes
	// may be coalesced into one call. It must not block; it may call any Ring method.
	OnChange func()
}

// Ring is this node's membership in the cluster.
type Ring struct {
	cluster  conf.Cluster
	vnodes   int
	selfName string
	opts     Options
	log      *slog.Logger
	metrics  *metrics

	view atomic.Pointer[view]
	meta atomic.Pointer[[]byte] // our encoded metadata, what NodeMeta gossips
	ml   atomic.Pointer[memberlist.Memberlist]
	// gossip is this node's gossip address, set once at Start before ml (gossipAddr).
	gossip atomic.Pointer[string]
	queue  *memberlist.TransmitLimitedQueue

	// mu orders view rebuilds: memberlist events and SetState both change members.
	mu         sync.Mutex
	members    map[string]Member    // every live member by name, self included
	ringVNodes int                  // the vnodes of the last view: a change is logged once
	addrs      map[string]addrEntry // gossip addresses, kept keepGone after a member leaves the view

	stateMu sync.Mutex // one SetState/SetVIPs at a time, held across the gossip

	conflict nameConflict // conflict.go

	lifeMu  sync.Mutex
	started bool
	stopped bool
	changed chan struct{} // capacity 1: a pending OnChange
	done    chan struct{}
	wg      sync.WaitGroup
}

// New validates self and prepares the ring; nothing touches the network until Start.
// self.Name defaults to the host name, self.Weight 0 to 1, self.State "" to alive, and
// cluster.VNodes 0 to 160.
func New(cluster conf.Cluster, self Member, opts Options) (*Ring, error) {
	if self.Name == "" {
		host, err := os.Hostname()
		if err != nil {
			return nil, fmt.Errorf("ring: node name: %w", err)
		}
		self.Name = host
	}
	if self.Weight < 0 {
		return nil, fmt.Errorf("ring: node %q: weight %d is negative", self.Name, self.Weight)
	}
	self.Weight = max(self.Weight, 1)
	if self.State == "" {
		self.State = StateAlive
	}
	if err := validState(self.State); err != nil {
		return nil, fmt.Errorf("ring: node %q: %w", self.Name, err)
	}
	self.VIPs = canonicalVIPs(self.VIPs)
	self.VNodes = cluster.VNodes
	if self.VNodes <= 0 {
		self.VNodes = hashring.DefaultVNodes
	}
	meta, err := encodeMeta(self)
	if err != nil {
		return nil, fmt.Errorf("ring: %w", err)
	}
	if opts.Logger == nil {
		opts.Logger = slog.New(slog.DiscardHandler)
	}
	queue := &memberlist.TransmitLimitedQueue{RetransmitMult: retransmitMult}
	m, err := newMetrics(opts.Registerer, queue.NumQueued)
	if err != nil {
		return nil, fmt.Errorf("ring: %w", err)
	}
	r := &Ring{
		cluster:  cluster,
		vnodes:   self.VNodes,
		selfName: self.Name,
		opts:     opts,
		log:      opts.Logger.With("component", "ring"),
		metrics:  m,
		members:  map[string]Member{self.Name: self},
		changed:  make(chan struct{}, 1),
		done:     make(chan struct{}),
	}
	r.meta.Store(&meta)
	queue.NumNodes = r.numNodes
	r.queue = queue
	r.rebuildLocked()
	return r, nil
}

func validState(s State) error {
	switch s {
	case StateAlive, StateDraining, StateNotReady:
		return nil
	}
	return fmt.Errorf("unknown state %q (want alive, draining or notready)", s)
}

func canonicalVIPs(vips []string) []string {
	if len(vips) == 0 {
		return nil
	}
	out := make([]string, len(vips))
	for i, v := range vips {
		out[i] = canonicalVIP(v)
	}
	return out
}

// Start creates the memberlist and joins cluster.join; with an empty cluster.bind the node
// runs alone and Start only starts change notifications. A join that reaches nobody is
// logged, not returned: whenever the node sees no other member (peers not up yet, or a
// partition left it alone) it retries in the background, 1 s doubling to 30 s. Start fails
// on a bad address or a busy port, and when the join finds this node's name held by a live
// member at another address; a crashed one's name is waited for, a few seconds at most
// (conflict.go).
func (r *Ring) Start() error {
	r.lifeMu.Lock()
	defer r.lifeMu.Unlock()
	if r.started || r.stopped {
		return errors.New("ring: Start called twice or after Shutdown")
	}
	var mlCfg *memberlist.Config
	if r.cluster.Bind != "" {
		cfg, err := r.memberlistConfig()
		if err != nil {
			return fmt.Errorf("ring: %w", err)
		}
		ml, err := memberlist.Create(cfg)
		if err != nil {
			return fmt.Errorf("ring: start gossip: %w", conf.At("cluster.bind", err))
		}
		// Read before ml is published: LocalNode is memberlist's own record, which UpdateNode
		// (SetState, SetOriginsDown) rewrites under memberlist's lock, so reading it later
		// raced with a metadata change (the race detector caught GossipAddr against
		// SetOriginsDown). The address never changes after Create.
		self := ml.LocalNode().Address()
		r.gossip.Store(&self)
		r.ml.Store(ml)
		r.conflict.self.Store(&self)
		mlCfg = cfg
		r.log.Info("ring: gossip started", "addr", r.gossipAddr(ml), "encrypted", cfg.SecretKey != nil)
	}
	r.started = true
	r.wg.Add(1)
	go r.notifyLoop()
	if ml := r.ml.Load(); ml != nil && len(r.cluster.Join) > 0 {
		r.conflict.starting.Store(true)
		r.join(ml)
		err := r.settleConflict(ml, mlCfg)
		r.conflict.starting.Store(false)
		if err != nil {
			// Not a member under a name another node holds: no gossip, no keys (conflict.go).
			return errors.Join(err, r.shutdownLocked())
		}
		r.wg.Add(1)
		go r.rejoinLoop(ml)
	}
	return nil
}

// Shutdown stops gossip without announcing a leave: peers notice through failure detection.
// It is safe to call more than once; afterwards OnChange and OnMessage are not called again
// by the ring (a callback already running may finish).
func (r *Ring) Shutdown() error {
	r.lifeMu.Lock()
	defer r.lifeMu.Unlock()
	return r.shutdownLocked()
}

func (r *Ring) shutdownLocked() error {
	if r.stopped {
		return nil
	}
	r.stopped = true
	close(r.done)
	var err error
	if ml := r.ml.Load(); ml != nil {
		if e := ml.Shutdown(); e != nil {
			err = fmt.Errorf("ring: shutdown: %w", e)
		}
	}
	r.wg.Wait()
	return err
}

// Leave announces that this node leaves (state leaving, then memberlist's leave), waits up to timeout for the announcement to reach
// a peer, then shuts down. Peers drop the node as soon as the announcement arrives, without
// waiting for failure detection. Call SetState(StateDraining) earlier to hand keys over
// while still serving.
func (r *Ring) Leave(timeout time.Duration) error {
	r.lifeMu.Lock()
	defer r.lifeMu.Unlock()
	var err error
	if ml := r.ml.Load(); ml != nil && !r.stopped {
		// Said first, so that peers tell this leave from a failure (memberlist reports both
		// alike): a peer that sees the leave before this update takes it for one (Failed).
		if e := r.updateSelf(func(m *Member) { m.State = StateLeaving }); e != nil {
			err = fmt.Errorf("ring: leave: %w", e)
		}
		if e := ml.Leave(timeout); e != nil {
			err = fmt.Errorf("ring: leave: %w", e)
		}
	}
	return errors.Join(err, r.shutdownLocked())
}

// GossipAddr is the address peers reach this node's gossip on (the advertised address, with
// port 0 resolved to the port actually bound), or "" when running alone or not started.
func (r *Ring) GossipAddr() string {
	ml := r.ml.Load()
	if ml == nil {
		return ""
	}
	return r.gossipAddr(ml)
}

func (r *Ring) gossipAddr(*memberlist.Memberlist) string {
	return *r.gossip.Load()
}

func (r *Ring) numNodes() int {
	if ml := r.ml.Load(); ml != nil {
		return ml.NumMembers()
	}
	return 1
}
