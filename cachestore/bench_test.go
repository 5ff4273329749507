package cachestore

import (
	"runtime"
	"testing"
)

func benchObject(i, bodySize int, tags ...string) *Object {
	o := object("http://bench.example/obj/"+itoa(i), "", tags...)
	o.Key = o.URL // no Vary: key and URL share one string, as the edge stores them
	o.Body = make([]byte, bodySize)
	return o
}

// fill stores n objects, each Set accepted.
func fill(b *testing.B, m *Memory, n, bodySize int, tag func(i int) string) {
	b.Helper()
	for i := range n {
		var o *Object
		if tag != nil {
			o = benchObject(i, bodySize, tag(i))
		} else {
			o = benchObject(i, bodySize)
		}
		if !m.Set(o) {
			b.Fatalf("Set %d refused", i)
		}
	}
	if st := m.Stats(); st.Objects != int64(n) {
		b.Fatalf("stored %d of %d objects: %+v", st.Objects, n, st)
	}
}

func BenchmarkMemory_GetHit(b *testing.B) {
	const n = 10_000
	m := newTestMemory(b, Config{})
	fill(b, m, n, 1024, nil)
	keys := make([]string, n)
	for i := range keys {
		keys[i] = "http://bench.example/obj/" + itoa(i)
	}
	b.ReportAllocs()
	b.ResetTimer()
	b.RunParallel(func(pb *testing.PB) {
		i := 0
		for pb.Next() {
			if _, ok := m.Get(keys[i%n]); !ok {
				b.Errorf("miss on %s", keys[i%n])
				return
			}
			i++
		}
	})
}

func BenchmarkMemory_Set(b *testing.B) {
	m := newTestMemory(b, Config{MaxBytes: 64 << 20})
	objs := make([]*Object, 100_000)
	for i := range objs {
		objs[i] = benchObject(i, 1024, "t"+itoa(i%100))
	}
	b.ReportAllocs()
	b.ResetTimer()
	for i := range b.N {
		m.Set(objs[i%len(objs)])
	}
}

// BenchmarkMemory_PurgeTag purges one surrogate key (10 objects) from a store of 1M objects:
// the cost must follow the objects matched, not the objects stored.
func BenchmarkMemory_PurgeTag(b *testing.B) {
	const n, perTag = 1_000_000, 10
	m := newTestMemory(b, Config{MaxBytes: 4 << 30})
	fill(b, m, n, 16, func(i int) string { return "t" + itoa(i/perTag) })
	b.ResetTimer()
	for i := range b.N {
		if got := m.PurgeTag("t"+itoa(i%(n/perTag)), false); got != perTag && i < n/perTag {
			b.Fatalf("PurgeTag purged %d, want %d", got, perTag)
		}
	}
}

// BenchmarkMemory_HeapPerObject measures the live heap one stored 1 KiB object costs, and the
// part of it above the body (target: at most 512 bytes). b.N is not used: the figure is a size,
// not a speed.
func BenchmarkMemory_HeapPerObject(b *testing.B) {
	const n, bodySize = 100_000, 1024
	for range b.N {
		before := liveHeap()
		// A budget sized to the objects, so the admission sketch is what a real store of them carries.
		m := newTestMemory(b, Config{MaxBytes: 160 << 20})
		fill(b, m, n, bodySize, nil)
		perObject := float64(liveHeap()-before) / n
		b.ReportMetric(perObject, "heap-B/object")
		b.ReportMetric(perObject-bodySize, "overhead-B/object")
		runtime.KeepAlive(m)
		m.Close()
	}
}

func liveHeap() uint64 {
	runtime.GC()
	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)
	return ms.HeapAlloc
}
