package edge

import (
	"slices"
	"strings"
)

// nodeStats is one cluster member as this node's ring sees it, in /stats.json and /stats.
// The view is memberlist's, eventually consistent: during churn nodes may disagree for the
// suspicion timeout (about 1-2 s on a LAN).
type nodeStats struct {
	Name       string   `json:"name"`
	Self       bool     `json:"self,omitempty"`
	State      string   `json:"state"` // alive (owns keys), draining, notready
	Region     string   `json:"region,omitempty"`
	PublicAddr string   `json:"public_addr,omitempty"`
	PeerAddr   string   `json:"peer_addr,omitempty"`
	Weight     int      `json:"weight"`
	VIPs       []string `json:"vips,omitempty"`
	// OriginsDown is how many origin pools the member sees down; -1 when it does not say.
	OriginsDown int `json:"origins_down"`
}

// nodesStats lists the ring's members by name; empty for a node without a ring.
func (n *Node) nodesStats() []nodeStats {
	out := []nodeStats{}
	if n.ring == nil {
		return out
	}
	self := n.ring.Self().Name
	for _, m := range n.ring.Members() {
		w := m.Weight
		if w == 0 {
			w = 1
		}
		out = append(out, nodeStats{Name: m.Name, Self: m.Name == self, State: string(m.State), Region: m.Region,
			PublicAddr: m.PublicAddr, PeerAddr: m.PeerAddr, Weight: w, VIPs: m.VIPs, OriginsDown: m.OriginsDown})
	}
	slices.SortFunc(out, func(a, b nodeStats) int { return strings.Compare(a.Name, b.Name) })
	return out
}
