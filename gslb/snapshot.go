package gslb

import (
	"cmp"
	"hash/fnv"
	"net"
	"slices"

	"github.com/miekg/dns"
)

// Address families, as indexes.
const (
	famV4 = iota
	famV6
	numFams
)

// candidate is one edge offering addresses of one family.
type candidate struct {
	name      string
	hash      uint64  // of the name; stable across nodes, unlike maphash
	invWeight float64 // 1/weight, for weighted rendezvous scores
	ips       []net.IP
}

// snapshot is everything a query needs about the edges, built once per SetEdges and never
// modified afterwards, so queries read it without locks.
type snapshot struct {
	// tiers[region][fam] lists candidates in fill-up order: the region's own edges, then those
	// of each near region in order, then every other edge. Region id len(zone.regions) is the
	// tier list of clients in no region: one tier of every edge.
	tiers    [][numFams][][]*candidate
	total    [numFams]int // candidates per family, over all tiers
	failOpen bool         // no edge is healthy; every configured edge is answered
	glue     []glueEdge   // edges backing the NS hosts, by name
}

type glueEdge struct {
	ips [numFams][]net.IP
}

// buildSnapshot normalises edges (weights, 4-in-6 addresses, invalid addresses) and lays out
// the fill-up tiers for every region.
func buildSnapshot(z *zone, edges []Edge) *snapshot {
	healthy := make([]Edge, 0, len(edges))
	for _, e := range edges {
		if e.Healthy {
			healthy = append(healthy, e)
		}
	}
	sn := &snapshot{}
	use := healthy
	if len(healthy) == 0 && len(edges) > 0 {
		sn.failOpen = true
		use = edges
	}
	use = slices.Clone(use)
	slices.SortStableFunc(use, func(a, b Edge) int { return cmp.Compare(a.Name, b.Name) })

	var cands [numFams][]*candidate
	byRegion := make([][numFams][]*candidate, len(z.regions)+1)
	for _, e := range use {
		var ips [numFams][]net.IP
		for _, a := range e.Addrs {
			a = a.Unmap()
			if !a.IsValid() || a.Zone() != "" {
				continue
			}
			f := famV6
			if a.Is4() {
				f = famV4
			}
			ips[f] = append(ips[f], net.IP(a.AsSlice()))
		}
		if len(ips[famV4])+len(ips[famV6]) > 0 {
			sn.glue = append(sn.glue, glueEdge{ips: ips})
		}
		weight := max(e.Weight, 1)
		rid, known := z.regionID[e.Region]
		if !known {
			rid = len(z.regions)
		}
		for f := range numFams {
			if len(ips[f]) == 0 {
				continue
			}
			c := &candidate{name: e.Name, hash: nameHash(e.Name), invWeight: 1 / float64(weight), ips: ips[f]}
			cands[f] = append(cands[f], c)
			byRegion[rid][f] = append(byRegion[rid][f], c)
		}
	}
	for f := range numFams {
		sn.total[f] = len(cands[f])
	}

	sn.tiers = make([][numFams][][]*candidate, len(z.regions)+1)
	for rid := range z.regions {
		order := append([]int{rid}, z.near[rid]...)
		for f := range numFams {
			seen := make(map[*candidate]bool)
			var tiers [][]*candidate
			for _, r := range order {
				if tier := byRegion[r][f]; len(tier) > 0 {
					tiers = append(tiers, tier)
					for _, c := range tier {
						seen[c] = true
					}
				}
			}
			var rest []*candidate
			for _, c := range cands[f] {
				if !seen[c] {
					rest = append(rest, c)
				}
			}
			if len(rest) > 0 {
				tiers = append(tiers, rest)
			}
			sn.tiers[rid][f] = tiers
		}
	}
	for f := range numFams {
		if len(cands[f]) > 0 {
			sn.tiers[len(z.regions)][f] = [][]*candidate{cands[f]}
		}
	}
	return sn
}

func nameHash(name string) uint64 {
	h := fnv.New64a()
	h.Write([]byte(name))
	return h.Sum64()
}

// nsCount is how many NS records the zone publishes: every configured one, or one per edge
// backing glue, between 1 and maxDefaultNS.
func (sn *snapshot) nsCount(z *zone) int {
	if z.fixedNS {
		return len(z.nsNames)
	}
	return min(max(len(sn.glue), 1), len(z.nsNames))
}

// nsHostIPs returns the addresses of name server host i: edges are dealt to the NS names in
// name order, so every node publishes the same glue.
func (sn *snapshot) nsHostIPs(i, fam int) []net.IP {
	if len(sn.glue) == 0 {
		return nil
	}
	return sn.glue[i%len(sn.glue)].ips[fam]
}

// familyOf tells which family an address query wants.
func familyOf(qtype uint16) int {
	if qtype == dns.TypeAAAA {
		return famV6
	}
	return famV4
}
