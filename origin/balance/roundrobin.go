package balance

// smoothRoundRobin is nginx's smooth weighted round robin: every pick adds each candidate's
// weight to its running score, takes the highest, and charges the winner the total. With
// weights 5,1,1 it yields a a b a c a a, spreading the heavy server's turns instead of
// bunching them. Scores of servers absent from a pick (down, full) are kept as they were.
type smoothRoundRobin struct {
	current []int64 // indexed by Candidate.Index
}

func newSmoothRoundRobin(n int) *smoothRoundRobin {
	return &smoothRoundRobin{current: make([]int64, n)}
}

func (b *smoothRoundRobin) Pick(cands []Candidate, _ uint64) int {
	best := -1
	var total int64
	for i, c := range cands {
		b.grow(c.Index)
		w := weightOf(c)
		b.current[c.Index] += w
		total += w
		if best < 0 || b.current[c.Index] > b.current[cands[best].Index] {
			best = i
		}
	}
	if best >= 0 {
		b.current[cands[best].Index] -= total
	}
	return best
}

// grow tolerates an Index beyond the size given to New rather than panicking on a caller bug.
func (b *smoothRoundRobin) grow(index int) {
	if index >= len(b.current) {
		b.current = append(b.current, make([]int64, index+1-len(b.current))...)
	}
}
