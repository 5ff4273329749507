package ring

import (
	"fmt"
	"slices"
	"time"

	"github.com/hashicorp/memberlist"
)

// memberUp records a member that joined or changed its metadata. Called from memberlist's
// event delegate, one event at a time.
func (r *Ring) memberUp(n *memberlist.Node) {
	if n.Name == r.selfName {
		return // our own record is the one SetState keeps; memberlist echoes it
	}
	m, err := decodeMeta(n.Name, n.Meta)
	if err != nil {
		// A member we cannot read (a newer or broken peer) stays visible but owns nothing.
		r.log.Warn("ring: unreadable member metadata; treating it as not ready", "member", n.Name, "err", err)
		m = Member{Name: n.Name, State: StateNotReady}
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	r.rememberAddrLocked(n)
	if old, ok := r.members[n.Name]; ok && sameMember(old, m) {
		return
	}
	r.members[n.Name] = m
	r.changedLocked()
	r.log.Debug("ring: member up", "member", m.Name, "state", m.State, "region", m.Region)
}

// memberDown removes a member that failed or left. Called like memberUp.
func (r *Ring) memberDown(name string) {
	if name == r.selfName {
		return // we are always a member of our own view
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	m, ok := r.members[name]
	var failed *Member
	if ok && m.State != StateLeaving {
		failed = &m
	}
	r.forgetAddrLocked(name, time.Now(), failed)
	if !ok {
		return
	}
	delete(r.members, name)
	r.changedLocked()
	r.log.Info("ring: member down", "member", name, "failed", failed != nil)
}

func sameMember(a, b Member) bool {
	return a.Name == b.Name && a.Region == b.Region && a.PeerAddr == b.PeerAddr &&
		a.PublicAddr == b.PublicAddr && a.Weight == b.Weight && a.State == b.State &&
		a.OriginsDown == b.OriginsDown && a.VNodes == b.VNodes && slices.Equal(a.VIPs, b.VIPs)
}

// changedLocked publishes a new view and wakes the OnChange goroutine. r.mu must be held, so
// views are published in the order the changes happened.
func (r *Ring) changedLocked() {
	r.rebuildLocked()
	r.metrics.changes.Inc()
	select {
	case r.changed <- struct{}{}:
	default: // a notification is already pending; it will see this view too
	}
}

func (r *Ring) rebuildLocked() {
	vnodes := ringVNodes(r.members, r.vnodes)
	if vnodes != r.ringVNodes {
		if vnodes != r.vnodes {
			r.log.Warn("ring: members disagree on cluster.vnodes; the ring uses the smallest so owners agree: make them equal",
				"vnodes", vnodes, "configured", r.vnodes)
		} else if r.ringVNodes != 0 {
			r.log.Info("ring: members agree on cluster.vnodes again", "vnodes", vnodes)
		}
		r.ringVNodes = vnodes
	}
	v := newView(r.members[r.selfName], r.members, vnodes)
	r.view.Store(v)
	r.metrics.setMembers(v.members)
}

// ringVNodes is the smallest cluster.vnodes any member says (own, when none says): every
// member computes it from the same member list, so rings built from it agree on owners while
// files disagree, where each member's own value gave each its own ring.
func ringVNodes(members map[string]Member, own int) int {
	vnodes := own
	for _, m := range members {
		if m.VNodes > 0 && m.VNodes < vnodes {
			vnodes = m.VNodes
		}
	}
	return vnodes
}

// notifyLoop delivers OnChange on one goroutine, outside memberlist's locks, so the callback
// can never run concurrently with itself nor deadlock by calling back into the ring.
func (r *Ring) notifyLoop() {
	defer r.wg.Done()
	for {
		select {
		case <-r.done:
			return
		case <-r.changed:
			if r.opts.OnChange != nil {
				r.opts.OnChange()
			}
		}
	}
}

// join contacts the join list once and reports whether we now see another member.
func (r *Ring) join(ml *memberlist.Memberlist) bool {
	n, err := ml.Join(r.cluster.Join)
	if err != nil {
		r.log.Warn("ring: join failed; retrying in the background", "join", r.cluster.Join, "err", err)
		return false
	}
	r.log.Info("ring: joined", "contacted", n, "members", ml.NumMembers())
	return ml.NumMembers() > 1
}

const (
	rejoinMin = time.Second
	rejoinMax = 30 * time.Second
)

// rejoinLoop retries the join list while this node sees no other member: at start-up before
// the peers are up, and after a partition left it alone.
func (r *Ring) rejoinLoop(ml *memberlist.Memberlist) {
	defer r.wg.Done()
	wait := rejoinMin
	timer := time.NewTimer(wait)
	defer timer.Stop()
	for {
		select {
		case <-r.done:
			return
		case <-timer.C:
		}
		switch {
		case ml.NumMembers() > 1:
			wait = rejoinMin
		case r.join(ml):
			wait = rejoinMin
		default:
			wait = min(2*wait, rejoinMax)
		}
		timer.Reset(wait)
	}
}

// SetState changes this node's state and gossips it (setting the state it already has does
// nothing: no ring change, no gossip); a draining or not-ready node owns no
// keys, on every node, once the update has spread (about one gossip round). The error reports
// an invalid state only: if no peer confirms the update within a second it is logged and
// still spreads through gossip and push/pull.
func (r *Ring) SetState(s State) error {
	if err := validState(s); err != nil {
		return fmt.Errorf("ring: %w", err)
	}
	return r.updateSelf(func(m *Member) { m.State = s })
}

// SetVIPs changes the VIPs this node offers to hold and gossips them like SetState.
func (r *Ring) SetVIPs(vips []string) error {
	return r.updateSelf(func(m *Member) { m.VIPs = canonicalVIPs(vips) })
}

// SetOriginsDown changes how many origin pools this node sees down and gossips it like
// SetState; peers compare it with their own (see Member.OriginsDown).
func (r *Ring) SetOriginsDown(n int) error {
	return r.updateSelf(func(m *Member) { m.OriginsDown = max(n, 0) })
}

func (r *Ring) updateSelf(change func(*Member)) error {
	r.stateMu.Lock()
	defer r.stateMu.Unlock()

	r.mu.Lock()
	old := r.members[r.selfName]
	self := old
	self.VIPs = slices.Clone(old.VIPs) // change may edit it; members share theirs with views
	change(&self)
	if sameMember(old, self) {
		// Nothing to tell: callers re-announce on every readiness tick, and each needless
		// update would rebuild every member's ring and gossip a round of alive messages.
		r.mu.Unlock()
		return nil
	}
	meta, err := encodeMeta(self)
	if err != nil {
		r.mu.Unlock()
		return fmt.Errorf("ring: %w", err)
	}
	r.meta.Store(&meta)
	r.members[r.selfName] = self
	r.changedLocked()
	r.mu.Unlock()

	ml := r.ml.Load()
	select {
	case <-r.done:
		return nil // shut down: nobody to tell
	default:
	}
	if ml == nil {
		return nil
	}
	// UpdateNode may trigger our event delegate, which takes r.mu: it must run unlocked.
	if err := ml.UpdateNode(updateTimeout); err != nil {
		r.log.Warn("ring: metadata update not confirmed by a peer yet; gossip will carry it", "err", err)
	}
	return nil
}
