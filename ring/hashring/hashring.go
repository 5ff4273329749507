// Package hashring maps keys to nodes: a consistent-hash ring with weighted virtual nodes
// (xxhash64) looked up with several probes per key for an even spread, bounded-load lookups,
// and rendezvous hashing for small sets such as VIP holders. When a node joins or leaves, only
// the keys it gains or loses change owner.
// A Ring is immutable once built, so any number of goroutines may read it without locks;
// membership changes build a new Ring. Every node computes the same answer from the same
// node list, whatever the order of that list.
package hashring

import (
	"slices"
	"strconv"

	"github.com/cespare/xxhash/v2"
)

// DefaultVNodes is the number of virtual nodes per unit of weight when New is given 0.
const DefaultVNodes = 160

// Node is one member as the ring sees it.
type Node struct {
	Name   string
	Weight int // share of keys relative to the others; 0 (or less) means 1
}

// point is one virtual node: its position on the circle and the index of its node.
type point struct {
	hash uint64
	node int32
}

// Ring is an immutable consistent-hash ring. The zero value and nil are empty rings.
type Ring struct {
	// The points sorted by position, split in two slices so the binary search touches
	// only hashes.
	hashes []uint64
	nodes  []int32
	names  []string // distinct node names, sorted
	// buckets[b] is the index of the first point whose top bits are >= b; there are
	// about two points per bucket.
	buckets []int32
	shift   uint
}

// New builds a ring of nodes with vnodes virtual nodes per unit of weight (0 means
// DefaultVNodes). Duplicate names are merged (the first weight wins); empty names are skipped.
func New(vnodes int, nodes []Node) *Ring {
	if vnodes <= 0 {
		vnodes = DefaultVNodes
	}
	weights := distinct(nodes)
	r := &Ring{names: make([]string, 0, len(weights))}
	for name := range weights {
		r.names = append(r.names, name)
	}
	slices.Sort(r.names)

	total := 0
	for _, name := range r.names {
		total += weights[name] * vnodes
	}
	points := make([]point, 0, total)
	buf := make([]byte, 0, 64)
	for i, name := range r.names {
		for v := 0; v < weights[name]*vnodes; v++ {
			buf = append(buf[:0], name...)
			buf = append(buf, '#')
			buf = strconv.AppendInt(buf, int64(v), 10)
			points = append(points, point{hash: mix(xxhash.Sum64(buf)), node: int32(i)})
		}
	}
	// Ties between points (astronomically rare) are broken by node name so every member
	// sorts identically.
	slices.SortFunc(points, func(a, b point) int {
		if a.hash != b.hash {
			if a.hash < b.hash {
				return -1
			}
			return 1
		}
		return int(a.node) - int(b.node)
	})
	r.hashes = make([]uint64, len(points))
	r.nodes = make([]int32, len(points))
	for i, p := range points {
		r.hashes[i], r.nodes[i] = p.hash, p.node
	}
	r.index()
	return r
}

// index builds the bucket table over the sorted hashes.
func (r *Ring) index() {
	bits := uint(1)
	for (1<<bits) < len(r.hashes)/2 && bits < 20 {
		bits++
	}
	r.shift = 64 - bits
	r.buckets = make([]int32, (1<<bits)+1)
	i := 0
	for b := range r.buckets {
		for i < len(r.hashes) && r.hashes[i]>>r.shift < uint64(b) {
			i++
		}
		r.buckets[b] = int32(i)
	}
}

// distinct returns each named node once with its effective weight.
func distinct(nodes []Node) map[string]int {
	weights := make(map[string]int, len(nodes))
	for _, n := range nodes {
		if n.Name == "" {
			continue
		}
		if _, dup := weights[n.Name]; dup {
			continue
		}
		weights[n.Name] = effectiveWeight(n.Weight)
	}
	return weights
}

func effectiveWeight(w int) int {
	if w <= 0 {
		return 1
	}
	return w
}

// mix is the splitmix64 finalizer. xxhash of short, similar strings ("a#1", "a#2") is already
// good; mixing once more costs a few nanoseconds and removes any doubt about clustering.
func mix(h uint64) uint64 {
	h ^= h >> 30
	h *= 0xbf58476d1ce4e5b9
	h ^= h >> 27
	h *= 0x94d049bb133111eb
	h ^= h >> 31
	return h
}

func hashKey(key string) uint64 {
	return mix(xxhash.Sum64String(key))
}

// Len is the number of distinct nodes in the ring.
func (r *Ring) Len() int {
	if r == nil {
		return 0
	}
	return len(r.names)
}

// Nodes returns the node names in sorted order. The caller must not modify the slice.
func (r *Ring) Nodes() []string {
	if r == nil {
		return nil
	}
	return r.names
}

// probeCount is how many positions a key is hashed to (multi-probe consistent hashing,
// Appleton and O'Reilly, 2015): the key goes to the node whose point follows any probe most
// closely. With 160 random points per node a single probe leaves a node's share with about 8%
// standard deviation, so one of five nodes is often 10-15% off; six probes bring the worst of
// five nodes within about 6% while keeping the property that a join or leave moves only the
// keys of the node that joined or left. Changing it changes every owner in the cluster.
const probeCount = 6

// probeHashes derives the probe positions of a key hash (Weyl steps by the golden ratio,
// each remixed so the probes are independent).
func probeHashes(h uint64) [probeCount]uint64 {
	var out [probeCount]uint64
	for i := range out {
		out[i] = mix(h + uint64(i)*0x9e3779b97f4a7c15)
	}
	return out
}

// search returns the index of the first point at or after h, wrapping to 0. The bucket
// table narrows the binary search to the few points sharing h's top bits.
func (r *Ring) search(h uint64) int {
	b := h >> r.shift
	lo, hi := int(r.buckets[b]), int(r.buckets[b+1])
	for lo < hi {
		mid := int(uint(lo+hi) >> 1)
		if r.hashes[mid] < h {
			lo = mid + 1
		} else {
			hi = mid
		}
	}
	if lo == len(r.hashes) {
		return 0
	}
	return lo
}

// Owner returns the node that owns key, or "" when the ring is empty.
func (r *Ring) Owner(key string) string {
	if r.Len() == 0 {
		return ""
	}
	probes := probeHashes(hashKey(key))
	best, bestDist := int32(0), ^uint64(0)
	for _, h := range probes {
		i := r.search(h)
		// Unsigned subtraction measures the clockwise distance, wrapping past zero.
		if d := r.hashes[i] - h; d < bestDist || (d == bestDist && r.nodes[i] < best) {
			best, bestDist = r.nodes[i], d
		}
	}
	return r.names[best]
}

// Owners returns up to n distinct nodes for key: the owner first, then the node that would
// own key if the owner were gone, and so on. Owners(key, n)[1] is exactly Owner(key) on the
// ring without Owners(key, n)[0].
func (r *Ring) Owners(key string, n int) []string {
	if r.Len() == 0 || n <= 0 {
		return nil
	}
	n = min(n, len(r.names))
	out := make([]string, 0, n)
	r.walk(key, func(name string) bool {
		out = append(out, name)
		return len(out) < n
	})
	return out
}

// walk visits the nodes of key in owner order until visit returns false or every node was
// visited. Each round repeats Owner's choice while skipping the nodes already visited, which
// is what the ring would answer if they had left.
func (r *Ring) walk(key string, visit func(name string) bool) {
	var skipSmall [64]bool
	var skip []bool
	if len(r.names) <= len(skipSmall) {
		skip = skipSmall[:len(r.names)]
	} else {
		skip = make([]bool, len(r.names))
	}
	probes := probeHashes(hashKey(key))
	var start [probeCount]int
	for i, h := range probes {
		start[i] = r.search(h)
	}
	for range r.names {
		best, bestDist := int32(-1), ^uint64(0)
		for i, h := range probes {
			// Advance this probe past points of visited nodes; they stay skipped, so the
			// cursor only ever moves forward.
			for skip[r.nodes[start[i]]] {
				start[i] = (start[i] + 1) % len(r.nodes)
			}
			j := start[i]
			if d := r.hashes[j] - h; best < 0 || d < bestDist || (d == bestDist && r.nodes[j] < best) {
				best, bestDist = r.nodes[j], d
			}
		}
		skip[best] = true
		if !visit(r.names[best]) {
			return
		}
	}
}
