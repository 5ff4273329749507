package cachestore

import (
	"math/rand/v2"
	"strconv"
	"testing"
)

// Eviction asks the table whether a popped object is still stored (table.holds), where it
// asked the URL index: the two must agree for every object, stored or gone, whatever
// happened to it: evicted from a full store, replaced by a newer object of its key (a fill,
// a variant of its URL), deleted, purged by URL, prefix, tag or all, hard or soft.
func TestMemory_tableHoldsWhatTheIndexHolds(t *testing.T) {
	m := newTestMemory(t, Config{MaxBytes: 64 << 10}) // about 100 objects: Sets evict
	rng := rand.New(rand.NewPCG(1, 2))
	var all []*Object
	url := func() string {
		return "http://t.example/" + strconv.Itoa(rng.IntN(20)) + "/" + strconv.Itoa(rng.IntN(20))
	}
	check := func(step int, op string) {
		t.Helper()
		m.mu.Lock()
		defer m.mu.Unlock()
		for _, o := range all {
			if held, indexed := m.tab.holds(o), m.idx.byURL.Has(slot{obj: o}); held != indexed {
				t.Fatalf("step %d (%s): %s: table holds %v, index %v", step, op, o.Key, held, indexed)
			}
		}
	}
	held := 0
	for step := range 5000 {
		var op string
		switch r := rng.IntN(100); {
		case r < 70:
			op = "set"
			variant := ""
			if rng.IntN(4) == 0 {
				variant = "\x00v" + strconv.Itoa(rng.IntN(3))
			}
			o := object(url(), variant, "tag"+strconv.Itoa(rng.IntN(5)))
			o.Body = make([]byte, 256+rng.IntN(1024))
			o.Generation = m.Begin()
			o.Compact()
			all = append(all, o)
			m.Set(o)
		case r < 80:
			op = "del"
			m.Del(url())
		case r < 88:
			op = "purge url"
			m.PurgeURL(url(), rng.IntN(2) == 0)
		case r < 94:
			op = "purge prefix"
			m.PurgePrefix("http://t.example/"+strconv.Itoa(rng.IntN(20))+"/", rng.IntN(2) == 0)
		case r < 99:
			op = "purge tag"
			m.PurgeTag("tag"+strconv.Itoa(rng.IntN(5)), rng.IntN(2) == 0)
		default:
			op = "purge all"
			m.PurgeAll(rng.IntN(2) == 0)
		}
		if step%50 == 0 || op != "set" {
			check(step, op)
		}
		held = int(m.Stats().Objects)
	}
	check(5000, "end")
	if held == 0 || m.Stats().Evictions == 0 {
		t.Fatalf("the sequence never filled the store (%d held, %d evictions): it tests nothing", held, m.Stats().Evictions)
	}
}
