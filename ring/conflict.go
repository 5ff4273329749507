package ring

import (
	"fmt"
	"math"
	"net"
	"sync/atomic"
	"time"

	"github.com/hashicorp/memberlist"
)

// A node started with a node.name a live member already has, at another address, is a
// duplicate: memberlist refuses its alive messages ("Conflicting address", logged every
// gossip round), so it formed a cluster of one that owned every key while the others kept
// the first node under that name. What an operator of memberlist or Consul expects is that
// the second one does not join: here Start fails when its join finds the name taken, with
// an error naming node.name and the member's address, and `shoal run` exits with it.
//
// A node restarted under its own name at the same address (after a crash) is no conflict:
// memberlist sees the same address, the node refutes its old state and rejoins.
//
// A node restarted under its name at a new address (moved to another host or IP after a
// crash) finds its peers still holding the name at the old address, alive or suspect until
// they declare it dead. Start tells the two apart by the old address: a live process there
// accepts a TCP connection on its gossip port, and the duplicate is refused at once; an
// address that refuses or does not answer is a crashed member, and Start retries the join
// until the cluster has declared it dead and taken the new address (memberlist lets another
// address take a dead member's name after deadNodeReclaimTime, where its default is never),
// for at most the time a crash takes to be declared dead (reclaimWait). A live member never
// gets declared dead (it refutes), so it keeps its name and the newcomer still fails.
//
// A conflict found after Start (a join retried in the background, two partitions that heal)
// cannot stop the process from here: it is logged once and counted in
// shoal_ring_name_conflicts_total.

// deadNodeReclaimTime is how long a member must have been dead before another address may
// take its name. Death is declared only after a suspicion a live process would have refuted,
// so nothing is gained by waiting longer; memberlist's 0 means never (only once the dead
// member is forgotten, gossipToTheDeadTime later).
const deadNodeReclaimTime = time.Millisecond

// knockTimeout bounds the connection Start opens to a conflicting address.
const knockTimeout = 500 * time.Millisecond

// nameConflict records the conflicts memberlist reports; a field of Ring.
type nameConflict struct {
	with     atomic.Pointer[string] // the address of the member that holds our name
	logged   atomic.Bool
	starting atomic.Bool // Start is settling a conflict: it logs, NotifyConflict does not

	self     atomic.Pointer[string] // our gossip address, once memberlist is created
	accepted atomic.Bool            // a peer told us of our name at our address
}

// NotifyConflict is memberlist's ConflictDelegate: existing is the node it knows under the
// name, other the one that claimed it from another address. It may be called from
// memberlist's network goroutines with its node lock held: it neither blocks nor calls
// back into memberlist.
func (d delegate) NotifyConflict(existing, other *memberlist.Node) {
	r := d.r
	r.metrics.nameConflicts.Inc()
	if existing.Name != r.selfName {
		return // two other members share a name; memberlist keeps the first and logs it
	}
	addr := other.Address()
	r.conflict.with.CompareAndSwap(nil, &addr)
	if !r.conflict.starting.Load() && r.conflict.logged.CompareAndSwap(false, true) {
		r.log.Error("ring: another member has this node's node.name: give each node a name of its own",
			"node", r.selfName, "other", addr)
	}
}

// NotifyAlive is memberlist's AliveDelegate, called for every alive message (under the same
// lock as NotifyConflict, with the same rules). It notes a peer's word that this node's name
// is at this node's address, which is how Start learns that a moved node was taken back.
func (d delegate) NotifyAlive(n *memberlist.Node) error {
	r := d.r
	if n.Name == r.selfName {
		if self := r.conflict.self.Load(); self != nil && *self == n.Address() {
			r.conflict.accepted.Store(true)
		}
	}
	return nil
}

// settleConflict is called by Start after its first join. With no conflict it returns nil.
// With one, it refuses at once if a process listens at the conflicting address, and
// otherwise rejoins until a peer has taken this node at its address with no conflict, or
// returns the conflict after reclaimWait.
func (r *Ring) settleConflict(ml *memberlist.Memberlist, cfg *memberlist.Config) error {
	addr := r.conflict.with.Load()
	if addr == nil {
		return nil
	}
	if c, err := net.DialTimeout("tcp", *addr, knockTimeout); err == nil {
		c.Close()
		return r.conflictError()
	}
	wait := reclaimWait(cfg, ml.NumMembers())
	r.log.Info("ring: a crashed member held this node's name at another address; waiting for the cluster to declare it dead",
		"node", r.selfName, "old", *addr, "up_to", wait)
	deadline := time.Now().Add(wait)
	for time.Now().Before(deadline) {
		time.Sleep(cfg.ProbeInterval)
		r.conflict.with.Store(nil)
		r.conflict.accepted.Store(false)
		r.join(ml)
		if r.conflict.with.Load() == nil && r.conflict.accepted.Load() {
			r.log.Info("ring: joined at a new address", "node", r.selfName, "old", *addr)
			return nil
		}
	}
	if err := r.conflictError(); err != nil {
		return fmt.Errorf("%w; still held after %v", err, wait)
	}
	return fmt.Errorf("ring: node.name %q: no peer took this node at its address within %v (the member at %s kept it)", r.selfName, wait, *addr)
}

// reclaimWait is how long a crashed member takes to be declared dead and its name freed, as
// memberlist computes suspicion (the lone-accuser maximum, scaled by log10 of the members),
// doubled for a probe round, gossip and a starved node's slower probing, plus a second.
func reclaimWait(cfg *memberlist.Config, members int) time.Duration {
	scale := math.Max(1, math.Log10(math.Max(1, float64(members))))
	suspicion := time.Duration(float64(cfg.SuspicionMult*cfg.SuspicionMaxTimeoutMult) * scale * float64(cfg.ProbeInterval))
	return 2*(cfg.ProbeInterval+suspicion+cfg.GossipInterval) + time.Second
}

// conflictError is Start's error when the join found our name taken, or nil.
func (r *Ring) conflictError() error {
	addr := r.conflict.with.Load()
	if addr == nil {
		return nil
	}
	return fmt.Errorf("ring: node.name %q is already a cluster member's, at %s: refusing to join as a duplicate (give each node a name of its own)", r.selfName, *addr)
}

var (
	_ memberlist.ConflictDelegate = delegate{}
	_ memberlist.AliveDelegate    = delegate{}
)
