package disk

import (
	"math/rand/v2"
	"sync"
	"testing"
)

// Readers, a writer through reclaim, and bans at once: every byte served is the right one
// (checkHandle), and the race detector watches the index, segments and handles.
func TestDisk_concurrentGetPutBan(t *testing.T) {
	d, _ := open(t, Config{Path: t.TempDir(), Size: 4 << 20, SegmentSize: 256 << 10, AdmitFrequency: -1})
	defer d.Close()
	const keys = 200
	size := func(i int) int { return 1000 + i*97 }
	var wg sync.WaitGroup
	stop := make(chan struct{})
	for r := range 2 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			rng := rand.New(rand.NewPCG(uint64(r), 1))
			for {
				select {
				case <-stop:
					return
				default:
				}
				i := rng.IntN(keys)
				if h, err := d.Get(keyN(i)); err == nil {
					checkHandle(t, h, keyN(i), size(i))
					h.Close()
				}
			}
		}()
	}
	for round := range 6 {
		for i := range keys {
			d.Put(rec(keyN(i), size(i)))
		}
		d.Wait()
		d.AddBan(Ban{Kind: BanKey, Value: keyN(round)})
	}
	close(stop)
	wg.Wait()
	d.Wait()
	d.mu.RLock()
	d.index.invariant(t)
	d.mu.RUnlock()
	// 6 rounds of 2.1 MiB through 4 MiB: segments were reclaimed (the replaced records in
	// them are not evictions, so count segments opened).
	if s := d.Stats(); d.nextID <= 16 || s.Hits == 0 {
		t.Fatalf("the test did not reach reclaim (%d segments opened) or hits: %+v", d.nextID, s)
	}
}
