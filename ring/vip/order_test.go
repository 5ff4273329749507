package vip

import (
	"log/slog"
	"net/netip"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// fakePeer answers a Manager's detector datagrams as a peer would: every ping gets a pong
// listing what the peer holds, numbered above everything it sent before. Tests inject
// datagrams the network delayed or reordered with deliver.
type fakePeer struct {
	t     *testing.T
	name  string
	vip   netip.Addr
	tm    *testManager
	seq   atomic.Uint64
	holds atomic.Bool // what its pongs say
	mute  atomic.Bool // pings go unanswered (lost)

	mu    sync.Mutex
	pings []uint64 // ids of the pings it received
}

func newFakePeer(t *testing.T, name string, vip netip.Addr) *fakePeer {
	p := &fakePeer{t: t, name: name, vip: vip}
	p.seq.Store(1000)
	return p
}

// transport is the Manager's transport: it delivers to the fake peer only.
func (p *fakePeer) transport() Transport {
	return TransportFunc(func(to string, b []byte) error {
		m, err := decodeMessage(b)
		if err != nil {
			p.t.Errorf("sent a datagram that does not decode: %v", err)
			return nil
		}
		if to != p.name || m.kind != kindPing {
			return nil
		}
		p.mu.Lock()
		p.pings = append(p.pings, m.id)
		p.mu.Unlock()
		if !p.mute.Load() {
			go p.deliver(p.message(kindPong, m.id, p.holds.Load()))
		}
		return nil
	})
}

// message is a ping or pong of the peer, numbered now.
func (p *fakePeer) message(kind byte, id uint64, holds bool) message {
	m := message{kind: kind, id: id, from: p.name, hasClaims: true, seq: p.seq.Add(1)}
	if holds {
		m.claims = []netip.Addr{p.vip}
	}
	return m
}

func (p *fakePeer) deliver(ms ...message) {
	for _, m := range ms {
		p.tm.Receive(m.append(nil))
	}
}

// firstPing waits for the Manager's first ping to the peer and returns its id.
func (p *fakePeer) firstPing(t *testing.T) uint64 {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for time.Now().Before(deadline) {
		p.mu.Lock()
		n := len(p.pings)
		var id uint64
		if n > 0 {
			id = p.pings[0]
		}
		p.mu.Unlock()
		if n > 0 {
			return id
		}
		time.Sleep(time.Millisecond)
	}
	t.Fatal("the Manager never pinged its peer")
	return 0
}

// orderSetup returns a Manager that should hold one VIP by its view beside one peer that
// offers it too, so that it asks the peer before adding it.
func orderSetup(t *testing.T, peerHolds bool) (*testManager, *fakePeer, netip.Prefix, []Candidate) {
	t.Helper()
	vips := prefixes(t, vipA)
	self, peer := "edge-1", "edge-2"
	if Holders(vips, candidates(vips, self, peer), true)[vips[0].Addr()] != self {
		self, peer = peer, self
	}
	p := newFakePeer(t, peer, vips[0].Addr())
	p.holds.Store(peerHolds)
	p.mute.Store(true) // until the test has put its reordered datagrams in place
	p.tm = newTestManager(t, self, []string{vipA}, Options{Detector: DetectorOptions{Transport: p.transport()}})
	return p.tm, p, vips[0], candidates(vips, self, peer)
}

// stillWithout fails if tm adds v within d.
func stillWithout(t *testing.T, tm *testManager, v netip.Prefix, d time.Duration, why string) {
	t.Helper()
	select {
	case <-tm.nl.added:
		t.Fatalf("%s added while %s", v, why)
	case <-time.After(d):
	}
}

func acquiredWithin(t *testing.T, tm *testManager, v netip.Prefix, d time.Duration, why string) {
	t.Helper()
	select {
	case <-tm.nl.added:
	case <-time.After(d):
		t.Fatalf("%s not added within %v, %s", v, d, why)
	}
}

// TestClaims_overtakenPongDoesNotHideTheHolder: the peer answered our ping saying it held
// nothing, then added the VIP by its own view and pinged us saying so; the network delivers
// the ping first. The old pong, applied last, would say the peer holds nothing and answer
// our ping: we would add the VIP beside it. It must be dropped as overtaken.
func TestClaims_overtakenPongDoesNotHideTheHolder(t *testing.T) {
	tm, p, v, view := orderSetup(t, true)
	tm.Update(view, true)
	ours := p.firstPing(t)
	oldPong := p.message(kindPong, ours, false) // sent first...
	newPing := p.message(kindPing, 1, true)     // ...then it acquired the VIP
	p.deliver(newPing, oldPong)
	stillWithout(t, tm, v, 4*DefaultProbeWindow, "the peer's latest word was that it holds it")
	if got := tm.metric(t, "shoal_vip_detector_stale_total", nil); got != 1 {
		t.Errorf("counted %v overtaken datagrams, want 1", got)
	}

	p.mute.Store(false) // its pongs say it holds the VIP: still no add
	stillWithout(t, tm, v, 2*DefaultProbeWindow, "the peer answers that it holds it")
	p.holds.Store(false) // its view changed: it released
	acquiredWithin(t, tm, v, 2*time.Second, "after the peer said it released it")
}

// TestClaims_overtakenClaimDoesNotDelayTheAcquisition: the peer pinged us while it held the
// VIP, released it, and answered our ping saying so; the network delivers the old ping
// last. Applied last, the old claim would keep us waiting for a release that already
// happened, for as long as the peer stays in the view (it is not asked again once it has
// answered).
func TestClaims_overtakenClaimDoesNotDelayTheAcquisition(t *testing.T) {
	tm, p, v, view := orderSetup(t, false)
	tm.Update(view, true)
	ours := p.firstPing(t)
	oldPing := p.message(kindPing, 1, true)     // sent while it held the VIP
	newPong := p.message(kindPong, ours, false) // after it released it
	p.deliver(newPong, oldPing)
	acquiredWithin(t, tm, v, time.Second, "though the peer's latest word was that it released it")
}

// TestClaims_pongFromBeforeARestartIsNoAnswer: this node pinged the peer, restarted, and
// wants the VIP again; the pong to the previous run's ping arrives late, and says the peer
// held nothing then. Since then the peer added the VIP. If ping ids started over, the old
// pong would answer this run's ping and the VIP would be added beside its holder.
func TestClaims_pongFromBeforeARestartIsNoAnswer(t *testing.T) {
	before, p, v, view := orderSetup(t, false)
	before.Update(view, true)
	old := p.firstPing(t)
	if err := before.Close(); err != nil {
		t.Fatal(err)
	}

	p.mu.Lock()
	p.pings = nil
	p.mu.Unlock()
	p.holds.Store(true) // the peer took the VIP while this node was away
	p.tm = newTestManager(t, before.self, []string{vipA}, Options{Detector: DetectorOptions{Transport: p.transport()}})
	p.tm.Update(view, true)
	ours := p.firstPing(t)
	if ours <= old {
		t.Errorf("the restarted node's first ping is numbered %d, not above the previous run's %d", ours, old)
	}
	p.deliver(p.message(kindPong, old, false)) // the late pong, before any answer of this run
	stillWithout(t, p.tm, v, 30*time.Millisecond, "the only answer was to the previous run's ping")
	p.mute.Store(false)
	stillWithout(t, p.tm, v, 2*DefaultProbeWindow, "the peer answers that it holds it")
}

// TestDetector_overtakenHeartbeatDoesNotRaiseTheDead: the neighbour on the successor's side.
// A majority found the holder gone and marked it down; a heartbeat it sent before a later one
// we already had arrives now (the network held it back). It proves nothing about the holder
// now: it must not lift the down mark, which would hand the VIP back to a dead process. A
// heartbeat numbered above the latest lifts it (the holder is back), as before.
func TestDetector_overtakenHeartbeatDoesNotRaiseTheDead(t *testing.T) {
	met, err := newMetrics(nil)
	if err != nil {
		t.Fatal(err)
	}
	d := newDetector("edge-1", DetectorOptions{Transport: TransportFunc(func(string, []byte) error { return nil })},
		slog.New(slog.DiscardHandler), met, func() {})
	d.setPlan(plan{watch: []string{"edge-3"}, peers: []string{"edge-2", "edge-3"}, size: 3},
		map[string]bool{"edge-1": true, "edge-2": true, "edge-3": true}, time.Now())
	beat := func(seq uint64) []byte {
		return message{kind: kindPing, id: seq, from: "edge-3", hasClaims: true, seq: seq}.append(nil)
	}
	d.receive(beat(20), time.Now())
	d.mu.Lock()
	d.down["edge-3"] = true // the confirmation that follows its silence
	d.mu.Unlock()

	d.receive(beat(19), time.Now())
	if down, _ := d.state(time.Now()); !down["edge-3"] {
		t.Error("a heartbeat overtaken by one already received lifted the down mark")
	}
	d.receive(beat(21), time.Now())
	if down, _ := d.state(time.Now()); down["edge-3"] {
		t.Error("a new heartbeat did not lift the down mark: the test proves nothing")
	}
}

// TestClaims_overtakenPongStillAnswers: the peer answered our ping, then sent a heartbeat, and
// the network delivered the heartbeat first. The pong's claims are older than the heartbeat's
// and are dropped, but it still answers our ping (it was sent after our ping arrived): we
// must not give up on the peer as silent and wait out the answer bound.
func TestClaims_overtakenPongStillAnswers(t *testing.T) {
	tm, p, v, view := orderSetup(t, false)
	tm.Update(view, true)
	ours := p.firstPing(t)
	pong := p.message(kindPong, ours, false)
	beat := p.message(kindPing, 1, false)
	p.deliver(beat, pong)
	acquiredWithin(t, tm, v, 2*time.Second, "after the peer said it holds nothing")
	if got := tm.metric(t, "shoal_vip_detector_unanswered_total", nil); got != 0 {
		t.Errorf("gave up on %v silent peers: the overtaken pong's answer was lost", got)
	}
	if got := tm.metric(t, "shoal_vip_detector_stale_total", nil); got != 1 {
		t.Errorf("counted %v overtaken datagrams, want 1 (the test proves nothing otherwise)", got)
	}
}
