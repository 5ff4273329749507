package hashring

import (
	"math"

	"github.com/cespare/xxhash/v2"
)

// Rendezvous picks one node for key by weighted highest-random-weight hashing: every node
// scores the key and the highest score wins. Removing a node moves only the keys it won,
// and no ring has to be built, which suits small sets chosen per key (such as which node
// holds a VIP). Weights use the logarithmic method (score = -w / ln(u)), so a node of weight
// 2 wins twice as often as one of weight 1. Returns "" when nodes is empty.
func Rendezvous(key string, nodes []Node) string {
	best, bestScore := "", math.Inf(-1)
	hk := hashKey(key)
	for _, n := range nodes {
		if n.Name == "" {
			continue
		}
		s := rendezvousScore(hk, n)
		// Ties go to the smaller name so the choice does not depend on input order.
		if s > bestScore || (s == bestScore && n.Name < best) {
			best, bestScore = n.Name, s
		}
	}
	return best
}

// rendezvousScore combines the key's hash with the node's; the final mix makes the pair's
// score independent of either alone.
func rendezvousScore(keyHash uint64, n Node) float64 {
	h := mix(keyHash ^ xxhash.Sum64String(n.Name))
	// u in (0,1): the top 53 bits, offset by half a step so it is never 0 or 1.
	u := (float64(h>>11) + 0.5) / (1 << 53)
	return -float64(effectiveWeight(n.Weight)) / math.Log(u)
}
