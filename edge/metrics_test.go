package edge

import (
	"fmt"
	"sync"
	"testing"

	"github.com/prometheus/client_golang/prometheus"
)

// A label cache hands out the vector's own children: counts land on the series
// WithLabelValues names, from many goroutines at once, also past the cache's bound.
func TestLabelCache_countsLandOnTheVectorsSeries(t *testing.T) {
	vec := prometheus.NewCounterVec(prometheus.CounterOpts{Name: "t_total", Help: "t"}, []string{"policy", "result"})
	c := newLabelCache(vec.WithLabelValues)
	var wg sync.WaitGroup
	for g := range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range 100 {
				c.get2("cache", "hit").Inc()
				c.get2("pass", fmt.Sprint("r", (g*100+i)%(2*maxCachedLabels))).Inc()
			}
		}()
	}
	wg.Wait()
	if got := counterValue(vec.WithLabelValues("cache", "hit")); got != 800 {
		t.Errorf("cache/hit = %v, want 800", got)
	}
	var sum uint64
	for i := range 2 * maxCachedLabels {
		sum += counterValue(vec.WithLabelValues("pass", fmt.Sprint("r", i)))
	}
	if sum != 800 {
		t.Errorf("pass/* sum to %v, want 800", sum)
	}
	if n := len(*c.seen.Load()); n > maxCachedLabels {
		t.Errorf("cache holds %d label sets, bound is %d", n, maxCachedLabels)
	}
	if c.get2("cache", "hit") != vec.WithLabelValues("cache", "hit") {
		t.Error("the cached child is not the vector's")
	}
	// One label, and two label sets that share a first value.
	one := prometheus.NewCounterVec(prometheus.CounterOpts{Name: "u_total", Help: "u"}, []string{"class"})
	oc := newLabelCache(one.WithLabelValues)
	oc.get1("2xx").Inc()
	oc.get1("5xx").Inc()
	oc.get1("2xx").Inc()
	if counterValue(one.WithLabelValues("2xx")) != 2 || counterValue(one.WithLabelValues("5xx")) != 1 {
		t.Error("one-label cache mixed up its children")
	}
	c.get2("cache", "miss").Inc()
	if counterValue(vec.WithLabelValues("cache", "miss")) != 1 || counterValue(vec.WithLabelValues("cache", "hit")) != 800 {
		t.Error("two label sets sharing a first value were mixed up")
	}
}

// Run: go test -run '^$' -bench LabelCache -benchmem ./edge/
func BenchmarkLabelCache_get2(b *testing.B) {
	vec := prometheus.NewCounterVec(prometheus.CounterOpts{Name: "t_total", Help: "t"}, []string{"policy", "result"})
	c := newLabelCache(vec.WithLabelValues)
	for _, r := range []string{"miss", "stale", "pass", "error", "hit"} {
		c.get2("cache", r)
	}
	b.Run("cache", func(b *testing.B) {
		for b.Loop() {
			c.get2("cache", "hit").Inc()
		}
	})
	b.Run("WithLabelValues", func(b *testing.B) {
		for b.Loop() {
			vec.WithLabelValues("cache", "hit").Inc()
		}
	})
}
