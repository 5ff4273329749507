package gslb

import (
	"encoding/binary"
	"math"
	"net"
	"net/netip"
)

// clientSeed turns the client's subnet into the seed of the weighted choice. The address is
// cut to a /24 (IPv4) or /56 (IPv6) and to what the client revealed, so every client of one
// subnet gets the same answer set from every node.
func clientSeed(addr netip.Addr, sourceBits int) uint64 {
	keep := 56
	if addr.Is4() {
		keep = 24
	}
	p, err := addr.Prefix(min(keep, sourceBits))
	if err != nil {
		return 0
	}
	a := p.Addr().As16()
	return mix64(binary.BigEndian.Uint64(a[:8]) ^ mix64(binary.BigEndian.Uint64(a[8:])^uint64(p.Bits())))
}

// mix64 is the splitmix64 finaliser: a fixed, well-mixed hash, identical on every node.
func mix64(x uint64) uint64 {
	x ^= x >> 30
	x *= 0xbf58476d1ce4e5b9
	x ^= x >> 27
	x *= 0x94d049bb133111eb
	x ^= x >> 31
	return x
}

// score is the weighted rendezvous (HRW) score of c for this client: the lowest scores win.
// -ln(u)/w makes each edge win in proportion to its weight, and since a score depends only on
// the client and the edge, an edge joining or leaving moves only the clients it wins or held.
func (c *candidate) score(seed uint64) float64 {
	return -math.Log(c.unit(seed)) * c.invWeight
}

// unit is the uniform draw u in (0, 1] of the score: 53 bits of the mixed seed and name hash.
func (c *candidate) unit(seed uint64) float64 {
	return float64(mix64(seed^c.hash)>>11+1) / (1 << 53)
}

// ip picks one of c's addresses for this client: an edge holding several VIPs spreads clients
// over them, one address per edge so that an answer names as many edges as it can.
func (c *candidate) ip(seed uint64) net.IP {
	if len(c.ips) == 1 {
		return c.ips[0]
	}
	return c.ips[mix64(seed^c.hash^0x9e3779b97f4a7c15)%uint64(len(c.ips))]
}

// pick appends up to n addresses to out, walking the fill-up tiers in order. Inside a tier that
// has more edges than places left, the weighted rendezvous scores choose. Each tier's share is
// rotated by rot, so that clients spread over the edges of a tier while nearer tiers stay first.
// ps, when not nil, is room for a choice of n edges (the fast path's, so that it allocates
// nothing whatever n is); without it a choice of more than 16 allocates.
func pick(tiers [][]*candidate, n int, seed, rot uint64, out []net.IP, ps *pickScratch) []net.IP {
	var chosenBuf [16]*candidate
	var scoreBuf [16]float64
	room, scores := chosenBuf[:0], scoreBuf[:0]
	if ps != nil {
		room, scores = ps.chosen[:0], ps.scores[:0]
	}
	for _, tier := range tiers {
		need := n - len(out)
		if need <= 0 {
			break
		}
		chosen := tier
		if len(tier) > need {
			chosen = lowestScores(tier, need, seed, room, scores)
		}
		// One division per tier, not one per address: a 64-bit divide is tens of cycles, and
		// the instruction waiting on the loop's took the most of pick's samples (perf
		// annotate, many-subnet load).
		start := int(rot % uint64(len(chosen)))
		out = appendIPs(out, chosen[start:], seed)
		out = appendIPs(out, chosen[:start], seed)
	}
	return out
}

// appendIPs appends the address each of cs gives this client.
func appendIPs(out []net.IP, cs []*candidate, seed uint64) []net.IP {
	for _, c := range cs {
		out = append(out, c.ip(seed))
	}
	return out
}

// pickScratch is room for one choice of up to n edges: the candidates and their scores.
type pickScratch struct {
	chosen []*candidate
	scores []float64
}

func newPickScratch(n int) *pickScratch {
	return &pickScratch{chosen: make([]*candidate, 0, n), scores: make([]float64, 0, n)}
}

// lowestScores appends to out (empty) the k candidates of tier with the lowest scores, lowest
// first, the earlier in tier first among equal scores. One pass keeps the best k so far in
// order: k is the answer size, a handful, so that costs less than scoring every candidate k
// times or sorting, and needs room for k scores only (kept, empty: it allocates nothing when
// out and kept have room for k), whatever the size of the tier. When every candidate of the tier has the same weight, -ln(u)/w orders
// them as -u does and the logarithm is skipped: the same choice, but for two draws u whose
// logarithms round to the same float64 (about one pair in 2^52), which -u still tells apart.
func lowestScores(tier []*candidate, k int, seed uint64, out []*candidate, kept []float64) []*candidate {
	if k <= 0 || len(tier) == 0 {
		return out
	}
	uniform := true
	for _, c := range tier {
		if c.invWeight != tier[0].invWeight {
			uniform = false
			break
		}
	}
	for _, c := range tier {
		n := len(kept)
		var s float64
		if uniform {
			s = -c.unit(seed)
		} else {
			u := c.unit(seed)
			// -ln(u) >= 1-u: a candidate whose bound already loses to the k-th kept score
			// loses with its logarithm too, so most of a large tier skips math.Log (a third of
			// the fast path's time choosing 2 of 10 weighted edges). boundSlack keeps the
			// bound below the computed score whatever the rounding of Log and of 1-u, so the
			// choice is exactly the one scoring every candidate makes.
			if n == k && (1-u)*c.invWeight*boundSlack >= kept[n-1] {
				continue
			}
			s = -math.Log(u) * c.invWeight
		}
		if n == k && s >= kept[n-1] {
			continue
		}
		i := n
		for i > 0 && kept[i-1] > s {
			i--
		}
		if n < k {
			kept, out = append(kept, 0), append(out, nil)
		}
		copy(kept[i+1:], kept[i:]) // copy stops at the end: the last one falls out when full
		copy(out[i+1:], out[i:])
		kept[i], out[i] = s, c
	}
	return out
}

// boundSlack shrinks the lower bound (1-u)/w of a score by far more than the rounding error
// of the bound and of math.Log (each within a few ulps, about 1e-16 relative).
const boundSlack = 1 - 1e-9

// all appends every address of every candidate: the fail-open answer.
func all(tiers [][]*candidate, rot uint64, out []net.IP) []net.IP {
	for _, tier := range tiers {
		for _, c := range tier {
			out = append(out, c.ips...)
		}
	}
	if len(out) > 0 {
		start := int(rot % uint64(len(out)))
		rotated := append(out[start:len(out):len(out)], out[:start]...)
		out = rotated
	}
	return out
}
