package balance

// randomTwo draws two candidates at random in proportion to their weights and keeps the less
// loaded one ("the power of two choices"): nearly as even as least connections, without every
// edge herding onto the same idle server.
type randomTwo struct {
	rand func() uint64
}

func (b *randomTwo) Pick(cands []Candidate, _ uint64) int {
	switch len(cands) {
	case 0:
		return -1
	case 1:
		return 0
	}
	first := b.draw(cands, -1)
	second := b.draw(cands, first)
	if lessLoaded(cands[second], cands[first]) {
		return second
	}
	return first
}

// draw picks an index with probability proportional to weight, never skip (-1 skips nothing).
func (b *randomTwo) draw(cands []Candidate, skip int) int {
	var total int64
	for i, c := range cands {
		if i != skip {
			total += weightOf(c)
		}
	}
	r := int64(b.rand() % uint64(total))
	for i, c := range cands {
		if i == skip {
			continue
		}
		r -= weightOf(c)
		if r < 0 {
			return i
		}
	}
	return len(cands) - 1 // unreachable: r < total
}
