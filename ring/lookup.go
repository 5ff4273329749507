package ring

import (
	"slices"
)

// Self returns this node's member record as last set.
func (r *Ring) Self() Member { return r.view.Load().self }

// Members returns the live members including self, sorted by name.
func (r *Ring) Members() []Member { return slices.Clone(r.view.Load().members) }

// Owner returns the owner of key among alive members (not draining, not starting), and
// whether that is this node. When no member may own keys it returns this node, so a lone or
// draining node still serves its own requests.
func (r *Ring) Owner(key string) (m Member, self bool) { return r.view.Load().owner(key) }

// SoleOwner reports whether one member owns every key (a lone node, or one whose peers all
// drain): Owners then never names a second one.
func (r *Ring) SoleOwner() bool { return r.view.Load().sole != nil }

// Owners returns up to n owners of key: the owner first, then the member that owns key if
// the owner goes away, and so on. Like Owner, it falls back to this node alone.
func (r *Ring) Owners(key string, n int) []Member { return r.view.Load().owners(key, n) }

// OwnerBounded is Owner with bounded loads when cluster.bounded_load is above 1: an owner
// whose load is at or above bounded_load times the mean load of the alive members hands the
// key to the next owner. load is called from the caller's goroutine, once per alive member
// and once per owner considered; it must be cheap (an atomic read).
func (r *Ring) OwnerBounded(key string, load func(member string) float64) (m Member, self bool) {
	v := r.view.Load()
	c := r.cluster.BoundedLoad
	if c <= 1 || load == nil || len(v.nodes) == 0 {
		return v.owner(key)
	}
	total := 0.0
	for _, n := range v.nodes {
		total += load(n.Name)
	}
	name := v.ring.OwnerBounded(key, load, total/float64(len(v.nodes)), c)
	return v.eligible[name], name == v.self.Name
}
