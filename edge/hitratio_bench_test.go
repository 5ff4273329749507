package edge

import (
	"fmt"
	"math/rand/v2"
	"testing"

	"github.com/shoal-cdn/shoal/cachestore"
	"github.com/shoal-cdn/shoal/httpcache"
	"github.com/shoal-cdn/shoal/loadtest"
	"github.com/shoal-cdn/shoal/ring/hashring"
)

// BenchmarkHitRatio_zipf compares, on a Zipf workload over 100k keys with the real store and
// the real ring, three ways to spend three caches of C (1% of the keys each):
//   - sharded: a 3-node Shoal ring, each key cached on its owner only;
//   - independent: three unsharded caches behind round robin (a farm of separate caches);
//   - single: one cache of 3C.
//
// It reports the hit ratio of each after a warm-up. Run: go test -run '^$' -bench HitRatio ./edge/
func BenchmarkHitRatio_zipf(b *testing.B) {
	for _, s := range []float64{0.9, 1.0, 1.1} {
		b.Run(fmt.Sprintf("s=%.1f", s), func(b *testing.B) {
			const keys, requests, warmup = 100_000, 1_000_000, 200_000
			zipf, err := loadtest.NewZipf(keys, s)
			if err != nil {
				b.Fatal(err)
			}
			sample := simObject("http://site/k/0")
			capacity := int64(keys/100) * sample.Cost()
			newStore := func(bytes int64) *cachestore.Memory {
				m, err := cachestore.NewMemory(cachestore.Config{MaxBytes: bytes}, nil)
				if err != nil {
					b.Fatal(err)
				}
				b.Cleanup(m.Close)
				return m
			}
			nodes := []hashring.Node{{Name: "a"}, {Name: "b"}, {Name: "c"}}
			ring := hashring.New(0, nodes)
			sharded := map[string]*cachestore.Memory{"a": newStore(capacity), "b": newStore(capacity), "c": newStore(capacity)}
			independent := []*cachestore.Memory{newStore(capacity), newStore(capacity), newStore(capacity)}
			single := newStore(3 * capacity)
			var hits [3]int
			rng := rand.New(rand.NewPCG(1, 2))
			for i := 0; i < b.N; i++ {
				hits = [3]int{}
				for r := 0; r < requests; r++ {
					key := fmt.Sprintf("http://site/k/%d", zipf.Rank(rng.Float64()))
					stores := [3]*cachestore.Memory{sharded[ring.Owner(key)], independent[r%3], single}
					for j, st := range stores {
						if _, ok := st.Get(key); ok {
							if r >= warmup {
								hits[j]++
							}
							continue
						}
						st.Set(simObject(key))
					}
				}
			}
			measured := float64(requests - warmup)
			b.ReportMetric(float64(hits[0])/measured, "sharded-hit-ratio")
			b.ReportMetric(float64(hits[1])/measured, "independent-hit-ratio")
			b.ReportMetric(float64(hits[2])/measured, "single-3C-hit-ratio")
		})
	}
}

func simObject(key string) *cachestore.Object {
	return &cachestore.Object{Key: key, URL: key, Status: 200, Body: simBody,
		Header: httpcache.Pack(httpcache.Header{{Name: "Content-Type", Value: "text/css"}, {Name: "Cache-Control", Value: "max-age=3600"}})}
}

var simBody = make([]byte, 1024)
