package edge

import (
	"fmt"
	"log/slog"
	"math/rand/v2"
	"testing"

	"github.com/shoal-cdn/shoal/cachestore"
	"github.com/shoal-cdn/shoal/cachestore/disk"
	"github.com/shoal-cdn/shoal/loadtest"
)

// BenchmarkHitRatio_zipfMemoryAndDisk compares, on one Zipf trace whose working set (every
// key's bytes) is 4x cache.memory, the hit ratio of memory alone with that of memory plus a
// disk tier, with the real stores and the node's flow between them: a fill is written
// through to disk (setObject), what disk refused goes there when memory evicts it
// (evictToDisk), a memory hit counts for disk admission (touchDisk), and a disk hit is
// copied back into memory (diskLookup's promotion of small bodies). The disk is half the
// working set (its TinyLFU admission decides what it keeps) or twice it (it keeps every key).
//
// Run: go test -run '^$' -bench HitRatio_zipfMemoryAndDisk -benchtime 1x ./edge/ (make
// bench-hitratio runs it with the others); the disk is in a temporary directory.
func BenchmarkHitRatio_zipfMemoryAndDisk(b *testing.B) {
	for _, s := range []float64{0.9, 1.0} {
		for _, diskX := range []float64{0.5, 2} {
			b.Run(fmt.Sprintf("s=%.1f/disk=%.1fx-working-set", s, diskX), func(b *testing.B) {
				benchMemoryAndDisk(b, s, diskX)
			})
		}
	}
}

func benchMemoryAndDisk(b *testing.B, s, diskX float64) {
	const keys, requests, warmup = 40_000, 400_000, 100_000
	zipf, err := loadtest.NewZipf(keys, s)
	if err != nil {
		b.Fatal(err)
	}
	sample := simObject("http://site/k/0")
	workingSet := int64(keys) * sample.Cost()
	d, err := disk.Open(disk.Config{Path: b.TempDir(), Size: int64(float64(workingSet) * diskX),
		Logger: slog.New(slog.DiscardHandler)}, nil)
	if err != nil {
		b.Fatal(err)
	}
	defer d.Close()
	<-d.Loaded()
	put := func(o *cachestore.Object) bool {
		return d.Put(disk.Record{Key: o.Key, URL: o.URL, Head: encodeHead(int(o.Status), o.Header.Header()), Body: o.Body})
	}
	newMemory := func(evict func(*cachestore.Object)) *cachestore.Memory {
		m, err := cachestore.NewMemory(cachestore.Config{MaxBytes: workingSet / 4, OnEvict: evict}, nil)
		if err != nil {
			b.Fatal(err)
		}
		b.Cleanup(m.Close)
		return m
	}
	alone := newMemory(nil)
	tiered := newMemory(func(o *cachestore.Object) { // runs on the evicting Set's goroutine: Put only queues
		if m := o.Meta; m != nil && m.OnDisk.CompareAndSwap(false, true) && !put(o) {
			m.OnDisk.Store(false)
		}
	})
	fill := func(key string, onDisk bool) {
		o := simObject(key)
		m := &cachestore.Meta{}
		m.OnDisk.Store(true)
		o.Meta = m
		if tiered.Set(o) && !onDisk && !put(o) {
			m.OnDisk.Store(false)
		}
	}
	var aloneHits, memoryHits, diskHits int
	rng := rand.New(rand.NewPCG(1, 2))
	for i := 0; i < b.N; i++ {
		aloneHits, memoryHits, diskHits = 0, 0, 0
		for r := 0; r < requests; r++ {
			key := fmt.Sprintf("http://site/k/%d", zipf.Rank(rng.Float64()))
			counted := r >= warmup
			if _, ok := alone.Get(key); ok {
				if counted {
					aloneHits++
				}
			} else {
				alone.Set(simObject(key))
			}
			if _, ok := tiered.Get(key); ok {
				d.Touch(key)
				if counted {
					memoryHits++
				}
			} else if h, err := d.Get(key); err == nil {
				h.Close()
				fill(key, true) // promoted
				if counted {
					diskHits++
				}
			} else {
				fill(key, false)
			}
			if r%4096 == 0 {
				d.Wait()
			}
		}
	}
	measured := float64(requests - warmup)
	b.ReportMetric(float64(aloneHits)/measured, "memory-hit-ratio")
	b.ReportMetric(float64(memoryHits+diskHits)/measured, "memory+disk-hit-ratio")
	b.ReportMetric(float64(diskHits)/measured, "disk-hit-ratio")
}
