package cachestore

import (
	"runtime"
	"testing"
	"time"

	"github.com/shoal-cdn/shoal/httpcache"
)

// nginxFields are the end-to-end fields nginx sends for a static file with "expires 1h", as
// the edge stores them (Connection and Content-Length dropped): the shape of the objects
// scripts/measure-memory.sh fills.
var nginxFields = [...]httpcache.Field{
	{Name: "Server", Value: "nginx/1.22.1"},
	{Name: "Date", Value: "Mon, 30 Nov 2026 06:55:00 GMT"},
	{Name: "Content-Type", Value: "application/octet-stream"},
	{Name: "Last-Modified", Value: "Mon, 30 Nov 2026 06:54:58 GMT"},
	{Name: "ETag", Value: `"692bea52-400"`},
	{Name: "Expires", Value: "Mon, 30 Nov 2026 07:55:00 GMT"},
	{Name: "Cache-Control", Value: "max-age=3600"},
	{Name: "Accept-Ranges", Value: "bytes"},
}

// edgeObject builds object i as the edge's fill builds it: Key and URL one string, the header
// packed (httpcache.Pack), a Meta, no tags, then compacted: key, header and body one
// allocation (Object.Compact).
func edgeObject(i, bodySize int) *Object {
	h := nginxFields[:]
	url := "http://127.0.0.1:18201/1k.bin?o=" + itoa(i)
	now := time.Now()
	d := httpcache.StoreDecision{Store: true, Lifetime: time.Hour}
	o := &Object{Key: url, URL: url, Status: 200, Header: httpcache.Pack(h), Body: make([]byte, bodySize),
		RequestTime: StampOf(now), ResponseTime: StampOf(now), Meta: NewMeta(d, h)}
	o.Compact()
	return o
}

// BenchmarkMemory_HeapPerEdgeObject is BenchmarkMemory_HeapPerObject with objects of the
// edge's shape (edgeObject), and the heap split by who holds it: the objects themselves
// (Object, Meta, header, key, body), the table (its key -> object maps), and the URL index. Each part is measured alone, on the same objects. Sizes, not
// speeds: b.N is not used.
func BenchmarkMemory_HeapPerEdgeObject(b *testing.B) {
	const n, bodySize = 100_000, 1024
	cfg := Config{MaxBytes: 256 << 20}.withDefaults()
	report := func(b *testing.B, heap uint64) {
		b.ReportMetric(float64(heap)/n, "B/object")
	}
	b.Run("store", func(b *testing.B) {
		for range b.N {
			before := liveHeap()
			m := newTestMemory(b, cfg)
			setEdgeObjects(b, m, n, bodySize)
			if st := m.Stats(); st.Objects != n {
				b.Fatalf("stored %d of %d", st.Objects, n)
			}
			heap := liveHeap() - before
			b.ReportMetric(float64(heap)/n-bodySize, "overhead-B/object")
			b.ReportMetric(float64(m.Stats().Bytes)/n-bodySize, "charged-above-body-B/object")
			report(b, heap)
			runtime.KeepAlive(m)
			m.Close()
		}
	})
	b.Run("full", func(b *testing.B) { // a store that evicts: three times its budget stored
		const budget = 64 << 20
		for range b.N {
			before := liveHeap()
			m := newTestMemory(b, Config{MaxBytes: budget})
			for i := range 3 * budget / 2048 {
				m.Set(edgeObject(i, bodySize))
			}
			heap, st := liveHeap()-before, m.Stats()
			b.ReportMetric(float64(heap)/float64(st.Objects)-bodySize, "overhead-B/object")
			b.ReportMetric(float64(st.Bytes)/float64(st.Objects)-bodySize, "charged-above-body-B/object")
			b.ReportMetric(float64(heap)/budget, "heap/budget")
			runtime.KeepAlive(m)
			m.Close()
		}
	})
	b.Run("objects", func(b *testing.B) { // the objects alone, held in a slice
		for range b.N {
			before := liveHeap()
			objs := make([]*Object, n)
			for i := range objs {
				objs[i] = edgeObject(i, bodySize)
			}
			heap := liveHeap() - before - uint64(n*8) // less the slice holding them
			b.ReportMetric(float64(heap)/n-bodySize, "overhead-B/object")
			report(b, heap)
			runtime.KeepAlive(objs)
		}
	})
	b.Run("table", func(b *testing.B) { // the store's key -> object map alone (table.go)
		objs := make([]*Object, n)
		for i := range objs {
			objs[i] = &Object{Key: "http://127.0.0.1:18201/1k.bin?o=" + itoa(i)}
		}
		for range b.N {
			before := liveHeap()
			t := newTable()
			for _, o := range objs {
				t.put(o)
			}
			report(b, liveHeap()-before)
			runtime.KeepAlive(t)
		}
	})
	b.Run("policy", func(b *testing.B) { // the eviction policy alone: its queue slots and ghost table
		objs := make([]*Object, n)
		for i := range objs {
			objs[i] = &Object{Key: "http://127.0.0.1:18201/1k.bin?o=" + itoa(i)}
		}
		for range b.N {
			before := liveHeap()
			p := newS3FIFO(cfg.MaxBytes)
			for _, o := range objs {
				p.add(o)
			}
			report(b, liveHeap()-before)
			runtime.KeepAlive(p)
		}
	})
	b.Run("index", func(b *testing.B) { // the URL index alone
		objs := make([]*Object, n)
		for i := range objs {
			objs[i] = &Object{URL: "http://127.0.0.1:18201/1k.bin?o=" + itoa(i)}
		}
		for range b.N {
			before := liveHeap()
			x := newIndex()
			for _, o := range objs {
				x.add(slot{obj: o})
			}
			report(b, liveHeap()-before)
			runtime.KeepAlive(x)
		}
	})
}

// BenchmarkMemory_CollectEdgeObjects is what one collection costs with a store of 100,000
// objects of the edge's shape (edgeObject) held: the collector marks every heap object a
// stored object is made of and follows every pointer in them, so fewer of both per object
// is a cheaper full cache. ns/op is one forced collection (runtime.GC, mark and sweep).
func BenchmarkMemory_CollectEdgeObjects(b *testing.B) {
	const n, bodySize = 100_000, 1024
	m := newTestMemory(b, Config{MaxBytes: 256 << 20}.withDefaults())
	setEdgeObjects(b, m, n, bodySize)
	runtime.GC()
	b.ResetTimer()
	for b.Loop() {
		runtime.GC()
	}
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N)/n, "ns/object")
	runtime.KeepAlive(m)
}

// setEdgeObjects stores n objects of the edge's shape (edgeObject) in m, each Set accepted.
func setEdgeObjects(b *testing.B, m *Memory, n, bodySize int) {
	b.Helper()
	for i := range n {
		if !m.Set(edgeObject(i, bodySize)) {
			b.Fatalf("Set %d refused", i)
		}
	}
}
