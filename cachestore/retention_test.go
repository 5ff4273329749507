package cachestore

import (
	"fmt"
	"runtime"
	"testing"
	"weak"
)

// An object the store no longer holds (purged by prefix or tag, replaced by a newer fill)
// must not stay reachable from the eviction policy's queues beyond the budget: the store's
// memory is its budget, whatever left it. Here half of a full store is purged by prefix, the
// other half refreshed (each key Set again with a new object), and the store filled up again
// with new keys; what is still reachable of everything that left, plus what the store holds,
// stays within the budget.
func TestMemory_whatLeftTheStoreIsNotKeptBeyondTheBudget(t *testing.T) {
	const budget = 4 << 20
	m := newTestMemory(t, Config{MaxBytes: budget})
	capacity := capacityOf(budget)
	var gone []weak.Pointer[Object]
	var cost int64
	fill := func(prefix string, n int, keep bool) {
		for i := range n {
			o := admissionObject(fmt.Sprintf("http://h/%s/%06d", prefix, i))
			cost = o.Cost()
			m.Set(o)
			if keep {
				gone = append(gone, weak.Make(o))
			}
		}
	}
	fill("purged", capacity/2, true)
	fill("refreshed", capacity/2, true)
	if n := m.PurgePrefix("http://h/purged/", false); n == 0 {
		t.Fatal("the prefix purge removed nothing")
	}
	fill("refreshed", capacity/2, false) // new objects for the same keys
	fill("new", capacity/2, false)       // the store is full again: what it holds is its budget
	runtime.GC()
	runtime.GC()
	reachable := 0
	for _, w := range gone {
		if o := w.Value(); o != nil {
			if p, held := m.Peek(o.Key); !held || p != o {
				reachable++
			}
		}
	}
	held := m.Stats().Bytes
	if total := held + int64(reachable)*cost; total > budget {
		t.Errorf("%d objects that left the store are still reachable (%d B) beside the %d B it holds: %d B, over the %d B budget",
			reachable, int64(reachable)*cost, held, total, budget)
	}
}
