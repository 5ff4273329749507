package cachestore

import (
	"hash/maphash"
	"runtime"
	"testing"
)

// TestTable_aKeyNeverAnswersForAnotherOfItsHash: the table is keyed by the key's hash, so an
// object stored under another key of the same hash must not be a hit (a different
// response), and storing the second key replaces the first, which leaves the index with it.
func TestTable_aKeyNeverAnswersForAnotherOfItsHash(t *testing.T) {
	m := newTestMemory(t, Config{})
	a, b := object("http://h/a", ""), object("http://h/b", "")
	mustSet(t, m, a)
	// Forge the collision: a's entry moved to b's hash, as if the two keys hashed alike.
	ha, hb := maphash.String(m.tab.seed, a.Key), maphash.String(m.tab.seed, b.Key)
	m.mu.Lock()
	sa, sb := m.tab.shard(ha), m.tab.shard(hb)
	delete(sa.m, ha)
	sb.m[hb] = a
	m.mu.Unlock()
	if got, ok := m.Get(b.Key); ok {
		t.Fatalf("Get(%q) = %q: another key's object answered", b.Key, got.Key)
	}
	if !m.Set(b) {
		t.Fatal("Set refused")
	}
	if got, ok := m.Get(b.Key); !ok || got != b {
		t.Fatalf("Get(%q) after its Set = %v, %v", b.Key, got, ok)
	}
	if st := m.Stats(); st.Objects != 1 || st.Bytes != b.Cost() {
		t.Fatalf("Stats = %+v, want b alone (a was replaced)", st)
	}
	checkIndexMatchesCache(t, m)
}

// TestMemory_GetAllocatesNothing: a hit and a miss allocate nothing (the edge's hit path
// promises zero allocations; the store's lookup is part of it).
func TestMemory_GetAllocatesNothing(t *testing.T) {
	m := newTestMemory(t, Config{})
	o := edgeObject(1, 1024)
	mustSet(t, m, o)
	key, absent := o.Key, o.Key+"-absent"
	if n := testing.AllocsPerRun(1000, func() {
		if _, ok := m.Get(key); !ok {
			t.Fatal("miss")
		}
		m.Get(absent)
		m.Peek(key)
	}); n != 0 {
		t.Fatalf("Get allocates %.1f times per hit and miss", n)
	}
}

// TestMemory_heapPerEdgeObjectIsAtMost512BAboveTheBody is issue 15's goal for memory per
// object, on the store alone: 20,000 objects of the edge's shape (edgeObject: a 1 KiB body,
// 8 nginx header fields, a Meta) held in a store with room for them take at most 512 B of live heap each
// beyond their body. It was 578 B with ristretto as the store's map and the key and header
// in two allocations. BenchmarkMemory_HeapPerEdgeObject splits the figure by part.
func TestMemory_heapPerEdgeObjectIsAtMost512BAboveTheBody(t *testing.T) {
	const n, body = 20_000, 1024
	before := liveHeap()
	m := newTestMemory(t, Config{MaxBytes: n * 2048}) // room for all, and fixed costs (the ghost table) of a store this size
	for i := range n {
		if !m.Set(edgeObject(i, body)) {
			t.Fatalf("Set %d refused", i)
		}
	}
	above := (float64(liveHeap())-float64(before))/n - body
	runtime.KeepAlive(m)
	if st := m.Stats(); st.Objects != n {
		t.Fatalf("stored %d of %d", st.Objects, n)
	}
	if above > 512 {
		t.Fatalf("%.0f B of heap per object above its body, want at most 512", above)
	}
	t.Logf("%.0f B of heap per object above its body", above)
}
