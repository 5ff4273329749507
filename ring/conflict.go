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

	self  atomic.Pointer[string] // our gossip address, once memberlist is created
	taken atomic.Bool            // the last join's peer listed our name alive at our address
}

// NotifyConflict is memberlist's ConflictDelegate: existing is the node it knows under the
// name, other the one that claimed it from another address. It may be called from
// memberlist's network goroutines with its node lock held: it neither blocks nor calls
// back into memberlist.
func (d delegate) NotifyConflict(existing, other *memberlist.Node) {
	r := d.r
	if existing.Name != r.selfName {
		r.metrics.nameConflicts.Inc()
		return // two other members share a name; memberlist keeps the first and logs it
	}
	if !r.conflict.starting.Load() {
		// While Start settles a conflict it either fails (a duplicate: the process exits)
		// or finds a crashed predecessor, which is no duplicate to alert on.
		r.metrics.nameConflicts.Inc()
	}
	addr := other.Address()
	r.conflict.with.CompareAndSwap(nil, &addr)
	if !r.conflict.starting.Load() && r.conflict.logged.CompareAndSwap(false, true) {
		r.log.Error("ring: another member has this node's node.name: give each node a name of its own",
			"node", r.selfName, "other", addr)
	}
}

// NotifyMerge is memberlist's MergeDelegate, called with a peer's member list during a join
// (ours or the peer's), from the joining goroutine or memberlist's stream handler. It notes
// whether the peer lists this node's name alive at this node's address, which is how Start
// learns that a peer took a moved node back. It merges everything (nil).
func (d delegate) NotifyMerge(peers []*memberlist.Node) error {
	r := d.r
	self := r.conflict.self.Load()
	for _, n := range peers {
		if n.Name == r.selfName {
			r.conflict.taken.Store(self != nil && *self == n.Address() && n.State == memberlist.StateAlive)
			break
		}
	}
	return nil
}

// settleConflict is called by Start after its first join. With no conflict it returns nil.
// With one, it refuses at once if a process listens at the conflicting address. Otherwise
// it joins each member in turn, every probe interval, until every one lists this node at its
// address (a peer that declared the old member dead takes the new address from the join's
// push/pull and lists it at the next one), for at most reclaimWait; if only some did by then,
// gossip and push/pull bring the rest, and it returns nil with a warning; if none did, the
// conflict.
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
		"node", r.selfName, "old", *addr, "up_to", wait.String())
	start := time.Now()
	var took []string
	for time.Since(start) < wait {
		time.Sleep(cfg.ProbeInterval)
		peers := r.peerAddrs()
		took = took[:0]
		for _, p := range peers {
			r.conflict.with.Store(nil)
			r.conflict.taken.Store(false)
			if _, err := ml.Join([]string{p}); err == nil && r.conflict.taken.Load() && r.conflict.with.Load() == nil {
				took = append(took, p)
			}
		}
		if len(peers) > 0 && len(took) == len(peers) {
			r.log.Info("ring: joined at a new address", "node", r.selfName, "old", *addr, "after", time.Since(start).Round(time.Millisecond).String())
			return nil
		}
	}
	if len(took) > 0 {
		r.log.Warn("ring: joined at a new address; some members still list the old one, gossip will correct them",
			"node", r.selfName, "old", *addr, "took", took)
		r.conflict.with.Store(nil)
		return nil
	}
	if r.conflict.with.Load() == nil {
		r.conflict.with.Store(addr)
	}
	return fmt.Errorf("%w; still held after %v", r.conflictError(), wait)
}

// peerAddrs lists the gossip addresses of the other members, or cluster.join without any.
func (r *Ring) peerAddrs() []string {
	if out := r.viewAddresses(); len(out) > 0 {
		return out
	}
	return r.cluster.Join
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
	_ memberlist.MergeDelegate    = delegate{}
)
