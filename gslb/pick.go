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
	u := float64(mix64(seed^c.hash)>>11+1) / (1 << 53) // in (0, 1]
	return -math.Log(u) * c.invWeight
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
func pick(tiers [][]*candidate, n int, seed, rot uint64, out []net.IP) []net.IP {
	var scratch [16]*candidate
	for _, tier := range tiers {
		need := n - len(out)
		if need <= 0 {
			break
		}
		chosen := tier
		if len(tier) > need {
			chosen = lowestScores(tier, need, seed, scratch[:0])
		}
		start := int(rot % uint64(len(chosen)))
		for i := range chosen {
			out = append(out, chosen[(start+i)%len(chosen)].ip(seed))
		}
	}
	return out
}

// lowestScores returns the k candidates of tier with the lowest scores. k is the answer size,
// a handful, so k passes over the tier cost less than sorting it.
func lowestScores(tier []*candidate, k int, seed uint64, out []*candidate) []*candidate {
	var scoreBuf [16]float64
	scores := scoreBuf[:0]
	if len(tier) > len(scoreBuf) {
		scores = make([]float64, 0, len(tier))
	}
	for _, c := range tier {
		scores = append(scores, c.score(seed))
	}
	for range k {
		best := -1
		for i, s := range scores {
			if !math.IsInf(s, 1) && (best < 0 || s < scores[best]) {
				best = i
			}
		}
		if best < 0 {
			break
		}
		out = append(out, tier[best])
		scores[best] = math.Inf(1)
	}
	return out
}

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
