package vip

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/netip"
	"slices"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/shoal-cdn/shoal/conf"
)

// Defaults for the zero Options fields.
const (
	DefaultAnnounceBurst = 3
	DefaultBurstInterval = 100 * time.Millisecond
	DefaultAnnounceEvery = 10 * time.Second
	DefaultRetryEvery    = time.Second
)

// ErrClosed is returned by ReleaseAll after Close.
var ErrClosed = errors.New("vip: manager closed")

// Options are the Manager's collaborators and timings. Every field may be left zero.
type Options struct {
	Logger     *slog.Logger          // nil discards
	Registerer prometheus.Registerer // nil registers nothing
	// Netlink adds and removes the addresses; nil means NewLinkAddrs(nil, cfg.Interface),
	// the interface in this process's network namespace.
	Netlink Netlink
	// Announcer sends gratuitous ARP / neighbour advertisements; nil opens a PacketAnnouncer
	// on cfg.Interface, which Close closes.
	Announcer Announcer
	// AnnounceBurst is how many announcements follow an acquisition (or a member coming
	// back into view), BurstInterval apart: one packet can be lost, three rarely are.
	// 0 means DefaultAnnounceBurst and DefaultBurstInterval.
	AnnounceBurst int
	BurstInterval time.Duration
	// AnnounceEvery repeats one announcement this often while a VIP is held, so a client
	// that missed the burst (or cached the wrong MAC in a split) recovers within the period.
	// 0 means DefaultAnnounceEvery; negative turns it off.
	AnnounceEvery time.Duration
	// RetryEvery is how soon a failed address change is tried again; 0 means
	// DefaultRetryEvery.
	RetryEvery time.Duration
	// Detector, when its Transport is set, runs the fast failure detector for VIP holders
	// (heartbeats to the member next in line, takeover confirmed by a majority); the
	// other members' datagrams must be handed to Receive. Without it VIPs move only when
	// the view given to Update changes.
	Detector DetectorOptions
}

// Manager holds and releases this node's share of the VIPs. Update feeds it the cluster view;
// its own goroutine adds and removes the addresses and sends the announcements, so no method
// blocks on the network. Its methods are safe for concurrent use.
type Manager struct {
	self    string
	vips    []netip.Prefix
	opts    Options
	log     *slog.Logger
	metrics *metrics
	nl      Netlink
	ann     Announcer
	owned   io.Closer // the announcer New opened, closed by Close
	det     *detector // nil without Options.Detector.Transport

	// loop is touched only by the loop goroutine (and by New before it starts).
	loop loopState

	mu      sync.Mutex
	pending *clusterView // latest view not yet applied by the loop; older ones are dropped
	redo    bool         // the detector changed its verdicts: reconcile the applied view again
	held    []netip.Prefix

	wake      chan struct{} // capacity 1: "pending changed", coalesced
	calls     chan call
	done      chan struct{} // closed by Close
	stopped   chan struct{} // closed when the loop has exited
	closeOnce sync.Once
	closeErr  error
}

// clusterView is one Update's input.
type clusterView struct {
	eligible []Candidate
	quorum   bool
}

// call is work run on the loop goroutine after the latest view is applied.
type call struct {
	fn   func() error
	done chan error
}

// New returns a running Manager for the VIPs of cfg on the node called self. It first
// removes every configured VIP from the interface: an address left behind by a crash must
// not be answered for until the cluster view says this node is the holder. A Manager with no
// addresses does nothing and opens nothing. Close must be called to stop it.
func New(cfg conf.VIP, self string, opts Options) (*Manager, error) {
	vips, err := parseConfig(cfg)
	if err != nil {
		return nil, fmt.Errorf("vip: %w", err)
	}
	if self == "" {
		return nil, errors.New("vip: empty node name")
	}
	opts = withDefaults(opts)
	met, err := newMetrics(opts.Registerer)
	if err != nil {
		return nil, err
	}
	m := &Manager{
		self: self, vips: vips, opts: opts, log: opts.Logger, metrics: met,
		nl: opts.Netlink, ann: opts.Announcer,
		wake: make(chan struct{}, 1), calls: make(chan call),
		done: make(chan struct{}), stopped: make(chan struct{}),
	}
	if len(vips) > 0 {
		if m.nl == nil {
			m.nl = NewLinkAddrs(nil, cfg.Interface)
		}
		for _, p := range vips {
			if err := m.nl.AddrDel(p); err != nil {
				return nil, fmt.Errorf("vip: removing a stale %s at start: %w", p, err)
			}
			met.held.WithLabelValues(p.Addr().String()).Set(0)
		}
		if m.ann == nil {
			pa, err := NewPacketAnnouncer(cfg.Interface)
			if err != nil {
				return nil, err
			}
			m.ann, m.owned = pa, pa
		}
		if opts.Detector.Transport != nil {
			m.det = newDetector(self, opts.Detector, m.log, met, m.detectorChanged)
			go m.det.run(m.done)
		}
	}
	go m.run()
	return m, nil
}

func withDefaults(o Options) Options {
	if o.Logger == nil {
		o.Logger = slog.New(slog.DiscardHandler)
	}
	if o.AnnounceBurst <= 0 {
		o.AnnounceBurst = DefaultAnnounceBurst
	}
	if o.BurstInterval <= 0 {
		o.BurstInterval = DefaultBurstInterval
	}
	if o.AnnounceEvery == 0 {
		o.AnnounceEvery = DefaultAnnounceEvery
	}
	if o.RetryEvery <= 0 {
		o.RetryEvery = DefaultRetryEvery
	}
	return o
}

// Update gives the Manager the current cluster view: the eligible members (alive and
// ready; include this node only while it may hold VIPs) and whether this node's view has
// quorum (see Quorum). It never blocks: the view is applied on the Manager's goroutine, and
// when views arrive faster than they are applied only the latest is applied. The Manager
// keeps eligible (not its Offers slices, which must not be modified afterwards).
func (m *Manager) Update(eligible []Candidate, quorum bool) {
	v := &clusterView{eligible: slices.Clone(eligible), quorum: quorum}
	m.mu.Lock()
	m.pending = v
	m.mu.Unlock()
	select {
	case m.wake <- struct{}{}:
	default: // a wake-up is already queued; it will pick up this view
	}
}

// Receive hands the Manager a fast failure detector datagram from another member (the
// counterpart of Options.Detector.Transport). It never blocks and is safe to call from the
// transport's goroutines; malformed datagrams are counted and dropped. Without a detector
// it does nothing.
func (m *Manager) Receive(msg []byte) {
	if m.det != nil {
		m.det.receive(msg, time.Now())
	}
}

// detectorChanged asks the loop to reconcile the applied view again under the detector's
// new verdicts. It never blocks.
func (m *Manager) detectorChanged() {
	m.mu.Lock()
	m.redo = true
	m.mu.Unlock()
	select {
	case m.wake <- struct{}{}:
	default:
	}
}

// Held returns the VIPs whose addresses are on the interface now, in configuration order.
func (m *Manager) Held() []netip.Prefix {
	m.mu.Lock()
	defer m.mu.Unlock()
	return slices.Clone(m.held)
}

// Leave tells the peers that this node is leaving (draining): from now on its pings and pongs
// say so, and a peer that takes one of its VIPs over does not wait for it to let the VIP go.
// It keeps its VIPs until ReleaseAll, so a graceful handover overlaps for a moment instead of
// leaving the address unanswered. Without Leave a peer waits for every member that says it
// holds a VIP, in its view or out of it (memberlist may have declared a live holder dead).
// Call it when the node starts draining, before ReleaseAll. Without a detector it does nothing.
func (m *Manager) Leave() {
	if m.det != nil {
		m.det.leave()
	}
}

// ReleaseAll removes every held address and holds nothing from then on, whatever later
// views say: the graceful-shutdown step, after this node has told the cluster it is
// draining so a peer takes the VIPs over. It returns when the addresses are gone, or with
// the removal errors (the Manager keeps retrying), or with ctx's error.
func (m *Manager) ReleaseAll(ctx context.Context) error {
	return m.do(ctx, func() error {
		m.loop.released = true
		if err := m.reconcile(false); err != nil {
			return fmt.Errorf("vip: release: %w", err)
		}
		return nil
	})
}

// Close stops the Manager. It removes any address still held, since a node that no longer
// follows the cluster view or re-announces must not keep answering for a VIP, and closes the
// announcer New opened. It is safe to call more than once.
func (m *Manager) Close() error {
	m.closeOnce.Do(func() {
		close(m.done)
		<-m.stopped
		if m.owned != nil {
			m.closeErr = errors.Join(m.closeErr, m.owned.Close())
		}
	})
	return m.closeErr
}

// do runs fn on the loop goroutine, after the latest pending view.
func (m *Manager) do(ctx context.Context, fn func() error) error {
	c := call{fn: fn, done: make(chan error, 1)}
	select {
	case m.calls <- c:
	case <-m.stopped:
		return ErrClosed
	case <-ctx.Done():
		return fmt.Errorf("vip: %w", ctx.Err())
	}
	select {
	case err := <-c.done:
		return err
	case <-ctx.Done():
		return fmt.Errorf("vip: %w", ctx.Err())
	}
}
