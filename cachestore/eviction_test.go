package cachestore

import (
	"runtime"
	"testing"
)

func TestMemory_IndexFollowsEvictionsAndRejections(t *testing.T) {
	const budget = 64 << 10
	m := newTestMemory(t, Config{MaxBytes: budget})
	for i := range 2000 {
		o := object("http://h/e/"+itoa(i), "", "all", "t"+itoa(i%7))
		o.Body = make([]byte, 1024)
		m.Set(o)
		if i%50 == 0 {
		}
	}
	checkIndexMatchesCache(t, m)
	st := m.Stats()
	if st.Evictions+st.Rejected == 0 {
		t.Fatalf("Stats = %+v: a store of 2000 KiB in a 64 KiB budget evicted and rejected nothing", st)
	}
	if st.Bytes > budget {
		t.Fatalf("Stats.Bytes = %d, over the %d budget", st.Bytes, budget)
	}
	if n := m.PurgeTag("all", false); int64(n) != st.Objects {
		t.Fatalf("PurgeTag(all) = %d, want the %d objects held", n, st.Objects)
	}
	checkIndexMatchesCache(t, m)
}

// TestMemory_BudgetBoundsHeap stores far more than the budget and checks that both the charged
// bytes and the real heap stay bounded by it.
func TestMemory_BudgetBoundsHeap(t *testing.T) {
	const budget = 64 << 20
	n := 200_000 // 1 KiB objects: three times the budget
	if testing.Short() || raceEnabled {
		n = 60_000 // still more than the budget holds
	}
	before := heapInuse()
	m := newTestMemory(t, Config{MaxBytes: budget})
	for i := range n {
		o := object("http://bench.example/obj/"+itoa(i), "")
		o.Key = o.URL
		o.Body = make([]byte, 1024)
		m.Set(o)
		if i%1000 == 0 {
		}
	}
	st := m.Stats()
	heap := heapInuse() - before
	t.Logf("%d objects held, %d bytes charged (%.0f per object), heap in use %d bytes (%.0f per object)",
		st.Objects, st.Bytes, float64(st.Bytes)/float64(st.Objects), heap, float64(heap)/float64(st.Objects))
	if st.Bytes > budget {
		t.Fatalf("Stats.Bytes = %d, over the %d budget", st.Bytes, budget)
	}
	if limit := uint64(budget)*5/2 + 32<<20; heap > limit {
		t.Fatalf("heap grew by %d bytes, over %d (2.5x the budget + 32 MiB)", heap, limit)
	}
	runtime.KeepAlive(m)
}

func heapInuse() uint64 {
	runtime.GC()
	runtime.GC()
	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)
	return ms.HeapInuse
}
