package balance

import "math"

// Rendezvous is weighted rendezvous (highest random weight) hashing: each candidate scores
// weight / -ln(u) with u drawn from hash(key, server), and the best score wins. A key keeps its
// server as long as that server stays a candidate; when one goes away only the keys it held
// move, spread over the others in proportion to their weights. It has no state.
type Rendezvous struct{}

// Pick implements Balancer.
func (Rendezvous) Pick(cands []Candidate, key uint64) int {
	best := -1
	bestScore := 0.0
	for i, c := range cands {
		score := float64(weightOf(c)) / -math.Log(unitInterval(mix64(key^c.Hash)))
		if best < 0 || score > bestScore {
			best, bestScore = i, score
		}
	}
	return best
}

// unitInterval maps a hash to (0, 1), never 0 or 1, so the logarithm is finite and negative.
func unitInterval(h uint64) float64 {
	return (float64(h>>11) + 0.5) / (1 << 53)
}

// mix64 is the splitmix64 finaliser: it spreads every input bit over the output, so that
// neighbouring keys and server hashes give unrelated scores.
func mix64(x uint64) uint64 {
	x ^= x >> 30
	x *= 0xbf58476d1ce4e5b9
	x ^= x >> 27
	x *= 0x94d049bb133111eb
	x ^= x >> 31
	return x
}
