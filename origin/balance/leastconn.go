package balance

// leastConn picks the candidate with the fewest requests in flight per unit of weight. Ties are
// broken in rotation (as HAProxy does) so that an idle pool still spreads its requests instead of
// sending all of them to the first server.
type leastConn struct {
	turn uint64
}

func (b *leastConn) Pick(cands []Candidate, _ uint64) int {
	n := len(cands)
	if n == 0 {
		return -1
	}
	start := int(b.turn % uint64(n))
	b.turn++
	best := start
	for k := 1; k < n; k++ {
		i := (start + k) % n
		if lessLoaded(cands[i], cands[best]) {
			best = i
		}
	}
	return best
}
