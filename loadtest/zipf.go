package loadtest

import (
	"errors"
	"fmt"
	"math"
	"sort"
)

// Zipf draws ranks 0..n-1 with P(rank k) proportional to 1/(k+1)^s, the popularity curve of web
// objects. Unlike math/rand's Zipf it accepts any s > 0 (measured web workloads sit near
// s = 0.7..1.0, which math/rand rejects) and it is a pure function of its uniform input, so
// draws are reproducible per request and need no lock. Safe for concurrent use.
type Zipf struct {
	cdf []float64 // cdf[k] = P(rank <= k)
}

// maxZipfKeys bounds the table (8 bytes per key).
const maxZipfKeys = 1 << 24

// NewZipf precomputes the distribution over n keys with exponent s.
func NewZipf(n int, s float64) (*Zipf, error) {
	if n <= 0 || n > maxZipfKeys {
		return nil, fmt.Errorf("zipf: keys %d out of range 1..%d", n, maxZipfKeys)
	}
	if !(s > 0) || math.IsInf(s, 0) {
		return nil, errors.New("zipf: exponent must be a positive number")
	}
	cdf := make([]float64, n)
	var sum float64
	for k := range n {
		sum += math.Pow(float64(k+1), -s)
		cdf[k] = sum
	}
	for k := range cdf {
		cdf[k] /= sum
	}
	return &Zipf{cdf: cdf}, nil
}

// Rank maps a uniform u in [0,1) to a rank by inverting the CDF.
func (z *Zipf) Rank(u float64) int {
	k := sort.SearchFloat64s(z.cdf, u)
	if k >= len(z.cdf) { // u rounding past the last entry
		k = len(z.cdf) - 1
	}
	return k
}

// Keys is the number of ranks.
func (z *Zipf) Keys() int { return len(z.cdf) }

// uniform turns (seed, seq) into a well-mixed float in [0,1) with SplitMix64, so a request's
// key depends only on its sequence number and the seed.
func uniform(seed, seq uint64) float64 {
	x := seed + (seq+1)*0x9e3779b97f4a7c15
	x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9
	x = (x ^ (x >> 27)) * 0x94d049bb133111eb
	x ^= x >> 31
	return float64(x>>11) / (1 << 53)
}
