package cachestore

import (
	"runtime"
	"strconv"
	"testing"
	"weak"
)

// The neighbours of TestMemory_whatLeftTheStoreIsNotKeptBeyondTheBudget (a prefix purge and
// replacements): an object a tag or URL purge or a Del removed must not stay referenced by
// the eviction policy's queues beside a budget's worth of live objects either. Each case
// fills the budget, removes it all one way, fills it again, and sums the Cost of every object
// still reachable after a collection.
func TestMemory_removedObjectsDoNotHoldMemoryPastTheBudget(t *testing.T) {
	const budget = 4 << 20
	const body = 32 << 10
	for _, c := range []struct {
		name   string
		remove func(m *Memory, objs []*Object)
	}{
		{"purge by tag", func(m *Memory, _ []*Object) { m.PurgeTag("t", false) }},
		{"purge by URL", func(m *Memory, objs []*Object) {
			for _, o := range objs {
				m.PurgeURL(o.URL, false)
			}
		}},
		{"Del", func(m *Memory, objs []*Object) {
			for _, o := range objs {
				m.Del(o.Key)
			}
		}},
	} {
		t.Run(c.name, func(t *testing.T) {
			m := newTestMemory(t, Config{MaxBytes: budget})
			var refs []weak.Pointer[Object]
			var costs []int64
			fill := func(prefix string) []*Object {
				var objs []*Object
				for i := 0; ; i++ {
					o := &Object{Key: prefix + strconv.Itoa(i), URL: prefix + strconv.Itoa(i), Status: 200,
						Body: make([]byte, body), Tags: NewTags("t"), Generation: m.Begin()}
					if m.Stats().Bytes+o.Cost() > budget {
						break
					}
					if !m.Set(o) {
						t.Fatalf("Set(%q) refused", o.Key)
					}
					objs = append(objs, o)
					refs = append(refs, weak.Make(o))
					costs = append(costs, o.Cost())
				}
				return objs
			}
			first := fill("/a/")
			c.remove(m, first)
			first = nil
			fill("/b/")
			runtime.GC()
			runtime.GC()
			var held int64
			for i, r := range refs {
				if r.Value() != nil {
					held += costs[i]
				}
			}
			if held > budget {
				t.Errorf("objects still reachable cost %d bytes (%.2fx the budget of %d); Stats.Bytes %d",
					held, float64(held)/budget, budget, m.Stats().Bytes)
			}
		})
	}
}
