package cachestore

import (
	"math/rand/v2"
	"runtime"
	"sync"
	"testing"
)

// TestMemory_ConcurrentSetGetPurge races fills, lookups, deletes and every kind of purge on a
// small key space with a budget that forces evictions, then checks that the index still equals
// what the table holds and that no stored object was filled before a hard purge matching it.
func TestMemory_ConcurrentSetGetPurge(t *testing.T) {
	m := newTestMemory(t, Config{MaxBytes: 256 << 10})
	const workers, ops = 8, 2000
	var wg sync.WaitGroup
	for w := range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			rng := rand.New(rand.NewPCG(uint64(w), 1))
			for range ops {
				dir := "http://h/d" + itoa(rng.IntN(4)) + "/"
				url := dir + itoa(rng.IntN(50))
				switch op := rng.IntN(100); {
				case op < 45:
					o := object(url, "#v"+itoa(rng.IntN(3)), "t"+itoa(rng.IntN(5)))
					o.Body = make([]byte, 512)
					o.Generation = m.Begin()
					m.Set(o)
				case op < 85:
					if o, ok := m.Get(url + "#v0"); ok && o.URL != url {
						t.Errorf("Get(%q) returned an object of %q", url+"#v0", o.URL)
					}
				case op < 90:
					m.Del(url + "#v1")
				default:
					purgeAtRandom(m, rng, url, dir, 5)
				}
			}
		}()
	}
	wg.Wait()
	checkIndexMatchesCache(t, m)

	m.mu.Lock()
	defer m.mu.Unlock()
	if m.log.gen >= purgeLogSize {
		t.Fatalf("test made %d purges; the log must still cover them all", m.log.gen)
	}
	m.idx.byURL.Ascend(func(s slot) bool {
		if m.log.judge(s.obj) == refuse {
			t.Errorf("%q (generation %d) is stored although a later hard purge matches it", s.obj.Key, s.obj.Generation)
		}
		return true
	})
}

// TestMemory_HardPurgeWaitsForASetInFlight stops a Set after it stored its object, and purges
// the object's URL meanwhile. The purge must wait for the Set and then remove the object.
// (With ristretto, which applied a Set after it returned, a purge that did not wait deleted a
// key ristretto did not hold yet, and the Set then stored a purged object out of the index.)
func TestMemory_HardPurgeWaitsForASetInFlight(t *testing.T) {
	m := newTestMemory(t, Config{})
	indexed, release := make(chan struct{}), make(chan struct{})
	m.afterIndex = func() {
		close(indexed)
		<-release
	}
	o := object("http://h/race", "")
	o.Generation = m.Begin()
	setDone := make(chan bool)
	go func() { setDone <- m.Set(o) }()
	<-indexed

	purged := make(chan int)
	go func() { purged <- m.PurgeURL(o.URL, false) }()
	// Release the Set once the purge waits for the fill lock (a pending writer makes TryRLock
	// fail) or, if it does not wait, once it has finished.
	writerWaiting := func() bool {
		if m.fillMu.TryRLock() {
			m.fillMu.RUnlock()
			return false
		}
		return true
	}
	var n int
	finished := false
	for !finished && !writerWaiting() {
		select {
		case n = <-purged:
			finished = true
		default:
			runtime.Gosched()
		}
	}
	close(release)
	if !<-setDone {
		t.Fatal("Set refused an object whose fill began before the purge was made")
	}
	if !finished {
		n = <-purged
	}
	if n != 1 {
		t.Fatalf("PurgeURL = %d, want 1", n)
	}
	if _, ok := m.Get(o.Key); ok {
		t.Fatal("the object survived a purge made while its Set was in flight")
	}
	checkIndexMatchesCache(t, m)
}

// purgeAtRandom makes one purge, hard or soft, of a kind rng picks: of url (three in ten),
// of the prefix dir (three), of one of tags tags t0, t1, ... (three), or of everything (one,
// soft one time in four).
func purgeAtRandom(m *Memory, rng *rand.Rand, url, dir string, tags int) {
	switch soft := rng.IntN(2) == 0; rng.IntN(10) {
	case 0, 1, 2:
		m.PurgeURL(url, soft)
	case 3, 4, 5:
		m.PurgePrefix(dir, soft)
	case 6, 7, 8:
		m.PurgeTag("t"+itoa(rng.IntN(tags)), soft)
	default:
		m.PurgeAll(rng.IntN(4) == 0)
	}
}
