package vip

import (
	"net/netip"
	"slices"
	"time"
)

// Break before make. Views disagree for a while whenever membership changes: a healed
// partition (memberlist re-admits the returning node a second or more after the detector
// hears it), a restarted or joining node that wins a VIP by rendezvous, a holder whose down
// mark is lifted before its successor's view says so. During that while the node that
// should hold a VIP by its own view and the node that holds it by another view would both
// answer for it. So a node adds a VIP to its interface only when no reachable peer says it
// holds that VIP:
//
//   - Every ping and pong carries the VIPs its sender holds (a VIP being added counts as
//     held from just before the add, and a removed one stops counting only after the
//     removal), and a pong echoes the id of the ping it answers.
//   - For a VIP it should hold and does not, a node pings every other eligible member that
//     offers it and is not marked down, at once and then every ProbeEvery, and acquires
//     only when each has answered a ping sent after the wait began with a pong that does
//     not list the VIP. A takeover from a dead holder (marked down, so not asked) costs
//     about one round trip to the others.
//   - A member that says it holds the VIP keeps the waiter waiting until it says otherwise,
//     leaves the view or is marked down: it holds the VIP by a view that has yet to
//     change, and it will release once its view changes.
//   - A member that has not answered after 2×ProbeWindow (and as many ticks of pinging) is
//     not waited for: it is dead or cut off, and a cut-off holder releases by the fencing
//     rule long before its successor may take over.
//   - A holder never releases because of another member's claim, so two nodes can never
//     make each other let go (no livelock): only views and the detector's verdicts release.
//
// What it does not cover: two nodes that neither hold a VIP and both start wanting it at
// the same moment (views that disagree about the same holderless VIP, as at a cluster's
// first start) both see the other claim nothing. That takes two views that each leave the
// other node out while both have quorum, and lasts until the views converge.

// peerClaims is what a peer last said it holds.
type peerClaims struct {
	msg      message   // the latest ping or pong carrying claims
	at       time.Time // when msg arrived
	answered uint64    // the highest ping id its pongs echoed
}

// maxClaimers bounds the members whose claims are kept: the view's, and as many others.
const maxClaimers = 256

// pingSeen is the latest ping a peer sent.
type pingSeen struct {
	id uint64
	at time.Time
}

// acquireWait is a VIP this node should hold and does not yet, held back until its peers
// have said they do not hold it.
type acquireWait struct {
	since   time.Time
	seq     uint64 // pongs echoing this ping id or a later one answer after since
	ticks   int    // ticks that pinged: a starved process gives up on a peer later, not sooner
	expired bool   // peers that have not answered by now are no longer waited for
	peers   []string
}

// setHolding sets what this node says it holds in its pings and pongs. held must not be
// modified afterwards. When it is about to add a VIP, it pings every other eligible member
// at once: its successor must know before the next heartbeat, in case this node is cut off
// right after the add and the successor's view then drops it. When it lets a VIP go, it
// answers at once the latest ping of every peer that pinged within 2×ProbeWindow: a peer
// waiting for that VIP pings every ProbeEvery, and need not wait for its next ping to
// learn that it may add it.
func (d *detector) setHolding(held []netip.Addr) {
	var out []outgoing
	d.mu.Lock()
	now := time.Now()
	released := slices.ContainsFunc(d.holding, func(a netip.Addr) bool { return !slices.Contains(held, a) })
	added := slices.ContainsFunc(held, func(a netip.Addr) bool { return !slices.Contains(d.holding, a) })
	d.holding = held
	if added {
		for _, p := range d.plan.peers {
			out = append(out, outgoing{p, d.pingLocked()})
		}
	}
	if released {
		for p, s := range d.pings {
			if now.Sub(s.at) <= 2*d.o.ProbeWindow {
				out = append(out, outgoing{p, d.pongLocked(s.id, held)})
			}
		}
	}
	d.mu.Unlock()
	for _, o := range out {
		d.send(o.to, o.msg)
	}
}

// gate takes the VIPs this node should hold and does not, each with the peers that may hold
// it by their own view (eligible, offering it, not marked down), and returns those that may
// be added now. It starts waits for new VIPs, forgets those no longer listed, and pings the
// peers of new waits at once; the detector calls changed when an answer or the answer bound
// may have cleared a wait. Loop goroutine only.
func (d *detector) gate(pending map[netip.Addr][]string) map[netip.Addr]bool {
	var out []outgoing
	mayAdd := map[netip.Addr]bool{}
	d.mu.Lock()
	now := time.Now()
	for a := range d.waits {
		if _, ok := pending[a]; !ok {
			delete(d.waits, a)
		}
	}
	asked := map[string]bool{}
	for a, peers := range pending {
		w := d.waits[a]
		fresh := w == nil
		if fresh {
			w = &acquireWait{since: now, seq: d.nextID + 1}
			d.waits[a] = w
		}
		w.peers = peers
		waiting := d.waitingOn(w, a, now)
		if len(waiting) == 0 {
			mayAdd[a] = true
		}
		for _, p := range waiting {
			if fresh && !asked[p] {
				asked[p] = true
				out = append(out, outgoing{p, d.pingLocked()})
			}
		}
	}
	d.metrics.detectorWaiting.Set(float64(len(pending) - len(mayAdd)))
	d.mu.Unlock()
	for _, o := range out {
		d.send(o.to, o.msg)
	}
	return mayAdd
}

// waitingOn returns the members w still waits for before a may be added. d.mu is held.
func (d *detector) waitingOn(w *acquireWait, a netip.Addr, now time.Time) []string {
	var out []string
	for _, p := range w.peers { // eligible, offering a, not marked down
		c := d.claims[p]
		switch {
		case !c.at.Before(w.since) && c.msg.holds(a): // it holds a by its view: wait for it to let go
		case c.answered >= w.seq:
			continue
		case d.heldLately(c, a, now): // it held a lately and has not answered since
		case w.expired:
			continue
		}
		out = append(out, p)
	}
	// A member out of our view may still hold a by its own: memberlist here declared it
	// dead while it lives (loss, a starved process, a one-way cut), or its view has us
	// no more than ours has it (under loss each side's memberlist may declare the other
	// dead: issue 20's 20% loss run). Its heartbeats reach us while we are next in line
	// for its VIPs, and it answers our pings while it lives (the ring reaches members out
	// of the view for a while): wait while what it last said lists a (it releases when its
	// view changes; a cut-off holder fences, and its claims then stop within SilentAfter).
	// A member that just left the view is asked before a is added, as a member in the view
	// is: it may hold a without having heartbeated us (its view put another member next
	// in line). A member that says it is leaving (draining: Manager.Leave) keeps its VIPs a
	// moment after peers have added them, on purpose, and is not waited for once it has
	// answered; nor is one a majority found gone before it left the view (not in d.left).
	for p, c := range d.claims {
		if _, asked := d.left[p]; !asked && d.outOfViewWaits(w, p, c, a, now) {
			out = append(out, p)
		}
	}
	for p := range d.left {
		if d.outOfViewWaits(w, p, d.claims[p], a, now) {
			out = append(out, p)
		}
	}
	return out
}

// outOfViewWaits reports whether w waits for p, a member out of the view whose latest
// claims are c (zero if none). d.mu is held.
func (d *detector) outOfViewWaits(w *acquireWait, p string, c peerClaims, a netip.Addr, now time.Time) bool {
	if slices.Contains(w.peers, p) || d.down[p] {
		return false
	}
	answered := c.answered >= w.seq
	_, justLeft := d.left[p]
	switch {
	case d.heldLately(c, a, now):
		return !answered || !c.msg.leaving()
	case justLeft:
		return !answered && !w.expired
	}
	return false
}

// askLeftFor is how long a member that left the view is still asked what it holds before a
// VIP is added: the ring's SendDirect reaches a member out of the view for 30 s.
const askLeftFor = 30 * time.Second

// heldLately reports whether c said its member holds a less than SilentAfter ago.
func (d *detector) heldLately(c peerClaims, a netip.Addr, now time.Time) bool {
	return c.msg.holds(a) && now.Sub(c.at) < d.o.SilentAfter
}

// waitTickLocked pings, every tick, the peers the waits are held back by, and gives up on
// those that have not answered within the bound. It reports whether a wait may have cleared.
// d.mu is held.
func (d *detector) waitTickLocked(now time.Time, out []outgoing) ([]outgoing, bool) {
	notify := false
	asked := map[string]bool{}
	for a, w := range d.waits {
		waiting := d.waitingOn(w, a, now)
		if len(waiting) == 0 {
			continue
		}
		if !w.expired && w.ticks >= 2*d.probeTicks() && now.Sub(w.since) >= 2*d.o.ProbeWindow {
			w.expired, notify = true, true
			var silent []string
			for _, p := range w.peers {
				if c := d.claims[p]; c.answered < w.seq && !c.msg.holds(a) {
					silent = append(silent, p)
				}
			}
			if len(silent) > 0 {
				d.metrics.detectorUnanswered.Add(float64(len(silent)))
				d.log.Info("vip: peers did not say what they hold; no longer waiting for them", "vip", a, "peers", silent)
			}
		}
		w.ticks++
		for _, p := range waiting {
			if !asked[p] {
				asked[p] = true
				out = append(out, outgoing{p, d.pingLocked()})
			}
		}
	}
	return out, notify
}

// recordClaimsLocked keeps what a ping or pong says its sender holds (whether or not the
// sender is in our view: see waitingOn) and, for a ping from an eligible member, its id, so
// that a release can answer it. It reports whether a wait may have cleared. d.mu is held.
func (d *detector) recordClaimsLocked(m message, now time.Time) bool {
	if m.kind == kindPing && d.names[m.from] {
		d.pings[m.from] = pingSeen{m.id, now}
	}
	if !m.hasClaims || m.kind != kindPing && m.kind != kindPong {
		return false
	}
	if _, known := d.claims[m.from]; !known && !d.names[m.from] && len(d.claims) >= maxClaimers {
		return false // a flood of names no view has: not the few members a cluster has
	}
	c := d.claims[m.from]
	c.msg, c.at = m, now
	d.claims[m.from] = c
	if m.kind == kindPong {
		d.answeredLocked(m)
	}
	return len(d.waits) > 0
}

// answeredLocked records that pong m answers our ping m.id, if that is a ping of this run
// (not one of a run before a restart: see detector.nextID) later than the last it answered.
// It reports whether a wait may have cleared. d.mu is held.
func (d *detector) answeredLocked(m message) bool {
	c, known := d.claims[m.from]
	if !known || m.id <= c.answered || m.id <= d.firstID || m.id > d.nextID {
		return false
	}
	c.answered = m.id
	d.claims[m.from] = c
	return len(d.waits) > 0
}

// pingLocked returns a ping with a new id, carrying what this node holds. d.mu is held.
func (d *detector) pingLocked() message {
	id := d.seqLocked()
	return d.leavingLocked(message{kind: kindPing, id: id, from: d.self, hasClaims: true, claims: d.holding, seq: id})
}

// pongLocked returns the pong to ping id, carrying held as what this node holds. d.mu is held.
func (d *detector) pongLocked(id uint64, held []netip.Addr) message {
	return d.leavingLocked(message{kind: kindPong, id: id, from: d.self, hasClaims: true, claims: held, seq: d.seqLocked()})
}

// leavingLocked marks m as sent by a node that is leaving, once Leave was called. d.mu is held.
func (d *detector) leavingLocked(m message) message {
	if d.leaving {
		m.target = d.self
	}
	return m
}

// leave makes every later ping and pong say that this node is leaving (Manager.Leave).
func (d *detector) leave() {
	d.mu.Lock()
	defer d.mu.Unlock()
	d.leaving = true
}

// seqLocked returns a new number for a ping or a claim: above every number this node sent,
// in this run or an earlier one (see detector.nextID). d.mu is held.
func (d *detector) seqLocked() uint64 {
	d.nextID++
	return d.nextID
}

// seqSeen is the highest claims sequence number a member sent, and when it arrived.
type seqSeen struct {
	seq uint64
	at  time.Time
}

// overtakenLocked reports whether m, a ping or pong numbered by its sender, arrived after a
// later one of the same sender (the network reordered them); otherwise it keeps m's number.
// Without it an old pong saying "I hold nothing" applied after a newer ping saying "I hold
// the VIP" would let this node add the VIP beside its holder. Numbers only grow, across the
// sender's restarts too, unless its clock stepped back: so the order counts only for
// SilentAfter after the latest number arrived, and a sender restarted with its clock set
// back is heard again after that while, not never. d.mu is held.
func (d *detector) overtakenLocked(m message, now time.Time) bool {
	if m.seq == 0 { // a sender that predates sequence numbers: every message is the latest
		return false
	}
	last, known := d.seqs[m.from]
	if known && m.seq <= last.seq && now.Sub(last.at) < d.o.SilentAfter {
		return true
	}
	if known || d.names[m.from] || len(d.seqs) < maxClaimers {
		d.seqs[m.from] = seqSeen{m.seq, now}
	}
	return false
}
