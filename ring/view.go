package ring

import (
	"slices"
	"strings"

	"github.com/shoal-cdn/shoal/ring/hashring"
)

// view is one immutable picture of the cluster: the members and the ring of those that own
// keys. A new view replaces the old one on every change, so a reader holding a view sees
// members and owners that agree with each other.
type view struct {
	self     Member
	members  []Member          // every live member, self included, sorted by name
	eligible map[string]Member // members that own keys: state alive
	ring     *hashring.Ring    // over the eligible members
	nodes    []hashring.Node   // the ring's input, kept for rendezvous picks
	// sole is the one member that owns every key when only one may own any (a lone node),
	// or nil: its lookups need no hash.
	sole *Member
}

func newView(self Member, all map[string]Member, vnodes int) *view {
	v := &view{self: self, eligible: map[string]Member{}}
	for _, m := range all {
		v.members = append(v.members, m)
	}
	slices.SortFunc(v.members, func(a, b Member) int { return strings.Compare(a.Name, b.Name) })
	for _, m := range v.members {
		if m.State == StateAlive {
			v.eligible[m.Name] = m
			v.nodes = append(v.nodes, hashring.Node{Name: m.Name, Weight: m.Weight})
		}
	}
	v.ring = hashring.New(vnodes, v.nodes)
	if len(v.nodes) == 1 {
		if name := v.ring.Owner(""); name != "" {
			m := v.eligible[name]
			v.sole = &m
		}
	}
	return v
}

// owner is the owner of key, or self when no member may own keys: a node that is alone and
// draining still has to serve its own requests.
func (v *view) owner(key string) (Member, bool) {
	if v.sole != nil {
		return *v.sole, v.sole.Name == v.self.Name
	}
	name := v.ring.Owner(key)
	if name == "" {
		return v.self, true
	}
	return v.eligible[name], name == v.self.Name
}

func (v *view) owners(key string, n int) []Member {
	names := v.ring.Owners(key, n)
	if len(names) == 0 {
		if n <= 0 {
			return nil
		}
		return []Member{v.self}
	}
	out := make([]Member, len(names))
	for i, name := range names {
		out[i] = v.eligible[name]
	}
	return out
}
