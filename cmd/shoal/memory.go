package main

import (
	"log/slog"
	"os"
	"runtime/debug"

	"github.com/shoal-cdn/shoal/conf"
)

// memoryPolicy is how a shoal process spends cache.memory: the soft memory limit it gives
// Go's collector and the budget it gives the store (cachestore.Config.MaxBytes, in bytes of
// Object.Cost, which is the heap the objects hold).
//
// The goal is a process whose RSS stays near cache.memory once the cache is full (issue 15:
// at most 1.15x). The store's heap is its budget (Object.Cost charges the real heap), so
// what RSS holds beyond it is the rest of the process (listeners, pools, fills in flight:
// some 16 MiB on a busy node), the collector's headroom (the heap allocated between two
// collections), and the runtime's own memory outside the heap. A limit at 1.125x
// cache.memory leaves the last of these their share; the store gets what remains below the
// limit after storeReserve for the first two, and never more than cache.memory.
//
// The store also never gets more than 15/16 of cache.memory: the runtime's memory outside the
// live heap (mark bits, span metadata, partly filled spans) grows with the heap, about 8% of
// the limit, and it shares the limit's eighth above cache.memory with the collector's
// headroom. With the store at the whole 1 GiB, the heap goal sat 37 MB above a 1,026 MB live
// heap, and the allocation of make bench-peers' Zipf requests (some 11 MB/s) started a
// collection every 2.3 s, each marking the whole cache for about 220 ms of the one core's
// time: two in each 5 s latency window, which is where the p99 went (gctrace, full 1 GiB
// cache). At 960 MiB the store holds as many objects as at 1 GiB before its objects got
// smaller (cachestore README, Memory per object).
//
// So a cache.memory of 1 GiB stores 960 MiB and a smaller one less (224 MiB of 256): the
// collector's headroom is an amount of memory, not only a share of it, because what it must
// absorb is the allocation between two collections.
//
// The limit never lets RSS pass rssCeiling of cache.memory: the limit counts only the memory
// the Go runtime maps, and RSS also holds the executable's pages (executable.go: up to some
// 23 MB, 17-20 MB resident), which at 1.125x of a small cache.memory go past the ceiling. A
// full 192 MiB cache had RSS 1.153x (221.4 MiB: a 216 MiB limit and 20 MB of the executable).
// So below some 890 MiB the limit is rssCeiling less the executable, and the store is
// smaller with it (208 MiB of 256 instead of 224, 135 of 192 instead of 152); from there up
// 1.125x is lower anyway. Below about 133 MiB (where that limit less the reserve is under
// half) the store keeps half of cache.memory and the limit goes above, as a process needs its
// reserve whatever its cache; and the store never gets less than cache.max_object_size (at most cache.memory).
type memoryPolicy struct {
	limit int64 // bytes: Go's soft memory limit (runtime/debug.SetMemoryLimit)
	store int64 // bytes: the store's budget
}

// storeReserve is the heap below the limit that the store leaves to the rest of the process
// and to the collector's headroom. Less headroom means more collections while misses fill
// the cache: cachestore/README.md has the fill's CPU at each headroom measured.
const storeReserve = 64 << 20

// rssCeiling is the most RSS a full cache may hold, in hundredths of cache.memory (issue
// 15's goal).
const rssCeiling = 115

// memoryPolicyFor splits c.Memory for a process whose executable keeps up to outside bytes
// resident beside what the Go runtime maps (executableBytes).
func memoryPolicyFor(c conf.Cache, outside int64) memoryPolicy {
	m := int64(c.Memory)
	p := memoryPolicy{limit: m + m/8}
	if ceiling := m*rssCeiling/100 - outside; ceiling < p.limit {
		p.limit = ceiling
	}
	p.store = min(m-m/16, p.limit-storeReserve)
	if p.store < m/2 {
		p.store = m / 2
		p.limit = p.store + storeReserve
	}
	// The store refuses an object over its budget after the fill has called it stored, so
	// a budget below the largest object the configuration stores would send such objects
	// to the origin on every request.
	if largest := min(int64(c.MaxObjectSize), m); p.store < largest {
		p.store = largest
		p.limit = max(p.limit, p.store+storeReserve)
	}
	return p
}

// applyMemoryPolicy sets the memory limit and returns the store's budget. GOMEMLIMIT in the
// environment wins over the derived limit; the store's budget then stays cache.memory, as
// the operator who sets the limit sizes both. A limit below cache.memory plus storeReserve
// is logged as a warning: once the cache fills, the collector would run nearly all the time.
func applyMemoryPolicy(cfg *conf.Config, log *slog.Logger) (storeBytes int64) {
	if os.Getenv("GOMEMLIMIT") != "" {
		store := int64(cfg.Cache.Memory)
		if limit := debug.SetMemoryLimit(-1); limit < store+storeReserve {
			log.Warn("GOMEMLIMIT leaves the cache no room below it: the collector will run nearly all the time once the cache fills",
				"gomemlimit_bytes", limit, "cache_memory", cfg.Cache.Memory.String(), "needs_bytes", store+storeReserve)
		}
		return store
	}
	outside := executableBytes()
	p := memoryPolicyFor(cfg.Cache, outside)
	debug.SetMemoryLimit(p.limit)
	log.Info("memory limit and store budget set from cache.memory", "cache_memory", cfg.Cache.Memory.String(),
		"limit_bytes", p.limit, "store_bytes", p.store, "executable_bytes", outside)
	return p.store
}
