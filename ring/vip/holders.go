package vip

import (
	"net/netip"
	"slices"

	"github.com/shoal-cdn/shoal/ring/hashring"
)

// Candidate is a member that may hold VIPs: alive in the ring and ready (neither draining
// nor starting).
type Candidate struct {
	Name   string
	Weight int // share of VIPs relative to the others; 0 (or less) means 1
	// Offers lists the VIPs this member is configured to hold (its gossiped Member.VIPs);
	// nil offers none. A member is never chosen for a VIP it does not offer.
	Offers []netip.Prefix
}

// Holders picks the holder of every VIP among the eligible candidates: the weighted
// rendezvous winner for the VIP's prefix text, so every node that sees the same candidates
// picks the same holders whatever their order (the edge's DNS answers use it too), and
// removing a candidate moves only the VIPs it held. Without quorum the map is empty: a node
// that cannot see a majority must not claim anything. A VIP that no candidate offers is
// absent from the map.
func Holders(vips []netip.Prefix, eligible []Candidate, quorum bool) map[netip.Addr]string {
	out := make(map[netip.Addr]string, len(vips))
	if !quorum {
		return out
	}
	nodes := make([]hashring.Node, 0, len(eligible))
	for _, v := range vips {
		nodes = nodes[:0]
		for _, c := range eligible {
			if slices.Contains(c.Offers, v) {
				nodes = append(nodes, hashring.Node{Name: c.Name, Weight: c.Weight})
			}
		}
		if name := hashring.Rendezvous(v.String(), nodes); name != "" {
			out[v.Addr()] = name
		}
	}
	return out
}
