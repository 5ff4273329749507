package balance

// firstAvailable sends every request to the lowest-positioned candidate, so that with a
// per-server connection limit servers fill one after another and the rest can stay idle (or be
// scaled down), as HAProxy's "balance first".
type firstAvailable struct{}

func (firstAvailable) Pick(cands []Candidate, _ uint64) int {
	best := -1
	for i, c := range cands {
		if best < 0 || c.Index < cands[best].Index {
			best = i
		}
	}
	return best
}
