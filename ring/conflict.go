package ring

import (
	"fmt"
	"sync/atomic"

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
// memberlist sees the same address, the node refutes its old state and rejoins. A conflict
// found after Start (a join retried in the background, two partitions that heal) cannot
// stop the process from here: it is logged once and counted in shoal_ring_name_conflicts_total.

// nameConflict records the conflicts memberlist reports; a field of Ring.
type nameConflict struct {
	with   atomic.Pointer[string] // the address of the member that holds our name
	logged atomic.Bool
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
	if r.conflict.logged.CompareAndSwap(false, true) {
		r.log.Error("ring: another member has this node's node.name: give each node a name of its own",
			"node", r.selfName, "other", addr)
	}
}

// conflictError is Start's error when the join found our name taken, or nil.
func (r *Ring) conflictError() error {
	addr := r.conflict.with.Load()
	if addr == nil {
		return nil
	}
	return fmt.Errorf("ring: node.name %q is already a cluster member's, at %s: refusing to join as a duplicate (give each node a name of its own)", r.selfName, *addr)
}

var _ memberlist.ConflictDelegate = delegate{}
