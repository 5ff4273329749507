package cachestore

import (
	"bytes"
	"math/rand/v2"
	"strings"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/shoal-cdn/shoal/httpcache"
)

// TestMemory_compactedObjectsUnderRacingPurgesKeepTheBudgetAndTheirBytes races Sets of
// compacted objects of the edge's shapes (key = URL, a variant key that starts with its URL,
// encoded variants sharing their identity's Meta, bodies from a few bytes to more than the
// small queue's share of the budget) with Gets, Dels, evictions and every kind of purge,
// hard and soft. Throughout, what the queues keep reachable and what Stats says the store
// holds (read without its lock, as the metrics read it) never exceed the budget, and
// every object a Get returns reads the key, URL, header and body it was stored with (no
// bytes shared with another object or written after the Set); at the end the index equals
// the table and Stats equals the sum of the held objects' Cost.
func TestMemory_compactedObjectsUnderRacingPurgesKeepTheBudgetAndTheirBytes(t *testing.T) {
	const budget = 512 << 10
	m := newTestMemory(t, Config{MaxBytes: budget})
	var over, statsOver atomic.Int64
	stop := make(chan struct{})
	var watch sync.WaitGroup
	watch.Add(1)
	go func() {
		defer watch.Done()
		for {
			select {
			case <-stop:
				return
			default:
			}
			m.mu.Lock()
			if b := m.pol.bytes(); b > budget {
				over.Store(b)
			}
			m.mu.Unlock()
			// Without the lock: Stats and the metrics read the counts so.
			if s := m.Stats(); s.Bytes > budget {
				statsOver.Store(s.Bytes)
			}
		}
	}()

	const workers, ops = 6, 1500
	var wg sync.WaitGroup
	for w := range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			rng := rand.New(rand.NewPCG(uint64(w), 7))
			for range ops {
				dir := "http://h/d" + itoa(rng.IntN(3)) + "/"
				url := dir + itoa(rng.IntN(40))
				switch op := rng.IntN(100); {
				case op < 45:
					o := shapedObject(rng, url)
					o.Generation = m.Begin()
					o.Compact()
					m.Set(o)
					if rng.IntN(3) == 0 {
						// An encoded variant, sharing the identity's Meta, as edge's makeVariant.
						v := &Object{Key: o.Key + "\x00enc:gzip", URL: o.URL, Status: o.Status,
							Header: httpcache.Pack(httpcache.Header{{Name: "Content-Encoding", Value: "gzip"}, {Name: "X-Key", Value: o.Key + "\x00enc:gzip"}}),
							Body:   keyBody(o.Key+"\x00enc:gzip", len(o.Body)/2), Tags: o.Tags, Meta: o.Meta, Generation: o.Generation}
						v.Compact()
						m.Set(v)
					}
				case op < 85:
					for _, k := range []string{url, url + "\x00a", url + "\x00enc:gzip"} {
						if o, ok := m.Get(k); ok {
							checkShaped(t, k, o)
						}
					}
				case op < 90:
					m.Del(url)
				default:
					purgeAtRandom(m, rng, url, dir, 4)
				}
			}
		}()
	}
	wg.Wait()
	close(stop)
	watch.Wait()
	if m.Stats().Evictions == 0 {
		t.Fatal("nothing was evicted: the budget is too large to race eviction")
	}
	if b := over.Load(); b != 0 {
		t.Errorf("the store's queues held %d bytes of Cost, over its budget of %d", b, budget)
	}
	if b := statsOver.Load(); b != 0 {
		t.Errorf("Stats said %d bytes, over the budget of %d", b, budget)
	}
	checkIndexMatchesCache(t, m)
	var held, bytes int64
	m.tab.each(func(o *Object) {
		held++
		bytes += o.Cost()
		checkShaped(t, o.Key, o)
	})
	if s := m.Stats(); s.Objects != held || s.Bytes != bytes {
		t.Errorf("Stats: %d objects, %d bytes; the table holds %d, %d", s.Objects, s.Bytes, held, bytes)
	}
}

// shapedObject is an object of url in one of the edge's shapes, whose header and body name
// its key (checkShaped reads them back).
func shapedObject(rng *rand.Rand, url string) *Object {
	key := url
	if rng.IntN(3) == 0 {
		key = url + "\x00a" // a variant's key: URL, then the secondary key
	}
	size := []int{3, 700, 4 << 10, 70 << 10}[rng.IntN(4)] // the last is over the small queue's share
	return &Object{
		Key: strings.Clone(key), URL: strings.Clone(url), Status: 200,
		Header: httpcache.Pack(httpcache.Header{{Name: "Content-Type", Value: "text/plain"}, {Name: "X-Key", Value: key}}),
		Body:   keyBody(key, size),
		Tags:   NewTags("t" + itoa(rng.IntN(4))),
		Meta:   new(Meta),
	}
}

// keyBody is a body of n bytes that repeats key.
func keyBody(key string, n int) []byte {
	return bytes.Repeat([]byte(key), n/len(key)+1)[:n]
}

func checkShaped(t *testing.T, key string, o *Object) {
	t.Helper()
	if o.Key != key || !strings.HasPrefix(key, o.URL) || o.Header.Get("X-Key") != key {
		t.Errorf("Get(%q) read key %q, URL %q, X-Key %q", key, o.Key, o.URL, o.Header.Get("X-Key"))
		return
	}
	if len(o.Body) > 0 && !bytes.Equal(o.Body, keyBody(key, len(o.Body))) {
		t.Errorf("Get(%q): the body is not the one stored", key)
	}
}
