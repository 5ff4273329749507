package cachestore

import (
	"runtime"
	"testing"
)

// TestFifo_keepsOrderAcrossBlocks pushes and pops in uneven runs across block boundaries.
func TestFifo_keepsOrderAcrossBlocks(t *testing.T) {
	var f fifo
	objs := make([]*Object, 3*fifoBlockLen+7)
	for i := range objs {
		objs[i] = &Object{Key: itoa(i), Body: make([]byte, i)}
	}
	next, popped := 0, 0
	for _, run := range []int{1, fifoBlockLen, 3, fifoBlockLen + 2, 2 * fifoBlockLen, 10, len(objs)} {
		for range run {
			if next < len(objs) {
				f.push(objs[next])
				next++
			}
		}
		for range run / 2 {
			if o := f.pop(); o != nil {
				if o != objs[popped] {
					t.Fatalf("pop %d = %q, want %q", popped, o.Key, objs[popped].Key)
				}
				popped++
			}
		}
		if f.len() != next-popped {
			t.Fatalf("len = %d, want %d", f.len(), next-popped)
		}
	}
	for o := f.pop(); o != nil; o = f.pop() {
		if o != objs[popped] {
			t.Fatalf("pop %d = %q, want %q", popped, o.Key, objs[popped].Key)
		}
		popped++
	}
	if popped != len(objs) || f.bytes != 0 || f.head != nil || f.tail != nil {
		t.Fatalf("after draining: popped %d of %d, bytes %d, head %p, tail %p", popped, len(objs), f.bytes, f.head, f.tail)
	}
}

// TestS3FIFO_queues follows objects through the queues: a hit in the small queue moves an
// object to the main queue, no hit makes it a ghost, a ghost's key comes back into the main
// queue, and a main-queue object with hits is passed over until its hits are spent.
func TestS3FIFO_queues(t *testing.T) {
	o := func(k string) *Object { return &Object{Key: k, URL: k, Body: make([]byte, 1000)} }
	cost := o("x").Cost()
	p := newS3FIFO(20 * cost) // the small queue holds 2
	all := func(*Object) bool { return true }

	a, b, c := o("a"), o("b"), o("c")
	p.add(a)
	p.add(b)
	p.add(c)
	a.touch()
	// The small queue is over its share and the main queue empty: a (hit) moves to the main
	// queue, b (no hit) leaves.
	if v := p.evict(all); v != b {
		t.Fatalf("evicted %q, want b", v.Key)
	}
	if p.main.len() != 1 || p.small.len() != 1 {
		t.Fatalf("main %d, small %d; want a in main, c in small", p.main.len(), p.small.len())
	}
	b2 := o("b")
	p.add(b2) // b is a ghost: straight to the main queue
	if p.main.len() != 2 {
		t.Fatalf("main %d after re-adding a ghost's key, want 2", p.main.len())
	}
	// Now the small queue (c) is within its share: the main queue's oldest, a, has no hit
	// left (its move reset it) and leaves.
	if v := p.evict(all); v != a {
		t.Fatalf("evicted %q, want a", v.Key)
	}
	b2.touch()
	b2.touch()
	// b2 has two hits: put back twice, then it goes, the only main-queue object.
	if v := p.evict(all); v != b2 || b2.freq.Load() != 0 {
		t.Fatalf("evicted %q with freq %d, want b2 after its hits were spent", v.Key, b2.freq.Load())
	}
	// A removed object is skipped.
	if v := p.evict(func(o *Object) bool { return o != c }); v != nil {
		t.Fatalf("evicted %q from queues holding only a removed object", v.Key)
	}
}

// A store that has not evicted yet holds no table sized by its budget: the ghost table (one
// slot per 4 KiB of budget) is made when the first object leaves the small queue, and the
// ring of Vary orphans grows as orphans come. Made up front, a 4 GiB store held 9 MiB of heap
// that nothing used while it filled, which the collector's pacing counted as live.
func TestMemory_aStoreThatNeverEvictedHoldsNoBudgetSizedTables(t *testing.T) {
	before := liveHeap()
	m := newTestMemory(t, Config{MaxBytes: 4 << 30})
	for i := range 1000 {
		if !m.Set(edgeObject(i, 1024)) {
			t.Fatalf("Set %d refused", i)
		}
	}
	held := liveHeap() - before
	// 1,000 objects of the edge's shape are some 1.5 MB (Object.Cost: under 1,600 B each).
	if limit := uint64(1000*1600 + 512<<10); held > limit {
		t.Fatalf("a 4 GiB store holding 1,000 objects holds %d B of heap, want at most %d", held, limit)
	}
	if m.pol.ghosts != nil {
		t.Fatalf("ghost table made (%d slots) before any eviction", len(m.pol.ghosts))
	}
	runtime.KeepAlive(m)
}
