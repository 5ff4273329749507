package cachestore

import (
	"container/list"
	"math"
	"math/rand/v2"
	"sort"
	"testing"
)

// A full store's admission is judged against an LRU of the same size on the same stream,
// each request a lookup followed, on a miss, by a Set (as the edge fills). Objects are all of
// one cost, so the LRU holds budget/cost of them.

// admissionStore is the size of the stores these tests fill: small enough for seconds under
// the race detector, large enough for a mix of many keys.
const admissionStore = 12 << 20

// lruHits runs keys through an LRU of capacity objects and counts the hits among the
// requests from index from on.
func lruHits(keys []string, capacity, from int) int {
	order := list.New()
	at := make(map[string]*list.Element, capacity)
	hits := 0
	for i, k := range keys {
		if e, ok := at[k]; ok {
			order.MoveToFront(e)
			if i >= from {
				hits++
			}
			continue
		}
		at[k] = order.PushFront(k)
		if order.Len() > capacity {
			delete(at, order.Remove(order.Back()).(string))
		}
	}
	return hits
}

// storeHits runs keys through m as the edge does (Get; on a miss Set a 1 KiB object) and
// counts the hits among the requests from index from on.
func storeHits(m *Memory, keys []string, from int) int {
	hits := 0
	for i, k := range keys {
		if _, ok := m.Get(k); ok {
			if i >= from {
				hits++
			}
			continue
		}
		m.Set(admissionObject(k))
	}
	return hits
}

func admissionObject(key string) *Object {
	return &Object{Key: key, URL: key, Status: 200, Body: make([]byte, 1024)}
}

// capacityOf is how many objects of admissionObject's cost a store of budget bytes holds.
func capacityOf(budget int64) int {
	return int(budget / admissionObject("http://h/zipf/000000").Cost())
}

// zipfKeys draws n ranks from Zipf(s = 0.9, make bench-peers' skew) over universe keys named
// by prefix, rank 0 the hottest, by inverting the cumulative weights (math/rand's Zipf
// needs s > 1).
func zipfKeys(seed uint64, prefix string, universe, n int) []string {
	cum := make([]float64, universe)
	sum := 0.0
	for r := range cum {
		sum += math.Pow(float64(r+1), -0.9)
		cum[r] = sum
	}
	rng := rand.New(rand.NewPCG(seed, 1))
	keys := make([]string, n)
	for i := range keys {
		keys[i] = prefix + padded(sort.SearchFloat64s(cum, rng.Float64()*sum))
	}
	return keys
}

func padded(i int) string {
	s := itoa(i)
	for len(s) < 6 {
		s = "0" + s
	}
	return s
}

func TestMemory_fullStoreKeepsAZipfHotSetAsAnLRUDoes(t *testing.T) {
	capacity := capacityOf(admissionStore)
	universe := 3 * capacity
	requests := 10 * capacity
	if raceEnabled {
		requests = 6 * capacity
	}
	for _, tc := range []struct {
		name string
		fill func() []string
	}{
		{"cold keys never asked again", func() []string {
			keys := make([]string, 3*capacity/2)
			for i := range keys {
				keys[i] = "http://h/cold/" + padded(i)
			}
			return keys
		}},
		// make bench-peers' full-cache mode: every Zipf key once, the coldest first, so the
		// last ones stored are the hottest.
		{"the Zipf keys once, coldest first", func() []string {
			keys := make([]string, universe)
			for i := range keys {
				keys[i] = "http://h/zipf/" + padded(universe-1-i)
			}
			return keys
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			fill := tc.fill()
			stream := append(fill, zipfKeys(7, "http://h/zipf/", universe, requests)...)
			m := newTestMemory(t, Config{MaxBytes: admissionStore})
			got := storeHits(m, stream, len(fill))
			want := lruHits(stream, capacity, len(fill))
			st := m.Stats()
			t.Logf("hits %d of %d (%.3f), LRU of %d objects %d (%.3f); %+v", got, requests,
				float64(got)/float64(requests), capacity, want, float64(want)/float64(requests), st)
			if got < want {
				t.Fatalf("a full store hit %d of %d Zipf requests after a one-pass fill, an LRU of the same size %d",
					got, requests, want)
			}
		})
	}
}

// TestMemory_aHotSetSurvivesAColdScan fills a store with cold keys, asks for a hot set of a
// quarter of it twice (a miss, then a hit), then scans three times the store's size of keys
// asked for once. An LRU keeps none of the hot set; the store must keep nearly all of it:
// what was asked for again outranks what was asked for once.
func TestMemory_aHotSetSurvivesAColdScan(t *testing.T) {
	capacity := capacityOf(admissionStore)
	m := newTestMemory(t, Config{MaxBytes: admissionStore})
	cold := func(prefix string, n int) []string {
		keys := make([]string, n)
		for i := range keys {
			keys[i] = prefix + padded(i)
		}
		return keys
	}
	hot := cold("http://h/hot/", capacity/4)
	storeHits(m, cold("http://h/fill/", 3*capacity/2), 0)
	storeHits(m, append(hot, hot...), 0)
	storeHits(m, cold("http://h/scan/", 3*capacity), 0)
	kept := 0
	for _, k := range hot {
		if _, ok := m.Get(k); ok {
			kept++
		}
	}
	t.Logf("kept %d of %d hot keys; %+v", kept, len(hot), m.Stats())
	if kept < len(hot)*9/10 {
		t.Fatalf("a scan of %d keys left %d of the %d hot keys asked for twice before it", 3*capacity, kept, len(hot))
	}
}
