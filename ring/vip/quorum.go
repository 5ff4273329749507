package vip

import "sync"

// Quorum decides whether this node's view of the cluster is a majority, so the minority side
// of a partition releases its VIPs instead of holding them beside the majority's holder.
//
// The cluster size is the larger of the expected size given to NewQuorum and the largest
// number of reachable members ever observed. Tracking the largest view means a 3-node cluster
// split 2/1 keeps quorum on the pair and loses it on the single node, without any
// configuration. Two consequences are deliberate: a node that has never seen its peers (it
// starts cut off) counts only what it saw, so give NewQuorum the intended cluster size as a
// floor for multi-node clusters; and a node removed for good still counts until the
// survivors restart, which is the safe direction (fewer holders, never two).
//
// Its methods are safe for concurrent use.
type Quorum struct {
	mu      sync.Mutex
	largest int
}

// NewQuorum returns a tracker whose cluster size starts at expected (0 or 1 for a single
// node).
func NewQuorum(expected int) *Quorum { return &Quorum{largest: max(expected, 0)} }

// Observe records that reachable members (self included, in any state: draining and
// starting members answer gossip too) are in view and reports whether they are a strict
// majority of the cluster size.
func (q *Quorum) Observe(reachable int) bool {
	q.mu.Lock()
	defer q.mu.Unlock()
	q.largest = max(q.largest, reachable)
	return reachable > 0 && 2*reachable > q.largest
}

// Size is the cluster size majorities are counted against.
func (q *Quorum) Size() int {
	q.mu.Lock()
	defer q.mu.Unlock()
	return q.largest
}
