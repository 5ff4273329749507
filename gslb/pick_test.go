package gslb

import (
	"fmt"
	"math"
	"math/rand/v2"
	"slices"
	"testing"
)

// scoreEveryCandidate is the definition lowestScores must agree with: k passes, each taking
// the lowest -ln(u)/w not taken yet, the earliest on ties.
func scoreEveryCandidate(tier []*candidate, k int, seed uint64) []*candidate {
	scores := make([]float64, len(tier))
	for i, c := range tier {
		scores[i] = c.score(seed)
	}
	var out []*candidate
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

// TestLowestScores_sameChoiceAsScoringEveryCandidate: the one-pass choice picks the same
// candidates in the same order as scoring every candidate k times, for tiers of one to 40
// edges (over the 16 that fit its buffers), of one weight (no logarithm) and of mixed
// weights, for answer sizes up to 20 and past the tier's size.
func TestLowestScores_sameChoiceAsScoringEveryCandidate(t *testing.T) {
	rng := rand.New(rand.NewPCG(3, 4))
	for _, weights := range []string{"uniform", "mixed"} {
		for size := 1; size <= 40; size++ {
			tier := make([]*candidate, size)
			for i := range tier {
				w := 3
				if weights == "mixed" {
					w = 1 + rng.IntN(4)
				}
				name := fmt.Sprintf("edge-%d", i)
				tier[i] = &candidate{name: name, hash: nameHash(name), invWeight: 1 / float64(w)}
			}
			for _, k := range []int{1, 2, 3, 16, 17, 20, size, size + 1} {
				for range 50 {
					seed := rng.Uint64()
					got := lowestScores(tier, k, seed, nil, nil)
					want := scoreEveryCandidate(tier, k, seed)
					if !slices.Equal(got, want) {
						t.Fatalf("%s weights, %d edges, k=%d, seed %#x: chose %v, want %v", weights, size, k, seed, names(got), names(want))
					}
				}
			}
		}
	}
}

func names(cs []*candidate) []string {
	var out []string
	for _, c := range cs {
		out = append(out, c.name)
	}
	return out
}
