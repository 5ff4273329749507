package disk

import (
	"sync"

	"github.com/cespare/xxhash/v2"
)

// admission is TinyLFU's frequency estimate: a doorkeeper (a one-bit-per-slot Bloom filter)
// absorbs a key's first sighting, so one-hit wonders never reach the count-min sketch of four
// rows of counters capped at 15; after `window` sightings every counter is halved and the doorkeeper
// cleared, so the estimate follows recent popularity, not all-time popularity.
type admission struct {
	mu     sync.Mutex
	rows   [4][]uint8 // one counter per byte: simpler than nibbles, and the sketch is small
	mask   uint64
	door   []uint64 // doorkeeper bits
	dmask  uint64
	seen   int
	window int
}

func newAdmission(counters int) *admission {
	n := uint64(1)
	for n < uint64(counters) {
		n <<= 1
	}
	// The sketch ages every n sightings (TinyLFU's sample size W), and the doorkeeper has 8
	// bits per sighting of a window, so with two bits per key it stays under 5% false positives.
	a := &admission{mask: n - 1, door: make([]uint64, n*8/64), dmask: n*8 - 1, window: int(n)}
	for i := range a.rows {
		a.rows[i] = make([]uint8, n)
	}
	return a
}

func (a *admission) hashes(key string) (h uint64, idx [4]uint64) {
	h = xxhash.Sum64String(key)
	lo, hi := h, h>>32|h<<32
	for i := range idx {
		idx[i] = (lo + uint64(i)*hi) & a.mask
	}
	return h, idx
}

func (a *admission) doorBits(h uint64) (uint64, uint64) {
	return h & a.dmask, (h >> 24) & a.dmask
}

// touch records one sighting of key.
func (a *admission) touch(key string) {
	h, idx := a.hashes(key)
	b1, b2 := a.doorBits(h)
	a.mu.Lock()
	defer a.mu.Unlock()
	if a.door[b1/64]&(1<<(b1%64)) == 0 || a.door[b2/64]&(1<<(b2%64)) == 0 {
		a.door[b1/64] |= 1 << (b1 % 64)
		a.door[b2/64] |= 1 << (b2 % 64)
	} else {
		for i, j := range idx {
			if a.rows[i][j] < 15 {
				a.rows[i][j]++
			}
		}
	}
	if a.seen++; a.seen >= a.window {
		a.reset()
	}
}

// estimate is how often key was seen recently: the sketch's minimum plus the doorkeeper's bit.
func (a *admission) estimate(key string) int {
	h, idx := a.hashes(key)
	b1, b2 := a.doorBits(h)
	a.mu.Lock()
	defer a.mu.Unlock()
	n := uint8(255)
	for i, j := range idx {
		n = min(n, a.rows[i][j])
	}
	if a.door[b1/64]&(1<<(b1%64)) != 0 && a.door[b2/64]&(1<<(b2%64)) != 0 {
		n++
	}
	return int(n)
}

// reset halves every counter and clears the doorkeeper: TinyLFU's aging step.
func (a *admission) reset() {
	a.seen = 0
	for i := range a.rows {
		for j := range a.rows[i] {
			a.rows[i][j] >>= 1
		}
	}
	clear(a.door)
}
